"""Animations from the real window: the File menu entry, a panel across the Timeline, the whole
window, and live training, with the progress dialog and Cancel."""
from PIL import Image, ImageSequence
from PyQt6.QtCore import Qt

from gui.animation import WHOLE_WINDOW
from gui.files import ANIMATION_ENTRY
from test_window import window  # noqa: F401  (a fixture)


def _train(qtbot, w, steps=120):
    w.show_workspace("Weights")
    w.training.run()
    qtbot.waitUntil(lambda: w.last_snapshot.step >= steps and len(w.panels["Timeline"].timeline) >= 4, timeout=20000)
    w.training.pause()
    qtbot.waitUntil(lambda: not w.control.running, timeout=5000)


def _finish(qtbot, export):
    out = []
    export.finished.connect(out.append)
    export.failed.connect(lambda m: out.append("FAILED " + m))
    qtbot.waitUntil(lambda: bool(out) or not export.running, timeout=30000)
    qtbot.wait(50)
    return out[0] if out else None


def test_file_menu_has_the_entry(qtbot, window):
    file_menu = window.menuBar().actions()[0].menu()
    qtbot.waitUntil(lambda: any(a.text() == ANIMATION_ENTRY[0] for a in file_menu.actions()), timeout=2000)
    texts = [a.text() for a in file_menu.actions()]
    assert texts.index(ANIMATION_ENTRY[0]) < texts.index("Quit")
    assert [a.text() for a in file_menu.actions()].count(ANIMATION_ENTRY[0]) == 1


def test_weights_panel_across_the_timeline_as_gif(qtbot, window, tmp_path):
    w = window
    _train(qtbot, w)
    saved = len(w.panels["Timeline"].timeline)
    path = tmp_path / "weights.gif"
    export = w.files.export_animation(path, "Weights", frames=4, fps=8)
    assert export is not None and w.files.animation_dialog.isVisible()
    assert _finish(qtbot, export) == str(path)
    frames = list(ImageSequence.Iterator(Image.open(path)))
    assert len(frames) == min(4, saved)
    assert "4-frame animation" in w.status.label.text() or "animation" in w.status.label.text()
    assert not w.view.looking_back                            # the window is live again


def test_whole_window_is_put_back_as_it_was(qtbot, window, tmp_path):
    w = window
    _train(qtbot, w)
    export = w.files.export_animation(tmp_path / "w.gif", WHOLE_WINDOW, frames=3, fps=5)
    assert _finish(qtbot, export) == str(tmp_path / "w.gif")
    assert len(list(ImageSequence.Iterator(Image.open(tmp_path / "w.gif")))) == 3
    assert w.view.past is None


def test_live_training_recorded_and_cancelled(qtbot, window, tmp_path):
    w = window
    w.show_workspace("Overview")
    export = w.files.export_animation(tmp_path / "cost.gif", "Cost", frames=500, fps=10, live=True)
    w.training.run()
    qtbot.waitUntil(lambda: export.done >= 3, timeout=20000)
    from PyQt6.QtWidgets import QPushButton
    qtbot.mouseClick(w.files.animation_dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)   # Cancel
    qtbot.waitUntil(lambda: not export.running, timeout=5000)
    w.training.pause()
    assert not (tmp_path / "cost.gif").exists()
    assert "cancelled" in w.status.label.text()


def test_live_recording_of_a_few_frames(qtbot, window, tmp_path):
    w = window
    w.show_workspace("Overview")
    export = w.files.export_animation(tmp_path / "cost.gif", "Cost", frames=5, fps=10, live=True)
    w.training.run()
    assert _finish(qtbot, export) == str(tmp_path / "cost.gif")
    w.training.pause()
    assert len(list(ImageSequence.Iterator(Image.open(tmp_path / "cost.gif")))) == 5


def test_bad_choices_get_a_message_not_a_file(qtbot, window, tmp_path, monkeypatch):
    w = window
    messages = []
    monkeypatch.setattr(w, "notify", lambda kind, title, text, buttons=(): messages.append(text))
    assert w.files.export_animation(tmp_path / "x.avi", "Weights", frames=4) is None
    assert w.files.export_animation(tmp_path / "x.gif", "Cost", frames=4) is None    # Cost shows no past
    assert w.files.export_animation(tmp_path / "x.gif", "Weights", frames=4) is None  # nothing saved yet
    assert "save an animation as .gif or .mp4, not .avi" in messages[0]
    assert "record it during live training" in messages[1]
    assert "no saved weights" in messages[2] or "not in this workspace" in messages[2]
    w.show_workspace("Overview")
    assert w.files.export_animation(tmp_path / "x.gif", "Hidden space", frames=4, live=True) is None
    assert "not in this workspace" in messages[3]
    assert not list(tmp_path.iterdir())


def test_whole_window_over_time_waits_for_the_hidden_space_each_frame(qtbot, window, tmp_path):
    w = window
    _train(qtbot, w)
    w.show_workspace("Over time")
    hidden = w.panels["Hidden space"]
    qtbot.waitUntil(lambda: hidden.projection is not None, timeout=10000)
    steps = []
    export = w.files.export_animation(tmp_path / "o.gif", WHOLE_WINDOW, frames=3, fps=5)
    export.progress.connect(lambda done, total: steps.append(hidden.projection.step))
    assert _finish(qtbot, export) == str(tmp_path / "o.gif")
    assert steps == [s.step for s in export.snapshots]
    assert w.view.past is None and not hidden.exporting


def test_a_why_panels_frames_wait_for_their_own_answers(qtbot, window, tmp_path, monkeypatch):
    """Saliency's maps come from the analysis process: each frame is grabbed once the answer for
    that frame's step has been drawn (not the previous step's), and the live pace comes back."""
    import gui.animation as animation
    w = window
    _train(qtbot, w)
    w.show_workspace("Why")
    saliency = w.panels["Saliency"]
    seen = []
    grab = animation.grab_rgb

    def grab_and_note(widget, *args, **kwargs):
        seen.append(saliency.heading.text())
        return grab(widget, *args, **kwargs)
    monkeypatch.setattr(animation, "grab_rgb", grab_and_note)
    from gui.jobs import LatestJob
    pace = [job.min_interval for job in saliency.findChildren(LatestJob)]
    export = w.files.export_animation(tmp_path / "saliency.gif", "Saliency", frames=4, fps=8)
    assert _finish(qtbot, export) == str(tmp_path / "saliency.gif")
    steps = w.panels["Timeline"].timeline.steps
    chosen = sorted({int(t.rsplit("step ", 1)[1].replace(",", "")) for t in seen})
    assert len(seen) == 4 and len(chosen) == 4 and set(chosen) <= set(steps)
    assert [job.min_interval for job in saliency.findChildren(LatestJob)] == pace
    assert not saliency.exporting
