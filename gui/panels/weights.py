"""Weights panel: every first-layer neuron's 784 incoming weights as one mosaic of 28×28 tiles, and
the deeper layers' weight matrices as heat maps, all on one blue–white–red scale centred on zero."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import (QFrame, QGraphicsPathItem, QGraphicsRectItem, QHBoxLayout, QScrollArea, QSplitter,
                             QVBoxLayout, QWidget)

from core.snapshot import Snapshot
from gui import theme
from gui.colour_bar_fit import fit_bar_axis
from gui.fit_text import ElidedLabel
from gui.panels.base import Panel
from gui.widgets import (BAR_PEN, TILE, RedrawPacer, colour_bar, finite_for_display, fmt, nice_steps,
                         set_bar_levels, shown_level)

GAP = 1                    # pixels between tiles (NaN: drawn transparent over a grey backing)
STEP = TILE + GAP
GAP_COLOUR = (120, 120, 120)
MIN_SCALE = 2              # screen pixels per weight the mosaic scrolls at rather than shrink below
MAX_SCALE = 8              # a few tiles are not blown up past 224 px: the heat maps keep their room
SCROLL_MIN_COLS = 3        # a view too narrow for this many 2× tiles shrinks them to 1× instead


def grid_shape(n: int) -> tuple:
    """(rows, cols) of the most nearly square grid that holds ``n`` tiles."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def mosaic_size(n: int, cols: int) -> tuple:
    """(width, height) in weights (image pixels) of n tiles laid out ``cols`` to a row."""
    return cols * STEP - GAP, math.ceil(n / cols) * STEP - GAP


def cols_that_fit(n: int, width: float, scale: int) -> int:
    """How many tiles, drawn ``scale`` screen pixels per weight, fit side by side in ``width`` px."""
    return max(1, min(n, int((width + GAP * scale) // (STEP * scale))))


def mosaic_layout(n: int, width: float, height: float, scrollbar: int = 0) -> tuple:
    """(scale, cols, scrolls) for n tiles in a view of ``width`` × ``height`` screen pixels.

    ``scale`` is a whole number of screen pixels per weight, so every tile is drawn crisp. The
    largest scale (up to MAX_SCALE) that shows every tile is chosen, with the rows evenly filled.
    When that would be under MIN_SCALE the mosaic stays at MIN_SCALE, as many columns as fit
    beside a ``scrollbar`` px wide scroll bar, and scrolls (``scrolls`` True); only a view too
    small for SCROLL_MIN_COLS such columns falls back to 1× (scrolling if even that is too tall).
    """
    def fits(scale):
        cols = cols_that_fit(n, width, scale)
        w, h = mosaic_size(n, cols)
        return w * scale <= width and h * scale <= height

    top = max(1, min(MAX_SCALE, int(min(width, height) // TILE)))
    scale = next((s for s in range(top, 0, -1) if fits(s)), 0)
    if scale >= MIN_SCALE or (scale == 1 and cols_that_fit(n, width - scrollbar, MIN_SCALE) < SCROLL_MIN_COLS):
        rows = math.ceil(n / cols_that_fit(n, width, scale))
        return scale, math.ceil(n / rows), False          # the same rows, filled evenly
    scale = MIN_SCALE if cols_that_fit(n, width - scrollbar, MIN_SCALE) >= SCROLL_MIN_COLS and \
        height >= STEP * MIN_SCALE else 1
    return scale, cols_that_fit(n, width - scrollbar, scale), True


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
COMPACT_PX = 130    # a heat map plot shorter than this shows no title or axis names
HEAT_MIN_PX = 56    # the least height a heat map keeps when the panel is small


def index_ticks(n: int, most: int = 16) -> list:
    """Axis ticks at pixel centres 0.5, 1.5, … labelled with the index, at most ``most`` of them."""
    every = next(step for step in nice_steps() if step * most >= n)
    return [(i + 0.5, str(i)) for i in range(0, n, every)]


class PixelImage(pg.ImageItem):
    """An ImageItem that reports left clicks and hovering in its own pixel coordinates, with the
    weight layer ``l`` it shows (so the panel connects methods, not closures that would hold it)."""

    clicked = pyqtSignal(int, float, float)
    hovered = pyqtSignal(int, float, float)
    left = pyqtSignal()

    def __init__(self, l: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.l = l

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(self.l, ev.pos().x(), ev.pos().y())
            return
        super().mouseClickEvent(ev)

    def hoverEvent(self, ev):
        super().hoverEvent(ev)
        if ev.isExit():
            self.left.emit()
            return
        ev.acceptClicks(Qt.MouseButton.LeftButton)  # so a click on a tile reaches us, not the view
        self.hovered.emit(self.l, ev.pos().x(), ev.pos().y())


def outline(colour=theme.ACCENT, width=2) -> QGraphicsRectItem:
    """A hidden, unfilled rectangle for marking the selected neuron."""
    rect = QGraphicsRectItem()
    pen = QPen(QColor(*colour), width)
    pen.setCosmetic(True)  # stays `width` screen pixels at any zoom
    rect.setPen(pen)
    rect.setZValue(10)
    rect.setVisible(False)
    return rect


class MosaicCanvas(pg.GraphicsView):
    """The mosaic's own view: no zoom or scrolling of its own; the wheel goes to ``wheel_to`` (the
    scroll area around it; Qt does not pass a wheel event a graphics view ignored on to it)."""

    wheel_to = None

    def wheelEvent(self, ev):
        if self.wheel_to is not None:
            self.wheel_to.wheelEvent(ev)
        else:
            ev.ignore()


class MosaicScroll(QScrollArea):
    """The scroll area around the mosaic; says when its size changes."""

    resized = pyqtSignal()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.resized.emit()


def side_colour_bar(image: pg.ImageItem, label: str) -> tuple:
    """A fixed diverging colour bar in a view of its own, wide enough for its tick labels
    ("−0.0015") and its title; returns (GraphicsLayoutWidget, ColorBarItem). (gui.widgets.colour_bar
    puts the bar inside a plot; the mosaic scrolls, and its colour bar must not.)"""
    view = pg.GraphicsLayoutWidget()
    view.ci.layout.setContentsMargins(0, 4, 2, 4)
    bar = pg.ColorBarItem(values=(-1, 1), colorMap=theme.diverging_cmap(), label=label, interactive=False,
                          width=14, pen=BAR_PEN, colorMapMenu=False)
    bar.setImageItem(image)
    view.addItem(bar)
    view.setMinimumHeight(60)
    fit_side_bar(view, bar)
    return view, bar


def fit_side_bar(view: pg.GraphicsLayoutWidget, bar: pg.ColorBarItem):
    """The side bar's view as wide as the bar, its tick labels (fit_bar_axis) and its title."""
    width = 14 + fit_bar_axis(bar) + QFontMetrics(QFont()).height() + 10
    if view.width() != width:
        view.setFixedWidth(width)


class MosaicView:
    """The first layer's weights: one ImageItem holding every neuron's 28×28 tile, drawn at a whole
    number of screen pixels per weight (``scale``), ``cols`` tiles to a row, in a scroll area.

    ``widget`` holds the title, the scroll area and the colour bar; ``relayout()`` picks the scale
    and the columns for the scroll area's size (mosaic_layout) and is called when it is resized."""

    def __init__(self, n: int, name: str = "Hidden layer 1"):
        self.n, self.name = n, name
        self.rows, self.cols = grid_shape(n)
        self.scale, self.scrolls = 1, False
        self.image = PixelImage(0, axisOrder="row-major")
        self.level = 1.0
        self._values = None            # the (finite) weights last drawn, re-laid out on a resize
        self._selected = None
        self.box = pg.ViewBox(invertY=True, enableMouse=False, enableMenu=False, defaultPadding=0)
        self.canvas = MosaicCanvas()
        self.canvas.setFrameShape(QFrame.Shape.NoFrame)
        self.canvas.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # crisp pixels
        self.canvas.setCentralItem(self.box)
        self._backing = QGraphicsPathItem()
        self._backing.setBrush(QBrush(QColor(*GAP_COLOUR)))
        self._backing.setPen(QPen(Qt.PenStyle.NoPen))
        self._backing.setZValue(-1)
        self.selection = outline()
        for item in (self._backing, self.image, self.selection):
            self.box.addItem(item)
        self.scroll = MosaicScroll()
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.canvas)
        self.canvas.wheel_to = self.scroll
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setMinimumSize(60, 40)
        self.bar_view, self.bar = side_colour_bar(self.image, "weight")
        self.title = ElidedLabel(f"{name}: {n} neurons' incoming weights (28×28)")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.widget = self._lay_out()
        self._apply(*mosaic_layout(n, 600, 400))
        self.scroll.resized.connect(self.relayout)

    def _lay_out(self) -> QWidget:
        widget = QWidget()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.scroll, 1)
        row.addWidget(self.bar_view)
        column = QVBoxLayout(widget)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.title)
        column.addLayout(row, 1)
        return widget

    # --- layout ---------------------------------------------------------------------------------
    def relayout(self):
        """Pick the scale and columns for the scroll area's current size."""
        size = self.scroll.size()
        if size.width() < 10 or size.height() < 10:
            return
        scrollbar = self.scroll.verticalScrollBar().sizeHint().width()
        self._apply(*mosaic_layout(self.n, size.width(), size.height(), scrollbar))

    def _apply(self, scale: int, cols: int, scrolls: bool):
        changed_cols = cols != self.cols
        self.scale, self.cols, self.scrolls = scale, cols, scrolls
        self.rows = math.ceil(self.n / cols)
        w, h = mosaic_size(self.n, cols)
        self.canvas.setFixedSize(w * scale, h * scale)
        self.box.setRange(xRange=(0, w), yRange=(0, h), padding=0)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn if scrolls
                                               else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        if changed_cols:
            self._backing.setPath(self._backing_path())
            if self._values is not None:
                self._set_image()
            self.select(self._selected)

    def _backing_path(self) -> QPainterPath:
        # grey behind the tiles shows through the NaN gaps, so neighbouring tiles stay apart;
        # it stops at the last tile, so the empty slots of the last row stay blank
        full_rows, rest = divmod(self.n, self.cols)
        path = QPainterPath()
        path.addRect(QRectF(0, 0, self.cols * STEP - GAP, full_rows * STEP - GAP))
        if rest:
            path.addRect(QRectF(0, full_rows * STEP - GAP, rest * STEP - GAP, STEP))
        return path.simplified()

    # --- drawing --------------------------------------------------------------------------------
    def show(self, W0: np.ndarray, live: bool = False):
        """Draw ``W0``; ``live`` (training runs) rounds the colour scale and holds it steady."""
        self.level = shown_level(W0, self.level, live)
        self._values = finite_for_display(W0, self.level)
        self._set_image()
        set_bar_levels(self.bar, self.level)
        fit_side_bar(self.bar_view, self.bar)

    def _set_image(self):
        self.image.setImage(mosaic(self._values, self.cols), autoLevels=False,
                            levels=(-self.level, self.level))

    def index_at(self, x: float, y: float):
        return tile_at(x, y, self.n, self.cols)

    def select(self, j):
        """Outline tile j (None: no outline) and scroll it into view."""
        self._selected = j
        if j is not None:
            x, y = tile_origin(j, self.cols)
            self.selection.setRect(QRectF(x - 0.5, y - 0.5, TILE + 1, TILE + 1))
            centre = self.tile_centre(j)
            margin = TILE * self.scale // 2 + 2
            self.scroll.ensureVisible(centre.x(), centre.y(), margin, margin)
        self.selection.setVisible(j is not None)

    @property
    def selected(self):
        """The outlined neuron, or None (for tests and exporters)."""
        return self._selected

    # --- geometry, for tests and exporters ----------------------------------------------------
    def tile_rect(self, j: int) -> QRectF:
        """Tile j's rectangle in the canvas's widget pixels."""
        x, y = tile_origin(j, self.cols)
        s = self.scale
        return QRectF(x * s, y * s, TILE * s, TILE * s)

    def tile_centre(self, j: int) -> QPoint:
        """The centre of tile j in the canvas's widget pixels (where a click opens neuron j)."""
        return self.tile_rect(j).center().toPoint()

    def on_screen_tile_size(self) -> float:
        """A tile's width in screen pixels as drawn now, measured through the view's transform."""
        a = self.image.mapToDevice(QPointF(0, 0))
        b = self.image.mapToDevice(QPointF(TILE, 0))
        return 0.0 if a is None or b is None else b.x() - a.x()

    def render(self, scale: int) -> QImage:
        """The whole mosaic (also the part scrolled out of view) at ``scale`` px per weight."""
        w, h = mosaic_size(self.n, self.cols)
        out = QImage(w * scale, h * scale, QImage.Format.Format_ARGB32)
        out.fill(QColor(255, 255, 255))
        painter = QPainter(out)   # no SmoothPixmapTransform: each weight a crisp scale × scale block
        try:
            source = self.image.mapRectToScene(QRectF(0, 0, w, h))
            self.canvas.scene().render(painter, QRectF(0, 0, w * scale, h * scale), source)
        finally:
            painter.end()
        return out


class HeatMapView:
    """W[l] for l ≥ 1 as an (n_out × n_in) heat map; row i is neuron i's incoming weights."""

    def __init__(self, plot: pg.PlotItem, l: int, sizes: tuple, max_ticks: int = 16):
        self.plot, self.l, self.max_ticks = plot, l, max_ticks
        self.n_out, self.n_in = sizes[l + 1], sizes[l]
        self.is_output = l == len(sizes) - 2
        self.image = PixelImage(l, axisOrder="row-major")
        self.selection = outline()
        plot.addItem(self.image)
        plot.addItem(self.selection)
        self.bar = colour_bar(plot, self.image, "weight")
        self.level = 1.0
        self._style_plot()

    def _style_plot(self):
        plot, l = self.plot, self.l
        target = "output" if self.is_output else f"layer {l + 1}"
        self.title_text = f"Weights layer {l} → {target} ({self.n_out} × {self.n_in})"
        self.y_name = "digit" if self.is_output else f"layer {l + 1} neuron"
        self.x_name = f"layer {l} neuron"
        plot.setTitle(self.title_text, size=theme.TITLE_SIZE)
        self.shown_title = self.title_text
        plot.setLabel("left", self.y_name)
        plot.setLabel("bottom", self.x_name)
        self.compact = False
        self._row_ticks = self._col_ticks = None
        self._fit_row_ticks()
        plot.getViewBox().sigResized.connect(self._fit_row_ticks)
        plot.invertY(True)
        plot.setMouseEnabled(False, False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setRange(QRectF(0, 0, self.n_in, self.n_out), padding=0)

    def _fit_row_ticks(self, *_):
        """As many row labels as fit the plot's height without overlapping (one per ROW_LABEL_PX);
        a plot squeezed under COMPACT_PX drops its title and axis names (the hover line names them)."""
        self._fit_labels()
        height = self.plot.getViewBox().height()
        fit = int(height // ROW_LABEL_PX) if height > 0 else 10
        most = max(2, min(fit, 10 if self.is_output else 5))
        if most != self._row_ticks:
            self._row_ticks = most
            self.plot.getAxis("left").setTicks([index_ticks(self.n_out, most)])
        width = self.plot.getViewBox().width()
        label_px = QFontMetrics(QFont()).horizontalAdvance(str(self.n_in)) + 12
        across = max(2, min(self.max_ticks, int(width // label_px))) if width > 0 else self.max_ticks
        if across != self._col_ticks:
            self._col_ticks = across
            self.plot.getAxis("bottom").setTicks([index_ticks(self.n_in, across)])

    def row_labels(self) -> list:
        """The row axis's labels as drawn (for tests and exporters)."""
        return [label for _, label in index_ticks(self.n_out, self._row_ticks)]

    def column_labels(self) -> list:
        """The column axis's labels as drawn (for tests and exporters)."""
        return [label for _, label in index_ticks(self.n_in, self._col_ticks)]

    def _fit_labels(self):
        views = self.plot.scene().views() if self.plot.scene() is not None else []
        width = views[0].width() if views else 0
        compact = self.plot.height() < COMPACT_PX
        title = None if compact else self._elided_title(width)
        if (compact, title) == (self.compact, self.shown_title):
            return
        if title != self.shown_title:
            if title is None:
                self.plot.titleLabel.setText("")      # hidden, and no longer as wide as its text
            self.plot.setTitle(title, size=theme.TITLE_SIZE)
            self.shown_title = title
        if compact == self.compact:
            return
        self.compact = compact
        self.plot.setLabel("bottom", None if compact else self.x_name)
        self.plot.setLabel("left", None if compact else self.y_name)
        self.bar.getAxis("left").setLabel(None if compact else "weight")

    def _elided_title(self, width: float) -> str:
        font = QFont()
        font.setPointSizeF(float(theme.TITLE_SIZE.removesuffix("pt")))
        room = width - self.plot.getAxis("left").width() - self.bar.width() - 30
        if width < 40:
            return self.title_text
        return QFontMetrics(font).elidedText(self.title_text, Qt.TextElideMode.ElideRight, max(20, int(room)))

    def show(self, W: np.ndarray, live: bool = False):
        self.level = shown_level(W, self.level, live)
        self.image.setImage(finite_for_display(W, self.level), autoLevels=False,
                            levels=(-self.level, self.level))
        set_bar_levels(self.bar, self.level)
        fit_bar_axis(self.bar)

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
        self.graphics = pg.GraphicsLayoutWidget()    # the deeper layers' heat maps
        self.graphics.setMinimumSize(60, 40)   # raised to HEAT_MIN_PX a heat map in _build
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.info = ElidedLabel(self.HINT)          # one line, reserved: hovering never moves the layout
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.info)
        self.sizes = None
        self.mosaic: MosaicView | None = None
        self.heatmaps: list[HeatMapView] = []
        self._snapshot: Snapshot | None = None
        self._drawn: Snapshot | None = None   # the snapshot the images show
        self._hover = None  # (l, x, y) of the pixel under the mouse, refreshed with each snapshot
        self._selected = None  # (l, j) outlined
        # the weights change slowly: while training runs, images at most every REDRAW_INTERVAL
        self._pacer = RedrawPacer(self, self._draw_pending)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 180)   # the mosaic scrolls and the labels elide: the panel can be small

    # --- building (once per architecture) ----------------------------------------------------
    def _build(self, sizes: tuple):
        self.graphics.clear()
        if self.mosaic is not None:
            self.mosaic.widget.setParent(None)
            self.mosaic.widget.deleteLater()
        self.sizes, self._hover, self._selected = sizes, None, None
        # the mosaic on top, in a scroll area of its own at a whole-pixel scale; the deeper layers'
        # heat maps below it, one row each (side by side, each with its colour bar, they would not
        # fit the dock's width); the splitter between them lets the user give either more room
        count = len(sizes) - 2
        self.mosaic = MosaicView(sizes[1], "Output layer" if count == 0 else "Hidden layer 1")
        self._connect(self.mosaic.image)
        self.heatmaps = []
        for l in range(1, count + 1):
            plot = self.graphics.addPlot(row=l - 1, col=0)
            view = HeatMapView(plot, l, sizes)
            self._connect(view.image)
            self.heatmaps.append(view)
        self.splitter.insertWidget(0, self.mosaic.widget)
        if self.splitter.indexOf(self.graphics) < 0:
            self.splitter.addWidget(self.graphics)
        self.graphics.setVisible(count > 0)
        self.graphics.setMinimumHeight(max(40, HEAT_MIN_PX * count))
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, count)
        total = max(self.splitter.height(), 4)
        self.splitter.setSizes([total * 3 // (3 + count), total * count // (3 + count)])

    def _connect(self, image: PixelImage):
        image.clicked.connect(self._on_pixel_clicked)
        image.hovered.connect(self._on_pixel_hovered)
        image.left.connect(self._on_pixel_left)

    # --- drawing -----------------------------------------------------------------------------
    def attach(self, view, training) -> None:
        super().attach(view, training)
        self.neuron_clicked.connect(view.select_neuron)
        view.neuron_selected.connect(self.highlight)

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

    def export_image(self) -> QImage:
        """The panel as one picture for File ▸ Export panel: the whole mosaic (every tile, also those
        scrolled out of view) at MIN_SCALE px per weight or more, its colour bar, and the heat maps."""
        if self.mosaic is None:
            return self.grab().toImage()
        tiles = self.mosaic.render(max(MIN_SCALE, self.mosaic.scale))
        bar = self.mosaic.bar_view.grab().toImage()
        heat = self.graphics.grab().toImage() if self.heatmaps else QImage()
        title = self.mosaic.title.text()
        line = QFontMetrics(QFont()).height() + 6
        width = max(tiles.width() + bar.width() + 8, heat.width(), QFontMetrics(QFont()).horizontalAdvance(title))
        height = line + max(tiles.height(), bar.height()) + 8 + heat.height()
        out = QImage(width, height, QImage.Format.Format_ARGB32)
        out.fill(QColor(255, 255, 255))
        painter = QPainter(out)
        try:
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(QRectF(0, 0, width, line), Qt.AlignmentFlag.AlignCenter, title)
            painter.drawImage(QPoint(0, line), tiles)
            painter.drawImage(QPoint(tiles.width() + 8, line), bar)
            if not heat.isNull():
                painter.drawImage(QPoint(0, line + max(tiles.height(), bar.height()) + 8), heat)
        finally:
            painter.end()
        return out

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
        self._selected = (l, j)
        views = [self.mosaic, *self.heatmaps]
        for k, view in enumerate(views):
            view.select(j if k == l else None)

    def highlight(self, l: int, j: int) -> None:
        """Outline neuron j of weight layer l (its tile, or its heat-map row), wherever it was chosen."""
        if self.mosaic is None or not 0 <= l <= len(self.heatmaps):
            return
        if 0 <= j < (self.mosaic.n if l == 0 else self.heatmaps[l - 1].n_out):
            self._select(l, j)

    @property
    def selected(self):
        """(l, j) of the outlined neuron, or None (for tests and exporters)."""
        return self._selected

    def _on_pixel_hovered(self, l: int, x: float, y: float):
        self._hover = (l, x, y)
        text = self.describe(l, x, y)
        self.info.setText(text or self.HINT)
        self._set_tooltips(text or "")

    def _on_pixel_left(self):
        self._hover = None
        self.info.setText(self.HINT)
        self._set_tooltips("")

    def _set_tooltips(self, text: str):
        self.graphics.setToolTip(text)
        if self.mosaic is not None:
            self.mosaic.canvas.setToolTip(text)

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
