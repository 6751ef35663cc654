"""The training thread: owns the network, obeys a RunControl, publishes Snapshots to the window.

Snapshots go through a one-slot mailbox. The worker never queues more than one: a newer snapshot
replaces an unread one (keeping its cost points), and the window is signalled only when the slot
was empty. So Qt's event queue never backs up, however slow drawing is.

Training and drawing share Python's GIL, so every ms the window spends in Python is a ms less of
training, whatever the number of cores. Two things follow. The worker paces its snapshots by what
the window's frames cost: it publishes at most MAX_FPS times a second and no sooner than
FRAME_SHARE times the last frame's duration after the previous one, so drawing takes at most about
1/FRAME_SHARE of the time. And after signalling a snapshot it stands aside (waits, GIL released)
until the window has taken it and handled what that caused: Qt's event dispatcher says when the GUI
thread is about to block waiting for events again (aboutToBlock). Qt paints a few ms later (it
gathers update requests on a short timer), so painting overlaps the next steps. Measured against
the earlier way (polling the GUI thread's state in /proc every ms, Linux only): 73–78% of the
headless speed at 27–29 redraws/s instead of 66–72% at 15–23, on the same machine and day.
Competing for the GIL instead, the two threads hand it over thousands of times a
frame (PyQt releases it around every Qt call, NumPy around most array operations); measured, that
cost training as much as standing aside, but it doubled a frame's duration, and with it the lag of
what the window shows. The frame's duration so measured is also what paces the worker.
"""
from __future__ import annotations

import itertools
import threading
import time
import traceback

import numpy as np
from PyQt6.QtCore import QAbstractEventDispatcher, QThread, pyqtSignal

from core.control import (CheckGradient, Compute, DrawProbe, LoadNetwork, MoveProbe, Reset, RunControl, SetHyper,
                          StepEpoch)
from core.divergence import DivergenceMonitor, pinned_outputs
from core.gradcheck import check_neuron
from core.network import Network, one_hot
from core.snapshot import Status, merge_points
from core.trainer import Trainer

MAX_FPS = 30.0          # snapshots per second at most
FRAME_SHARE = 3.6       # publish no sooner than this many times the window's frame duration:
                        # frames then take ≤ 28% of the time, and training keeps ≥ 70%
TEST_CHECK_EVERY = 1.0  # s between test-set checks while training runs (a live test curve)...
TEST_CHECK_SHARE = 25   # ...and at least this many times a check's own duration (≤ 4% of the time)
EARLY_CHECKS = 25       # also at steps 25, 50, 100, 200, …: the early rise, in a fraction of a second
RUN_IDS = itertools.count(1)   # every network any worker builds gets its own id
MAX_STAND_ASIDE = 0.25  # s: never wait longer than this for the window to draw a snapshot


def early_check(step: int) -> bool:
    """Whether ``step`` is EARLY_CHECKS times a power of two (25, 50, 100, …)."""
    k, rest = divmod(step, EARLY_CHECKS)
    return step > 0 and rest == 0 and k & (k - 1) == 0


def forget_dummy_thread():
    """Drop the record Python keeps of the calling foreign thread (a QThread), if it made one.

    Asked for the current thread from a thread it did not start (threadpoolctl asks), ``threading``
    records a _DummyThread that it then lists as alive forever, even after the thread has ended.
    """
    active = getattr(threading, "_active", None)
    lock = getattr(threading, "_active_limbo_lock", None)
    dummy = getattr(threading, "_DummyThread", None)
    if active is None or lock is None or dummy is None:
        return
    with lock:
        if isinstance(active.get(threading.get_ident()), dummy):
            del active[threading.get_ident()]


class Mailbox:
    """One snapshot waiting for the window, or none; ``taken`` counts the snapshots taken."""

    def __init__(self):
        self._lock = threading.Lock()
        self._snapshot = None
        self.taken = 0
        self.awaited = 0   # what ``taken`` becomes once the last signalled snapshot is taken

    def put(self, snapshot) -> bool:
        """Store ``snapshot``; True when the slot was empty (the window must be told)."""
        with self._lock:
            was_empty = self._snapshot is None
            self._snapshot = snapshot if was_empty else merge_points(self._snapshot, snapshot)
            if was_empty:
                self.awaited = self.taken + 1
            return was_empty

    def take(self):
        with self._lock:
            snapshot, self._snapshot = self._snapshot, None
            if snapshot is not None:
                self.taken += 1
            return snapshot

    def empty(self) -> bool:
        return self._snapshot is None


class GuiIdle:
    """When the GUI thread last went idle, counted in snapshots it had taken by then.

    Made in the GUI thread: Qt's event dispatcher there calls ``_on_idle`` just before the thread
    blocks waiting for events, so the window has taken the snapshot and updated its panels (Qt
    paints them a few ms later; see the module's docstring).
    """

    def __init__(self, mailbox: Mailbox, dispatcher):
        self.mailbox = mailbox
        self._changed = threading.Condition()
        self._idle_after = 0
        self._dispatcher = dispatcher
        dispatcher.aboutToBlock.connect(self._on_idle)

    @classmethod
    def of_this_thread(cls, mailbox: Mailbox):
        """A watch on the calling thread's event loop, or None when it has none (then nobody waits)."""
        dispatcher = QAbstractEventDispatcher.instance(QThread.currentThread())
        return cls(mailbox, dispatcher) if dispatcher is not None else None

    def _on_idle(self):
        taken = self.mailbox.taken
        if taken != self._idle_after:
            with self._changed:
                self._idle_after = taken
                self._changed.notify_all()

    def wait(self, taken: int, timeout: float) -> bool:
        """Wait until the GUI thread went idle after taking ``taken`` snapshots; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._idle_after >= taken, timeout)

    def close(self):
        try:
            self._dispatcher.aboutToBlock.disconnect(self._on_idle)
        except (TypeError, RuntimeError):   # already disconnected, or the dispatcher is gone
            pass


class TrainingThread(QThread):
    """Trains under ``control``; ``snapshot_ready`` says the mailbox holds a snapshot to draw.

    ``settings`` holds the architecture and hyper-parameters (sizes, activation, cost, seed, lr,
    momentum, l2, batch_size); ``data`` is a core.data.MnistData.
    """

    snapshot_ready = pyqtSignal()
    failed = pyqtSignal(str)        # an unexpected error ended training; the message is for people
    gradient_checked = pyqtSignal(object)  # a core.gradcheck.GradCheck, or why it could not run (str)
    computed = pyqtSignal(object, object)  # (reply, result) of a Compute request

    def __init__(self, data, settings: dict, control: RunControl | None = None, parent=None, network=None,
                 step: int = 0):
        super().__init__(parent)
        self.data = data
        self.settings = dict(settings)
        self.control = control or RunControl()
        self.mailbox = Mailbox()
        self.trainer: Trainer | None = None
        self.run_id = 0                     # set by _build: unique in this process
        self._monitor = DivergenceMonitor()
        self._last_publish = 0.0
        self._gui = GuiIdle.of_this_thread(self.mailbox)   # built in the GUI thread: watches it
        self.frame_cost = 0.0               # s the window takes to draw a frame, smoothed
        self._message = ""
        self._rng = np.random.default_rng(settings.get("seed", 0))
        self._build(network, step)

    # --- building ---------------------------------------------------------------------------
    def _build(self, net: Network | None = None, step: int = 0):
        """A fresh trainer on a new network from the settings, or on ``net`` (a loaded model) that
        had trained ``step`` steps."""
        s = self.settings
        fresh = net is None
        if net is None:
            net = Network([784, *s["hidden"], 10], s["activation"], s["cost"], seed=s["seed"])
        else:
            s.update(hidden=list(net.sizes[1:-1]), activation=net.activation.name, cost=net.cost.name)
        self.trainer = Trainer(net, self.data.train, self.data.test, lr=s["lr"], momentum=s["momentum"],
                               l2=s.get("l2", 0.0), batch_size=s["batch_size"], seed=s["seed"],
                               probe_index=s.get("probe", 0))
        self.trainer.step_count = int(step)
        self.trainer.origin = "new" if fresh else "loaded"
        self.trainer.record_epoch()  # epoch 0: the network's test figures before this run trains it
        self._next_test_check = time.monotonic() + TEST_CHECK_EVERY
        self._monitor.reset()
        self._message = ""
        self._idle_status = Status.PAUSED
        self.run_id = next(RUN_IDS)

    # --- the loop ---------------------------------------------------------------------------
    def run(self):
        try:
            from threadpoolctl import threadpool_limits
            # One BLAS thread trains as fast as two at these sizes and leaves a core to the window.
            # A diverging run makes inf and NaN: the DivergenceMonitor tells the user in words, so
            # NumPy's RuntimeWarnings on this thread would only be console noise.
            with threadpool_limits(limits=self.settings.get("blas_threads", 1), user_api="blas"), \
                    np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._loop()
        except Exception as e:  # a crash must reach the window, not kill the app
            detail = traceback.format_exception_only(type(e), e)[-1].strip()
            self._message = f"training stopped by an internal error: {detail}"
            self.failed.emit(self._message)
            self._publish(Status.ERROR)
        finally:
            forget_dummy_thread()   # threadpoolctl made one; the thread ends here

    def _loop(self):
        control = self.control
        self._publish(Status.PAUSED)
        while True:
            turn = control.wait_for_turn(on_idle=lambda: self._publish(self._idle_status))
            if turn == "stop":
                break
            if turn == "requests":
                self._apply(control.take_requests())
                continue
            self._train_one()
        self._publish(Status.STOPPED)

    def _train_one(self):
        stats = self.trainer.step()
        self._idle_status = Status.PAUSED
        reason = self._monitor.update(stats.step, stats.cost)
        if reason:
            self.control.pause()
            self._message = f"Training diverged: {reason}. Reset, or lower the learning rate."
            self._idle_status = Status.DIVERGED  # stays the paused state's status until the next step
            return
        if stats.step % 50 == 0:
            self._check_pinned(stats)
        now = time.monotonic()
        if stats.epoch_record is not None:       # the test set was just measured for the epoch
            self._next_test_check = now + TEST_CHECK_EVERY
        elif now >= self._next_test_check or early_check(stats.step):
            self.trainer.check_test()
            took = time.monotonic() - now
            self._next_test_check = now + max(TEST_CHECK_EVERY, TEST_CHECK_SHARE * took)
        if now - self._last_publish >= max(1.0 / MAX_FPS, FRAME_SHARE * self.frame_cost):
            if self._publish(Status.RUNNING):
                self._stand_aside()

    def _stand_aside(self):
        """Wait (GIL released) while the window takes and draws the snapshot just signalled, and
        note what the frame cost; never longer than MAX_STAND_ASIDE, so a busy or absent window
        does not stop training."""
        if self._gui is None:
            return
        began = time.monotonic()
        self._gui.wait(self.mailbox.awaited, MAX_STAND_ASIDE)
        took = time.monotonic() - began
        self.frame_cost = took if self.frame_cost == 0 else 0.7 * self.frame_cost + 0.3 * took

    def _check_pinned(self, stats):
        cost = self.trainer.net.cost
        if pinned_outputs(stats.trace.output, cost.name):
            self._message = (f"Warning: the outputs are pinned ({cost.pinned_rule}), so σ'(z) ≈ 0 and the "
                             "network has stopped learning. Reset with a smaller learning rate.")

    def _publish(self, status) -> bool:
        """Put a snapshot in the mailbox; True when the window was signalled (the slot was empty)."""
        if self.trainer is None:
            return False
        snap = self.trainer.snapshot(status, self._message, self.data.source, self.run_id)
        self._last_publish = time.monotonic()
        if self.mailbox.put(snap):
            self.snapshot_ready.emit()
            return True
        return False

    # --- requests from the window ----------------------------------------------------------
    def _apply(self, requests: list):
        handlers = {SetHyper: self._set_hyper, Reset: self._reset, LoadNetwork: self._load,
                    MoveProbe: lambda r: self._move_probe(r.how),
                    DrawProbe: self._draw_probe,
                    CheckGradient: lambda r: self._check_gradient(r.layer, r.neuron),
                    StepEpoch: lambda r: self.control.step(self.trainer.steps_left_in_epoch()),
                    Compute: self._compute}
        for request in requests:
            handlers[type(request)](request)
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

    def _draw_probe(self, request: DrawProbe):
        self.trainer.drawn = None if request.image is None else (request.image, request.label)

    def _compute(self, request: Compute):
        """Maths the window needs (a drawn digit's pass, weights saved earlier) done here, off its thread."""
        self.computed.emit(request.reply, request.fn(self.trainer))

    def _check_gradient(self, layer: int, j: int):
        """Backprop against finite differences for neuron j of weight layer ``layer`` on the probe digit."""
        trainer = self.trainer
        X = trainer.probe_image()
        label, _ = trainer.probe_target(trainer.net.forward(X))
        Y = one_hot([label], trainer.net.sizes[-1])
        try:
            self.gradient_checked.emit(check_neuron(trainer.net, X, Y, layer, j))
        except IndexError:
            self.gradient_checked.emit(f"no neuron {j} in weight layer {layer} of this network")

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

    # --- shutdown ---------------------------------------------------------------------------
    def stop_and_wait(self, timeout_ms=2000) -> bool:
        """Ask the loop to end after the current step and wait for it; True once it has ended."""
        self.control.stop()
        ended = self.wait(timeout_ms)
        if ended and self._gui is not None:
            self._gui.close()     # the window's event loop need not tell this thread any more
        return ended
