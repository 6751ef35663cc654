"""Issue 12 for the Network panel: captions that never overlap at any width down to the minimum, a
header and output labels that fit, the selected neuron ringed in the accent colour, nodes of at
least ~8 px where their spacing allows, and a small minimum size."""
from itertools import combinations
from pathlib import Path

import pytest
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QFont, QFontMetrics

from gui import theme
from gui.panels.layout import MIN_NODE_PX, LayoutPanel, label_text_of
from gui.view_state import ViewState
from tests.snapshots import make_snapshot, open_panel

PNG_DIR = Path("/tmp/panels")
NETS = {"one": (784, 100, 10), "two": (784, 128, 64, 10), "three": (784, 64, 32, 16, 10)}
PANEL_SIZES = [(240, 180), (300, 220), (400, 300), (520, 600), (900, 700)]


@pytest.fixture(scope="module")
def snaps():
    return {name: make_snapshot(steps=2, sizes=sizes) for name, sizes in NETS.items()}


def shown_panel(qtbot, snapshot, size):
    panel = open_panel(qtbot, LayoutPanel, size=size, unpaced=True)
    qtbot.waitExposed(panel)
    panel.show_snapshot(snapshot)
    qtbot.wait(10)
    return panel


def scene_rect(item) -> QRectF:
    return item.mapRectToScene(item.boundingRect())


def visible_text_rects(items):
    return [scene_rect(item) for item in items if item.isVisible() and label_text_of(item)]


def ink_rect(item) -> QRectF:
    """The text's own lines, without the margin a text item keeps around them."""
    m = item.textItem.document().documentMargin()
    return scene_rect(item).adjusted(m, m, -m, -m)


def view_rect(panel) -> QRectF:
    box = panel.plot.getPlotItem().getViewBox()
    return box.mapRectToScene(box.boundingRect())


@pytest.mark.parametrize("name", ["two", "three", "one"])
@pytest.mark.parametrize("size", PANEL_SIZES)
def test_captions_never_overlap_and_stay_in_view(qtbot, snaps, name, size):
    panel = shown_panel(qtbot, snaps[name], size)
    rects = visible_text_rects(panel.captions)
    assert len(rects) == len(NETS[name])
    for a, b in combinations(rects, 2):
        assert not a.intersects(b), ([label_text_of(c) for c in panel.captions], a, b)
    inside = view_rect(panel).adjusted(-1, -1, 1, 1)
    for rect in rects:
        assert inside.contains(rect), (rect, inside)


@pytest.mark.parametrize("size", PANEL_SIZES)
def test_captions_say_as_much_as_fits(qtbot, snaps, size):
    panel = shown_panel(qtbot, snaps["two"], size)
    texts = [label_text_of(c) for c in panel.captions]
    assert texts[1].endswith("128") or "128 sigmoid" in texts[1]      # the width is always there
    if size[0] >= 900:
        assert texts == ["input 784", "hidden 1\n128 sigmoid", "hidden 2\n64 sigmoid", "output 10"]


def test_captions_refit_when_the_panel_is_narrowed(qtbot, snaps):
    """Switching dock tabs resizes the panel: the captions follow, never overlapping."""
    panel = shown_panel(qtbot, snaps["two"], (900, 600))
    for width in (700, 420, 300, 260, 900):
        panel.resize(width, 400)
        qtbot.wait(10)
        for a, b in combinations(visible_text_rects(panel.captions), 2):
            assert not a.intersects(b)


@pytest.mark.parametrize("size", [(240, 180), (300, 220), (520, 600)])
def test_header_and_output_labels_fit(qtbot, snaps, size):
    panel = shown_panel(qtbot, snaps["two"], size)
    view = view_rect(panel).adjusted(-1, -1, 1, 1)
    assert view.contains(scene_rect(panel.header))
    shown = [item for item in panel.output_labels if item.isVisible()]
    for a, b in combinations(shown, 2):
        assert not ink_rect(a).intersects(ink_rect(b))
    for item in shown:
        assert view.contains(scene_rect(item))
    s = snaps["two"]
    predicted = label_text_of(panel.output_labels[int(s.probe_a[-1].argmax())])
    assert predicted and panel.output_labels[int(s.probe_a[-1].argmax())].isVisible()
    assert panel.output_labels[s.probe_label].isVisible()


def test_the_selected_neuron_is_ringed(qtbot, snaps):
    panel = shown_panel(qtbot, snaps["two"], (900, 700))
    view = ViewState()
    panel.attach(view, training=None)
    assert len(panel.ring.data) == 0
    for l, j in ((0, 5), (1, 63), (2, 4)):              # a hidden node, a deeper one, an output
        view.select_neuron(l, j)
        assert panel.selected == (l, j)
        (spot,) = panel.ring.data
        x, y = panel.node_items[l].getData()
        assert (spot["x"], spot["y"]) == pytest.approx((x[j], y[j]))
        ring = spot["size"] if spot["size"] > 0 else panel.ring.opts["size"]
        assert ring >= panel.node_size(l) + 6
        assert panel.ring.opts["pen"].color().getRgb()[:3] == theme.ACCENT
    view.select_neuron(0, 500)                           # not in this network: no ring
    assert len(panel.ring.data) == 0
    panel.show_snapshot(snaps["one"])                    # a new network forgets the selection
    assert len(panel.ring.data) == 0


def test_clicking_a_node_rings_it_through_the_view_state(qtbot, snaps):
    panel = shown_panel(qtbot, snaps["one"], (900, 700))
    view = ViewState()
    panel.attach(view, training=None)
    nodes = panel.node_items[0]
    nodes.sigClicked.emit(nodes, [nodes.points()[17]], None)
    assert panel.selected == (0, 17) and len(panel.ring.data) == 1


@pytest.mark.parametrize("name, size", [("two", (900, 700)), ("one", (900, 700)), ("one", (520, 600))])
def test_nodes_are_at_least_8px_where_their_spacing_allows(qtbot, snaps, name, size):
    panel = shown_panel(qtbot, snaps[name], size)
    box = panel.plot.getPlotItem().getViewBox()
    per_pixel = box.viewPixelSize()[0]
    for l, nodes in enumerate(panel.node_items):
        x, y = nodes.getData()
        spacing = (min(abs(a - b) for a, b in zip(y, y[1:]) if abs(a - b) > 1e-9)) / per_pixel
        size_px = panel.node_size(l)
        assert size_px >= min(MIN_NODE_PX, 0.95 * spacing) - 0.05
        assert size_px <= max(spacing, 2.0) + 0.05        # neighbours never overlap


def test_small_minimum_size(qtbot, snaps):
    hint = LayoutPanel().minimumSizeHint()
    assert hint.width() <= 300 and hint.height() <= 220
    panel = shown_panel(qtbot, snaps["three"], (300, 220))
    assert QFontMetrics(QFont()).horizontalAdvance(label_text_of(panel.header)) <= panel.width()


def test_render_pngs_at_several_sizes(qtbot, snaps):
    PNG_DIR.mkdir(exist_ok=True)
    for name in ("one", "two", "three"):
        for size in ((300, 220), (520, 600), (900, 700)):
            panel = shown_panel(qtbot, snaps[name], size)
            panel.highlight(0, 3)
            path = PNG_DIR / f"network_{name}_{size[0]}x{size[1]}.png"
            assert panel.grab().save(str(path)) and path.stat().st_size > 3000
            panel.close()
