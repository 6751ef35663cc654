"""Entry points as programs: `python main.py` runs main.py once, a scripted window run ends with one
line and a code when training stops early, Ctrl+C and SIGTERM close the window without a traceback."""
import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli_hostile import small_npz  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def run(*args, timeout=120, **kwargs):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def error_lines(stderr: str) -> list:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_gui_app_does_not_import_main():
    tree = ast.parse((ROOT / "gui" / "app.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "main" not in imported


def test_python_main_py_runs_main_py_once(tmp_path, small_npz):
    """Run main.py as `python main.py` does (as __main__), through the window; a second execution
    would show up as a module called `main`."""
    script = ("import runpy, sys\n"
              f"sys.argv = ['main.py', '--data', {str(small_npz)!r}, '--hidden', '8', '--steps', '5',"
              f" '--screenshot', {str(tmp_path / 'w.png')!r}]\n"
              "try:\n    runpy.run_path('main.py', run_name='__main__')\n"
              "except SystemExit as e:\n    code = e.code\n"
              "print(code, 'main' in sys.modules, 'gui.app' in sys.modules)\n")
    result = run("-c", script)
    assert result.stdout.split() == ["0", "False", "True"], result.stderr
    assert (tmp_path / "w.png").stat().st_size > 10_000


def test_a_scripted_run_that_diverges_exits_3_with_one_line(tmp_path, mnist_dir):
    result = run("main.py", "--data", mnist_dir, "--lr", 50, "--momentum", 0, "--steps", 300,
                 "--screenshot", tmp_path / "w.png")
    assert result.returncode == 3
    assert len(error_lines(result.stderr)) == 1 and "diverged" in result.stderr
    assert not (tmp_path / "w.png").exists()


def test_a_scripted_run_with_bad_data_exits_2_before_the_window(tmp_path):
    result = run("main.py", "--data", tmp_path / "nowhere", "--steps", 10, timeout=60)
    assert result.returncode == 2
    assert len(error_lines(result.stderr)) == 1 and result.stderr.strip().startswith("error:")


@pytest.mark.parametrize("flags", [["--hidden", "0"], ["--seed", "-1"], ["--hidden", "100000000"],
                                   ["--lr", "50", "--momentum", "1.5"]])
def test_a_bad_flag_exits_2_before_the_window(flags):
    result = run("main.py", "--steps", 10, *flags, timeout=60)
    assert result.returncode == 2 and len(error_lines(result.stderr)) == 1
    assert result.stderr.count("\n") == 1


def test_an_unwritable_screenshot_exits_2_before_the_window(tmp_path):
    result = run("main.py", "--steps", 10, "--screenshot", tmp_path / "no" / "w.png", timeout=60)
    assert result.returncode == 2 and "cannot save to" in error_lines(result.stderr)[0]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_closes_a_training_window_cleanly(tmp_path, small_npz, signum, code):
    proc = subprocess.Popen([sys.executable, "main.py", "--data", str(small_npz), "--hidden", "32",
                             "--steps", "100000000"], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not proc.stderr.readline().startswith("data:"):
            assert proc.poll() is None, proc.stderr.read()
        time.sleep(2.0)                       # the window is up and training
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err and "closing the window" in err


def test_ctrl_c_in_a_terminal_reaches_the_whole_process_group_calmly(small_npz):
    """A terminal's Ctrl+C goes to every process of the foreground group, the trainer process too."""
    proc = subprocess.Popen([sys.executable, "main.py", "--data", str(small_npz), "--hidden", "32",
                             "--steps", "100000000"], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not proc.stderr.readline().startswith("data:"):
            assert proc.poll() is None, proc.stderr.read()
        time.sleep(2.0)
        os.killpg(proc.pid, signal.SIGINT)    # as the terminal does: the group, not one process
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "error:" not in err


def test_a_big_network_s_window_exits_cleanly(tmp_path, small_npz):
    """A window with 1,024 hidden neurons crashed (SIGSEGV) in Python's exit, after its work was done:
    Qt objects were freed after the application. run_app now frees the window first."""
    out = tmp_path / "w.png"
    result = run("main.py", "--data", small_npz, "--hidden", "1024", "--batch-size", "64", "--steps", "3",
                 "--screenshot", out)
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.stat().st_size > 10_000
