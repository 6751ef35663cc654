"""Models survive a save/load round trip; anything else is refused with a clear message."""
import numpy as np
import pytest

from core.checkpoint import CheckpointError, load_model, save_model
from core.network import Network


def test_round_trip_keeps_architecture_weights_and_hyper(tmp_path):
    net = Network((784, 30, 20, 10), "tanh", "quadratic", seed=5)
    path = save_model(tmp_path / "m.npz", net, {"lr": 0.3})
    loaded, hyper = load_model(path)
    assert loaded.sizes == net.sizes and loaded.activation.name == "tanh" and loaded.cost.name == "quadratic"
    assert hyper == {"lr": 0.3}
    X = np.random.default_rng(0).random((7, 784)).astype(np.float32)
    np.testing.assert_array_equal(loaded.output(X), net.output(X))
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_saving_over_a_file_that_fails_midway_keeps_the_old_one(tmp_path, monkeypatch):
    path = save_model(tmp_path / "m.npz", Network((784, 5, 10)))
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError):
        save_model(path, Network((784, 6, 10)))
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", b"PK\x03\x04broken"])
def test_garbage_is_refused(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="bad.npz"):
        load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_model(tmp_path / "nope.npz")


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "pickle.npz"
    np.savez(path, header=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(CheckpointError, match="pickled"):
        load_model(path)


def test_wrong_shapes_and_non_finite_values_are_refused(tmp_path):
    path = save_model(tmp_path / "m.npz", Network((784, 5, 10)))
    with np.load(path) as npz:
        arrays = dict(npz)
    np.savez(tmp_path / "shape.npz", **{**arrays, "W0": np.zeros((4, 784), np.float32)})
    with pytest.raises(CheckpointError, match="shape"):
        load_model(tmp_path / "shape.npz")
    bad = arrays["W1"].copy()
    bad[0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", **{**arrays, "W1": bad})
    with pytest.raises(CheckpointError, match="finite"):
        load_model(tmp_path / "nan.npz")
    np.savez(tmp_path / "plain.npz", W0=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a Backprop Lens model"):
        load_model(tmp_path / "plain.npz")
