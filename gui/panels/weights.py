"""Weights panel: every first-layer neuron's 784 incoming weights as one mosaic of 28×28 tiles, and
the deeper layers' weight matrices as heat maps, all on one blue–white–red scale centred on zero."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QPainterPath, QPen
from PyQt6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QLabel, QVBoxLayout

from core.snapshot import Snapshot
from gui import theme
from gui.panels.base import Panel
from gui.widgets import (TILE, RedrawPacer, colour_bar, finite_for_display, fmt, nice_steps, set_bar_levels,
                         shown_level)

GAP = 1                    # pixels between tiles (NaN: drawn transparent over a grey backing)
STEP = TILE + GAP
GAP_COLOUR = (120, 120, 120)


def grid_shape(n: int) -> tuple:
    """(rows, cols) of the most nearly square grid that holds ``n`` tiles."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def tile_origin(j: int, cols: int) -> tuple:
    """(x, y) of tile j's top-left pixel in the mosaic image (tiles fill rows left to right)."""
    return (j % cols) * STEP, (j // cols) * STEP


def tile_at(x: float, y: float, n: int, cols: int):
    """The neuron whose tile holds mosaic pixel (x, y), or None over a gap or an empty slot."""
    if x < 0 or y < 0:
        return None
    col, row = int(x // STEP), int(y // STEP)
    inside = x - col * STEP < TILE and y - row * STEP < TILE
    j = row * cols + col
    return j if inside and col < cols and j < n else None


def mosaic(W0: np.ndarray, cols: int) -> np.ndarray:
    """W0 (n, 784) laid out as one image of 28×28 tiles, NaN in the gaps and empty slots."""
    n = W0.shape[0]
    rows = math.ceil(n / cols)
    tiles = np.full((rows * cols, TILE * TILE), np.nan, np.float32)
    tiles[:n] = W0
    out = np.full((rows, STEP, cols, STEP), np.nan, np.float32)
    out[:, :TILE, :, :TILE] = tiles.reshape(rows, cols, TILE, TILE).transpose(0, 2, 1, 3)
    return out.reshape(rows * STEP, cols * STEP)[:-GAP, :-GAP]


ROW_LABEL_PX = 13   # vertical room one axis label needs at the default font


def index_ticks(n: int, most: int = 16) -> list:
    """Axis ticks at pixel centres 0.5, 1.5, … labelled with the index, at most ``most`` of them."""
    every = next(step for step in nice_steps() if step * most >= n)
    return [(i + 0.5, str(i)) for i in range(0, n, every)]


class PixelImage(pg.ImageItem):
    """An ImageItem that reports left clicks and hovering in its own pixel coordinates."""

    clicked = pyqtSignal(float, float)
    hovered = pyqtSignal(float, float)
    left = pyqtSignal()

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(ev.pos().x(), ev.pos().y())
            return
        super().mouseClickEvent(ev)

    def hoverEvent(self, ev):
        super().hoverEvent(ev)
        if ev.isExit():
            self.left.emit()
            return
        ev.acceptClicks(Qt.MouseButton.LeftButton)  # so a click on a tile reaches us, not the view
        self.hovered.emit(ev.pos().x(), ev.pos().y())


def outline(colour=theme.ACCENT, width=2) -> QGraphicsRectItem:
    """A hidden, unfilled rectangle for marking the selected neuron."""
    rect = QGraphicsRectItem()
    pen = QPen(QColor(*colour), width)
    pen.setCosmetic(True)  # stays `width` screen pixels at any zoom
    rect.setPen(pen)
    rect.setZValue(10)
    rect.setVisible(False)
    return rect


class MosaicView:
    """The first layer's weights: one ImageItem holding every neuron's 28×28 tile."""

    def __init__(self, plot: pg.PlotItem, n: int, name: str = "Hidden layer 1"):
        self.plot, self.n, self.name = plot, n, name
        self.rows, self.cols = grid_shape(n)
        self.image = PixelImage(axisOrder="row-major")
        self.level = 1.0
        self._backing = self._make_backing()
        self.selection = outline()
        for item in (self._backing, self.image, self.selection):
            plot.addItem(item)
        self._style_plot()
        self.bar = colour_bar(plot, self.image, "weight")

    def _make_backing(self) -> QGraphicsPathItem:
        # grey behind the tiles shows through the NaN gaps, so neighbouring tiles stay apart;
        # it stops at the last tile, so the empty slots of the last row stay blank
        full_rows, rest = divmod(self.n, self.cols)
        path = QPainterPath()
        path.addRect(QRectF(0, 0, self.cols * STEP - GAP, full_rows * STEP - GAP))
        if rest:
            path.addRect(QRectF(0, full_rows * STEP - GAP, rest * STEP - GAP, STEP))
        item = QGraphicsPathItem(path.simplified())
        item.setBrush(QBrush(QColor(*GAP_COLOUR)))
        item.setPen(QPen(Qt.PenStyle.NoPen))
        item.setZValue(-1)
        return item

    def _style_plot(self):
        plot = self.plot
        plot.setTitle(f"{self.name}: {self.n} neurons' incoming weights (28×28)", size=theme.TITLE_SIZE)
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setRange(QRectF(0, 0, self.cols * STEP - GAP, self.rows * STEP - GAP), padding=0.01)

    def show(self, W0: np.ndarray, live: bool = False):
        """Draw ``W0``; ``live`` (training runs) rounds the colour scale and holds it steady."""
        self.level = shown_level(W0, self.level, live)
        shown = finite_for_display(W0, self.level)
        self.image.setImage(mosaic(shown, self.cols), autoLevels=False, levels=(-self.level, self.level))
        set_bar_levels(self.bar, self.level)

    def index_at(self, x: float, y: float):
        return tile_at(x, y, self.n, self.cols)

    def select(self, j):
        if j is not None:
            x, y = tile_origin(j, self.cols)
            self.selection.setRect(QRectF(x - 0.5, y - 0.5, TILE + 1, TILE + 1))
        self.selection.setVisible(j is not None)


class HeatMapView:
    """W[l] for l ≥ 1 as an (n_out × n_in) heat map; row i is neuron i's incoming weights."""

    def __init__(self, plot: pg.PlotItem, l: int, sizes: tuple, max_ticks: int = 16):
        self.plot, self.l, self.max_ticks = plot, l, max_ticks
        self.n_out, self.n_in = sizes[l + 1], sizes[l]
        self.is_output = l == len(sizes) - 2
        self.image = PixelImage(axisOrder="row-major")
        self.selection = outline()
        plot.addItem(self.image)
        plot.addItem(self.selection)
        self._style_plot()
        self.bar = colour_bar(plot, self.image, "weight")
        self.level = 1.0

    def _style_plot(self):
        plot, l = self.plot, self.l
        target = "output" if self.is_output else f"layer {l + 1}"
        plot.setTitle(f"Weights layer {l} → {target} ({self.n_out} × {self.n_in})", size=theme.TITLE_SIZE)
        plot.setLabel("left", "digit" if self.is_output else f"layer {l + 1} neuron")
        plot.setLabel("bottom", f"layer {l} neuron")
        self._row_ticks = None
        self._fit_row_ticks()
        plot.getViewBox().sigResized.connect(self._fit_row_ticks)
        plot.getAxis("bottom").setTicks([index_ticks(self.n_in, self.max_ticks)])
        plot.invertY(True)
        plot.setMouseEnabled(False, False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setRange(QRectF(0, 0, self.n_in, self.n_out), padding=0)

    def _fit_row_ticks(self, *_):
        """As many row labels as fit the plot's height without overlapping (one per ROW_LABEL_PX)."""
        height = self.plot.getViewBox().height()
        fit = int(height // ROW_LABEL_PX) if height > 0 else 10
        most = max(2, min(fit, 10 if self.is_output else 5))
        if most != self._row_ticks:
            self._row_ticks = most
            self.plot.getAxis("left").setTicks([index_ticks(self.n_out, most)])

    def show(self, W: np.ndarray, live: bool = False):
        self.level = shown_level(W, self.level, live)
        self.image.setImage(finite_for_display(W, self.level), autoLevels=False,
                            levels=(-self.level, self.level))
        set_bar_levels(self.bar, self.level)

    def cell_at(self, x: float, y: float):
        """(row i, column k) under pixel (x, y), or None outside the matrix."""
        i, k = math.floor(y), math.floor(x)
        return (i, k) if 0 <= i < self.n_out and 0 <= k < self.n_in else None

    def select(self, i):
        if i is not None:
            self.selection.setRect(QRectF(0, i, self.n_in, 1))
        self.selection.setVisible(i is not None)


class WeightsPanel(Panel):
    """Weights of every layer. Click a tile (or a heat-map row) to inspect that neuron:
    ``neuron_clicked(l, j)`` names weight layer l and neuron j, whose incoming weights are W[l][j]."""

    title = "Weights"
    area = "right"
    follows_past = True
    workspaces = ("Overview", "Weights")
    help = ("Every hidden neuron's 784 incoming weights as a 28×28 tile (blue negative, red positive, "
            'white zero); deeper layers as heat maps, one row per neuron. Hover for numbers, click to '
            'inspect a neuron.')
    neuron_clicked = pyqtSignal(int, int)
    HINT = "Hover over a tile or a heat-map cell for its numbers; click to inspect a neuron."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.info = QLabel(self.HINT)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.info)
        self.sizes = None
        self.mosaic: MosaicView | None = None
        self.heatmaps: list[HeatMapView] = []
        self._snapshot: Snapshot | None = None
        self._drawn: Snapshot | None = None   # the snapshot the images show
        self._hover = None  # (l, x, y) of the pixel under the mouse, refreshed with each snapshot
        # the weights change slowly: while training runs, images at most every REDRAW_INTERVAL
        self._pacer = RedrawPacer(self, self._draw_pending)

    # --- building (once per architecture) ----------------------------------------------------
    def _build(self, sizes: tuple):
        self.graphics.clear()
        self.sizes, self._hover = sizes, None
        # mosaic on top across the full width; the deeper layers' heat maps below it, one row each
        # (side by side, each with its colour bar, they would not fit the dock's width)
        count = len(sizes) - 2
        top = self.graphics.addPlot(row=0, col=0)
        self.mosaic = MosaicView(top, sizes[1], "Output layer" if count == 0 else "Hidden layer 1")
        self._connect(self.mosaic.image, 0)
        self.heatmaps = []
        for l in range(1, count + 1):
            plot = self.graphics.addPlot(row=l, col=0)
            view = HeatMapView(plot, l, sizes)
            self._connect(view.image, l)
            self.heatmaps.append(view)
        layout = self.graphics.ci.layout
        layout.setRowStretchFactor(0, 4 if count < 2 else 2 * count)
        for row in range(1, count + 1):
            layout.setRowStretchFactor(row, 1)

    def _connect(self, image: PixelImage, l: int):
        image.clicked.connect(lambda x, y: self._on_pixel_clicked(l, x, y))
        image.hovered.connect(lambda x, y: self._on_pixel_hovered(l, x, y))
        image.left.connect(self._on_pixel_left)

    # --- drawing -----------------------------------------------------------------------------
    def attach(self, view, training) -> None:
        super().attach(view, training)
        self.neuron_clicked.connect(view.select_neuron)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.sizes != self.sizes:
            self._build(snapshot.sizes)
            self._drawn = None
        self._snapshot = snapshot
        if self._drawn is None or self._pacer.due(snapshot.running):
            self._draw()
        if self._hover is not None:
            self._on_pixel_hovered(*self._hover)

    def _draw(self):
        self._pacer.drawn()
        snapshot = self._drawn = self._snapshot
        live = snapshot.running
        self.mosaic.show(snapshot.W[0], live)
        for view in self.heatmaps:
            view.show(snapshot.W[view.l], live)

    def _draw_pending(self):
        if self._snapshot is not None and self._drawn is not self._snapshot:
            self._draw()

    # --- mouse ---------------------------------------------------------------------------------
    def neuron_at(self, l: int, x: float, y: float):
        """Neuron j under pixel (x, y) of layer l's image (a tile for l = 0, a row otherwise)."""
        if l == 0:
            return self.mosaic.index_at(x, y)
        cell = self.heatmaps[l - 1].cell_at(x, y)
        return None if cell is None else cell[0]

    def _on_pixel_clicked(self, l: int, x: float, y: float):
        j = self.neuron_at(l, x, y)
        if j is None:
            return
        self._select(l, j)
        self.neuron_clicked.emit(l, j)

    def _select(self, l: int, j: int):
        views = [self.mosaic, *self.heatmaps]
        for k, view in enumerate(views):
            view.select(j if k == l else None)

    def _on_pixel_hovered(self, l: int, x: float, y: float):
        self._hover = (l, x, y)
        text = self.describe(l, x, y)
        self.info.setText(text or self.HINT)
        self.graphics.setToolTip(text or "")

    def _on_pixel_left(self):
        self._hover = None
        self.info.setText(self.HINT)
        self.graphics.setToolTip("")

    def describe(self, l: int, x: float, y: float):
        """The hover text for pixel (x, y) of layer l's image, or None over nothing."""
        s = self._snapshot
        if s is None:
            return None
        if l == 0:
            return self._describe_tile(s, x, y)
        return self._describe_cell(s, l, x, y)

    def _describe_tile(self, s: Snapshot, x: float, y: float):
        j = self.mosaic.index_at(x, y)
        if j is None:
            return None
        ox, oy = tile_origin(j, self.mosaic.cols)
        r, c = int(y - oy), int(x - ox)
        return (f"neuron {j}: bias {fmt(s.b[0][j])}, |∂C/∂W_j| {fmt(s.grad_neuron_norms[0][j])}"
                f" — weight from pixel (row {r}, col {c}) = {fmt(s.W[0][j, r * TILE + c])}")

    def _describe_cell(self, s: Snapshot, l: int, x: float, y: float):
        cell = self.heatmaps[l - 1].cell_at(x, y)
        if cell is None:
            return None
        i, k = cell
        to = f"output {i}" if l == len(s.W) - 1 else f"layer {l + 1} neuron {i}"
        return (f"{to} ← layer {l} neuron {k}: weight {fmt(s.W[l][i, k])}, "
                f"∂C/∂w {fmt(s.dW[l][i, k])}; {to}: bias {fmt(s.b[l][i])}, "
                f"|∂C/∂W_j| {fmt(s.grad_neuron_norms[l][i])}")

    def __repr__(self):
        return f"WeightsPanel(sizes={self.sizes})"
