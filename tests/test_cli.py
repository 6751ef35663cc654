"""`python main.py train`: JSON per epoch, reproducible, clear exit codes for bad data and divergence."""
import json
import subprocess
import sys
from pathlib import Path


import main

ROOT = Path(__file__).resolve().parents[1]


def run_train(capsys, *args):
    code = main.main(["train", "--no-progress", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_per_epoch_is_reproducible(capsys, mnist_dir, tmp_path):
    args = ("--data", mnist_dir, "--hidden", 20, "--epochs", 2, "--json", "--seed", 3)
    code, out, _ = run_train(capsys, *args, "--save", tmp_path / "m.npz")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    for key in ("epoch", "train_cost", "test_cost", "test_accuracy", "seconds", "samples_per_second"):
        assert key in lines[0]
    assert lines[1]["test_accuracy"] > 0.85
    assert (tmp_path / "m.npz").exists()
    _, again, _ = run_train(capsys, *args)
    strip = lambda rs: [{k: v for k, v in json.loads(r).items() if k not in ("seconds", "samples_per_second")}
                        for r in rs.splitlines()]
    assert strip(again) == strip(out)


def test_missing_data_path_is_one_line_and_exit_2(capsys, tmp_path):
    code, out, err = run_train(capsys, "--data", tmp_path / "nowhere")
    assert code == main.EXIT_DATA
    assert err.strip().startswith("error:") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_corrupt_file_is_exit_2(capsys, tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"this is not an npz file")
    code, _, err = run_train(capsys, "--data", bad)
    assert code == main.EXIT_DATA and "Traceback" not in err


def test_huge_learning_rate_stops_with_exit_3(capsys, mnist_dir):
    code, _, err = run_train(capsys, "--data", mnist_dir, "--lr", 50, "--momentum", 0, "--epochs", 1)
    assert code == main.EXIT_DIVERGED
    assert "diverged" in err and "--lr" in err


def test_cli_runs_as_a_program(mnist_dir):
    result = subprocess.run([sys.executable, "main.py", "train", "--data", str(mnist_dir), "--hidden", "10",
                             "--epochs", "1", "--json", "--no-progress"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["epoch"] == 1
    assert "data: MNIST from" in result.stderr
