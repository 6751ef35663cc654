"""The CLI as a hostile user drives it: bad flags, unwritable targets, Ctrl+C and SIGTERM, NaN in JSON,
and the train --load / evaluate commands. Every refusal is one line and the right exit code."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import main
from snapshots import synthetic_digits

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory) -> Path:
    """A Keras-style mnist.npz of 600 + 100 learnable synthetic digits: a CLI run takes a second."""
    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    train, test = synthetic_digits(600, 0), synthetic_digits(100, 1)
    as_bytes = lambda d: (np.asarray(d.images).reshape(-1, 28, 28) * 255).astype(np.uint8)  # noqa: E731
    np.savez(path, x_train=as_bytes(train), y_train=train.labels.astype(np.uint8),
             x_test=as_bytes(test), y_test=test.labels.astype(np.uint8))
    return path


def run_main(capsys, *args):
    code = main.main([*map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# --- flags --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flags, message", [
    (["--seed", "-1"], "--seed must be a whole number from 0 to 2147483647, not -1"),
    (["--hidden", "100000000"], "--hidden must be a list of layer sizes"),
    (["--hidden", "0"], "--hidden must be a list of layer sizes"),
    (["--hidden", *["5"] * 9], "1 to 8 layers"),
    (["--lr", "nan"], "--lr must be a finite number (positive and at most 1000), not nan"),
    (["--lr", "inf"], "--lr must be a finite number"),
    (["--lr", "1e400"], "--lr must be a finite number"),
    (["--lr", "-1"], "--lr must be positive and at most 1000, not -1.0"),
    (["--l2", "-5"], "--l2 must be 0 or more and at most 10, not -5.0"),
    (["--momentum", "nan"], "--momentum must be a finite number"),
    (["--momentum", "1.5"], "--momentum must be at least 0 and below 1, not 1.5"),
    (["--batch-size", "0"], "--batch-size must be a whole number from 1 to 60000, not 0"),
    (["--hidden", "512", "512", "--batch-size", "60000"], "--batch-size × hidden neurons must be at most"),
    (["--activation", "swish"], "--activation must be one of sigmoid, tanh, relu"),
    (["--cost", "mse"], "--cost must be one of quadratic, cross-entropy"),
    (["--lr", "abc"], "argument --lr: invalid float value: 'abc'"),
    (["--epochs", "0"], "--epochs must be a whole number from 1 to 100000, not 0"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
])
def test_bad_flags_exit_2_with_one_line_before_reading_data(capsys, tmp_path, flags, message):
    code, out, err = run_main(capsys, "train", "--no-progress", "--data", tmp_path / "nowhere", *flags)
    assert code == main.EXIT_DATA and out == ""
    assert message in one_error_line(err)


@pytest.mark.parametrize("flags", [["--hidden", "0"], ["--seed", "-1"], ["--hidden", "100000000"],
                                   ["--lr", "nan"], ["--steps", "-5"]])
def test_bad_flags_for_the_window_exit_2_before_it_opens(capsys, flags):
    code, _, err = run_main(capsys, "--steps", "3", *flags)
    assert code == main.EXIT_DATA
    one_error_line(err)


def test_the_window_gets_only_the_flags_typed(monkeypatch):
    args = main.build_parser().parse_args(["--lr", "0.5"])
    assert main.settings_from_args(args, only_given=True) == {"lr": 0.5}
    args = main.build_parser().parse_args(["--cost", "quadratic"])
    assert main.settings_from_args(args, only_given=True) == {
        "cost": "quadratic", "lr": 1.5, "momentum": 0.0, "batch_size": 10}
    assert main.settings_from_args(main.build_parser().parse_args([]))["hidden"] == [100]


def test_activation_choices_come_from_the_registry(monkeypatch, capsys):
    import core.activations
    class Swish(core.activations.Activation):
        name = "swish"
    monkeypatch.setitem(core.activations.ACTIVATIONS, "swish", Swish)
    args = main.build_parser().parse_args(["--activation", "swish"])
    assert main.settings_from_args(args)["activation"] == "swish"
    assert main.main(["train", "--help"]) == 0 and "swish" in capsys.readouterr().out


# --- the save target is checked before anything slow -----------------------------------------------
@pytest.mark.parametrize("target, message", [
    ("missing/m.npz", "the folder"),
    (".", "it is a folder"),
    ("afile/m.npz", "does not exist"),
])
def test_an_unwritable_save_target_is_refused_before_loading_data(capsys, tmp_path, target, message):
    (tmp_path / "afile").write_text("x")
    code, _, err = run_main(capsys, "train", "--no-progress", "--data", tmp_path / "nowhere",
                            "--save", tmp_path / target)
    assert code == main.EXIT_DATA
    line = one_error_line(err)
    assert "cannot save to" in line and message in line and "nowhere" not in err


def test_a_fifo_save_target_is_refused(capsys, tmp_path):
    os.mkfifo(tmp_path / "m.npz")
    code, _, err = run_main(capsys, "train", "--data", tmp_path / "nowhere", "--save", tmp_path / "m.npz")
    assert code == main.EXIT_DATA and "not a regular file" in one_error_line(err)


def test_a_read_only_folder_is_refused(capsys, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK) and os.geteuid() == 0:
            pytest.skip("running as root: a read-only folder is still writable")
        code, _, err = run_main(capsys, "train", "--data", tmp_path / "nowhere", "--save", folder / "m.npz")
        assert code == main.EXIT_DATA and "Permission denied" in one_error_line(err)
    finally:
        folder.chmod(0o700)


# --- Ctrl+C and SIGTERM -----------------------------------------------------------------------------
def test_ctrl_c_while_loading_is_one_line_and_130(capsys, monkeypatch, tmp_path):
    import core.data

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(core.data, "load_mnist", interrupted)
    code, _, err = run_main(capsys, "train", "--no-progress", "--save", tmp_path / "m.npz")
    assert code == main.EXIT_INTERRUPTED and err.strip() == "interrupted"
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_saving_leaves_nothing_half_written(capsys, monkeypatch, tmp_path, small_npz):
    def savez_then_interrupt(f, **arrays):
        f.write(b"x" * 100_000)               # part of the file is out when Ctrl+C comes
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez", savez_then_interrupt)
    code, _, err = run_main(capsys, "train", "--no-progress", "--data", small_npz, "--hidden", 8,
                            "--epochs", 1, "--save", tmp_path / "m.npz")
    assert code == main.EXIT_INTERRUPTED and err.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []


def test_signal_handlers_are_given_back(capsys):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    main.main(["train", "--lr", "-1"])
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def start_training(tmp_path, data, *extra):
    """A CLI training run in a subprocess; returns it once its first epoch has begun."""
    proc = subprocess.Popen([sys.executable, "main.py", "train", "--data", str(data), "--hidden", "64",
                             "--epochs", "100000", "--no-progress", "--json", *map(str, extra)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:       # the net's line comes right before the first step
        line = proc.stderr.readline()
        lines.append(line)
        if line.startswith("Network("):
            time.sleep(0.5)
            return proc, lines
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"training did not start: {''.join(lines)}")


@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGTERM, 143, "terminated")])
def test_a_signal_during_training_ends_with_one_line(tmp_path, small_npz, signum, code, word):
    proc, _ = start_training(tmp_path, small_npz, "--save", tmp_path / "m.npz")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code
    assert err.strip() == word and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []     # no model, no .part


# --- JSON never holds a bare NaN ------------------------------------------------------------------------
def test_non_finite_figures_are_null_in_json(capsys):
    from core.snapshot import EpochRecord
    record = EpochRecord(1, 10, float("nan"), float("inf"), float("nan"))
    main._report(record, 0.0, 100, True)
    out = capsys.readouterr().out
    figures = json.loads(out, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))
    assert figures["train_cost"] is None and figures["test_cost"] is None and figures["test_accuracy"] is None


# --- train --load and evaluate ------------------------------------------------------------------------
def test_train_on_a_saved_model_and_evaluate_it(capsys, tmp_path, small_npz):
    model = tmp_path / "m.npz"
    code, out, _ = run_main(capsys, "train", "--no-progress", "--data", small_npz, "--hidden", 12,
                            "--epochs", 2, "--json", "--lr", 0.5, "--save", model)
    assert code == 0 and model.exists()
    first = [json.loads(line) for line in out.splitlines()]
    code, out, err = run_main(capsys, "train", "--no-progress", "--data", small_npz, "--load", model,
                              "--hidden", 3, "--epochs", 1, "--json", "--save", model)
    assert code == 0, err
    assert "architecture wins" in err and "784, 12, 10" in err
    again = json.loads(out.splitlines()[-1])
    assert again["test_accuracy"] >= first[-1]["test_accuracy"] - 0.05    # it went on, not from scratch
    from core.checkpoint import load_model
    net, hyper = load_model(model)
    assert net.sizes == (784, 12, 10) and hyper["lr"] == 0.5              # the saved η was kept

    code, out, err = run_main(capsys, "evaluate", "--load", model, "--data", small_npz, "--json")
    assert code == 0, err
    report = json.loads(out)
    cm = np.array(report["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == report["n"] == 100
    assert report["test_accuracy"] == pytest.approx(np.trace(cm) / 100)
    assert report["test_cost"] > 0
    code, out, _ = run_main(capsys, "evaluate", "--load", model, "--data", small_npz)
    assert code == 0 and "accuracy" in out and len(out.strip().splitlines()) == 12
    assert out.splitlines()[1].startswith("true\\pred")


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_bad_model_file_is_one_line(capsys, tmp_path, small_npz, command):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    code, _, err = run_main(capsys, command, "--no-progress", "--data", small_npz, "--load", bad)
    assert code == main.EXIT_DATA and str(bad) in one_error_line(err)
    code, _, err = run_main(capsys, command, "--no-progress", "--data", small_npz, "--load", tmp_path / "none.npz")
    assert code == main.EXIT_DATA
    one_error_line(err)


def test_evaluate_needs_a_model(capsys):
    code, _, err = run_main(capsys, "evaluate")
    assert code == main.EXIT_DATA and "--load" in one_error_line(err)


def test_a_model_that_does_not_fit_the_data_is_refused(capsys, tmp_path, small_npz):
    from core.checkpoint import save_model
    from core.network import Network
    save_model(tmp_path / "small.npz", Network([100, 5, 10]))
    code, _, err = run_main(capsys, "evaluate", "--no-progress", "--load", tmp_path / "small.npz",
                            "--data", small_npz)
    lines = [line for line in err.splitlines() if not line.startswith("data: ")]
    assert code == main.EXIT_DATA and "100 inputs" in one_error_line("\n".join(lines))


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_saved_model_wider_than_the_settings_allow_is_refused(capsys, tmp_path, small_npz, command):
    from core.checkpoint import save_model
    from core.network import Network
    save_model(tmp_path / "wide.npz", Network([784, 1000, 100, 10]))
    code, _, err = run_main(capsys, command, "--no-progress", "--data", small_npz, "--load", tmp_path / "wide.npz")
    lines = [line for line in err.splitlines() if not line.startswith("model: ")]
    assert code == main.EXIT_DATA and "at most 1024 neurons in all" in one_error_line("\n".join(lines))
