"""The analysis process's side: runs the window's off-screen maths, one job at a time.

The window's panels ask for maths that is not a training step (a test-set evaluation, the Timeline's
past networks, saliency maps, knock-out scans, projections, landscapes). Run on a thread of the
window's process it would share Python's GIL with drawing; here it runs in a process of its own,
started with ``spawn`` by gui.jobs, so drawing and training keep their pace.

What crosses the pipe (each message one pickle):

- window → here: ``("dataset", key, SharedArrays, name)`` (a core.data.Dataset's arrays, mapped
  without a copy; answered by ``("mapped", key)`` so the window can unlink the segment's name at
  once), ``("job", ident, "core.module:function", payload)``, ``("cancel", ident)``, ``("stop",)``.
- here → window: ``("started", pid)``, ``("mapped", key)``, ``("progress", ident, fraction)``,
  ``("done", ident, result)``, ``("failed", ident, message)``, ``("cancelled", ident)``.

A job's arguments are pickled on the window's side with each Dataset replaced by its key
(``persistent_id``), so the 31 MB test set crosses once, not with every job. Only functions of
``core`` modules run here (a job names its function; nothing else is imported). A function that
takes a ``progress`` keyword gets a callable: ``progress(fraction)`` reports how far it is and
raises :class:`Cancelled` once the window has cancelled the job. Nothing here imports Qt.
"""
from __future__ import annotations

import importlib
import inspect
import io
import os
import pickle
import queue
import sys
import threading
import time

PROGRESS_EVERY = 0.05      # s: progress messages are sent at most this often


class Cancelled(Exception):
    """The window cancelled the job that called ``progress``."""


def function(name: str):
    """The function ``"core.module:function"`` names (only core's modules may be named)."""
    module, _, attr = name.partition(":")
    if not (module == "core" or module.startswith("core.")) or not attr:
        raise ValueError(f"only core functions run in the analysis process, not {name!r}")
    return getattr(importlib.import_module(module), attr)


def quiet_numbers():
    """A diverged network's inf and NaN are the panels' to show (and the trainer's divergence
    message says why); NumPy's RuntimeWarnings about them would only be console noise."""
    import numpy as np
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


def process_id() -> int:
    """The id of the process this runs in (where a job runs: tests and benchmarks ask)."""
    return os.getpid()


def takes_progress(fn) -> bool:
    """True when ``fn`` has a ``progress`` parameter (it then gets a progress callable)."""
    try:
        return "progress" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class _ArgsUnpickler(pickle.Unpickler):
    """Reads a job's arguments, putting the mapped Datasets back where their keys stand."""

    def __init__(self, data: bytes, datasets: dict):
        super().__init__(io.BytesIO(data))
        self.datasets = datasets

    def persistent_load(self, pid):
        kind, key = pid
        if kind != "dataset" or key not in self.datasets:
            raise pickle.UnpicklingError(f"unknown data set {pid!r}")
        return self.datasets[key]


class _Worker:
    """The child's state: mapped datasets, the job queue, the cancelled set, one send lock."""

    def __init__(self, conn):
        self.conn = conn
        self.send_lock = threading.Lock()
        self.jobs: queue.Queue = queue.Queue()
        self.cancelled: set = set()
        self.datasets: dict = {}
        self.segments: list = []

    def send(self, *message) -> None:
        with self.send_lock:
            self.conn.send(message)

    # --- the pipe reader (a thread): cancels act at once, jobs wait their turn -------------------
    def read(self) -> None:
        try:
            while True:
                message = self.conn.recv()
                kind = message[0]
                if kind == "cancel":
                    self.cancelled.add(message[1])
                elif kind == "dataset":
                    self._map(*message[1:])
                elif kind == "job":
                    self.jobs.put(message[1:])
                elif kind == "stop":
                    break
        except (EOFError, OSError):     # the window has gone: end too
            pass
        self.jobs.put(None)

    def _map(self, key, shared, name) -> None:
        from core.data import Dataset
        shm, arrays = shared.attach()
        self.segments.append(shm)
        self.datasets[key] = Dataset(arrays["images"], arrays["labels"], name)
        self.send("mapped", key)

    # --- the main thread: one job at a time -------------------------------------------------------
    def serve(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            ident, name, payload = job
            if ident in self.cancelled:
                self.cancelled.discard(ident)
                self.send("cancelled", ident)
                continue
            self._run(ident, name, payload)

    def _run(self, ident, name, payload) -> None:
        try:
            fn = function(name)
            args, kwargs = _ArgsUnpickler(payload, self.datasets).load()
            if takes_progress(fn):
                kwargs["progress"] = self._progress(ident)
            with quiet_numbers():
                result = fn(*args, **kwargs)
        except Cancelled:
            self.cancelled.discard(ident)
            self.send("cancelled", ident)
            return
        except MemoryError:
            self.send("failed", ident, f"{name.rpartition(':')[2]} ran out of memory")
            return
        except Exception as e:  # the error belongs to the job's panel, as one line
            self.send("failed", ident, f"{type(e).__name__}: {e}")
            return
        try:
            self.send("done", ident, result)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            self.send("failed", ident, f"{name} gave a result that cannot be sent: {e}")

    def _progress(self, ident):
        last = [0.0]

        def progress(fraction: float) -> None:
            if ident in self.cancelled:
                raise Cancelled()
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY or fraction >= 1.0:
                last[0] = now
                self.send("progress", ident, float(fraction))
        return progress

    def close(self) -> None:
        self.datasets.clear()
        for shm in self.segments:
            try:
                shm.close()
            except BufferError:   # a result still holds a view: the mapping goes with the process
                pass


def analysis_main(conn, blas_threads: int = 1) -> None:
    """The analysis process: serve jobs until the window says stop or goes away."""
    import signal
    from threadpoolctl import threadpool_limits
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl+C is the window's to handle
    worker = _Worker(conn)
    worker.send("started", os.getpid())
    threading.Thread(target=worker.read, daemon=True, name="analysis-pipe").start()
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        worker.serve()
    worker.close()
    sys.stdout.flush()
