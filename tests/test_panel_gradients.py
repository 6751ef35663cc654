"""GradientsPanel: gradient norms over time, per-neuron gradients, update ratios, unit health."""
import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtWidgets import QComboBox

from gui.panels.gradients import GradientsPanel, health_line, ratio_text, saturation_masks
from tests.snapshots import make_snapshot, make_snapshots, open_panel

PNG_DIR = Path(os.environ.get("PANEL_PNG_DIR", "/tmp/panels"))
SIZES = (784, 12, 8, 10)


@pytest.fixture
def panel(qtbot):
    return open_panel(qtbot, GradientsPanel, unpaced=True)


@pytest.fixture(scope="module")
def stream():
    return make_snapshots(count=6, steps_between=4, sizes=SIZES)


def feed(panel, snapshots):
    for s in snapshots:
        panel.show_snapshot(s)


def data(item):
    x, y = item.getOriginalDataset()
    return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))


def layer_combo(panel) -> QComboBox:
    return panel.findChild(QComboBox, "layer")


def hand_built(activation, probe_a1, neuron_norms1, **changes):
    """A (784, 4, 10) snapshot whose first hidden layer shows ``probe_a1`` and ``neuron_norms1``."""
    s = make_snapshot(steps=2, sizes=(784, 4, 10))
    probe_a = (s.probe_a[0], np.asarray(probe_a1, float), s.probe_a[2])
    norms = (np.asarray(neuron_norms1, float), s.grad_neuron_norms[1])
    return dataclasses.replace(s, config={**s.config, "activation": activation},
                               probe_a=probe_a, grad_neuron_norms=norms, **changes)


def test_one_norm_curve_per_layer_equal_to_the_columns(panel, stream):
    feed(panel, stream)
    steps = np.concatenate([s.cost_steps for s in stream])
    norms = np.concatenate([s.grad_norm_values for s in stream])
    assert norms.shape == (24, 3)
    assert len(panel.drawn_norms()) == 3
    for l, (x, y) in enumerate(panel.drawn_norms()):
        np.testing.assert_array_equal(x, steps)
        np.testing.assert_allclose(y, norms[:, l])
    np.testing.assert_allclose(panel.norms, norms)
    assert panel.norm_axis_is_log
    names = [name for name, _ in panel.shown_legend()]
    assert names == ["layer 1 (784→12)", "layer 2 (12→8)", "layer 3 (8→10)"]
    assert all(name in panel.legend_text[0] for name in names)


def test_neuron_bars_show_the_chosen_layer(panel, stream):
    feed(panel, stream)
    last = stream[-1]
    combo = layer_combo(panel)
    assert [combo.itemText(i) for i in range(combo.count())] == \
        ["layer 1 (784→12)", "layer 2 (12→8)", "layer 3 (8→10)"]
    x, heights = panel.neuron_bars()
    np.testing.assert_allclose(heights, last.grad_neuron_norms[0])
    np.testing.assert_array_equal(x, np.arange(12))
    combo.setCurrentIndex(1)
    np.testing.assert_allclose(panel.neuron_bars()[1], last.grad_neuron_norms[1])
    panel.show_snapshot(make_snapshots(count=1, steps_between=30, sizes=SIZES)[0])
    assert combo.currentIndex() == 1                   # the choice survives new snapshots


def test_idle_neurons_are_marked(panel):
    panel.show_snapshot(hand_built("relu", [0, 1, 2, 0], [0.0, 0.3, 5e-7, 0.1]))
    np.testing.assert_array_equal(panel.idle_neurons(), [0, 2])


def test_update_ratios_are_drawn_with_their_values(panel, stream):
    feed(panel, stream)
    ratios = stream[-1].update_ratios
    x, y = panel.ratio_points()
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_allclose(y, ratios)
    assert panel.ratio_texts() == [ratio_text(r) for r in ratios]
    assert [ratio_text(r) for r in (0.0052, 0.012, 1.5, 3e-5)] == ["5.2e-3", "1.2e-2", "1.5e0", "3.0e-5"]
    low, high = panel.ratio_range
    assert low < math.log10(1e-3) < high              # the 1e-3 reference line stays in view


@pytest.mark.parametrize("activation, a, saturated, dead", [
    ("sigmoid", [0.01, 0.5, 0.99, 0.3], [1, 0, 1, 0], [0, 0, 0, 0]),
    ("tanh", [-0.99, 0.1, 0.5, 0.985], [1, 0, 0, 1], [0, 0, 0, 0]),
    ("relu", [0.0, 0.0, 1.0, 2.0], [0, 0, 0, 0], [1, 1, 0, 0]),
])
def test_saturation_masks(activation, a, saturated, dead):
    sat, dd = saturation_masks(activation, a)
    np.testing.assert_array_equal(sat, np.array(saturated, bool))
    np.testing.assert_array_equal(dd, np.array(dead, bool))


def test_health_lines_for_hand_built_layers():
    assert health_line(0, "sigmoid", [0.01, 0.5, 0.99, 0.3], [0.1, 0.0, 0.2, 1e-7]) == \
        "layer 1 (sigmoid): 50% saturated on the probe, 2 of 4 not learning"
    assert health_line(1, "relu", [0.0, 1.0, 2.0, 3.0], [0.1, 0.2, 0.3, 0.4]) == \
        "layer 2 (relu): 25% dead (a = 0) on the probe, 0 of 4 not learning"
    assert health_line(0, "swish", [0.5], [np.nan]) == "layer 1 (swish): 0 of 1 not learning"


def test_health_text_covers_every_hidden_layer(panel):
    panel.show_snapshot(hand_built("tanh", [-0.99, 0.1, 0.5, 0.2], [0.0, 0.3, 0.2, 0.1]))
    first = panel.health_text.splitlines()[0]
    assert first == "layer 1 (tanh): 25% saturated on the probe, 1 of 4 not learning"
    feed(panel, make_snapshots(count=2, sizes=SIZES, activation="relu"))
    lines = panel.health_text.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["layer 1 (relu)", "layer 2 (relu)"]
    assert not lines[2].startswith("layer 3")          # the output layer is not a hidden layer


def test_non_finite_values_neither_raise_nor_draw(panel, stream):
    feed(panel, stream)
    bad = hand_built("sigmoid", [np.nan, 0.5, np.inf, 0.99], [np.nan, np.inf, 0.0, 0.1],
                     cost_steps=np.array([100.0, 101.0, 102.0]), cost_values=np.ones(3),
                     accuracy_values=np.ones(3),
                     grad_norm_values=np.array([[np.nan, 1.0], [np.inf, 0.0], [1.0, -np.inf]]),
                     update_ratios=np.array([np.nan, 0.0]))
    panel.show_snapshot(bad)                           # new sizes: the panel rebuilds for 2 layers
    assert len(panel.drawn_norms()) == 2
    _, y0 = panel.drawn_norms()[0]
    np.testing.assert_array_equal(np.isnan(y0[-3:]), [True, True, False])
    _, heights = panel.neuron_bars()
    np.testing.assert_array_equal(heights, [0.0, 0.0, 0.0, 0.1])
    assert panel.ratio_texts() == ["–", "–"]
    assert "25% saturated" in panel.health_text        # 0.99 only; NaN is not saturated
    assert not panel.grab().isNull()


def test_a_snapshot_without_new_points(panel):
    untrained = make_snapshot(steps=0, sizes=SIZES)     # the first snapshot of a run, before step 1
    assert len(untrained.cost_steps) == 0
    panel.show_snapshot(untrained)
    assert len(panel.steps) == 0
    np.testing.assert_array_equal(panel.neuron_bars()[1], np.zeros(12))
    assert panel.health_text.startswith("layer 1 (sigmoid): ")
    trained = make_snapshots(count=2, steps_between=3, sizes=SIZES)
    panel.show_snapshot(trained[0])
    panel.show_snapshot(dataclasses.replace(trained[1], cost_steps=np.zeros(0),
                                            grad_norm_values=np.zeros((0, 3))))
    np.testing.assert_array_equal(panel.steps, [1, 2, 3])


def test_a_new_architecture_rebuilds_the_layer_items(panel, stream):
    feed(panel, stream)
    panel.show_snapshot(make_snapshots(count=1, sizes=(784, 20, 10))[0])
    assert len(panel.drawn_norms()) == 2
    names = [name for name, _ in panel.shown_legend()]
    assert names == ["layer 1 (784→20)", "layer 2 (20→10)"]
    assert layer_combo(panel).count() == 2
    assert panel.norms.shape[1] == 2 and len(panel.steps) == 4   # the old run is forgotten
    assert len(panel.health_text.splitlines()) == 2                # one hidden layer + the note


def test_reset_empties_the_history(panel, stream):
    feed(panel, stream)
    panel.reset()
    assert len(panel.steps) == 0
    assert all(len(x) == 0 for x, _ in panel.drawn_norms())
    assert panel.health_text == ""
    panel.show_snapshot(stream[0])
    np.testing.assert_allclose(panel.norms, stream[0].grad_norm_values)


def test_100000_points_stay_bounded(panel):
    base = make_snapshot(steps=1, sizes=SIZES)
    n = 100_000
    steps = np.arange(1, n + 1, dtype=np.float64)
    norms = np.column_stack([1.0 / np.sqrt(steps), np.full(n, 0.5), np.full(n, 2.0)])
    panel.show_snapshot(dataclasses.replace(base, cost_steps=steps, cost_values=np.ones(n),
                                            accuracy_values=np.ones(n), grad_norm_values=norms))
    assert 2048 <= len(panel.steps) <= 4096
    assert panel.norms.shape == (len(panel.steps), 3)
    np.testing.assert_allclose(panel.norms[:, 2], 2.0)
    assert all(len(x) == len(panel.steps) for x, _ in panel.drawn_norms())


def test_renders_a_readable_png(panel, qtbot):
    feed(panel, make_snapshots(count=50, steps_between=5, lr=0.05, sizes=(784, 32, 16, 10),
                               activation="relu"))
    qtbot.wait(50)                                     # let the layouts settle, as a window would
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    image = panel.grab().toImage()
    assert image.save(str(PNG_DIR / "gradients.png"))
    pixels = {image.pixel(x, y) for x in range(0, 900, 7) for y in range(0, 600, 7)}
    assert len(pixels) > 20


def test_per_neuron_chart_holds_its_peak_while_running_and_fits_when_paused(panel, stream):
    import dataclasses
    last = stream[-1]
    big = tuple(n * 10 for n in last.grad_neuron_norms)
    panel.show_snapshot(dataclasses.replace(last, status="running", grad_neuron_norms=big))
    running_top = panel.neuron_range[1]
    assert running_top >= 10 * float(np.max(last.grad_neuron_norms[0]))
    no_points = dict(cost_steps=np.zeros(0), cost_values=np.zeros(0), accuracy_values=np.zeros(0),
                     grad_norm_values=np.zeros((0, len(SIZES) - 1)))   # the same step, seen again
    panel.show_snapshot(dataclasses.replace(last, status="running", **no_points))
    assert panel.neuron_range[1] == running_top               # held: the bars jump from step to step
    panel.show_snapshot(dataclasses.replace(last, status="paused", **no_points))
    top = float(np.max(last.grad_neuron_norms[0]))
    assert top <= panel.neuron_range[1] <= 2.5 * top          # paused: fitted to the step shown
