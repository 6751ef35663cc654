"""Small jobs off the GUI thread: the newest request wins, results come back as Qt signals.

The window's thread only draws. Maths a panel needs that is not part of a training step (a test-set
evaluation, a network rebuilt from weights saved earlier, a saliency map, a projection) runs in the
*analysis process* (core.analysis_process, started with ``spawn`` on first use): a thread of the
window's process would share Python's GIL with drawing, so every ms of maths would be a ms less of
drawing. Jobs run there one at a time, in the order asked; data sets cross once, through shared
memory (pass the core.data.Dataset itself). A function that is not in ``core`` (a test's stand-in),
or every function under ``BACKPROP_LENS_BACKEND=thread``, runs on a thread of this process instead.

A job's function may take a ``progress`` keyword: it is then given ``progress(fraction)``, which
reports how far it is (``LatestJob.progressed``) and raises core.analysis_process.Cancelled once
``LatestJob.cancel()`` was called.
"""
from __future__ import annotations

import atexit
import io
import itertools
import multiprocessing
import os
import pickle
import threading
import time

from PyQt6.QtCore import QCoreApplication, QObject, QTimer, pyqtSignal

from core.analysis_process import Cancelled, analysis_main, quiet_numbers, takes_progress
from core.data import Dataset
from core.evaluate import evaluate_snapshot
from gui.trainer_process import death_message

CONTEXT = multiprocessing.get_context("spawn")
STOP_GRACE = 0.05         # s the analysis process gets to end by itself before it is terminated
                          # (it keeps nothing worth saving; a long job would otherwise hold the close)
MAX_DATASETS = 4          # data sets kept mapped in the analysis process (newest kept)


def in_process(fn) -> bool:
    """True when ``fn``'s jobs run in the analysis process (see the module notes)."""
    backend = os.environ.get("BACKPROP_LENS_BACKEND", "process")
    return backend == "process" and getattr(fn, "__module__", "").split(".")[0] == "core" \
        and "<" not in getattr(fn, "__qualname__", "<")


class _JobPickler(pickle.Pickler):
    """Pickles a job's arguments with every Dataset replaced by its key in the analysis process."""

    def __init__(self, file, analysis):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.analysis = analysis

    def persistent_id(self, obj):
        if isinstance(obj, Dataset):
            return ("dataset", self.analysis.publish(obj))
        return None


class AnalysisProcess(QObject):
    """The window's handle on the analysis process: ``submit`` a job, get its messages back in the
    GUI thread. One per application (``analysis()``); ``shutdown()`` ends it."""

    _received = pyqtSignal(object)

    def __init__(self):
        super().__init__()
        self._conn, child_conn = CONTEXT.Pipe()
        self.process = CONTEXT.Process(target=analysis_main, args=(child_conn,), daemon=True,
                                       name="backprop-lens analysis")
        self.process.start()
        child_conn.close()
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._jobs: dict = {}           # ident → the LatestJob waiting for it
        self._published: dict = {}      # id(dataset) → (dataset, key); the dataset is kept alive
        self._segments: dict = {}       # key → SharedMemory until the process has mapped it
        self._keys = itertools.count(1)
        self.closed = False
        self._received.connect(self._dispatch)
        self._reader = threading.Thread(target=self._read, daemon=True, name="analysis-reader")
        self._reader.start()

    def _send(self, *message) -> None:
        with self._send_lock:
            self._conn.send(message)

    def publish(self, dataset: Dataset) -> int:
        """The key of ``dataset`` in the analysis process, putting its arrays in shared memory once."""
        from core.worker_process import SharedArrays
        known = self._published.get(id(dataset))
        if known is not None and known[0] is dataset:
            return known[1]
        key = next(self._keys)
        shm, spec = SharedArrays.create({"images": dataset.images, "labels": dataset.labels})
        self._segments[key] = shm
        self._published[id(dataset)] = (dataset, key)
        while len(self._published) > MAX_DATASETS:   # the oldest is dropped from the window's list
            self._published.pop(next(iter(self._published)))
        self._send("dataset", key, spec, dataset.name)
        return key

    def submit(self, job: "LatestJob", fn, args) -> int:
        """Send ``fn(*args)`` to the process; ``job`` hears of it. Raises OSError once it has gone."""
        if self.closed:
            raise OSError("the analysis process has ended")
        buffer = io.BytesIO()
        _JobPickler(buffer, self).dump((args, {}))
        ident = next(self._ids)
        self._jobs[ident] = job
        self._send("job", ident, f"{fn.__module__}:{fn.__qualname__}", buffer.getvalue())
        return ident

    def cancel(self, ident: int) -> None:
        if not self.closed:
            try:
                self._send("cancel", ident)
            except OSError:
                pass

    def _read(self) -> None:
        try:
            while True:
                self._received.emit(self._conn.recv())
        except (EOFError, OSError):
            pass
        except RuntimeError:            # this object went while the process still talked
            return
        try:
            self._received.emit(("gone",))
        except RuntimeError:
            pass

    def _dispatch(self, message) -> None:
        kind = message[0]
        if kind == "mapped":
            self._unlink(message[1])
        elif kind == "gone":
            self._gone()
        elif kind in ("progress", "done", "failed", "cancelled"):
            ident = message[1]
            job = self._jobs.get(ident) if kind == "progress" else self._jobs.pop(ident, None)
            if job is not None:
                job._answer(ident, kind, *message[2:])

    def _unlink(self, key) -> None:
        shm = self._segments.pop(key, None)
        if shm is not None:
            shm.close()
            shm.unlink()

    def _gone(self) -> None:
        """The process ended (asked to, or killed): every waiting job hears why, once."""
        if not self.closed:
            self.closed = True
            self.process.join(1.0)
            why = death_message(self.process.exitcode, "the analysis process", "the next request starts a new one")
            for ident, job in list(self._jobs.items()):
                job._answer(ident, "failed", why)
        self._jobs.clear()
        for key in list(self._segments):
            self._unlink(key)
        global _ANALYSIS
        if _ANALYSIS is self:
            _ANALYSIS = None

    def close(self, timeout: float = STOP_GRACE) -> None:
        """End the process (within ``timeout`` s, else terminate it) and free its segments."""
        self.closed = True
        try:
            self._send("stop")
        except OSError:
            pass
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(0.5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(0.5)
        self._conn.close()
        self._reader.join(1.0)
        self._jobs.clear()
        for key in list(self._segments):
            self._unlink(key)


_ANALYSIS: AnalysisProcess | None = None


def analysis() -> AnalysisProcess:
    """The application's analysis process, started on first use (about 0.3 s)."""
    global _ANALYSIS
    if _ANALYSIS is None or _ANALYSIS.closed:
        _ANALYSIS = AnalysisProcess()
    return _ANALYSIS


def shutdown() -> None:
    """End the analysis process if one runs (the window closes; the next job starts a new one)."""
    global _ANALYSIS
    if _ANALYSIS is not None:
        process, _ANALYSIS = _ANALYSIS, None
        process.close()


atexit.register(shutdown)


class LatestJob(QObject):
    """Runs ``fn(*args)`` for the newest ``request(*args)``, one at a time and at most one per
    ``min_interval`` seconds; requests made meanwhile wait and only the newest is kept. It runs in
    the analysis process when ``fn`` is a core function (see the module notes), else on a thread.
    ``done(result, tag)`` arrives in the GUI thread with the request's ``tag`` (so an answer to an
    old question can be told apart); ``failed(message)`` if ``fn`` raised; ``progressed(fraction,
    tag)`` from a function that reports progress; ``cancelled(tag)`` after ``cancel()``."""

    done = pyqtSignal(object, object)
    failed = pyqtSignal(str)
    progressed = pyqtSignal(float, object)
    cancelled = pyqtSignal(object)

    def __init__(self, fn, parent=None, min_interval: float = 0.0, name: str = "job"):
        super().__init__(parent)
        self.fn, self.min_interval, self.name = fn, min_interval, name
        self.remote = in_process(fn)
        self._with_progress = takes_progress(fn)
        self._lock = threading.Lock()
        self._pending = None
        self._thread = None             # thread mode: the worker thread
        self._running_tag = None
        self._cancel = threading.Event()
        self._stopped = threading.Event()
        self._asked = None              # process mode: (ident, tag) of the job in the process
        self._rest_until = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._pump)

    def request(self, *args, tag=None) -> None:
        """Run ``fn(*args)`` soon (replacing a request that has not started yet)."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._pending = (args, tag)
            if not self.remote and self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
        if self.remote:
            self._pump()

    def cancel(self) -> None:
        """Drop the waiting request and stop the running one at its next progress report."""
        with self._lock:
            self._pending = None
            self._cancel.set()
        if self._asked is not None and _ANALYSIS is not None:
            _ANALYSIS.cancel(self._asked[0])

    # --- process mode ---------------------------------------------------------------------------
    def _pump(self) -> None:
        if self._asked is not None or self._pending is None or self._stopped.is_set():
            return
        wait = self._rest_until - time.monotonic()
        if wait > 0:
            self._timer.start(int(wait * 1000) + 1)
            return
        args, tag = self._pending
        self._pending = None
        self._cancel.clear()
        try:
            self._asked = (analysis().submit(self, self.fn, args), tag)
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as e:
            self._asked = None
            self._emit("failed", f"{self.name} failed: {e}")

    def _answer(self, ident, kind, *values) -> None:
        """A message from the analysis process about job ``ident`` (GUI thread)."""
        if self._asked is None or self._asked[0] != ident:
            return
        tag = self._asked[1]
        if kind == "progress":
            if not self._stopped.is_set():
                self._emit("progressed", values[0], tag)
            return
        self._asked = None
        self._rest_until = time.monotonic() + self.min_interval
        if not self._stopped.is_set():
            if kind == "done":
                self._emit("done", values[0], tag)
            elif kind == "failed":
                self._emit("failed", f"{self.name} failed: {values[0]}")
            else:
                self._emit("cancelled", tag)
        self._pump()

    # --- thread mode ----------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None or self._stopped.is_set():
                    self._thread = None
                    return
                self._cancel.clear()
            self._run(*job)
            if self.min_interval:
                self._stopped.wait(self.min_interval)

    def _run(self, args, tag) -> None:
        kwargs = {"progress": self._progress_for(tag)} if self._with_progress else {}
        try:
            with quiet_numbers():
                result = self.fn(*args, **kwargs)
        except Cancelled:
            self._emit("cancelled", tag)
            return
        except Exception as e:  # an error travels as a signal, not as a dead thread
            self._emit("failed", f"{self.name} failed: {e}")
            return
        if not self._stopped.is_set():
            self._emit("done", result, tag)

    def _progress_for(self, tag):
        def progress(fraction: float) -> None:
            if self._cancel.is_set() or self._stopped.is_set():
                raise Cancelled()
            self._emit("progressed", float(fraction), tag)
        return progress

    def _emit(self, signal: str, *values) -> None:
        try:
            getattr(self, signal).emit(*values)
        except RuntimeError:   # the window (and this object's C++ half) went while the job ran
            self._stopped.set()

    @property
    def busy(self) -> bool:
        return self._thread is not None or self._asked is not None or (self.remote and self._pending is not None)

    def wait(self, timeout: float | None = None) -> None:
        """Block until every request has run (process mode: handling Qt events meanwhile)."""
        if self.remote:
            end = time.monotonic() + (timeout if timeout is not None else 3600)
            while self.busy and not self._stopped.is_set() and time.monotonic() < end:
                QCoreApplication.processEvents()
                time.sleep(0.002)
            return
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def stop(self, timeout: float = 1.0) -> None:
        """Run nothing more (closing the window); a thread's current job finishes, a process's is
        cancelled."""
        self._stopped.set()
        self._timer.stop()
        if self.remote:
            self.cancel()
            self._asked = None
            return
        self.wait(timeout)

    def __repr__(self):
        where = "process" if self.remote else "thread"
        return f"{type(self).__name__}({self.name!r}, {where}, busy={self.busy}, min_interval={self.min_interval})"


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
