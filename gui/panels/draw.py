"""Draw panel: draw a digit with the mouse (or a tablet) and watch the network read it, live.

Left: a 280×280 sheet of paper with a round pen, a pen-size slider and Clear. Right: the drawing as
the network sees it (prepared like an MNIST digit by core.preprocess) and its 10 outputs as bars,
the answer in orange. The prediction follows both the pen and training: every snapshot brings
new weights and the same drawing is read again.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from core.control import DrawProbe
from core.costs import get_cost
from core.preprocess import SIDE, prepare_drawing
from core.snapshot import Snapshot
from gui import theme
from gui.panels.base import Panel

CANVAS = 280              # canvas side in pixels, 10× the MNIST field
PEN_SIZES = (6, 48, 22)   # slider minimum, maximum, default (pixels of the 280 canvas)
OTHER = (170, 170, 170)   # bars other than the answer


class DrawingCanvas(QWidget):
    """White paper, black ink, a round pen. ``changed`` fires after every stroke segment and on clear."""

    changed = pyqtSignal()

    def __init__(self, side: int = CANVAS, parent=None):
        super().__init__(parent)
        self.pen_size = PEN_SIZES[2]
        self._paper = QImage(side, side, QImage.Format.Format_Grayscale8)
        self._paper.fill(Qt.GlobalColor.white)
        self._last = None
        self.setFixedSize(side, side)
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

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.drawImage(0, 0, self._paper)
        painter.setPen(QPen(QColor(160, 160, 160)))
        painter.drawRect(0, 0, self.width() - 1, self.height() - 1)
        painter.end()

    # --- mouse and tablet -------------------------------------------------------------------
    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = event.position()
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
            self._last = event.position()
            self.draw_stroke([(self._last.x(), self._last.y())], width)
        elif kind == event.Type.TabletMove and self._last is not None:
            self._segment_to(event.position(), width)
        elif kind == event.Type.TabletRelease:
            self._last = None
        event.accept()

    def _segment_to(self, position, width) -> None:
        start, self._last = self._last, position
        self.draw_stroke([(start.x(), start.y()), (position.x(), position.y())], width)

    def __repr__(self):
        return f"DrawingCanvas({self.width()}x{self.height()}, pen={self.pen_size})"


class DrawPanel(Panel):
    """Draw a digit and see the current network's answer.

    ``digit_drawn(image)`` fires after every stroke with the prepared (784,) float32 image;
    ``cleared()`` fires when the paper is wiped.
    """

    title = "Draw"
    area = "right"
    tab_with = "Weights"
    workspaces = ("Evaluate",)
    help = ('Draw a digit with the mouse: it is prepared the way MNIST digits were (cropped, scaled to 20 '
            "px, centred by mass) and the network's answer updates as you draw.")
    digit_drawn = pyqtSignal(object)
    cleared = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.image = np.zeros(SIDE * SIDE, np.float32)   # the prepared drawing
        self.output = None                                # the network's 10 outputs for it
        self._snapshot = None                             # the latest snapshot (its probe is the drawing)
        self._answer = QLabel("")
        self._graphics = pg.GraphicsLayoutWidget()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._build_left())
        layout.addWidget(self._graphics, 1)
        self._build_prepared()
        self._build_bars()
        self.canvas.changed.connect(self._on_drawing_changed)
        self._show_answer()

    # --- building -----------------------------------------------------------------------------
    def _build_left(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.addWidget(QLabel("Draw a digit:"))
        column.addWidget(self.canvas)
        row = QHBoxLayout()
        row.addWidget(QLabel("Pen"))
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setRange(PEN_SIZES[0], PEN_SIZES[1])
        self.pen_slider.setValue(PEN_SIZES[2])
        self.pen_slider.valueChanged.connect(self._on_pen_size_changed)
        row.addWidget(self.pen_slider, 1)
        self.pen_label = QLabel(f"{PEN_SIZES[2]} px")
        row.addWidget(self.pen_label)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        row.addWidget(self.clear_button)
        column.addLayout(row)
        font = QFont()
        font.setPointSize(14)
        font.setBold(True)
        self._answer.setFont(font)
        self._answer_detail = QLabel("")
        for label in (self._answer, self._answer_detail):
            # A fixed size: new text every frame must not make the whole window lay itself out again.
            label.setFixedSize(CANVAS, QFontMetrics(label.font()).height() + 4)
            column.addWidget(label)
        how = QLabel("Like every MNIST digit, the drawing is cropped to its ink, scaled so that its "
                     "longer side is 20 pixels, and placed in a 28×28 square with its centre of mass "
                     "in the middle.")
        how.setWordWrap(True)
        how.setMaximumWidth(CANVAS)
        how.setStyleSheet("color: #666;")
        column.addWidget(how)
        column.addStretch(1)
        return column

    def _build_prepared(self) -> None:
        self._graphics.addLabel("What the network sees (28×28, centred like MNIST)", size=theme.TITLE_SIZE)
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
        self.canvas.clear()

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
        self.digit_drawn.connect(lambda image: (training.request(DrawProbe(image)), view.set_drawing(image)))
        self.cleared.connect(lambda: (training.request(DrawProbe(None)), view.set_drawing(None)))

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
        for k, (text, value) in enumerate(zip(self._values, out)):
            text.setText(self._format(value) if self.output is not None and not value < 0.005 else "")
            text.setPos(k, float(heights[k]))
        self._bar_plot.setTitle(f"Output ({self._output_kind()}), answer in orange", size=theme.TITLE_SIZE)

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
            if self._snapshot is not None:
                detail = f"weights of step {self._snapshot.step:,} (epoch {self._snapshot.epoch})"
        self._answer.setText(text)
        self._answer_detail.setText(detail)

    def __repr__(self):
        return f"DrawPanel(drawn={bool(self.image.any())}, output={self.output is not None})"
