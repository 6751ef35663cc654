"""Activations panel: every layer's activations for the probe digit, and buttons to pick another probe.

Left: the input image above the 10 outputs; right: one bar chart per hidden layer (x = neuron index),
its title giving the share of saturated (or dead) units, as core.activations defines them.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QGridLayout, QToolButton, QVBoxLayout

from core.activations import describe
from core.snapshot import Snapshot
from core.control import MoveProbe
from gui import theme
from gui.fit_text import ElidedLabel, NarrowTitle, narrow_title, set_title
from gui.panels.base import Panel
from gui.widgets import RedrawPacer, activation_brushes, brush, changed

# short words, so that the toolbar fits a 300 px dock; the tooltips say the rest
BUTTONS = (("◀", "previous", "The previous test digit"), ("▶", "next", "The next test digit"),
           ("Random", "random", "A random test digit"),
           ("Mistake ▶", "mistake", "The next test digit the network gets wrong"))
OTHER = (170, 170, 170)   # output bars other than the prediction
def saturation(a, activation: str) -> tuple:
    """(count, what) of the probe's units that are dead, for an activation whose units can die, else
    saturated: the activation's own rules (core.activations), the Gradients panel's too."""
    act = describe(activation)
    if act.dead_rule:
        return int(np.count_nonzero(act.dead(a))), "dead"
    return int(np.count_nonzero(act.saturated(a))), "saturated"


def y_range(a, activation: str) -> tuple:
    """The bar axis: the activation's own output range (0–1, −1–1), or for an unbounded one from 0
    (or its lowest value) up to its largest finite activation."""
    fixed = describe(activation).y_range
    if fixed is not None:
        return fixed
    finite = np.asarray(a)[np.isfinite(a)]
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    high = max(float(finite.max()) if finite.size else 0.0, 1e-6)
    return low, 1.05 * high


def hidden_tooltip(a, activation: str, count: int, what: str) -> str:
    """What a hidden layer's title counts, by which rule, and the activation's formula."""
    act = describe(activation)
    rule = act.dead_rule if what == "dead" else act.saturation_rule
    lines = [f"{count} of {len(a)} units {what} on the probe digit" + (f" ({rule})" if rule else ""),
             act.formula, act.prime_formula, act.about]
    return "\n".join(line for line in lines if line)


def predicted(out) -> int:
    """The index of the largest finite output, −1 when there is none."""
    out = np.where(np.isfinite(out), out, -np.inf)
    return int(np.argmax(out)) if np.isfinite(out).any() else -1


def output_text(value) -> str:
    """The number above an output bar: two decimals, blank below 0.005 (the bar shows it is ~0),
    and 'NaN' / '±inf' spelled out for a diverged network."""
    value = float(value)
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+inf" if value > 0 else "-inf")
    return f"{value:.2f}" if abs(value) >= 0.005 else ""


def probe_text(snapshot: Snapshot, guess: int) -> tuple:
    """(the line naming the probe, whether to mark it wrong). A test digit: "Probe: test #12, label 7,
    predicted 3"; a drawn one: "Probe: your drawing, label ?, predicted 3" (no index: it is not in the
    test set), or "label 5 (yours)" once the person said which digit they meant. Only a known label
    can make an answer wrong (an unlabelled drawing's label is the network's own answer)."""
    shown = str(guess) if guess >= 0 else "?"
    known = snapshot.probe_label_known
    label = str(snapshot.probe_label) if known else "?"
    if snapshot.probe_index < 0:
        where = "your drawing"
        label += " (yours)" if known else ""
    else:
        where = f"test #{snapshot.probe_index}"
    return f"Probe: {where}, label {label}, predicted {shown}", known and guess != snapshot.probe_label


def drawable(values, low: float, high: float) -> np.ndarray:
    """Bar heights inside the axis range [low, high]: NaN as 0, ±inf as a bar to the edge."""
    return np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0), low, high)


class ActivationsPanel(Panel):
    """The probe digit's activations in every layer.

    ``probe_requested(kind)`` fires from the toolbar with kind "previous", "next", "random" or
    "mistake"; the window asks the worker for that probe.
    """

    title = "Activations"
    area = "bottom"
    follows_past = True
    workspaces = ("Overview",)
    help = ("Every layer's activations for the probe digit. Previous, Next, Random and Next mistake pick "
            'another probe from the test set.')
    probe_requested = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._buttons = {}
        self._probe_label = ElidedLabel("Probe: –")   # elided: a new probe never widens the dock
        self._graphics = pg.GraphicsLayoutWidget()
        self._snapshot = None
        self._pacer = RedrawPacer(self, self.draw_if_dirty)  # while running: at most 10 redraws/s
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._toolbar())
        layout.addWidget(self._graphics)
        self._sizes = None
        self._shown = {}   # what each item shows, to skip unchanged updates (each costs a relayout)

    def _toolbar(self) -> QGridLayout:
        bar = self._bar = QGridLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for k, (text, kind, tip) in enumerate(BUTTONS):
            button = QToolButton(text=text)   # as narrow as its text (a push button is 80 px at least)
            button.setToolTip(tip)
            button.setProperty("probe_kind", kind)
            button.clicked.connect(self._on_probe_button)   # a method: a lambda holding self is a cycle
            bar.addWidget(button, 0, k)
            self._buttons[kind] = button
        self._bar_wide = None
        self._place_probe_label(wide=False)
        return bar

    def _place_probe_label(self, wide: bool) -> None:
        """The probe line beside the buttons in a wide dock, on its own row under them in a narrow one."""
        if wide == self._bar_wide:
            return
        self._bar_wide = wide
        index = self._bar.indexOf(self._probe_label)
        if index >= 0:
            self._bar.takeAt(index)   # the label stays the panel's; only its place changes
        if wide:
            self._bar.addWidget(self._probe_label, 0, len(BUTTONS))
        else:
            self._bar.addWidget(self._probe_label, 1, 0, 1, len(BUTTONS) + 1)
        for col in range(len(BUTTONS) + 1):
            self._bar.setColumnStretch(col, 1 if col == len(BUTTONS) else 0)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place_probe_label(self.width() >= 560)

    def _on_probe_button(self) -> None:
        self.probe_requested.emit(self.sender().property("probe_kind"))

    # --- building (only when the architecture changes) -----------------------------------------
    def _build(self, sizes) -> None:
        self._graphics.clear()
        self._sizes = tuple(sizes)
        self._shown = {}
        left = self._graphics.addLayout(row=0, col=0)
        right = self._graphics.addLayout(row=0, col=1)
        self._graphics.ci.layout.setColumnStretchFactor(0, 2)
        self._graphics.ci.layout.setColumnStretchFactor(1, 3)
        self._build_input(left, sizes[0])
        left.nextRow()
        self._build_output(left, sizes[-1])
        self._hidden_plots, self._hidden_bars = [], []
        for n in sizes[1:-1]:
            plot = right.addPlot()
            narrow_title(plot)
            right.nextRow()
            self._hidden_plots.append(plot)
            self._hidden_bars.append(self._add_bars(plot, n))

    def _build_input(self, layout, n_pixels: int) -> None:
        layout.addItem(NarrowTitle(f"Input ({n_pixels} pixels)", size=theme.TITLE_SIZE))
        layout.nextRow()
        box = layout.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setColorMap(theme.grey_cmap())
        box.addItem(self._image)
        side = math.isqrt(n_pixels)
        box.setRange(xRange=(0, side), yRange=(0, side), padding=0.02)

    def _build_output(self, layout, n: int) -> None:
        accent = "#%02x%02x%02x" % theme.ACCENT
        plot = layout.addPlot()
        narrow_title(plot)
        set_title(plot, f"Output ({n}): ▼ label, <span style='color:{accent}'>■</span> predicted", theme.TITLE_SIZE)
        plot.getAxis("bottom").setTicks([[(k, str(k)) for k in range(n)], []])
        self._output_bars = self._add_bars(plot, n)
        plot.setYRange(0, 1.3, padding=0)
        self._truth = pg.ScatterPlotItem(size=12, symbol="t", brush=pg.mkBrush("k"), pen=None)
        plot.addItem(self._truth)
        self._output_values = [pg.TextItem("", color=(60, 60, 60), anchor=(0.5, 1)) for _ in range(n)]
        font = QFont()
        font.setPointSize(7)
        for k, text in enumerate(self._output_values):
            text.setFont(font)
            plot.addItem(text)

    @staticmethod
    def _add_bars(plot, n: int) -> pg.BarGraphItem:
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setXRange(-0.6, n - 0.4, padding=0)
        plot.getAxis("bottom").setStyle(maxTickLevel=1)  # no ticks between neurons
        bars = pg.BarGraphItem(x=np.arange(n), height=np.zeros(n), width=0.8, pen=None, brush=OTHER)
        plot.addItem(bars)
        return bars

    # --- drawing a snapshot -------------------------------------------------------------------
    def attach(self, view, training) -> None:
        super().attach(view, training)
        self.probe_requested.connect(lambda how: training.request(MoveProbe(how)))

    show_snapshot = Panel.show_paced

    def draw_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.sizes != self._sizes:
            self._build(snapshot.sizes)
        self._show_input(snapshot.probe_a[0])
        activation = snapshot.config["activation"]
        for l, (plot, bars) in enumerate(zip(self._hidden_plots, self._hidden_bars)):
            self._show_hidden(l, plot, bars, snapshot.probe_a[l + 1], activation)
        label = snapshot.probe_label if snapshot.probe_label_known else None
        guess = self._show_output(snapshot.probe_a[-1], label)
        self._show_probe_label(snapshot, guess)

    def _show_input(self, pixels) -> None:
        side = math.isqrt(len(pixels))
        image = np.nan_to_num(np.asarray(pixels, dtype=np.float32), nan=0.5, posinf=1.0, neginf=0.0)
        if changed(self._shown, "input", image):   # the probe digit changes only when another is picked
            self._image.setImage(image.reshape(side, side), autoLevels=False, levels=(0.0, 1.0))

    def _show_hidden(self, l, plot, bars, a, activation) -> None:
        low, high = y_range(a, activation)
        bars.setOpts(height=drawable(a, low, high), brushes=activation_brushes(a, activation))
        plot.setYRange(low, high, padding=0)   # a no-op when unchanged (a bounded activation)
        if changed(self._shown, ("ticks", l), (low, high)):
            # three labels whatever the height: pyqtgraph's own crowd each other in a small dock
            plot.getAxis("left").setTicks([[(v, f"{v:.2g}") for v in (low, (low + high) / 2, high)], []])
        count, what = saturation(a, activation)
        share = 100.0 * count / max(len(a), 1)
        # the share first: in a narrow dock the end of the title is elided
        title = f"Hidden {l + 1}: {share:.0f}% {what} ({len(a)} {activation})"
        if changed(self._shown, ("title", l), title):
            set_title(plot, title, theme.TITLE_SIZE)
            plot.setToolTip(hidden_tooltip(a, activation, count, what))

    def _show_output(self, out, label: int | None) -> int:
        """Bars for the outputs, the prediction in orange, ▼ over the label (none when unknown)."""
        guess = predicted(out)
        accent, other = brush((*theme.ACCENT, 255)), brush((*OTHER, 255))
        heights = drawable(out, 0.0, 1.0)
        self._output_bars.setOpts(height=heights, brushes=[accent if k == guess else other
                                                           for k in range(len(out))])
        if changed(self._shown, "truth", label):
            self._truth.setData([] if label is None else [label], [] if label is None else [1.2])
        # a narrow chart has room for the prediction's number only
        crowded = self._output_bars.getViewBox().width() < 25 * len(out)
        for k, (text, value, top) in enumerate(zip(self._output_values, out, heights.tolist())):
            text.setText(output_text(value) if k == guess or not crowded else "")   # no-ops when unchanged
            if changed(self._shown, ("value at", k), round(top, 3)):   # moving a text costs
                text.setPos(k, top)
        return guess

    def _show_probe_label(self, snapshot: Snapshot, guess: int) -> None:
        text, wrong = probe_text(snapshot, guess)
        self._probe_label.setText(text)
        if changed(self._shown, "wrong", wrong):   # a new style sheet re-polishes the widget: only on change
            self._probe_label.setStyleSheet("color: rgb(200, 40, 40); font-weight: bold;" if wrong else "")

    # --- read-only views, for tests and exporters ---------------------------------------------
    @property
    def probe_text(self) -> str:
        """The line naming the probe digit, its label and the prediction, as shown (unelided)."""
        return self._probe_label.text()

    @property
    def probe_marked_wrong(self) -> bool:
        """Whether the probe line is marked as a wrong answer (red)."""
        return bool(self._shown.get("wrong", False))

    @property
    def label_marker(self) -> list:
        """The output indices marked ▼ as the probe's label ([] when the label is unknown)."""
        x, _ = self._truth.getData() if hasattr(self, "_truth") else (None, None)
        return [] if x is None else [int(v) for v in x]

    @property
    def input_image(self) -> np.ndarray | None:
        """The probe image as drawn (side, side), levels 0–1; None before the first snapshot."""
        return None if not hasattr(self, "_image") or self._image.image is None else self._image.image

    def bar_heights(self) -> list:
        """The bar heights of every hidden layer and then the output layer, as drawn."""
        bars = list(getattr(self, "_hidden_bars", [])) + ([self._output_bars] if hasattr(self, "_output_bars") else [])
        return [np.asarray(b.opts["height"]) for b in bars]

    def hidden_ranges(self) -> list:
        """The (low, high) of every hidden layer's bar axis, as shown."""
        return [tuple(plot.getViewBox().viewRange()[1]) for plot in getattr(self, "_hidden_plots", [])]

    def hidden_colours(self, l: int) -> list:
        """The (r, g, b, a) of each bar of hidden layer ``l`` (0-based), as drawn."""
        return [b.color().getRgb() for b in self._hidden_bars[l].opts["brushes"]]

    def output_colours(self) -> list:
        """The (r, g, b) of each output bar: the prediction in theme.ACCENT."""
        return [b.color().getRgb()[:3] for b in self._output_bars.opts["brushes"]]

    def output_texts(self) -> list:
        """The numbers written above the output bars."""
        return [t.toPlainText() for t in self._output_values]

    def hidden_texts(self) -> list:
        """(title, tooltip) of every hidden layer's chart, as shown."""
        return [(plot.titleLabel.text, plot.toolTip()) for plot in getattr(self, "_hidden_plots", [])]

    def __repr__(self):
        return f"ActivationsPanel(sizes={self._sizes})"
