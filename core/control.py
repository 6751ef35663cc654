"""RunControl: how the window tells the training thread to run, pause, step or stop.

The worker calls ``wait_for_turn()`` before every mini-batch. It blocks on a Condition (no sleep
polling) until training runs, a step budget is left, or stop is asked.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass


# --- requests: what the window may ask of the worker between two steps ------------------------
@dataclass(frozen=True)
class SetHyper:
    """New hyper-parameters, applied before the next step (None: unchanged)."""

    lr: float | None = None
    momentum: float | None = None
    l2: float | None = None
    batch_size: int | None = None

    def changes(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Reset:
    """A new network from ``settings`` (a core.settings.Settings or a dict of its architecture)."""

    settings: object


@dataclass(frozen=True)
class LoadNetwork:
    """Train ``network`` (a core.network.Network) from now on, keeping the data and hyper-parameters."""

    network: object
    step: int = 0


@dataclass(frozen=True)
class MoveProbe:
    """Another probe digit: "next", "previous", "random", "mistake" or a test-set index."""

    how: str | int


@dataclass(frozen=True)
class DrawProbe:
    """A drawn digit ((784,) in 0–1) as the probe, with the ``label`` the person meant (None: not
    said); ``image`` None goes back to the test digit."""

    image: object
    label: int | None = None


@dataclass(frozen=True)
class CheckGradient:
    """Backprop against finite differences for neuron ``neuron`` of weight layer ``layer``."""

    layer: int
    neuron: int


@dataclass(frozen=True)
class Silence:
    """Knock out hidden neurons ``neurons`` of weight layer ``layer`` (activation held at 0) in the
    trainer's network, so training goes on without them; an empty tuple restores the layer. With
    ``in_training`` False the trainer's network is left whole (the window silences them only in
    what it evaluates) and any silencing of that layer is lifted."""

    layer: int
    neurons: tuple = ()
    in_training: bool = True


@dataclass(frozen=True)
class TraceBatch:
    """Whether snapshots made while training runs carry the next mini-batch's trace (z, a, δ and
    the gradient of the digits the next step trains on). Only the Backprop panel reads it, so the
    window asks for it while that panel is on screen; a paused snapshot always carries it."""

    running: bool


@dataclass(frozen=True)
class StepEpoch:
    """Train to the end of the current epoch."""



class ControlState:
    """What a control says now, read-only: running, stopped, the slow-motion delay. Shared by the
    RunControl a worker thread obeys and the window's stand-in for a trainer in another process."""

    _running = False
    _stopped = False
    _delay = 0.0

    @property
    def running(self) -> bool:
        return self._running

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def delay(self) -> float:
        """Seconds between steps while running (slow motion)."""
        return self._delay


class RunControl(ControlState):
    """Thread-safe run / pause / step(n) / stop, plus requests the worker applies between steps."""

    def __init__(self, delay: float = 0.0):
        self._cond = threading.Condition()
        self._running = False
        self._budget = 0
        self._stopped = False
        self._delay = float(delay)
        self._requests: list = []

    # --- called by the window -------------------------------------------------------------
    def run(self):
        with self._cond:
            self._running = True
            self._cond.notify_all()

    def pause(self):
        """Stop after the current step; any step budget left is dropped."""
        with self._cond:
            self._running = False
            self._budget = 0
            self._cond.notify_all()

    def step(self, n: int = 1):
        """Allow ``n`` more mini-batches while paused."""
        with self._cond:
            self._budget += max(0, int(n))
            self._cond.notify_all()

    def stop(self):
        """End the worker's loop for good."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def set_delay(self, seconds: float):
        """Slow motion: wait this long between steps while running (0 = full speed)."""
        with self._cond:
            self._delay = max(0.0, float(seconds))
            self._cond.notify_all()

    def request(self, *requests):
        """Ask the worker to apply ``requests`` (SetHyper, Reset, MoveProbe, …), in order, before its
        next step."""
        with self._cond:
            self._requests.extend(requests)
            self._cond.notify_all()

    # --- called by the worker -------------------------------------------------------------
    @property
    def budget(self) -> int:
        return self._budget

    def take_requests(self) -> list:
        """The pending requests, oldest first, emptied."""
        with self._cond:
            requests, self._requests = self._requests, []
            return requests

    def wait_for_turn(self, on_idle=None) -> str:
        """Block until there is something to do: ``"step"``, ``"requests"`` or ``"stop"``.

        "step" has consumed one unit of the budget (or is a running turn); "requests" means the
        worker should call ``take_requests()`` and apply them, then ask again. ``on_idle()`` is
        called outside the lock before blocking, so the worker can publish its paused state.
        """
        while True:
            with self._cond:
                if self._stopped:
                    return "stop"
                if self._requests:
                    return "requests"
                if self._budget > 0:
                    self._budget -= 1
                    return "step"
                if self._running:
                    if self._delay <= 0:
                        return "step"
                    deadline = time.monotonic() + self._delay
                    while self._running and not self._stopped and not self._requests:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            return "step"
                        self._cond.wait(left)
                    continue
            if on_idle is not None:
                on_idle()
            with self._cond:
                if not (self._stopped or self._requests or self._budget or self._running):
                    self._cond.wait()

    def __repr__(self):
        return (f"RunControl(running={self._running}, budget={self._budget}, "
                f"stopped={self._stopped}, delay={self._delay})")
