"""Network panel: the probe digit flowing through the network, drawn left to right.

The input is the 28×28 probe image, each later layer a column of nodes coloured by the probe's
activation, and the strongest weights of every layer pair are drawn as red (positive) and blue
(negative) lines. Data coordinates: y grows downwards from 0 to ``HEIGHT``; x grows to the right.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QLineF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPen
from PyQt6.QtWidgets import QGraphicsItem, QVBoxLayout

from core.costs import get_cost
from core.network import silenced_layers
from core.snapshot import Snapshot
from gui import theme
from gui.panels.base import Panel
from gui.widgets import NEUTRAL, RedrawPacer, activation_brushes, brush, changed

HEIGHT = 2.0          # the input image and every node column span y in [0, HEIGHT]
GAP = 0.9             # horizontal space between neighbouring columns, for the connections
MAX_ROWS = 40         # a column holds at most this many nodes before wrapping into another one
MIN_PITCH_ROWS = 10   # short columns keep the node spacing of a 10-node column
TOP_WEIGHTS = 150     # connections drawn per layer pair at most ...
LINK_SHARE = 3        # ... and at most a third of a small pair's weights, so the strongest stand out
LABEL_ROOM = 1.15     # space right of the outputs for their "7  0.93" labels
CAPTION_ROOM = 0.3    # space under the columns for their captions (more when they must stack)
MIN_NODE_PX = 8.0     # nodes are at least this wide (px) where their spacing allows
CAPTION_GAP_PX = 6    # clear space between neighbouring captions
TEXT = (60, 60, 60)
LINK_INTERVAL = 0.5   # s: while training runs, the links are redrawn at most this often (they
                      # change slowly, and 300 antialiased lines are the costliest thing drawn)


# --- geometry and colours (pure NumPy) ---------------------------------------------------------
def node_grid(n: int, x0: float):
    """Centres (n, 2) of n nodes packed column by column from x0, their spacing and the block width."""
    cols = math.ceil(n / MAX_ROWS)
    rows = math.ceil(n / cols)
    pitch = HEIGHT / max(rows, MIN_PITCH_ROWS)
    j = np.arange(n)
    x = x0 + (j // rows + 0.5) * pitch
    y = HEIGHT / 2 + (j % rows - (rows - 1) / 2) * pitch
    return np.column_stack([x, y]), pitch, cols * pitch


def pixel_centres(n_pixels: int) -> np.ndarray:
    """Centres (n, 2) of the pixels of the square input image drawn in [0, HEIGHT]²."""
    side = math.isqrt(n_pixels)
    i = np.arange(n_pixels)
    return np.column_stack([i % side + 0.5, i // side + 0.5]) * (HEIGHT / side)


def link_count(W) -> int:
    """How many of a layer pair's weights to draw."""
    return min(TOP_WEIGHTS, max(10, np.size(W) // LINK_SHARE))


def top_weights(W, k: int = TOP_WEIGHTS):
    """(rows, cols, values) of the k finite weights of largest magnitude, weakest first."""
    W = np.asarray(W)
    mag = np.abs(W, dtype=np.float64, where=np.isfinite(W), out=np.full(W.shape, -1.0)).ravel()
    k = min(k, int(np.count_nonzero(mag >= 0)))
    if k == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    flat = np.argpartition(mag, mag.size - k)[mag.size - k:]
    flat = flat[np.argsort(mag[flat])]
    rows, cols = np.unravel_index(flat, W.shape)
    return rows, cols, W.ravel()[flat].astype(np.float64)


def link_style(values):
    """RGBA (k, 4) by sign (red positive, blue negative) and pen widths (k,), both growing with |w|."""
    mag = np.abs(values)
    rel = mag / mag.max() if mag.size and mag.max() > 0 else np.zeros_like(mag)
    rgba = np.empty((len(values), 4), dtype=np.uint8)
    rgba[:, :3] = np.where((values >= 0)[:, None], theme.POSITIVE, theme.NEGATIVE)
    rgba[:, 3] = (40 + 200 * rel).astype(np.uint8)
    return rgba, 0.5 + 2.0 * rel


class Segments(pg.GraphicsObject):
    """Many straight lines as one item, each with its own colour and cosmetic width (pixels).

    Lines whose colour and width agree after rounding (alpha to a multiple of 8, width to 1/8 px)
    share one pen and one drawLines call, drawn weakest first. The item keeps its last rendering
    as a pixmap, so repainting it because a node above it changed costs one blit.
    """

    def __init__(self):
        super().__init__()
        self.starts = self.ends = np.zeros((0, 2))
        self.colours = np.zeros((0, 4), dtype=np.uint8)
        self.widths = np.zeros(0)
        self._groups = []
        self._rect = QRectF()
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def setData(self, starts, ends, colours, widths):
        self.prepareGeometryChange()
        self.starts, self.ends = np.asarray(starts, float), np.asarray(ends, float)
        self.colours, self.widths = np.asarray(colours), np.asarray(widths, float)
        self._rect = self._bounds()
        self._groups = None   # pens and lines are made when next painted
        self.update()

    def _group(self) -> list:
        """[(pen, [QLineF, …])] with one entry per distinct rounded style, weakest first."""
        if not len(self.starts):
            return []
        rgba = np.asarray(self.colours, dtype=np.int64).reshape(-1, 4).copy()
        rgba[:, 3] = np.clip((rgba[:, 3] + 4) // 8 * 8, 0, 255)
        eighths = np.maximum(np.round(self.widths * 8), 1).astype(np.int64)
        keys = np.column_stack([eighths, rgba[:, 3], rgba[:, :3]])
        styles, which = np.unique(keys, axis=0, return_inverse=True)
        coords = np.hstack([self.starts, self.ends]).tolist()
        which = np.ravel(which)
        groups = []
        for g, (w8, a, r, gr, b) in enumerate(styles.tolist()):
            pen = QPen(QColor(r, gr, b, a), w8 / 8)
            pen.setCosmetic(True)  # width in pixels, whatever the zoom
            groups.append((pen, [QLineF(*coords[i]) for i in np.flatnonzero(which == g).tolist()]))
        return groups

    def __len__(self):
        return len(self.starts)

    def _bounds(self) -> QRectF:
        if not len(self.starts):
            return QRectF()
        pts = np.vstack([self.starts, self.ends])
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        return QRectF(x0, y0, x1 - x0, y1 - y0).adjusted(-0.05, -0.05, 0.05, 0.05)

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def paint(self, painter, *args):
        if self._groups is None:
            self._groups = self._group()
        for pen, lines in self._groups:
            painter.setPen(pen)
            painter.drawLines(lines)


def label_text_of(item: pg.TextItem) -> str:
    """The plain text a TextItem shows."""
    return item.textItem.toPlainText()


# --- the panel --------------------------------------------------------------------------------
class LayoutPanel(Panel):
    """The whole network for the probe digit: input image, node columns, top weights, outputs.

    ``neuron_clicked(l, j)`` fires when hidden neuron j is clicked; l is the weight layer feeding
    it (0 for the first hidden layer), so its incoming weights are ``W[l][j]``.
    """

    title = "Network"
    area = "center"
    follows_past = True
    workspaces = ("Overview", "Backprop", "Lessons")
    help = ("The probe digit's 784 pixels on the left, the hidden neurons coloured by their activation, "
            'the 10 outputs with their values; lines are the strongest weights, blue positive and red '
            'negative. Click a hidden node to inspect that neuron. A neuron knocked out while training '
            '(Why ▸ Knock-out, "also while training") is drawn as a cross.')
    neuron_clicked = pyqtSignal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._snapshot = None
        self._pacer = RedrawPacer(self, self.draw_if_dirty)  # while running: at most 10 redraws/s
        self._plot = pg.PlotWidget()
        item = self._plot.getPlotItem()
        item.hideAxis("left"), item.hideAxis("bottom")
        item.setMenuEnabled(False)
        item.hideButtons()
        box = item.getViewBox()
        box.invertY(True)
        box.setAspectLocked(True)
        box.setMouseEnabled(x=False, y=False)
        box.sigTransformChanged.connect(self._size_nodes)
        box.sigResized.connect(self._fit_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)
        self._sizes = None
        self._pitches = []   # node spacing of each column block, in data units
        self._links_drawn_at = -math.inf   # time.monotonic() of the last links update
        self._shown = {}                   # what each item shows, to skip unchanged updates
        self._selected = None              # (l, j) of the highlighted neuron
        self._caption_texts = []           # each caption's variants, longest first
        self._header_text = ""
        self._caption_level = 0            # which variant the captions show; and whether they stack
        self._stacked = False

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 180)   # captions shorten and stack, the header elides: it can be small

    # --- building (only when the architecture changes) -----------------------------------------
    def _build(self, sizes) -> None:
        self._plot.clear()
        self._sizes = tuple(sizes)
        self._links_drawn_at = -math.inf
        self._shown = {}
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setColorMap(theme.grey_cmap())
        self._image.setOpacity(0.85)  # above the input links, which show through faintly
        self._add(self._image, z=1.5)
        self._positions = [pixel_centres(sizes[0])]
        self._nodes, self._links, self._captions, self._pitches = [], [], [], []
        x = HEIGHT + GAP
        for l, n in enumerate(sizes[1:]):
            pos, pitch, width = node_grid(n, x)
            self._positions.append(pos)
            self._links.append(self._add(Segments(), z=1))
            self._nodes.append(self._add_nodes(l, pos, pitch))
            self._captions.append(self._add_text("", (x + width / 2, HEIGHT + 0.06), (0.5, 0), z=4))
            x += width + GAP
        self._captions.insert(0, self._add_text("", (HEIGHT / 2, HEIGHT + 0.06), (0.5, 0), z=4))
        self._header = self._add_text("", (0, -0.06), (0, 1), z=4)
        self._ring = self._add(pg.ScatterPlotItem(size=14, pxMode=True, brush=None,
                                                  pen=pg.mkPen(theme.ACCENT, width=2.5)), z=3)
        self._selected, self._caption_texts, self._stacked, self._caption_level = None, [], False, 0
        self._build_outputs()
        self._content_end = x - GAP
        self._fit_view()
        self._size_nodes()

    def _fit_view(self, *_) -> None:
        """Everything in view, the output labels included: they keep their size in pixels, so a
        narrow view needs more room (in data units) right of the outputs than LABEL_ROOM."""
        if not self._sizes:
            return
        box = self._plot.getPlotItem().getViewBox()
        x0, x1, y0 = -0.1, self._content_end, -0.3
        room, below, left = LABEL_ROOM, CAPTION_ROOM, 0.1
        if box.width() > 1 and box.height() > 1:
            bold = QFont()
            bold.setBold(True)
            label_px = QFontMetrics(bold).horizontalAdvance(f"{len(self._output_labels) - 1}  0.00   ◀ label")
            caption_px = (2 if self._stacked else 1) * (2 * QFontMetrics(QFont()).height() + 10) + 4
            start = self._output_labels[0].pos().x() - x1 if self._output_labels else 0.0
            input_px = QFontMetrics(QFont()).horizontalAdvance(f"input {self._sizes[0]}") + 12
            for _ in range(3):   # the aspect is locked: the scale depends on the room, and back
                scale = min(box.width() / (x1 + room + left), box.height() / (HEIGHT + below - y0))
                room = max(LABEL_ROOM, start + (label_px + 20) / scale)   # the text item's margins, and 4 px
                below = max(CAPTION_ROOM, 0.06 + caption_px / scale)
                left = max(0.1, input_px / 2 / scale - HEIGHT / 2)       # the input's caption
            x0 = -left
        box.setRange(xRange=(x0, x1 + room), yRange=(y0, HEIGHT + below), padding=0)

    def _add(self, item, z):
        item.setZValue(z)
        self._plot.addItem(item)
        return item

    def _add_nodes(self, l: int, pos, pitch) -> pg.ScatterPlotItem:
        # pxMode: each distinct (size, pen, brush) is drawn once into a pixmap atlas and every frame
        # copies from it in one call, where drawing ~100 antialiased circles cost a few ms a frame.
        # The brushes are shared per colour (brush()), so the atlas stops growing once the colour
        # map's colours have been seen. The size in pixels follows the view (_size_nodes).
        nodes = pg.ScatterPlotItem(pos=pos, size=10, pxMode=True,
                                   pen=pg.mkPen(90, 90, 90, width=0.8), brush=brush(NEUTRAL))
        if l < len(self._sizes) - 2:  # hidden layers only: their weights are images to inspect
            nodes.sigClicked.connect(self._on_nodes_clicked)   # a method: no closure holding the panel
        self._pitches.append(pitch)
        return self._add(nodes, z=2)

    def _size_nodes(self, *_) -> None:
        """Node diameters in pixels: 0.78 of the node spacing at the view's current scale, and at
        least MIN_NODE_PX where the spacing has room for it (nodes may then nearly touch)."""
        if not self._sizes:
            return
        per_pixel = self._plot.getPlotItem().getViewBox().viewPixelSize()[0]
        if not (per_pixel > 0 and math.isfinite(per_pixel)):
            return
        for nodes, pitch in zip(self._nodes, self._pitches):
            spacing = pitch / per_pixel
            size = round(max(2.0, 0.78 * spacing, min(MIN_NODE_PX, 0.95 * spacing)), 1)
            if nodes.opts["size"] != size:
                nodes.setSize(size)
        self._place_ring()
        self._fit_captions()

    def node_size(self, l: int) -> float:
        """Diameter in px of the nodes of layer l + 1 (l = 0: the first hidden layer), for tests."""
        return float(self._nodes[l].opts["size"])

    def _add_text(self, text, pos, anchor, z) -> pg.TextItem:
        item = pg.TextItem(text, color=TEXT, anchor=anchor)
        item.setPos(*pos)
        return self._add(item, z)

    def _build_outputs(self) -> None:
        pos = self._positions[-1]
        pitch = HEIGHT / max(len(pos), MIN_PITCH_ROWS)
        self._output_labels = [self._add_text("", (x + 0.55 * pitch, y), (0, 0.5), z=4) for x, y in pos]

    # --- drawing a snapshot -------------------------------------------------------------------
    def attach(self, view, training) -> None:
        super().attach(view, training)
        self.neuron_clicked.connect(view.select_neuron)
        view.neuron_selected.connect(self.highlight)

    def highlight(self, l: int, j: int) -> None:
        """Ring neuron j of weight layer l (its node in column l + 1) in the accent colour, wherever
        it was chosen; a neuron not in this network clears the ring."""
        self._selected = (int(l), int(j))
        self._place_ring()

    def _place_ring(self) -> None:
        if not self._sizes:
            return
        l, j = self._selected if self._selected is not None else (-1, -1)
        if not (0 <= l < len(self._nodes) and 0 <= j < len(self._positions[l + 1])):
            if changed(self._shown, "ring", None):
                self._ring.setData([])
            return
        size = self.node_size(l) + 8
        if changed(self._shown, "ring", (l, j, size)):
            self._ring.setData(pos=[self._positions[l + 1][j]], size=size)

    show_snapshot = Panel.show_paced

    def draw_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.sizes != self._sizes:
            self._build(snapshot.sizes)
        self._show_input(snapshot.probe_a[0])
        activation, pair = snapshot.config["activation"], get_cost(snapshot.config["cost"])
        now = time.monotonic()
        # while training runs the links lag by at most LINK_INTERVAL; any other snapshot is exact
        links = not snapshot.running or now - self._links_drawn_at >= LINK_INTERVAL
        silent = silenced_layers(snapshot.silenced)
        for l, nodes in enumerate(self._nodes):
            output = l == len(self._nodes) - 1
            nodes.setBrush(activation_brushes(snapshot.probe_a[l + 1], pair if output else activation))
            self._show_silenced(l, silent.get(l, ()))
            if links:
                self._show_links(l, snapshot.W[l])
        if links:
            self._links_drawn_at = now
        self._show_outputs(snapshot.probe_a[-1], snapshot.probe_label)
        self._show_captions(snapshot)

    def _show_silenced(self, l: int, js) -> None:
        """Knocked-out neurons (the Why workspace's Knock-out, in training) drawn as a cross."""
        key = tuple(js)
        if self._shown.get(("silenced", l), ()) == key:
            return
        self._shown[("silenced", l)] = key
        symbols = np.full(len(self._positions[l + 1]), "o", dtype=object)
        symbols[list(key)] = "x"
        self._nodes[l].setSymbol(list(symbols))

    def _show_input(self, pixels) -> None:
        side = math.isqrt(len(pixels))
        image = np.nan_to_num(np.asarray(pixels, dtype=np.float32), nan=0.5, posinf=1.0, neginf=0.0)
        if changed(self._shown, "input", image):   # the probe digit changes only when another is picked
            self._image.setImage(image.reshape(side, side), autoLevels=False, levels=(0.0, 1.0),
                                 rect=QRectF(0, 0, HEIGHT, HEIGHT))

    def _show_links(self, l: int, W) -> None:
        rows, cols, values = top_weights(W, link_count(W))
        colours, widths = link_style(values)
        self._links[l].setData(self._positions[l][cols], self._positions[l + 1][rows], colours, widths)

    def _show_outputs(self, out, label: int) -> None:
        out = np.asarray(out, dtype=np.float64)
        finite = np.where(np.isfinite(out), out, -np.inf)
        predicted = int(np.argmax(finite)) if np.isfinite(finite).any() else -1
        marks = changed(self._shown, "marks", (predicted, label))   # colours, fonts, pens follow these two
        for k, (text, value) in enumerate(zip(self._output_labels, out)):
            mark = "   ◀ label" if k == label else ""
            if marks:
                text.setColor(theme.ACCENT if k == predicted else TEXT)
                font = QFont()
                font.setBold(k == predicted or k == label)
                text.setFont(font)
            text.setText(f"{k}  {value:.2f}{mark}")   # a no-op when the text is the same
        if marks:
            pens = [pg.mkPen(90, 90, 90, width=0.8)] * len(out)
            if predicted >= 0:
                pens[predicted] = pg.mkPen(theme.ACCENT, width=3)
            self._nodes[-1].setPen(pens)
        self._predicted = predicted

    def _show_captions(self, snapshot: Snapshot) -> None:
        sizes, activation = snapshot.sizes, snapshot.config.get("activation", "")
        # each caption's texts from the longest to the shortest: _fit_captions picks what fits
        texts = [(f"input {sizes[0]}", f"{sizes[0]}")]
        for l, n in enumerate(sizes[1:-1]):
            texts.append((f"hidden {l + 1}\n{n} {activation}", f"hidden {l + 1}\n{n}", f"{n}"))
        texts.append((f"output {sizes[-1]}", f"{sizes[-1]}"))
        guess = f"predicted {self._predicted}" if self._predicted >= 0 else "no prediction"
        header = f"probe: test #{snapshot.probe_index}, label {snapshot.probe_label}, {guess}"
        force = texts != self._caption_texts or header != self._header_text
        self._caption_texts, self._header_text = texts, header
        self._fit_captions(force=force)   # also thins the output labels for new marks

    def _fit_captions(self, force: bool = False) -> None:
        """Captions that never overlap: the longest texts that keep CAPTION_GAP_PX between
        neighbours at the view's scale, else the shortest ones on two staggered rows; the header
        elided to the view's width."""
        if not self._caption_texts or len(self._caption_texts) != len(self._captions):
            return
        box = self._plot.getPlotItem().getViewBox()
        per_pixel = box.viewPixelSize()[0]
        if not (per_pixel > 0 and math.isfinite(per_pixel)):
            return
        metrics = QFontMetrics(QFont())
        centres = [item.pos().x() / per_pixel for item in self._captions]
        margin = 2 * self._captions[0].textItem.document().documentMargin()   # around the text, px

        def width(text):
            return max(metrics.horizontalAdvance(line) for line in text.split("\n")) + margin

        def clear(level, stride):
            shown = [variants[min(level, len(variants) - 1)] for variants in self._caption_texts]
            return all(centres[i + stride] - centres[i] >= (width(shown[i]) + width(shown[i + stride])) / 2
                       + CAPTION_GAP_PX for i in range(len(shown) - stride))

        deepest = max(len(v) for v in self._caption_texts) - 1
        # the longest texts first, side by side or else on two staggered rows
        choices = [(k, stacked) for k in range(deepest + 1) for stacked in (False, True)]
        level, stacked = next(((k, st) for k, st in choices if clear(k, 2 if st else 1)), (deepest, True))
        restack = stacked != self._stacked
        if force or (level, stacked) != (self._caption_level, self._stacked):
            self._caption_level, self._stacked = level, stacked
            for item, variants in zip(self._captions, self._caption_texts):
                item.setText(variants[min(level, len(variants) - 1)])
        # the second row starts under the tallest caption of the first (text rects in px), at
        # the view's current scale
        tallest = max(item.textItem.boundingRect().height() for item in self._captions[::2])
        down = (tallest + 2) * box.viewPixelSize()[1] if stacked else 0.0
        for i, item in enumerate(self._captions):
            y = HEIGHT + 0.06 + (down if i % 2 else 0.0)
            if abs(item.pos().y() - y) > 1e-9:
                item.setPos(item.pos().x(), y)
        if restack:
            self._fit_view()
        self._thin_outputs(metrics.height() * box.viewPixelSize()[1])
        room = box.width() - (0 - box.viewRange()[0][0]) / per_pixel - 4
        header = metrics.elidedText(self._header_text, Qt.TextElideMode.ElideRight, max(20, int(room)))
        if label_text_of(self._header) != header:
            self._header.setText(header)

    def _thin_outputs(self, line: float) -> None:
        """Outputs closer together than one ``line`` of text (in data units): only the predicted
        and the labelled digit keep their value labels, so none overlap."""
        pitch = HEIGHT / max(len(self._output_labels), MIN_PITCH_ROWS)
        keep = self._shown.get("marks", (-1, -1))
        for k, item in enumerate(self._output_labels):
            visible = pitch >= line or k in keep
            if item.isVisible() != visible:
                item.setVisible(visible)

    # --- read-only views of the items, for tests and exporters -----------------------------------
    @property
    def plot(self) -> pg.PlotWidget:
        return self._plot

    @property
    def input_image(self) -> pg.ImageItem:
        """The probe digit's image item."""
        return self._image

    @property
    def node_items(self) -> tuple:
        """One ScatterPlotItem per layer after the input: hidden layers, then the outputs."""
        return tuple(self._nodes)

    @property
    def link_items(self) -> tuple:
        """One Segments item per weight layer: the strongest weights as lines."""
        return tuple(self._links)

    @property
    def output_labels(self) -> tuple:
        return tuple(self._output_labels)

    @property
    def captions(self) -> tuple:
        """The column captions, input first, output last."""
        return tuple(self._captions)

    @property
    def header(self) -> pg.TextItem:
        return self._header

    @property
    def ring(self) -> pg.ScatterPlotItem:
        """The accent ring around the selected neuron's node (empty when none is selected)."""
        return self._ring

    @property
    def selected(self):
        """(l, j) of the highlighted neuron, or None."""
        return self._selected

    # --- interaction --------------------------------------------------------------------------
    def _on_nodes_clicked(self, item, points, ev=None) -> None:
        l = next((k for k, nodes in enumerate(self._nodes) if nodes is item), None)
        if l is not None and l < len(self._nodes) - 1 and len(points):   # hidden layers only
            self.neuron_clicked.emit(l, int(points[0].index()))

    def __repr__(self):
        return f"LayoutPanel(sizes={self._sizes})"
