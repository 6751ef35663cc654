"""Issue 11, class 2: the model loader trusts nothing in the file.

Each example of the issue is built here in a temporary folder: a small file whose header claims a
100,000,000-neuron layer, a 3 MB file holding a 3 GB member, float64 weights that overflow float32,
object/int8/string dtypes, a deeply nested header, plus FIFOs, oversized files and directory
bombs. Only CheckpointError may escape, with one line naming the file; the worst cases run in a
fresh Python whose peak memory is measured. Then hypothesis throws random and mutated files at it.
"""
from __future__ import annotations

import io
import json
import os
import resource
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.checkpoint import MAX_MODEL_BYTES, CheckpointError, load_model, save_model
from core.network import Network
from hostile_files import deflate_repeat, measure, model_members, npy_bytes, npy_header, sparse_file, zip_archive


def header(sizes=(784, 5, 10), **network) -> dict:
    net = {"sizes": list(sizes), "activation": "sigmoid", "cost": "cross-entropy", "seed": 0, "dtype": "float32"}
    return {"format": "backprop-lens-model/1", "hyper": {}, "network": {**net, **network}}


def refused(path, *match) -> str:
    """Load ``path``, expect CheckpointError naming the file in one line; return its message."""
    with pytest.raises(CheckpointError) as error:
        load_model(path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message, message
    for text in match:
        assert text in message, message
    return message


def write(path, members) -> str:
    path.write_bytes(zip_archive(members))
    return str(path)


def replace(members, name, content) -> list:
    return [(n, content if n == name else c) for n, c in members]


# --------------------------------------------------------------------------- the examples


def test_header_claiming_a_100_million_neuron_layer_is_refused_before_building(tmp_path):
    path = write(tmp_path / "huge.npz", replace(model_members(), "header.npy",
                                                npy_bytes(np.array(json.dumps(header((784, 100_000_000, 10)))))))
    assert os.path.getsize(path) < 60_000
    refused(path, "layer sizes", "from 1 to 4096")
    peak, message = measure(f"load_model({path!r})", "CheckpointError", "from core.checkpoint import *")
    assert "layer sizes" in message and peak < 150, (peak, message)


def test_a_3_gb_member_in_a_3_mb_file_is_not_read(tmp_path):
    bomb = deflate_repeat(npy_header((750_000_000,), np.float32), b"\0", 3_000_000_000)
    path = tmp_path / "bomb.npz"
    path.write_bytes(zip_archive([*model_members(), ("junk.npy", bomb, 128 + 3_000_000_000)]))
    assert path.stat().st_size < 3_500_000
    refused(path, "unexpected 'junk.npy'")
    started = time.perf_counter()
    peak, message = measure(f"load_model({str(path)!r})", "CheckpointError", "from core.checkpoint import *")
    assert "junk.npy" in message and peak < 150 and time.perf_counter() - started < 20, (peak, message)


def test_an_expected_member_inflating_past_its_header_is_refused_unread(tmp_path):
    members = model_members()
    bomb = deflate_repeat(npy_header((5, 784), np.float32), b"\0", 3_000_000_000)
    path = tmp_path / "w0bomb.npz"
    path.write_bytes(zip_archive([(n, bomb, 128 + 3_000_000_000) if n == "W0.npy" else (n, c) for n, c in members]))
    refused(path, "W0.npy", "3.0 GB", "promises 15.8 KB")


def test_float64_weights_that_overflow_float32_are_refused(tmp_path):
    members = model_members()
    W1 = np.zeros((10, 5))
    W1[3, 2] = 1e300  # finite in float64, inf in the network's float32
    refused(write(tmp_path / "overflow.npz", replace(members, "W1.npy", npy_bytes(W1))),
            "W1", "too large for float32")
    W1[3, 2] = 1e30  # fits float32: accepted, as float32
    net, _ = load_model(write(tmp_path / "fits.npz", replace(members, "W1.npy", npy_bytes(W1))))
    assert net.W[1].dtype == np.float32 and net.W[1][3, 2] == np.float32(1e30)


@pytest.mark.parametrize("array, message", [
    (np.array([[{"evil": 1}] * 784] * 5, dtype=object), "pickled"),
    (np.ones((5, 784), np.int8), "W0 has dtype int8"),
    (np.full((5, 784), "abcde"), "W0 has dtype <U5"),
    (np.ones((5, 784), np.complex64), "W0 has dtype complex64"),
    (np.ones((5, 784), np.float16), "W0 has dtype float16"),
    (np.zeros(5 * 784, [("a", "f4")]).reshape(5, 784), "W0 has dtype"),
], ids=["object", "int8", "string", "complex", "float16", "structured"])
def test_dtypes_other_than_float32_and_float64_are_refused(tmp_path, array, message):
    path = tmp_path / "dtype.npz"
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    refused(write(path, replace(model_members(), "W0.npy", buffer.getvalue())), message)


def test_deeply_nested_header_is_one_line(tmp_path):
    deep = "[" * 20_000 + "]" * 20_000  # within the 65,536-character limit
    path = write(tmp_path / "deep.npz", replace(model_members(), "header.npy", npy_bytes(np.array(deep))))
    refused(path, "nested too deeply")
    nested_network = header()
    nested_network["hyper"] = json.loads("[" * 500 + "]" * 500)
    path = write(tmp_path / "list-hyper.npz", replace(model_members(), "header.npy",
                                                      npy_bytes(np.array(json.dumps(nested_network)))))
    refused(path, "hyper-parameters are not a JSON object")


# --------------------------------------------------------------------------- more ways to lie


def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    result = {}

    def load():
        try:
            load_model(fifo)
        except CheckpointError as e:
            result["message"] = str(e)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "load_model waited on a FIFO"
    assert "named pipe (FIFO)" in result["message"]


def test_devices_folders_and_oversized_files_are_refused_unread(tmp_path):
    refused("/dev/zero", "is a device")
    refused(tmp_path, "is a folder")
    big = sparse_file(tmp_path / "big.npz", MAX_MODEL_BYTES + 1, b"PK\x03\x04")
    refused(big, "201.0 MB, more than the 201.0 MB")


def test_a_directory_of_a_million_members_is_refused_from_the_end_record(tmp_path):
    path = tmp_path / "many.npz"
    # Only the end record: it claims 1,000,000 members in a 46 MB directory that is not there.
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100 + b"PK\x05\x06" + (0).to_bytes(4, "little")
                     + (65535).to_bytes(2, "little") * 2 + (46_000_000).to_bytes(4, "little") + bytes(6))
    refused(path, "zip archive of 65,535 members, at most 19 expected")


@pytest.mark.parametrize("change, message", [
    ({"sizes": [784, 5, 10, 10, 10, 10, 10, 10, 10, 10, 10]}, "are not 2 to 10 whole numbers"),
    ({"sizes": [784, 4096, 4096, 4096, 4096, 10]}, "parameters, more than the 50,000,000"),
    ({"sizes": [784, True, 10]}, "layer sizes"),
    ({"sizes": [784, 5.0, 10]}, "layer sizes"),
    ({"sizes": [5, 5, 3]}, "maps 5 inputs to 3 outputs; this needs 784 to 10"),
    ({"activation": "swish"}, "unknown activation 'swish'"),
    ({"cost": ["x"]}, "unknown cost"),
    ({"seed": -1}, "seed -1"),
    ({"seed": "abc"}, "seed abc"),
    ({"dtype": "int8"}, "dtype 'int8' is not float32 or float64"),
], ids=["layers", "parameters", "bool", "float", "ends", "activation", "cost", "seed", "seed-text", "dtype"])
def test_architectures_beyond_the_limits_are_refused(tmp_path, change, message):
    path = write(tmp_path / "arch.npz", replace(model_members(), "header.npy",
                                                npy_bytes(np.array(json.dumps(header(**change))))))
    refused(path, message)


def test_missing_and_extra_arrays_and_headers_that_are_not_text(tmp_path):
    members = model_members()
    refused(write(tmp_path / "missing.npz", [m for m in members if m[0] != "b1.npy"]), "b1 is missing")
    refused(write(tmp_path / "extra.npz", [*members, ("W2.npy", members[1][1])]), "unexpected 'W2.npy'")
    refused(write(tmp_path / "twice.npz", [*members, members[1]]), "duplicated")
    refused(write(tmp_path / "number.npz", replace(members, "header.npy", npy_bytes(np.array(3.0)))),
            "header is not a text")
    refused(write(tmp_path / "shape.npz", replace(members, "W0.npy", npy_bytes(np.zeros((784, 5), np.float32)))),
            "W0 has shape (784, 5), the architecture needs (5, 784)")


def test_a_member_shorter_than_its_header_promises(tmp_path):
    members = model_members()
    short = members[1][1][:-100]
    refused(write(tmp_path / "short.npz", replace(members, "W0.npy", short)), "W0.npy", "promises")


def test_a_good_model_still_loads_with_float64_weights(tmp_path):
    net = Network((784, 7, 10), "relu", "quadratic", seed=3, dtype=np.float64)
    loaded, hyper = load_model(save_model(tmp_path / "m.npz", net, {"lr": 0.1}))
    assert loaded.dtype == np.float64 and hyper == {"lr": 0.1}
    assert all(np.array_equal(a, b) for a, b in zip(loaded.W, net.W))


# --------------------------------------------------------------------------- fuzzing


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("model-fuzz")


@pytest.fixture(scope="module")
def valid_model() -> bytes:
    buffer = io.BytesIO()
    net = Network((784, 6, 10))
    arrays = {"header": np.array(json.dumps(header((784, 6, 10))))}
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def only_checkpoint_error(path):
    """Load; success or a one-line CheckpointError are fine, anything else fails the test."""
    try:
        return load_model(path)
    except CheckpointError as error:
        assert "\n" not in str(error) and str(path) in str(error)
        return None


@pytest.fixture(scope="module")
def memory_guard():
    """Peak memory of this process before the fuzzing; checked again after it."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"fuzzing the model loader grew the peak memory by {grown_mb:.0f} MB"


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY"]))
def test_fuzz_random_bytes(scratch, memory_guard, content, prefix):
    path = scratch / "random.npz"
    path.write_bytes(prefix + content)
    only_checkpoint_error(path)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, 200))
def test_fuzz_corrupted_valid_file(scratch, memory_guard, valid_model, edits, cut):
    data = bytearray(valid_model)
    for position, value in edits:
        data[position % len(data)] = value
    path = scratch / "corrupted.npz"
    path.write_bytes(bytes(data[: len(data) - cut]))
    result = only_checkpoint_error(path)
    if result is not None:
        net, _ = result
        assert net.sizes[0] == 784 and net.sizes[-1] == 10
        assert all(np.isfinite(W).all() and W.dtype == net.dtype for W in net.W)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@FUZZ
@given(field=st.sampled_from(["sizes", "activation", "cost", "seed", "dtype", "network", "format", "hyper"]),
       value=json_values | st.lists(st.integers(-5, 5000), max_size=12))
def test_fuzz_mutated_header(scratch, memory_guard, field, value):
    h = header((784, 6, 10))
    if field in ("network", "format", "hyper"):
        h[field] = value
    else:
        h["network"][field] = value
    members = replace(model_members((784, 6, 10)), "header.npy", npy_bytes(np.array(json.dumps(h))))
    path = scratch / "mutated-header.npz"
    path.write_bytes(zip_archive(members))
    result = only_checkpoint_error(path)
    if result is not None:
        assert result[0].sizes == (784, 6, 10)


@FUZZ
@given(name=st.sampled_from(["header.npy", "W0.npy", "b0.npy", "W1.npy", "b1.npy"]),
       shape=st.lists(st.integers(0, 5000) | st.integers(0, 2**62), max_size=3),
       dtype=st.sampled_from(["<f4", ">f8", "<i8", "|u1", "<U7", "|b1", "<c8", "|O", "<f2", "|V4"]),
       payload=st.binary(max_size=200))
def test_fuzz_mutated_array_headers(scratch, memory_guard, name, shape, dtype, payload):
    """A member whose .npy header claims any shape and dtype, followed by a few bytes."""
    members = replace(model_members((784, 6, 10)), name, npy_header(shape, dtype) + payload)
    path = scratch / "mutated-array.npz"
    path.write_bytes(zip_archive(members))
    only_checkpoint_error(path)


def test_a_path_with_a_nul_byte_is_one_line():
    with pytest.raises(CheckpointError, match="not a usable path"):
        load_model("model\x00.npz")
