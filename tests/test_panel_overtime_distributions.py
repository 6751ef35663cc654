"""The Distributions panel: rows counted off the GUI thread, the heat map shows exactly them, run B overlaid."""
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from core.histograms import histogram, resample_columns
from core.snapshot import Status
from gui.panels.overtime import distributions
from gui.panels.overtime.distributions import COLUMNS, DistributionsPanel, signed_log_ticks
from gui.view_state import ViewState
from snapshots import make_snapshots, open_panel, synthetic_digits
from test_panel_overtime_hidden import FakeTraining


@pytest.fixture
def attached(qtbot, monkeypatch):
    monkeypatch.setattr(distributions, "ROW_EVERY", 0.0)
    monkeypatch.setattr(distributions, "ROW_SHARE", 1.0)
    panel = open_panel(qtbot, DistributionsPanel, size=(800, 500))
    view = ViewState()
    training = FakeTraining(SimpleNamespace(train=synthetic_digits(300, 0), test=synthetic_digits(200, 1)))
    panel.attach(view, training)
    yield panel, view, training
    panel.shutdown()


def _feed(qtbot, panel, view, snaps):
    for s in snaps:
        view.set_live(s)
        qtbot.waitUntil(lambda: bool(panel.run_a.history.steps.size) and panel.run_a.history.steps[-1] == s.step,
                        timeout=5000)


def test_the_heat_map_holds_exactly_the_counted_rows(qtbot, attached):
    panel, view, _ = attached
    snaps = make_snapshots(count=4, steps_between=6)
    _feed(qtbot, panel, view, snaps)
    panel._draw()
    history = panel.run_a.history
    key = panel.key
    assert key == ("weights", 0)
    edges = history.edges[key]
    last = history.rows[-1].histograms[key]
    assert np.array_equal(last.counts, histogram(snaps[-1].W[0], edges).counts)
    _, columns = resample_columns(history.steps, history.matrix(key), COLUMNS)
    assert np.allclose(panel.image.image, np.log10(1 + columns.T))
    x, _ = panel.side_a.getData()
    assert np.allclose(np.repeat(np.log10(1 + history.matrix(key)[-1]), 2), x[1:-1])   # the newest histogram beside
    assert "4 rows kept" in panel.status.text()


def test_gradients_use_signed_log_bins_and_every_quantity_draws(qtbot, attached):
    panel, view, _ = attached
    _feed(qtbot, panel, view, make_snapshots(count=2, steps_between=6, sizes=(784, 16, 12, 10)))
    assert panel.layer_box.count() == 3
    for q in range(4):
        for l in range(3):
            panel.quantity_box.setCurrentIndex(q)
            panel.layer_box.setCurrentIndex(l)
            panel._draw()
            assert panel.image.image is not None and panel.image.image.shape[1] == COLUMNS
    panel.quantity_box.setCurrentIndex(2)
    panel._draw()
    assert "signed log" in panel.heat.getAxis("left").labelText
    texts = [t for _, t in signed_log_ticks(panel.run_a.history.edges["gradients", 0])]
    assert texts.count("1e-2") == 1 and texts.count("−1e-6") == 1 and "0" in texts and texts.count("1") == 1


def test_the_compared_run_is_overlaid_on_the_same_bins(qtbot, attached):
    panel, view, training = attached
    _feed(qtbot, panel, view, make_snapshots(count=3, steps_between=5))
    b = make_snapshots(count=3, steps_between=5, lr=1.0)
    for s in b:
        training.comparison_ready.emit(s)
        qtbot.waitUntil(lambda: bool(len(panel.run_b.history)) and panel.run_b.history.steps[-1] == s.step, timeout=5000)
    panel._draw()
    x, y = panel.b_lines[1].getData()
    assert len(x) == 3 and np.all(np.isfinite(y))
    assert panel.side_b.getData()[0] is not None and len(panel.side_b.getData()[0]) > 0
    assert np.array_equal(panel.run_b.history.edges["weights", 0], panel.run_a.history.edges["weights", 0])


def test_the_timeline_moves_the_cursor_and_the_side_histogram(qtbot, attached):
    panel, view, _ = attached
    snaps = make_snapshots(count=4, steps_between=6)
    _feed(qtbot, panel, view, snaps)
    view.set_past(replace(snaps[0], status=Status.TIMELINE, live_step=snaps[-1].step))
    panel._draw()
    assert panel.cursor.isVisible() and panel.cursor.value() == snaps[0].step
    x, _ = panel.side_a.getData()
    first = panel.run_a.history.matrix(panel.key)[0]
    assert np.allclose(np.repeat(np.log10(1 + first), 2), x[1:-1])
    assert "Timeline" in panel.status.text()
    view.set_live(make_snapshots(count=5, steps_between=6)[-1])   # still counted while looking back
    qtbot.waitUntil(lambda: panel.run_a.history.steps[-1] == 30, timeout=5000)


def test_a_new_run_starts_a_new_history(qtbot, attached):
    panel, view, _ = attached
    _feed(qtbot, panel, view, make_snapshots(count=3, steps_between=5))
    view.set_live(replace(make_snapshots(count=1, steps_between=2)[0], run_id=7))
    qtbot.waitUntil(lambda: len(panel.run_a.history) == 1, timeout=5000)


def test_values_beyond_the_fixed_bins_are_counted_and_said(qtbot, attached):
    panel, view, _ = attached
    snaps = make_snapshots(count=2, steps_between=5)
    _feed(qtbot, panel, view, snaps[:1])
    grown = replace(snaps[1], W=tuple(w * 100 for w in snaps[1].W))      # far past the run's edges
    _feed(qtbot, panel, view, [grown])
    panel._draw()
    h = panel.run_a.history.rows[-1].histograms["weights", 0]
    assert h.under + h.over > 0 and h.total == grown.W[0].size
    assert "beyond the bins" in panel.status.text()


def test_a_compared_run_of_another_depth_is_counted_but_not_overlaid(qtbot, attached):
    panel, view, training = attached
    _feed(qtbot, panel, view, make_snapshots(count=2, steps_between=5))
    for s in make_snapshots(count=2, steps_between=5, sizes=(784, 16, 12, 10)):
        training.comparison_ready.emit(s)
        qtbot.waitUntil(lambda: bool(len(panel.run_b.history)) and panel.run_b.history.steps[-1] == s.step,
                        timeout=5000)
    assert ("weights", 2) in panel.run_b.history.edges
    panel._draw()
    x, _ = panel.b_lines[1].getData()
    assert x is None or len(x) == 0                            # other bins: nothing drawn over run A
