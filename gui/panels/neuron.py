"""Neuron inspector: one neuron's incoming weights, their last gradient and its numbers on the probe digit."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from core.snapshot import Snapshot
from gui import theme
from gui.panels.base import Panel
from gui.widgets import TILE, digit_image, finite_for_display, fmt, set_bar_levels, shown_level

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
    """28×28 images side by side, each with its own colour bar: the weights, their gradient and the
    weights times the probe digit's pixels (whose sum plus the bias is z)."""

    def __init__(self, container: QWidget):
        # one PlotWidget each in an equal-stretch box: the three images come out the same size
        self.row = QHBoxLayout(container)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.weights, self.weights_bar = self._add("Weights w_j", "weight")
        self.grad, self.grad_bar = self._add("Gradient ∂C/∂w_j", "last batch")
        self.product, self.product_bar = self._add("w_j × probe (Σ + b = z)", "contribution to z")
        self.levels = [1.0, 1.0, 1.0]

    def _add(self, title, label):
        widget = pg.PlotWidget(title=title)
        self.row.addWidget(widget, 1)
        return digit_image(widget, label)

    def show(self, w: np.ndarray, g: np.ndarray, x: np.ndarray, live: bool = False):
        """Draw the three images; ``live`` (training runs) holds their colour scales steady."""
        shown = ((self.weights, self.weights_bar, w), (self.grad, self.grad_bar, g),
                 (self.product, self.product_bar, w * x))
        for k, (image, bar, values) in enumerate(shown):
            level = self.levels[k] = shown_level(values, self.levels[k], live)
            image.setImage(finite_for_display(values, level).reshape(TILE, TILE), autoLevels=False,
                           levels=(-level, level))
            set_bar_levels(bar, level)


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

    def __init__(self, graphics: pg.GraphicsLayoutWidget):
        self.weights = _SignedBars(graphics.addPlot(row=0, col=0, title="Incoming weights w_j"))
        self.grad = _SignedBars(graphics.addPlot(row=1, col=0, title="Gradient ∂C/∂w_j (last batch)"))
        self.weights.plot.setLabel("left", "weight")
        self.grad.plot.setLabel("left", "gradient")

    def show(self, w: np.ndarray, g: np.ndarray, source_layer: int, live: bool = False):
        self.weights.show(w, live)
        self.grad.show(g, live)
        label = f"from neuron k of hidden layer {source_layer}"
        if self.grad.plot.getAxis("bottom").labelText != label:
            self.grad.plot.setLabel("bottom", label)


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
        self.heading = QLabel("No neuron selected: click a tile in the Weights panel.")
        font = QFont(self.heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.image_view = QWidget()
        self.bar_view = pg.GraphicsLayoutWidget()
        self.images = _ImageRow(self.image_view)
        self.bars = _BarPair(self.bar_view)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.image_view)
        self.stack.addWidget(self.bar_view)
        self.values = {}
        self._lay_out()

    def _lay_out(self):
        grid = QGridLayout()
        for row, (key, label) in enumerate(NUMBERS):
            value = QLabel("–")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(QLabel(label + ":"), row // 2, 2 * (row % 2))
            grid.addWidget(value, row // 2, 2 * (row % 2) + 1)
            self.values[key] = value
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.stack, 1)
        layout.addLayout(grid)

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
            self.stack.setCurrentWidget(self.image_view)
        else:
            self.bars.show(w, g, l, live)
            self.stack.setCurrentWidget(self.bar_view)

    def __repr__(self):
        return f"NeuronInspector(neuron={self.neuron})"
