"""Issue 12 at the window's level: it fits every screen, paused panels are whole, the status bar keeps
its figures, a newcomer gets a hint and a gentle start, and a saved network keeps its step."""
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from screens import run_on_screen
from test_window import small_data, wait_paused, window  # noqa: F401  (window is a fixture)

ROOT = Path(__file__).resolve().parents[1]
SCREEN_SCRIPT = r'''
from gui.workspaces import WORKSPACES
w = MainWindow({"hidden": [100]}, data=small_data())
w.show(); pump(0.5)
free = app.primaryScreen().availableGeometry()
out = {"free": [free.x(), free.y(), free.width(), free.height()], "workspaces": {}}
for ws in WORKSPACES:
    w.show_workspace(ws.name); pump(0.4)
    f = w.frameGeometry()
    bar = w.statusBar()
    shown = {t: [d.width(), d.height()] for t, d in w.docks.items() if d.isVisible() and not d.visibleRegion().isEmpty()}
    if w.centralWidget().isVisible():
        shown["Network"] = [w.centralWidget().width(), w.centralWidget().height()]
    out["workspaces"][ws.name] = {"frame": [f.x(), f.y(), f.width(), f.height()], "panels": shown,
                                  "status_visible": bar.isVisible() and not bar.visibleRegion().isEmpty()
                                  and w.rect().contains(bar.geometry())}
print(json.dumps(out))
w.close()
'''


def open_on_screen(tmp_path, width, height, dpr=1.0) -> dict:
    """Open the window in a fresh process on a virtual screen of ``width``×``height`` logical px."""
    return run_on_screen(tmp_path, SCREEN_SCRIPT, width, height, dpr)


MIN_PANEL = (240, 150)   # px: below this a panel is not usable


@pytest.mark.parametrize("width, height, dpr", [(1280, 720, 1.0), (1366, 768, 1.0), (1920, 1080, 1.0),
                                                (2560, 1440, 2.0), (2560, 1440, 1.5)])
def test_the_window_fits_the_screen_in_every_workspace(tmp_path, width, height, dpr):
    out = open_on_screen(tmp_path, width, height, dpr)
    fx, fy, fw, fh = out["free"]
    for name, ws in out["workspaces"].items():
        x, y, w, h = ws["frame"]
        assert fx <= x and fy <= y and x + w <= fx + fw and y + h <= fy + fh, (name, ws["frame"], out["free"])
        assert ws["status_visible"], name
        assert ws["panels"], name
        for title, (pw, ph) in ws["panels"].items():
            assert pw >= MIN_PANEL[0] and ph >= MIN_PANEL[1], (name, title, pw, ph)


def test_a_restored_window_larger_than_the_screen_is_fitted(qtbot, tmp_path):
    from gui.main_window import MainWindow
    from gui.session import Session
    session = Session(tmp_path)
    w = MainWindow({"hidden": [16]}, data=small_data(), session=session)
    qtbot.addWidget(w)
    w.show()
    w.setGeometry(0, 0, 4000, 3000)              # larger than any screen
    geometry = bytes(w.saveGeometry().toBase64()).decode()
    w.close()
    session.save(w.training.settings, None, geometry)
    again = MainWindow({"hidden": [16]}, data=small_data(), session=session)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(again.fits_screen, timeout=2000)
    again.close()


def test_opened_while_paused_a_panel_shows_the_paused_state_at_once(qtbot, window):
    """Item 2: Backprop, Draw and Activations used to stay empty until the next step."""
    w = window
    w.control.step(3)
    wait_paused(qtbot, w, 3)
    steps = w.worker.trainer.step_count
    w.show_workspace("Backprop")
    backprop = w.panels["Backprop"]
    qtbot.waitUntil(lambda: backprop.explanation is not None, timeout=2000)
    assert "step 3" in backprop.heading.text()
    w.show_workspace("Evaluate")
    draw = w.panels["Draw"]
    qtbot.waitUntil(lambda: "Waiting" not in draw.answer_text, timeout=2000)
    assert "Draw a digit" in draw.answer_text
    w.show_workspace("Overview")
    assert w.worker.trainer.step_count == steps            # nothing was trained to fill them


def test_the_status_bar_keeps_the_last_real_figures(qtbot, window):
    """Item 3: a snapshot without cost points (a request while paused) used to print 'cost nan'."""
    from core.control import MoveProbe
    w = window
    w.control.step(4)
    wait_paused(qtbot, w, 4)
    cost = w.last_snapshot.cost
    w.training.request(MoveProbe("next"))
    qtbot.waitUntil(lambda: w.last_snapshot.probe_index == 1, timeout=2000)
    assert len(w.last_snapshot.cost_values) == 0              # the snapshot itself has no cost points
    text = w.status_label.text()
    assert "nan" not in text and f"cost {cost:.4f}" in text


def test_a_saved_network_comes_back_at_its_step_and_is_not_called_untrained(qtbot, window, tmp_path):
    """Items 3 and 13: loading used to reset the step to 0 and call the network untrained."""
    w = window
    w.control.step(12)
    wait_paused(qtbot, w, 12)
    assert w.files.save_model(tmp_path / "m.npz")
    w.controls.reset()
    qtbot.waitUntil(lambda: w.last_snapshot.step == 0, timeout=3000)
    assert w.files.load_model(tmp_path / "m.npz")
    qtbot.waitUntil(lambda: w.last_snapshot.step == 12 and w.last_snapshot.origin == "loaded", timeout=3000)
    np.testing.assert_array_equal(w.last_snapshot.W[0], np.load(tmp_path / "m.npz")["W0"])
    qtbot.waitUntil(lambda: "as loaded, step 12" in w.status_label.text(), timeout=2000)
    assert "untrained" not in w.status_label.text()


def test_first_run_hint_and_gentle_start(qtbot, window):
    """Item 10: a newcomer is told what to press, and the first 100 steps do not flash by."""
    from gui.training import GENTLE_DELAY_MS, GENTLE_STEPS
    w = window
    assert w.hint.isVisible() and "Space" in w.hint.label.text()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.control.delay == pytest.approx(GENTLE_DELAY_MS / 1000)
    qtbot.waitUntil(lambda: w.last_snapshot.step > 0, timeout=3000)
    qtbot.waitUntil(lambda: not w.hint.isVisible(), timeout=2000)
    assert "Gentle start" in w.status_label.text()
    qtbot.waitUntil(lambda: w.last_snapshot.step >= GENTLE_STEPS, timeout=15000)
    qtbot.waitUntil(lambda: w.control.delay == 0.0, timeout=3000)   # then full speed
    qtbot.keyClick(w, Qt.Key.Key_Space)
    wait_paused(qtbot, w)


def test_slow_motion_keys_move_50_ms_a_press(qtbot, window):
    w = window
    qtbot.keyClick(w, Qt.Key.Key_BracketRight)
    qtbot.keyClick(w, Qt.Key.Key_BracketRight)
    assert w.controls.slow_slider.value() == 100 and w.training.settings.delay_ms == 100
    assert w.control.delay == pytest.approx(0.1)
    qtbot.keyClick(w, Qt.Key.Key_BracketLeft)
    assert w.training.settings.delay_ms == 50


def test_file_dialogs_open_where_the_last_file_went(qtbot, window, tmp_path, monkeypatch):
    """Item 13: dialogs always opened in the repository's folder."""
    from PyQt6.QtWidgets import QFileDialog
    w = window
    asked = []

    def dialog(parent, caption, start, filters):
        asked.append(start)
        return str(tmp_path / "sub" / "run.json"), ""
    (tmp_path / "sub").mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    w.files.ask_save_run()
    w.files.ask_save_run()
    assert Path(asked[0]).parent != ROOT                     # not the repository
    assert Path(asked[1]).parent == tmp_path / "sub"        # where the last file went


def test_workspaces_from_the_keyboard_and_view_menu_bring_panels_forward(qtbot, window):
    w = window
    qtbot.keyClick(w, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert w.current_workspace == "Backprop" and w.panels["Backprop"].on_screen()
    assert not w.panels["Weights"].on_screen()
    w.bring_forward("Evaluate")
    assert w.panels["Evaluate"].on_screen()
    qtbot.keyClick(w, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert w.current_workspace == "Overview"
    overview = [p.title for p in w.panels.values() if p.on_screen()]
    assert set(overview) == {"Network", "Weights", "Cost", "Activations"}     # a calm start


def test_toolbar_icons_are_svg_files_not_font_glyphs(qtbot, window):
    """Item 13: ⏸ was drawn as an empty box with the Debian fonts."""
    from gui.assets import app_icon, asset
    w = window
    for action in (w.controls.run_action, w.controls.step_action, w.controls.epoch_action,
                   w.controls.reset_action, w.controls.reseed_action):
        assert not action.icon().isNull(), action.text()
        assert action.text().isascii(), action.text()          # no ▶ ⏸ glyphs in the labels
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.controls.run_action.text() == "Pause" and not w.controls.run_action.icon().isNull()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not app_icon().isNull() and not w.windowIcon().isNull()
    desktop = asset("backprop-lens.desktop").read_text()
    assert "Exec=backprop-lens" in desktop and "Icon=backprop-lens" in desktop
