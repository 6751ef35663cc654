"""The Landscape panel: computed in parts off the GUI thread with progress and Cancel; its centre is the current cost."""
from types import SimpleNamespace

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from core.landscape import subset_indices
from gui.panels.overtime.landscape import LandscapePanel, contour_levels
from gui.view_state import ViewState
from snapshots import make_trainer, open_panel
from test_panel_overtime_hidden import FakeTraining


def _run(trainer, count=8, between=6):
    snaps = [trainer.snapshot("running")]
    for _ in range(count):
        for _ in range(between):
            trainer.step()
        snaps.append(trainer.snapshot("running"))
    return snaps


@pytest.fixture
def setup(qtbot):
    trainer = make_trainer()
    data = SimpleNamespace(train=trainer.train, test=trainer.test)
    panel = LandscapePanel(grid=9, subset=200)
    qtbot.addWidget(panel)
    panel.resize(700, 650)
    panel.show()
    panel.timeline.every = panel.timeline._first_every = 1
    view = ViewState()
    panel.attach(view, FakeTraining(data))
    yield panel, view, trainer, data
    panel.shutdown()


def test_compute_fills_line_and_plane_with_progress_and_the_centre_is_the_current_cost(qtbot, setup):
    panel, view, trainer, data = setup
    for s in _run(trainer):
        view.set_live(s)
    assert len(panel.timeline) == 9
    with qtbot.waitSignal(panel.finished, timeout=20000):
        assert panel.compute()
        assert panel.progress.isVisible() and panel.cancel_button.isVisible()
    assert not panel.progress.isVisible() and not panel.cancel_button.isVisible()
    assert panel.progress.value() > 0
    assert np.isfinite(panel.costs).all() and panel.costs.shape == (9, 9)
    idx = subset_indices(len(data.train.labels), 200)
    current = trainer.net.evaluate(data.train.images[idx], data.train.labels[idx])[0]
    assert panel.costs[4, 4] == pytest.approx(current, rel=1e-5)
    assert "trajectory" in panel.directions.text()
    x, y = panel.path_curve.getData()
    assert len(x) == 9 and abs(x[-1]) < 1e-6 and abs(y[-1]) < 1e-6
    lx, ly = panel.train_curve.getOriginalDataset()
    assert ly[list(lx).index(1.0)] == pytest.approx(current, rel=1e-5)
    assert len(panel.isocurves) > 0
    assert f"{panel.costs[4, 4]:.4g}" in panel.status.text()


def test_cancel_stops_between_parts_and_compute_works_again(qtbot, setup):
    panel, view, trainer, _ = setup
    for s in _run(trainer, 4):
        view.set_live(s)
    panel.grid = 61                                     # long enough to cancel half way
    cancelled = []
    panel._job.cancelled.connect(cancelled.append)
    panel.compute()
    qtbot.waitUntil(lambda: panel.progress.value() >= 20, timeout=20000)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert not panel.computing and not panel.progress.isVisible()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=10000)   # the job itself stopped at its next row
    assert panel.costs is None                          # nothing half-measured is drawn
    assert panel.compute_button.isEnabled() and "Cancelled" in panel.status.text()
    panel.grid = 9
    with qtbot.waitSignal(panel.finished, timeout=20000):
        qtbot.mouseClick(panel.compute_button, Qt.MouseButton.LeftButton)
    assert np.isfinite(panel.costs).all() and panel.costs.shape == (9, 9)


def test_without_a_path_it_says_random_directions(qtbot, setup):
    panel, view, trainer, _ = setup
    view.set_live(trainer.snapshot("paused"))
    with qtbot.waitSignal(panel.finished, timeout=20000):
        panel.compute()
    assert "random" in panel.directions.text()


def test_nothing_to_measure_says_so(qtbot):
    panel = open_panel(qtbot, LandscapePanel)
    assert not panel.compute() and "Nothing to measure" in panel.status.text()


def test_contour_levels_are_geometric_inside_the_range():
    levels = contour_levels(np.array([[1.0, 10.0], [100.0, np.nan]]), 3)
    assert len(levels) == 3 and 1 < levels[0] < levels[-1] < 100
    assert np.allclose(np.diff(np.log(levels)), np.log(levels[1] / levels[0]))


def test_the_timeline_rings_the_path_at_the_step_looked_at_and_recording_goes_on(qtbot, setup):
    from dataclasses import replace
    from core.snapshot import Status
    panel, view, trainer, _ = setup
    snaps = _run(trainer)
    for s in snaps:
        view.set_live(s)
    with qtbot.waitSignal(panel.finished, timeout=20000):
        panel.compute()
    view.set_past(replace(snaps[3], status=Status.TIMELINE, live_step=snaps[-1].step))
    x, y = panel.looked_mark.getData()
    k = list(panel.plane.path_steps).index(snaps[3].step)
    assert (x[0], y[0]) == (panel.plane.path[k, 0], panel.plane.path[k, 1])
    saved = len(panel.timeline)
    for _ in range(6):
        trainer.step()
    view.set_live(trainer.snapshot("running"))               # still recorded while looking back
    assert len(panel.timeline) == saved + 1
    view.set_past(None)
    x, _ = panel.looked_mark.getData()
    assert x is None or len(x) == 0
