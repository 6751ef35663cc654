"""Issue 12 for the Weights panel: tiles big and crisp at a whole-pixel scale, a hover line that never
moves the layout, clicks that open the tile under the cursor, the selected neuron outlined wherever it
was chosen, colour-bar labels that fit, a full-resolution export, and a small minimum size."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QFont, QFontMetrics, QWheelEvent
from PyQt6.QtWidgets import QApplication

from gui.colour_bar_fit import bar_tick_texts
from gui.panels.weights import (MAX_SCALE, MIN_SCALE, SCROLL_MIN_COLS, STEP, TILE, WeightsPanel, cols_that_fit,
                                mosaic_layout, mosaic_size)
from gui.view_state import ViewState
from tests.snapshots import make_snapshot

PNG_DIR = Path("/tmp/panels")
SIZES = {"16": (784, 16, 10), "100": (784, 100, 10), "128 64": (784, 128, 64, 10)}


@pytest.fixture(scope="module")
def snaps():
    return {name: make_snapshot(steps=2, sizes=sizes) for name, sizes in SIZES.items()}


def open_weights(qtbot, snapshot, size):
    panel = WeightsPanel()
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(snapshot)
    qtbot.wait(20)   # the layout settles: the scroll area's resize picks the scale
    return panel


# --- the layout rule, without Qt ------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 10, 16, 30, 100, 128, 300])
@pytest.mark.parametrize("width, height", [(180, 100), (240, 150), (400, 300), (800, 450), (1800, 1000)])
def test_layout_is_a_whole_scale_that_fits_or_scrolls_at_2x(n, width, height):
    scale, cols, scrolls = mosaic_layout(n, width, height, scrollbar=15)
    assert isinstance(scale, int) and 1 <= scale <= MAX_SCALE and 1 <= cols <= n
    w, h = mosaic_size(n, cols)
    room = width - (15 if scrolls else 0)
    assert w * scale <= room                           # never wider than the view
    assert scrolls == (h * scale > height)             # taller than the view: it scrolls
    if not scrolls and scale < MAX_SCALE:              # no larger scale would show every tile
        bigger = scale + 1
        big_w, big_h = mosaic_size(n, cols_that_fit(n, width, bigger))
        assert big_w * bigger > width or big_h * bigger > height
    if scrolls and scale == MIN_SCALE:                 # scrolling: as many 2× columns as fit, no wasted room
        assert (cols + 1) * STEP * scale - scale > room or cols == n
    if scale < MIN_SCALE:                              # only a view too small for 3 columns at 2×
        assert (width - 15 + MIN_SCALE) // (STEP * MIN_SCALE) < SCROLL_MIN_COLS or height < STEP * MIN_SCALE


def test_layout_prefers_the_largest_scale_that_shows_everything():
    assert mosaic_layout(16, 800, 450) == (4, 6, False)     # 3 rows of 112 px tiles
    assert mosaic_layout(100, 1800, 900)[0] == 4
    assert mosaic_layout(128, 800, 450, 15) == (2, 13, True)  # 128 tiles scroll at 2×
    assert mosaic_layout(128, 150, 500, 15)[0] == 1           # a very narrow view: 1×


# --- on screen: the tile sizes the issue measured ---------------------------------------------------
@pytest.mark.parametrize("name", list(SIZES))
@pytest.mark.parametrize("size, least", [((900, 700), 2 * TILE), ((520, 600), 2 * TILE), ((300, 220), TILE)])
def test_tiles_are_drawn_at_a_whole_scale_of_at_least_2x(qtbot, snaps, name, size, least):
    panel = open_weights(qtbot, snaps[name], size)
    px = panel.mosaic.on_screen_tile_size()
    assert px >= least and px == pytest.approx(round(px / TILE) * TILE, abs=1e-6), px
    assert px == panel.mosaic.scale * TILE
    canvas, scroll = panel.mosaic.canvas, panel.mosaic.scroll
    spare = scroll.viewport().width() - canvas.width()
    if panel.mosaic.scrolls:   # the columns fill the width: no room for one more beside the mosaic
        assert spare < STEP * panel.mosaic.scale
    assert canvas.height() == mosaic_size(panel.mosaic.n, panel.mosaic.cols)[1] * panel.mosaic.scale


def test_pixels_are_crisp_blocks(qtbot, snaps):
    """Nearest-neighbour: each weight is a scale × scale block of one colour, no blur between them."""
    panel = open_weights(qtbot, snaps["16"], (900, 700))
    s = panel.mosaic.scale
    assert s >= MIN_SCALE
    image = panel.mosaic.canvas.grab().toImage()
    rect = panel.mosaic.tile_rect(5).toRect()
    pixels = np.array([[image.pixel(rect.x() + x, rect.y() + y) for x in range(rect.width())]
                       for y in range(rect.height())], dtype=np.uint32)
    blocks = pixels.reshape(TILE, s, TILE, s)
    assert (blocks == blocks[:, :1, :, :1]).all()
    assert len(np.unique(blocks[:, 0, :, 0])) > 50        # and they are the weights, not one colour


# --- hovering and clicking ---------------------------------------------------------------------------
def layout_state(panel):
    mosaic = panel.mosaic
    return (panel.minimumSizeHint(), panel.sizeHint(), mosaic.canvas.geometry(), mosaic.scroll.geometry(),
            panel.info.geometry(), mosaic.scale, mosaic.cols)


@pytest.mark.parametrize("name", ["16", "128 64"])
def test_hovering_keeps_the_layout_and_a_click_opens_the_tile_named(qtbot, snaps, name):
    panel = open_weights(qtbot, snaps[name], (520, 600))
    before = layout_state(panel)
    canvas = panel.mosaic.canvas
    for j in (0, 7, panel.mosaic.cols + 1):
        where = panel.mosaic.tile_centre(j)
        qtbot.mouseMove(canvas.viewport(), where)
        qtbot.waitUntil(lambda: panel.info.text().startswith(f"neuron {j}:"))
        qtbot.wait(20)
        assert layout_state(panel) == before           # the long hover text moved nothing
        assert panel.info.height() == before[4].height()
        with qtbot.waitSignal(panel.neuron_clicked, timeout=2000) as blocker:
            qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=where)
        assert blocker.args == [0, j]
        assert panel.selected == (0, j) and panel.mosaic.selected == j


def test_the_hover_line_is_reserved_and_elided(qtbot, snaps):
    panel = open_weights(qtbot, snaps["16"], (300, 220))
    height = panel.info.height()
    assert height >= QFontMetrics(panel.info.font()).height()     # there from the start
    long = panel.describe(0, 3.5, 3.5)
    panel.mosaic.image.hovered.emit(0, 3.5, 3.5)
    assert panel.info.text() == long and panel.info.height() == height
    shown = panel.info.shown_text()
    assert shown != long and shown.endswith("…")
    assert QFontMetrics(panel.info.font()).horizontalAdvance(shown) <= panel.info.width()
    assert panel.minimumSizeHint().width() <= 300


# --- the selected neuron, from any panel -------------------------------------------------------------
def test_a_neuron_selected_elsewhere_is_outlined_and_scrolled_into_view(qtbot, snaps):
    panel = open_weights(qtbot, snaps["128 64"], (520, 600))
    view = ViewState()
    panel.attach(view, training=None)
    assert panel.mosaic.scrolls
    view.select_neuron(0, 127)                        # the last tile, scrolled out of view at first
    assert panel.mosaic.selection.isVisible()
    assert panel.mosaic.selection.rect().contains(QPointF(*(v + TILE / 2 for v in tile_xy(panel, 127))))
    visible = panel.mosaic.scroll.viewport().rect().translated(-panel.mosaic.canvas.pos())
    assert visible.contains(panel.mosaic.tile_centre(127))
    view.select_neuron(1, 40)                         # a row of the first heat map
    assert not panel.mosaic.selection.isVisible()
    heat = panel.heatmaps[0]
    assert heat.selection.isVisible() and heat.selection.rect().top() == 40
    assert heat.selection.rect().width() == heat.n_in
    view.select_neuron(0, 999)                        # not in this network: nothing changes
    assert panel.selected == (1, 40)


def tile_xy(panel, j):
    return (j % panel.mosaic.cols) * STEP, (j // panel.mosaic.cols) * STEP


# --- colour bars -------------------------------------------------------------------------------------
@pytest.mark.parametrize("factor", [1.0, 0.02, 300.0])
def test_colour_bar_labels_fit_their_axis(qtbot, snaps, factor):
    s = snaps["128 64"]
    scaled = replace(s, W=tuple(w * factor for w in s.W))
    panel = open_weights(qtbot, scaled, (300, 400))
    metrics = QFontMetrics(QFont())
    for bar in [panel.mosaic.bar] + [view.bar for view in panel.heatmaps]:
        texts = bar_tick_texts(bar)
        assert texts
        widest = max(metrics.horizontalAdvance(t) for t in texts)
        assert bar.axis.width() >= widest + abs(bar.axis.style["tickLength"]), (texts, bar.axis.width())
    side = panel.mosaic.bar_view
    assert side.width() >= panel.mosaic.bar.axis.width() + 14


# --- export ------------------------------------------------------------------------------------------
def test_export_image_has_every_tile_at_full_resolution(qtbot, snaps, tmp_path):
    panel = open_weights(qtbot, snaps["128 64"], (300, 220))     # a small dock that scrolls
    mosaic = panel.mosaic
    assert mosaic.scrolls
    image = panel.export_image()
    w, h = mosaic_size(128, mosaic.cols)
    scale = max(MIN_SCALE, mosaic.scale)
    assert image.width() >= w * scale and image.height() >= h * scale   # all 128 tiles, none cut off
    tiles = mosaic.render(scale)
    assert (tiles.width(), tiles.height()) == (w * scale, h * scale)
    x, y = tile_xy(panel, 127)
    block = [[tiles.pixel(x * scale + i, y * scale + k) for i in range(scale)] for k in range(scale)]
    assert len({p for row in block for p in row}) == 1               # crisp: one weight, one colour
    assert image.save(str(tmp_path / "weights_export.png"))


def test_render_pngs_at_several_sizes(qtbot, snaps):
    PNG_DIR.mkdir(exist_ok=True)
    for name in ("100", "128 64"):
        for size in ((300, 220), (520, 600), (900, 700)):
            panel = open_weights(qtbot, snaps[name], size)
            path = PNG_DIR / f"weights_{name.replace(' ', '_')}_{size[0]}x{size[1]}.png"
            assert panel.grab().save(str(path)) and path.stat().st_size > 3000
            panel.close()


def test_small_minimum_size(qtbot, snaps):
    panel = open_weights(qtbot, snaps["128 64"], (300, 220))
    hint = panel.minimumSizeHint()
    assert hint.width() <= 300 and hint.height() <= 220
    assert panel.mosaic.scroll.height() >= STEP            # at least a row of tiles shows
    for view in panel.heatmaps:
        assert view.plot.getViewBox().height() >= 10     # the heat maps still draw
        assert view.plot.mapRectToScene(view.plot.boundingRect()).right() <= panel.graphics.width() + 1
    assert panel.mosaic.title.shown_text().endswith("…")
    assert QPoint(0, 0) == panel.mosaic.tile_centre(0) - QPoint(TILE * panel.mosaic.scale // 2,
                                                                TILE * panel.mosaic.scale // 2)


def test_the_wheel_over_the_mosaic_scrolls_it(qtbot, snaps):
    panel = open_weights(qtbot, snaps["128 64"], (520, 600))
    bar = panel.mosaic.scroll.verticalScrollBar()
    assert panel.mosaic.scrolls and bar.maximum() > 0 and bar.value() == 0
    viewport = panel.mosaic.canvas.viewport()
    where = QPointF(panel.mosaic.tile_centre(1))
    event = QWheelEvent(where, QPointF(viewport.mapToGlobal(where.toPoint())), QPoint(0, 0), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(viewport, event)
    assert bar.value() > 0                                  # the area scrolled; the tiles kept their scale
    assert panel.mosaic.on_screen_tile_size() == 2 * TILE
