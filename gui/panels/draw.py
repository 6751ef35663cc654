"""Draw panel: draw a digit with the mouse (or a tablet) and watch the network read it, live.

Left: a sheet of paper (280×280 paper pixels, shown as large as the dock allows) with a round pen,
a pen-size slider, Clear and "I meant" (which digit the person drew, if they want to say). Right: the
drawing as the network sees it (prepared like an MNIST digit by core.preprocess) and its 10 outputs
as bars, the answer in orange. The prediction follows both the pen and training: every snapshot
brings new weights and the same drawing is read again. Only a digit the person named can make the
answer right or wrong.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PyQt6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider,
                             QVBoxLayout, QWidget)

from core.control import DrawProbe
from core.costs import get_cost
from core.preprocess import SIDE, prepare_drawing
from core.snapshot import Snapshot
from gui import theme
from gui.fit_text import ElidedLabel, NarrowTitle, narrow_title, set_title
from gui.panels.base import Panel

CANVAS = 280              # canvas side in pixels, 10× the MNIST field
PEN_SIZES = (6, 48, 22)   # slider minimum, maximum, default (pixels of the 280 canvas)
OTHER = (170, 170, 170)   # bars other than the answer
MIN_CANVAS = 110          # the paper's smallest side on screen, in pixels
HOW = ("Like every MNIST digit, the drawing is cropped to its ink, scaled so that its longer side is 20 "
       "pixels, and placed in a 28×28 square with its centre of mass in the middle.")


class DrawingCanvas(QWidget):
    """White paper, black ink, a round pen. ``changed`` fires after every stroke segment and on clear.

    The paper is ``side``×``side`` paper pixels whatever the widget's size: it is shown as the largest
    square that fits, and the pointer's position is mapped onto it (``to_paper``, ``to_widget``)."""

    changed = pyqtSignal()

    def __init__(self, side: int = CANVAS, parent=None):
        super().__init__(parent)
        self.pen_size = PEN_SIZES[2]
        self._paper = QImage(side, side, QImage.Format.Format_Grayscale8)
        self._paper.fill(Qt.GlobalColor.white)
        self._last = None
        self.setMinimumSize(MIN_CANVAS, MIN_CANVAS)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setSizePolicy(policy)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)

    # --- painting ---------------------------------------------------------------------------
    def draw_stroke(self, points, width: float | None = None) -> None:
        """Paint a polyline through ``points`` [(x, y), ...] in canvas pixels; one point is a dot."""
        points = [QPointF(float(x), float(y)) for x, y in points]
        if not points:
            return
        painter = QPainter(self._paper)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("black"), float(width or self.pen_size))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        if len(points) == 1:
            painter.drawPoint(points[0])
        else:
            painter.drawPolyline(points)
        painter.end()
        self.update()
        self.changed.emit()

    def clear(self) -> None:
        self._paper.fill(Qt.GlobalColor.white)
        self.update()
        self.changed.emit()

    def ink(self) -> np.ndarray:
        """The drawing as float32 ink (side, side): 0 paper, 1 black."""
        image = self._paper
        bits = image.constBits()
        bits.setsize(image.sizeInBytes())
        grey = np.frombuffer(bits, np.uint8).reshape(image.height(), image.bytesPerLine())[:, :image.width()]
        return 1.0 - grey.astype(np.float32) / 255.0

    def is_empty(self) -> bool:
        return not self.ink().any()

    # --- where the paper is on screen -------------------------------------------------------
    def paper_rect(self) -> QRectF:
        """The paper on the widget: the largest centred square (widget pixels)."""
        side = float(min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def to_paper(self, position) -> QPointF:
        """A widget position (QPointF) in paper pixels."""
        rect = self.paper_rect()
        scale = self._paper.width() / max(rect.width(), 1.0)
        return QPointF((position.x() - rect.left()) * scale, (position.y() - rect.top()) * scale)

    def to_widget(self, x: float, y: float) -> QPointF:
        """Paper pixels (x, y) as a widget position: where the pointer must be to draw there."""
        rect = self.paper_rect()
        scale = rect.width() / self._paper.width()
        return QPointF(rect.left() + x * scale, rect.top() + y * scale)

    def sizeHint(self):
        return QSize(self._paper.width(), self._paper.height())

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = self.paper_rect()
        painter.drawImage(rect, self._paper)
        painter.setPen(QPen(QColor(160, 160, 160)))
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.end()

    # --- mouse and tablet -------------------------------------------------------------------
    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = self.to_paper(event.position())
            self.draw_stroke([(self._last.x(), self._last.y())])

    def mouseMoveEvent(self, event):
        if self._last is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._segment_to(event.position(), self.pen_size)

    def mouseReleaseEvent(self, event):
        self._last = None

    def tabletEvent(self, event):
        """A stylus draws like the mouse, its line a little thinner or thicker with pressure."""
        kind = event.type()
        width = self.pen_size * (0.5 + event.pressure())
        if kind == event.Type.TabletPress:
            self._last = self.to_paper(event.position())
            self.draw_stroke([(self._last.x(), self._last.y())], width)
        elif kind == event.Type.TabletMove and self._last is not None:
            self._segment_to(event.position(), width)
        elif kind == event.Type.TabletRelease:
            self._last = None
        event.accept()

    def _segment_to(self, position, width) -> None:
        """A line from the last point to widget ``position``."""
        position = self.to_paper(position)
        start, self._last = self._last, position
        self.draw_stroke([(start.x(), start.y()), (position.x(), position.y())], width)

    def __repr__(self):
        return f"DrawingCanvas({self.width()}x{self.height()}, pen={self.pen_size})"


class DrawPanel(Panel):
    """Draw a digit and see the current network's answer.

    ``digit_drawn(image)`` fires after every stroke with the prepared (784,) float32 image;
    ``cleared()`` fires when the paper is wiped; ``label_chosen(label)`` when the person says which
    digit they meant (an int 0–9, or None for "?"). Wiping the paper forgets the label.
    """

    title = "Draw"
    area = "right"
    tab_with = "Weights"
    workspaces = ("Evaluate",)
    help = ('Draw a digit with the mouse: it is prepared the way MNIST digits were (cropped, scaled to 20 '
            "px, centred by mass) and the network's answer updates as you draw.")
    digit_drawn = pyqtSignal(object)
    cleared = pyqtSignal()
    label_chosen = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.canvas.setToolTip(HOW)
        self.image = np.zeros(SIDE * SIDE, np.float32)   # the prepared drawing
        self.output = None                                # the network's 10 outputs for it
        self._snapshot = None                             # the latest snapshot (its probe is the drawing)
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setMinimumSize(120, 100)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(self._build_answer())
        middle = QHBoxLayout()
        middle.addWidget(self.canvas, 1)
        middle.addWidget(self._graphics, 1)
        layout.addLayout(middle, 1)
        layout.addLayout(self._build_controls())
        self._how = QLabel(HOW)
        self._how.setWordWrap(True)
        self._how.setStyleSheet("color: #666;")
        layout.addWidget(self._how)
        self._build_prepared()
        self._build_bars()
        self.canvas.changed.connect(self._on_drawing_changed)
        self._show_answer()

    # --- building -----------------------------------------------------------------------------
    def _build_answer(self) -> QHBoxLayout:
        """The answer in large type, then what it was read with (both one line, elided)."""
        row = QHBoxLayout()
        font = QFont()
        font.setPointSize(13)
        font.setBold(True)
        self._answer = ElidedLabel("")
        self._answer.setFont(font)
        self._answer_detail = ElidedLabel("")
        row.addWidget(self._answer, 3)
        row.addWidget(self._answer_detail, 2)
        return row

    def _build_controls(self) -> QHBoxLayout:
        """Pen size, Clear, and which digit the person meant."""
        row = QHBoxLayout()
        row.addWidget(QLabel("Pen"))
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setRange(PEN_SIZES[0], PEN_SIZES[1])
        self.pen_slider.setValue(PEN_SIZES[2])
        self.pen_slider.setMinimumWidth(40)
        self.pen_slider.valueChanged.connect(self._on_pen_size_changed)
        row.addWidget(self.pen_slider, 1)
        self.pen_label = QLabel(f"{PEN_SIZES[2]} px")
        # as wide as the widest value, so moving the slider never re-lays out the row
        self.pen_label.setFixedWidth(self.pen_label.fontMetrics().horizontalAdvance(f"{PEN_SIZES[1]} px") + 4)
        row.addWidget(self.pen_label)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        row.addWidget(self.clear_button)
        row.addWidget(QLabel("I meant"))
        self.meant_box = QComboBox(objectName="meant")
        self.meant_box.addItem("?", None)
        for k in range(10):
            self.meant_box.addItem(str(k), k)
        self.meant_box.setToolTip("Which digit you drew. Only then can the network's answer be right or "
                                  "wrong, and the Backprop panel's δ aims at that digit.")
        self.meant_box.currentIndexChanged.connect(self._on_meant_changed)
        row.addWidget(self.meant_box)
        return row

    def _build_prepared(self) -> None:
        seen = NarrowTitle("What the network sees (28×28)", size=theme.TITLE_SIZE)
        seen.setToolTip(HOW)
        self._graphics.addItem(seen)
        self._graphics.nextRow()
        box = self._graphics.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self._prepared = pg.ImageItem(np.zeros((SIDE, SIDE), np.float32), axisOrder="row-major",
                                      levels=(0.0, 1.0))
        self._prepared.setColorMap(theme.grey_cmap())
        box.addItem(self._prepared)
        frame = pg.QtWidgets.QGraphicsRectItem(0, 0, SIDE, SIDE)
        frame.setPen(pg.mkPen(160, 160, 160, width=1, cosmetic=True))
        box.addItem(frame)
        box.setRange(xRange=(0, SIDE), yRange=(0, SIDE), padding=0.03)
        self._graphics.nextRow()

    def _build_bars(self) -> None:
        plot = self._bar_plot = self._graphics.addPlot()
        narrow_title(plot)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.getAxis("bottom").setTicks([[(k, str(k)) for k in range(10)], []])
        plot.setXRange(-0.6, 9.6, padding=0)
        plot.setYRange(0, 1.15, padding=0)
        self._bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.8, pen=None, brush=OTHER)
        plot.addItem(self._bars)
        font = QFont()
        font.setPointSize(8)
        self._values = []
        for k in range(10):
            text = pg.TextItem("", color=(60, 60, 60), anchor=(0.5, 1))
            text.setFont(font)
            text.setPos(k, 0)
            plot.addItem(text)
            self._values.append(text)
        self._graphics.ci.layout.setRowStretchFactor(1, 3)
        self._graphics.ci.layout.setRowStretchFactor(2, 2)

    # --- drawing ------------------------------------------------------------------------------
    def draw_stroke(self, points, width: float | None = None) -> None:
        """Paint a polyline [(x, y), ...] in canvas pixels (0–280), as a mouse stroke would."""
        self.canvas.draw_stroke(points, width)

    def clear(self) -> None:
        """Wipe the paper (and forget which digit was meant)."""
        self.meant_box.setCurrentIndex(0)
        self.canvas.clear()

    @property
    def meant(self) -> int | None:
        """The digit the person said they drew, or None."""
        return self.meant_box.currentData()

    def choose_label(self, label: int | None) -> None:
        """Say which digit the drawing is (None: nobody says), as the "I meant" choice does."""
        self.meant_box.setCurrentIndex(0 if label is None else int(label) + 1)

    def _on_meant_changed(self, _index) -> None:
        self.label_chosen.emit(self.meant)
        self._show_answer()

    def _on_pen_size_changed(self, value: int) -> None:
        self.canvas.pen_size = value
        self.pen_label.setText(f"{value} px")

    def _on_drawing_changed(self) -> None:
        self.image = prepare_drawing(self.canvas.ink())
        self._prepared.setImage(self.image.reshape(SIDE, SIDE), autoLevels=False, levels=(0.0, 1.0))
        if self.image.any():
            self.digit_drawn.emit(self.image)
        else:
            self.cleared.emit()
        self._predict()

    def attach(self, view, training) -> None:
        """The drawing becomes the worker's probe: its answer comes back in the next snapshot, so
        no network runs on the GUI thread, and every panel that shows the probe shows the drawing."""
        super().attach(view, training)
        self.digit_drawn.connect(lambda image: (training.request(DrawProbe(image, self.meant)),
                                                view.set_drawing(image)))
        self.cleared.connect(lambda: (training.request(DrawProbe(None)), view.set_drawing(None)))
        # the worker's δ then aims at the digit meant, and snapshot.probe_label_known turns True
        self.label_chosen.connect(lambda label: training.request(DrawProbe(self.image, label))
                                  if self.image.any() else None)

    # --- the network's answer -----------------------------------------------------------------
    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Read the network's answer for the drawing from the snapshot's probe (computed by the worker)."""
        self._snapshot = snapshot
        self._predict()

    def _predict(self) -> None:
        snap = self._snapshot
        drawn = snap is not None and snap.probe_index == -1 and self.image.any()
        if drawn and np.array_equal(np.asarray(snap.probe_a[0], dtype=np.float32), self.image):
            self.output = np.asarray(snap.probe_a[-1])
        elif not drawn:
            self.output = None   # else keep the answer shown until the worker has read the new stroke
        self._show_output()
        self._show_answer()

    def _show_output(self) -> None:
        out = np.zeros(10) if self.output is None else np.asarray(self.output, dtype=np.float64)
        heights = np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)
        top = self._top()
        self._bars.setOpts(height=heights, brushes=[pg.mkBrush(theme.ACCENT if k == top else OTHER)
                                                    for k in range(len(out))])
        # a narrow chart has room for the answer's number only
        crowded = self._bar_plot.getViewBox().width() < 25 * len(out)
        for k, (text, value) in enumerate(zip(self._values, out)):
            shown = self.output is not None and not value < 0.005 and (k == top or not crowded)
            text.setText(self._format(value) if shown else "")
            text.setPos(k, float(heights[k]))
        title = f"Output ({self._output_kind()}), answer in orange"
        if title != self._bar_plot.titleLabel.text:   # a new title re-lays out the plot: only on change
            set_title(self._bar_plot, title, theme.TITLE_SIZE)

    def _top(self) -> int:
        if self.output is None or not np.isfinite(self.output).any():
            return -1
        return int(np.argmax(np.where(np.isfinite(self.output), self.output, -np.inf)))

    def _probabilities(self) -> bool:
        """Whether the network's outputs are probabilities (its output/cost pair says)."""
        return self._snapshot is None or get_cost(self._snapshot.config["cost"]).probabilities

    def _output_kind(self) -> str:
        """The outputs as the title names them: the pair's output name, and 'probability' when they are."""
        if self._snapshot is None:
            return "probability"
        pair = get_cost(self._snapshot.config["cost"])
        return f"{pair.output_name} probability" if pair.probabilities else pair.output_name

    def _format(self, value: float) -> str:
        """A probability as a percentage, any other output as a value."""
        if not np.isfinite(value):
            return "?"
        return f"{100 * value:.0f}%" if self._probabilities() else f"{value:.2f}"

    def _show_answer(self) -> None:
        top = self._top()
        detail = ""
        if self._snapshot is None:
            text = "Waiting for the network…"
        elif not self.image.any():
            text = "Draw a digit with the mouse"
        elif top < 0:
            text = "No answer (the outputs are not numbers)"
        else:
            text = f"It reads: {top}  ({self._format(self.output[top])})"
            meant = self.meant
            if meant is not None:   # only a digit the person named can make the answer right or wrong
                text += "  ✓ right" if meant == top else f"  ✗ you meant {meant}"
            detail = f"weights of step {self._snapshot.step:,} (epoch {self._snapshot.epoch})"
        self._answer.setText(text)
        self._answer_detail.setText(detail)
        self._answer.setStyleSheet(self._verdict_style(top))

    def _verdict_style(self, top: int) -> str:
        meant = self.meant
        if meant is None or top < 0 or self.output is None or not self.image.any():
            return ""
        return "color: rgb(40, 140, 60);" if meant == top else "color: rgb(200, 40, 40);"

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._how.setVisible(self.height() >= 430)   # the tooltips say it in a small dock
        self._show_output()

    # --- read-only views, for tests and exporters ---------------------------------------------
    @property
    def answer_text(self) -> str:
        """The answer line as shown (unelided): "It reads: 3 (97%)", with the verdict when a digit was meant."""
        return self._answer.text()

    @property
    def prepared_image(self) -> np.ndarray:
        """The 28×28 image shown as what the network sees."""
        return self._prepared.image

    def bar_heights(self) -> np.ndarray:
        """The output bars' heights, as drawn."""
        return np.asarray(self._bars.opts["height"], dtype=np.float64)

    def bar_colours(self) -> list:
        """The (r, g, b) of each output bar: the answer in theme.ACCENT."""
        return [b.color().getRgb()[:3] for b in self._bars.opts["brushes"]]

    def value_texts(self) -> list:
        """The numbers written above the output bars."""
        return [t.toPlainText() for t in self._values]

    @property
    def output_title(self) -> str:
        """The output chart's title (unelided)."""
        return self._bar_plot.titleLabel.text

    def __repr__(self):
        return f"DrawPanel(drawn={bool(self.image.any())}, output={self.output is not None})"
