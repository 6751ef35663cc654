"""The window takes bad files, absurd learning rates, crashes and impatient clicks calmly."""
import time

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from core.checkpoint import save_model
from core.network import Network
from gui.main_window import MainWindow
from gui.notices import Notices
from gui.session import Session
from snapshots import small_data


def open_window(qtbot, settings=None, session=None, data=None):
    settings = {"hidden": [16], "batch_size": 10} if settings is None else settings
    w = MainWindow(settings, data=data or small_data(), session=session)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    return w


def paused_at(qtbot, w, step):
    qtbot.waitUntil(lambda: w.last_snapshot.step == step and w.last_snapshot.status == "paused", timeout=10000)


def test_bad_data_folder_says_so_and_keeps_training_data(qtbot, tmp_path):
    w = open_window(qtbot)
    worker, data = w.worker, w.training.data
    w.load_data(tmp_path)                       # a folder without the files
    qtbot.waitUntil(lambda: w.message_box is not None and w.message_box.isVisible(), timeout=5000)
    assert "Training goes on" in w.message_box.text()
    assert w.worker is worker and w.training.data is data and worker.isRunning()
    w.control.step(2)
    paused_at(qtbot, w, 2)
    w.close()


def test_divergence_pauses_says_why_and_offers_a_lower_rate(qtbot):
    w = open_window(qtbot, {"hidden": [16], "lr": 200.0, "momentum": 0.0, "cost": "cross-entropy"})
    w.worker.trainer.net.W[1][0, 0] = np.inf   # what a runaway rate does, without waiting for it
    w.control.run()
    qtbot.waitUntil(lambda: w.last_snapshot.status == "diverged", timeout=20000)
    assert not w.control.running
    assert "step" in w.last_snapshot.message and "diverged" in w.message_box.text()
    lower = next(b for b in w.message_box.buttons() if "Lower" in b.text())
    lower.click()
    qtbot.waitUntil(lambda: w.worker.trainer.optimizer.lr == pytest.approx(20.0), timeout=3000)
    w.close()


def test_panels_draw_a_network_full_of_nan(qtbot):
    w = open_window(qtbot)
    w.worker.trainer.net.W[0][:] = np.nan
    w.control.step(1)
    qtbot.waitUntil(lambda: w.last_snapshot.step == 1, timeout=5000)
    assert w.view.last_good.step == 0     # the NaN network is not "good"
    w.close()


def test_loading_a_broken_model_changes_nothing(qtbot, tmp_path):
    w = open_window(qtbot)
    before = w.worker.trainer.net.W[0].copy()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert not w.files.load_model(bad)
    assert "unchanged" in w.message_box.text()
    wrong = tmp_path / "wrong.npz"
    save_model(wrong, Network((100, 5, 3)))
    assert not w.files.load_model(wrong)
    qtbot.wait(100)
    np.testing.assert_array_equal(w.worker.trainer.net.W[0], before)
    w.close()


def test_loading_a_model_replaces_the_network(qtbot, tmp_path):
    w = open_window(qtbot)
    path = tmp_path / "m.npz"
    model = Network((784, 12, 10), "tanh", seed=9)
    save_model(path, model)
    assert w.files.load_model(path)
    qtbot.waitUntil(lambda: w.last_snapshot.sizes == (784, 12, 10), timeout=5000)
    np.testing.assert_array_equal(w.last_snapshot.W[0], model.W[0])
    w.close()


def test_a_crash_in_the_worker_reaches_the_window_and_weights_stay_savable(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot)
    w.control.step(3)
    paused_at(qtbot, w, 3)

    def broken():
        raise RuntimeError("simulated fault")
    monkeypatch.setattr(w.worker.trainer, "step", broken)
    w.control.step(1)
    qtbot.waitUntil(lambda: w.worker.isFinished(), timeout=5000)
    qtbot.waitUntil(lambda: w.message_box is not None and "simulated fault" in w.message_box.text(), timeout=3000)
    assert w.files.save_model(tmp_path / "kept.npz")
    assert (tmp_path / "kept.npz").exists()
    w.close()


def test_a_thousand_step_presses_give_exactly_a_thousand_steps(qtbot):
    w = open_window(qtbot)
    for _ in range(1000):
        qtbot.keyClick(w, Qt.Key.Key_Right)
    paused_at(qtbot, w, 1000)
    qtbot.wait(100)
    assert w.worker.trainer.step_count == 1000
    w.close()


def test_reset_during_a_run_and_close_mid_budget(qtbot):
    w = open_window(qtbot)
    w.control.run()
    qtbot.waitUntil(lambda: w.last_snapshot.step > 50, timeout=5000)
    w.controls.reset()
    qtbot.waitUntil(lambda: w.last_snapshot.step == 0 and w.last_snapshot.status == "paused", timeout=5000)
    w.control.step(10_000_000)                  # a huge budget: close mid-step
    qtbot.waitUntil(lambda: w.last_snapshot.step > 10, timeout=5000)
    worker, began = w.worker, time.monotonic()
    w.close()
    assert worker.isFinished() and time.monotonic() - began < 1.0


def test_session_comes_back_as_it_was(qtbot, tmp_path, monkeypatch):
    session = Session(tmp_path)
    w = open_window(qtbot, session=session)
    w.controls.params.child("live", "lr").setValue(0.25)
    w.controls.params.child("architecture", "hidden").setValue("12")
    w.controls.reset()
    qtbot.waitUntil(lambda: w.last_snapshot.sizes == (784, 12, 10), timeout=5000)
    w.control.step(5)
    paused_at(qtbot, w, 5)
    weights = np.array(w.last_snapshot.W[0])
    monkeypatch.setattr(Notices, "ask_keep_weights", lambda self: True)
    w.close()
    again = open_window(qtbot, settings={}, session=session)
    assert again.training.settings.lr == pytest.approx(0.25) and again.training.settings.hidden == (12,)
    np.testing.assert_array_equal(again.last_snapshot.W[0], weights)
    again.close()


def test_broken_session_file_gives_defaults_and_a_message(qtbot, tmp_path):
    (tmp_path / "settings.json").write_text("{ not json")
    w = open_window(qtbot, session=Session(tmp_path))
    assert "could not be read" in w.message_box.text()
    w.close()


def test_pinned_sigmoid_outputs_raise_a_visible_warning(qtbot):
    w = open_window(qtbot, {"hidden": [16], "cost": "quadratic", "lr": 1.0, "momentum": 0.0})
    w.worker.trainer.net.b[-1][:] = -60.0      # every output σ(z) ≈ 0: σ'(z) ≈ 0, learning stops
    w.control.step(50)
    paused_at(qtbot, w, 50)
    assert "pinned" in w.last_snapshot.message
    assert "pinned" in w.status_label.text() and "b00020" in w.status_label.styleSheet()
    w.close()


def test_closing_by_signal_asks_nothing_and_keeps_last_times_network(qtbot, tmp_path, monkeypatch):
    """Ctrl+C or SIGTERM closes the window without a modal question (the app's handler calls
    close_without_asking); the network kept from last time stays as it was."""
    session = Session(tmp_path)
    asked = []
    monkeypatch.setattr(Notices, "ask_keep_weights", lambda self: asked.append(1) or True)
    w = open_window(qtbot, session=session)
    w.control.step(3)
    paused_at(qtbot, w, 3)
    w.close()                                       # an ordinary close asks, and keeps it
    assert asked == [1] and session.model_path.exists()
    kept = session.model_path.read_bytes()
    again = open_window(qtbot, settings={}, session=session)
    again.control.step(2)
    paused_at(qtbot, again, 5)
    again.close_without_asking()
    assert asked == [1] and session.model_path.read_bytes() == kept


def test_loading_a_model_larger_than_the_settings_allow_is_refused(qtbot, tmp_path):
    """A model file may hold more neurons than the window can train within memory (Settings' limits)."""
    from core.checkpoint import save_model
    from core.network import Network
    w = open_window(qtbot)
    big = Network((784, 2048, 10), seed=0)            # 2,048 hidden neurons: over the 1,024 in all
    save_model(tmp_path / "big.npz", big, {})
    steps = w.last_snapshot.step
    assert not w.files.load_model(tmp_path / "big.npz")
    assert "not loaded" in w.message_box.windowTitle() and "unchanged" in w.message_box.text()
    assert w.last_snapshot.sizes == (784, 16, 10) and w.last_snapshot.step == steps
    w.close()
