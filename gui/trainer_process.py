"""The trainer in a process of its own: the window's side (the child's is core.worker_process).

Training and drawing in one process share Python's GIL, so every ms the window spends drawing was
a ms less of training. In a process started with ``spawn`` (the same on Linux, macOS and Windows)
the trainer has its own interpreter; the window only reads the snapshots it sends.

``TrainerProcess`` looks like gui.training_thread.TrainingThread to the rest of the window: the
same signals, a ``mailbox``, ``control`` (a ``RemoteControl``: RunControl's methods, sent over the
pipe in order, so a thousand Step presses are a thousand steps), ``isRunning``/``isFinished`` and
``stop_and_wait``. ``trainer`` is a ``RemoteObject``: reading, setting or calling through it
happens in the trainer process between two steps (tests and debugging use it; panels never do).

A crash in the trainer, an out-of-memory or a kill reaches the window as ``failed(message)``,
followed by the last snapshot again with status "error", so panels show training has stopped.
"""
from __future__ import annotations

import itertools
import multiprocessing
import queue
import threading
from dataclasses import replace
from multiprocessing import shared_memory

from PyQt6.QtCore import QObject, pyqtSignal

from core.control import ControlState
from core.snapshot import Status
from core.worker_process import Ref, SharedArrays, child_main, data_arrays, recv_message, send_message
from gui.training_thread import MAX_FPS, Mailbox, timing

CONTEXT = multiprocessing.get_context("spawn")
RUN_ID_BLOCKS = itertools.count(1)     # each trainer numbers its networks from its own block...
RUN_ID_BLOCK = 1_000_000               # ...so run ids stay unique in the window's process
REPLY_TIMEOUT = 10.0                   # s to wait for the trainer to answer an inspect
STOP_GRACE = 0.6                       # s a trainer gets to end by itself before it is terminated


class TrainerGone(RuntimeError):
    """The trainer process has ended: there is nothing to look at."""


def death_message(exitcode, what: str = "the training process", then: str = "Reset starts a new one") -> str:
    """Why a child process (``what``) ended, in words, and ``then`` what the person can do."""
    if exitcode is not None and exitcode < 0:
        import signal
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (the system may have run out of memory)" if name == "SIGKILL" else ""
        return f"{what} was killed by {name}{hint}; {then}"
    return f"{what} ended unexpectedly (exit code {exitcode}); {then}"


class RemoteControl(ControlState):
    """RunControl's methods for a trainer in another process: each call is one pipe message.

    ``running`` and ``delay`` are what the window asked for (the trainer follows them in order);
    when the trainer pauses itself (divergence) or ends, the window's side is told.
    """

    def __init__(self, send, delay: float = 0.0):
        self._send = send
        self._running = False
        self._stopped = False
        self._delay = max(0.0, float(delay))
        self._seq = 0

    def run(self):
        self._running = True
        self._seq += 1
        self._send("run", self._seq)

    def pause(self):
        """Stop after the current step; any step budget left is dropped."""
        self._running = False
        self._seq += 1
        self._send("pause", self._seq)

    def step(self, n: int = 1):
        self._send("step", max(0, int(n)))

    def stop(self):
        self._stopped = True
        self._send("stop")

    def set_delay(self, seconds: float):
        self._delay = max(0.0, float(seconds))
        self._send("delay", self._delay)

    def request(self, *requests):
        if requests:
            self._send("requests", list(requests))

    def halted_by_trainer(self, seq: int):
        """The trainer paused itself after the window's command ``seq``: not running, unless the
        window has said run (or pause) since."""
        if seq == self._seq:
            self._running = False

    def ended(self):
        self._running = False

    def __repr__(self):
        return f"RemoteControl(running={self._running}, stopped={self._stopped}, delay={self._delay})"


class TrainerProcess(QObject):
    """Trains ``settings``'s network (or ``network``, trained ``step`` steps) on ``data`` in a
    spawned process; see the module notes. ``start()`` launches it."""

    snapshot_ready = pyqtSignal()          # the mailbox holds a snapshot to draw
    failed = pyqtSignal(str)               # training ended by an error, a crash or a kill
    gradient_checked = pyqtSignal(object)  # a core.gradcheck.GradCheck, or why it could not run (str)
    _ended = pyqtSignal(str)               # from the pipe reader: the process is gone (message or "")

    def __init__(self, data, settings: dict, delay: float = 0.0, parent=None, network=None, step: int = 0):
        super().__init__(parent)
        self.data = data
        self.mailbox = Mailbox()
        self.run_id = 0                     # of the latest snapshot received
        self.last_snapshot = None
        self._send_lock = threading.Lock()
        self._replies: queue.Queue = queue.Queue()
        self._ids = itertools.count(1)
        self._stopping = False
        self._failed = False
        self._started = False
        self.exitcode = None                # set once the process has ended and been reaped
        self.control = RemoteControl(self._send, delay)
        self._slots: dict = {}              # name → SharedMemory: snapshots' arrays come through these
        self._unlinked: set = set()
        self._shm, shared = SharedArrays.create(data_arrays(data))
        self._spec = {"data": shared, "source": getattr(data, "source", ""),
                      "names": {s: getattr(getattr(data, s), "name", s) for s in ("train", "test")},
                      "settings": dict(settings), "network": network, "step": int(step), "delay": delay,
                      "first_run_id": next(RUN_ID_BLOCKS) * RUN_ID_BLOCK + 1, "max_fps": MAX_FPS,
                      "timing": vars(timing()).copy()}
        self._conn, child_conn = CONTEXT.Pipe()
        self._child_conn = child_conn
        self.process = CONTEXT.Process(target=child_main, args=(child_conn, self._spec), daemon=True,
                                       name="backprop-lens trainer")
        self._reader = threading.Thread(target=self._read, daemon=True, name="trainer-reader")
        self._ended.connect(self._on_ended)

    # --- life cycle -----------------------------------------------------------------------------
    def start(self):
        """Spawn the trainer (about 0.3 s: a fresh interpreter importing NumPy) and read its pipe."""
        self.process.start()
        self._child_conn.close()          # the child has its own end; ours must not keep the pipe open
        self._started = True
        self._reader.start()

    def isRunning(self) -> bool:
        return self._started and self.exitcode is None and self.process.is_alive()

    def isFinished(self) -> bool:
        return self._started and not self.isRunning()

    def _reap(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the process to end; once it has, note its exit code and
        free its handle. True when it has ended."""
        if self.exitcode is None:
            self.process.join(timeout)
            if self.process.is_alive():
                return False
            self.exitcode = self.process.exitcode
            self.process.close()
        return True

    def stop_and_wait(self, timeout_ms=2000) -> bool:
        """End the trainer: ask it to stop after the current step, terminate it if it has not within
        STOP_GRACE s (or ``timeout_ms``), then free the pipe and the data's segment. True once gone."""
        self._stopping = True
        if self._started:
            self.control.stop()
            if not self._reap(min(STOP_GRACE, timeout_ms / 1000)):
                self.process.terminate()
                if not self._reap(0.2):
                    self.process.kill()
                    self._reap(1.0)
            self._reader.join(1.0)        # the pipe closed with the process: the reader has ended
            self._conn.close()
            if not self._reader.is_alive():
                self._free_slots()
        self._free_data()
        return not self._started or self.exitcode is not None

    def _free_data(self):
        """Unlink the data's segment (the trainer keeps its own mapping) and unmap ours."""
        if self._shm is not None:
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    def _free_slots(self):
        """The trainer has ended: unmap the snapshot slots, unlinking any it never mapped."""
        for name, slot in self._slots.items():
            slot.close()
            self._unlink_slot(name)
        self._slots.clear()

    def _unlink_slot(self, name: str):
        """Take the slot's name out of /dev/shm (once; both sides keep their mappings)."""
        if name not in self._unlinked:
            self._unlinked.add(name)
            shared_memory.SharedMemory.unlink(self._slots[name])

    # --- the pipe -------------------------------------------------------------------------------
    def _send(self, *message):
        """Send one message; to a trainer that has ended (the window was told) it goes nowhere."""
        try:
            send_message(self._conn, message, self._send_lock)
        except OSError:
            if self.isRunning():
                raise

    def _read(self):
        """The reader thread: messages from the trainer until its end of the pipe closes."""
        handlers = {"snapshot": self._on_snapshot, "failed": self._on_failed, "gradient": self.gradient_checked.emit,
                    "halted": self.control.halted_by_trainer, "reply": lambda *reply: self._replies.put(reply),
                    "started": lambda pid: self._ended.emit("started"), "grow": self._grow,
                    "slot_mapped": self._unlink_slot}
        while True:
            try:
                kind, *args = recv_message(self._conn, self._slots)
            except (EOFError, OSError, TypeError):   # TypeError: the pipe was closed under the read
                break
            handlers[kind](*args)
        self._replies.put(None)           # whoever waits for a reply: there will be none
        try:
            self._ended.emit("" if self._stopping or self._failed else "died")
        except RuntimeError:              # this object was deleted with its window: nobody to tell
            pass

    def _grow(self, nbytes: int):
        """The trainer's snapshots need ``nbytes``: make a slot that size (and some) and hand it over.
        Older slots stay mapped here (a snapshot may still name one) until the trainer ends."""
        slot = shared_memory.SharedMemory(create=True, size=int(nbytes * 1.25) + 4096)
        self._slots[slot.name] = slot
        self._send("slot", slot.name)

    def _on_snapshot(self, snapshot):
        self.run_id = snapshot.run_id
        self.last_snapshot = snapshot
        if self.mailbox.put(snapshot):
            self.snapshot_ready.emit()

    def _on_failed(self, message: str):
        self._failed = True
        self.control.ended()
        self.failed.emit(message)

    def _on_ended(self, what: str):
        """In the GUI thread: the trainer has mapped its data (unlink it), or it has gone."""
        if what == "started":
            self._free_data()
            return
        self.control.ended()
        self._reap(1.0)
        if what == "died":
            message = death_message(self.exitcode)
            self._failed = True
            self.failed.emit(message)
            if self.last_snapshot is not None:    # the last state again, marked as stopped
                self._on_snapshot(replace(self.last_snapshot, status=Status.ERROR, message=message,
                                          cost_steps=self.last_snapshot.cost_steps[:0],
                                          cost_values=self.last_snapshot.cost_values[:0],
                                          accuracy_values=self.last_snapshot.accuracy_values[:0],
                                          grad_norm_values=self.last_snapshot.grad_norm_values[:0]))
        self._free_data()
        self._free_slots()

    def take(self):
        """The snapshot waiting in the mailbox (None when there is none); tells the trainer it may
        send the next."""
        snapshot = self.mailbox.take()
        if snapshot is not None:
            self._send("ack")
        return snapshot

    # --- looking inside ---------------------------------------------------------------------------
    @property
    def trainer(self) -> "RemoteObject":
        """The trainer in the other process, looked at through the pipe (tests and debugging)."""
        return RemoteObject(self, ())

    def inspect(self, op: str, path: tuple, arg=None):
        """Do ``op`` ("get", "value", "set", "call") on the trainer at ``path``, between two steps."""
        if not self.isRunning():
            if op == "set":
                return None               # nothing to change in a trainer that has ended
            raise TrainerGone("the training process has ended")
        if op == "set" and callable(arg) and not isinstance(arg, RemoteObject):
            import cloudpickle            # a function defined in a test: sent by value
            arg = _ByValue(cloudpickle.dumps(arg))
        if isinstance(arg, RemoteObject):
            arg = Ref(arg._path)
        ident = next(self._ids)
        self._send("inspect", ident, op, path, arg)
        while True:
            reply = self._replies.get(timeout=REPLY_TIMEOUT)
            if reply is None:
                raise TrainerGone("the training process ended before it answered")
            got, ok, value = reply
            if got == ident:
                break
        if not ok:
            raise RuntimeError(f"in the training process: {value}")
        return RemoteObject(self, value.path) if isinstance(value, Ref) else value

    def __repr__(self):
        state = "running" if self.isRunning() else "finished" if self.isFinished() else "not started"
        return f"TrainerProcess({state}, run_id={self.run_id}, {self.control!r})"


class _ByValue:
    """A function pickled by value (cloudpickle), unpickled in the trainer process."""

    def __init__(self, payload: bytes):
        self.payload = payload

    def __reduce__(self):
        import pickle
        return pickle.loads, (self.payload,)


class RemoteObject:
    """An object inside the trainer process, named by its path from the trainer.

    Reading an attribute or item gives its value when it is plain (numbers, strings, None, tuples)
    and another RemoteObject otherwise; calling gives the value; setting changes it there. Paths are
    followed again on every use, so they always mean the current trainer.
    """

    __slots__ = ("_worker", "_path")

    def __init__(self, worker: TrainerProcess, path: tuple):
        object.__setattr__(self, "_worker", worker)
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._worker.inspect("get", self._path + (("attr", name),))

    def __getitem__(self, key):
        return self._worker.inspect("get", self._path + (("item", key),))

    def __setattr__(self, name, value):
        self._worker.inspect("set", self._path + (("attr", name),), value)

    def __setitem__(self, key, value):
        self._worker.inspect("set", self._path + (("item", key),), value)

    def __call__(self, *args, **kwargs):
        return self._worker.inspect("call", self._path, (args, kwargs))

    def value(self):
        """A copy of the object itself (it must pickle)."""
        return self._worker.inspect("value", self._path)

    def __array__(self, dtype=None, copy=None):
        import numpy as np
        return np.asarray(self.value(), dtype=dtype)

    def __len__(self):
        return len(self.value())

    def __iter__(self):
        return iter(self.value())

    def __eq__(self, other):
        return self.value() == other

    def __ne__(self, other):
        return self.value() != other

    __hash__ = None

    def __repr__(self):
        steps = "".join(f".{key}" if kind == "attr" else f"[{key!r}]" for kind, key in self._path)
        return f"RemoteObject(trainer{steps})"
