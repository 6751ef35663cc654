"""Weights panel and neuron inspector: built from real Snapshots, checked against the snapshot's arrays."""
from dataclasses import replace

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt

from gui import theme
from gui.panels.neuron import NeuronInspector, neuron_numbers
from gui.panels.weights import (GAP, ROW_LABEL_PX, STEP, TILE, WeightsPanel, fmt, grid_shape, mosaic, tile_at,
                                tile_origin)
from tests.snapshots import make_snapshot

DEEP = (784, 12, 8, 10)


@pytest.fixture(scope="module")
def snap():
    return make_snapshot(steps=6)


@pytest.fixture(scope="module")
def deep():
    return make_snapshot(steps=4, sizes=DEEP)


@pytest.fixture
def panel(qtbot, snap):
    widget = WeightsPanel()
    qtbot.addWidget(widget)
    widget.show_snapshot(snap)
    return widget


@pytest.fixture
def inspector(qtbot):
    widget = NeuronInspector()
    qtbot.addWidget(widget)
    return widget


class FakeClick:
    """The little of a pyqtgraph MouseClickEvent that a click handler reads."""

    def __init__(self, x, y, button=Qt.MouseButton.LeftButton):
        self.where, self.which, self.accepted = QPointF(x, y), button, False

    def pos(self):
        return self.where

    def button(self):
        return self.which

    def accept(self):
        self.accepted = True


def tile(image, j, cols):
    x, y = tile_origin(j, cols)
    return image[y:y + TILE, x:x + TILE]


def centre_of_tile(j, cols):
    x, y = tile_origin(j, cols)
    return x + TILE / 2, y + TILE / 2


def shown(image_item):
    return np.asarray(image_item.image)


# --- the mosaic layout, without Qt ------------------------------------------------------------
@pytest.mark.parametrize("n, expected", [(1, (1, 1)), (16, (4, 4)), (17, (4, 5)), (30, (5, 6)),
                                         (100, (10, 10)), (128, (11, 12))])
def test_grid_is_near_square(n, expected):
    rows, cols = grid_shape(n)
    assert (rows, cols) == expected and rows * cols >= n and cols - rows <= 1


def test_mosaic_tiles_gaps_and_hit_testing():
    W0 = np.random.default_rng(1).normal(size=(7, 784))
    rows, cols = grid_shape(7)
    image = mosaic(W0, cols)
    assert image.shape == (rows * STEP - GAP, cols * STEP - GAP)
    for j in range(7):
        np.testing.assert_allclose(tile(image, j, cols), W0[j].reshape(28, 28), rtol=1e-6)
        assert tile_at(*centre_of_tile(j, cols), n=7, cols=cols) == j
    assert np.isnan(image[TILE, :]).all() and np.isnan(image[:, TILE]).all()  # the 1-pixel gaps
    assert np.isnan(tile(image, 8, cols)).all()                               # the empty slot
    assert tile_at(TILE + 0.5, 3, 7, cols) is None                            # on a gap
    assert tile_at(*centre_of_tile(8, cols), n=7, cols=cols) is None          # on the empty slot
    assert tile_at(-1, 3, 7, cols) is None


# --- the weights panel -------------------------------------------------------------------------
def test_panel_title_and_one_mosaic_item(panel):
    assert WeightsPanel.title == "Weights"
    images = [item for item in panel.mosaic.box.addedItems if hasattr(item, "setImage")]
    assert images == [panel.mosaic.image]  # one ImageItem for all neurons


def test_mosaic_tile_j_is_neuron_js_weights(panel, snap):
    image, cols = shown(panel.mosaic.image), panel.mosaic.cols
    assert panel.mosaic.n == snap.W[0].shape[0] == 16
    for j in range(16):
        np.testing.assert_allclose(tile(image, j, cols), snap.W[0][j].reshape(28, 28), rtol=1e-6)


def test_mosaic_levels_are_symmetric_and_match_the_colour_bar(panel, snap):
    low, high = panel.mosaic.image.getLevels()
    level = theme.symmetric_level(snap.W[0])
    assert low == pytest.approx(-level) and high == pytest.approx(level)
    assert tuple(panel.mosaic.bar.levels()) == pytest.approx((-level, level))


def test_output_heat_map_is_the_last_weight_matrix(panel, snap):
    (view,) = panel.heatmaps
    np.testing.assert_array_equal(shown(view.image), snap.W[-1])
    low, high = view.image.getLevels()
    assert low == pytest.approx(-high) and high == pytest.approx(theme.symmetric_level(snap.W[-1]))


def test_output_rows_are_labelled_with_every_digit_when_there_is_room(qtbot, snap):
    widget = WeightsPanel()
    qtbot.addWidget(widget)
    widget.resize(700, 900)
    widget.show()
    widget.show_snapshot(snap)
    qtbot.waitUntil(lambda: widget.heatmaps[0].plot.getViewBox().height() >= 10 * ROW_LABEL_PX)
    assert widget.heatmaps[0].row_labels() == [str(d) for d in range(10)]
    widget.resize(700, 300)   # a short heat map: fewer labels, evenly spaced, none overlapping
    view = widget.heatmaps[0]
    qtbot.waitUntil(lambda: view.plot.getViewBox().height() < 10 * ROW_LABEL_PX)
    labels = [int(t) for t in view.row_labels()]
    height = view.plot.getViewBox().height()
    assert labels[0] == 0 and len(set(np.diff(labels))) <= 1
    assert len(labels) == 2 or len(labels) * ROW_LABEL_PX <= height


def test_deep_network_shows_every_deeper_layer(qtbot, deep):
    widget = WeightsPanel()
    qtbot.addWidget(widget)
    widget.show_snapshot(deep)
    assert [view.l for view in widget.heatmaps] == [1, 2]
    for view in widget.heatmaps:
        np.testing.assert_array_equal(shown(view.image), deep.W[view.l])
    np.testing.assert_allclose(tile(shown(widget.mosaic.image), 11, widget.mosaic.cols),
                               deep.W[0][11].reshape(28, 28), rtol=1e-6)


def test_items_are_reused_until_the_architecture_changes(qtbot, panel, deep):
    image, views = panel.mosaic.image, list(panel.heatmaps)
    panel.show_snapshot(make_snapshot(steps=2))
    assert panel.mosaic.image is image and panel.heatmaps == views
    panel.show_snapshot(deep)
    assert panel.mosaic.image is not image and len(panel.heatmaps) == 2
    assert panel.mosaic.n == 12 and panel.mosaic.cols == grid_shape(12)[1]


@pytest.mark.parametrize("j", [0, 5, 15])
def test_clicking_tile_j_emits_layer_0_neuron_j(qtbot, panel, j):
    event = FakeClick(*centre_of_tile(j, panel.mosaic.cols))
    with qtbot.waitSignal(panel.neuron_clicked, timeout=1000) as blocker:
        panel.mosaic.image.mouseClickEvent(event)
    assert blocker.args == [0, j] and event.accepted
    assert panel.mosaic.selection.isVisible()
    assert panel.mosaic.selection.rect().contains(QPointF(*centre_of_tile(j, panel.mosaic.cols)))


def test_clicking_a_gap_emits_nothing(qtbot, panel):
    with qtbot.assertNotEmitted(panel.neuron_clicked):
        panel.mosaic.image.mouseClickEvent(FakeClick(TILE + 0.5, 5))
        panel.mosaic.image.mouseClickEvent(FakeClick(5, 5, Qt.MouseButton.RightButton))


def test_a_real_mouse_click_on_a_tile(qtbot, panel):
    panel.resize(900, 650)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)  # let the layout settle, so the view's range is final before mapping
    j = 6
    canvas = panel.mosaic.canvas
    where = panel.mosaic.tile_centre(j)      # from the geometry: scale and columns
    assert where == canvas.mapFromScene(panel.mosaic.image.mapToScene(QPointF(*centre_of_tile(j, panel.mosaic.cols))))
    with qtbot.waitSignal(panel.neuron_clicked, timeout=2000) as blocker:
        qtbot.mouseMove(canvas.viewport(), where)
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert blocker.args == [0, j]


def test_clicking_a_heat_map_row_names_that_neuron(qtbot, panel):
    with qtbot.waitSignal(panel.neuron_clicked, timeout=1000) as blocker:
        panel.heatmaps[0].image.mouseClickEvent(FakeClick(4.5, 7.5))  # row 7, column 4
    assert blocker.args == [1, 7]


def test_hover_text_names_the_neuron_and_its_numbers(panel, snap):
    j, cols = 9, panel.mosaic.cols
    x, y = tile_origin(j, cols)
    panel.mosaic.image.hovered.emit(0, x + 6.5, y + 3.5)
    text = panel.info.text()
    assert text.startswith(f"neuron {j}: bias {fmt(snap.b[0][j])}")
    assert f"|∂C/∂W_j| {fmt(snap.grad_neuron_norms[0][j])}" in text
    assert f"= {fmt(snap.W[0][j, 3 * 28 + 6])}" in text
    panel.mosaic.image.left.emit()
    assert panel.info.text() == WeightsPanel.HINT
    assert panel.describe(1, 3.5, 2.5).startswith(f"output 2 ← layer 1 neuron 3: weight "
                                                  f"{fmt(snap.W[1][2, 3])}")


def broken(snapshot):
    """The snapshot with NaN and ±inf in its first weights and gradients, as after divergence."""
    W0, dW0 = np.array(snapshot.W[0]), np.array(snapshot.dW[0])
    W0[0, :10], W0[1, 5], W0[2, 7] = np.nan, np.inf, -np.inf
    dW0[0, :] = np.nan
    dW0[3, 100] = np.inf
    W1 = np.array(snapshot.W[1])
    W1[4, 2] = np.nan
    return replace(snapshot, W=(W0, W1), dW=(dW0, *snapshot.dW[1:]))


def test_nan_and_inf_draw_without_error(qtbot, panel, inspector, snap):
    bad = broken(snap)
    panel.resize(600, 500)
    panel.show()
    panel.show_snapshot(bad)
    panel.grab()  # forces a render of every item
    cols, level = panel.mosaic.cols, theme.symmetric_level(bad.W[0])
    assert np.isfinite(panel.mosaic.image.getLevels()).all()
    assert tile(shown(panel.mosaic.image), 1, cols)[0, 5] == pytest.approx(level)   # +inf drawn as +L
    assert tile(shown(panel.mosaic.image), 2, cols)[0, 7] == pytest.approx(-level)  # -inf as -L
    assert np.isfinite(tile(shown(panel.mosaic.image), 0, cols)).all()
    assert np.isfinite(shown(panel.heatmaps[0].image)).all()
    for j in (0, 1, 3):
        inspector.set_neuron(0, j)
        inspector.show_snapshot(bad)
        inspector.grab()
        assert np.isfinite(shown(inspector.images.weights)).all()
        assert np.isfinite(shown(inspector.images.grad)).all()


# --- the neuron inspector ----------------------------------------------------------------------
def test_inspector_shows_a_first_layer_neuron(inspector, snap):
    j = 7
    inspector.set_neuron(0, j)
    inspector.show_snapshot(snap)
    assert inspector.heading.text() == f"Hidden neuron {j} (layer 1)"
    assert inspector.stack.currentWidget() is inspector.image_view
    np.testing.assert_array_equal(shown(inspector.images.weights), snap.W[0][j].reshape(28, 28))
    np.testing.assert_array_equal(shown(inspector.images.grad), snap.dW[0][j].reshape(28, 28))
    product = (snap.W[0][j] * snap.probe_a[0]).reshape(28, 28)
    np.testing.assert_allclose(shown(inspector.images.product), product)
    assert product.sum() + snap.b[0][j] == pytest.approx(snap.probe_z[0][j], rel=1e-4)
    low, high = inspector.images.grad.getLevels()
    assert low == pytest.approx(-high) and high == pytest.approx(theme.symmetric_level(snap.dW[0][j]))
    values = {key: label.text() for key, label in inspector.values.items()}
    assert values["bias"] == fmt(snap.b[0][j]) == f"{float(snap.b[0][j]):.4g}"
    assert values["a"] == fmt(snap.probe_a[1][j])
    assert values["z"] == fmt(snap.probe_z[0][j])
    assert values["grad"] == fmt(snap.grad_neuron_norms[0][j])
    assert values["probe"] == f"test #{snap.probe_index}, label {snap.probe_label}"


def test_inspector_shows_deeper_neurons_as_bars(inspector, deep):
    inspector.show_snapshot(deep)
    for l, j, title in ((1, 3, "Hidden neuron 3 (layer 2)"), (2, 4, "Output neuron 4 (digit 4)")):
        inspector.set_neuron(l, j)
        assert inspector.heading.text() == title
        assert inspector.stack.currentWidget() is inspector.bar_view
        bars = inspector.bars.weights
        heights = bars.positive.opts["height"] + bars.negative.opts["height"]
        np.testing.assert_allclose(heights, deep.W[l][j])
        assert np.all(bars.positive.opts["height"] >= 0) and np.all(bars.negative.opts["height"] <= 0)
        grad = inspector.bars.grad
        np.testing.assert_allclose(grad.positive.opts["height"] + grad.negative.opts["height"],
                                   deep.dW[l][j])
        assert inspector.values["a"].text() == fmt(deep.probe_a[l + 1][j])
        assert inspector.values["bias"].text() == fmt(deep.b[l][j])


def test_inspector_numbers_and_edge_cases(inspector, snap):
    assert inspector.neuron is None
    inspector.show_snapshot(snap)          # nothing chosen yet: draws nothing, no error
    inspector.set_neuron(0, 99)            # not in a 16-neuron layer
    assert "not in this network" in inspector.heading.text()
    numbers = neuron_numbers(snap, 1, 2)
    assert numbers["z"] == fmt(snap.probe_z[1][2]) and numbers["a"] == fmt(snap.probe_a[2][2])
    assert fmt(1234.5678) == "1235" and fmt(float("nan")) == "nan"


def count_signed_pixels(widget):
    """(reddish, bluish) pixel counts of the widget's rendering: the diverging map is in use."""
    image = widget.grab().toImage()
    red = blue = 0
    for x in range(0, image.width(), 4):
        for y in range(0, image.height(), 4):
            r, g, b, _ = image.pixelColor(x, y).getRgb()
            red += r > 150 and g < 120 and b < 120
            blue += b > 150 and r < 120 and g < 160
    return red, blue


def test_rendered_widgets_show_both_signs(qtbot, panel, inspector, snap, tmp_path):
    panel.resize(900, 650)
    panel.show()
    inspector.resize(900, 650)
    inspector.show()
    inspector.set_neuron(0, 3)
    inspector.show_snapshot(snap)
    qtbot.waitExposed(inspector)
    for widget, name in ((panel, "weights.png"), (inspector, "neuron.png")):
        assert widget.grab().save(str(tmp_path / name))
        red, blue = count_signed_pixels(widget)
        assert red > 100 and blue > 100


def test_a_big_layers_colour_level_reads_a_sample_of_every_column():
    """Above theme.LEVEL_SAMPLE values the level comes from a strided sample prime to the row length:
    close to the whole array's quantile even when columns differ (border pixels' weights stay small)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((512, 784)).astype(np.float32) * 0.05
    W[:, ::7] *= 8                                  # every 7th pixel: a stride of 7 would see only these
    exact = float(np.quantile(np.abs(W), 0.99))
    assert theme.symmetric_level(W) == pytest.approx(exact, rel=0.03)
    small = W[:60]                                  # under the sample size: exact
    assert theme.symmetric_level(small) == pytest.approx(float(np.quantile(np.abs(small), 0.99)), rel=1e-6)
