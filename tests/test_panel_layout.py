"""The Network panel: its items hold the probe image, the activations, the top weights and the outputs."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt

from gui import theme
from gui.panels.layout import LayoutPanel, label_text_of, link_count, top_weights
from gui.widgets import NEUTRAL, unit_activation
from tests.snapshots import make_snapshot, open_panel

PNG_DIR = Path("/tmp/panels")


@pytest.fixture(scope="module")
def one_hidden():
    return make_snapshot(steps=20)


@pytest.fixture(scope="module")
def two_hidden():
    return make_snapshot(steps=20, sizes=(784, 16, 12, 10), activation="tanh")


@pytest.fixture
def panel(qtbot):
    return open_panel(qtbot, LayoutPanel, unpaced=True)   # pacing: tested with Activations


def broken(snapshot):
    """A copy of ``snapshot`` with NaN and ±inf in the first weights and in every probe activation."""
    W0 = np.array(snapshot.W[0])
    W0[0, :5] = np.nan
    W0[1, :5] = np.inf
    W0[2, :5] = -np.inf
    probe_a = [np.array(a) for a in snapshot.probe_a]
    for a in probe_a:
        a[0], a[1] = np.nan, np.inf
    return replace(snapshot, W=(W0,) + snapshot.W[1:], probe_a=tuple(probe_a))


def brush_rgba(nodes):
    return np.array([b.color().getRgb() for b in nodes.data["brush"]])


def label_text(item):
    return label_text_of(item)


def test_input_image_is_the_probe_with_fixed_levels(panel, one_hidden):
    panel.show_snapshot(one_hidden)
    np.testing.assert_array_equal(panel.input_image.image, np.asarray(one_hidden.probe_a[0]).reshape(28, 28))
    assert tuple(panel.input_image.levels) == (0.0, 1.0)
    assert panel.input_image.width() == 28 and panel.input_image.height() == 28


def test_one_scatter_per_layer_with_a_node_per_neuron(panel, two_hidden):
    panel.show_snapshot(two_hidden)
    assert [len(nodes.data) for nodes in panel.node_items] == [16, 12, 10]
    assert [len(brush_rgba(nodes)) for nodes in panel.node_items] == [16, 12, 10]


def test_node_colours_follow_the_activation(panel, one_hidden, two_hidden):
    panel.show_snapshot(one_hidden)  # sigmoid: 0..1 straight onto the colour map
    expected = theme.activation_cmap().map(np.asarray(one_hidden.probe_a[1]), mode="byte")
    np.testing.assert_array_equal(brush_rgba(panel.node_items[0]), expected)
    panel.show_snapshot(two_hidden)  # tanh: -1..1 shifted to 0..1
    expected = theme.activation_cmap().map((np.asarray(two_hidden.probe_a[2]) + 1) / 2, mode="byte")
    np.testing.assert_array_equal(brush_rgba(panel.node_items[1]), expected)


def test_relu_colours_scale_to_the_layer_maximum():
    a = np.array([0.0, 1.0, 4.0, np.nan])
    np.testing.assert_allclose(unit_activation(a, "relu"), [0.0, 0.25, 1.0, np.nan])
    np.testing.assert_allclose(unit_activation(np.zeros(3), "relu"), 0.0)


def test_wide_layers_fit_in_several_columns(panel):
    panel.show_snapshot(make_snapshot(steps=1, sizes=(784, 100, 10)))
    x, y = panel.node_items[0].getData()
    assert len(x) == 100
    assert len(np.unique(np.round(x, 6))) == 3          # 100 nodes in 3 columns of at most 40
    assert y.min() >= 0 and y.max() <= 2.0               # inside the image's height


@pytest.mark.parametrize("l", [0, 1, 2])
def test_links_are_the_strongest_weights_coloured_by_sign(panel, two_hidden, l):
    panel.show_snapshot(two_hidden)
    W = np.asarray(two_hidden.W[l])
    links = panel.link_items[l]
    k = link_count(W)
    assert len(links) == k == min(150, max(10, W.size // 3))
    strongest = np.sort(np.abs(W).ravel())[-k:]
    rows, cols, values = top_weights(W, k)
    np.testing.assert_allclose(np.sort(np.abs(values)), strongest, rtol=1e-6)
    red = (links.colours[:, :3] == theme.POSITIVE).all(axis=1)
    blue = (links.colours[:, :3] == theme.NEGATIVE).all(axis=1)
    assert (red | blue).all()
    assert red.sum() == np.count_nonzero(values > 0)
    np.testing.assert_array_equal(red, values > 0)
    assert links.widths[-1] == links.widths.max()        # the strongest weight is drawn widest


def test_input_links_start_at_the_weights_pixel(panel, one_hidden):
    panel.show_snapshot(one_hidden)
    W = np.asarray(one_hidden.W[0])
    j, i = np.unravel_index(np.argmax(np.abs(W)), W.shape)
    links = panel.link_items[0]
    pixel = (np.array([i % 28, i // 28]) + 0.5) * (2.0 / 28)   # the image spans [0, 2]²
    np.testing.assert_allclose(links.starts[-1], pixel)
    x, y = panel.node_items[0].getData()
    np.testing.assert_allclose(links.ends[-1], (x[j], y[j]))


def test_outputs_are_labelled_with_their_values(panel, one_hidden):
    panel.show_snapshot(one_hidden)
    out = np.asarray(one_hidden.probe_a[-1])
    texts = [label_text(t) for t in panel.output_labels]
    for k, text in enumerate(texts):
        assert text.startswith(f"{k}  {out[k]:.2f}")
    assert texts[one_hidden.probe_label].endswith("◀ label")
    top = int(np.argmax(out))
    assert panel.output_labels[top].color.getRgb()[:3] == theme.ACCENT
    pens = panel.node_items[-1].data["pen"]
    assert pens[top].widthF() == max(p.widthF() for p in pens)
    assert f"predicted {top}" in label_text(panel.header)


def test_items_are_kept_until_the_architecture_changes(panel, qtbot, one_hidden, two_hidden):
    panel.show_snapshot(one_hidden)
    image, nodes = panel.input_image, panel.node_items[0]
    panel.show_snapshot(make_snapshot(steps=3))
    assert panel.input_image is image and panel.node_items[0] is nodes
    panel.show_snapshot(two_hidden)
    assert len(panel.node_items) == 3 and panel.node_items[0] is not nodes
    fresh = LayoutPanel()
    qtbot.addWidget(fresh)
    fresh.show()
    fresh.show_snapshot(two_hidden)
    items = panel.plot.getPlotItem().items
    assert image not in items and nodes not in items         # nothing left over from the old network
    assert len(items) == len(fresh.plot.getPlotItem().items)


def test_nan_and_inf_are_drawn_neutral(panel, one_hidden):
    snapshot = broken(one_hidden)
    panel.show_snapshot(snapshot)
    assert np.isfinite(panel.input_image.image).all()
    assert panel.input_image.image[0, 0] == 0.5                   # NaN pixel: mid grey
    rgba = brush_rgba(panel.node_items[0])
    assert tuple(rgba[0]) == tuple(rgba[1]) == NEUTRAL        # NaN and inf activations
    W0 = np.asarray(snapshot.W[0])
    assert len(panel.link_items[0]) == 150
    assert np.isfinite(panel.link_items[0].widths).all()
    rows, cols, values = top_weights(W0, 150)
    assert np.isfinite(values).all()
    assert label_text(panel.output_labels[0]).startswith("0  nan")


def test_all_nan_weights_draw_no_links(panel, one_hidden):
    W = tuple(np.full_like(w, np.nan) for w in one_hidden.W)
    panel.show_snapshot(replace(one_hidden, W=W))
    assert [len(links) for links in panel.link_items] == [0, 0]


def test_clicking_a_hidden_node_emits_its_layer_and_index(panel, qtbot, two_hidden):
    panel.show_snapshot(two_hidden)
    for l, j in [(0, 5), (1, 3)]:
        nodes = panel.node_items[l]
        with qtbot.waitSignal(panel.neuron_clicked, timeout=1000) as blocker:
            nodes.sigClicked.emit(nodes, [nodes.points()[j]], None)
        assert blocker.args == [l, j]


def test_a_real_mouse_click_on_a_node(panel, qtbot, one_hidden):
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(one_hidden)
    x, y = panel.node_items[0].getData()
    box = panel.plot.getPlotItem().getViewBox()
    scene_pos = box.mapViewToScene(QPointF(float(x[7]), float(y[7])))
    where = panel.plot.mapFromScene(scene_pos)
    with qtbot.waitSignal(panel.neuron_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(panel.plot.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(where.x(), where.y()))
    assert blocker.args == [0, 7]


def test_output_nodes_are_not_clickable(panel, qtbot, one_hidden):
    panel.show_snapshot(one_hidden)
    outputs = panel.node_items[-1]
    with qtbot.assertNotEmitted(panel.neuron_clicked):
        outputs.sigClicked.emit(outputs, [outputs.points()[2]], None)


def test_render_png(panel, qtbot, two_hidden):
    PNG_DIR.mkdir(exist_ok=True)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(two_hidden)
    path = PNG_DIR / "layout.png"
    assert panel.grab().save(str(path))
    image = panel.grab().toImage()
    assert image.width() == 900 and image.height() == 600
    assert path.stat().st_size > 5000


def test_knocked_out_neurons_are_crosses(panel, two_hidden):
    panel.show_snapshot(replace(two_hidden, silenced=((0, 3), (0, 5), (1, 2))))
    symbols = [[spot.symbol() for spot in nodes.points()] for nodes in panel.node_items]
    assert [j for j, s in enumerate(symbols[0]) if s == "x"] == [3, 5]
    assert [j for j, s in enumerate(symbols[1]) if s == "x"] == [2]
    assert set(symbols[2]) == {"o"}                                  # outputs are never silenced
    panel.show_snapshot(two_hidden)                                  # restored: circles again
    assert all(spot.symbol() == "o" for nodes in panel.node_items for spot in nodes.points())
