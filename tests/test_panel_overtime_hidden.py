"""The Hidden space panel: live points, hover shows the digit, click makes it the probe, the Timeline scrubs it."""
from dataclasses import replace

import numpy as np
import pytest
from PyQt6.QtCore import QObject, QPointF, Qt, pyqtSignal

from core.control import MoveProbe
from core.snapshot import Status
from gui.panels.overtime.hidden_space import HiddenSpacePanel, nearest_point
from gui.view_state import ViewState
from snapshots import make_snapshots, open_panel, synthetic_digits
from types import SimpleNamespace


class FakeTraining(QObject):
    """The parts of gui.training.Training a panel uses: data, data_loaded, request."""

    data_loaded = pyqtSignal(object)
    comparison_ready = pyqtSignal(object)

    def __init__(self, data=None):
        super().__init__()
        self.data = data
        self.requests = []

    def request(self, *requests):
        self.requests.extend(requests)


def _data():
    return SimpleNamespace(train=synthetic_digits(300, 0), test=synthetic_digits(400, 1))


@pytest.fixture
def attached(qtbot):
    panel = open_panel(qtbot, HiddenSpacePanel, size=(700, 520))
    view, training = ViewState(), FakeTraining(_data())
    panel.attach(view, training)
    yield panel, view, training
    panel.shutdown()


def _wait_frame(qtbot, panel, step):
    qtbot.waitUntil(lambda: panel.projection is not None and panel.projection.step == step, timeout=5000)


def test_live_snapshots_move_every_digit_into_the_picture(qtbot, attached):
    panel, view, _ = attached
    snaps = make_snapshots(count=3, steps_between=5)
    for s in snaps:
        view.set_live(s)
    _wait_frame(qtbot, panel, snaps[-1].step)
    assert len(panel.indices) == 400                     # all of the (few) test digits
    drawn = sum(len(item.getData()[0]) for item in panel.scatters)
    assert drawn == 400
    for d, item in enumerate(panel.scatters):            # each label's points are its own colour's
        x, y = item.getData()
        assert np.allclose(np.c_[x, y], panel.projection.points[panel.labels == d])
        if len(x):      # points moved in place: the item's bounds follow them (for the view's range)
            assert item.dataBounds(0) == pytest.approx((x.min(), x.max()), abs=1e-6)
    assert "PCA of hidden layer 1" in panel.status.text()


def test_hover_shows_the_digit_and_click_requests_it_as_the_probe(qtbot, attached):
    panel, view, training = attached
    snap = make_snapshots(count=1, steps_between=8)[0]
    view.set_live(snap)
    _wait_frame(qtbot, panel, snap.step)
    qtbot.wait(50)
    # the point farthest from the others is surely alone under the pointer
    pts = panel.projection.points
    k = int(np.argmax(np.linalg.norm(pts - pts.mean(0), axis=1)))
    scene = panel.scene_pos_of(k)
    widget = panel.view_widget
    pos = widget.mapFromScene(scene)
    qtbot.mouseMove(widget.viewport(), pos)
    qtbot.waitUntil(lambda: panel.hovered >= 0, timeout=2000)
    assert panel.hovered == panel.indices[k]
    assert panel.inset.isVisible() and panel.inset.pixmap() is not None
    assert f"#{panel.indices[k]}" in panel.status.text()
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert training.requests == [MoveProbe(int(panel.indices[k]))]


def test_the_timeline_scrubs_the_picture(qtbot, attached):
    panel, view, _ = attached
    snaps = make_snapshots(count=4, steps_between=10)
    for s in snaps:
        view.set_live(s)
    _wait_frame(qtbot, panel, snaps[-1].step)
    live_points = panel.projection.points.copy()
    past = replace(snaps[0], status=Status.TIMELINE, live_step=snaps[-1].step)
    view.set_past(past)
    _wait_frame(qtbot, panel, snaps[0].step)
    assert not np.allclose(panel.projection.points, live_points)
    view.set_live(make_snapshots(count=5, steps_between=10)[-1])   # live goes on meanwhile: ignored
    qtbot.wait(400)
    assert panel.projection.step == snaps[0].step
    view.set_past(None)
    _wait_frame(qtbot, panel, 50)


def test_the_same_weights_twice_give_the_same_picture(qtbot, attached):
    panel, view, _ = attached
    snap = make_snapshots(count=1, steps_between=12)[0]
    view.set_live(snap)
    _wait_frame(qtbot, panel, snap.step)
    first = panel.projection.points.copy()
    panel.projection = None
    panel.show_snapshot(replace(snap, status=Status.PAUSED))
    qtbot.waitUntil(lambda: panel.projection is not None, timeout=5000)
    assert np.allclose(panel.projection.points, first, atol=1e-5)


def test_a_deeper_network_offers_each_hidden_layer(qtbot, attached):
    panel, view, _ = attached
    snap = make_snapshots(count=1, sizes=(784, 16, 12, 10))[0]
    view.set_live(snap)
    assert panel.layer_box.count() == 2
    panel.layer_box.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.projection is not None and panel.projection.layer == 2, timeout=5000)
    assert panel.projection.axes.shape == (12, 2)


def test_nearest_point_counts_pixels_not_data_units():
    pts = np.array([[0.0, 0.0], [10.0, 0.001]])
    assert nearest_point(pts, 9.0, 0.0, 1.0, 1.0) == (1, pytest.approx(1.0, abs=1e-3))
    assert nearest_point(np.zeros((0, 2)), 0, 0, 1, 1)[0] == -1


def test_tsne_on_request_then_back_to_live_pca(qtbot, attached):
    pytest.importorskip("sklearn", reason="t-SNE is optional (scikit-learn)")
    panel, view, _ = attached
    snap = make_snapshots(count=1, steps_between=20)[0]
    view.set_live(snap)
    _wait_frame(qtbot, panel, snap.step)
    qtbot.mouseClick(panel.tsne_button, Qt.MouseButton.LeftButton)
    assert panel.busy.isVisible()
    qtbot.waitUntil(lambda: panel.tsne_shown, timeout=60000)
    assert panel.projection.method == "t-SNE" and not panel.busy.isVisible()
    assert "t-SNE" in panel.plot.getAxis("bottom").labelText and "t-SNE" in panel.status.text()
    later = make_snapshots(count=2, steps_between=20)[-1]
    view.set_live(later)                                   # a single moment: live frames wait
    qtbot.wait(400)
    assert panel.projection.method == "t-SNE"
    qtbot.mouseClick(panel.tsne_button, Qt.MouseButton.LeftButton)
    _wait_frame(qtbot, panel, later.step)
    assert panel.projection.method == "PCA" and "PCA" in panel.plot.getAxis("bottom").labelText


def test_opening_the_window_does_not_import_scikit_learn():
    """t-SNE is optional and SciPy-heavy: the window only looks whether it is installed."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        sys.path[:0] = [{str(root)!r}, {str(root / 'tests')!r}]
        from PyQt6.QtWidgets import QApplication
        app = QApplication([])
        from test_window import small_data
        from gui.main_window import MainWindow
        w = MainWindow({{"hidden": [8]}}, data=small_data())
        w.show_workspace("Over time")
        app.processEvents()
        print("sklearn" in sys.modules)
        w.close()
        from PyQt6 import sip
        sip.delete(w)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
