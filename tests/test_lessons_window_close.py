"""Closing the window in the middle of a lesson keeps the learner's own settings and network."""
import numpy as np

from gui.main_window import MainWindow
from gui.notices import Notices
from gui.session import Session
from test_window import small_data, wait_paused


def test_closing_mid_lesson_keeps_the_learners_network(qtbot, tmp_path, monkeypatch):
    session = Session(tmp_path)
    monkeypatch.setattr(Notices, "ask_keep_weights", lambda self: True)
    w = MainWindow({"hidden": [12], "batch_size": 10}, data=small_data(), session=session)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    w.control.step(4)
    wait_paused(qtbot, w, 4)
    mine = np.array(w.last_snapshot.W[0])
    lessons = w.panels["Lessons"]
    index = next(k for k, lesson in enumerate(lessons.lessons) if lesson.setup.get("hidden"))
    lessons.open_lesson(index)                                     # it sets up its own network
    qtbot.waitUntil(lambda: w.last_snapshot.sizes != (784, 12, 10), timeout=5000)
    w.close()
    saved, _ = session.load()
    assert saved["settings"]["hidden"] == [12]
    net, _ = session.load_model()
    np.testing.assert_array_equal(net.W[0], mine)
    assert session.kept_step == 4


def test_the_lessons_workspace_opens_on_a_page_and_the_hint_shows_its_text(qtbot):
    """Seen by a new user: Ctrl+5 showed an empty sheet, and the hint bar showed only its buttons."""
    from PyQt6.QtCore import Qt
    w = MainWindow({"hidden": [12], "batch_size": 10}, data=small_data())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    assert w.hint.label.isVisible() and w.hint.label.width() > 300        # the text, not just buttons
    qtbot.keyClick(w, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    sheet = w.panels["Lessons"]
    qtbot.waitUntil(lambda: sheet.lesson is not None, timeout=3000)
    assert sheet.lesson is sheet.lessons[0]
    w.close()
