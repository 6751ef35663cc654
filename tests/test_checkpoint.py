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


# --------------------------------------------------------------------------- .part files (issue 11, class 6)

import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from core.atomic import PART_SUFFIX, atomic_write, remove_stale_parts  # noqa: E402


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit, OSError])
def test_any_interruption_while_writing_removes_the_part_file(tmp_path, interruption):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    with pytest.raises(interruption):
        with atomic_write(target) as f:
            f.write(b"half of the new")
            assert [p.name.endswith(PART_SUFFIX) for p in tmp_path.iterdir()].count(True) == 1
            raise interruption()
    assert list(tmp_path.iterdir()) == [target] and target.read_bytes() == b"old"


def test_a_killed_save_leaves_a_part_file_that_the_next_start_removes(tmp_path):
    """SIGKILL (or SIGTERM without a handler) gives no chance to clean up; the next start does."""
    code = ("import os, signal, sys\nfrom core.atomic import atomic_write\n"
            f"with atomic_write({str(tmp_path / 'model.npz')!r}) as f:\n"
            "    f.write(b'x' * 1_000_000); f.flush(); os.kill(os.getpid(), signal.SIGKILL)\n")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == -signal.SIGKILL
    (left,) = tmp_path.iterdir()
    assert left.name.startswith("model.npz.") and left.name.endswith(PART_SUFFIX)
    assert remove_stale_parts(tmp_path) == []  # young: another instance may still be writing it
    old = time.time() - 120
    os.utime(left, (old, old))
    assert remove_stale_parts(tmp_path) == [left] and list(tmp_path.iterdir()) == []


def test_stale_part_clean_up_touches_only_our_own_old_files(tmp_path):
    ours_old, ours_new = tmp_path / f"m.npz.abc{PART_SUFFIX}", tmp_path / f"n.npz.def{PART_SUFFIX}"
    browsers = tmp_path / "film.mkv.part"  # another program's unfinished download
    folder = tmp_path / f"dir{PART_SUFFIX}"
    for path in (ours_old, ours_new, browsers):
        path.write_bytes(b"x")
    folder.mkdir()
    old = time.time() - 3600
    for path in (ours_old, browsers, folder):
        os.utime(path, (old, old))
    assert remove_stale_parts(tmp_path) == [ours_old]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([ours_new.name, browsers.name, folder.name])
    assert remove_stale_parts(tmp_path / "absent") == []


def test_loading_data_removes_a_stale_download_part_from_the_cache(tmp_path):
    from core.data import DataError, load_mnist
    cache = tmp_path / "cache"
    cache.mkdir()
    part = cache / f"train-images-idx3-ubyte.gz{PART_SUFFIX}"
    part.write_bytes(b"partial")
    old = time.time() - 120
    os.utime(part, (old, old))
    with pytest.raises(DataError):
        load_mnist(cache_dir=cache, download=False, offline=False)
    assert not part.exists()


def test_knocked_out_neurons_are_saved_and_loaded(tmp_path):
    net = Network((784, 12, 8, 10), seed=3)
    net.silence({0: [2, 5], 1: [7]})
    save_model(tmp_path / "cut.npz", net)
    loaded, _ = load_model(tmp_path / "cut.npz")
    assert {l: list(js) for l, js in loaded.silenced.items()} == {0: [2, 5], 1: [7]}
    x = np.random.default_rng(0).random((5, 784)).astype(np.float32)
    np.testing.assert_array_equal(loaded.forward(x).output, net.forward(x).output)
    whole = Network((784, 12, 10), seed=3)
    save_model(tmp_path / "whole.npz", whole)
    assert load_model(tmp_path / "whole.npz")[0].silenced == {}


@pytest.mark.parametrize("entry, words", [
    ({"0": [99]}, "do not fit"), ({"1": [0]}, "do not fit"), ({"x": [0]}, "do not fit"),
    ({"0": "2"}, "not a map"), ([1, 2], "not a map"), ({"0": [True]}, "not a map")])
def test_bad_knocked_out_neurons_are_refused_in_words(tmp_path, entry, words):
    import json
    import zipfile
    path = save_model(tmp_path / "m.npz", Network((784, 12, 10), seed=0))
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    header = json.loads(str(np.load(path)["header"]))
    header["silenced"] = entry
    import io
    buf = io.BytesIO()
    np.save(buf, np.array(json.dumps(header)))
    members["header.npy"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    with pytest.raises(CheckpointError, match=words):
        load_model(path)
