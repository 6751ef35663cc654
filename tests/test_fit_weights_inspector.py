"""Issue 12 for the Neuron inspector (tabbed with Weights): colour-bar labels whole, images that reflow
to the dock's shape, a small minimum size with names elided and numbers whole."""
from dataclasses import replace

import pytest
from PyQt6.QtGui import QFont, QFontMetrics

from gui.colour_bar_fit import bar_tick_texts
from gui.panels.neuron import NeuronInspector
from tests.snapshots import make_snapshot


@pytest.fixture(scope="module")
def snap():
    s = make_snapshot(steps=3, sizes=(784, 32, 16, 10))
    return replace(s, dW=tuple(d * 0.01 for d in s.dW))    # small gradients: labels like "1.5e-05"


def open_inspector(qtbot, snapshot, size, neuron=(0, 3)):
    panel = NeuronInspector()
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_neuron(*neuron)
    panel.show_snapshot(snapshot)
    qtbot.wait(10)
    return panel


def bars(panel):
    images = panel.images
    return images.weights_bar, images.grad_bar, images.product_bar


@pytest.mark.parametrize("size", [(300, 220), (520, 600), (900, 400)])
def test_colour_bar_labels_are_whole(qtbot, snap, size):
    panel = open_inspector(qtbot, snap, size)
    metrics = QFontMetrics(QFont())
    if not panel.images.bars_shown:       # too narrow for image and bar: the scale is in the titles
        titles = [h.text() for h in panel.images.headings]
        assert all("±" in t for t in titles) and all(not bar.isVisible() for bar in bars(panel))
        for heading in panel.images.headings:
            assert heading.shown_text() == heading.text()
        return
    for bar in bars(panel):
        texts = bar_tick_texts(bar)
        widest = max(metrics.horizontalAdvance(t) for t in texts)
        assert bar.axis.width() >= widest + abs(bar.axis.style["tickLength"]), texts
        cell = bar.getViewWidget()                         # the bar lies inside its plot's view
        inside = cell.rect().adjusted(-1, -1, 1, 1)
        assert inside.contains(cell.mapFromScene(bar.sceneBoundingRect()).boundingRect())


@pytest.mark.parametrize("size, columns", [((900, 400), 3), ((520, 600), 2), ((300, 700), 1)])
def test_images_reflow_to_the_docks_shape(qtbot, snap, size, columns):
    panel = open_inspector(qtbot, snap, size)
    assert panel.images.columns == columns


@pytest.mark.parametrize("size, shown", [((300, 220), False), ((520, 600), True), ((900, 400), True)])
def test_images_keep_their_size_before_their_colour_bars(qtbot, snap, size, shown):
    panel = open_inspector(qtbot, snap, size)
    assert panel.images.bars_shown == shown
    plot = panel.images.plots[0].getViewBox()
    assert min(plot.width(), plot.height()) >= 40            # the digit is seen, not a 14 px speck


def test_small_minimum_size_with_whole_numbers(qtbot, snap):
    panel = NeuronInspector()
    qtbot.addWidget(panel)
    hint = panel.minimumSizeHint()
    assert hint.width() <= 300 and hint.height() <= 220
    panel = open_inspector(qtbot, snap, (300, 220))
    assert panel.width() == 300
    for key, label in panel.values.items():             # the numbers are never cut
        assert QFontMetrics(label.font()).horizontalAdvance(label.text()) <= label.width() + 1, key
    assert panel.heading.text() == "Hidden neuron 3 (layer 1)"
