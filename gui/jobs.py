"""Small jobs off the GUI thread: the newest request wins, results come back as a Qt signal.

The window's thread only draws. Maths a panel needs that is not part of a training step (a test-set
evaluation, a network rebuilt from weights saved earlier) runs here, on one Python thread per
runner, and its answer arrives in the GUI thread through ``finished``.
"""
from __future__ import annotations

import threading

from PyQt6.QtCore import QObject, pyqtSignal


class LatestJob(QObject):
    """Runs ``fn(*args)`` for the newest ``request(*args)`` on a thread of its own, one at a time and
    at most one per ``min_interval`` seconds; requests made meanwhile wait and only the newest is kept.
    ``done(result, tag)`` arrives in the GUI thread with the request's ``tag`` (so an answer to an
    old question can be told apart); ``failed(message)`` if ``fn`` raised."""

    done = pyqtSignal(object, object)
    failed = pyqtSignal(str)

    def __init__(self, fn, parent=None, min_interval: float = 0.0, name: str = "job"):
        super().__init__(parent)
        self.fn, self.min_interval, self.name = fn, min_interval, name
        self._lock = threading.Lock()
        self._pending = None
        self._thread = None
        self._stopped = threading.Event()

    def request(self, *args, tag=None) -> None:
        """Run ``fn(*args)`` soon (replacing a request that has not started yet)."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._pending = (args, tag)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None or self._stopped.is_set():
                    self._thread = None
                    return
            self._run(*job)
            if self.min_interval:
                self._stopped.wait(self.min_interval)

    def _run(self, args, tag) -> None:
        try:
            result = self.fn(*args)
        except Exception as e:  # an error travels as a signal, not as a dead thread
            self._emit("failed", f"{self.name} failed: {e}")
            return
        if not self._stopped.is_set():
            self._emit("done", result, tag)

    def _emit(self, signal: str, *values) -> None:
        try:
            getattr(self, signal).emit(*values)
        except RuntimeError:   # the window (and this object's C++ half) went while the job ran
            self._stopped.set()

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def wait(self, timeout: float | None = None) -> None:
        """Block until every request has run (and the rest after it is over)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def stop(self, timeout: float = 1.0) -> None:
        """Run nothing more and end the thread (closing the window); the current job finishes."""
        self._stopped.set()
        self.wait(timeout)

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, busy={self.busy}, min_interval={self.min_interval})"


def evaluate_snapshot(snapshot, dataset):
    """The test-set evaluation (core.evaluate.Evaluation) of ``snapshot``'s weights (read-only
    copies: the trainer is never touched)."""
    from core.evaluate import evaluate, network_from_snapshot
    return evaluate(network_from_snapshot(snapshot), dataset)


class EvaluationRunner(LatestJob):
    """Evaluates snapshots off the GUI thread, at most one per ``min_interval`` seconds (on a tiny
    data set an epoch can end every few milliseconds); ``finished(evaluation, snapshot)`` arrives in
    the GUI thread, ``failed(message)`` if an evaluation raised."""

    finished = pyqtSignal(object, object)

    def __init__(self, parent=None, min_interval: float = 1.0):
        super().__init__(evaluate_snapshot, parent, min_interval, name="evaluation")
        self.done.connect(self.finished)

    def request(self, snapshot, dataset) -> None:
        """Evaluate ``snapshot``'s weights on ``dataset`` soon."""
        super().request(snapshot, dataset, tag=snapshot)
