"""Pieces the Why panels share: which digit is explained, the knock-out choice, pictures of 784
values, clickable neuron tiles and digit maps overlaid with a diverging colour scale."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QObject, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QSpinBox, QToolButton, QWidget

from gui import theme
from gui.jobs import LatestJob
from gui.widgets import TILE, finite_for_display, set_bar_levels

PROBE, DRAWN, TEST = "The probe digit", "The drawn digit", "Test digit #"


# --- which digit -----------------------------------------------------------------------------------
class DigitChoice(QWidget):
    """A choice of digit to explain: the probe (the snapshot's), the drawn one, or a test digit by
    number. ``changed()`` when the choice changes."""

    changed = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kind = QComboBox()
        self.kind.addItems([PROBE, DRAWN, TEST])
        self.kind.setToolTip("Which digit to explain: the probe digit the other panels show, the digit "
                             "drawn in the Draw panel, or any test digit by its number")
        self.index = QSpinBox()
        self.index.setRange(0, 0)
        self.index.setToolTip("The test digit's number")
        self.index.setEnabled(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.kind, 1)
        row.addWidget(self.index)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.index.valueChanged.connect(lambda _: self.changed.emit())

    def _kind_changed(self, _):
        self.index.setEnabled(self.kind.currentText() == TEST)
        self.changed.emit()

    def set_test_count(self, n: int):
        self.index.setRange(0, max(0, n - 1))

    def choose(self, kind: str, index: int | None = None):
        if index is not None:
            self.index.setMaximum(max(self.index.maximum(), int(index)))   # the range may not be known yet
            self.index.setValue(int(index))
        self.kind.setCurrentText(kind)

    def resolve(self, view, training, shown) -> tuple:
        """(snapshot, test set, image, label, words): the network a panel explains (``shown``, else
        what the window shows) and the chosen digit under it (image None, words saying why not)."""
        snapshot = shown or view.shown(True)
        data = getattr(training, "data", None)
        test = data.test if data is not None else None
        if test is not None:
            self.set_test_count(len(test.labels))
        return (snapshot, test, *self.digit(snapshot, view.drawing, test))

    def digit(self, snapshot, drawing, test) -> tuple:
        """(image (784,), label or -1, words) for the chosen digit, or (None, -1, why not)."""
        kind = self.kind.currentText()
        if kind == PROBE:
            if snapshot is None:
                return None, -1, "no network yet"
            label = snapshot.probe_label if snapshot.probe_label_known else -1
            what = f"test #{snapshot.probe_index}" if snapshot.probe_index >= 0 else "the drawn probe"
            return np.asarray(snapshot.probe_a[0], np.float64), label, f"probe ({what})"
        if kind == DRAWN:
            if drawing is None:
                return None, -1, "nothing drawn: draw a digit in the Draw panel (Evaluate workspace)"
            return np.asarray(drawing, np.float64).reshape(-1), -1, "the drawn digit"
        if test is None:
            return None, -1, "the test set is not loaded yet"
        i = min(self.index.value(), len(test.labels) - 1)
        return np.asarray(test.images[i], np.float64), int(test.labels[i]), f"test #{i}"


# --- what a job is sent ------------------------------------------------------------------------------
def for_job(snapshot):
    """``snapshot`` without what no Why job reads (the last step's gradients, the next batch's trace,
    the cost points, the test history): a quarter to a half of its bytes, pickled to the analysis
    process several times a second while training runs. Weights, probe, config and knock-outs stay."""
    return replace(snapshot, next_batch=None, dW=(), db=(), grad_neuron_norms=(), cost_steps=_EMPTY,
                   cost_values=_EMPTY, accuracy_values=_EMPTY, grad_norm_values=_EMPTY.reshape(0, 0),
                   epochs=(), test_checks=())


_EMPTY = np.zeros(0)


# --- asking for work only when seen --------------------------------------------------------------
class RefreshWhenSeen:
    """A mix-in for Panels whose ``request_job()`` asks the analysis process for something: a
    ``refresh()`` while the panel is not on screen (another workspace, a tab behind) is kept and
    made when it is shown, so hidden panels cost nothing."""

    _refresh_due = False

    def refresh(self, *args, **kwargs) -> None:
        if not self.on_screen():
            self._refresh_due = True
            return
        self._refresh_due = False
        self.request_job(*args, **kwargs)

    def catch_up(self) -> None:
        super().catch_up()
        if self._refresh_due and self.on_screen():
            self.refresh()

    # --- recorded as an animation (gui.animation): each frame waits for its own answer ---------
    _exporting = False
    _live_intervals: list = []      # each job's min_interval, kept while an animation is recorded

    @property
    def busy_drawing(self) -> bool:
        """A job was asked for and has not answered yet (an animation's frame waits for it)."""
        return any(job.busy for job in self.findChildren(LatestJob))

    @property
    def exporting(self) -> bool:
        return self._exporting

    @exporting.setter
    def exporting(self, on: bool) -> None:
        """While an animation is recorded every frame's job runs at once, not at the live pace."""
        if bool(on) == self._exporting:
            return
        self._exporting = bool(on)
        jobs = self.findChildren(LatestJob)
        if on:
            self._live_intervals = [job.min_interval for job in jobs]
        for job, live in zip(jobs, self._live_intervals):
            job.min_interval = 0.0 if on else live


# --- the knock-out choice, shared by the Why panels of one window -------------------------------
class Knockouts(QObject):
    """The hidden neurons the person silenced, as (l, j) pairs, and whether training also runs
    without them. One per ViewState (``knockouts_of``); ``changed()`` after every change."""

    changed = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pairs: tuple = ()
        self.in_training = False

    def set(self, pairs, in_training: bool | None = None):
        pairs = tuple(sorted({(int(l), int(j)) for l, j in pairs}))
        in_training = self.in_training if in_training is None else bool(in_training)
        if pairs != self.pairs or in_training != self.in_training:
            self.pairs, self.in_training = pairs, in_training
            self.changed.emit()

    def toggle(self, l: int, j: int):
        pair = (int(l), int(j))
        self.set(tuple(p for p in self.pairs if p != pair) if pair in self.pairs else (*self.pairs, pair))

    def in_layer(self, l: int) -> tuple:
        return tuple(j for k, j in self.pairs if k == l)


def knockouts_of(view) -> Knockouts:
    """The window's one Knockouts (made on first use, a child of the ViewState)."""
    found = view.findChild(Knockouts)
    return found if found is not None else Knockouts(view)


# --- pictures --------------------------------------------------------------------------------------
_DIVERGING = theme.diverging_cmap()
_GREY = theme.grey_cmap()
# 256-entry tables: indexing one is ~100× faster than ColorMap.map's interpolation per value
_DIVERGING_LUT = _DIVERGING.getLookupTable(nPts=256, mode="byte", alpha=True)
_GREY_LUT = _GREY.getLookupTable(nPts=256, mode="byte", alpha=True)


def signed_lut_rgba(values, level: float) -> np.ndarray:
    """RGBA bytes (…, 4) of ``values`` (any shape) on the diverging scale ±level."""
    u = np.clip(finite_for_display(np.asarray(values, np.float64), level) / level, -1, 1)
    return _DIVERGING_LUT[np.rint((u + 1) * 127.5).astype(np.uint8)]


def signed_rgba(values, level: float | None = None) -> np.ndarray:
    """(28, 28, 4) bytes of ``values`` on the diverging scale ±level (its own 99% level by default)."""
    v = np.asarray(values, np.float64).reshape(TILE, TILE)
    return signed_lut_rgba(v, level or theme.symmetric_level(v))


def digit_rgba(values) -> np.ndarray:
    """(28, 28, 4) bytes of a digit, white paper and black ink."""
    u = np.clip(np.nan_to_num(np.asarray(values, np.float64).reshape(TILE, TILE)), 0, 1)
    return _GREY_LUT[np.rint(u * 255).astype(np.uint8)]


def to_pixmap(rgba: np.ndarray, side: int) -> QPixmap:
    """A ``side`` px square pixmap of an (h, w, 4) byte image, pixels kept square and sharp."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = rgba.shape[:2]
    image = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    return QPixmap.fromImage(image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.FastTransformation))


def crossed(pixmap: QPixmap) -> QPixmap:
    """``pixmap`` faded with a red cross over it: a silenced neuron."""
    out = QPixmap(pixmap)
    painter = QPainter(out)
    painter.fillRect(out.rect(), QColor(255, 255, 255, 150))
    pen = painter.pen()
    pen.setColor(QColor(200, 0, 0))
    pen.setWidth(max(2, out.width() // 14))
    painter.setPen(pen)
    painter.drawLine(2, 2, out.width() - 3, out.height() - 3)
    painter.drawLine(out.width() - 3, 2, 2, out.height() - 3)
    painter.end()
    return out


class NeuronTile(QToolButton):
    """A neuron's picture over a short text; ``picked(l, j)`` when clicked."""

    picked = pyqtSignal(int, int)

    def __init__(self, side: int = 40, parent=None):
        super().__init__(parent)
        self.side = side
        self.neuron = None
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.setIconSize(QSize(side, side))
        self.setAutoRaise(True)
        self.clicked.connect(self._clicked)

    def show_neuron(self, l: int, j: int, image, text: str, tip: str):
        self.neuron = (int(l), int(j))
        self.setIcon(QIcon(to_pixmap(signed_rgba(image), self.side)))
        self.setText(text)
        self.setToolTip(tip)
        self.show()

    def _clicked(self):
        if self.neuron is not None:
            self.picked.emit(*self.neuron)


# --- a digit with a signed map over it, on a diverging scale -------------------------------------
def overlay_cmap() -> pg.ColorMap:
    """The diverging map with transparency growing from the middle: zero shows the digit beneath,
    large values of either sign cover it."""
    pos = np.linspace(0, 1, 33)
    rgba = _DIVERGING.map(pos, mode="byte").astype(np.float64)
    rgba[:, 3] = 255 * np.clip(np.abs(pos - 0.5) * 2 * 1.4, 0, 1)
    return pg.ColorMap(pos, rgba.astype(np.uint8))


class OverlayMaps(pg.GraphicsLayoutWidget):
    """A row of 28×28 signed maps, each drawn over the digit in grey, with a title above and a
    horizontal colour bar (symmetric limits ±L) below."""

    def __init__(self, titles, parent=None):
        super().__init__(parent)
        self.setMinimumSize(200, 110)
        self.ci.layout.setSpacing(2)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.titles, self.boxes, self.digits, self.maps, self.bars, self.levels = [], [], [], [], [], []
        cmap = overlay_cmap()
        for c, title in enumerate(titles):
            label = self.addLabel(title, row=0, col=c, size=theme.TITLE_SIZE)
            box = self.addViewBox(row=1, col=c, lockAspect=True, invertY=True, enableMouse=False)
            box.setMenuEnabled(False)
            digit = pg.ImageItem(axisOrder="row-major")
            digit.setLookupTable(_GREY.getLookupTable(nPts=256))
            digit.setLevels((0, 1))
            signed = pg.ImageItem(axisOrder="row-major")
            box.addItem(digit)
            box.addItem(signed)
            box.setRange(xRange=(0, TILE), yRange=(0, TILE), padding=0.02)
            bar = pg.ColorBarItem(values=(-1, 1), colorMap=cmap, interactive=False, orientation="horizontal",
                                  width=10, colorMapMenu=False)
            bar.setImageItem(signed)
            self.addItem(bar, row=2, col=c)
            self.titles.append(label)
            self.boxes.append(box)
            self.digits.append(digit)
            self.maps.append(signed)
            self.bars.append(bar)
            self.levels.append(1.0)

    def show_maps(self, digit, maps, titles=None):
        """Draw ``digit`` under each of ``maps`` ((784,) each), each on its own ±L (its 99% level)."""
        picture = np.asarray(digit, np.float64).reshape(TILE, TILE)
        for k, values in enumerate(maps):
            level = self.levels[k] = theme.symmetric_level(values)
            self.digits[k].setImage(picture, autoLevels=False, levels=(0, 1))
            self.maps[k].setImage(finite_for_display(np.asarray(values, np.float64), level).reshape(TILE, TILE),
                                  autoLevels=False, levels=(-level, level))
            set_bar_levels(self.bars[k], level)
            if titles is not None:
                self.titles[k].setText(titles[k], size=theme.TITLE_SIZE)

    def map_values(self, k: int) -> np.ndarray:
        """The values map ``k`` shows, as drawn (28, 28)."""
        return self.maps[k].image
