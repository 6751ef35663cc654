"""Neuron inspector: one neuron's incoming weights, their last gradient and its numbers on the probe digit."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QFont, QFontMetrics
from PyQt6.QtWidgets import QGridLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from core.snapshot import Snapshot
from gui import theme
from gui.colour_bar_fit import fit_bar_axis
from gui.fit_text import ElidedLabel
from gui.panels.base import Panel
from gui.widgets import TILE, digit_image, finite_for_display, fmt, set_bar_levels, shown_level

COMPACT_PX = 120   # an image or chart shorter than this drops its colour-bar and axis names
MIN_IMAGE_PX = 56  # narrower than this beside its colour bar, an image goes without the bar

# (key, label) of each number shown, in order
NUMBERS = (
    ("bias", "bias b"),
    ("z", "z on probe"),
    ("a", "activation a on probe"),
    ("grad", "|∂C/∂W_j| (last batch)"),
    ("db", "∂C/∂b (last batch)"),
    ("range", "weights min / max"),
    ("probe", "probe digit"),
)


def neuron_title(l: int, j: int, sizes: tuple) -> str:
    """'Hidden neuron 17 (layer 1)' or 'Output neuron 3 (digit 3)'; l is the weight layer."""
    if l == len(sizes) - 2:
        return f"Output neuron {j} (digit {j})"
    return f"Hidden neuron {j} (layer {l + 1})"


def neuron_numbers(s: Snapshot, l: int, j: int) -> dict:
    """The inspector's text values for neuron j of weight layer l, keyed as in NUMBERS."""
    w = np.asarray(s.W[l][j], dtype=np.float64)
    finite = w[np.isfinite(w)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (np.nan, np.nan)
    return {
        "bias": fmt(s.b[l][j]),
        "z": fmt(s.probe_z[l][j]),
        "a": fmt(s.probe_a[l + 1][j]),
        "grad": fmt(s.grad_neuron_norms[l][j]),
        "db": fmt(s.db[l][j]),
        "range": f"{fmt(lo)} / {fmt(hi)}",
        "probe": f"test #{s.probe_index}, label {s.probe_label}",
    }


class _ImageRow:
    """28×28 images, each with its own colour bar and a title above it: the weights, their gradient and
    the weights times the probe digit's pixels (whose sum plus the bias is z). They flow into 1, 2 or
    3 columns, whichever shows the images largest in the container's size (``reflow``)."""

    TITLES = (("Weights w_j", "weight"), ("Gradient ∂C/∂w_j", "last batch"),
              ("w_j × probe (Σ + b = z)", "contribution to z"))
    SHORT = ("w_j", "∂C/∂w", "w_j × x")     # titles beside their colour scale, when the bars are hidden

    def __init__(self, container: QWidget):
        self.grid = QGridLayout(container)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.cells, self.headings, self.plots, images = [], [], [], []
        for title, label in self.TITLES:
            cell, heading, plot, image, bar = self._cell(title, label)
            self.cells.append(cell)
            self.headings.append(heading)
            self.plots.append(plot)
            images.append((image, bar))
        (self.weights, self.weights_bar), (self.grad, self.grad_bar), (self.product, self.product_bar) = images
        self.bars = (self.weights_bar, self.grad_bar, self.product_bar)
        self.levels = [1.0, 1.0, 1.0]
        self.columns = 0
        self.bars_shown = True
        self.reflow(3)

    @staticmethod
    def _cell(title: str, label: str) -> tuple:
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        heading = ElidedLabel(title)          # a QLabel, not a plot title: it elides, never widens the cell
        heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        widget = pg.PlotWidget()
        widget.setMinimumSize(60, 50)
        column.addWidget(heading)
        column.addWidget(widget, 1)
        image, bar = digit_image(widget, label)
        return cell, heading, widget.getPlotItem(), image, bar

    def show_bars(self, shown: bool):
        """Colour bars beside the images, or (cells too narrow for both) none, the scale ±L in the
        titles instead: a 14 px image beside a 60 px bar shows nothing."""
        if shown == self.bars_shown:
            return
        self.bars_shown = shown
        for plot, bar in zip(self.plots, self.bars):
            if shown:
                plot.layout.addItem(bar, 2, 5)     # where ColorBarItem.setImageItem(insert_in=) puts it
            else:
                plot.layout.removeItem(bar)
            bar.setVisible(shown)
        self._title()

    def _title(self):
        for heading, (title, _), short, level in zip(self.headings, self.TITLES, self.SHORT, self.levels):
            scale = f"{level:.2g}".replace("e-0", "e-").replace("e+0", "e")
            heading.setText(title if self.bars_shown else f"{short} ±{scale}")

    def best_columns(self, width: int, height: int) -> int:
        """1, 2 or 3 columns: whichever gives the largest square image in a ``width`` × ``height`` area."""
        bar = self.weights_bar.width() + 20          # the colour bar beside each image, and margins
        title = self.cells[0].layout().itemAt(0).widget().height()

        def side(cols):
            rows = -(-3 // cols)
            return min(width / cols - bar, height / rows - title - 8)
        return max((3, 2, 1), key=side)

    def reflow(self, columns: int):
        if columns == self.columns:
            return
        self.columns = columns
        for k, cell in enumerate(self.cells):
            self.grid.removeWidget(cell)
            self.grid.addWidget(cell, k // columns, k % columns)
        for c in range(3):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)
        for r in range(3):
            self.grid.setRowStretch(r, 1 if r < -(-3 // columns) else 0)

    def show(self, w: np.ndarray, g: np.ndarray, x: np.ndarray, live: bool = False):
        """Draw the three images; ``live`` (training runs) holds their colour scales steady."""
        shown = ((self.weights, self.weights_bar, w), (self.grad, self.grad_bar, g),
                 (self.product, self.product_bar, w * x))
        for k, (image, bar, values) in enumerate(shown):
            level = self.levels[k] = shown_level(values, self.levels[k], live)
            image.setImage(finite_for_display(values, level).reshape(TILE, TILE), autoLevels=False,
                           levels=(-level, level))
            set_bar_levels(bar, level)
            fit_bar_axis(bar)           # labels such as "-0.00015" whole, not cut at 45 px
        self._title()


class _ImageArea(QWidget):
    """The images' container: reflows them whenever it is resized."""

    def __init__(self):
        super().__init__()
        self.images = _ImageRow(self)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.fit()

    def fit(self):
        """Columns, bar names and bars for the current size and colour-bar widths."""
        images = self.images
        images.reflow(images.best_columns(self.width(), self.height()))
        rows = -(-3 // images.columns)
        compact = self.height() / rows < COMPACT_PX     # a bar too short for its rotated name drops it
        for (_, label), bar in zip(images.TITLES, images.bars):
            bar.getAxis("left").setLabel(None if compact else label)
        bar_px = max(max(bar.axis.width(), 45) for bar in images.bars) + 30
        images.show_bars(self.width() / images.columns - bar_px >= MIN_IMAGE_PX)


class _SignedBars:
    """A bar chart coloured by sign: red bars up for positive values, blue bars down for negative."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.positive = pg.BarGraphItem(x=[], height=[], width=0.8, brush=theme.POSITIVE, pen=None)
        self.negative = pg.BarGraphItem(x=[], height=[], width=0.8, brush=theme.NEGATIVE, pen=None)
        plot.addItem(self.positive)
        plot.addItem(self.negative)
        plot.addLine(y=0, pen=pg.mkPen((90, 90, 90)))
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.getAxis("left").enableAutoSIPrefix(False)  # "×0.001" on a unitless axis only confuses
        plot.getAxis("left").setWidth(72)  # room for "-0.0015" beside the label; both charts align
        self.level = None

    def show(self, values: np.ndarray, live: bool = False):
        """Draw ``values``; ``live`` (training runs) moves the y range only in round steps."""
        level = theme.symmetric_level(values, quantile=1.0)
        v = finite_for_display(values, level)
        if live:
            level = theme.steady_level(level, self.level)
        x = np.arange(len(v))
        self.positive.setOpts(x=x, height=np.maximum(v, 0))
        self.negative.setOpts(x=x, height=np.minimum(v, 0))
        # setRange ignores a range equal to the current one, so a steady level redraws no axis
        self.plot.setRange(xRange=(-0.6, len(v) - 0.4), yRange=(-level, level), padding=0.05)
        self.level = level


class _BarPair:
    """Incoming weights and their gradient of a deeper neuron, as two signed bar charts."""

    TITLES = ("Incoming weights w_j", "Gradient ∂C/∂w_j (last batch)")

    def __init__(self, graphics: pg.GraphicsLayoutWidget):
        self.weights = _SignedBars(graphics.addPlot(row=0, col=0, title=self.TITLES[0]))
        self.grad = _SignedBars(graphics.addPlot(row=1, col=0, title=self.TITLES[1]))
        self.weights.plot.setLabel("left", "weight")
        self.grad.plot.setLabel("left", "gradient")
        self.compact = False
        self.source_label = ""
        self.weights.plot.getViewBox().sigResized.connect(self._fit)

    def _fit(self, *_):
        """Charts shorter than COMPACT_PX drop their titles and axis names (the heading says it)."""
        compact = self.weights.plot.height() < COMPACT_PX
        if compact == self.compact:
            return
        self.compact = compact
        for bars, title, name in ((self.weights, self.TITLES[0], "weight"), (self.grad, self.TITLES[1], "gradient")):
            bars.plot.setTitle(None if compact else title)
            bars.plot.setLabel("left", None if compact else name)
        self.grad.plot.setLabel("bottom", None if compact else self.source_label)

    def show(self, w: np.ndarray, g: np.ndarray, source_layer: int, live: bool = False):
        self.weights.show(w, live)
        self.grad.show(g, live)
        label = f"from neuron k of hidden layer {source_layer}"
        if label != self.source_label:
            self.source_label = label
            self.grad.plot.setLabel("bottom", None if self.compact else label)


class NeuronInspector(Panel):
    """A close look at one neuron: ``set_neuron(l, j)`` picks neuron j of weight layer l (its incoming
    weights are W[l][j]); ``show_snapshot(snapshot)`` redraws it from a new Snapshot."""

    title = "Neuron"
    area = "right"
    tab_with = "Weights"
    workspaces = ("Weights",)
    help = ('One neuron up close: its weights enlarged, its bias, the gradient ∂C/∂W of its weights as an '
            'image, and its activation on the probe digit.')

    def __init__(self, parent=None):
        super().__init__(parent)
        self.neuron = None          # (l, j) or None
        self._snapshot: Snapshot | None = None
        self.heading = ElidedLabel("No neuron selected: click a tile in the Weights panel.")
        font = QFont(self.heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.image_view = _ImageArea()
        self.bar_view = pg.GraphicsLayoutWidget()
        self.images = self.image_view.images
        self.bars = _BarPair(self.bar_view)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.image_view)
        self.stack.addWidget(self.bar_view)
        self.values = {}
        self._lay_out()

    def _lay_out(self):
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        for row, (key, label) in enumerate(NUMBERS):
            value = QLabel("–")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            name = ElidedLabel(label + ":")     # a narrow dock shortens the names, never the numbers
            name.setMinimumWidth(QFontMetrics(name.font()).horizontalAdvance("bias"))
            grid.addWidget(name, row // 2, 2 * (row % 2))
            grid.addWidget(value, row // 2, 2 * (row % 2) + 1)
            self.values[key] = value
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.stack, 1)
        layout.addLayout(grid)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 180)   # titles and names elide, the images reflow: it can be small

    def attach(self, view, training) -> None:
        super().attach(view, training)
        view.neuron_selected.connect(self._on_neuron_selected)

    def _on_neuron_selected(self, l: int, j: int) -> None:
        self.bring_forward()
        self.set_neuron(l, j)

    def set_neuron(self, l: int, j: int) -> None:
        """Inspect neuron j of weight layer l (0 = first hidden layer); redraws from the last snapshot."""
        self.neuron = (int(l), int(j))
        snapshot = self._pending or self._snapshot
        if snapshot is not None:
            self._pending = None
            self.show_snapshot(snapshot)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        if self.neuron is None:
            return
        l, j = self.neuron
        if not (0 <= l < len(snapshot.W) and 0 <= j < snapshot.W[l].shape[0]):
            self.heading.setText(f"Neuron {j} of layer {l + 1} is not in this network")
            for label in self.values.values():
                label.setText("–")
            return
        self.heading.setText(neuron_title(l, j, snapshot.sizes))
        self._draw(snapshot, l, j)
        for key, text in neuron_numbers(snapshot, l, j).items():
            self.values[key].setText(text)

    def _draw(self, s: Snapshot, l: int, j: int):
        w, g = s.W[l][j], s.dW[l][j]
        live = s.running
        if l == 0 and w.size == TILE * TILE:
            self.images.show(w, g, s.probe_a[0], live)
            self.image_view.fit()      # the colour bars' widths follow their labels
            self.stack.setCurrentWidget(self.image_view)
        else:
            self.bars.show(w, g, l, live)
            self.stack.setCurrentWidget(self.bar_view)

    def __repr__(self):
        return f"NeuronInspector(neuron={self.neuron})"
