"""The gradients panel: is every layer learning, and at a healthy pace?"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PyQt6 import sip
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QFont, QFontMetrics, QTextDocument
from PyQt6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.activations import describe
from core.history import DecimatingHistory
from core.snapshot import Snapshot
from gui import theme
from gui.fit_text import ElidedLabel, narrow_title, set_title
from gui.panels.base import Panel
from gui.widgets import (DecadeAxis, RangeKeeper, RedrawPacer, drawable,
                         finite_bounds, grown_end, stable_span)

HEALTHY_RATIO = 1e-3     # ‖ΔW‖/‖W‖ per step: much lower learns slowly, much higher is unstable
NOT_LEARNING = 1e-6      # a neuron whose ‖∂C/∂W_j‖ is below this did not learn on the last batch
PEAK_HALF_LIFE = 3.0     # s: the per-neuron chart's top comes down this slowly after a peak
AXIS_WIDTH = 60
LEGEND_SIZE = "9pt"


def saturation_masks(activation: str, a) -> tuple:
    """(saturated, dead) boolean masks of the units ``a`` of one hidden layer, as the activation
    called ``activation`` defines them (core.activations; an unknown name has neither)."""
    act = describe(activation)
    return act.saturated(a), act.dead(a)


def not_learning(neuron_norms) -> np.ndarray:
    """Mask of the neurons whose incoming-weight gradient norm is below ``NOT_LEARNING``."""
    norms = np.asarray(neuron_norms, dtype=np.float64)
    return np.isfinite(norms) & (norms < NOT_LEARNING)


def health_line(l: int, activation: str, a, neuron_norms) -> str:
    """One line about hidden layer ``l`` (0-based): its saturated or dead share on the probe digit,
    and how many of its neurons are not learning on the last batch."""
    act = describe(activation)
    saturated, dead = saturation_masks(activation, a)
    facts = []
    if act.dead_rule:
        facts.append(f"{_percent(dead)} dead ({act.dead_rule}) on the probe")
    if act.saturation_rule:
        facts.append(f"{_percent(saturated)} saturated on the probe")
    idle = not_learning(neuron_norms)
    facts.append(f"{int(idle.sum())} of {idle.size} not learning")
    return f"layer {l + 1} ({activation}): " + ", ".join(facts)


def _percent(mask) -> str:
    return f"{100.0 * np.mean(mask):.0f}%" if np.size(mask) else "–"


def layer_name(sizes, l: int) -> str:
    return f"layer {l + 1} ({sizes[l]}→{sizes[l + 1]})"


def ratio_text(r) -> str:
    """An update ratio as the plot labels it: two digits and a short exponent, '5.2e-3'."""
    if not np.isfinite(r):
        return "–"
    mantissa, exponent = f"{r:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


class GradientsPanel(Panel):
    """Gradient norm per layer over the run (log scale), the per-neuron gradient magnitudes of the
    last step for one layer, the update-to-weight ratio ‖ΔW‖/‖W‖ per layer against the usual 1e-3,
    and the saturated / dead / not-learning share of each hidden layer."""

    title = "Gradients"
    area = "bottom"
    workspaces = ("Backprop", "Weights")
    help = ("The gradient norm of every layer over time, this step's gradient size per neuron, the "
            'update-to-weight ratio per layer (about 1e-3 is typical) and how many units are saturated or '
            'dead.')
    # feed every snapshot, hidden or not: the per-step points are in no other snapshot, and the
    # panel only accumulates while hidden, drawing when it is shown again
    keeps_history = True

    def __init__(self, parent=None, capacity: int = 4096):
        super().__init__(parent)
        self._capacity = capacity
        self._sizes: tuple = ()
        self._history = DecimatingHistory(capacity, columns=1)
        self._last_step = -math.inf
        self._latest: Snapshot | None = None
        self._norm_curves: list = []
        self._ratio_labels: list = []
        self._ratio_brushes: list = []
        self._dirty = False
        self._x_end = self._norm_y = self._neuron_y = self._ratio_y = None
        self._neuron_peak, self._neuron_peak_at = 0.0, 0.0
        self._pacer = RedrawPacer(self, self.draw_if_dirty)
        self._live = False                  # the last snapshot came from a running training
        self._health_text = None
        self._idle_shown = None
        self._build()

    # --- construction ------------------------------------------------------------------------
    def _build(self):
        self._norm_plot = self._plot("step", "‖∂C/∂(W, b)‖", log_y=True)
        # the legend is the title row, a coloured line per layer: over the plot it hid the curves,
        # and in a narrow dock pyqtgraph's legend was cut off ("1 100)")
        narrow_title(self._norm_plot)
        self._norm_plot.getViewBox().sigResized.connect(self._on_norm_resized)
        self._norm_plot.setToolTip("The gradient norm ‖∂C/∂(W, b)‖ of each layer at every step (log scale)")
        self._neuron_plot = self._plot("neuron j", "‖∂C/∂W_j‖")
        self._neuron_plot.setToolTip("The gradient norm of each neuron's incoming weights in the last "
                                     "step; × marks a neuron that did not learn")
        self._bars = pg.BarGraphItem(x=[], height=[], width=0.8, pen=None, brush=theme.TRAIN)
        self._idle = pg.ScatterPlotItem(symbol="x", size=8, pen=pg.mkPen(theme.TEST, width=2),
                                        brush=None)
        self._neuron_plot.addItem(self._bars)
        self._neuron_plot.addItem(self._idle)
        self._ratio_plot = self._plot("", "‖ΔW‖ / ‖W‖", log_y=True)
        self._ratio_plot.setMouseEnabled(x=False, y=False)
        self._ratio_points = self._ratio_plot.plot(pen=None, symbol="o", symbolSize=11)
        ref = pg.InfiniteLine(pos=math.log10(HEALTHY_RATIO), angle=0,
                              pen=pg.mkPen((120, 120, 120), width=1.5, style=Qt.PenStyle.DashLine),
                              label="typical", labelOpts=dict(position=0.0, color=(90, 90, 90),
                                                              anchors=[(0, 0), (0, 0)]))
        self._ratio_plot.addItem(ref)   # its word sits under the line at the left, clear of the points
        self._typical = ref.label
        self._ratio_tip = ("How much each layer's weights moved in the last step, relative to their "
                           "size. The dashed line, 1e-3, is a typical healthy value: far above, the "
                           "learning rate may be too high; far below, the layer is barely learning.")
        self._ratio_plot.setToolTip(self._ratio_tip)
        box = self._ratio_plot.getViewBox()
        # the numbers' room changes with the plot's size; the labels follow the view's new scale
        # only after the resize is handled, so look again on the next turn of the event loop
        # (methods, not lambdas holding self: those make reference cycles the garbage collector
        # may break at any moment, deleting a top-level panel mid-event)
        box.sigResized.connect(self._unclutter_soon)
        box.sigRangeChanged.connect(self._unclutter_soon)
        self._layer = QComboBox(objectName="layer")
        # the items arrive with the first snapshot; a long name must not widen a narrow dock
        self._layer.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._layer.setMinimumContentsLength(7)
        self._layer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)   # the row's width
        self._layer.currentIndexChanged.connect(self._on_layer_changed)
        self._norm_ranges = RangeKeeper(self._norm_plot.getViewBox())
        self._neuron_ranges = RangeKeeper(self._neuron_plot.getViewBox())
        self._ratio_ranges = RangeKeeper(self._ratio_plot.getViewBox())
        self._health = QWidget(objectName="health")   # one elided line per hidden layer
        QVBoxLayout(self._health).setContentsMargins(0, 0, 0, 0)
        self._health.layout().setSpacing(0)
        self._health_lines: list = []
        self._arrange()

    def _plot(self, bottom: str, left: str, log_y=False) -> pg.PlotItem:
        widget = pg.PlotWidget(self, axisItems={"left": DecadeAxis("left")})  # self keeps it alive
        plot = widget.getPlotItem()
        plot.setLabel("bottom", bottom)
        plot.setLabel("left", left)
        axis = plot.getAxis("left")
        axis.setWidth(AXIS_WIDTH)
        axis.enableAutoSIPrefix(False)     # "×0.001" next to a label reads as a unit; plain numbers
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLogMode(y=log_y)
        return plot

    def _arrange(self):
        chooser = QHBoxLayout()
        chooser.addWidget(QLabel("per neuron:"))
        chooser.addWidget(self._layer, 1)
        neurons = QVBoxLayout()
        neurons.addLayout(chooser)
        neurons.addWidget(self._neuron_plot.getViewWidget(), 1)
        grid = QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.addWidget(self._norm_plot.getViewWidget(), 0, 0, 1, 2)
        grid.addLayout(neurons, 1, 0)
        grid.addWidget(self._ratio_plot.getViewWidget(), 1, 1)
        grid.addWidget(self._health, 2, 0, 1, 2)
        grid.setRowStretch(0, 5)
        grid.setRowStretch(1, 5)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)

    def _build_layers(self, sizes: tuple):
        """(Re)create the per-layer items for a network of ``sizes``."""
        self._sizes = sizes
        L = len(sizes) - 1
        self._history = DecimatingHistory(self._capacity, columns=L)
        for curve in self._norm_curves:
            self._norm_plot.removeItem(curve)
        self._norm_curves = [self._norm_curve(l) for l in range(L)]
        for label in self._ratio_labels:
            self._ratio_plot.removeItem(label)
        # numbers above their points; one that would overlap another (or "typical") is left out
        # and read in the tooltip (see _unclutter)
        font = QFont()
        font.setPointSize(8)
        self._ratio_labels = [pg.TextItem(anchor=(0.5, 1.15), color=(40, 40, 40)) for _ in range(L)]
        for label in self._ratio_labels:
            label.setFont(font)
            self._ratio_plot.addItem(label)
        self._set_legend(sizes)
        for line in self._health_lines:
            line.deleteLater()
        self._health_lines = [ElidedLabel("") for _ in range(L - 1)]
        for line in self._health_lines:
            self._health.layout().addWidget(line)
        self._ratio_plot.getAxis("bottom").setTicks([[(l + 1, str(l + 1)) for l in range(L)]])
        self._ratio_plot.setLabel("bottom", "layer")
        self._ratio_ranges.set(self._ratio_plot.getViewBox(), x=(-0.1, L + 0.7))   # room for "typical" and the last number
        self._ratio_brushes = [pg.mkBrush(theme.layer_colour(l)) for l in range(L)]
        self._layer.blockSignals(True)
        self._layer.clear()
        self._layer.addItems([layer_name(sizes, l) for l in range(L)])
        self._layer.blockSignals(False)

    def _set_legend(self, sizes: tuple) -> None:
        """The norm plot's title: a line in each layer's colour and its name ("━ layer 1 (784→32)"),
        or only the layer numbers ("━ 1  ━ 2") when the names do not fit the plot's width."""
        entries = self.legend_entries(sizes)
        font = QFont()
        font.setPointSize(int(LEGEND_SIZE[:-2]))
        room = self._norm_plot.getViewBox().width() + AXIS_WIDTH
        full = "  ".join(f"━━ {name}" for name, _ in entries)
        short = room > 0 and QFontMetrics(font).horizontalAdvance(full) > room - 10
        html = "&nbsp;&nbsp;".join(
            "<span style='color: #%02x%02x%02x'>━━</span>&nbsp;" % colour
            + (f"{l + 1}" if short else name) for l, (name, colour) in enumerate(entries))
        if html != self._norm_plot.titleLabel.text:
            set_title(self._norm_plot, ("layer " if short else "") + html, LEGEND_SIZE)

    @staticmethod
    def legend_entries(sizes: tuple) -> list:
        """(name, colour) of each layer in the legend: "layer 1 (784→32)", theme.layer_colour(0)."""
        return [(layer_name(sizes, l), theme.layer_colour(l)) for l in range(len(sizes) - 1)]

    def _norm_curve(self, l: int) -> pg.PlotDataItem:
        curve = self._norm_plot.plot(name=layer_name(self._sizes, l),
                                     pen=pg.mkPen(theme.layer_colour(l), width=1),  # wider is slow
                                     antialias=False)  # a noisy hairline looks the same without it
        curve.setClipToView(True)
        curve.setDownsampling(auto=True, method="peak")
        return curve

    # --- public surface ----------------------------------------------------------------------
    @property
    def steps(self) -> np.ndarray:
        """Step numbers of the stored gradient-norm points."""
        return self._history.x

    @property
    def norms(self) -> np.ndarray:
        """Stored gradient norms, shape (points, layers), aligned with ``steps``."""
        return self._history.y

    @property
    def health_text(self) -> str:
        """The saturated / dead / not-learning summary: a line per hidden layer (each shown elided
        on its own line) and the note on how they are measured (in the lines' tooltips)."""
        return self._health_text or ""

    # read-only views of what is drawn, for tests and exporters
    def drawn_norms(self) -> list:
        """(steps, norms) of each layer's norm curve as drawn (non-positive values as NaN)."""
        return [data_of(curve) for curve in self._norm_curves]

    @property
    def norm_axis_is_log(self) -> bool:
        return bool(self._norm_plot.getAxis("left").logMode)

    def shown_legend(self) -> list:
        """(name, colour) of each layer in the legend as shown."""
        return self.legend_entries(self._sizes) if self._sizes else []

    @property
    def legend_text(self) -> tuple:
        """(the legend's whole text, the part that fits the plot's width)."""
        title = self._norm_plot.titleLabel
        return _plain(title.text), title.shown_text()

    def neuron_bars(self) -> tuple:
        """(neuron indices, heights) of the per-neuron bars as drawn."""
        return np.asarray(self._bars.opts["x"]), np.asarray(self._bars.opts["height"], dtype=np.float64)

    def idle_neurons(self) -> np.ndarray:
        """Indices of the neurons marked × (not learning)."""
        x, _ = self._idle.getData()
        return np.zeros(0) if x is None else np.asarray(x)

    @property
    def neuron_range(self) -> tuple:
        """The per-neuron chart's (bottom, top) as last set."""
        return self._neuron_y

    def ratio_points(self) -> tuple:
        """(layer numbers, ratios) of the update-ratio points as drawn."""
        return data_of(self._ratio_points)

    def ratio_texts(self, shown_only: bool = False) -> list:
        """The number written by each layer's ratio point (``shown_only``: those not left out)."""
        return [label.toPlainText() for label in self._ratio_labels if label.isVisible() or not shown_only]

    def ratio_label_rects(self) -> list:
        """Scene rectangles of the ratio numbers shown, and of the word "typical"."""
        return ([label.sceneBoundingRect() for label in self._ratio_labels if label.isVisible()],
                self._typical.sceneBoundingRect())

    @property
    def ratio_range(self) -> tuple:
        """The ratio axis's (low, high) in log10 units, as shown."""
        return tuple(self._ratio_plot.viewRange()[1])

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Append the snapshot's per-step gradient norms; show its last-step figures if visible."""
        if snapshot.sizes != self._sizes:
            self._build_layers(snapshot.sizes)
            self._last_step = -math.inf
        steps = np.asarray(snapshot.cost_steps, dtype=np.float64)
        if len(steps) and steps[0] <= self._last_step:
            self.reset()   # steps went backwards: a new run or a loaded checkpoint
        layers = len(self._sizes) - 1
        values = np.asarray(snapshot.grad_norm_values, dtype=np.float64).reshape(len(steps), layers)
        self._history.extend(steps, values)
        if len(steps):
            self._last_step = float(steps[-1])
        self._latest = snapshot
        self._live = snapshot.running
        self.request_draw(live=self._live)

    def reset(self) -> None:
        """Forget the gradient history (a new run started)."""
        self._history = DecimatingHistory(self._capacity, columns=max(len(self._sizes) - 1, 1))
        self._last_step = -math.inf
        self._latest = None
        self._x_end = self._norm_y = None   # the next run's data sets them afresh
        self._neuron_peak = 0.0
        self.request_draw()

    # --- drawing -----------------------------------------------------------------------------
    def _draw(self):
        self._dirty = False
        self._pacer.drawn()
        x, y = self._history.x, self._history.y
        shown = [positive(y[:, l]) for l in range(len(self._norm_curves))]
        for curve, values in zip(self._norm_curves, shown):
            curve.setData(x, values, connect="finite")
        if self._norm_ranges.follow():
            self._follow_norms(x, shown)
        self._draw_neurons()
        self._draw_ratios()
        self._draw_health()

    def _follow_norms(self, x, norms):
        """The whole run on a log scale; the view moves (and the axes are redrawn) in coarse steps."""
        box = self._norm_plot.getViewBox()
        if len(x) and x[-1] > 0:
            # while training runs the axis grows in steps; otherwise it fits the run exactly
            self._x_end = grown_end(self._x_end, float(x[-1])) if self._live else 1.02 * float(x[-1])
            self._norm_ranges.set(box, x=(-0.015 * self._x_end, self._x_end))
        with np.errstate(divide="ignore", invalid="ignore"):
            lo, hi = finite_bounds(*[np.log10(n) for n in norms])
        self._norm_y = stable_span(self._norm_y, lo, hi, margin=max(0.08 * (hi - lo), 0.1))
        self._norm_ranges.set(box, y=self._norm_y)

    def _draw_neurons(self):
        s, l = self._latest, self._layer.currentIndex()
        norms = drawable(s.grad_neuron_norms[l]) if s is not None and l >= 0 else np.zeros(0)
        j = np.arange(len(norms))
        heights = np.nan_to_num(norms)
        self._bars.setOpts(x=j, height=heights, brush=theme.layer_colour(max(l, 0)))
        idle = not_learning(norms)
        if self._idle_shown is None or not np.array_equal(self._idle_shown, idle):
            self._idle_shown = idle
            self._idle.setData(j[idle], np.zeros(int(idle.sum())))
        if self._neuron_ranges.follow() and len(j):
            box = self._neuron_plot.getViewBox()
            self._neuron_ranges.set(box, x=(-0.6, len(j) - 0.4))
            # these norms jump 10-fold from batch to batch: while training runs the top follows
            # their peak, held and let down by half every PEAK_HALF_LIFE seconds, in 1-2-5 steps;
            # paused, it fits the step on screen
            now = time.monotonic()
            top = float(np.max(heights, initial=0.0))
            held = (self._neuron_peak * 0.5 ** ((now - self._neuron_peak_at) / PEAK_HALF_LIFE)
                    if self._live else 0.0)
            self._neuron_peak, self._neuron_peak_at = max(top, held, 1e-12), now
            shown = one_two_five(1.05 * self._neuron_peak)
            self._neuron_y = (-0.02 * shown, shown)
            self._neuron_ranges.set(box, y=self._neuron_y)

    def _draw_ratios(self):
        s = self._latest
        ratios = positive(s.update_ratios) if s is not None else np.zeros(0)
        layers = np.arange(1, len(ratios) + 1, dtype=np.float64)
        known = np.isfinite(ratios)    # a marker needs a value
        brushes = [b for b, k in zip(self._ratio_brushes, known) if k]
        self._ratio_points.setData(layers[known], ratios[known], symbolBrush=brushes)
        logs = np.log10(ratios)
        for label, x, r, lg in zip(self._ratio_labels, layers, ratios, logs):
            label.setText(ratio_text(r))
            label.setPos(x, lg if np.isfinite(lg) else math.log10(HEALTHY_RATIO))
        values = ", ".join(f"layer {l + 1}: {ratio_text(r)}" for l, r in enumerate(ratios))
        self._ratio_plot.setToolTip(f"{values}\n\n{self._ratio_tip}")
        shown = np.concatenate([logs[np.isfinite(logs)], [math.log10(HEALTHY_RATIO)]])
        # the labels sit above their points: keep ~0.3 decades above the top one, 0.7 on refits
        lo, hi = float(shown.min()) - 0.2, float(shown.max()) + 0.3
        self._ratio_y = stable_span(self._ratio_y, lo, hi, margin=0.5, slack=2.0)
        self._ratio_ranges.set(self._ratio_plot.getViewBox(), y=self._ratio_y)
        self._unclutter()

    def _on_norm_resized(self, *_):
        if self._sizes:
            self._set_legend(self._sizes)

    def _unclutter_soon(self, *_):
        QTimer.singleShot(0, self._unclutter)

    def _unclutter(self) -> None:
        """Show the ratio numbers left to right, leaving out any that would overlap one already shown
        or the word "typical", or stick out of the plot (in a narrow dock the points are closer than
        their numbers are wide); the plot's tooltip gives them all."""
        if sip.isdeleted(self) or sip.isdeleted(self._typical):
            return   # a late timer after the panel was closed
        taken = [self._typical.sceneBoundingRect()] if self._typical.isVisible() else []
        room = self._ratio_plot.getViewBox().sceneBoundingRect()
        for label in self._ratio_labels:
            label.setVisible(True)
            label.updateTransform(force=True)   # its scene size follows the view's latest scale
            rect = label.sceneBoundingRect()
            fits = room.contains(rect) and not any(rect.intersects(other) for other in taken)
            label.setVisible(fits)
            if fits:
                taken.append(rect)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # in a small dock the axis titles would be cut and squeeze the plots: the tooltips and the
        # legend say what the axes are
        compact = self.height() < 330 or self.width() < 420
        for plot in (self._norm_plot, self._neuron_plot, self._ratio_plot):
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                if axis.label.isVisible() == compact and axis.labelText:
                    axis.showLabel(not compact)

    def _draw_health(self):
        s = self._latest
        if s is None:
            self._health_text = ""
            for line in self._health_lines:
                line.setText("")
            return
        activation = str(s.config.get("activation", ""))
        lines = [health_line(l, activation, s.probe_a[l + 1], s.grad_neuron_norms[l])
                 for l in range(len(s.sizes) - 2)]
        threshold = f"1e{math.log10(NOT_LEARNING):.0f}"
        note = (f"(not learning: ‖∂C/∂W_j‖ < {threshold} on the last batch; "
                "saturation and death are measured on the probe digit)")
        text = "\n".join(lines) + "\n" + note
        if text != self._health_text:   # a new text re-lays out the panel: only when it changed
            self._health_text = text
            for label, line in zip(self._health_lines, lines):
                label.setText(line)
                label.setToolTip(f"{line}\n{note}")

    def _on_layer_changed(self, _index):
        self._neuron_peak = 0.0   # another layer's norms: its own scale
        if self._latest is not None:
            self._draw_neurons()

    def __repr__(self):
        return f"GradientsPanel(sizes={self._sizes}, points={len(self._history)})"


def data_of(item) -> tuple:
    """(x, y) of a plot item's data as given to it (empty arrays when it has none)."""
    x, y = item.getOriginalDataset()
    return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))


def _plain(html_text: str) -> str:
    """Rich text as plain text (the legend's HTML)."""
    doc = QTextDocument()
    doc.setHtml(html_text)
    return doc.toPlainText()


def one_two_five(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is ≥ ``value`` (> 0)."""
    scale = 10.0 ** math.floor(math.log10(value))
    return next(n * scale for n in (1, 2, 5, 10) if n * scale >= value * (1 - 1e-12))


def positive(values) -> np.ndarray:
    """``values`` for a log axis: float64 with zero, negative and non-finite entries as NaN."""
    out = drawable(values)
    out[~(out > 0)] = np.nan
    return out
