"""The cost panel: training cost per step (raw and smoothed) and the test figures of every epoch."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLabel, QLayout, QVBoxLayout

from core.history import DecimatingHistory
from core.snapshot import Snapshot, test_points
from gui import theme
from gui.fit_text import legend_title, narrow_title
from gui.panels.base import Panel
from gui.widgets import (DecadeAxis, RangeKeeper, RedrawPacer, drawable, finite_bounds, grown_end, place_in_grid,
                         stable_span, window_mean)

SMOOTHING_SPANS = (1, 10, 50, 200, 1000)   # width of the centred window in steps; 1 = off
DEFAULT_SPAN = 50
SMOOTH_POINTS = 500                        # at most this many points on a smoothed curve
AXIS_WIDTH = 60                            # px; the same for both plots so their x axes line up
WIDE = 520                                 # px: the controls fit one row from this width on
COMPACT = (420, 330)                       # px: below either, the axis titles go (the legends say it)
LIGHT = (*theme.TRAIN, 90)                 # the raw per-step cost: a pale line under the smoothed one
# the legends, above each plot: (mark, colour, words, short words)
COST_LEGEND = (("━", LIGHT, "cost per step", "step"), ("━", theme.TRAIN, "smoothed", "smoothed"),
               ("━", theme.TEST, "test (while training)", "test"), ("●", theme.TEST, "test (per epoch)", "epoch"))
ACCURACY_LEGEND = (("━", theme.TRAIN, "batch accuracy (smoothed)", "batch"),
                   ("━", theme.TEST, "test accuracy (while training)", "test"),
                   ("●", theme.TEST, "test accuracy (per epoch)", "epoch"))


# --- view ranges that change rarely ---------------------------------------------------------------
# Redrawing an axis (its ticks, labels and grid) costs more than everything else in a frame, and it
# happens whenever the view range moves. So a live plot does not auto-range on every snapshot: its
# x range grows in round steps and its y range follows the data only when the data leaves it or
# fills too little of it.


class CurvesPanel(Panel):
    """Training cost per step (thin: every step; thick: smoothed), smoothed batch accuracy, and the
    test cost and test accuracy (%) after every epoch; x in steps or epochs (step / steps_per_epoch).
    Costs are means per sample over the batch (training) or the test set.

    Per-step points live in bounded histories (``capacity`` points each), so memory stays flat.
    """

    title = "Cost"
    area = "bottom"
    workspaces = ("Overview",)
    help = ("Training cost per mini-batch (raw and smoothed) and batch accuracy; the whole test set's "
            'cost and accuracy at every epoch (dots) and measured while training runs (line). x in steps '
            'or epochs; log scale.')
    # feed every snapshot, hidden or not: the per-step points are in no other snapshot, and the
    # panel only accumulates while hidden, drawing when it is shown again
    keeps_history = True

    def __init__(self, parent=None, capacity: int = 4096):
        super().__init__(parent)
        self._raw = DecimatingHistory(capacity, columns=2)      # cost, batch accuracy per step
        self._epochs: tuple = ()
        self._checks: tuple = ()            # TestChecks between epochs
        self._last_step = -math.inf
        self._steps_per_epoch = 1
        self._cost_name = ""
        self._dirty = False
        self._markers_for, self._markers = None, []   # what the test markers show, as drawn
        self._pacer = RedrawPacer(self, self.draw_if_dirty)
        self._live = False                  # the last snapshot came from a running training
        self._build_controls()
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(self._controls)
        layout.addWidget(self._view, 1)
        # the smallest size is with the controls on two rows: the one-row width must not become the
        # panel's minimum, or a dock made narrower could never bring the two rows back
        self._narrow_min = layout.minimumSize()
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)

    # --- construction ------------------------------------------------------------------------
    def _build_controls(self):
        self._x_axis = QComboBox(objectName="x_axis")
        self._x_axis.addItems(["steps", "epochs"])
        self._log = QCheckBox("log scale", objectName="log_scale")
        self._smoothing = QComboBox(objectName="smoothing")
        for span in SMOOTHING_SPANS:
            self._smoothing.addItem("off" if span == 1 else f"{span} steps", span)
        self._smoothing.setCurrentIndex(SMOOTHING_SPANS.index(DEFAULT_SPAN))
        self._batch_acc = QCheckBox("batch accuracy", objectName="batch_accuracy", checked=True)
        self._x_axis.currentIndexChanged.connect(self._on_x_axis_changed)
        self._log.toggled.connect(self._on_log_scale_changed)
        self._smoothing.currentIndexChanged.connect(self._on_smoothing_changed)
        self._batch_acc.toggled.connect(self._on_batch_accuracy_changed)
        self._controls = QGridLayout()
        self._control_words = (QLabel("x axis:"), QLabel("smoothing:"))
        self._controls_wide = None
        self._arrange_controls(wide=False)

    def _arrange_controls(self, wide: bool) -> None:
        """The controls on one row in a wide dock, on two (x axis and log / smoothing and accuracy)
        in a narrow one."""
        if wide == self._controls_wide:
            return
        self._controls_wide = wide
        x_words, smoothing_words = self._control_words
        widgets = (x_words, self._x_axis, self._log, smoothing_words, self._smoothing, self._batch_acc)
        places = [(w, 0 if wide or k < 3 else 1, k if wide else k % 3) for k, w in enumerate(widgets)]
        place_in_grid(self._controls, places, 6 if wide else 3)

    def minimumSizeHint(self):
        return self._narrow_min

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._arrange_controls(self.width() >= WIDE)
        compact = self.width() < COMPACT[0] or self.height() < COMPACT[1]
        for plot in (self._cost_plot, self._acc_plot):
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                if axis.label.isVisible() == compact:
                    axis.showLabel(not compact)

    def _show_legends(self, *_):
        self._legend_texts = (legend_title(self._cost_plot, COST_LEGEND),
                              legend_title(self._acc_plot, ACCURACY_LEGEND))

    def _build_plots(self):
        self._view = pg.GraphicsLayoutWidget()
        self._cost_plot = cost = self._view.addPlot(row=0, col=0,
                                                    axisItems={"left": DecadeAxis("left")})
        self._acc_plot = acc = self._view.addPlot(row=1, col=0)
        self._view.ci.layout.setRowStretchFactor(0, 2)
        self._view.ci.layout.setRowStretchFactor(1, 1)
        acc.setXLink(cost)
        for plot in (cost, acc):
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.getAxis("left").setWidth(AXIS_WIDTH)
        cost.setLabel("left", "training cost")
        acc.setLabel("left", "accuracy (%)")   # no units: pyqtgraph would scale them
        self._set_x_label()
        for plot in (cost, acc):   # the legends are the titles: over the plots they hid the curves
            narrow_title(plot)
            plot.getViewBox().sigResized.connect(self._show_legends)
        # Qt strokes a wide antialiased zig-zag 20–100× slower than a hairline (measured: 15 ms
        # against 0.8 ms a curve), so noisy curves are 1 px and wide ones are not antialiased.
        self._raw_curve = cost.plot(pen=pg.mkPen(LIGHT, width=1), antialias=False)
        self._raw_curve.setClipToView(True)
        self._raw_curve.setDownsampling(auto=True, method="peak")
        thick = dict(pen=pg.mkPen(theme.TRAIN, width=2), antialias=False)
        self._smooth_curve = cost.plot(**thick)
        live = dict(pen=pg.mkPen(theme.TEST, width=1.5), antialias=False)
        self._live_test_cost = cost.plot(**live)
        self._test_cost = cost.plot(**self._marker_style())
        self._acc_curve = acc.plot(**thick)
        self._live_test_acc = acc.plot(**live)
        self._test_acc = acc.plot(**self._marker_style())
        self._show_legends()
        self._ranges = RangeKeeper(cost.getViewBox(), acc.getViewBox())
        self._x_end = self._cost_y = self._acc_y = None

    @staticmethod
    def _marker_style() -> dict:
        # markers only: the "while training" line joins them through the checks in between
        return dict(pen=None, symbol="o", symbolSize=7, symbolBrush=theme.TEST,
                    symbolPen=pg.mkPen("w", width=1))

    # --- public surface ----------------------------------------------------------------------
    @property
    def steps(self) -> np.ndarray:
        """Step numbers of the stored per-step points (averages of neighbours once thinned)."""
        return self._raw.x

    @property
    def costs(self) -> np.ndarray:
        """The stored training cost per step, aligned with ``steps``."""
        return self._raw.y[:, 0]

    @property
    def accuracies(self) -> np.ndarray:
        """The stored batch accuracy (0–1) per step, aligned with ``steps``."""
        return self._raw.y[:, 1]

    @property
    def legends(self) -> tuple:
        """(cost legend, accuracy legend) as the plain text shown above the plots."""
        return self._legend_texts

    @property
    def x_label(self) -> str:
        """The x axes' title: "step" or "epoch"."""
        return self._cost_plot.getAxis("bottom").labelText

    @property
    def cost_axis_is_log(self) -> bool:
        return bool(self._cost_plot.getAxis("left").logMode)

    @property
    def accuracy_axis_is_log(self) -> bool:
        return bool(self._acc_plot.getAxis("left").logMode)

    @property
    def cost_view(self) -> pg.ViewBox:
        """The cost plot's ViewBox, to pan and zoom it as a person would (tests): don't restyle it."""
        return self._cost_plot.getViewBox()

    @property
    def curves(self) -> dict:
        """The plot items by role, for tests and exporters: read them, don't restyle them."""
        return {"cost": self._raw_curve, "smoothed cost": self._smooth_curve,
                "test cost": self._test_cost, "batch accuracy": self._acc_curve,
                "test accuracy": self._test_acc, "live test cost": self._live_test_cost,
                "live test accuracy": self._live_test_acc}

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Append the snapshot's new per-step points, take its epoch records, redraw if visible."""
        steps = np.asarray(snapshot.cost_steps, dtype=np.float64)
        if len(steps) and steps[0] <= self._last_step:
            self.reset()   # steps went backwards: a new run or a loaded checkpoint
        self._append(steps, snapshot.cost_values, snapshot.accuracy_values)
        self._epochs = snapshot.epochs
        self._checks = snapshot.test_checks
        self._steps_per_epoch = max(int(snapshot.steps_per_epoch), 1)
        self._set_cost_name(str(snapshot.config.get("cost", "")))
        self._live = snapshot.running
        self.request_draw(live=self._live)

    def reset(self) -> None:
        """Forget every point (a new run started)."""
        capacity = self._raw.capacity
        self._raw = DecimatingHistory(capacity, columns=2)
        self._epochs = ()
        self._checks = ()
        self._last_step = -math.inf
        self._x_end = self._cost_y = self._acc_y = None   # the next run's data sets them afresh
        self._markers_for = None
        self.request_draw()

    # --- accumulating ------------------------------------------------------------------------
    def _append(self, steps, costs, accuracies):
        self._raw.extend(steps, np.column_stack([np.asarray(costs, dtype=np.float64),
                                                 np.asarray(accuracies, dtype=np.float64)]))
        if len(steps):
            self._last_step = float(steps[-1])

    # --- drawing -----------------------------------------------------------------------------
    def _draw(self):
        self._dirty = False
        self._pacer.drawn()
        scale = self._x_scale()
        x, y = self._raw.x * scale, self._raw.y
        self._raw_curve.setData(x, drawable(y[:, 0]), connect="finite")
        width = max(1, round(self._smoothing.currentData() / self._raw.stride))
        # a smoothed curve keeps its shape at one point per half window; thick lines cost per point
        every = max(1, min(width // 2, math.ceil(len(x) / SMOOTH_POINTS)))
        xs = x[::every]
        acc = window_mean(y[:, 1], width)[::every] * 100
        self._smooth_curve.setData(xs, window_mean(y[:, 0], width)[::every], connect="finite")
        self._acc_curve.setData(xs, acc, connect="finite")
        # new epochs are rare: redraw the markers only then (NaN figures compared by their text)
        key = (scale, tuple((r.step, repr(r.test_cost), repr(r.test_accuracy)) for r in self._epochs),
               len(self._checks), self._checks[-1] if self._checks else None)
        if key != self._markers_for:
            self._markers_for = key
            self._markers = self._draw_markers(scale)
        if self._ranges.follow():
            self._follow(x, y[:, 0], acc, self._markers)

    def _draw_markers(self, scale) -> list:
        """Mark the test cost and accuracy of every epoch, and join them with the test checks made
        in between into a line; [(x, cost), (x, accuracy)] of all test points as drawn."""
        steps = np.array([r.step for r in self._epochs], dtype=np.float64) * scale
        shown = []
        for item, values in ((self._test_cost, [r.test_cost for r in self._epochs]),
                             (self._test_acc, [100 * r.test_accuracy for r in self._epochs])):
            values = np.array(values, dtype=np.float64)
            known = np.isfinite(values)    # a marker needs a value: skip epochs without one
            item.setData(steps[known], values[known], symbolSize=7 if len(steps) <= 40 else 4)
            shown.append((steps[known], values[known]))
        # not back to epoch 0: a straight segment over unmeasured steps would hide the early rise
        points = test_points(self._epochs, self._checks)
        live_x = points[:, 0] * scale
        for k, item in enumerate((self._live_test_cost, self._live_test_acc)):
            values = points[:, k + 1] * (100 if k else 1)
            known = np.isfinite(values)
            item.setData(live_x[known], values[known])
            x, y = shown[k]
            shown[k] = (np.concatenate([x, live_x[known]]), np.concatenate([y, values[known]]))
        return shown

    def _follow(self, x, costs, acc, tests):
        """Show the whole run, moving the view (and so redrawing the axes) only in coarse steps."""
        (test_x, test_cost), (_, test_acc) = tests
        end = max(float(x[-1]) if len(x) else 0.0, float(test_x.max()) if len(test_x) else 0.0)
        if end > 0:
            # while training runs the axis grows in steps; otherwise it fits the run, give or take
            # 10% (so Step after Step does not redraw the axis every time)
            if self._live:
                self._x_end = grown_end(self._x_end, end)
            elif not (self._x_end and end <= self._x_end <= 1.1 * end):
                self._x_end = 1.02 * end
            self._ranges.set(self._cost_plot.getViewBox(), x=(-0.015 * self._x_end, self._x_end))
        if self._log.isChecked():
            with np.errstate(divide="ignore", invalid="ignore"):
                lo, hi = finite_bounds(np.log10(costs), np.log10(test_cost))
            self._cost_y = stable_span(self._cost_y, lo, hi, margin=max(0.08 * (hi - lo), 0.05))
        else:
            lo, hi = finite_bounds(costs, test_cost)
            self._cost_y = stable_span(self._cost_y, lo, hi, margin=0.08 * (hi - lo), floor=0.0)
        lo, hi = finite_bounds(acc, test_acc)
        self._acc_y = stable_span(self._acc_y, lo, hi, margin=max(0.08 * (hi - lo), 1.0),
                                  floor=0.0, ceiling=100.0)
        self._ranges.set(self._cost_plot.getViewBox(), y=self._cost_y)
        self._ranges.set(self._acc_plot.getViewBox(), y=self._acc_y)

    def _x_scale(self) -> float:
        return 1.0 / self._steps_per_epoch if self._x_axis.currentText() == "epochs" else 1.0

    def _set_x_label(self):
        label = "epoch" if self._x_axis.currentText() == "epochs" else "step"
        for plot in (self._cost_plot, self._acc_plot):
            plot.setLabel("bottom", label)

    def _set_cost_name(self, name: str):
        if name and name != self._cost_name:
            self._cost_name = name
            self._cost_plot.setLabel("left", f"cost ({name})")

    # --- controls ----------------------------------------------------------------------------
    def _on_x_axis_changed(self, _index):
        self._set_x_label()
        self._x_end = None
        self._ranges.following = True     # the whole run, in the new unit
        self._ranges.forget()
        self.request_draw()

    def _on_log_scale_changed(self, checked: bool):
        self._cost_plot.setLogMode(y=checked)   # asks for auto-range: the plot follows again
        self._cost_y = None
        self.request_draw()

    def _on_smoothing_changed(self, _index):
        self.request_draw()

    def _on_batch_accuracy_changed(self, checked: bool):
        self._acc_curve.setVisible(checked)

    def __repr__(self):
        return f"CurvesPanel(points={len(self._raw)}, epochs={len(self._epochs)})"
