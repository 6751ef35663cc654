"""Builders of hostile files for tests/test_hostile_*.py: bombs made small, without big disks.

A gzip or zip bomb needs no gigabytes to build: deflate compresses a repeated pattern about
1000:1, and a block compressed once (then byte-aligned by a full flush, which also forgets the
history) can be repeated as often as wanted. So a 4 MB file that inflates to 4 GB takes
milliseconds to write. Zip archives are written by hand here because :mod:`zipfile` can only
store what it compresses itself; their CRCs are real for small members and zero for the big
ones, which a sound loader refuses from their recorded sizes before reading a byte.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def deflate_repeat(prefix: bytes, unit: bytes, count: int) -> bytes:
    """A raw deflate stream inflating to ``prefix + unit * count``, of about count*len(unit)/1000 bytes."""
    per_piece = max(1, (1 << 20) // len(unit))
    parts = []
    for data, final in ((prefix, False), (unit * per_piece, False)):
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        parts.append(c.compress(data) + c.flush(zlib.Z_FULL_FLUSH))
    full, rest = divmod(count, per_piece)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = c.compress(unit * rest) + c.flush()
    return parts[0] + parts[1] * full + tail


def gzip_bomb(prefix: bytes, unit: bytes, count: int) -> bytes:
    """A gzip file inflating to ``prefix + unit * count`` (trailer CRC left zero: never reached)."""
    header = b"\x1f\x8b\x08\x00" + b"\x00" * 4 + b"\x02\xff"
    return header + deflate_repeat(prefix, unit, count) + struct.pack("<LL", 0, (len(prefix) + len(unit) * count) & 0xFFFFFFFF)


def npy_header(shape, dtype) -> bytes:
    """The .npy header (magic, version 1.0, padded dict) numpy writes for an array of ``shape``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": tuple(shape)})
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def zip_archive(members) -> bytes:
    """A zip of ``members``: (name, content bytes) stored deflated, or (name, deflate stream,
    inflated size) for a bomb whose content is never built."""
    local, central = io.BytesIO(), io.BytesIO()
    for member in members:
        name = member[0].encode()
        if len(member) == 2:
            content = member[1]
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            packed, size, crc = c.compress(content) + c.flush(), len(content), zlib.crc32(content)
        else:
            packed, size, crc = member[1], member[2], 0
        offset = local.tell()
        local.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(packed), size, len(name), 0))
        local.write(name + packed)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(packed), size,
                                  len(name), 0, 0, 0, 0, 0, offset))
        central.write(name)
    count = len(members)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, central.tell(), local.tell(), 0)
    return local.getvalue() + central.getvalue() + end


def model_members(sizes=(784, 5, 10), header=None, dtype=np.float32) -> list:
    """(name, .npy bytes) of a valid small model file, with ``header`` replacing its JSON if given."""
    rng = np.random.default_rng(0)
    if header is None:
        header = {"format": "backprop-lens-model/1", "hyper": {},
                  "network": {"sizes": list(sizes), "activation": "sigmoid", "cost": "cross-entropy",
                              "seed": 0, "dtype": "float32"}}
    members = [("header.npy", npy_bytes(np.array(json.dumps(header))))]
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        members.append((f"W{l}.npy", npy_bytes(rng.standard_normal((n_out, n_in)).astype(dtype))))
        members.append((f"b{l}.npy", npy_bytes(np.zeros(n_out, dtype))))
    return members


def idx_header(magic: int, dims) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in dims)


def sparse_file(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of ``size`` bytes that takes no disk: ``head`` then a hole."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


MEASURE = """
{setup}
try:
    {call}
    print("accepted")
except {error} as e:
    print(str(e))
with open("/proc/self/status") as status:
    print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024)
"""


def measure(call: str, error: str, setup: str, timeout: float = 60) -> tuple[float, str]:
    """Run ``call`` (which should raise ``error``) in a fresh Python with the repository on its
    path; return (its peak resident memory in MB, the first line it printed: the message).
    The peak is the child's VmHWM (high-water mark of resident memory since its exec; unlike
    ru_maxrss it does not inherit the forking parent's figure)."""
    out = subprocess.run([sys.executable, "-c", MEASURE.format(setup=setup, call=call, error=error)],
                         cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    return float(lines[-1]), lines[0]


def gz(content: bytes) -> bytes:
    return gzip.compress(content, compresslevel=1)
