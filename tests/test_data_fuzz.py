"""Fuzzing core.data's readers: whatever bytes they are fed, only DataError may escape.

Each property writes its input to a file in a per-module folder (hypothesis does not mix well with
function-scoped fixtures) and keeps max_examples modest so the suite stays quick.
"""
from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import DataError, read_csv, read_idx, read_idx_pair, read_npz

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def idx_header(magic: int, dims) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)


def valid_idx(count: int = 3) -> bytes:
    return idx_header(0x803, (count, 28, 28)) + bytes(range(256)) * 9 + bytes(count * 784 - 2304)


def valid_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        x_train=np.arange(2 * 784, dtype=np.uint8).reshape(2, 28, 28), y_train=np.array([1, 2], np.uint8),
        x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.array([3], np.uint8),
    )
    return buffer.getvalue()


def mutate(data: bytes, edits) -> bytes:
    """Overwrite bytes at (position, value) pairs; positions wrap around the data."""
    out = bytearray(data)
    for position, value in edits:
        out[position % len(out)] = value
    return bytes(out)


def expect_only_data_error(reader, path, *args):
    """Run a reader; returning is fine, DataError is fine, anything else fails the test."""
    try:
        return reader(path, *args)
    except DataError as error:
        assert "\n" not in str(error) and str(error)
        return None


edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=6)


# --------------------------------------------------------------------------- IDX


@FUZZ
@given(st.binary(max_size=2000))
def test_read_idx_random_bytes(scratch, content):
    path = scratch / "random.idx"
    path.write_bytes(content)
    expect_only_data_error(read_idx, path)


@FUZZ
@given(
    magic=st.sampled_from([0x801, 0x803, 0x802, 0x808, 0x1F8B0803]) | st.integers(0, 2**32 - 1),
    dims=st.lists(st.integers(0, 40) | st.integers(0, 2**32 - 1), min_size=0, max_size=4),
    extra=st.integers(-20, 20),
)
def test_read_idx_mutated_headers(scratch, magic, dims, extra):
    wanted = int(np.prod(dims, dtype=object)) if dims else 0
    size = max(0, min(wanted, 50_000) + extra)
    path = scratch / "header.idx"
    path.write_bytes(idx_header(magic, dims) + bytes(size))
    content = path.read_bytes()
    array = expect_only_data_error(read_idx, path)
    if array is not None:  # success only for a known magic whose header accounts for every byte
        assert magic in (0x801, 0x803) and array.dtype == np.uint8 and array.ndim == magic & 0xFF
        assert 4 + 4 * array.ndim + array.size == len(content)


@FUZZ
@given(st.binary(max_size=2000), st.booleans())
def test_read_idx_gzip_wrapped_random_bytes(scratch, content, with_header):
    payload = (idx_header(0x803, (1, 28, 28)) + content) if with_header else content
    path = scratch / "random.gz"
    path.write_bytes(gzip.compress(payload))
    expect_only_data_error(read_idx, path)


@FUZZ
@given(edits, st.integers(0, 4000))
def test_read_idx_damaged_gzip(scratch, changes, cut):
    packed = gzip.compress(valid_idx())
    path = scratch / "damaged.gz"
    path.write_bytes(mutate(packed, changes)[: max(1, len(packed) - cut)])
    expect_only_data_error(read_idx, path)


@FUZZ
@given(st.binary(max_size=600), st.binary(max_size=600))
def test_read_idx_pair_random_files(scratch, images, labels):
    (scratch / "pair-i").write_bytes(idx_header(0x803, (1, 28, 28)) + images)
    (scratch / "pair-l").write_bytes(idx_header(0x801, (1,)) + labels)
    try:
        read_idx_pair(scratch / "pair-i", scratch / "pair-l", "train")
    except DataError:
        pass


# --------------------------------------------------------------------------- npz


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY"]))
def test_read_npz_random_bytes(scratch, content, prefix):
    path = scratch / "random.npz"
    path.write_bytes(prefix + content)
    expect_only_data_error(read_npz, path)


@FUZZ
@given(edits)
def test_read_npz_damaged_archive(scratch, changes):
    path = scratch / "damaged.npz"
    path.write_bytes(mutate(valid_npz(), changes))
    result = expect_only_data_error(read_npz, path)
    if result is not None:
        train, test = result
        assert train.images.shape[1] == 784 and 0 <= train.images.min() <= train.images.max() <= 1
        assert set(train.labels.tolist()) <= set(range(10))


@FUZZ
@given(st.dictionaries(st.sampled_from(["x_train", "y_train", "x_test", "y_test", "other"]),
                       st.binary(max_size=200), max_size=5))
def test_read_npz_zip_of_random_members(scratch, members):
    path = scratch / "members.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name + ".npy", b"\x93NUMPY" + content)
    expect_only_data_error(read_npz, path)


# --------------------------------------------------------------------------- CSV


@FUZZ
@given(st.text(max_size=3000))
def test_read_csv_random_text(scratch, text):
    path = scratch / "random.csv"
    path.write_text(text, encoding="utf-8")
    expect_only_data_error(read_csv, path)


cells = st.sampled_from(["0", "9", "255", "256", "-1", "3.5", "nan", "inf", "1e3", "", " 7 ", "x", "0x10", "1_0"])


@FUZZ
@given(st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=5), st.integers(0, 784))
def test_read_csv_almost_valid_rows(scratch, patches, column):
    """Full-width rows with a few odd cells dropped in: either parsed correctly or DataError."""
    rows = []
    for i, patch in enumerate(patches):
        fields = [str(i % 10)] + ["0"] * 784
        fields[column : column + len(patch)] = patch
        rows.append(",".join(fields))
    path = scratch / "rows.csv"
    path.write_text("\n".join(rows))
    result = expect_only_data_error(read_csv, path)
    if result is not None:
        assert result.images.shape == (len(rows), 784)
        assert 0 <= result.images.min() and result.images.max() <= 1
        assert set(result.labels.tolist()) <= set(range(10))


@FUZZ
@given(key=st.sampled_from(["x_train", "y_train", "x_test", "y_test"]),
       shape=st.lists(st.integers(0, 100) | st.sampled_from([28, 784, 100_000, 100_001]) | st.integers(0, 2**62),
                      max_size=3),
       dtype=st.sampled_from(["|u1", "<i8", ">u2", "<f4", ">f8", "|b1", "<U7", "|O", "<c8", "|V4"]),
       payload=st.binary(max_size=300))
def test_read_npz_members_whose_npy_headers_lie(scratch, key, shape, dtype, payload):
    """A member whose .npy header claims any shape and dtype, then a few bytes: the claim is
    checked before anything of its size is allocated."""
    arrays = {"x_train": np.zeros((2, 28, 28), np.uint8), "y_train": np.array([1, 2], np.uint8),
              "x_test": np.zeros((1, 784), np.uint8), "y_test": np.array([3], np.uint8)}
    path = scratch / "lying.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            if name == key:
                np.lib.format.write_array_header_1_0(buffer, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                              "fortran_order": False, "shape": tuple(shape)})
                buffer.write(payload)
            else:
                np.lib.format.write_array(buffer, array)
            archive.writestr(name + ".npy", buffer.getvalue())
    expect_only_data_error(read_npz, path)
