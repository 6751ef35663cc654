"""The Over time workspace in the real window: Ctrl+7 shows its panels; a click in the hidden space
makes that digit the trainer's probe; the Timeline scrubs the hidden space and the distributions."""
import numpy as np
from PyQt6.QtCore import Qt

from test_window import wait_paused, window  # noqa: F401  (a fixture)


def test_over_time_workspace_click_a_digit_to_probe_it_and_scrub(qtbot, window):
    w = window
    w.control.step(30)
    wait_paused(qtbot, w, 30)
    qtbot.keyClick(w, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
    assert w.current_workspace == "Over time"
    hidden, dist = w.panels["Hidden space"], w.panels["Distributions"]
    assert hidden.isVisible() and (dist.isVisible() or w.panels["Landscape"].isVisible())
    qtbot.waitUntil(lambda: hidden.projection is not None and hidden.projection.step == 30, timeout=10000)
    qtbot.wait(50)
    pts = hidden.projection.points
    k = int(np.argmax(np.linalg.norm(pts - pts.mean(0), axis=1)))
    wanted = int(hidden.indices[k])
    assert w.last_snapshot.probe_index != wanted
    pos = hidden.view_widget.mapFromScene(hidden.scene_pos_of(k))
    qtbot.mouseMove(hidden.view_widget.viewport(), pos)
    qtbot.waitUntil(lambda: hidden.hovered == wanted, timeout=2000)
    qtbot.mouseClick(hidden.view_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: w.last_snapshot.probe_index == wanted, timeout=5000)   # the trainer's probe now
    qtbot.waitUntil(lambda: hidden.ring.getData()[0] is not None and len(hidden.ring.getData()[0]) == 1,
                    timeout=5000)
    # the Timeline scrubs the hidden space (and Distributions marks the step)
    timeline = w.panels["Timeline"]
    qtbot.waitUntil(lambda: len(timeline.timeline) >= 1, timeout=5000)
    first = timeline.timeline.steps[0]
    with qtbot.waitSignal(w.view.past_changed, timeout=5000):
        timeline.show_step(first)
    qtbot.waitUntil(lambda: hidden.projection.step == first, timeout=10000)
    assert hidden.past_badge is not None and not hidden.past_badge.isHidden()
    assert dist.shown_step == first or not dist.isVisible()
    w.view.set_past(None)
    qtbot.waitUntil(lambda: hidden.projection.step == w.last_snapshot.step, timeout=10000)
