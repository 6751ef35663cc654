"""The trainer process's life cycle, headless: start, exact stepping, a crash, a kill, closing,
and nothing left behind (no process, no shared-memory segment, no warning)."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from core.worker_process import SharedArrays, recv_message, send_message
from snapshots import small_data

pytest.importorskip("pyqtgraph")
from gui.main_window import MainWindow  # noqa: E402
from gui.trainer_process import TrainerProcess, death_message  # noqa: E402
from test_window import window  # noqa: E402,F401  (the fixture)

ROOT = Path(__file__).resolve().parents[1]
LINUX = sys.platform.startswith("linux")


def shm_names() -> set:
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


def child_pids() -> set:
    """Processes whose parent is this one, but multiprocessing's resource tracker (one helper per
    process that uses ``spawn``; it ends with this process)."""
    from multiprocessing import resource_tracker
    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
    mine = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid() and int(entry) != tracker:
                mine.add(int(entry))
    return mine


def paused_at(qtbot, w, step):
    qtbot.waitUntil(lambda: w.last_snapshot.step == step and w.last_snapshot.status == "paused", timeout=10000)


def test_the_window_trains_in_another_process_and_steps_exactly(qtbot, window):
    w = window
    assert isinstance(w.worker, TrainerProcess) and w.worker.isRunning()
    child = w.worker.process.pid
    assert child != os.getpid() and child in child_pids()
    w.control.step(3)
    paused_at(qtbot, w, 3)
    assert w.worker.trainer.step_count == 3
    np.testing.assert_array_equal(w.last_snapshot.W[0], w.worker.trainer.net.W[0])   # the exact weights
    w.control.run()
    qtbot.waitUntil(lambda: w.last_snapshot.step > 30, timeout=10000)
    w.control.pause()
    qtbot.waitUntil(lambda: w.last_snapshot.status == "paused", timeout=5000)
    qtbot.wait(100)
    paused = w.last_snapshot.step
    assert w.worker.trainer.step_count == paused          # what the window shows is where it stopped
    w.control.step(1)
    paused_at(qtbot, w, paused + 1)
    np.testing.assert_array_equal(w.last_snapshot.W[1], w.worker.trainer.net.W[1])


def test_requests_and_replies_cross_the_pipe_in_order(qtbot, window):
    from core.control import MoveProbe, SetHyper
    w = window
    w.training.request(SetHyper(lr=0.3), MoveProbe(7))
    for _ in range(5):
        w.control.step(1)
    paused_at(qtbot, w, 5)
    assert w.worker.trainer.optimizer.lr == pytest.approx(0.3)
    assert w.last_snapshot.probe_index == 7
    with pytest.raises(RuntimeError, match="AttributeError"):
        w.worker.trainer.no_such_thing


def test_a_killed_trainer_reaches_the_window_which_stays_saves_and_resets(qtbot, window, tmp_path):
    w = window
    w.control.step(4)
    paused_at(qtbot, w, 4)
    with qtbot.waitSignal(w.training.failed, timeout=5000) as blocker:
        os.kill(w.worker.process.pid, signal.SIGKILL)
    assert "SIGKILL" in blocker.args[0] and "Reset" in blocker.args[0]
    qtbot.waitUntil(lambda: w.last_snapshot.status == "error", timeout=3000)
    assert w.worker.isFinished() and not w.control.running and w.isVisible()
    w.control.step(1)                                   # a dead trainer: commands go nowhere, no crash
    assert w.files.save_model(tmp_path / "kept.npz")    # the last good weights can still be saved
    w.controls.reset()                                  # a new trainer process
    qtbot.waitUntil(lambda: w.worker.isRunning() and w.last_snapshot.status == "paused"
                    and w.last_snapshot.step == 0, timeout=10000)
    w.control.step(2)
    paused_at(qtbot, w, 2)


def test_an_error_inside_the_trainer_ends_it_with_its_message(qtbot, window):
    w = window

    def out_of_memory():
        raise MemoryError("simulated: no room for the batch")
    w.worker.trainer.step = out_of_memory
    with qtbot.waitSignal(w.training.failed, timeout=5000) as blocker:
        w.control.step(1)
    assert "MemoryError" in blocker.args[0]
    qtbot.waitUntil(lambda: w.worker.exitcode is not None, timeout=5000)
    assert w.worker.exitcode == 0                       # it ended itself, cleanly


@pytest.mark.skipif(not LINUX, reason="reads /proc and /dev/shm")
@pytest.mark.parametrize("how", ["mid-step", "after a kill"])
def test_closing_ends_the_trainer_within_a_second_and_leaves_nothing(qtbot, how):
    shm_before, children_before = shm_names(), child_pids()
    w = MainWindow({"hidden": [16], "batch_size": 10}, data=small_data())
    w.show()
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=10000)
    # the data's segments (the trainer's, the analysis process's) are unlinked once mapped
    qtbot.waitUntil(lambda: shm_names() == shm_before, timeout=5000)
    w.control.step(10_000_000)
    qtbot.waitUntil(lambda: w.last_snapshot.step > 10, timeout=10000)
    worker = w.worker
    if how == "after a kill":
        os.kill(worker.process.pid, signal.SIGKILL)
        qtbot.waitUntil(worker.isFinished, timeout=5000)
    began = time.monotonic()
    w.close()
    assert time.monotonic() - began < 1.0
    assert worker.isFinished()
    assert child_pids() == children_before and shm_names() == shm_before


def test_a_trainer_that_will_not_stop_is_terminated(qtbot):
    data = small_data()
    worker = TrainerProcess(data, {"hidden": [8], "activation": "sigmoid", "cost": "cross-entropy", "seed": 0,
                                   "lr": 0.1, "momentum": 0.0, "batch_size": 10})
    worker.start()
    qtbot.waitUntil(lambda: not worker.mailbox.empty(), timeout=10000)
    os.kill(worker.process.pid, signal.SIGSTOP)         # frozen: it cannot read "stop"
    began = time.monotonic()
    assert worker.stop_and_wait(5000)
    assert time.monotonic() - began < 1.5 and worker.isFinished()


def test_no_warning_and_no_segment_after_the_app_exits():
    """A fresh interpreter opens the window, kills one trainer, resets, closes and exits: nothing
    on stderr (ResourceWarning, 'leaked shared_memory') and no segment left in /dev/shm."""
    script = textwrap.dedent("""
        import os, signal, sys, warnings
        warnings.simplefilter("always")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        sys.path[:0] = [{root!r}, {tests!r}]
        from types import SimpleNamespace
        from PyQt6.QtWidgets import QApplication
        from snapshots import synthetic_digits
        from gui.main_window import MainWindow
        app = QApplication([])
        data = SimpleNamespace(train=synthetic_digits(300, 0), test=synthetic_digits(100, 1),
                               source="synthetic", kind="synthetic")
        w = MainWindow({{"hidden": [8], "batch_size": 10}}, data=data)
        w.show()
        def until(ok, limit=20000):
            while not ok() and limit > 0:
                app.processEvents(); import time; time.sleep(0.01); limit -= 10
            assert ok()
        until(lambda: w.last_snapshot is not None)
        w.control.step(5)
        until(lambda: w.last_snapshot.step == 5)
        os.kill(w.worker.process.pid, signal.SIGKILL)
        until(lambda: w.worker.isFinished())
        w.controls.reset()
        until(lambda: w.worker.isRunning() and w.last_snapshot.step == 0 and w.last_snapshot.status == "paused")
        w.control.run()
        until(lambda: w.last_snapshot.step > 20)
        w.close()
        from PyQt6 import sip
        sip.delete(w)       # as gui.app.run_app does: widgets go while the application exists
        del w
        print("closed")
    """).format(root=str(ROOT), tests=str(ROOT / "tests"))
    before = shm_names()
    done = subprocess.run([sys.executable, "-X", "dev", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "closed" in done.stdout
    noise = [line for line in done.stderr.splitlines()
             if "ResourceWarning" in line or "leaked" in line or "Traceback" in line]
    assert not noise, done.stderr
    assert shm_names() <= before


def test_messages_carry_arrays_out_of_band_and_read_only():
    import multiprocessing
    import threading
    a, b = multiprocessing.Pipe()
    W = np.arange(12, dtype=np.float32).reshape(3, 4)
    send_message(a, ("snapshot", {"W": W}), threading.Lock())
    kind, got = recv_message(b)
    assert kind == "snapshot" and not got["W"].flags.writeable
    np.testing.assert_array_equal(got["W"], W)
    a.close()
    b.close()


def test_shared_arrays_round_trip_without_a_copy():
    arrays = {"x": np.arange(10, dtype=np.float32), "y": np.arange(6, dtype=np.int64).reshape(2, 3)}
    shm, spec = SharedArrays.create(arrays)
    try:
        mapped, views = spec.attach()
        np.testing.assert_array_equal(views["y"], arrays["y"])
        assert not views["x"].flags.writeable and views["x"].ctypes.data % 64 == 0
        del views
        mapped.close()
    finally:
        shm.close()
        shm.unlink()


def test_death_messages_say_what_happened():
    assert "SIGKILL" in death_message(-9) and "memory" in death_message(-9)
    assert "exit code 3" in death_message(3)


def test_the_thread_backend_still_steps_exactly(qtbot, monkeypatch):
    """BACKPROP_LENS_BACKEND=thread keeps the old way (a thread of this process) for comparison."""
    from gui.training_thread import TrainingThread
    monkeypatch.setenv("BACKPROP_LENS_BACKEND", "thread")
    w = MainWindow({"hidden": [16], "batch_size": 10}, data=small_data())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    assert isinstance(w.worker, TrainingThread) and w.training.backend == "thread"
    for _ in range(7):
        w.control.step(1)
    paused_at(qtbot, w, 7)
    assert w.worker.trainer.step_count == 7
    w.close()


def test_an_unknown_backend_is_named(qtbot):
    from core.settings import Settings
    from gui.training import Training
    with pytest.raises(ValueError, match="unknown training backend 'gpu'"):
        Training(Settings(), backend="gpu")
