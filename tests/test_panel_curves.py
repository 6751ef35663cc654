"""CurvesPanel: the per-step cost, the smoothed cost and the per-epoch test points it draws."""
import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtWidgets import QCheckBox, QComboBox

from core.history import DecimatingHistory
from gui.panels.curves import CurvesPanel
from gui.widgets import grown_end, nice_ceil, stable_span, window_mean
from tests.snapshots import make_snapshot, make_snapshots, open_panel

PNG_DIR = Path(os.environ.get("PANEL_PNG_DIR", "/tmp/panels"))


@pytest.fixture
def panel(qtbot):
    return open_panel(qtbot, CurvesPanel, unpaced=True)


@pytest.fixture(scope="module")
def stream():
    """Three epochs and a half of a real run (300 samples, batch 32: 10 steps an epoch)."""
    return make_snapshots(count=7, steps_between=5)


def feed(panel, snapshots):
    for s in snapshots:
        panel.show_snapshot(s)


def data(item):
    """The (x, y) arrays last given to a plot item, empty arrays if none."""
    x, y = item.getOriginalDataset()
    return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))


def control(panel, kind, name):
    widget = panel.findChild(kind, name)
    assert widget is not None, name
    return widget


def with_costs(steps, costs, accuracies=None):
    """A snapshot carrying exactly these per-step points."""
    base = make_snapshot(steps=1)
    steps = np.asarray(steps, dtype=np.float64)
    acc = np.full(len(steps), 0.5) if accuracies is None else np.asarray(accuracies, float)
    return dataclasses.replace(base, cost_steps=steps, cost_values=np.asarray(costs, float),
                               accuracy_values=acc, grad_norm_values=np.ones((len(steps), 2)))


def test_raw_curve_is_every_cost_in_order(panel, stream):
    feed(panel, stream)
    steps = np.concatenate([s.cost_steps for s in stream])
    costs = np.concatenate([s.cost_values for s in stream])
    assert len(steps) == 35
    x, y = data(panel.curves["cost"])
    np.testing.assert_array_equal(x, steps)
    np.testing.assert_array_equal(y, costs)
    np.testing.assert_array_equal(panel.steps, steps)
    np.testing.assert_array_equal(panel.costs, costs)


def test_test_points_are_the_epoch_records(panel, stream):
    feed(panel, stream)
    records = stream[-1].epochs
    assert [r.epoch for r in records] == [0, 1, 2, 3]
    x, y = data(panel.curves["test cost"])
    np.testing.assert_array_equal(x, [r.step for r in records])
    np.testing.assert_allclose(y, [r.test_cost for r in records])
    x, y = data(panel.curves["test accuracy"])
    np.testing.assert_array_equal(x, [r.step for r in records])
    np.testing.assert_allclose(y, [100 * r.test_accuracy for r in records])


def test_test_checks_between_epochs_join_the_epoch_points_in_one_line(panel, stream):
    from core.snapshot import TestCheck
    last = stream[-1]
    checks = (TestCheck(3, 2.1, 0.31), TestCheck(15, 1.4, 0.62), TestCheck(27, float("nan"), 0.7))
    panel.show_snapshot(dataclasses.replace(last, test_checks=checks))
    # the line starts at the first check: no segment back over the unmeasured steps to epoch 0
    points = sorted([(c.step, c.test_cost, c.test_accuracy) for c in checks]
                    + [(r.step, r.test_cost, r.test_accuracy) for r in last.epochs if r.step >= 3])
    assert [p[0] for p in points] == [3, 10, 15, 20, 27, 30]
    x, y = data(panel.curves["live test cost"])
    finite = [p for p in points if np.isfinite(p[1])]          # a NaN check leaves a gap, no point
    np.testing.assert_array_equal(x, [p[0] for p in finite])
    np.testing.assert_allclose(y, [p[1] for p in finite])
    x, y = data(panel.curves["live test accuracy"])
    np.testing.assert_array_equal(x, [p[0] for p in points])
    np.testing.assert_allclose(y, [100 * p[2] for p in points])
    x, _ = data(panel.curves["test cost"])                     # the epoch markers stay as they were
    np.testing.assert_array_equal(x, [r.step for r in last.epochs])


def test_epochs_axis_divides_steps_by_steps_per_epoch(panel, stream):
    feed(panel, stream)
    spe = stream[-1].steps_per_epoch
    assert spe == 10
    control(panel, QComboBox, "x_axis").setCurrentText("epochs")
    steps = np.concatenate([s.cost_steps for s in stream])
    np.testing.assert_allclose(data(panel.curves["cost"])[0], steps / spe)
    np.testing.assert_allclose(data(panel.curves["test cost"])[0], [0, 1, 2, 3])
    np.testing.assert_allclose(data(panel.curves["smoothed cost"])[0], steps / spe)
    assert panel.x_label == "epoch"
    control(panel, QComboBox, "x_axis").setCurrentText("steps")
    np.testing.assert_allclose(data(panel.curves["cost"])[0], steps)
    assert panel.x_label == "step"


def test_log_scale_checkbox_sets_the_cost_axis_log_mode(panel, stream):
    feed(panel, stream)
    box = control(panel, QCheckBox, "log_scale")
    box.setChecked(True)
    assert panel.cost_axis_is_log
    assert panel.curves["cost"].opts["logMode"] == [False, True]
    assert not panel.accuracy_axis_is_log                  # accuracy stays linear, in %
    box.setChecked(False)
    assert not panel.cost_axis_is_log


def test_window_mean_matches_a_plain_loop():
    rng = np.random.default_rng(1)
    y = rng.random(57)
    y[[3, 4, 30]] = [np.nan, np.inf, -np.inf]
    for width in (1, 2, 5, 10, 80):
        expected = []
        for i in range(len(y)):
            lo = max(i - width // 2, 0)
            window = y[lo:i - width // 2 + width]
            window = window[np.isfinite(window)]
            expected.append(window.mean() if len(window) else np.nan)
        if width == 1:
            expected = np.where(np.isfinite(y), y, np.nan)
        np.testing.assert_allclose(window_mean(y, width), expected, err_msg=f"width {width}")


def test_smoothing_choice_sets_the_window(panel):
    costs = np.arange(1.0, 41.0)
    panel.show_snapshot(with_costs(np.arange(1, 41), costs))
    combo = control(panel, QComboBox, "smoothing")
    combo.setCurrentText("off")
    np.testing.assert_array_equal(data(panel.curves["smoothed cost"])[1], costs)
    combo.setCurrentText("10 steps")
    smoothed = data(panel.curves["smoothed cost"])[1]
    np.testing.assert_allclose(smoothed, window_mean(costs, 10))
    assert smoothed[20] == pytest.approx(np.mean(costs[15:25]))
    _, acc = data(panel.curves["batch accuracy"])
    np.testing.assert_allclose(acc, 50.0)                  # batch accuracy in %, smoothed too


def test_batch_accuracy_checkbox_hides_the_curve(panel, stream):
    feed(panel, stream)
    control(panel, QCheckBox, "batch_accuracy").setChecked(False)
    assert not panel.curves["batch accuracy"].isVisible()
    control(panel, QCheckBox, "batch_accuracy").setChecked(True)
    assert panel.curves["batch accuracy"].isVisible()


def test_reset_empties_everything(panel, stream):
    feed(panel, stream)
    panel.reset()
    assert len(panel.steps) == 0 and len(panel.costs) == 0
    for name, item in panel.curves.items():
        assert len(data(item)[0]) == 0, name
    panel.show_snapshot(stream[0])
    np.testing.assert_array_equal(panel.costs, stream[0].cost_values)


def test_steps_going_backwards_start_a_new_history(panel, stream):
    feed(panel, stream)
    first_run_again = make_snapshots(count=1, steps_between=3, seed=5)
    panel.show_snapshot(first_run_again[0])
    np.testing.assert_array_equal(panel.steps, [1, 2, 3])


def test_a_snapshot_without_new_points(panel):
    untrained = make_snapshot(steps=0)                 # the first snapshot of a run, before step 1
    assert len(untrained.cost_steps) == 0
    panel.show_snapshot(untrained)
    assert len(panel.steps) == 0 and len(data(panel.curves["smoothed cost"])[0]) == 0


def test_hidden_panel_accumulates_and_draws_when_shown(qtbot, stream):
    p = CurvesPanel()
    qtbot.addWidget(p)
    feed(p, stream)
    assert len(p.steps) == 35
    assert len(data(p.curves["cost"])[0]) == 0
    p.show()
    assert len(data(p.curves["cost"])[0]) == 35


def test_100000_points_stay_bounded(panel):
    n = 100_000
    steps = np.arange(1, n + 1)
    costs = 2.0 * np.exp(-steps / 20_000.0)
    panel.show_snapshot(with_costs(steps, costs))
    stored = len(panel.steps)
    assert 2048 <= stored <= 4096
    assert len(data(panel.curves["cost"])[0]) == stored
    assert panel.steps[0] < 100 and panel.steps[-1] > n - 100
    # thinning averages neighbours, so the curve keeps its shape and its mean
    np.testing.assert_allclose(panel.costs, 2.0 * np.exp(-panel.steps / 20_000.0), rtol=1e-3)
    assert panel.costs.mean() == pytest.approx(costs.mean(), rel=1e-3)
    panel.show_snapshot(with_costs(np.arange(n + 1, n + 1001), np.ones(1000)))
    assert len(panel.steps) <= 4096


def test_non_finite_costs_neither_raise_nor_break_the_curve(panel):
    costs = np.array([2.0, 1.5, np.nan, 1.2, np.inf, 1.0, -np.inf, 0.9])
    panel.show_snapshot(with_costs(np.arange(1, 9), costs))
    control(panel, QCheckBox, "log_scale").setChecked(True)
    control(panel, QComboBox, "smoothing").setCurrentText("10 steps")
    _, drawn = data(panel.curves["cost"])
    np.testing.assert_array_equal(np.isnan(drawn), ~np.isfinite(costs))   # gaps, not spikes
    np.testing.assert_array_equal(drawn[np.isfinite(costs)], costs[np.isfinite(costs)])
    _, smoothed = data(panel.curves["smoothed cost"])
    assert np.all(np.isfinite(smoothed))               # the window steps over the gaps
    nan_epoch = dataclasses.replace(with_costs([9], [np.nan]), epochs=(
        dataclasses.replace(make_snapshots(count=1)[0].epochs[0], test_cost=np.nan),))
    panel.show_snapshot(nan_epoch)
    assert len(data(panel.curves["test cost"])[0]) == 0        # an epoch without a test figure
    panel.show_snapshot(with_costs([10, 11], [np.nan, np.nan]))
    assert not panel.grab().isNull()


def test_renders_a_readable_png(panel, qtbot):
    feed(panel, make_snapshots(count=50, steps_between=5, lr=0.05))
    control(panel, QCheckBox, "log_scale").setChecked(True)
    qtbot.wait(50)                                     # let the layouts settle, as a window would
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    image = panel.grab().toImage()
    assert image.save(str(PNG_DIR / "curves.png"))
    pixels = {image.pixel(x, y) for x in range(0, 900, 7) for y in range(0, 600, 7)}
    assert len(pixels) > 20                            # drawn, not a blank window


@pytest.mark.parametrize("capacity", [4, 8, 64])
def test_bulk_history_stores_what_appending_one_by_one_stores(capacity):
    rng = np.random.default_rng(capacity)
    one, bulk = DecimatingHistory(capacity, columns=2), DecimatingHistory(capacity, columns=2)
    step = 0
    for chunk in rng.integers(0, 5 * capacity, size=40):   # empty, partial and many-block chunks
        x = np.arange(step, step + chunk, dtype=np.float64)
        y = rng.random((chunk, 2))
        step += chunk
        for xi, yi in zip(x, y):
            one.append(xi, *yi)
        bulk.extend(x, y)
        assert (len(bulk), bulk.stride) == (len(one), one.stride)
        np.testing.assert_allclose(bulk.x, one.x, rtol=1e-12)
        np.testing.assert_allclose(bulk.y, one.y, rtol=1e-12)


def test_view_ranges_move_in_coarse_steps():
    assert [nice_ceil(v) for v in (0.9, 1.0, 1.1, 130, 7e-4)] == pytest.approx([1.0, 1.0, 1.2, 150, 8e-4])
    assert grown_end(None, 100) == 150            # a quarter beyond, rounded up
    assert grown_end(150, 140) == 150             # still holds: unchanged
    assert grown_end(150, 151) == 200
    assert grown_end(5000, 100) == 150            # far too long (a new run): starts again
    assert stable_span(None, 0.1, 2.3, margin=0.2, floor=0.0) == pytest.approx((-0.075, 2.5))  # 0 in view
    assert stable_span((0.0, 2.5), 0.3, 2.0, margin=0.2) == (0.0, 2.5)       # inside: kept
    assert stable_span((0.0, 2.5), 0.3, 2.6, margin=0.2) == pytest.approx((0.1, 2.8))
    assert stable_span((0.0, 2.5), 0.3, 0.5, margin=0.02) == pytest.approx((0.28, 0.52))  # too loose


def test_live_view_follows_the_run_until_the_user_zooms(panel, stream):
    feed(panel, stream)
    box = panel.cost_view
    (x0, x1), _ = box.viewRange()
    assert x0 <= 0 and x1 >= stream[-1].step                       # the whole run is in view
    box.scaleBy((0.5, 0.5))                                         # the user zooms in
    box.sigRangeChangedManually.emit([True, True])
    zoomed = box.viewRange()
    panel.show_snapshot(make_snapshots(count=8, steps_between=5)[-1])
    assert box.viewRange() == zoomed                                # left alone
    box.enableAutoRange()                                           # "A": follow again
    panel.show_snapshot(make_snapshots(count=9, steps_between=5)[-1])
    assert box.viewRange()[0][0] <= 0 and not any(box.autoRangeEnabled())


def test_while_training_runs_the_plots_redraw_at_most_every_interval(qtbot, stream):
    p = CurvesPanel()
    qtbot.addWidget(p)
    p.resize(900, 600)
    p.show()
    p.redraw_interval = 0.2
    drawn = lambda: len(data(p.curves["cost"])[0])             # noqa: E731
    p.show_snapshot(stream[0])                                 # the first: drawn at once
    assert drawn() == 5
    p.show_snapshot(stream[1])                                 # too soon: kept, drawn later
    assert len(p.steps) == 10 and drawn() == 5
    qtbot.waitUntil(lambda: drawn() == 10, timeout=3000)      # by the timer, if nothing else
    p.show_snapshot(stream[2])
    p.show_snapshot(dataclasses.replace(stream[3], status="paused"))   # not running: at once
    assert drawn() == 20
