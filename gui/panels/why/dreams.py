"""Class dreams: for each digit, the picture the network finds most like it."""
from __future__ import annotations

import math

import numpy as np
from PyQt6.QtCore import QRect, QSize, Qt
from PyQt6.QtGui import QImage, QPainter
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from core.explain import Dreams, dreams_job
from core.snapshot import Snapshot
from gui.fit_text import ElidedLabel
from gui.jobs import LatestJob
from gui.panels.base import Panel
from gui.panels.why.common import RefreshWhenSeen, digit_rgba, for_job, knockouts_of
from gui.widgets import TILE

STARTS = {"from a blank page": "blank", "from the mean digit": "mean"}


class DreamStrip(QWidget):
    """Pictures with a caption under each, as large as fit in one or more rows; each picture's
    shading is stretched so its darkest pixel is black (a dream's ink can be faint)."""

    CAPTION = 16

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items = []   # (image (784,), caption)
        self.setMinimumSize(200, 40)

    def set_items(self, items):
        self.items = list(items)
        self.update()

    def layout_of(self) -> tuple:
        """(columns, side) that show every picture largest."""
        n = max(len(self.items), 1)
        w, h = max(self.width(), 1), max(self.height(), 1)

        def side(cols):
            rows = math.ceil(n / cols)
            return min(w / cols - 4, h / rows - self.CAPTION - 4)
        cols = max(range(1, n + 1), key=side)
        return cols, max(4, int(side(cols)))

    def paintEvent(self, event):
        if not self.items:
            return
        painter = QPainter(self)
        cols, side = self.layout_of()
        cell_w = self.width() / cols
        for k, (image, caption) in enumerate(self.items):
            r, c = divmod(k, cols)
            x = int(c * cell_w + (cell_w - side) / 2)
            y = int(r * (side + self.CAPTION + 4))
            image = np.asarray(image, np.float64)
            rgba = np.ascontiguousarray(digit_rgba(image / max(float(image.max()), 1e-6)))   # darkest pixel black
            painter.drawImage(QRect(x, y, side, side), QImage(rgba.data, TILE, TILE, 4 * TILE,
                                                              QImage.Format.Format_RGBA8888))
            painter.drawText(QRect(int(c * cell_w), y + side, int(cell_w), self.CAPTION),
                             Qt.AlignmentFlag.AlignCenter, caption)
        painter.end()


class DreamsPanel(RefreshWhenSeen, Panel):
    """Ten class dreams of the network shown, refreshed as it trains, and a hidden neuron's dream."""

    title = "Dreams"
    area = "bottom"
    follows_past = True
    workspaces = ("Why",)
    help = ('Class dreams: for each digit, a picture the network finds most like it, found by gradient '
            'ascent on the pixels (the same backward pass, taken down to the input) from a blank page or the '
            'mean digit, with a small penalty for wild, speckled pixels. They change as the network trains; '
            'the Timeline shows earlier ones. "Dream the selected neuron" does the same for the hidden neuron '
            'selected anywhere in the window.')

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result: Dreams | None = None
        self.neuron_result: Dreams | None = None
        self.shown_snapshot: Snapshot | None = None
        self._job = self._neuron_job = None
        self._training = None
        self._generation = self._neuron_generation = 0
        self.start = QComboBox()
        self.start.addItems(list(STARTS))
        self.start.setToolTip("Where the gradient ascent starts")
        self.neuron_button = QPushButton("Dream the selected neuron")
        self.neuron_button.setToolTip("A picture that drives the neuron selected in the window (click a weight "
                                      "tile, a node or a neuron below) as high as it goes")
        self.summary = ElidedLabel("Waiting for the network…")
        explain = ElidedLabel("What each digit looks like to the network: ink where it raises the digit's "
                              "probability (shading stretched to each picture's darkest pixel).")
        self.strip = DreamStrip()
        self.neuron_strip = DreamStrip()
        self.neuron_strip.setMinimumSize(60, 40)
        self.neuron_strip.setMaximumWidth(160)
        self.neuron_strip.hide()
        top = QHBoxLayout()
        top.addWidget(self.start)
        top.addWidget(self.summary, 1)
        top.addWidget(self.neuron_button)
        row = QHBoxLayout()
        row.addWidget(self.strip, 1)
        row.addWidget(self.neuron_strip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(explain)
        layout.addLayout(row, 1)
        self.start.currentIndexChanged.connect(lambda _: self.refresh())

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 150)

    @property
    def start_kind(self) -> str:
        return STARTS[self.start.currentText()]

    def attach(self, view, training) -> None:
        super().attach(view, training)
        self._training = training
        self._job = LatestJob(dreams_job, self, min_interval=1.0, name="dreams")
        self._job.done.connect(self._on_done)
        self._job.failed.connect(self.summary.setText)
        self._neuron_job = LatestJob(dreams_job, self, name="neuron dream")
        self._neuron_job.done.connect(self._on_neuron_done)
        self._neuron_job.failed.connect(self.summary.setText)
        self.neuron_button.clicked.connect(self.dream_neuron)
        knockouts_of(view).changed.connect(self.refresh)
        training.data_loaded.connect(lambda _: self.refresh())

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.shown_snapshot = snapshot
        self.refresh()

    def _data(self):
        data = getattr(self._training, "data", None)
        return data.test if data is not None else None

    def request_job(self):
        snapshot = self.shown_snapshot
        if snapshot is None or self._job is None:
            return
        test = self._data()
        if self.start_kind == "mean" and test is None:
            self.summary.setText("the mean digit needs the test set, not loaded yet")
            return
        self._generation += 1
        self._asked = snapshot
        self._job.request(for_job(snapshot), test, self.start_kind, None, None, knockouts_of(self.view).pairs,
                          tag=self._generation)

    def dream_neuron(self):
        """The dream of the neuron selected in the window (a hidden one; an output neuron is its digit's)."""
        snapshot = self.shown_snapshot
        neuron = self.view.neuron if self.view is not None else None
        if snapshot is None or self._neuron_job is None:
            return
        if neuron is None:
            self.summary.setText("No neuron selected: click a weight tile, a node, or a neuron in the Why panels.")
            return
        l, j = neuron
        if not (0 <= l < len(snapshot.W) and 0 <= j < snapshot.W[l].shape[0]):
            self.summary.setText(f"Neuron {j} of layer {l + 1} is not in this network.")
            return
        self._neuron_generation += 1
        self._neuron_job.request(for_job(snapshot), self._data(), self.start_kind, l, (j,),
                                 knockouts_of(self.view).pairs,
                                 tag=self._neuron_generation)

    def _on_done(self, result: Dreams, tag):
        if tag == self._generation:
            self.show_result(result, self._asked)

    def _on_neuron_done(self, result: Dreams, tag):
        if tag == self._neuron_generation:
            self.show_neuron(result)

    def show_result(self, d: Dreams, snapshot: Snapshot | None = None):
        self.result = d
        self.strip.set_items([(image, f"{k}: {100 * p:.0f}%") for k, image, p in zip(d.neurons, d.images, d.scores)])
        step = f"step {snapshot.step:,}: " if snapshot is not None else ""
        self.summary.setText(f"{step}probability of its digit {100 * np.mean(d.scores):.0f}% on average "
                             f"(the start: {100 * np.mean(d.start_scores):.0f}%)")

    def show_neuron(self, d: Dreams):
        self.neuron_result = d
        j = d.neurons[0]
        self.neuron_strip.set_items([(d.images[0], f"neuron {j}: z {d.scores[0]:.1f}")])
        self.neuron_strip.setToolTip(f"Neuron {j} of layer {d.layer + 1}: z went from {d.start_scores[0]:.3g} "
                                     f"to {d.scores[0]:.3g}")
        self.neuron_strip.show()

    def shutdown(self) -> None:
        for job in (self._job, self._neuron_job):
            if job is not None:
                job.stop()
