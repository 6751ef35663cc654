"""Knock-out: silence hidden neurons by clicking them and see what the network loses; and the
ablation scan, every neuron silenced alone against every digit."""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QPushButton, QScrollArea, QSplitter,
                             QVBoxLayout, QWidget)

from core.control import Silence
from core.explain import AblationScan, Knockout, ablation_job, knockout
from core.snapshot import Snapshot
from gui import theme
from gui.fit_text import ElidedLabel
from gui.jobs import LatestJob
from gui.panels.base import Panel
from gui.panels.why.common import RefreshWhenSeen, digit_rgba, for_job, knockouts_of, signed_lut_rgba, signed_rgba
from gui.widgets import TILE

INTACT = (150, 150, 150)
TILE_INTERVAL = 0.5     # s between rebuilt neuron tiles while training runs
CUT = theme.ACCENT


def neuron_mosaic(images: np.ndarray, cols: int) -> np.ndarray:
    """(rows·29−1, cols·29−1, 4) bytes: each row of ``images`` (n, 784) as a 28×28 tile on the
    diverging scale of the whole set, grey between tiles (one colour-map lookup for all tiles)."""
    images = np.asarray(images, np.float64)
    n = len(images)
    rows = max(1, math.ceil(n / cols))
    level = theme.symmetric_level(images) if n else 1.0
    tiles = np.full((rows * cols, TILE + 1, TILE + 1, 4), 120, dtype=np.uint8)
    tiles[:n, :TILE, :TILE] = signed_lut_rgba(images.reshape(n, TILE, TILE), level)
    grid = tiles.reshape(rows, cols, TILE + 1, TILE + 1, 4).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(grid.reshape(rows * (TILE + 1), cols * (TILE + 1), 4)[:-1, :-1])


class NeuronGrid(QWidget):
    """Every neuron of a hidden layer as a tile (its weight image for the first hidden layer, a
    numbered square deeper); a click gives ``clicked(j)``; silenced tiles are crossed out."""

    clicked = pyqtSignal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.n, self.cols, self.silenced = 0, 1, set()
        self._image = None
        self._rgba = None
        self.setMinimumSize(120, 60)
        self.setMouseTracking(False)

    def set_tiles(self, images: np.ndarray | None, n: int):
        """``images`` (n, 784) or None (numbered squares); redraws."""
        self.n = n
        self._images = images
        self._layout()
        self.update()

    def set_silenced(self, js):
        self.silenced = set(int(j) for j in js)
        self.update()

    def _layout(self):
        """The columns that make the tiles largest in the widget's size."""
        if self.n == 0:
            return
        w, h = max(self.width(), 1), max(self.height(), 1)
        best = max(range(1, self.n + 1), key=lambda c: min(w / c, h / math.ceil(self.n / c)))
        self.cols = best
        if self._images is not None:
            rgba = neuron_mosaic(self._images, self.cols)
            self._rgba = rgba
            self._image = QImage(rgba.data, rgba.shape[1], rgba.shape[0], 4 * rgba.shape[1],
                                 QImage.Format.Format_RGBA8888).copy()
        else:
            self._image = None

    def tile_side(self) -> float:
        rows = math.ceil(self.n / self.cols) if self.n else 1
        return min(self.width() / self.cols, self.height() / rows)

    def tile_rect(self, j: int) -> QRect:
        side = self.tile_side()
        r, c = divmod(j, self.cols)
        return QRect(int(c * side), int(r * side), max(1, int(side) - 1), max(1, int(side) - 1))

    def tile_at(self, pos) -> int | None:
        side = self.tile_side()
        if side <= 0:
            return None
        c, r = int(pos.x() // side), int(pos.y() // side)
        j = r * self.cols + c
        return j if c < self.cols and 0 <= j < self.n else None

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._layout()

    def mouseReleaseEvent(self, event):
        j = self.tile_at(event.position())
        if j is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(j)

    def paintEvent(self, event):
        painter = QPainter(self)
        side = self.tile_side()
        if self._image is not None and self.n:
            rows = math.ceil(self.n / self.cols)
            target = QRect(0, 0, int(self.cols * side), int(rows * side))
            painter.drawImage(target, self._image)
        else:
            font = QFont(self.font())
            font.setPointSizeF(max(6.0, side * 0.28))
            painter.setFont(font)
            for j in range(self.n):
                rect = self.tile_rect(j)
                painter.fillRect(rect, QColor(225, 225, 225))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(j))
        pen = QPen(QColor(200, 0, 0))
        pen.setWidth(max(2, int(side / 10)))
        for j in sorted(self.silenced):
            if j < self.n:
                rect = self.tile_rect(j)
                painter.fillRect(rect, QColor(255, 255, 255, 170))
                painter.setPen(pen)
                painter.drawLine(rect.topLeft(), rect.bottomRight())
                painter.drawLine(rect.topRight(), rect.bottomLeft())
        painter.end()


def paired_bars(plot: pg.PlotItem) -> tuple:
    """Two bar sets side by side at 0–9: intact (grey) and with the knock-outs (orange)."""
    intact = pg.BarGraphItem(x=np.arange(10) - 0.2, height=np.zeros(10), width=0.38, brush=INTACT, pen=None)
    cut = pg.BarGraphItem(x=np.arange(10) + 0.2, height=np.zeros(10), width=0.38, brush=CUT, pen=None)
    plot.addItem(intact)
    plot.addItem(cut)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    plot.getAxis("bottom").setTicks([[(k, str(k)) for k in range(10)]])
    return intact, cut


class KnockoutPanel(RefreshWhenSeen, Panel):
    """Click hidden neurons to silence them; the test accuracy, per digit, and the probe's outputs
    with and without them."""

    title = "Knock-out"
    area = "right"
    follows_past = True
    workspaces = ("Why",)
    help = ('Knock-out: click hidden neurons to silence them (their activation held at 0) and see at once '
            "what the network loses: test accuracy, accuracy per digit and the probe digit's outputs, "
            'intact (grey) and without them (orange). By default only this evaluation runs without them; '
            'tick "Also while training" and training goes on without them too (their weights then stop '
            'changing). Restore brings every neuron back.')

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result: Knockout | None = None
        self.shown_snapshot: Snapshot | None = None
        self._job = None
        self._training = None
        self._generation = 0
        self._sent: dict = {}          # layer → neurons last sent to the trainer
        self._tiles_at = -math.inf     # when the tiles were last rebuilt
        self.layer = 0
        explain = ElidedLabel("Click neurons to silence them (a = 0); click again to bring one back.")
        self.layer_choice = QComboBox()
        self.layer_choice.setToolTip("The hidden layer whose neurons the grid shows")
        self.in_training = QCheckBox("Also while training")
        self.in_training.setToolTip("Unticked: only the evaluation here runs without the silenced neurons. "
                                    "Ticked: the trainer silences them too, and training goes on without them.")
        self.restore = QPushButton("Restore")
        self.restore.setToolTip("Bring every silenced neuron back")
        self.where = ElidedLabel("Silenced in evaluation only.")
        self.grid = NeuronGrid()
        self.summary = ElidedLabel("Waiting for the network…")
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)
        self.charts = pg.GraphicsLayoutWidget()
        self.charts.setMinimumSize(200, 90)
        self.per_class_plot = self.charts.addPlot(row=0, col=0, title="Test accuracy per digit (%)")
        self.probe_plot = self.charts.addPlot(row=0, col=1, title="Probe's outputs")
        self.per_class_bars = paired_bars(self.per_class_plot)
        self.probe_bars = paired_bars(self.probe_plot)
        self.probe_plot.setYRange(0, 1, padding=0.02)
        controls = QHBoxLayout()
        controls.addWidget(self.layer_choice)
        controls.addWidget(self.in_training)
        controls.addStretch(1)
        controls.addWidget(self.restore)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.grid)
        split.addWidget(self.charts)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(explain)
        layout.addLayout(controls)
        layout.addWidget(self.where)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self.layer_choice.hide()

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 150)

    def attach(self, view, training) -> None:
        super().attach(view, training)
        self._training = training
        self.knockouts = knockouts_of(view)
        self._job = LatestJob(knockout, self, min_interval=0.5, name="knock-out")
        self._job.done.connect(self._on_done)
        self._job.failed.connect(self.summary.setText)
        self.grid.clicked.connect(lambda j: self.knockouts.toggle(self.layer, j))
        self.restore.clicked.connect(lambda: self.knockouts.set(()))
        self.in_training.toggled.connect(lambda on: self.knockouts.set(self.knockouts.pairs, on))
        self.layer_choice.currentIndexChanged.connect(self._layer_chosen)
        self.knockouts.changed.connect(self._on_knockouts)
        view.run_started.connect(lambda _: self.knockouts.set(()))
        training.data_loaded.connect(lambda _: self.refresh())

    def reset(self) -> None:
        """A new network: nothing was sent to its trainer, and the old snapshot is not its."""
        self._sent, self.shown_snapshot, self.result = {}, None, None

    # --- the choice ------------------------------------------------------------------------------
    def _layer_chosen(self, index: int):
        if index >= 0:
            self.layer = index
            if self.shown_snapshot is not None:
                self._show_tiles(self.shown_snapshot)

    def _on_knockouts(self):
        k = self.knockouts
        self.grid.set_silenced(k.in_layer(self.layer))
        self.in_training.blockSignals(True)
        self.in_training.setChecked(k.in_training)
        self.in_training.blockSignals(False)
        self._send_to_trainer()
        self.where.setText(f"{len(k.pairs)} silenced: in training and evaluation." if k.in_training and k.pairs
                           else f"{len(k.pairs)} silenced: in this evaluation only (training uses every neuron).")
        self.refresh()

    def _send_to_trainer(self):
        """Tell the trainer which neurons to hold at 0 (only what changed; none unless chosen)."""
        if self._training is None or self.shown_snapshot is None:
            return
        k = self.knockouts
        for l in range(len(self.shown_snapshot.W) - 1):
            wanted = k.in_layer(l) if k.in_training else ()
            if self._sent.get(l, ()) != wanted:
                self._training.request(Silence(l, wanted, bool(wanted)))
                self._sent[l] = wanted

    # --- drawing ---------------------------------------------------------------------------------
    def show_snapshot(self, snapshot: Snapshot) -> None:
        first = self.shown_snapshot is None or self.shown_snapshot.sizes != snapshot.sizes \
            or self.shown_snapshot.run_id != snapshot.run_id
        self.shown_snapshot = snapshot
        if first:
            self._sent = {l: tuple(j for k, j in snapshot.silenced if k == l) for l in range(len(snapshot.W) - 1)}
            if snapshot.silenced and not self.knockouts.pairs:
                # a network that came with neurons knocked out in training (a loaded model): shown
                # as chosen here, "also while training", so Restore lifts them
                self.knockouts.set(snapshot.silenced, True)
            hidden = len(snapshot.W) - 1
            self.layer_choice.blockSignals(True)
            self.layer_choice.clear()
            self.layer_choice.addItems([f"hidden layer {l + 1}" for l in range(hidden)])
            self.layer = min(self.layer, hidden - 1)
            self.layer_choice.setCurrentIndex(self.layer)
            self.layer_choice.blockSignals(False)
            self.layer_choice.setVisible(hidden > 1)
        # while training runs the weights move a little per snapshot: new tiles twice a second do
        if first or not snapshot.running or time.monotonic() - self._tiles_at >= TILE_INTERVAL:
            self._show_tiles(snapshot)
        self.refresh()

    def _show_tiles(self, snapshot: Snapshot):
        self._tiles_at = time.monotonic()
        l = self.layer
        W = snapshot.W[l]
        self.grid.set_tiles(np.asarray(W, np.float64) if l == 0 and W.shape[1] == TILE * TILE else None, W.shape[0])
        self.grid.set_silenced(self.knockouts.in_layer(l) if self.view is not None else ())

    def request_job(self):
        snapshot = self.shown_snapshot
        data = getattr(self._training, "data", None)
        if snapshot is None or self._job is None:
            return
        if data is None:
            self.summary.setText("the test set is not loaded yet")
            return
        self._generation += 1
        self._job.request(for_job(snapshot), data.test, self.knockouts.pairs, snapshot.probe_a[0], tag=self._generation)

    def _on_done(self, result: Knockout, tag):
        if tag == self._generation:
            self.show_result(result)

    def show_result(self, k: Knockout):
        self.result = k
        if k.silenced:
            change = 100 * (k.accuracy - k.intact_accuracy)
            self.summary.setText(f"Test accuracy {100 * k.intact_accuracy:.2f}% intact → {100 * k.accuracy:.2f}% "
                                 f"with {len(k.silenced)} silenced ({change:+.2f} points)")
        else:
            self.summary.setText(f"Test accuracy {100 * k.intact_accuracy:.2f}% with every neuron "
                                 f"({k.n:,} digits); click neurons to silence them")
        self.per_class_bars[0].setOpts(height=100 * np.nan_to_num(k.intact_per_class))
        self.per_class_bars[1].setOpts(height=100 * np.nan_to_num(k.per_class))
        # from a round floor below the lowest bar: 97% against 95% must show, not two full bars
        lowest = float(np.nanmin(np.r_[k.per_class, k.intact_per_class, 1.0])) * 100
        self.per_class_plot.setYRange(max(0.0, 10 * np.floor((lowest - 3) / 10)), 100, padding=0.02)
        self.probe_bars[0].setOpts(height=k.intact_probe_output)
        self.probe_bars[1].setOpts(height=k.probe_output)
        self.probe_plot.setYRange(0, max(1.0, float(np.nanmax(np.r_[k.probe_output, k.intact_probe_output]))),
                                  padding=0.02)

    def shutdown(self) -> None:
        if self._job is not None:
            self._job.stop()


# --- the ablation scan -----------------------------------------------------------------------------
class ScanMatrix(QWidget):
    """Rows: neurons, most harmful to lose first, each with its weight tile; columns: digits 0–9 and
    the whole test set; cells: accuracy change (percentage points) on the diverging scale.
    ``cell_clicked(j, digit)`` (digit −1 for the whole-set column)."""

    cell_clicked = pyqtSignal(int, int)
    ROW = 22

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scan: AblationScan | None = None
        self.images = None
        self.selected = None
        self.level = 1.0
        self.setMinimumWidth(200)

    def set_scan(self, scan: AblationScan, images):
        self.scan, self.images = scan, images
        change = 100 * np.nan_to_num(scan.change)
        self.level = max(float(np.abs(change).max()), 0.5)
        self.setMinimumHeight(self.ROW * (len(scan.order) + 1) + 4)
        self.update()

    def columns(self) -> tuple:
        """(x of the first cell, cell width, label width)."""
        label = 70
        cell = max(14.0, (self.width() - label - 4) / 11)
        return label, cell, label

    def cell_at(self, pos) -> tuple | None:
        if self.scan is None:
            return None
        x0, cell, _ = self.columns()
        row = int(pos.y() // self.ROW) - 1
        col = int((pos.x() - x0) // cell)
        if not (0 <= row < len(self.scan.order) and 0 <= col <= 10 and pos.x() >= x0):
            return None
        return int(self.scan.order[row]), (col if col < 10 else -1)

    def cell_rect(self, j: int, digit: int) -> QRect:
        """Where the cell of neuron j and ``digit`` (−1: all) is drawn."""
        x0, cell, _ = self.columns()
        row = int(np.flatnonzero(self.scan.order == j)[0]) + 1
        col = 10 if digit < 0 else digit
        return QRect(int(x0 + col * cell), row * self.ROW, int(cell) - 1, self.ROW - 1)

    def mouseReleaseEvent(self, event):
        hit = self.cell_at(event.position())
        if hit is not None:
            self.selected = hit
            self.update()
            self.cell_clicked.emit(*hit)

    def paintEvent(self, event):
        if self.scan is None:
            return
        painter = QPainter(self)
        x0, cell, _ = self.columns()
        cmap = theme.diverging_cmap()
        painter.drawText(QRect(0, 0, int(x0), self.ROW), Qt.AlignmentFlag.AlignCenter, "neuron")
        for col in range(11):
            painter.drawText(QRect(int(x0 + col * cell), 0, int(cell), self.ROW), Qt.AlignmentFlag.AlignCenter,
                             str(col) if col < 10 else "all")
        top = event.rect().top() // self.ROW - 1
        bottom = event.rect().bottom() // self.ROW + 1
        for row in range(max(0, top), min(len(self.scan.order), bottom)):
            j = int(self.scan.order[row])
            y = (row + 1) * self.ROW
            if self.images is not None:
                tile = signed_rgba(self.images[j])
                image = QImage(np.ascontiguousarray(tile).data, TILE, TILE, 4 * TILE, QImage.Format.Format_RGBA8888)
                painter.drawImage(QRect(2, y, self.ROW - 2, self.ROW - 2), image)
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(QRect(self.ROW + 2, y, int(x0) - self.ROW - 2, self.ROW),
                             Qt.AlignmentFlag.AlignVCenter, str(j))
            values = np.r_[100 * np.nan_to_num(self.scan.change[j]), 100 * self.scan.total[j]]
            u = np.clip(values / self.level, -1, 1) * 0.5 + 0.5
            colours = cmap.map(u, mode="byte")
            for col, (v, c) in enumerate(zip(values, colours)):
                rect = QRect(int(x0 + col * cell), y, int(cell) - 1, self.ROW - 1)
                painter.fillRect(rect, QColor(*[int(k) for k in c]))
                if cell >= 30:
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{v:+.1f}" if abs(v) >= 0.05 else "0")
        if self.selected is not None and self.selected[0] in self.scan.order:
            pen = QPen(QColor(*theme.ACCENT))
            pen.setWidth(2)
            painter.setPen(pen)
            painter.drawRect(self.cell_rect(*self.selected))
        painter.end()


class FlipStrip(QWidget):
    """Thumbnails of the test digits a knock-out broke (right → wrong), with their new answers."""

    SIDE = 36

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items = []        # (image (784,), text)
        self.setMinimumHeight(self.SIDE + 16)

    def set_items(self, items):
        self.items = list(items)
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        x = 2
        for image, text in self.items:
            if x + self.SIDE > self.width():
                break
            rgba = np.ascontiguousarray(digit_rgba(image))
            painter.drawImage(QRect(x, 0, self.SIDE, self.SIDE),
                              QImage(rgba.data, TILE, TILE, 4 * TILE, QImage.Format.Format_RGBA8888))
            painter.drawText(QRect(x, self.SIDE, self.SIDE, 14), Qt.AlignmentFlag.AlignCenter, text)
            x += self.SIDE + 4
        painter.end()


class AblationPanel(RefreshWhenSeen, Panel):
    """Every hidden neuron silenced alone: the accuracy each digit loses, sorted; click a cell for
    the test digits that flip."""

    title = "Ablation scan"
    area = "right"
    tab_with = "Knock-out"
    follows_past = True
    workspaces = ("Why",)
    help = ('The ablation scan silences each neuron of the last hidden layer alone and measures the whole '
            'test set: rows are neurons (with their weight image), most harmful to lose first; columns are '
            'digits; a cell is the change of that digit\'s accuracy in percentage points (blue: worse). Click '
            'a cell to see the test digits that silencing the neuron turns wrong. It follows the Timeline.')

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result: AblationScan | None = None
        self.shown_snapshot: Snapshot | None = None
        self._job = None
        self._training = None
        self._generation = 0
        self._asked_snapshot = None
        self.summary = ElidedLabel("Waiting for the network…")
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)
        explain = ElidedLabel("Each row: one neuron silenced alone; cells: accuracy change per digit (points).")
        self.layer_choice = QComboBox()
        self.layer_choice.setToolTip("The hidden layer whose neurons are silenced one by one")
        self.layer_choice.hide()
        self.layer = None           # the last hidden layer until one is chosen
        self.matrix = ScanMatrix()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.matrix)
        scroll.setMinimumHeight(60)
        self.flip_text = ElidedLabel("Click a cell to see which test digits flip.")
        self.flips = FlipStrip()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(explain)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.layer_choice)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.flip_text)
        layout.addWidget(self.flips)
        self.matrix.cell_clicked.connect(self.show_flips)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 150)

    def attach(self, view, training) -> None:
        super().attach(view, training)
        self._training = training
        self.knockouts = knockouts_of(view)
        self._job = LatestJob(ablation_job, self, min_interval=1.0, name="ablation scan")
        self._job.done.connect(self._on_done)
        self._job.failed.connect(self.summary.setText)
        self.matrix.cell_clicked.connect(lambda j, _: view.select_neuron(self.result.layer, j))
        self.layer_choice.currentIndexChanged.connect(self._layer_chosen)
        training.data_loaded.connect(lambda _: self.refresh())

    def _layer_chosen(self, index: int):
        if index >= 0:
            self.layer = index
            self.matrix.selected = None
            self.refresh()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        hidden = len(snapshot.W) - 1
        if self.layer_choice.count() != hidden:
            self.layer_choice.blockSignals(True)
            self.layer_choice.clear()
            self.layer_choice.addItems([f"hidden layer {l + 1}" for l in range(hidden)])
            self.layer = hidden - 1
            self.layer_choice.setCurrentIndex(self.layer)
            self.layer_choice.blockSignals(False)
            self.layer_choice.setVisible(hidden > 1)
        self.shown_snapshot = snapshot
        self.refresh()

    def request_job(self):
        snapshot = self.shown_snapshot
        data = getattr(self._training, "data", None)
        if snapshot is None or self._job is None:
            return
        if data is None:
            self.summary.setText("the test set is not loaded yet")
            return
        self._generation += 1
        self._asked_snapshot = snapshot
        self._job.request(for_job(snapshot), data.test, self.layer, tag=self._generation)

    def _on_done(self, result: AblationScan, tag):
        if tag == self._generation:
            self.show_result(result, self._asked_snapshot)

    def show_result(self, scan: AblationScan, snapshot: Snapshot):
        self.result = scan
        self.scan_snapshot = snapshot
        W = snapshot.W[scan.layer]
        images = np.asarray(W, np.float64) if scan.layer == 0 and W.shape[1] == TILE * TILE else None
        self.matrix.set_scan(scan, images)
        worst = int(scan.order[0])
        self.summary.setText(f"Step {snapshot.step:,}: test accuracy {100 * scan.accuracy:.2f}%; losing neuron "
                             f"{worst} costs most ({100 * scan.total[worst]:+.2f} points)")
        if self.matrix.selected is None:      # start on the costliest cell: the neuron first lost, its worst digit
            self.matrix.selected = (worst, int(np.nanargmin(scan.change[worst])))
        self.show_flips(*self.matrix.selected)

    def show_flips(self, j: int, digit: int):
        """List the test digits (of ``digit``, or all for −1) that silencing neuron j breaks."""
        scan, data = self.result, getattr(self._training, "data", None)
        if scan is None or data is None:
            return
        broken, mended = scan.flips(j, None if digit < 0 else digit)
        which = f"{digit}s" if digit >= 0 else "digits"
        self.flip_text.setText(f"Silencing neuron {j}: {len(broken)} test {which} turn wrong, {len(mended)} turn right"
                               + (" — first ones:" if len(broken) else ""))
        self.flips.set_items([(data.test.images[i], f"→{scan.predicted[j][i]}") for i in broken[:30]])
        self.flipped = (broken, mended)

    def shutdown(self) -> None:
        if self._job is not None:
            self._job.stop()
