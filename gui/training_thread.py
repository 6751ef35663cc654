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

import threading
import time

from PyQt6.QtCore import QAbstractEventDispatcher, QThread, pyqtSignal

from core.control import RunControl
from core.snapshot import merge_points
from core.worker_loop import Outlet, Timing, TrainingLoop
from core.worker_loop import early_check as _early_check

MAX_FPS = 30.0          # snapshots per second at most
FRAME_SHARE = 3.6       # publish no sooner than this many times the window's frame duration:
                        # frames then take ≤ 28% of the time, and training keeps ≥ 70%
TEST_CHECK_EVERY = 1.0  # s between test-set checks while training runs (a live test curve)...
TEST_CHECK_SHARE = 50   # ...and at least this many times a check's own duration (≤ 2% of the time)
EARLY_CHECKS = 25       # also at steps 25, 50, 100, 200, …: the early rise, in a fraction of a second
MAX_STAND_ASIDE = 0.25  # s: never wait longer than this for the window to draw a snapshot


def early_check(step: int) -> bool:
    """Whether ``step`` is EARLY_CHECKS times a power of two (25, 50, 100, …)."""
    return _early_check(step, EARLY_CHECKS)


def timing() -> Timing:
    """The test-check timing as this module's constants say now (tests may change them)."""
    return Timing(TEST_CHECK_EVERY, TEST_CHECK_SHARE, EARLY_CHECKS)


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
    """Trains under ``control`` in a thread of the window's process (the "thread" backend; the
    default is gui.trainer_process); ``snapshot_ready`` says the mailbox holds a snapshot to draw.

    ``settings`` holds the architecture and hyper-parameters (sizes, activation, cost, seed, lr,
    momentum, l2, batch_size); ``data`` is a core.data.MnistData.
    """

    snapshot_ready = pyqtSignal()
    failed = pyqtSignal(str)        # an unexpected error ended training; the message is for people
    gradient_checked = pyqtSignal(object)  # a core.gradcheck.GradCheck, or why it could not run (str)

    def __init__(self, data, settings: dict, control: RunControl | None = None, parent=None, network=None,
                 step: int = 0):
        super().__init__(parent)
        self.data = data
        self.control = control or RunControl()
        self.mailbox = Mailbox()
        self._gui = GuiIdle.of_this_thread(self.mailbox)   # built in the GUI thread: watches it
        self.frame_cost = 0.0               # s the window takes to draw a frame, smoothed
        self.loop = TrainingLoop(data, settings, self.control, _ThreadOutlet(self), network, step,
                                 timing=timing())

    @property
    def trainer(self):
        return self.loop.trainer

    @property
    def settings(self) -> dict:
        return self.loop.settings

    @property
    def run_id(self) -> int:
        """The id of the network being trained (unique in this process)."""
        return self.loop.run_id

    def run(self):
        try:
            from threadpoolctl import threadpool_limits
            # One BLAS thread trains as fast as two at these sizes and leaves a core to the window.
            with threadpool_limits(limits=self.loop.settings.get("blas_threads", 1), user_api="blas"):
                self.loop.run()
        finally:
            forget_dummy_thread()   # threadpoolctl made one; the thread ends here

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

    def take(self):
        """The snapshot waiting in the mailbox, or None."""
        return self.mailbox.take()

    def deliver(self, snapshot):
        """Put a snapshot in the mailbox; signal the window when the slot was empty and, while
        running, stand aside until it has drawn it."""
        if self.mailbox.put(snapshot):
            self.snapshot_ready.emit()
            if snapshot.running:
                self._stand_aside()

    # --- shutdown ---------------------------------------------------------------------------
    def stop_and_wait(self, timeout_ms=2000) -> bool:
        """Ask the loop to end after the current step and wait for it; True once it has ended."""
        self.control.stop()
        ended = self.wait(timeout_ms)
        if ended and self._gui is not None:
            self._gui.close()     # the window's event loop need not tell this thread any more
        return ended


class _ThreadOutlet(Outlet):
    """The loop's output in the thread backend: the mailbox and the thread's signals."""

    def __init__(self, thread: TrainingThread):
        self.thread = thread

    def due(self, since_last: float) -> bool:
        return since_last >= max(1.0 / MAX_FPS, FRAME_SHARE * self.thread.frame_cost)

    def deliver(self, snapshot):
        self.thread.deliver(snapshot)

    def failed(self, message: str):
        self.thread.failed.emit(message)

    def gradient_checked(self, result):
        self.thread.gradient_checked.emit(result)
