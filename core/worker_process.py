"""The trainer process's side: a TrainingLoop fed by a pipe, its data set in shared memory.

The window (gui.trainer_process) starts ``child_main`` with the ``spawn`` method. What crosses:

- window → trainer, one pipe message each: ``("run", seq)``, ``("pause", seq)``, ``("step", n)``,
  ``("stop",)``, ``("delay", s)``, ``("requests", [typed requests of core.control])``, ``("ack",)``
  (the window took the last snapshot), ``("inspect", id, op, path, arg)`` (look at or change the
  trainer, for tests and debugging; answered by ``("reply", id, ok, value)``).
- trainer → window: ``("started", pid)``, ``("snapshot", Snapshot)``, ``("failed", message)``,
  ``("gradient", result)``, ``("halted", seq)`` (it paused itself: divergence), ``("reply", …)``.
- The data set's arrays are put in one shared-memory segment once per trainer (``SharedArrays``):
  the trainer maps them without a copy and the window unlinks the segment as soon as the trainer
  says it has mapped it, so no name is left in /dev/shm whatever happens later.

Snapshots are pickled (protocol 5) with their arrays sent out of band, straight from the arrays'
memory: for 784-512-10 a snapshot is 5.2 MB and costs about 0.5 ms to send. At most one snapshot is
in flight: the next is sent when the window has taken the last ("ack"), so nothing queues up.
Their arrays go through a shared-memory slot the window makes (``("grow", bytes)`` asks for one,
``("slot", name)`` hands it over, ``("slot_mapped", name)`` lets the window unlink its name): one
copy in, one copy out, no megabytes through the pipe. Measured at 784-512-10 (5.2 MB a snapshot,
30 a second), the pipe alone cost the trainer 5–8% of its CPU.
Nothing here imports Qt.
"""
from __future__ import annotations

import itertools
import os
import pickle
import queue
import struct
import sys
import threading
from dataclasses import dataclass
from multiprocessing import shared_memory
from types import SimpleNamespace

import numpy as np

from core.control import RunControl
from core.snapshot import merge_points
from core.worker_loop import Outlet, Timing, TrainingLoop

# --- messages: pickles with their big buffers sent out of band --------------------------------


def send_message(conn, message, lock: threading.Lock, slot=None) -> int:
    """Send ``message`` as a pickle header plus its buffers (arrays). The buffers go into ``slot``
    (a SharedMemory the receiver has mapped) when they fit, else through the pipe straight from
    their own memory. Returns the bytes the buffers need in a slot (0 when none)."""
    buffers = []
    header = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    spans, offset = [], 0
    for buffer in buffers:
        n = buffer.raw().nbytes
        spans.append((offset, n))
        offset += -(-n // 64) * 64
    in_slot = bool(slot is not None and buffers and offset <= slot.size)
    with lock:
        conn.send_bytes(struct.pack("<II", len(buffers), in_slot) + header)
        if in_slot:
            for buffer, (start, n) in zip(buffers, spans):
                _copy_bytes(buffer.raw(), slot.buf, start)
            conn.send_bytes(pickle.dumps((slot.name, spans)))
        else:
            for buffer in buffers:
                conn.send_bytes(buffer.raw())
    return offset


def recv_message(conn, slots=None):
    """The next message from ``send_message``; its arrays are read-only copies. ``slots`` maps the
    names of shared-memory slots this side has mapped to their SharedMemory."""
    first = conn.recv_bytes()
    count, in_slot = struct.unpack_from("<II", first)
    if in_slot:
        name, spans = pickle.loads(conn.recv_bytes())
        buf = slots[name].buf
        buffers = [_copy_out(buf, start, n) for start, n in spans]
    else:
        buffers = [conn.recv_bytes() for _ in range(count)]
    return pickle.loads(memoryview(first)[8:], buffers=buffers)


def _copy_bytes(source, target, offset: int) -> None:
    """Copy the bytes of ``source`` into ``target`` (a writable buffer) at ``offset``. NumPy copies
    without holding the GIL (a memoryview's slice assignment holds it): the trainer's next step, or
    the window's drawing, goes on meanwhile."""
    src = np.frombuffer(source, dtype=np.uint8)
    dst = np.frombuffer(target, dtype=np.uint8, count=src.size, offset=offset)
    np.copyto(dst, src)
    del dst      # no view of the shared memory may outlive the copy (it could not be unmapped)


def _copy_out(source, offset: int, n: int) -> np.ndarray:
    """A read-only copy of ``n`` bytes of ``source`` from ``offset`` (see _copy_bytes)."""
    view = np.frombuffer(source, dtype=np.uint8, count=n, offset=offset)
    out = view.copy()
    del view
    out.flags.writeable = False
    return out


# --- the data set in shared memory --------------------------------------------------------------
@dataclass(frozen=True)
class SharedArrays:
    """Where named arrays lie in one shared-memory segment: {name: (dtype, shape, offset)}."""

    segment: str
    layout: dict

    @classmethod
    def create(cls, arrays: dict) -> tuple[shared_memory.SharedMemory, "SharedArrays"]:
        """Copy ``arrays`` into a new segment; the caller owns it (close and unlink it)."""
        layout, offset = {}, 0
        for name, array in arrays.items():
            layout[name] = (array.dtype.str, array.shape, offset)
            offset += -(-array.nbytes // 64) * 64            # 64-byte aligned, as NumPy likes
        shm = shared_memory.SharedMemory(create=True, size=max(offset, 1))
        spec = cls(shm.name, layout)
        for name, view in spec.views(shm).items():
            view[...] = arrays[name]
        return shm, spec

    def views(self, shm) -> dict:
        return {name: np.ndarray(shape, np.dtype(dtype), buffer=shm.buf, offset=offset)
                for name, (dtype, shape, offset) in self.layout.items()}

    def attach(self) -> tuple[shared_memory.SharedMemory, dict]:
        """Map the segment and give read-only views of its arrays (no copy)."""
        shm = shared_memory.SharedMemory(name=self.segment)
        views = self.views(shm)
        for view in views.values():
            view.flags.writeable = False
        return shm, views


def data_arrays(data) -> dict:
    """The arrays of a data set (``train``, ``test`` with ``images``, ``labels``) by name."""
    return {f"{split}.{part}": getattr(getattr(data, split), part)
            for split in ("train", "test") for part in ("images", "labels")}


def data_from_arrays(arrays: dict, source: str, names: dict):
    """A data set like core.data's built on ``arrays`` (see data_arrays), without copying them."""
    from core.data import Dataset
    split = {s: Dataset(arrays[f"{s}.images"], arrays[f"{s}.labels"], names[s]) for s in ("train", "test")}
    return SimpleNamespace(train=split["train"], test=split["test"], source=source)


# --- the trainer process ----------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """Stands for an object inside the trainer: at ``path`` from it (see ``inspect``)."""

    path: tuple = ()


PLAIN = (type(None), bool, int, float, complex, str, bytes, np.generic, tuple, frozenset)


class PipeOutlet(Outlet):
    """The loop's output in the trainer process: snapshots to the pipe, one in flight at most.

    Messages leave from a sender thread, in order: writing megabytes into the pipe waits for the
    window to read them, and training goes on meanwhile (the write releases the GIL; a snapshot's
    arrays are never changed after it is made, so they can be sent while the next steps run).
    """

    def __init__(self, conn, max_fps: float):
        self.conn, self.max_fps = conn, max_fps
        self.send_lock = threading.Lock()
        self._state = threading.Lock()
        self._credit = 1          # snapshots the window will take now (it acks each it takes)
        self._pending = None      # a snapshot waiting for the window's ack
        self.seq = 0              # the last run / pause the window sent
        self.slot = None          # shared memory the window made for snapshots' arrays (see use_slot)
        self._asked = 0           # the slot size last asked for
        self._outbox: queue.Queue = queue.Queue()
        self._sender = threading.Thread(target=self._send_all, daemon=True, name="trainer-sender")
        self._sender.start()

    def send(self, *message):
        self._outbox.put(message)

    def _send_all(self):
        while (message := self._outbox.get()) is not None:
            try:
                self._send_one(message)
            except OSError:       # the window has gone: nobody to tell
                return

    def _send_one(self, message):
        """Snapshots' arrays go through the slot (one copy, no pipe traffic) when it holds them; the
        first that does not fit asks the window for a bigger one. Only one snapshot is ever in
        flight, and the window copies it out before it acks, so the slot is never overwritten early."""
        slot = self.slot if message[0] == "snapshot" else None
        need = send_message(self.conn, message, self.send_lock, slot)
        if message[0] == "snapshot" and need > (slot.size if slot is not None else 0) and need > self._asked:
            self._asked = need
            send_message(self.conn, ("grow", need), self.send_lock)

    def use_slot(self, name: str):
        """Map the window's new slot (called on the pipe thread); the old mapping goes."""
        old, self.slot = self.slot, shared_memory.SharedMemory(name=name)
        self.send("slot_mapped", name)
        if old is not None:
            old.close()

    def close(self, timeout: float = 2.0):
        """Send what is queued, then end the sender thread and unmap the slot."""
        self._outbox.put(None)
        self._sender.join(timeout)
        if self.slot is not None and not self._sender.is_alive():
            self.slot.close()
            self.slot = None

    def due(self, since_last: float) -> bool:
        return self._credit > 0 and since_last >= 1.0 / self.max_fps

    def deliver(self, snapshot):
        with self._state:
            if self._credit <= 0:     # the window has not taken the last one: this replaces it
                self._pending = snapshot if self._pending is None else merge_points(self._pending, snapshot)
                return
            self._credit -= 1
        self.send("snapshot", snapshot)

    def acked(self):
        with self._state:
            pending, self._pending = self._pending, None
            if pending is None:
                self._credit = min(self._credit + 1, 1)
        if pending is not None:
            self.send("snapshot", pending)

    def failed(self, message: str):
        self.send("failed", message)

    def gradient_checked(self, result):
        self.send("gradient", result)

    def halted(self):
        self.send("halted", self.seq)


def resolve(root, path):
    """Follow ``path`` (("attr", name) or ("item", key) steps) from ``root``."""
    for kind, key in path:
        root = getattr(root, key) if kind == "attr" else root[key]
    return root


def inspect(loop: TrainingLoop, op: str, path: tuple, arg):
    """One look at (or change to) the trainer; values that are plain come back, others as a Ref."""
    if op == "set":
        *parent_path, (kind, key) = path
        parent = resolve(loop.trainer, parent_path)
        value = resolve(loop.trainer, arg.path) if isinstance(arg, Ref) else arg
        setattr(parent, key, value) if kind == "attr" else parent.__setitem__(key, value)
        return None
    target = resolve(loop.trainer, path)
    if op == "call":
        args, kwargs = arg
        return target(*args, **kwargs)
    if op == "value" or isinstance(target, PLAIN):
        return target
    return Ref(path)


def serve(conn, control: RunControl, outlet: PipeOutlet, loop: TrainingLoop):
    """Read the window's messages until it says stop or the pipe closes (the window is gone)."""
    commands = {"run": control.run, "pause": control.pause, "step": control.step, "delay": control.set_delay,
                "requests": lambda requests: control.request(*requests), "ack": outlet.acked,
                "slot": outlet.use_slot}
    while True:
        try:
            message = recv_message(conn)
        except (EOFError, OSError):
            control.stop()
            return
        kind, *args = message
        if kind == "stop":
            control.stop()
            return
        if kind in ("run", "pause"):
            outlet.seq = args[0]
            commands[kind]()
        elif kind == "inspect":
            answer(outlet, loop, *args)
        else:
            commands[kind](*args)


def answer(outlet: PipeOutlet, loop: TrainingLoop, ident: int, op: str, path: tuple, arg):
    """Do one inspect between two steps and send its result (or its error) back."""
    try:
        with loop.lock:
            value = inspect(loop, op, path, arg)
        outlet.send("reply", ident, True, value)
    except Exception as e:  # the error belongs to whoever asked
        outlet.send("reply", ident, False, f"{type(e).__name__}: {e}")


def child_main(conn, spec: dict) -> None:
    """The trainer process: map the data, train under the window's controls, end when told."""
    import signal
    from threadpoolctl import threadpool_limits
    # Ctrl+C in a terminal reaches the whole process group: the window decides, and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The pipe threads hand over to the training thread and back within a Step's latency: Python's
    # default 5 ms switch interval would let a waiting sender sit out several of them.
    sys.setswitchinterval(0.001)
    shm, arrays = spec["data"].attach()
    data = data_from_arrays(arrays, spec["source"], spec["names"])
    outlet = PipeOutlet(conn, spec["max_fps"])
    outlet.send("started", os.getpid())
    control = RunControl(spec["delay"])
    loop = TrainingLoop(data, spec["settings"], control, outlet, spec["network"], spec["step"],
                        run_ids=itertools.count(spec["first_run_id"]), timing=Timing(**spec["timing"]))
    threading.Thread(target=serve, args=(conn, control, outlet, loop), daemon=True, name="trainer-pipe").start()
    with threadpool_limits(limits=spec["settings"].get("blas_threads", 1), user_api="blas"):
        loop.run()
    outlet.close()
    del loop, data, arrays     # the views go before the mapping does
    try:
        shm.close()
    except BufferError:        # a view still held somewhere: the mapping goes with the process
        pass
    sys.stdout.flush()
