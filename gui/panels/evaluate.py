"""Evaluate panel: where the network goes wrong on the test set.

Left: the confusion matrix (rows = true digit, columns = predicted; right answers on the green
diagonal, mistakes in red, every cell with its count, each digit's accuracy at the row's end). Right: a gallery
of misclassified digits, each titled "true→predicted (top three outputs)". Clicking an off-diagonal
cell shows only those mistakes, a diagonal cell all mistakes on that true digit; clicking the same
cell again (or "Show all") shows every mistake.

Evaluating 10,000 digits is too heavy for every snapshot, so ``show_snapshot`` only notes the step;
the window evaluates after each epoch and on "Refresh" (see :class:`EvaluationRunner`).
"""
from __future__ import annotations


import numpy as np
from PyQt6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QLayout, QPushButton, QScrollArea, QSizePolicy,
                             QSplitter, QToolTip, QVBoxLayout, QWidget)

from core.evaluate import Evaluation
from core.snapshot import Snapshot
from gui import theme
from gui.fit_text import ElidedLabel
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


def count_text(n: int) -> str:
    """A cell's count as short as a cell can hold: "957", "1.1k" (1,050), "12k" (12,300)."""
    n = int(n)
    if n < 1000:
        return str(n)
    return f"{n / 1000:.1f}k" if n < 10_000 else f"{n / 1000:.0f}k"


class ConfusionMatrixView(QWidget):
    """The confusion matrix drawn as square cells: rows are the true digit, columns the predicted one,
    every row and column labelled 0–9 with axis titles, each row's accuracy at its right.

    The cells are as large as the widget allows (squares, centred), the counts in a font that fits
    the cell (shortened to "1.2k" when needed, left out when a cell is too small: the tooltip still
    gives them). ``cell_clicked(true, predicted)`` on a left click in a cell. ``cell_rect`` and
    ``cell_at`` map cells to widget pixels and back; drawing and clicking both use them, so a click
    selects exactly the cell under the pointer.
    """

    cell_clicked = pyqtSignal(int, int)
    MIN_FONT_PX = 6          # smaller counts are left out (the tooltip has them)
    MAX_FONT_PX = 12

    def __init__(self, n: int = 10, parent=None):
        super().__init__(parent)
        self.n = n
        self._counts = np.zeros((n, n), dtype=np.int64)
        self._colours = cell_colours(self._counts)
        self._accuracy = np.full(n, np.nan)
        self._selected = None
        self._shown_counts: dict = {}
        self.setMouseTracking(True)
        self.setMinimumSize(150, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # --- data ---------------------------------------------------------------------------------
    def set_matrix(self, cm, accuracy=None) -> None:
        """Show counts ``cm`` (n, n) and each true digit's accuracy (0–1, NaN: no such digit)."""
        self._counts = np.asarray(cm, dtype=np.int64).copy()
        self._colours = cell_colours(self._counts)
        self._accuracy = (np.full(self.n, np.nan) if accuracy is None
                          else np.asarray(accuracy, dtype=np.float64).copy())
        self.update()

    def set_selected(self, cell) -> None:
        """Outline cell (true, predicted), or nothing for None."""
        self._selected = None if cell is None else (int(cell[0]), int(cell[1]))
        self.update()

    # read-only views, for tests and exporters
    @property
    def counts(self) -> np.ndarray:
        """The counts shown (true, predicted): a read-only copy."""
        out = self._counts.copy()
        out.flags.writeable = False
        return out

    @property
    def colours(self) -> np.ndarray:
        """(n, n, 4) uint8 RGBA of the cells, as drawn (see ``cell_colours``): a read-only copy."""
        out = self._colours.copy()
        out.flags.writeable = False
        return out

    @property
    def selected(self):
        """The outlined cell (true, predicted), or None."""
        return self._selected

    @property
    def accuracy(self) -> np.ndarray:
        """Each true digit's accuracy (0–1) shown at its row's end: a read-only copy."""
        out = self._accuracy.copy()
        out.flags.writeable = False
        return out

    def count_texts(self) -> dict:
        """(true, predicted) → (text, font pixel size) of every count drawn by the last paint;
        cells too small for their count are absent."""
        return dict(self._shown_counts)

    # --- geometry -----------------------------------------------------------------------------
    def _fonts(self, cell: float) -> tuple:
        """(label font, title font) for cells of ``cell`` pixels."""
        label = QFont(self.font())
        label.setPixelSize(int(np.clip(0.75 * cell, 8, 12)))
        title = QFont(label)
        title.setPixelSize(int(np.clip(0.75 * cell, 9, 12)))
        return label, title

    def _layout(self) -> tuple:
        """(x0, y0, cell side, label font, title font): the matrix's top-left corner and cell size in
        widget pixels. Two passes, as the fonts follow the cell size and the margins the fonts."""
        cell = 20.0
        for _ in range(2):
            label, title = self._fonts(cell)
            lm, tm = QFontMetrics(label), QFontMetrics(title)
            left = tm.height() + lm.horizontalAdvance("9") + 8
            top = tm.height() + 4
            bottom = lm.height() + tm.height() + 6
            right = lm.horizontalAdvance("100%") + 8
            cell = max(1.0, np.floor(min(self.width() - left - right, self.height() - top - bottom) / self.n))
        x0 = left + np.floor((self.width() - left - right - self.n * cell) / 2)
        return float(x0), float(top), float(cell), label, title

    def cell_rect(self, true: int, predicted: int) -> QRectF:
        """Cell (true, predicted) in widget pixels."""
        x0, y0, cell, _, _ = self._layout()
        return QRectF(x0 + predicted * cell, y0 + true * cell, cell, cell)

    def cell_at(self, pos) -> tuple | None:
        """(true, predicted) of the cell under widget position ``pos`` (a QPointF), or None."""
        x0, y0, cell, _, _ = self._layout()
        col, row = int(np.floor((pos.x() - x0) / cell)), int(np.floor((pos.y() - y0) / cell))
        return (row, col) if 0 <= row < self.n and 0 <= col < self.n else None

    # --- events -------------------------------------------------------------------------------
    def mousePressEvent(self, event):
        event.accept()   # the click is ours: it selects on release

    def mouseDoubleClickEvent(self, event):
        event.accept()   # a quick second click is a click too (its release selects)

    def mouseReleaseEvent(self, event):
        event.accept()   # outside the cells a click does nothing (it is not passed to the panel)
        if event.button() == Qt.MouseButton.LeftButton:
            cell = self.cell_at(event.position())
            if cell is not None:
                self.cell_clicked.emit(*cell)

    def event(self, event):
        if event.type() == QEvent.Type.ToolTip:
            cell = self.cell_at(event.position() if hasattr(event, "position") else QPointF(event.pos()))
            if cell is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.cell_tooltip(*cell), self)
            return True
        return super().event(event)

    def cell_tooltip(self, true: int, predicted: int) -> str:
        count = int(self._counts[true, predicted])
        what = "right" if true == predicted else f"predicted as {predicted}"
        return f"true {true}, {what}: {count:,} digit{'s' if count != 1 else ''} (click to see them)"

    # --- painting -----------------------------------------------------------------------------
    def paintEvent(self, event):
        # every font is measured before the painter starts: measuring new sizes while it draws
        # can free a font engine it is using (a crash seen in Qt 6 offscreen)
        x0, y0, cell, label, title = self._layout()
        n = self.n
        counts = self._fitted_counts(cell)
        count_fonts = {}
        for px in {px for _, px in counts.values()}:
            count_fonts[px] = QFont(self.font())
            count_fonts[px].setPixelSize(px)
        lm, tm = QFontMetrics(label), QFontMetrics(title)
        lh, th, digit = lm.height(), tm.height(), lm.horizontalAdvance("9")
        heading = tm.elidedText("click a cell", Qt.TextElideMode.ElideRight, int(n * cell))
        dark = self._colours[..., :3].mean(axis=2) < 150

        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self._paint_cells(painter, x0, y0, cell)
        for (r, c), (text, px) in counts.items():
            painter.setFont(count_fonts[px])
            painter.setPen(QColor(255, 255, 255) if dark[r, c] else QColor(*TEXT))
            painter.drawText(QRectF(x0 + c * cell, y0 + r * cell, cell, cell), Qt.AlignmentFlag.AlignCenter, text)
        self._shown_counts = counts
        painter.setPen(QColor(*TEXT))
        painter.setFont(label)
        for k in range(n):
            painter.drawText(QRectF(x0 - 30, y0 + k * cell, 27, cell),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(k))
            painter.drawText(QRectF(x0 + k * cell, y0 + n * cell + 1, cell, lh),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, str(k))
            if np.isfinite(self._accuracy[k]):
                painter.drawText(QRectF(x0 + n * cell + 3, y0 + k * cell, 200, cell),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 f"{100 * self._accuracy[k]:.0f}%")
        painter.setFont(title)
        painter.drawText(QRectF(0, y0 + n * cell + lh + 2, self.width(), th),
                         Qt.AlignmentFlag.AlignHCenter, "predicted digit")
        painter.drawText(QRectF(x0 + n * cell + 3, 0, self.width(), th), Qt.AlignmentFlag.AlignLeft, "right")
        painter.drawText(QRectF(x0, 0, n * cell, th), Qt.AlignmentFlag.AlignHCenter, heading)
        painter.save()
        painter.translate(x0 - digit - 8, y0 + n * cell / 2)
        painter.rotate(-90)
        painter.drawText(QRectF(-n * cell / 2, -th, n * cell, th), Qt.AlignmentFlag.AlignHCenter, "true digit")
        painter.restore()
        painter.end()

    def _paint_cells(self, painter, x0, y0, cell):
        n = self.n
        for (r, c), _ in np.ndenumerate(self._counts):
            rgba = self._colours[r, c]
            painter.fillRect(QRectF(x0 + c * cell, y0 + r * cell, cell, cell), QColor(*map(int, rgba)))
        painter.setPen(QPen(QColor(225, 225, 225), 1))
        for k in range(n + 1):   # a faint grid, so white cells are still cells
            painter.drawLine(QPointF(x0 + k * cell, y0), QPointF(x0 + k * cell, y0 + n * cell))
            painter.drawLine(QPointF(x0, y0 + k * cell), QPointF(x0 + n * cell, y0 + k * cell))
        if self._selected is not None:
            r, c = self._selected
            painter.setPen(QPen(QColor(*theme.ACCENT), 3))
            painter.drawRect(QRectF(x0 + c * cell + 1, y0 + r * cell + 1, cell - 2, cell - 2))

    def _fitted_counts(self, cell: float) -> dict:
        """(true, predicted) → (text, pixel size) of each non-zero count that fits a cell of ``cell`` px."""
        font = QFont(self.font())
        out = {}
        for (r, c), count in np.ndenumerate(self._counts):
            if count:
                fitted = self._fit_count(font, int(count), cell)
                if fitted is not None:
                    out[(r, c)] = fitted
        return out

    def _fit_count(self, font: QFont, count: int, cell: float):
        """(text, pixel size) for ``count`` in a cell of ``cell`` pixels: the whole number if it fits,
        else its short form ("1.2k"); None if neither fits at MIN_FONT_PX."""
        px = int(min(self.MAX_FONT_PX, 0.42 * cell))
        while px >= self.MIN_FONT_PX:
            font.setPixelSize(px)
            metrics = QFontMetrics(font)
            if metrics.height() <= cell:
                for text in dict.fromkeys((str(count), count_text(count))):
                    if metrics.horizontalAdvance(text) <= cell - 3:
                        return text, px
            px -= 1
        return None

    def sizeHint(self):
        return QSize(420, 400)


class GalleryGrid(QWidget):
    """The gallery's cells in as many columns as its width holds (at least one), re-flowed on resize."""

    def __init__(self, cells, parent=None):
        super().__init__(parent)
        self.cells = cells
        self._grid = QGridLayout(self)
        self._grid.setSpacing(2)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # the columns follow the width, so the width must not follow the columns
        self._grid.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.columns = 0
        self._flow(COLUMNS)

    def _flow(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        # takeAt, not removeWidget: PyQt hands a removed widget back to Python, which would delete
        # it a second time after Qt deleted the panel (a crash in a later paint)
        while self._grid.count():
            self._grid.takeAt(0)
        for k, cell in enumerate(self.cells):
            self._grid.addWidget(cell, k // columns, k % columns)
        self.fit_height()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._flow(max(1, (self.width() - 4 + 2) // (CELL[0] + 2)))

    def fit_height(self) -> None:
        """As tall as the rows of shown cells (the scroll area scrolls over them)."""
        shown = sum(not cell.isHidden() for cell in self.cells)
        rows = -(-shown // max(self.columns, 1))
        self.setMinimumHeight(rows * (CELL[1] + 2) + 4)

    def minimumSizeHint(self):
        return QSize(CELL[0] + 4, self.minimumHeight())


class GalleryCell(QWidget):
    """One misclassified digit: its picture over "7→2" and its top three outputs; a double-click
    gives ``explain(index)`` (the Why workspace explains it)."""

    explain = pyqtSignal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.index = None
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

    def mouseDoubleClickEvent(self, event):
        if self.index is not None:
            self.explain.emit(self.index)

    def show_mistake(self, index: int, label: int, top, pixels) -> None:
        self.index = index
        self.picture.setPixmap(thumbnail(pixels))
        self.heading.setText(f"{label}→{top[0][0]}")
        self.detail.setText(" ".join(f"{d}:{100 * v:.0f}%" for d, v in top))
        self.title = mistake_title(label, top)
        self.setToolTip(f"test #{index}: {self.title}. Double-click: why? (the Why workspace)")


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
        self.matrix = ConfusionMatrixView()
        self.matrix.cell_clicked.connect(self.select_cell)
        splitter.addWidget(self.matrix)
        splitter.addWidget(self._build_gallery())
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)     # the matrix gets most: it must stay whole and square
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([540, 360])
        layout.addWidget(splitter, 1)
        self._show_status()

    # --- building -----------------------------------------------------------------------------
    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Evaluate the current weights on the test set")
        self.refresh_button.clicked.connect(self.refresh_requested.emit)
        bar.addWidget(self.refresh_button)
        self.status_label = ElidedLabel("")    # one line, elided: it never widens the dock
        bar.addWidget(self.status_label, 1)
        return bar

    def _build_gallery(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        self.gallery_label = ElidedLabel("")
        self.gallery_label.setToolTip("Each digit: true→predicted, then its three largest outputs")
        header.addWidget(self.gallery_label, 1)
        self.show_all_button = QPushButton("Show all")
        self.show_all_button.clicked.connect(self.show_all)   # a method, not a lambda: no cycle through self
        header.addWidget(self.show_all_button)
        column.addLayout(header)
        self.cells = [GalleryCell() for _ in range(GALLERY)]
        self.gallery = GalleryGrid(self.cells)
        for cell in self.cells:
            cell.hide()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # it re-flows instead
        scroll.setWidget(self.gallery)
        scroll.setMinimumWidth(CELL[0] + 4 + scroll.verticalScrollBar().sizeHint().width())
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
        for cell in self.cells:
            cell.explain.connect(view.explain_digit)

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
        self.matrix.set_selected(None)
        self.matrix.set_matrix(np.zeros((10, 10)))
        self._show_gallery()
        self._show_status()

    def show_evaluation(self, evaluation: Evaluation, dataset_images, note: str = "", step=None) -> None:
        """Draw ``evaluation``; ``dataset_images`` (N, 784) are the digits it was computed on, ``step``
        the training step of the weights evaluated (to say when training has moved on), ``note`` any words."""
        self.evaluation, self.images, self._note = evaluation, dataset_images, note
        self._evaluated_step = step
        self.matrix.set_matrix(evaluation.cm, evaluation.per_class)
        self.matrix.set_selected(self.selected)
        self._show_gallery()
        self._show_status()

    def select_cell(self, true, predicted) -> None:
        """Filter the gallery to true digit ``true`` predicted as ``predicted``; the diagonal cell
        (i, i) means every mistake on digit i; the selected cell again, or (None, None), shows all."""
        cell = None if true is None or (true, predicted) == self.selected else (int(true), int(predicted))
        self.selected = cell
        self.matrix.set_selected(cell)
        self._show_gallery()

    def show_all(self) -> None:
        """Show every mistake in the gallery (no cell selected)."""
        self.select_cell(None, None)

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
        self.gallery.fit_height()
        self.gallery_label.setText(self._gallery_caption(len(mistakes)))
        self.show_all_button.setEnabled(self.selected is not None)

    def _gallery_caption(self, count: int) -> str:
        if self.evaluation is None:
            return "Mistakes appear here after an evaluation."
        if self.selected is None:
            what = "Mistakes"
        elif self.selected[0] == self.selected[1]:
            what = f"Mistakes on true {self.selected[0]}"
        else:
            what = f"True {self.selected[0]} predicted as {self.selected[1]}"
        first = f" (first {GALLERY} shown)" if count > GALLERY else ""
        return f"{what}: {count:,}{first}"

    def _show_status(self) -> None:
        ev = self.evaluation
        if ev is None:
            self.status_label.setText("Not evaluated yet: press Refresh, or finish an epoch.")
            return
        text = (f"accuracy {100 * ev.accuracy:.2f}% on {ev.n:,} test digits, "
                f"{len(ev.mistakes):,} mistakes")
        if self._note:
            text += f" ({self._note})"
        if self._evaluated_step is not None:
            text += f", weights of step {self._evaluated_step:,}"
            if self._step is not None and self._step != self._evaluated_step:
                # first, so that a narrow dock's elided line still says it
                text = "training has moved on: Refresh to update. " + text
        self.status_label.setText(text)

    def __repr__(self):
        return f"EvaluatePanel(evaluation={self.evaluation!r}, selected={self.selected})"
