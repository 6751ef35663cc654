"""The loss landscape: the cost along the line from the first weights through the current ones, and
a contour map of the cost over a plane through the current weights with gradient descent's path on it.

Computed on request ("Compute") off the GUI thread by core.landscape.measure_landscape (a LatestJob
in the analysis process): it reports its progress after the line and after each row of the plane,
so a progress bar moves, and Cancel stops it there. The panel keeps its own bounded core.timeline.Timeline of the run's weights
(the arrays are the snapshots' own, read-only: nothing is copied) for the path and its directions.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QTransform
from PyQt6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout

from core.landscape import (GRID, MAX_PATH, SUBSET, Landscape, LandscapeTask, LineResult, Params, Plane, evenly,
                            measure_landscape, subset_indices)
from core.snapshot import Snapshot, Status
from core.timeline import Timeline
from gui import theme
from gui.fit_text import ElidedLabel
from gui.jobs import LatestJob
from gui.panels.base import Panel
from gui.panels.overtime.common import WORKSPACE, explanation

PATH_BYTES = 64 * 2**20   # weights kept for the path at most
CONTOURS = 12            # contour lines, geometrically spaced between the lowest and highest cost
PATH_COLOUR = (255, 255, 255)


def contour_levels(costs: np.ndarray, n: int = CONTOURS) -> np.ndarray:
    """``n`` levels spaced evenly in log cost between the finite minimum and maximum (costs > 0)."""
    finite = costs[np.isfinite(costs) & (costs > 0)]
    if finite.size < 2 or finite.min() == finite.max():
        return np.zeros(0)
    return np.geomspace(finite.min(), finite.max(), n + 2)[1:-1]


class LandscapePanel(Panel):
    """Line and plane through weight space; ``compute()`` starts, ``cancel()`` stops."""

    title = "Landscape"
    area = "right"
    tab_with = "Distributions"
    follows_past = True         # the Timeline's step is ringed on the path
    workspaces = (WORKSPACE,)
    help = ("The loss landscape, on request (Compute): above, the training and test cost on 1,000 digits "
            "along the straight line from the first weights (α = 0) through the current ones (α = 1) and "
            "beyond; below, the training cost over a plane through the current weights, as contours, with "
            "the path gradient descent took drawn on it. The plane's two directions are the trajectory's "
            "main directions of change (PCA of the saved weights), or, before there is a path, two "
            "filter-normalised random directions: the panel says which. Cancel stops it. While the Timeline looks "
            "back, the path's point at that step is ringed.")
    finished = pyqtSignal()

    def __init__(self, parent=None, grid: int = GRID, subset: int = SUBSET):
        super().__init__(parent)
        self.grid, self.subset = int(grid), int(subset)
        # its own record of the path (the Timeline panel's is another panel's): at most 64 MB, so a
        # wide network keeps fewer points (20 of a 784-1024-10's 3.2 MB weights) rather than more memory
        self.timeline = Timeline(capacity=120, every=25, max_bytes=PATH_BYTES)
        self.latest: Snapshot | None = None
        self.data = None
        self.plane: Plane | None = None
        self.line: LineResult | None = None
        self.costs: np.ndarray | None = None      # (alphas, betas) training cost, NaN until computed
        self._computing = False
        self._generation = 0
        self._job = LatestJob(measure_landscape, self, name="landscape")
        self._job.done.connect(self._on_done)
        self._job.progressed.connect(self._on_progress)
        self._job.failed.connect(self._on_failed)
        self._build()

    # --- construction ------------------------------------------------------------------------
    def _build(self):
        self.compute_button = QPushButton("Compute")
        self.compute_button.setToolTip(f"Measure the cost along the line and over a {self.grid} × {self.grid} "
                                       f"plane on {self.subset:,} digits (off the window's thread)")
        self.compute_button.clicked.connect(self.compute)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        row = QHBoxLayout()
        row.addWidget(self.compute_button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.directions = ElidedLabel("Directions: press Compute (after some training, for a path).")
        self.graphics = pg.GraphicsLayoutWidget()
        self.line_plot = self.graphics.addPlot(row=0, col=0, title="Cost along the line θ₀ + α(θ − θ₀)")
        self.plane_plot = self.graphics.addPlot(row=1, col=0, title="Training cost over the plane through θ")
        self.graphics.ci.layout.setRowStretchFactor(0, 2)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        for plot in (self.line_plot, self.plane_plot):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)
        self.line_plot.setLabel("bottom", "α (0: first weights, 1: now)")
        self.line_plot.setLabel("left", "cost (log)")
        self.line_plot.setLogMode(y=True)     # a valley near 0.001 and a start near 10 both show
        self.line_plot.addLegend(offset=(-8, 4), labelTextSize="8pt")
        self.train_curve = self.line_plot.plot(pen=pg.mkPen(theme.TRAIN, width=2), name="training (1,000)")
        self.test_curve = self.line_plot.plot(pen=pg.mkPen(theme.TEST, width=2), name="test (1,000)")
        for alpha in (0.0, 1.0):
            self.line_plot.addItem(pg.InfiniteLine(alpha, angle=90, pen=pg.mkPen((120, 120, 120), style=Qt.PenStyle.DotLine)))
        self.plane_plot.setLabel("bottom", "α along direction 1")
        self.plane_plot.setLabel("left", "β along direction 2")
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plane_plot.addItem(self.image)
        self.isocurves: list = []
        self.path_curve = self.plane_plot.plot(pen=pg.mkPen(PATH_COLOUR, width=2), symbol="o", symbolSize=4,
                                               symbolBrush=PATH_COLOUR, symbolPen=None)
        self.start_mark = self.plane_plot.plot(pen=None, symbol="s", symbolSize=9, symbolBrush=(255, 255, 255),
                                               symbolPen=pg.mkPen("k"))
        self.now_mark = self.plane_plot.plot(pen=None, symbol="star", symbolSize=14, symbolBrush=theme.ACCENT,
                                             symbolPen=pg.mkPen("k"))
        self.looked_mark = self.plane_plot.plot(pen=None, symbol="o", symbolSize=14, symbolBrush=None,
                                                symbolPen=pg.mkPen(theme.ACCENT, width=3))
        self.looked_at: int | None = None      # the Timeline's step while looking back
        self.status = ElidedLabel("Press Compute: it takes a few seconds and training goes on.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(explanation("The cost around the current weights: along the line from the start, and "
                                     "over a plane with the path gradient descent took (□ start, ★ now)."))
        layout.addLayout(row)
        layout.addWidget(self.directions)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.status)

    def attach(self, view, training) -> None:
        super().attach(view, training)
        # every live snapshot's weights are kept for the path, shown or not, looking back or not
        view.live_changed.connect(self.record)
        training.data_loaded.connect(self.set_data)
        if training.data is not None:
            self.set_data(training.data)

    def set_data(self, data) -> None:
        """The data set (core.data.MnistData or alike: ``train`` and ``test``) the costs are measured on."""
        self.data = data
        self.cancel()

    # --- snapshots ---------------------------------------------------------------------------
    def record(self, snapshot: Snapshot) -> None:
        """Keep a live snapshot's weights (no copy: they are read-only) for the path."""
        if snapshot.status == Status.TIMELINE:
            return
        if self.latest is not None and (snapshot.step < self.latest.step or snapshot.sizes != self.latest.sizes):
            self.timeline.clear()
        self.latest = snapshot
        self.timeline.offer(snapshot.step, snapshot.W, snapshot.b)
        if not self._computing:
            self.compute_button.setEnabled(self.data is not None)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Ring the path's point nearest the Timeline's step while looking back; none when live."""
        self.looked_at = snapshot.step if snapshot.status == Status.TIMELINE else None
        self._mark_looked_at()

    def _mark_looked_at(self) -> None:
        p = self.plane
        if self.looked_at is None or p is None or not len(p.path_steps):
            self.looked_mark.setData([], [])
            return
        k = int(np.argmin(np.abs(p.path_steps - self.looked_at)))
        self.looked_mark.setData(p.path[k:k + 1, 0], p.path[k:k + 1, 1])

    def reset(self) -> None:
        self.cancel()
        self.timeline.clear()
        self.latest = None

    # --- computing ---------------------------------------------------------------------------
    @property
    def computing(self) -> bool:
        return self._computing

    def compute(self) -> bool:
        """Start measuring at the latest snapshot's weights; False (with a reason shown) if it cannot."""
        snap = self.latest
        if snap is None or self.data is None:
            self.status.setText("Nothing to measure yet: load data and train a little first.")
            return False
        if not all(np.isfinite(w).all() for w in snap.W):
            self.status.setText("The weights are not finite (training diverged): no landscape to measure.")
            return False
        self.cancel(quiet=True)
        entries = [e for e in self.timeline.entries if e.step <= snap.step]
        entries = [entries[i] for i in evenly(len(entries), MAX_PATH)]   # what the job uses, no more crosses
        saved = tuple(Params(e.W, e.b) for e in entries)
        first = None if snap.origin == "new" else (saved[0] if saved else None)
        train, test = self.data.train, self.data.test
        task = LandscapeTask(dict(snap.config), Params(snap.W, snap.b), first, saved, tuple(e.step for e in entries),
                             subset_indices(len(train.labels), self.subset),
                             subset_indices(len(test.labels), self.subset), grid=self.grid, step=snap.step,
                             silenced=tuple(getattr(snap, "silenced", ())))
        self._first_from = "its seed" if first is None else f"the first saved weights (step {entries[0].step:,})"
        self._computing = True
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.compute_button.setEnabled(False)
        self.status.setText(f"Measuring at step {snap.step:,} ({self.grid} × {self.grid} on {self.subset:,} digits)…")
        self._job.request(task, train, test, tag=self._generation)
        return True

    def cancel(self, quiet: bool = False) -> None:
        """Stop the measuring (at its next row); what was drawn before stays."""
        was = self._computing
        self._generation += 1
        self._computing = False
        if was:
            self._job.cancel()
        self.progress.hide()
        self.cancel_button.hide()
        self.compute_button.setEnabled(self.data is not None and self.latest is not None)
        if was and not quiet:
            self.status.setText("Cancelled: press Compute to measure again.")

    def _on_progress(self, fraction: float, generation) -> None:
        if generation == self._generation and self._computing:
            self.progress.setValue(round(1000 * fraction))

    def _on_done(self, result: Landscape, generation) -> None:
        if generation != self._generation or not self._computing:
            return    # cancelled, or a request of before
        self._computing = False
        self.progress.hide()
        self.cancel_button.hide()
        self.compute_button.setEnabled(True)
        self.show_landscape(result)
        self.finished.emit()

    def show_landscape(self, result: Landscape) -> None:
        """Draw a measured landscape: the line, the plane's colours and contours, the path."""
        self.plane, self.line, self.costs = result.plane, result.line, result.costs
        self._draw_line()
        self._draw_plane_frame()
        self._draw_plane()
        self._mark_looked_at()
        mid = len(self.plane.alphas) // 2
        self.status.setText(f"Step {result.step:,}: cost here {self.costs[mid, mid]:.4g} (training, "
                            f"{self.subset:,} digits); the line starts at the weights of {self._first_from}.")

    def _on_failed(self, message: str) -> None:
        self.cancel(quiet=True)
        self.status.setText(message)

    # --- drawing -----------------------------------------------------------------------------
    def _draw_line(self):
        line = self.line
        for curve, costs in ((self.train_curve, line.train), (self.test_curve, line.test)):
            shown = np.where(np.isfinite(costs) & (costs > 0), costs, np.nan)
            curve.setData(line.alphas, shown, connect="finite")

    def _draw_plane_frame(self):
        """Directions, path and axes for a new plane (before its costs arrive)."""
        p = self.plane
        share = "" if math.isnan(p.in_plane) else f"; the plane holds {100 * p.in_plane:.0f}% of the path's spread"
        self.directions.setText(f"Directions: {p.directions}{share}.")
        self.directions.setToolTip(self.directions.text())
        path = p.path
        self.path_curve.setData(path[:, 0], path[:, 1]) if len(path) else self.path_curve.setData([], [])
        self.start_mark.setData(path[:1, 0], path[:1, 1]) if len(path) else self.start_mark.setData([], [])
        self.now_mark.setData([0.0], [0.0])
        da, db = p.alphas[1] - p.alphas[0], p.betas[1] - p.betas[0]
        self.plane_plot.setXRange(p.alphas[0] - da / 2, p.alphas[-1] + da / 2, padding=0)
        self.plane_plot.setYRange(p.betas[0] - db / 2, p.betas[-1] + db / 2, padding=0)
        self.image.clear()
        for curve in self.isocurves:
            self.plane_plot.removeItem(curve)
        self.isocurves = []

    def _draw_plane(self):
        """The measured rows as colour (log cost), and contours once the whole grid is in."""
        p, costs = self.plane, self.costs
        finite = costs[np.isfinite(costs) & (costs > 0)]
        if not finite.size:
            return
        shown = np.log10(np.where(np.isfinite(costs) & (costs > 0), costs, np.nan))
        lo, hi = float(np.log10(finite.min())), float(np.log10(finite.max()))
        self.image.setImage(np.nan_to_num(shown, nan=hi), autoLevels=False, levels=(lo, max(hi, lo + 1e-6)))
        da, db = p.alphas[1] - p.alphas[0], p.betas[1] - p.betas[0]
        self.image.setRect(p.alphas[0] - da / 2, p.betas[0] - db / 2, da * len(p.alphas), db * len(p.betas))
        if np.isfinite(costs).all():
            self._draw_contours(costs, da, db)

    def _draw_contours(self, costs, da, db):
        p = self.plane
        for curve in self.isocurves:
            self.plane_plot.removeItem(curve)
        self.isocurves = []
        # pyqtgraph's isocurves put grid point (i, j) at (i + ½, j + ½), as the image's pixel centres:
        # the image's own mapping takes them to (alphas[i], betas[j])
        transform = QTransform(da, 0, 0, db, p.alphas[0] - da / 2, p.betas[0] - db / 2)
        for level in contour_levels(costs):
            curve = pg.IsocurveItem(costs, float(level), pen=pg.mkPen((255, 255, 255, 150), width=1))
            curve.setTransform(transform)
            curve.setZValue(5)
            self.plane_plot.addItem(curve)
            self.isocurves.append(curve)
        for item in (self.path_curve, self.start_mark, self.now_mark, self.looked_mark):
            item.setZValue(10)

    def shutdown(self) -> None:
        self.cancel()
        self._job.stop(timeout=0.2)

    def __repr__(self):
        return f"LandscapePanel(saved={len(self.timeline)}, computing={self.computing})"
