"""Hidden space: 2,000 test digits as points, where a hidden layer puts them, live while training runs.

Each snapshot's weights go to ``core.embedding.project_snapshot`` off the GUI thread (a LatestJob:
the newest wins, at most a few a second); the answer, a Projection aligned to the frame before it,
only moves ten scatter items (one per digit label, one brush each: cheap to redraw). Hovering shows
the digit under the pointer, a click makes it the probe, the Timeline scrubs it (``follows_past``).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from core.control import MoveProbe
from core.embedding import DEFAULT_DIGITS, Projection, choose_digits, paced_interval, project_snapshot, tsne_snapshot
from core.snapshot import Snapshot
from gui import theme
from gui.fit_text import ElidedLabel
from gui.jobs import LatestJob
from gui.panels.base import Panel
from gui.panels.overtime.common import (DIGIT_COLOURS, WORKSPACE, digit_legend, digit_pixmap, explanation,
                                        fill_layers, layer_choice)
from gui.widgets import stable_span

PROJECT_EVERY = 0.25     # s between projections at least: ~10 ms each at 784-100-10, 4% of a core (bench/overtime_speed.py)
PROJECT_SHARE = 0.05     # a wider layer's slower projection is asked for less often: at most this share of a core
HOVER_PX = 8             # a point within this many pixels of the pointer is "under" it


def sklearn_available() -> bool:
    """Whether scikit-learn (the optional t-SNE) is installed, found without importing it: importing
    it (with SciPy and pandas) at start-up cost the window about 1.5 s."""
    import importlib.util
    try:
        return importlib.util.find_spec("sklearn") is not None
    except (ImportError, ValueError):
        return False


def nearest_point(points: np.ndarray, x: float, y: float, sx: float, sy: float) -> tuple:
    """(index, distance in px) of the point nearest (x, y), where one pixel is ``sx`` × ``sy`` in data
    units; (-1, inf) without points."""
    if len(points) == 0:
        return -1, float("inf")
    d = np.hypot((points[:, 0] - x) / sx, (points[:, 1] - y) / sy)
    i = int(np.argmin(d))
    return i, float(d[i])


def move_points(item: pg.ScatterPlotItem, x: np.ndarray, y: np.ndarray) -> None:
    """Give ``item``'s points new positions. When the count is unchanged the positions are written
    into the item's own point table and it is told to redraw (0.07 ms for 2,000 points, against
    1.7 ms for setData, which rebuilds every point's style: bench/overtime_speed.py); else setData."""
    data = getattr(item, "data", None)
    if isinstance(data, np.ndarray) and data.dtype.names and {"x", "y"} <= set(data.dtype.names) \
            and len(data) == len(x) and len(x):
        data["x"], data["y"] = x, y
        item.prepareGeometryChange()
        item.bounds = [None, None]          # the item's cached data bounds (pyqtgraph ≥ 0.13)
        item.informViewBoundsChanged()
        item.invalidate()
    else:
        item.setData(x, y)


class HiddenSpacePanel(Panel):
    """The digits' activations in one hidden layer, projected to 2-D and coloured by label.

    ``probe_chosen(test index)`` when a point is clicked (the window makes it the probe digit)."""

    title = "Hidden space"
    area = "left"
    follows_past = True
    workspaces = (WORKSPACE,)
    help = ("Hidden space: 2,000 fixed test digits as points, placed by their activations in a hidden "
            "layer (PCA to 2-D, each frame turned to match the one before, so the picture moves but never "
            "jumps or flips), coloured by label. Watch the digits sort themselves into groups as the network "
            "learns. Hover a point to see its digit; click it to make it the probe; the Timeline scrubs it. "
            "t-SNE (if scikit-learn is installed) lays out the same digits once, on request.")
    probe_chosen = pyqtSignal(int)

    def __init__(self, parent=None, digits: int = DEFAULT_DIGITS):
        super().__init__(parent)
        self.digits = int(digits)
        self.dataset = None
        self.indices = np.zeros(0, dtype=np.intp)
        self.labels = np.zeros(0, dtype=np.int64)
        self._by_label = [np.zeros(0, np.intp)] * len(DIGIT_COLOURS)
        self.projection: Projection | None = None       # the frame on show
        self._aligned_to: Projection | None = None       # the last PCA frame, for alignment
        self._snapshot: Snapshot | None = None
        self._generation = 0
        self._hover = -1
        self._view_range = None
        self.tsne_shown = False
        self._job = LatestJob(project_snapshot, self, min_interval=PROJECT_EVERY, name="hidden space")
        # an animation's frames each wait for their projection: those are asked for unpaced
        self._export_job = LatestJob(project_snapshot, self, name="hidden space (animation)")
        self.exporting = False
        self._awaiting: int | None = None      # the step whose projection is asked for, until drawn
        for job in (self._job, self._export_job):
            job.done.connect(self._on_projection)
            job.failed.connect(self._on_failed)
        self._tsne_job = LatestJob(tsne_snapshot, self, name="t-SNE")
        self._tsne_job.done.connect(self._on_tsne)
        self._tsne_job.failed.connect(self._on_tsne_failed)
        self._build()

    # --- construction ------------------------------------------------------------------------
    def _build(self):
        self.layer_box = layer_choice("The hidden layer whose activations place the digits")
        self.layer_box.currentIndexChanged.connect(self._on_layer_changed)
        self.tsne_button = QPushButton("t-SNE")
        self.tsne_button.setCheckable(True)
        self.tsne_button.clicked.connect(self._on_tsne_clicked)
        if sklearn_available():
            self.tsne_button.setToolTip("Lay the same digits out once with t-SNE (scikit-learn; about 2–3 s for 2,000 digits). "
                                        "Press again for the live PCA picture.")
        else:
            self.tsne_button.setEnabled(False)
            self.tsne_button.setToolTip("t-SNE needs scikit-learn: pip install scikit-learn")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)           # t-SNE reports no progress: a busy bar while it runs
        self.busy.setMaximumWidth(90)
        self.busy.hide()
        row = QHBoxLayout()
        row.addWidget(self.layer_box)
        row.addWidget(digit_legend())
        row.addStretch(1)
        row.addWidget(self.busy)
        row.addWidget(self.tsne_button)
        self.view_widget = pg.PlotWidget()
        plot = self.plot = self.view_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setAspectLocked(False)
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)
        plot.setLabel("bottom", "PCA axis 1")
        plot.setLabel("left", "PCA axis 2")
        self.scatters = []
        for d, colour in enumerate(DIGIT_COLOURS):
            item = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(*colour, 170), pxMode=True)
            plot.addItem(item)
            self.scatters.append(item)
        self.ring = pg.ScatterPlotItem(size=13, pen=pg.mkPen(theme.ACCENT, width=2.5), brush=None, pxMode=True)
        self.hover_ring = pg.ScatterPlotItem(size=11, pen=pg.mkPen("k", width=1.5), brush=None, pxMode=True)
        plot.addItem(self.ring)
        plot.addItem(self.hover_ring)
        plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.inset = QLabel(self.view_widget)      # the hovered digit, in the plot's top-left corner
        self.inset.setStyleSheet("QLabel { background: white; border: 1px solid #888; padding: 2px; }")
        self.inset.hide()
        self.status = ElidedLabel("No data yet: the picture appears once training starts.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(explanation("Where one hidden layer puts 2,000 test digits (PCA, aligned frame to "
                                     "frame). Hover: the digit; click: make it the probe."))
        layout.addLayout(row)
        layout.addWidget(self.view_widget, 1)
        layout.addWidget(self.status)

    def attach(self, view, training) -> None:
        super().attach(view, training)
        self.probe_chosen.connect(lambda i: training.request(MoveProbe(int(i))))
        training.data_loaded.connect(self._on_data)
        if training.data is not None:
            self._on_data(training.data)

    # --- data and snapshots ------------------------------------------------------------------
    def set_dataset(self, dataset) -> None:
        """The test digits (a core.data.Dataset) to place: ``digits`` of them, chosen once."""
        self.dataset = dataset
        self.indices = choose_digits(dataset.labels, self.digits) if dataset is not None else np.zeros(0, np.intp)
        self.labels = np.asarray(dataset.labels)[self.indices] if dataset is not None else np.zeros(0, np.int64)
        self._by_label = [np.flatnonzero(self.labels == d) for d in range(len(DIGIT_COLOURS))]
        self._forget()
        snapshot = self._pending or self._snapshot
        if snapshot is not None:
            self.show_snapshot(snapshot)

    def _on_data(self, data) -> None:
        self.set_dataset(data.test)

    def _forget(self):
        self._generation += 1
        self._awaiting = None
        self.projection = self._aligned_to = None
        self._view_range = None
        self._set_tsne(False)

    def reset(self) -> None:
        self._snapshot = None
        self._forget()
        for item in self.scatters:
            item.setData([], [])
        self.ring.setData([], [])

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        hidden = len(snapshot.W) - 1
        fill_layers(self.layer_box, [f"hidden layer {l} ({snapshot.sizes[l]} neurons)" for l in range(1, hidden + 1)])
        if hidden < 1:
            self.status.setText("This network has no hidden layer: nothing to place.")
            return
        if self.dataset is None or self.tsne_shown:
            return
        self._awaiting = snapshot.step
        job = self._export_job if self.exporting else self._job
        job.request(snapshot, self.dataset, self.indices, self.layer, self._aligned_to, tag=self._generation)

    @property
    def busy_drawing(self) -> bool:
        """A projection was asked for and is not drawn yet (an animation waits for it)."""
        return self._awaiting is not None

    @property
    def layer(self) -> int:
        """The hidden layer shown (1 = first)."""
        return max(self.layer_box.currentIndex(), 0) + 1

    def _on_layer_changed(self, _index: int):
        self._forget()
        if self._snapshot is not None:
            self.show_snapshot(self._snapshot)

    def _on_projection(self, projection: Projection, generation):
        if generation != self._generation or self.tsne_shown:
            return    # an answer for another layer, run or data set
        self._aligned_to = projection
        self._job.min_interval = paced_interval(projection.seconds, PROJECT_EVERY, PROJECT_SHARE)
        if projection.step == self._awaiting:
            self._awaiting = None
        self.draw_projection(projection)

    def _on_failed(self, message: str):
        self._awaiting = None
        self.status.setText(message)

    # --- drawing -----------------------------------------------------------------------------
    def draw_projection(self, p: Projection) -> None:
        """Move the points to ``p`` (ten setData calls: one per digit label)."""
        self.projection = p
        pts = p.points
        for d, item in enumerate(self.scatters):
            mine = pts[self._by_label[d]]
            move_points(item, mine[:, 0], mine[:, 1])
        self._place_ring()
        self._fit_range(pts)
        if p.method == "PCA":
            var = " + ".join(f"{100 * e:.0f}%" for e in p.explained)
            self.status.setText(f"step {p.step:,} · PCA of hidden layer {p.layer}: the axes hold {var} of the "
                                f"variance · aligned to the previous frame")
        else:
            self.status.setText(f"step {p.step:,} · t-SNE of hidden layer {p.layer} (a single moment; "
                                f"press t-SNE again for the live PCA)")
        if self._hover >= 0:
            self._show_hover(self._hover)

    def _fit_range(self, pts: np.ndarray):
        """Follow the points, but move the view only when they leave it or fill too little of it."""
        finite = pts[np.all(np.isfinite(pts), axis=1)]
        if not len(finite):
            return
        lo, hi = np.percentile(finite, 0.5, axis=0), np.percentile(finite, 99.5, axis=0)
        current = self._view_range or (None, None)
        span = [stable_span(current[k], float(lo[k]), float(hi[k]), 0.08 * float(hi[k] - lo[k]) or 0.1)
                for k in (0, 1)]
        if tuple(span) != tuple(current):
            self._view_range = tuple(span)
            self.plot.setRange(xRange=span[0], yRange=span[1], padding=0)

    def _place_ring(self):
        """A ring round the probe digit, when it is one of the digits shown."""
        snap = self._snapshot
        p = self.projection
        if snap is None or p is None or snap.probe_index < 0:
            self.ring.setData([], [])
            return
        k = np.searchsorted(self.indices, snap.probe_index)
        if k < len(self.indices) and self.indices[k] == snap.probe_index:
            self.ring.setData([p.points[k, 0]], [p.points[k, 1]])
        else:
            self.ring.setData([], [])

    # --- hover and click ---------------------------------------------------------------------
    def point_at(self, scene_pos) -> int:
        """The position in ``indices`` of the digit drawn under ``scene_pos`` (a scene point), else -1."""
        if self.projection is None:
            return -1
        box = self.plot.getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return -1
        data = box.mapSceneToView(scene_pos)
        sx, sy = box.viewPixelSize()
        i, d = nearest_point(self.projection.points, data.x(), data.y(), sx, sy)
        return i if d <= HOVER_PX else -1

    def scene_pos_of(self, k: int) -> QPointF:
        """Where point ``k`` is drawn, in scene coordinates (tests use it to hover and click)."""
        x, y = self.projection.points[k]
        return self.plot.getViewBox().mapViewToScene(QPointF(float(x), float(y)))

    def _on_mouse_moved(self, scene_pos):
        k = self.point_at(scene_pos)
        if k != self._hover:
            self._hover = k
            self._show_hover(k)

    def _show_hover(self, k: int):
        if k < 0 or self.projection is None or self.dataset is None:
            self.inset.hide()
            self.hover_ring.setData([], [])
            return
        i = int(self.indices[k])
        self.inset.setPixmap(digit_pixmap(self.dataset.images[i]))
        self.inset.setToolTip(f"test digit #{i}, label {int(self.labels[k])}")
        self.inset.setText("")
        self.inset.adjustSize()
        self.inset.move(60, 6)
        self.inset.show()
        self.hover_ring.setData([self.projection.points[k, 0]], [self.projection.points[k, 1]])
        self.status.setText(f"test digit #{i}, label {int(self.labels[k])}: click to make it the probe")

    @property
    def hovered(self) -> int:
        """The test-set index of the digit under the pointer, -1 for none."""
        return int(self.indices[self._hover]) if self._hover >= 0 else -1

    def _on_mouse_clicked(self, event):
        if event.button() != Qt.MouseButton.LeftButton:
            return
        k = self.point_at(event.scenePos())
        if k >= 0:
            self.probe_chosen.emit(int(self.indices[k]))

    # --- t-SNE on request --------------------------------------------------------------------
    def _on_tsne_clicked(self, checked: bool):
        if not checked:
            self._set_tsne(False)
            if self._snapshot is not None:
                self.show_snapshot(self._snapshot)
            return
        if self._snapshot is None or self.dataset is None:
            self.tsne_button.setChecked(False)
            return
        self.busy.show()
        self.status.setText("t-SNE: laying out the digits (a few seconds; training goes on)…")
        self._tsne_job.request(self._snapshot, self.dataset, self.indices, self.layer, self._aligned_to,
                               tag=self._generation)

    def _set_tsne(self, shown: bool):
        self.tsne_shown = shown
        self.tsne_button.setChecked(shown)
        self.busy.hide()
        axis = "t-SNE" if shown else "PCA axis"
        self.plot.setLabel("bottom", f"{axis} 1")
        self.plot.setLabel("left", f"{axis} 2")

    def _on_tsne(self, projection: Projection, generation):
        self.busy.hide()
        if generation != self._generation or not self.tsne_button.isChecked():
            return
        self._set_tsne(True)
        self._view_range = None
        self.draw_projection(projection)

    def _on_tsne_failed(self, message: str):
        self._set_tsne(False)
        self.status.setText(message)

    def shutdown(self) -> None:
        self._job.stop()
        self._export_job.stop()
        self._tsne_job.stop(timeout=0.1)

    def __repr__(self):
        return f"HiddenSpacePanel(layer={self.layer}, digits={len(self.indices)})"
