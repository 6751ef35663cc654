"""Helpers shared by the benchmark scripts: MNIST loading, thread control, robust timing.

Benchmarks are scripts, not tests: they print figures and never assert. Run them from the project
root with ``PYTHONPATH=.`` so that ``core`` imports.
"""
from __future__ import annotations

import gzip
import os
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MNIST = ROOT.parent / "shared" / "mnist"   # never copied into the repository

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


# --- data ---------------------------------------------------------------------------------------
@dataclass
class Split:
    """Images as float32 rows (n, 784) in 0..1 and int64 labels: what ``Trainer`` reads."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.labels)


def _read_idx(path: Path, header: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def read_idx_mnist(folder) -> tuple:
    """(train, test) read straight from the four IDX .gz files (16-byte image, 8-byte label headers)."""
    folder = Path(folder)
    splits = []
    for images_name, labels_name in IDX_FILES.values():
        labels = _read_idx(folder / labels_name, 8).astype(np.int64)
        images = _read_idx(folder / images_name, 16).reshape(len(labels), 784)
        splits.append(Split(images.astype(np.float32) / np.float32(255), labels))
    return tuple(splits)


def load_mnist(folder=DEFAULT_MNIST) -> tuple:
    """(train, test, source): the project's ``core.data.load_mnist`` when it works, else the IDX reader."""
    try:
        from core.data import load_mnist as core_load
        data = core_load(folder)
        train, test = data.train, data.test
        if train.images.dtype == np.float32 and len(train.labels) == 60000:
            return train, test, f"core.data.load_mnist ({getattr(data, 'kind', '?')})"
    except Exception as exc:  # core.data may be missing or under construction
        reason = f"{type(exc).__name__}"
    else:
        reason = "unexpected shape/dtype"
    train, test = read_idx_mnist(folder)
    return train, test, f"bench IDX reader (core.data: {reason})"


# --- threads ------------------------------------------------------------------------------------
def torch_or_none():
    """The torch module, or None when it is not installed."""
    try:
        import torch
        return torch
    except Exception:
        return None


@contextmanager
def threads(n: int):
    """Limit BLAS/OpenMP (threadpoolctl) and torch to ``n`` threads inside the block."""
    from threadpoolctl import threadpool_limits
    torch = torch_or_none()
    before = torch.get_num_threads() if torch else None
    with threadpool_limits(limits=n):
        if torch:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            if torch:
                torch.set_num_threads(before)


def blas_description() -> dict:
    """Which BLAS numpy uses, its kernel, and the env variables that steer OpenBLAS."""
    from threadpoolctl import threadpool_info
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                      "OMP_NUM_THREADS") if k in os.environ}
    return {"numpy": np.__version__,
            "blas": [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}" for i in blas],
            "env": env}


def machine_description() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {"cpu": cpu, "cores": os.cpu_count(), "load_1min": round(load, 2)}


# --- timing -------------------------------------------------------------------------------------
def timed(fn, *args) -> float:
    """Seconds ``fn(*args)`` takes on the wall clock."""
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def timed_both(fn, *args) -> tuple:
    """(wall seconds, CPU seconds of this process) that ``fn(*args)`` takes.

    With one thread per contender, CPU time barely moves when other jobs share the machine, while
    wall time stretches: the pair tells a slow contender from a busy machine.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(contenders: dict, rounds: int) -> dict:
    """Call each contender once per round, rotating who goes first; (wall, cpu) times per name.

    Interleaving spreads the machine's noise (other jobs, turbo, cache) over every contender alike.
    """
    names = list(contenders)
    times = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed_both(contenders[name]))
    return times


def median(values) -> float:
    return float(statistics.median(values)) if values else float("nan")
