"""Evaluate panel: where the network goes wrong on the test set.

Left: the confusion matrix (rows = true digit, columns = predicted; right answers on the green
diagonal, mistakes in red, every cell with its count) above each digit's accuracy. Right: a gallery
of misclassified digits, each titled "true→predicted (top three outputs)". Clicking an off-diagonal
cell shows only those mistakes, a diagonal cell all mistakes on that true digit; clicking the same
cell again (or "Show all") shows every mistake.

Evaluating 10,000 digits is too heavy for every snapshot, so ``show_snapshot`` only notes the step;
the window evaluates after each epoch and on "Refresh" (see :class:`EvaluationRunner`).
"""
from __future__ import annotations


import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFont, QImage, QPixmap
from PyQt6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSplitter,
                             QVBoxLayout, QWidget)

from core.evaluate import Evaluation, evaluate, network_from_snapshot
from core.snapshot import Snapshot
from gui import theme
from gui.jobs import LatestJob
from gui.panels.base import Panel

GALLERY = 40          # thumbnails shown at most
COLUMNS = 4           # thumbnails per gallery row
THUMB = 56            # thumbnail side in pixels (2× the digit)
CELL = (94, THUMB + 38)  # a gallery cell in pixels: the picture over two lines of text
RIGHT = (40, 140, 60)  # diagonal: right answers
TEXT = (60, 60, 60)


def mistake_title(label: int, top) -> str:
    """"7→2 (2: 61%, 7: 30%, 1: 4%)" for a true 7 whose top outputs are ``top`` [(digit, value), ...]."""
    outputs = ", ".join(f"{d}: {100 * v:.0f}%" for d, v in top)
    return f"{label}→{top[0][0]} ({outputs})"


def cell_colours(cm) -> np.ndarray:
    """(n, n, 4) uint8: diagonal white→green by the row's share right, the rest white→red by
    √(count / largest mistake count), so that single mistakes still show."""
    cm = np.asarray(cm, dtype=np.float64)
    n = len(cm)
    diagonal = np.eye(n, dtype=bool)
    totals = np.maximum(cm.sum(axis=1, keepdims=True), 1)
    wrong = np.where(diagonal, 0, cm)
    shade = np.where(diagonal, cm / totals, np.sqrt(wrong / max(wrong.max(), 1)))
    target = np.where(diagonal[..., None], RIGHT, theme.POSITIVE)
    rgb = 255 + shade[..., None] * (np.asarray(target, float) - 255)
    return np.dstack([rgb, np.full((n, n), 255)]).astype(np.uint8)


def thumbnail(pixels) -> QPixmap:
    """A 784-pixel digit as a THUMB×THUMB pixmap, black ink on white, pixels kept square and sharp."""
    grey = (255 - 255 * np.clip(np.nan_to_num(np.asarray(pixels, np.float32)), 0, 1)).astype(np.uint8)
    grey = np.ascontiguousarray(grey.reshape(28, 28))
    image = QImage(grey.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()  # own the pixels
    return QPixmap.fromImage(image).scaled(
        THUMB, THUMB, transformMode=Qt.TransformationMode.FastTransformation)


class ConfusionImage(pg.ImageItem):
    """The confusion matrix image; ``cell_clicked(true, predicted)`` on a left click."""

    cell_clicked = pyqtSignal(int, int)

    def mouseClickEvent(self, event):
        if event.button() != Qt.MouseButton.LeftButton or self.image is None:
            return
        col, row = int(np.floor(event.pos().x())), int(np.floor(event.pos().y()))
        if 0 <= row < self.image.shape[0] and 0 <= col < self.image.shape[1]:
            event.accept()
            self.cell_clicked.emit(row, col)


class GalleryCell(QWidget):
    """One misclassified digit: its picture over "7→2" and its top three outputs."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.picture, self.heading, self.detail = QLabel(), QLabel(), QLabel()
        self.picture.setFixedSize(THUMB, THUMB)
        self.picture.setStyleSheet("border: 1px solid #bbb;")
        bold, small = QFont(), QFont()
        bold.setBold(True)
        small.setPointSize(7)
        self.heading.setFont(bold)
        self.detail.setFont(small)
        self.setFixedSize(*CELL)  # fixed, so a crowded gallery scrolls instead of squeezing
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        for label in (self.picture, self.heading, self.detail):
            layout.addWidget(label, alignment=Qt.AlignmentFlag.AlignHCenter)

    def show_mistake(self, index: int, label: int, top, pixels) -> None:
        self.picture.setPixmap(thumbnail(pixels))
        self.heading.setText(f"{label}→{top[0][0]}")
        self.detail.setText(" ".join(f"{d}:{100 * v:.0f}%" for d, v in top))
        self.title = mistake_title(label, top)
        self.setToolTip(f"test #{index}: {self.title}")


class EvaluatePanel(Panel):
    """Confusion matrix, per-digit accuracy and a gallery of mistakes for an :class:`Evaluation`.

    ``refresh_requested()`` fires from the Refresh button: the window evaluates the current weights.
    """

    title = "Evaluate"
    area = "right"
    tab_with = "Weights"
    workspaces = ("Evaluate",)
    help = ('The confusion matrix of the whole test set (click a cell for its digits), the accuracy per '
            'digit, and a gallery of mistakes with the top three answers.')
    refresh_requested = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.evaluation: Evaluation | None = None
        self.images = None
        self.selected = None          # (true, predicted) filtering the gallery, or None for all
        self.shown = []               # the mistakes in the gallery, in order
        self._note = ""
        self._step = None             # the latest snapshot's step
        self._evaluated_step = None   # the step of the weights evaluated
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._build_toolbar())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self._graphics = pg.GraphicsLayoutWidget()
        splitter.addWidget(self._graphics)
        splitter.addWidget(self._build_gallery())
        splitter.setSizes([470, 430])
        layout.addWidget(splitter, 1)
        self._build_matrix()
        self._build_accuracy()
        self._show_status()

    # --- building -----------------------------------------------------------------------------
    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Evaluate the current weights on the test set")
        self.refresh_button.clicked.connect(self.refresh_requested.emit)
        bar.addWidget(self.refresh_button)
        self.status_label = QLabel("")
        bar.addWidget(self.status_label, 1)
        return bar

    def _build_matrix(self) -> None:
        plot = self._matrix_plot = self._graphics.addPlot()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.setTitle("Confusion matrix (click a cell to see its digits)", size=theme.TITLE_SIZE)
        ticks = [[(k + 0.5, str(k)) for k in range(10)], []]
        for side, text in (("left", "true digit"), ("bottom", "predicted digit")):
            plot.getAxis(side).setTicks(ticks)
            plot.setLabel(side, text)
        plot.showAxis("top"), plot.showAxis("right")
        plot.getAxis("top").setStyle(showValues=False)
        plot.getAxis("right").setStyle(showValues=False)
        self._matrix = ConfusionImage(cell_colours(np.zeros((10, 10))), axisOrder="row-major")
        self._matrix.cell_clicked.connect(self.select_cell)
        plot.addItem(self._matrix)
        self._selection = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self._selection.setPen(pg.mkPen(theme.ACCENT, width=3, cosmetic=True))
        self._selection.setZValue(5)
        self._selection.hide()
        plot.addItem(self._selection)
        font = QFont()
        font.setPointSize(7)
        self._counts = np.empty((10, 10), dtype=object)
        for r in range(10):
            for c in range(10):
                text = pg.TextItem("", color=TEXT, anchor=(0.5, 0.5))
                text.setFont(font)
                text.setPos(c + 0.5, r + 0.5)
                plot.addItem(text)
                self._counts[r, c] = text
        plot.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
        self._graphics.nextRow()

    def _build_accuracy(self) -> None:
        plot = self._accuracy_plot = self._graphics.addPlot()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setTitle("Accuracy per true digit (%)", size=theme.TITLE_SIZE)
        plot.getAxis("bottom").setTicks([[(k, str(k)) for k in range(10)], []])
        plot.setXRange(-0.6, 9.6, padding=0)
        self._accuracy_bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.8,
                                              pen=None, brush=theme.TRAIN)
        plot.addItem(self._accuracy_bars)
        font = QFont()
        font.setPointSize(7)
        self._accuracy_values = []
        for k in range(10):
            text = pg.TextItem("", color=TEXT, anchor=(0.5, 1))
            text.setFont(font)
            plot.addItem(text)
            self._accuracy_values.append(text)
        self._graphics.ci.layout.setRowStretchFactor(0, 3)
        self._graphics.ci.layout.setRowStretchFactor(1, 1)

    def _build_gallery(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        self.gallery_label = QLabel("")
        self.gallery_label.setToolTip("Each digit: true→predicted, then its three largest outputs")
        header.addWidget(self.gallery_label, 1)
        self.show_all_button = QPushButton("Show all")
        self.show_all_button.clicked.connect(lambda: self.select_cell(None, None))
        header.addWidget(self.show_all_button)
        column.addLayout(header)
        grid_holder = QWidget()
        grid = QGridLayout(grid_holder)
        grid.setSpacing(2)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.cells = [GalleryCell() for _ in range(GALLERY)]
        for k, cell in enumerate(self.cells):
            grid.addWidget(cell, k // COLUMNS, k % COLUMNS)
            cell.hide()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_holder)
        column.addWidget(scroll, 1)
        return box

    # --- showing an evaluation ----------------------------------------------------------------
    _training = None
    _evaluated_epoch = None   # (run id, epoch) last asked for
    _due = False              # an epoch ended while the panel was hidden

    def attach(self, view, training) -> None:
        """Evaluate after every epoch (and the untrained network) when on screen, else when shown;
        Refresh evaluates now. The evaluation runs off the GUI thread (training.evaluate)."""
        super().attach(view, training)
        self._training, self._evaluated_epoch, self._due = training, None, False
        view.live_changed.connect(self._on_live)
        self.refresh_requested.connect(lambda: self._evaluate(view.live))
        training.evaluated.connect(self._on_evaluated)

    def _on_live(self, snap: Snapshot) -> None:
        key = (snap.run_id, snap.epoch)
        if key != self._evaluated_epoch:
            self._evaluated_epoch = key
            self._due = True
        if self._due and self.on_screen():
            self._evaluate(snap)

    def catch_up(self) -> None:
        super().catch_up()
        if self._due and self.on_screen() and self.view is not None:
            self._evaluate(self.view.live)

    def _evaluate(self, snap) -> None:
        if snap is not None:
            self._due = False
            self._training.evaluate(snap)

    def _on_evaluated(self, evaluation, snap) -> None:
        self.show_evaluation(evaluation, self._training.data.test.images, note=f"epoch {snap.epoch}", step=snap.step)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Only note whether training has moved on since the evaluation shown (evaluating is on demand)."""
        if snapshot.step != self._step:
            self._step = snapshot.step
            self._show_status()

    def reset(self) -> None:
        """A new run started: the evaluation shown belongs to the old network, so forget it."""
        self.evaluation, self.images, self._note, self.selected = None, None, "", None
        self._evaluated_step = None
        self._selection.hide()
        self._matrix.setImage(cell_colours(np.zeros((10, 10))), autoLevels=False)
        for text in self._counts.flat:
            text.setText("")
        self._accuracy_bars.setOpts(height=np.zeros(10), y0=0)
        for text in self._accuracy_values:
            text.setText("")
        self._show_gallery()
        self._show_status()

    def show_evaluation(self, evaluation: Evaluation, dataset_images, note: str = "", step=None) -> None:
        """Draw ``evaluation``; ``dataset_images`` (N, 784) are the digits it was computed on, ``step``
        the training step of the weights evaluated (to say when training has moved on), ``note`` any words."""
        self.evaluation, self.images, self._note = evaluation, dataset_images, note
        self._evaluated_step = step
        cm = np.asarray(evaluation.cm)
        self._matrix.setImage(cell_colours(cm), autoLevels=False)
        dark = cell_colours(cm)[..., :3].mean(axis=2) < 150
        for (r, c), text in np.ndenumerate(self._counts):
            text.setText(str(int(cm[r, c])) if cm[r, c] else "")
            text.setColor((255, 255, 255) if dark[r, c] else TEXT)
        self._show_accuracy(evaluation.per_class)
        self._show_gallery()
        self._show_status()

    def _show_accuracy(self, per_class) -> None:
        percent = 100 * np.nan_to_num(np.asarray(per_class, dtype=np.float64), nan=0.0)
        low = max(0.0, 10 * np.floor((percent.min() - 5) / 10)) if percent.size else 0.0
        self._accuracy_bars.setOpts(height=percent - low, y0=low)
        for k, text in enumerate(self._accuracy_values):
            text.setText(f"{percent[k]:.1f}")
            text.setPos(k, percent[k])
        self._accuracy_plot.setYRange(low, 100 + 0.12 * (100 - low), padding=0)

    def select_cell(self, true, predicted) -> None:
        """Filter the gallery to true digit ``true`` predicted as ``predicted``; the diagonal cell
        (i, i) means every mistake on digit i; the selected cell again, or (None, None), shows all."""
        cell = None if true is None or (true, predicted) == self.selected else (int(true), int(predicted))
        self.selected = cell
        if cell is None:
            self._selection.hide()
        else:
            self._selection.setRect(cell[1], cell[0], 1, 1)
            self._selection.show()
        self._show_gallery()

    def _filtered(self) -> list:
        if self.evaluation is None:
            return []
        if self.selected is None:
            return self.evaluation.mistakes
        true, predicted = self.selected
        return self.evaluation.mistakes_for(true, None if predicted == true else predicted)

    def _show_gallery(self) -> None:
        mistakes = self._filtered()
        self.shown = mistakes[:GALLERY]
        for cell, (index, label, top) in zip(self.cells, self.shown):
            cell.show_mistake(index, label, top, self.images[index])
            cell.show()
        for cell in self.cells[len(self.shown):]:
            cell.hide()
        self.gallery_label.setText(self._gallery_caption(len(mistakes)))
        self.show_all_button.setEnabled(self.selected is not None)

    def _gallery_caption(self, count: int) -> str:
        if self.evaluation is None:
            return "Mistakes appear here after an evaluation."
        if self.selected is None:
            what = "Misclassified digits"
        elif self.selected[0] == self.selected[1]:
            what = f"Mistakes on true {self.selected[0]}"
        else:
            what = f"True {self.selected[0]} predicted as {self.selected[1]}"
        first = f" (first {GALLERY} shown)" if count > GALLERY else ""
        return f"<b>{what}</b>: {count:,}{first}"

    def _show_status(self) -> None:
        ev = self.evaluation
        if ev is None:
            self.status_label.setText("Not evaluated yet: press Refresh, or finish an epoch.")
            return
        text = (f"{ev.n:,} test digits: accuracy <b>{100 * ev.accuracy:.2f}%</b>, "
                f"{len(ev.mistakes):,} mistakes")
        if self._note:
            text += f" ({self._note})"
        if self._evaluated_step is not None:
            text += f", weights of step {self._evaluated_step:,}"
            if self._step is not None and self._step != self._evaluated_step:
                text += "; training has moved on: Refresh to update"  # same words every frame: no relayout
        self.status_label.setText(text)

    def __repr__(self):
        return f"EvaluatePanel(evaluation={self.evaluation!r}, selected={self.selected})"


def evaluate_snapshot(snapshot: Snapshot, dataset) -> Evaluation:
    """The test-set evaluation of ``snapshot``'s weights (read-only copies: the trainer is never touched)."""
    return evaluate(network_from_snapshot(snapshot), dataset)


class EvaluationRunner(LatestJob):
    """Evaluates snapshots off the GUI thread, at most one per ``min_interval`` seconds (on a tiny
    data set an epoch can end every few milliseconds); ``finished(evaluation, snapshot)`` arrives in
    the GUI thread, ``failed(message)`` if an evaluation raised."""

    finished = pyqtSignal(object, object)

    def __init__(self, parent=None, min_interval: float = 1.0):
        super().__init__(evaluate_snapshot, parent, min_interval, name="evaluation")
        self.done.connect(self.finished)

    def request(self, snapshot: Snapshot, dataset) -> None:
        """Evaluate ``snapshot``'s weights on ``dataset`` soon."""
        super().request(snapshot, dataset, tag=snapshot)
