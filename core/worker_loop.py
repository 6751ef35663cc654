"""The training loop both workers run: the trainer under a RunControl, snapshots to an outlet.

Qt-free, so the same loop runs in a thread of the window's process (gui.training_thread) or in a
trainer process of its own (core.worker_process). Where its output goes, and when a running
snapshot is wanted, is the outlet's business (see ``Outlet``).
"""
from __future__ import annotations

import itertools
import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np

from core.control import (CheckGradient, DrawProbe, LoadNetwork, MoveProbe, Reset, RunControl, SetHyper, Silence,
                          StepEpoch, TraceBatch)
from core.divergence import DivergenceMonitor, pinned_outputs
from core.gradcheck import check_neuron
from core.network import Network, one_hot
from core.snapshot import Status
from core.trainer import Trainer

RUN_IDS = itertools.count(1)   # run ids of loops that are not given their own sequence


@dataclass(frozen=True)
class Timing:
    """When the loop checks the test set while training runs (a live test curve)."""

    test_check_every: float = 1.0  # s between test-set checks...
    test_check_share: float = 25   # ...and at least this many times a check's own duration (≤ 4%)
    early_checks: int = 25         # also at steps 25, 50, 100, 200, …: the early rise...
    early_until: int = 800         # ...up to this step (later ones would cost a big network 5% of its time)


def early_check(step: int, every: int = 25) -> bool:
    """Whether ``step`` is ``every`` times a power of two (25, 50, 100, …)."""
    k, rest = divmod(step, every)
    return step > 0 and rest == 0 and k & (k - 1) == 0


class Outlet:
    """Where a TrainingLoop's output goes. The defaults keep everything and want every snapshot."""

    def due(self, since_last: float) -> bool:
        """While running: whether to publish a snapshot now, ``since_last`` s after the previous one."""
        return True

    def deliver(self, snapshot) -> None:
        """Hand ``snapshot`` on (the loop has just made it)."""

    def failed(self, message: str) -> None:
        """An unexpected error ended the loop; ``message`` is for people."""

    def gradient_checked(self, result) -> None:
        """A core.gradcheck.GradCheck, or why the check could not run (str)."""

    def halted(self) -> None:
        """The loop paused itself (training diverged)."""


class TrainingLoop:
    """Trains under ``control`` and publishes Snapshots to ``outlet``; see the module notes.

    ``settings`` holds the architecture and hyper-parameters (hidden, activation, cost, seed, lr,
    momentum, l2, batch_size, probe); ``data`` has ``train``, ``test`` (core.data.Dataset) and
    ``source``. ``lock`` is held while the loop touches the trainer, so another thread may look at
    it between steps.
    """

    def __init__(self, data, settings: dict, control: RunControl, outlet: Outlet, network=None, step: int = 0,
                 run_ids=None, timing: Timing | None = None):
        self.data, self.settings, self.control, self.outlet = data, dict(settings), control, outlet
        self.timing = timing or Timing()
        self.lock = threading.Lock()
        self.trainer: Trainer | None = None
        self.run_id = 0
        self._run_ids = run_ids or RUN_IDS
        self._monitor = DivergenceMonitor()
        self._last_publish = 0.0
        self._message = ""
        self._rng = np.random.default_rng(settings.get("seed", 0))
        self._build(network, step)

    # --- building ---------------------------------------------------------------------------
    def _build(self, net: Network | None = None, step: int = 0):
        """A fresh trainer on a new network from the settings, or on ``net`` (a loaded model) that
        had trained ``step`` steps."""
        s = self.settings
        fresh = net is None
        traced = self.trainer.trace_running if self.trainer is not None else True   # survives a Reset
        if net is None:
            net = Network([784, *s["hidden"], 10], s["activation"], s["cost"], seed=s["seed"])
        else:
            s.update(hidden=list(net.sizes[1:-1]), activation=net.activation.name, cost=net.cost.name)
        self.trainer = Trainer(net, self.data.train, self.data.test, lr=s["lr"], momentum=s["momentum"],
                               l2=s.get("l2", 0.0), batch_size=s["batch_size"], seed=s["seed"],
                               probe_index=s.get("probe", 0))
        self.trainer.step_count = int(step)
        self.trainer.origin = "new" if fresh else "loaded"
        self.trainer.trace_running = traced
        self.trainer.record_epoch()  # epoch 0: the network's test figures before this run trains it
        self._check_gap = self.timing.test_check_every   # s from one test check to the next
        self._next_test_check = time.monotonic() + self._check_gap
        self._monitor.reset()
        self._message = ""
        self._idle_status = Status.PAUSED
        self.run_id = next(self._run_ids)

    # --- the loop ---------------------------------------------------------------------------
    def run(self):
        """Train until stopped; an unexpected error ends the loop and reaches the outlet as words."""
        try:
            # A diverging run makes inf and NaN: the DivergenceMonitor tells the user in words, so
            # NumPy's RuntimeWarnings would only be console noise.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._loop()
        except Exception as e:  # a crash must reach the window, not kill the app
            detail = traceback.format_exception_only(type(e), e)[-1].strip()
            self._message = f"training stopped by an internal error: {detail}"
            self.outlet.failed(self._message)
            self.publish(Status.ERROR)

    def _loop(self):
        control = self.control
        self.publish(Status.PAUSED)
        while True:
            turn = control.wait_for_turn(on_idle=lambda: self.publish(self._idle_status))
            if turn == "stop":
                break
            with self.lock:
                if turn == "requests":
                    self._apply(control.take_requests())
                else:
                    self._train_one()
        self.publish(Status.STOPPED)

    def _train_one(self):
        stats = self.trainer.step()
        self._idle_status = Status.PAUSED
        reason = self._monitor.update(stats.step, stats.cost)
        if reason:
            self.control.pause()
            self.outlet.halted()
            self._message = f"Training diverged: {reason}. Reset, or lower the learning rate."
            self._idle_status = Status.DIVERGED  # stays the paused state's status until the next step
            return
        if stats.step % 50 == 0:
            self._check_pinned(stats)
        self._maybe_check_test(stats)
        if self._last_of_steps():
            return      # the paused snapshot follows at once: a running one now would only delay it
        if self.outlet.due(time.monotonic() - self._last_publish):
            self._publish(Status.RUNNING)

    def _last_of_steps(self) -> bool:
        """The step just taken was the last one asked for while paused (Step, Step epoch)."""
        control = self.control
        return not control.running and control.budget == 0 and not control.stopped

    def _maybe_check_test(self, stats):
        timing, now = self.timing, time.monotonic()
        if stats.epoch_record is not None:       # the test set was just measured for the epoch
            # the epoch's own evaluation was a check: the next waits a whole gap, so a network whose
            # epochs are short (a second or two) is not checked again between every two of them
            self._next_test_check = now + self._check_gap
        elif now >= self._next_test_check or (stats.step <= timing.early_until
                                              and early_check(stats.step, timing.early_checks)):
            self.trainer.check_test()
            took = time.monotonic() - now
            self._check_gap = max(timing.test_check_every, timing.test_check_share * took)
            self._next_test_check = now + self._check_gap

    def _check_pinned(self, stats):
        cost = self.trainer.net.cost
        if pinned_outputs(stats.trace.output, cost.name):
            self._message = (f"Warning: the outputs are pinned ({cost.pinned_rule}), so σ'(z) ≈ 0 and the "
                             "network has stopped learning. Reset with a smaller learning rate.")

    def publish(self, status):
        """Make a snapshot of the exact current state and hand it to the outlet."""
        with self.lock:
            self._publish(status)

    def _publish(self, status):
        if self.trainer is None:
            return
        snap = self.trainer.snapshot(status, self._message, self.data.source, self.run_id)
        self._last_publish = time.monotonic()
        self.outlet.deliver(snap)

    # --- requests from the window ----------------------------------------------------------
    def _apply(self, requests: list):
        handlers = {SetHyper: self._set_hyper, Reset: self._reset, LoadNetwork: self._load,
                    MoveProbe: lambda r: self._move_probe(r.how),
                    DrawProbe: self._draw_probe, Silence: self._silence, TraceBatch: self._trace_batch,
                    CheckGradient: lambda r: self._check_gradient(r.layer, r.neuron),
                    StepEpoch: lambda r: self.control.step(self.trainer.steps_left_in_epoch())}
        for request in requests:
            handler = handlers.get(type(request))
            if handler is None:
                raise TypeError(f"the trainer does not know the request {type(request).__name__}")
            handler(request)
        if not self.control.running:
            self._publish(self._idle_status)

    def _set_hyper(self, request: SetHyper):
        hyper = request.changes()
        self.trainer.set_hyper(**hyper)
        self.settings.update(hyper)

    def _reset(self, request: Reset):
        settings = request.settings
        self.settings.update(settings.to_dict() if hasattr(settings, "to_dict") else settings)
        self._build()

    def _load(self, request: LoadNetwork):
        self._build(request.network, request.step)

    def _silence(self, request: Silence):
        """Knock hidden neurons out of the trained network (or lift them: not in training, or none)."""
        net = self.trainer.net
        silenced = dict(net.silenced)
        silenced[int(request.layer)] = tuple(request.neurons) if request.in_training else ()
        try:
            net.silence(silenced)
        except ValueError as e:     # a request for another network's shape: say so, keep training
            self._message = f"Knock-out ignored: {e}"

    def _trace_batch(self, request: TraceBatch):
        self.trainer.trace_running = bool(request.running)

    def _draw_probe(self, request: DrawProbe):
        self.trainer.drawn = None if request.image is None else (request.image, request.label)

    def _check_gradient(self, layer: int, j: int):
        """Backprop against finite differences for neuron j of weight layer ``layer`` on the probe digit."""
        trainer = self.trainer
        X = trainer.probe_image()
        label, _ = trainer.probe_target(trainer.net.forward(X))
        Y = one_hot([label], trainer.net.sizes[-1])
        try:
            self.outlet.gradient_checked(check_neuron(trainer.net, X, Y, layer, j))
        except IndexError:
            self.outlet.gradient_checked(f"no neuron {j} in weight layer {layer} of this network")

    def _move_probe(self, how):
        trainer = self.trainer
        n = len(trainer.probe_set.labels)
        i = trainer.probe_index
        if how == "next":
            i += 1
        elif how == "previous":
            i -= 1
        elif how == "random":
            i = int(self._rng.integers(n))
        elif how == "mistake":
            i = self._next_mistake(i)
        elif isinstance(how, int):
            i = how
        trainer.probe_index = i % n

    def _next_mistake(self, start):
        data = self.trainer.probe_set
        wrong = (self.trainer.net.predict(data.images) != data.labels).nonzero()[0]
        if wrong.size == 0:
            return start
        later = wrong[wrong > start]
        return int(later[0] if later.size else wrong[0])

    def __repr__(self):
        return f"TrainingLoop({self.trainer!r}, run_id={self.run_id}, {self.control!r})"
