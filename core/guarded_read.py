"""Opening files a user hands us without trusting them: check first, allocate after.

The loaders of models (:mod:`core.checkpoint`) and data (:mod:`core.data`) share these steps:

* :func:`open_regular` opens a path only if it is a regular file no larger than a stated limit.
  A FIFO, a device or a socket is refused at once (opening a FIFO for reading would otherwise
  wait forever for a writer), and a folder is named as one.
* :func:`open_zip` reads a zip's end record before :mod:`zipfile` parses its central directory,
  so that a small file claiming millions of members cannot make a list of millions of objects.
* :func:`npy_header` reads a member's ``.npy`` header (at most a few KiB), and
  :func:`read_npy` reads its data only after the caller has approved the dtype and shape and
  the zip's own record of the member's uncompressed size matches what the header promises.
  Decompression is thereby bounded by that promise: :mod:`zipfile` never returns more than the
  recorded size, and the recorded size is the one checked.

Every refusal is an :class:`InputRefused` carrying one line without the path; each loader wraps
it into its own error (``DataError``, ``CheckpointError``) naming the file.
"""
from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from dataclasses import dataclass

import numpy as np

__all__ = ["InputRefused", "open_regular", "open_zip", "NpyHeader", "npy_header", "read_npy", "size_text"]

#: The .npy format's own default ceiling for a header (numpy refuses larger ones by default too).
MAX_NPY_HEADER = 10_000
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP_COMMENT_MAX = 0xFFFF
_ZIP64_LOCATOR = b"PK\x06\x07"


class InputRefused(Exception):
    """A file is refused before (most of) it is read; the message is one line without the path."""


def size_text(n: int) -> str:
    """A byte count for people: ``812 bytes``, ``52.0 KB``, ``3.1 GB`` (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:,} bytes"


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "is a folder, expected a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    return "is not a regular file"


def open_regular(path, max_bytes: int, what: str = "file"):
    """Open ``path`` for binary reading if it is a regular file of at most ``max_bytes``.

    The file is opened without blocking (``O_NONBLOCK``) and then examined with ``fstat``, so
    a FIFO is refused at once instead of hanging, and the check and the read concern the same
    file. Raises :class:`InputRefused` for a folder, a FIFO, a device or an oversized file;
    ``FileNotFoundError`` and other ``OSError`` pass through for the caller to word.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(os.fspath(path), flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputRefused(_kind(info.st_mode))
        if info.st_size > max_bytes:
            raise InputRefused(f"{size_text(info.st_size)}, more than the {size_text(max_bytes)} a {what} may have")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: ordinary reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_or_explain(path, max_bytes: int, what: str, error: type, missing: str = "no such file"):
    """``open_regular``, with every failure raised as ``error`` (a one-line exception class) saying
    why: ``missing`` when there is no such file, or refused, unreadable, not a usable path."""
    try:
        return open_regular(path, max_bytes, what)
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except InputRefused as e:
        raise error(f"{path}: {e}") from None
    except OSError as e:
        raise error(f"{path}: cannot read it ({e.strerror or e})") from None
    except ValueError as e:  # e.g. a NUL byte in a path from a settings file
        raise error(f"{str(path)[:200]!r}: not a usable path ({e})") from None


# --------------------------------------------------------------------------- zip archives


def _zip_end_record(handle, file_size: int) -> tuple[int, int]:
    """(member count, central directory bytes) from the end record, found as zipfile finds it."""
    tail_size = min(file_size, _EOCD_SIZE + _ZIP_COMMENT_MAX)
    handle.seek(file_size - tail_size)
    tail = handle.read(tail_size)
    if tail[-_EOCD_SIZE:-_EOCD_SIZE + 4] == _EOCD and tail[-2:] == b"\0\0":
        at = len(tail) - _EOCD_SIZE
    else:
        at = tail.rfind(_EOCD)
    if at < 0 or at + _EOCD_SIZE > len(tail):
        raise InputRefused("damaged or not a zip archive (no end-of-archive record)")
    _, _, _, _, count, directory, _, _ = struct.unpack("<4s4H2LH", tail[at:at + _EOCD_SIZE])
    if at >= 20 and tail[at - 20:at - 16] == _ZIP64_LOCATOR:
        raise InputRefused("a zip64 archive, which arrays of the accepted sizes never need")
    return count, directory


def open_zip(handle, max_members: int) -> zipfile.ZipFile:
    """A :class:`zipfile.ZipFile` on ``handle`` once its end record lists at most ``max_members``
    members in a central directory of a matching size (each entry there takes at most 46 bytes
    plus a name, an extra field and a comment: 1 KiB is generous)."""
    handle.seek(0, io.SEEK_END)
    file_size = handle.tell()
    count, directory = _zip_end_record(handle, file_size)
    if count > max_members:
        raise InputRefused(f"zip archive of {count:,} members, at most {max_members} expected")
    if directory > max_members * 1024:
        raise InputRefused(f"zip directory of {size_text(directory)}, far more than {count} members need")
    handle.seek(0)
    archive = zipfile.ZipFile(handle)
    if len(archive.infolist()) > max_members:
        raise InputRefused(f"zip archive of {len(archive.infolist()):,} members, at most {max_members} expected")
    return archive


# --------------------------------------------------------------------------- .npy members


@dataclass(frozen=True)
class NpyHeader:
    """What an ``.npy`` header promises: the array's shape, dtype, memory order, header length."""

    shape: tuple
    dtype: np.dtype
    fortran_order: bool
    header_bytes: int

    @property
    def data_bytes(self) -> int:
        """Bytes of array data the header promises (Python ints: no overflow on silly shapes)."""
        count = 1
        for n in self.shape:
            count *= n
        return count * self.dtype.itemsize


def _read_exactly(stream, n: int, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise InputRefused(f"{what} ends early ({len(data)} of {n} bytes)")
    return data


def _check_member(info: zipfile.ZipInfo) -> None:
    """Refuse encrypted members and compression methods numpy never writes."""
    if info.flag_bits & 0x1:
        raise InputRefused(f"member {info.filename!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputRefused(f"member {info.filename!r} uses compression method {info.compress_type}, "
                           f"not stored or deflate")


def npy_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> NpyHeader:
    """Read only the ``.npy`` header of one member: magic, version, then at most
    :data:`MAX_NPY_HEADER` bytes of header text, parsed by NumPy's own header reader."""
    _check_member(info)
    with archive.open(info) as stream:
        prefix = _read_exactly(stream, 8, "the .npy header")
        try:
            version = np.lib.format.read_magic(io.BytesIO(prefix))
        except ValueError:
            raise InputRefused(f"member {info.filename!r} is not a .npy array (no .npy magic)") from None
        if version not in ((1, 0), (2, 0)):
            raise InputRefused(f"member {info.filename!r} is .npy version {version[0]}.{version[1]}, "
                               f"expected 1.0 or 2.0")
        length_format = "<H" if version == (1, 0) else "<I"
        length_bytes = _read_exactly(stream, struct.calcsize(length_format), "the .npy header")
        (length,) = struct.unpack(length_format, length_bytes)
        if length > MAX_NPY_HEADER:
            raise InputRefused(f"member {info.filename!r} has a {length:,}-byte .npy header "
                               f"(at most {MAX_NPY_HEADER:,} are accepted)")
        text = _read_exactly(stream, length, "the .npy header")
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    try:
        shape, fortran_order, dtype = reader(io.BytesIO(length_bytes + text))
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputRefused(f"member {info.filename!r} has an unreadable .npy header ({reason[:120]})") from None
    return NpyHeader(tuple(shape), np.dtype(dtype), bool(fortran_order), 8 + len(length_bytes) + length)


def read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, header: NpyHeader) -> np.ndarray:
    """Read one member whose ``header`` the caller has already approved.

    The zip's recorded uncompressed size must equal header plus promised data, and the
    compressed size may not exceed it by more than deflate's worst case, so neither a bomb nor
    a short member gets further than this check. Pickled object arrays are never loaded.
    """
    promised = header.header_bytes + header.data_bytes
    if info.file_size != promised:
        raise InputRefused(f"member {info.filename!r} holds {size_text(info.file_size)} but its .npy header "
                           f"promises {size_text(promised)}")
    if info.compress_size > promised + promised // 1000 + 1024:
        raise InputRefused(f"member {info.filename!r} is {size_text(info.compress_size)} compressed, more than "
                           f"its {size_text(promised)} of content could need")
    if header.dtype.hasobject:
        raise InputRefused(f"member {info.filename!r} holds pickled Python objects, refused for safety")
    with archive.open(info) as stream:
        # Chunked reads of 256 KiB into one array of the promised size (numpy's own non-file path).
        return np.lib.format.read_array(stream, allow_pickle=False)
