"""Distributions over time: a heat map of histogram × step for one layer's W, b, ∂C/∂W or a, the
current step's histogram beside it, and the compared run (Compare panel's run B) overlaid.

The histograms are counted off the GUI thread by ``core.histograms.histogram_row`` (a LatestJob at
most every ROW_EVERY seconds: a thinned stream of snapshots, so training keeps its speed), and kept
in bounded, evenly thinned HistogramHistory objects; the GUI thread only lays the kept rows into an
image. The bin edges are fixed for the run, chosen from its first snapshot (see core.histograms).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout

from core.histograms import (QUANTITIES, SYMBOLS, HistogramHistory, histogram_row,
                             quantiles_from_counts, resample_columns)
from core.embedding import paced_interval
from core.snapshot import Snapshot, Status
from gui import theme
from gui.fit_text import ElidedLabel
from gui.jobs import LatestJob
from gui.panels.base import Panel
from gui.panels.overtime.common import WORKSPACE, explanation, fill_layers, layer_choice
from gui.widgets import RedrawPacer

ROW_EVERY = 1.0          # s between histogram rows at least (each ~10 ms at 784-100-10: 1% of a core, bench/overtime_speed.py)
ROW_SHARE = 0.02         # a wider network's slower rows are asked for less often: at most this share of a core
COLUMNS = 300            # the heat map's width in columns (kept rows laid on evenly spaced steps)
QUANTITY_NAMES = {"weights": "weights W", "biases": "biases b", "gradients": "gradients ∂C/∂W",
                  "activations": "activations a (500 test digits)"}
RUN_B = (255, 255, 255)  # the compared run's quantile lines on the dark heat map
RUN_B_SIDE = (230, 120, 0)


def same_edges(a: dict | None, b: dict | None) -> bool:
    """True when two edge sets bin alike (answers computed before the run's edges were known differ)."""
    if a is None or b is None or a.keys() != b.keys():
        return False
    return all(np.array_equal(a[k], b[k]) for k in a)


def signed_log_ticks(edges: np.ndarray) -> list:
    """Ticks (position, text) for signed-log edges drawn at their positions 0, 1, 2, …: the edges
    at every other whole decade on each side, and 0 at the middle bin (|v| below the smallest)."""
    ticks = []
    for i, e in enumerate(edges):
        k = np.log10(abs(e))
        if abs(k - round(k)) < 1e-9 and round(k) % 2 == 0:
            ticks.append((float(i), ("−" if e < 0 else "") + ("1" if round(k) == 0 else f"1e{round(k)}")))
    ticks.append((len(edges) / 2 - 0.5, "0"))
    return ticks


def count_ticks(top: float) -> list:
    """Ticks for an axis of log10(1 + count): 1, 100, 10k, 1M placed where those counts fall."""
    names = {0: "1", 2: "100", 4: "10k", 6: "1M"}     # every other decade: the side plot is narrow
    return [(float(np.log10(1 + 10 ** k)), names[k]) for k in names if np.log10(1 + 10 ** k) <= max(top, 1) * 1.05]


class RunHistory(QObject):
    """One run's histogram rows, counted off the GUI thread; ``changed`` when a row is kept."""

    changed = pyqtSignal()
    failed = pyqtSignal(str)

    def __init__(self, parent, name: str):
        super().__init__(parent)
        self.history = HistogramHistory()
        self.dataset = None
        self.latest_step = -1
        self.sizes: tuple = ()
        self._generation = 0
        self._job = LatestJob(histogram_row, self, min_interval=ROW_EVERY, name=name)
        self._job.done.connect(self._on_row)
        self._job.failed.connect(self.failed)

    def offer(self, snapshot: Snapshot, edges: dict | None = None) -> None:
        """Count ``snapshot`` soon (a new run, a smaller step or another shape starts afresh);
        ``edges``: bin with these (run B uses run A's so the two compare)."""
        if snapshot.status == Status.TIMELINE:
            return
        if snapshot.step < self.latest_step or snapshot.sizes != self.sizes:
            self.clear()
            self.sizes = snapshot.sizes
        self.latest_step = snapshot.step
        self._job.request(snapshot, self.dataset, edges if edges is not None else self.history.edges,
                          tag=self._generation)

    def clear(self) -> None:
        self._generation += 1
        self.history.clear()
        self.latest_step = -1
        self.changed.emit()

    def _on_row(self, result, generation) -> None:
        row, edges = result
        if generation != self._generation:
            return
        if self.history.edges is None:
            self.history.edges = edges
        elif not same_edges(self.history.edges, edges):
            return     # counted before this run's edges were fixed: on other bins
        self.history.add(row)
        self._job.min_interval = paced_interval(row.seconds, ROW_EVERY, ROW_SHARE)
        self.changed.emit()

    def stop(self) -> None:
        self._job.stop()


class DistributionsPanel(Panel):
    """Histogram × step of the chosen layer and quantity (log colour), the histogram at the step
    shown beside it, run B's quantiles overlaid."""

    title = "Distributions"
    area = "right"
    follows_past = True
    workspaces = (WORKSPACE,)
    help = ("Distributions over time: for the chosen layer, how its weights W, biases b, gradients ∂C/∂W or "
            "activations a are spread at every step, as a heat map (x: step, y: value, colour: log of the "
            "exact count in each fixed bin), with the histogram of the step shown beside it. Bins are fixed "
            "for the whole run; gradients use signed-log bins (they shrink by orders of magnitude). The run "
            "being compared (Compare panel) is overlaid: its 10%, 50% and 90% lines and its histogram.")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.run_a = RunHistory(self, "distributions")
        self.run_b = RunHistory(self, "distributions (run B)")
        self.run_a.changed.connect(lambda: self.request_draw(live=True))
        self.run_b.changed.connect(lambda: self.request_draw(live=True))
        self.shown_step: int | None = None      # the Timeline's step while looking back
        self._pacer = RedrawPacer(self, self.draw_if_dirty, interval=0.2)
        self._build()

    # --- construction ------------------------------------------------------------------------
    def _build(self):
        self.layer_box = layer_choice("The weight layer l (W[l], b[l] and the activations a it outputs)")
        self.quantity_box = QComboBox()
        self.quantity_box.addItems([QUANTITY_NAMES[q] for q in QUANTITIES])
        self.quantity_box.setToolTip("What to count")
        for box in (self.layer_box, self.quantity_box):
            box.currentIndexChanged.connect(lambda _=0: self.request_draw())
        row = QHBoxLayout()
        row.addWidget(self.layer_box)
        row.addWidget(self.quantity_box)
        row.addStretch(1)
        self.graphics = pg.GraphicsLayoutWidget()
        self.heat = self.graphics.addPlot(row=0, col=0)
        self.side = self.graphics.addPlot(row=0, col=1)
        self.graphics.ci.layout.setColumnStretchFactor(0, 4)
        self.graphics.ci.layout.setColumnStretchFactor(1, 1)
        for plot in (self.heat, self.side):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)
        self.heat.setLabel("bottom", "step")
        self.side.setLabel("bottom", "count (log)")
        self.side.setYLink(self.heat)
        self.side.getAxis("left").setStyle(showValues=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.heat.addItem(self.image)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.ACCENT, width=2))
        self.cursor.hide()
        self.heat.addItem(self.cursor)
        dash = pg.mkPen(RUN_B, width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine)
        self.b_lines = [self.heat.plot(pen=dash), self.heat.plot(pen=pg.mkPen(RUN_B, width=2)),
                        self.heat.plot(pen=dash)]
        self.side_a = self.side.plot(pen=pg.mkPen(theme.TRAIN, width=2), name="this run")
        self.side_b = self.side.plot(pen=pg.mkPen(RUN_B_SIDE, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
                                     name="compared run")
        self.status = ElidedLabel("No histograms yet: they appear once training starts.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(explanation("How one layer's values spread at every step: x step, y value, colour "
                                     "log count; beside it the step shown. Run B (Compare) is overlaid."))
        layout.addLayout(row)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.status)

    def attach(self, view, training) -> None:
        super().attach(view, training)
        # every live snapshot counts, even while the panel shows the Timeline's past or is hidden
        view.live_changed.connect(self.run_a.offer)
        training.comparison_ready.connect(self._offer_b)
        for run in (self.run_a, self.run_b):
            run.failed.connect(self.status.setText)
        training.data_loaded.connect(self._on_data)
        if training.data is not None:
            self._on_data(training.data)

    def _offer_b(self, snapshot: Snapshot) -> None:
        """Count run B on run A's bins when the two have as many layers (then they overlay); else
        on its own, and it is not overlaid."""
        edges = self.run_a.history.edges
        same_depth = edges is not None and len(snapshot.W) == len(self.run_a.sizes) - 1
        self.run_b.offer(snapshot, edges if same_depth else None)

    def _on_data(self, data) -> None:
        self.set_dataset(data.test)

    def set_dataset(self, dataset) -> None:
        """The test digits whose activations are counted (a core.data.Dataset)."""
        for run in (self.run_a, self.run_b):
            run.dataset = dataset
            run.clear()

    def reset(self) -> None:
        self.run_a.clear()
        self.shown_step = None

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Mark the step shown (the Timeline's while looking back); live snapshots are counted by
        ``run_a.offer`` already."""
        self.shown_step = snapshot.step if snapshot.status == Status.TIMELINE else None
        sizes = snapshot.sizes
        fill_layers(self.layer_box, [f"layer {l + 1} ({sizes[l]} → {sizes[l + 1]})" for l in range(len(sizes) - 1)])
        self.request_draw(live=snapshot.running)

    @property
    def key(self) -> tuple:
        """(quantity, weight layer l) shown."""
        return QUANTITIES[max(self.quantity_box.currentIndex(), 0)], max(self.layer_box.currentIndex(), 0)

    # --- drawing -----------------------------------------------------------------------------
    def _draw(self) -> None:
        self._dirty = False
        self._pacer.drawn()
        history = self.run_a.history
        key = self.key
        matrix = history.matrix(key)
        if not len(matrix) or history.edges is None:
            self.image.clear()
            return
        edges = history.edges[key]
        steps = history.steps
        grid, columns = resample_columns(steps, matrix, COLUMNS)
        self._draw_heat(grid, columns, edges, key)
        self._draw_side(edges, steps, matrix)
        self._draw_run_b(key, edges)
        quantity, l = key
        shown = f"step {self.shown_step:,} (Timeline)" if self.shown_step is not None else f"step {steps[-1]:,}"
        h = history.rows[self._row_shown(steps)].histograms[key]
        outside = (h.under + h.over) / max(h.total, 1)
        beyond = f"; {100 * outside:.1f}% beyond the bins (drawn in the end ones)" if outside else ""
        self.status.setText(f"{SYMBOLS[quantity]} of layer {l + 1}: {len(steps)} rows kept (steps "
                            f"{steps[0]:,}–{steps[-1]:,}), {len(edges) - 1} fixed bins; beside: {shown}{beyond}")

    def _row_shown(self, steps) -> int:
        """The kept row beside the heat map: the newest, or the nearest to the Timeline's step."""
        return len(steps) - 1 if self.shown_step is None else int(np.argmin(np.abs(steps - self.shown_step)))

    def _y_of_edges(self, edges: np.ndarray, quantity: str) -> np.ndarray:
        """Where each edge is drawn: its value, or (signed-log gradient bins) its position."""
        return np.arange(len(edges), dtype=np.float64) if quantity == "gradients" else edges

    def _draw_heat(self, grid, columns, edges, key):
        quantity = key[0]
        y = self._y_of_edges(edges, quantity)
        image = np.log10(1.0 + columns.T.astype(np.float64))          # (bins, columns), log colour
        self.image.setImage(image, autoLevels=False, levels=(0, max(float(image.max()), 1.0)))
        x0, x1 = float(grid[0]), float(grid[-1]) if grid[-1] > grid[0] else float(grid[0]) + 1
        width = (x1 - x0) * len(grid) / max(len(grid) - 1, 1)
        self.image.setRect(x0, float(y[0]), width, float(y[-1] - y[0]))
        axis = self.heat.getAxis("left")
        if quantity == "gradients":
            axis.setTicks([signed_log_ticks(edges)])
            self.heat.setLabel("left", "∂C/∂W (signed log)")
        else:
            axis.setTicks(None)
            self.heat.setLabel("left", QUANTITY_NAMES[quantity].split(" (")[0])
        self.heat.setXRange(x0, x0 + width, padding=0)
        self.heat.setYRange(float(y[0]), float(y[-1]), padding=0)
        if self.shown_step is not None:
            self.cursor.setValue(self.shown_step)
            self.cursor.show()
        else:
            self.cursor.hide()

    def _draw_side(self, edges, steps, matrix):
        """The histogram at the step shown (the newest row, or the row nearest the Timeline's step)."""
        i = self._row_shown(steps)
        y = self._y_of_edges(edges, self.key[0])
        self.side_a.setData(*self._staircase(matrix[i], y))
        # log counts, as the heat map's colours: a spike (the exact zeros of the border pixels'
        # gradients) must not flatten every other bin
        self.side.getAxis("bottom").setTicks([count_ticks(float(np.log10(1 + matrix.max())))])

    @staticmethod
    def _staircase(counts, y) -> tuple:
        """(x, y) of a histogram drawn sideways: each bin a vertical segment at log10(1 + its count)."""
        xs = np.repeat(np.log10(1.0 + np.asarray(counts, np.float64)), 2)
        ys = np.repeat(np.asarray(y, np.float64), 2)[1:-1]
        return np.concatenate([[0], xs, [0]]), np.concatenate([[ys[0]], ys, [ys[-1]]])

    def _draw_run_b(self, key, edges):
        history = self.run_b.history
        matrix = history.matrix(key) if same_edges(history.edges, self.run_a.history.edges) else np.zeros((0, 0))
        if not len(matrix):
            for line in self.b_lines:
                line.setData([], [])
            self.side_b.setData([], [])
            return
        y = self._y_of_edges(edges, key[0])
        quantiles = quantiles_from_counts(matrix, y)
        for k, line in enumerate(self.b_lines):
            line.setData(history.steps.astype(np.float64), quantiles[:, k])
        steps = history.steps
        i = len(steps) - 1 if self.shown_step is None else int(np.argmin(np.abs(steps - self.shown_step)))
        self.side_b.setData(*self._staircase(matrix[i], y))

    def shutdown(self) -> None:
        self.run_a.stop()
        self.run_b.stop()

    def __repr__(self):
        return f"DistributionsPanel(key={self.key}, rows={len(self.run_a.history)})"
