"""ComparePanel: run A and run B overlaid, and the validation of what B changes."""
import os
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from gui.panels.compare import CAPACITY, ComparePanel, compare_settings, describe, settings_of, smooth
from tests.snapshots import make_snapshot, make_snapshots, open_panel

PNG_DIR = Path(os.environ.get("PANEL_PNG_DIR", "/tmp/panels"))
BASE = {"hidden": [100], "activation": "sigmoid", "cost": "cross-entropy", "seed": 0,
        "lr": 0.1, "momentum": 0.9, "l2": 0.0, "batch_size": 32}


# --- compare_settings -------------------------------------------------------------------------------
@pytest.mark.parametrize("change, expected", [
    ({"lr": 0.5}, {"lr": 0.5}), ({"lr": "0.5"}, {"lr": 0.5}), ({"momentum": "0"}, {"momentum": 0.0}),
    ({"batch_size": "10"}, {"batch_size": 10}), ({"batch_size": 64.0}, {"batch_size": 64}),
    ({"hidden": "100, 30"}, {"hidden": [100, 30]}), ({"hidden": [30]}, {"hidden": [30]}),
    ({"activation": "relu"}, {"activation": "relu"}), ({"cost": "quadratic"}, {"cost": "quadratic"}),
])
def test_compare_settings_applies_a_valid_change(change, expected):
    out = compare_settings(BASE, change)
    assert {k: out[k] for k in BASE} == {**BASE, **expected}
    assert BASE["lr"] == 0.1     # the base is not modified


@pytest.mark.parametrize("change, message", [
    ({}, "choose a setting"),
    ({"lr": 0}, "must be positive"), ({"lr": -1}, "must be positive"), ({"lr": "fast"}, "must be a number"),
    ({"lr": "nan"}, "finite"), ({"momentum": 1.0}, "below 1"), ({"momentum": -0.1}, "at least 0"),
    ({"batch_size": 0}, "whole number from 1"), ({"batch_size": 2.5}, "whole number"),
    ({"batch_size": True}, "whole number"),
    ({"hidden": "100 x"}, "whole numbers"), ({"hidden": "0"}, "between 1 and 4096"), ({"hidden": ""}, "1 to 8 layers"),
    ({"activation": "swish"}, "sigmoid, tanh, relu"), ({"cost": "hinge"}, "quadratic, cross-entropy"),
    ({"seed": 3}, "cannot change 'seed'"),
    ({"lr": "0.1"}, r"same as run A \(lr 0.1\)"), ({"hidden": "100"}, "same as run A"),
])
def test_compare_settings_rejects_bad_changes(change, message):
    with pytest.raises(ValueError, match=message):
        compare_settings(BASE, change)


def test_smooth_is_a_centred_mean_that_shrinks_at_the_start():
    y = np.array([9.0, 1, 2, 3, 4, 5, 6, 7, np.nan, 9])
    out = smooth(y, 4)
    assert out[0] == 9.0                                    # the first point is itself
    assert out[1] == pytest.approx(np.mean(y[0:3]))         # 0…2
    assert out[4] == pytest.approx(np.mean(y[2:7]))         # full window: 2…6
    assert out[7] == pytest.approx(np.mean([5, 6, 7, 9]))   # the NaN is skipped
    assert out[9] == pytest.approx(np.mean([7, 9]))         # cut off at the end
    ramp = np.arange(100.0)
    np.testing.assert_allclose(smooth(ramp, 20)[:90], ramp[:90])   # no lag on a straight line


def test_settings_of_a_snapshot_config_and_descriptions():
    s = settings_of(make_snapshot(steps=1, sizes=(784, 20, 12, 10)).config)
    assert s["hidden"] == [20, 12] and "sizes" not in s
    assert describe("lr", 0.5) == "lr 0.5" and describe("hidden", [100, 30]) == "hidden 100 30"
    assert describe("activation", "tanh") == "tanh" and describe("batch_size", 10) == "batch 10"


# --- the panel ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def runs():
    """Run A at lr 0.1 and run B at lr 0.5, same seed and data: 40 snapshots of 4 steps each."""
    return make_snapshots(count=40, lr=0.1), make_snapshots(count=40, lr=0.5)


@pytest.fixture
def panel(qtbot):
    return open_panel(qtbot, ComparePanel, size=(900, 500))


def data(item):
    x, y = item.getOriginalDataset()
    return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))


def start(qtbot, panel, key, value):
    panel.setting.setCurrentIndex(panel.setting.findData(key))
    if panel.value_choice.isVisible():
        panel.value_choice.setCurrentText(value)
    else:
        panel.value_edit.setText(value)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)


def test_start_button_emits_the_parsed_change(qtbot, panel, runs):
    panel.show_snapshot(runs[0][0])
    with qtbot.waitSignal(panel.compare_requested) as blocker:
        start(qtbot, panel, "lr", " 0.5 ")
    assert blocker.args[0] == {"lr": 0.5} and panel.change == {"lr": 0.5}
    with qtbot.waitSignal(panel.compare_requested) as blocker:
        start(qtbot, panel, "hidden", "64, 32")
    assert blocker.args[0] == {"hidden": [64, 32]}
    with qtbot.waitSignal(panel.compare_requested) as blocker:
        start(qtbot, panel, "activation", "tanh")
    assert blocker.args[0] == {"activation": "tanh"}


def test_a_bad_value_is_explained_and_nothing_starts(qtbot, panel, runs):
    panel.show_snapshot(runs[0][0])
    with qtbot.assertNotEmitted(panel.compare_requested):
        start(qtbot, panel, "batch_size", "-3")
        start(qtbot, panel, "lr", "0.1")       # what run A already uses
    assert panel.message.text() == "Not started: run B would be the same as run A (lr 0.1)"


def test_b_curves_hold_exactly_the_fed_costs(panel, runs):
    a, b = runs
    for s in a:
        panel.show_snapshot(s)
    assert panel.request({"lr": 0.5})
    for s in b:
        panel.show_snapshot_b(s)
    curves = panel.curves
    for name, stream in (("A", a), ("B", b)):
        steps = np.concatenate([s.cost_steps for s in stream])
        costs = np.concatenate([s.cost_values for s in stream])
        x, y = data(curves[f"{name} cost"])
        np.testing.assert_array_equal(x, steps)
        np.testing.assert_allclose(y, costs, rtol=1e-12)
        _, smoothed = data(curves[f"{name} smoothed"])
        np.testing.assert_allclose(smoothed, smooth(costs, panel.smoothing_span), rtol=1e-12)
        epochs = stream[-1].epochs
        ex, ey = data(curves[f"{name} test"])
        np.testing.assert_array_equal(ex, [r.epoch for r in epochs])
        np.testing.assert_allclose(ey, [100 * r.test_accuracy for r in epochs])
    # the runs really differ: B trained with the larger learning rate
    assert not np.allclose(data(curves["A cost"])[1], data(curves["B cost"])[1])
    labels, accuracy_labels = panel.legend_texts()
    assert labels == ["A: lr 0.1", "B: lr 0.5"]
    final = {name: 100 * stream[-1].epochs[-1].test_accuracy for name, stream in (("A", a), ("B", b))}
    assert accuracy_labels == [
        f"{name}: lr {lr} — {final[name]:.1f}%" for name, lr in (("A", 0.1), ("B", 0.5))]
    assert panel.smoothing_span == 5         # 160 steps: a wide window would bend the start


def test_clear_b_and_reset(panel, runs):
    a, b = runs
    panel.show_snapshot(a[0])
    panel.request({"momentum": 0.5})
    panel.show_snapshot_b(b[0])
    panel.clear_b()
    assert len(data(panel.curves["B cost"])[0]) == 0 and panel.change is None
    assert len(data(panel.curves["A cost"])[0]) == len(a[0].cost_steps)
    panel.reset()
    assert len(data(panel.curves["A cost"])[0]) == 0


def test_histories_stay_bounded(panel, runs):
    import dataclasses
    base = runs[1][0]
    for k in range(20):
        steps = np.arange(k * 1000, (k + 1) * 1000, dtype=np.float64)
        panel.show_snapshot_b(dataclasses.replace(base, cost_steps=steps, cost_values=np.sin(steps),
                                                  accuracy_values=np.zeros(1000)))
    assert len(panel.runs["B"].history) <= CAPACITY + 1
    history = panel.runs["B"].history
    assert history.x[0] < history.stride      # still starts at the first step, averaged


def test_render_compare_panel(qtbot, panel, runs):
    a, b = runs
    for s in a:
        panel.show_snapshot(s)
    panel.request({"lr": 0.5})
    for s in b:
        panel.show_snapshot_b(s)
    qtbot.wait(50)
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    assert panel.grab().save(str(PNG_DIR / "compare.png"))


def test_test_checks_between_epochs_draw_each_run_s_test_line(panel, runs):
    import dataclasses

    from core.snapshot import TestCheck
    a = runs[0][-1]
    spe = a.steps_per_epoch
    checks = (TestCheck(spe // 2, 1.5, 0.40), TestCheck(spe + spe // 2, 1.0, 0.60))
    panel.show_snapshot(dataclasses.replace(a, test_checks=checks))
    panel.draw_if_dirty()
    x, y = data(panel.curves["A test checks"])
    expected = sorted([(c.step, c.test_accuracy) for c in checks]
                      + [(r.step, r.test_accuracy) for r in a.epochs if r.step >= spe // 2])
    np.testing.assert_allclose(x, [step / spe for step, _ in expected])
    np.testing.assert_allclose(y, [100 * acc for _, acc in expected])
    ex, _ = data(panel.curves["A test"])                   # the epoch markers stay
    np.testing.assert_array_equal(ex, [r.epoch for r in a.epochs])
