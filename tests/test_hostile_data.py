"""Issue 11, class 3: the data readers check before they read.

Each example of the issue is built in a temporary folder: a 4 GB file (sparse, so no disk) whose
magic is wrong, a 4 MB gzip inflating to 4 GB, an npz bomb whose counts do not match, a 100 MB
CSV line, a FIFO, a CSV of five rows, an npz of non-.npy members and a folder we may not read.
Only DataError may escape, with one line; the worst cases run in a fresh Python whose peak
memory (ru_maxrss) must stay far below 1 GB.
"""
from __future__ import annotations

import ctypes
import gzip
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.data import (
    MAX_CSV_LINE,
    MAX_IDX_FILE_BYTES,
    DataError,
    load_mnist,
    read_csv,
    read_idx,
    read_idx_pair,
    read_npz,
)
from hostile_files import ROOT, deflate_repeat, gzip_bomb, idx_header, measure, npy_bytes, npy_header, sparse_file, zip_archive

SETUP = "from core.data import *"


def refused(call, *match) -> str:
    """Run ``call``; expect a one-line DataError containing each of ``match``; return it."""
    with pytest.raises(DataError) as error:
        call()
    message = str(error.value)
    assert "\n" not in message and 0 < len(message) < 400, message
    for text in match:
        assert text in message, message
    return message


def csv_rows(n: int) -> list[str]:
    return [",".join([str(i % 10), *["0"] * 783, str(i % 256)]) for i in range(n)]


def good_npz_members(n_train=20, n_test=5) -> list:
    return [("x_train.npy", npy_bytes(np.zeros((n_train, 28, 28), np.uint8))),
            ("y_train.npy", npy_bytes(np.arange(n_train) % 10)),
            ("x_test.npy", npy_bytes(np.zeros((n_test, 28, 28), np.uint8))),
            ("y_test.npy", npy_bytes(np.arange(n_test) % 10))]


# --------------------------------------------------------------------------- the examples


def test_a_4_gb_file_is_refused_before_its_magic_is_read(tmp_path):
    for name, reader in (("train-images-idx3-ubyte", read_idx), ("digits.csv", read_csv), ("mnist.npz", read_npz)):
        path = sparse_file(tmp_path / name, 4_000_000_000, b"\x00\x00\x08\x03")
        started = time.perf_counter()
        refused(lambda: reader(path), "4.0 GB, more than the")
        assert time.perf_counter() - started < 1
    peak, message = measure(f"read_idx({str(tmp_path / 'train-images-idx3-ubyte')!r})", "DataError", SETUP)
    assert "4.0 GB" in message and peak < 150, (peak, message)


def test_a_4_mb_gzip_that_inflates_to_4_gb_stops_after_the_promised_bytes(tmp_path):
    promised = 60_000 * 784
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip_bomb(idx_header(0x803, (60_000, 28, 28)), b"\0", 4_000_000_000))
    assert path.stat().st_size < 4_500_000
    started = time.perf_counter()
    peak, message = measure(f"read_idx({str(path)!r})", "DataError", SETUP)
    assert "more than 1 MiB of unexpected bytes after the 60000x28x28 data" in message, message
    assert peak < promised / 1e6 + 150 and time.perf_counter() - started < 30, (peak, message)


def test_a_gzip_whose_header_promises_too_much_is_refused_from_the_header(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip_bomb(idx_header(0x803, (5_000_000, 28, 28)), b"\0", 4_000_000_000))
    refused(lambda: read_idx(path), "promises 5,000,000 images, more than the 100,000 accepted")
    path.write_bytes(gzip.compress(idx_header(0x803, (10, 1000, 1000))))
    refused(lambda: read_idx(path), "images of 1000x1000 pixels, expected 28x28")


def test_a_raw_idx_file_is_checked_against_its_size_before_reading(tmp_path):
    path = sparse_file(tmp_path / "i", 16 + 50_000 * 784 - 1, idx_header(0x803, (50_000, 28, 28)))
    refused(lambda: read_idx(path), "truncated: header promises 50000x28x28 bytes (39,200,000) but only 39,199,999")
    labels = tmp_path / "l"
    labels.write_bytes(idx_header(0x801, (49_999,)) + bytes(49_999))
    full = sparse_file(tmp_path / "i", 16 + 50_000 * 784, idx_header(0x803, (50_000, 28, 28)))
    peak, message = measure(f"read_idx_pair({str(full)!r}, {str(labels)!r}, 'train')", "DataError", SETUP)
    assert "has 50,000 images but l has 49,999 labels" in message and peak < 100, (peak, message)


def test_an_npz_count_mismatch_is_noticed_from_the_headers(tmp_path):
    """The issue's 6 MB npz that took 12 GB: x_train inflates to 78 MB, y_train does not match."""
    x_bomb = deflate_repeat(npy_header((100_000, 28, 28), np.uint8), b"\0", 100_000 * 784)
    members = [("x_train.npy", x_bomb, 128 + 100_000 * 784), ("y_train.npy", npy_bytes(np.zeros(99_999, np.uint8))),
               *good_npz_members()[2:]]
    path = tmp_path / "mnist.npz"
    path.write_bytes(zip_archive(members))
    peak, message = measure(f"read_npz({str(path)!r})", "DataError", SETUP)
    assert "'y_train' has shape (99999,), expected (100000,)" in message and peak < 100, (peak, message)


def test_npz_members_that_lie_about_their_size_are_refused_unread(tmp_path):
    path = tmp_path / "mnist.npz"
    huge = deflate_repeat(npy_header((3_000_000, 28, 28), np.uint8), b"\0", 3_000_000 * 784)
    path.write_bytes(zip_archive([("x_train.npy", huge, 128 + 3_000_000 * 784), *good_npz_members()[1:]]))
    refused(lambda: read_npz(path), "'x_train' holds 3,000,000 images, more than the 100,000 accepted")
    bomb = deflate_repeat(npy_header((20, 28, 28), np.uint8), b"\0", 3_000_000_000)
    path.write_bytes(zip_archive([("x_train.npy", bomb, 128 + 3_000_000_000), *good_npz_members()[1:]]))
    peak, message = measure(f"read_npz({str(path)!r})", "DataError", SETUP)
    assert "holds 3.0 GB but its .npy header promises 15.8 KB" in message and peak < 100, (peak, message)
    float64 = deflate_repeat(npy_header((80_000, 784), np.float64), b"\0", 80_000 * 784 * 8)
    path.write_bytes(zip_archive([("x_train.npy", float64, 128 + 80_000 * 784 * 8), *good_npz_members()[1:]]))
    refused(lambda: read_npz(path), "'x_train' is 501.8 MB of float64 pixels, more than the 256.0 MB accepted")


def test_a_100_mb_csv_line_is_refused_after_16_kib(tmp_path):
    path = tmp_path / "digits.csv"
    with open(path, "wb") as f:
        for _ in range(50):
            f.write(b"0," * 1_000_000)
    assert path.stat().st_size == 100_000_000
    peak, message = measure(f"read_csv({str(path)!r})", "DataError", SETUP)
    assert message.endswith(f"line 1 is longer than {MAX_CSV_LINE // 1024} KiB (a row of a label and 784 pixels "
                            f"needs about 3 KiB)") and peak < 100, (peak, message)


def test_csv_gzip_bombs_stop_early(tmp_path):
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(gzip_bomb(b"", b"0,", 2_000_000_000))  # one 4 GB line
    refused(lambda: read_csv(path), "line 1 is longer than 16 KiB")
    path.write_bytes(gzip_bomb(b"", b"\n", 4_000_000_000))  # four billion empty lines
    started = time.perf_counter()
    refused(lambda: read_csv(path), "more than 110,000 lines")
    assert time.perf_counter() - started < 10


def run_with_deadline(call, seconds: float = 5):
    """Run ``call`` in a thread; fail if it is still running after ``seconds`` (a hang)."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the reader waited on a FIFO"
    return outcome


@pytest.mark.parametrize("name, call", [
    ("train-images-idx3-ubyte.gz", read_idx), ("digits.csv", read_csv), ("mnist.npz", read_npz),
    ("digits.csv", load_mnist), ("data", load_mnist),
])
def test_a_fifo_is_refused_at_once(tmp_path, name, call):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    outcome = run_with_deadline(lambda: call(fifo))
    assert isinstance(outcome.get("error"), DataError), outcome
    assert "\n" not in str(outcome["error"]) and ("FIFO" in str(outcome["error"]) or "not a regular file" in str(outcome["error"]))


def test_fifos_named_like_idx_files_in_a_folder_do_not_hang(tmp_path):
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        os.mkfifo(tmp_path / (stem + ".gz"))
    outcome = run_with_deadline(lambda: load_mnist(tmp_path))
    assert isinstance(outcome.get("error"), DataError) and "missing" in str(outcome["error"])


def test_a_device_is_refused(tmp_path):
    refused(lambda: read_idx("/dev/zero"), "is a device")
    refused(lambda: read_csv("/dev/zero"), "is a device")


def test_a_csv_of_fewer_than_ten_rows_is_refused(tmp_path):
    path = tmp_path / "digits.csv"
    path.write_text("\n".join(csv_rows(5)) + "\n")
    refused(lambda: load_mnist(path), "only 5 data rows; at least 10 are needed",
            "train (4/5) and test (1/5) parts both hold digits")
    path.write_text("\n".join(csv_rows(10)) + "\n")
    got = load_mnist(path)
    assert len(got.train) == 8 and len(got.test) == 2


def test_an_npz_whose_members_are_not_npy_is_one_line(tmp_path):
    path = tmp_path / "mnist.npz"
    members = [(name[:-4], content) for name, content in good_npz_members()]
    path.write_bytes(zip_archive(members))
    refused(lambda: read_npz(path), "member 'x_train' is not a .npy array")
    path.write_bytes(zip_archive([*good_npz_members(), ("README.txt", b"hello")]))
    refused(lambda: read_npz(path), "member 'README.txt' is not a .npy array")
    path.write_bytes(zip_archive([("x_train.npy", b"not numpy at all"), *good_npz_members()[1:]]))
    refused(lambda: read_npz(path), "member 'x_train.npy' is not a .npy array")


def test_a_good_npz_from_the_hand_made_zip_still_loads(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(zip_archive(good_npz_members()))
    train, test = read_npz(path)
    assert len(train) == 20 and len(test) == 5 and test.labels.tolist() == [0, 1, 2, 3, 4]


def tiny_idx_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, n in (("train", 6), ("t10k", 4)):
        (folder / f"{stem}-images-idx3-ubyte").write_bytes(idx_header(0x803, (n, 28, 28)) + bytes(n * 784))
        (folder / f"{stem}-labels-idx1-ubyte").write_bytes(idx_header(0x801, (n,)) + bytes(range(n)))
    return folder


def drop_file_override_capabilities():
    """In the child before exec: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding
    set, so that root obeys mode bits like anyone else (exit 77 if that is not allowed here)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(77)


def test_a_folder_without_read_permission_is_one_line(tmp_path):
    """The issue's case: root without its override capabilities, given a folder it may not read."""
    folder = tiny_idx_folder(tmp_path / "mnist")
    os.chmod(folder, 0o000)
    code = f"from core.data import *\ntry:\n    load_mnist({str(folder)!r})\nexcept DataError as e:\n    print(e)\n"
    try:
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": str(ROOT)},
                             preexec_fn=drop_file_override_capabilities if os.geteuid() == 0 else None)
    finally:
        os.chmod(folder, 0o755)
    if out.returncode == 77:
        pytest.skip("running as root and not allowed to drop CAP_DAC_OVERRIDE here")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-1500:]
    assert out.stdout.strip() == f"{folder}: cannot read the folder (Permission denied)", out.stdout


def test_idx_files_at_the_limit_are_still_accepted(tmp_path):
    """The limits leave MNIST's real sizes (60,000 + 10,000) well inside."""
    n = 60_000
    images = tmp_path / "i.gz"
    images.write_bytes(gzip.compress(idx_header(0x803, (n, 28, 28)) + bytes(n * 784), compresslevel=1))
    assert images.stat().st_size < MAX_IDX_FILE_BYTES
    labels = tmp_path / "l"
    labels.write_bytes(idx_header(0x801, (n,)) + bytes(n))
    assert len(read_idx_pair(images, labels, "train")) == n


def test_a_path_with_a_nul_byte_is_one_line():
    """Paths can arrive from a settings file; one holding a NUL byte cannot be opened at all."""
    for call in (lambda: load_mnist("mnist\x00.csv"), lambda: read_idx("i\x00"), lambda: read_csv("c\x00.csv"),
                 lambda: read_npz("n\x00.npz"), lambda: load_mnist("fashion", fashion_dir="f\x00")):
        refused(call)
