"""The timeline panel: a slider over the weights saved during the run, to look back at any of them.

Moving the slider emits ``scrubbed`` with a "historical" Snapshot: the latest snapshot with the
saved weights in place of the live ones and the probe digit's activations recomputed for them. The
window shows it in the weight, layout and activation panels until "Live" is pressed; training
carries on meanwhile.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QPushButton, QSlider, QVBoxLayout

from core.past import QUICK_SAMPLES, past_view, quick_accuracies
from core.snapshot import Snapshot, Status
from core.timeline import Timeline
from gui import theme
from gui.jobs import LatestJob
from gui.fit_text import ElidedLabel
from gui.panels.base import Panel

# the legend's (words, short words for a small dock)
LEGEND = ((f"saved weights ({QUICK_SAMPLES} test digits)", f"{QUICK_SAMPLES} digits"),
          ("epoch ends (all test digits)", "epochs"), ("looked at (all test digits)", "looked at"),
          ("saved weights", "saved"))
COMPACT = (480, 330)     # px: below either, a short legend across the top and no axis titles


class TimelinePanel(Panel):
    """A slider over the saved weights, the test accuracy through the run, and a "Live" button.

    ``scrubbed(Snapshot)`` when the slider moves; ``live_requested()`` when "Live" is pressed.
    """

    title = "Timeline"
    area = "bottom"
    tab_with = "Gradients"
    workspaces = ("Weights",)
    help = ('Scrub back through saved weights: the panels show the network as it was, with its test '
            'accuracy, while training goes on. Live returns to now.')
    keeps_history = True    # it saves weights from every snapshot, shown or not
    scrubbed = pyqtSignal(object)
    live_requested = pyqtSignal()

    def __init__(self, parent=None, capacity: int = 200, every: int = 100):
        super().__init__(parent)
        self.timeline = Timeline(capacity, every)
        self.latest: Snapshot | None = None
        self.viewed: Snapshot | None = None     # the historical snapshot on show, None when live
        self._test = None                       # the test Dataset behind the historical accuracy
        self._accuracy: dict = {}               # step → test accuracy of the saved weights there
        self._quick: dict = {}                  # step → accuracy on the first QUICK_SAMPLES test digits
        self._wanted = None                     # the step asked for, until its snapshot is ready
        self._quick_asked: set = set()          # steps whose quick accuracy is being measured
        self._generation = 0                    # answers about an older run or test set are dropped
        self._past_job = LatestJob(past_view, self, name="timeline")
        self._past_job.done.connect(self._on_past_ready)
        self._quick_job = LatestJob(quick_accuracies, self, min_interval=0.2, name="timeline accuracy")
        self._quick_job.done.connect(self._on_quick_ready)
        self._dirty = False
        self._build()

    # --- construction ------------------------------------------------------------------------
    def _build(self):
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="timeline_slider")
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.setToolTip("Drag to look at the network as it was earlier in the run")
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.live_button = QPushButton("● Live", objectName="live_button")
        self.live_button.setToolTip("Back to the weights as they are now")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.clicked.connect(self.go_live)
        # one line, elided (all of it in the tooltip): a long line must not widen the dock
        self.label = ElidedLabel("No weights saved yet: run training.", objectName="timeline_label")
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.live_button)
        self._build_plot()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self._view, 1)
        layout.addLayout(row)
        layout.addWidget(self.label)

    def _build_plot(self):
        self._view = pg.PlotWidget()
        plot = self.plot = self._view.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "test accuracy (%)")   # no units: pyqtgraph would scale them ("x0.001")
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)   # plain step numbers, however many
        plot.setMenuEnabled(False)
        # the default spacing: a negative one (to save room) drew the swatches over each other
        self._legend = plot.addLegend(offset=(-10, -34), brush=(255, 255, 255, 210), pen=(180, 180, 180),
                                      labelTextSize="8pt")
        self._quick_curve = plot.plot(name=LEGEND[0][0], pen=pg.mkPen(theme.TRAIN, width=2))
        # epochs apart, a line between the markers would hide how fast accuracy rose in between
        self._epoch_curve = plot.plot(name=LEGEND[1][0], pen=None, symbol="o",
                                      symbolSize=8, symbolBrush=theme.TEST, symbolPen=pg.mkPen("w", width=1))
        self._seen_points = plot.plot(name=LEGEND[2][0], pen=None, symbol="d",
                                      symbolSize=9, symbolBrush=theme.ACCENT, symbolPen=pg.mkPen("k", width=0.5))
        self._saved_ticks = plot.plot(name=LEGEND[3][0], pen=None, symbol="t1", symbolSize=7,
                                      symbolBrush=(120, 120, 120), symbolPen=None)
        self._compact = False
        self._cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.ACCENT, width=2))
        self._cursor.setVisible(False)
        plot.addItem(self._cursor)
        plot.setYRange(0, 100, padding=0.02)
        plot.enableAutoRange(axis="y", enable=False)
        plot.scene().sigMouseClicked.connect(self._on_plot_clicked)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        compact = self.width() < COMPACT[0] or self.height() < COMPACT[1]
        if compact == self._compact:
            return
        self._compact = compact
        # at the bottom right, above the saved-weight ticks (a learning curve is high there by
        # then): in a small dock short names in two columns, otherwise the full names in one
        self._legend.clear()   # built afresh: renamed entries would keep their old widths
        self._legend.setColumnCount(2 if compact else 1)
        for item, (words, short) in zip((self._quick_curve, self._epoch_curve, self._seen_points,
                                         self._saved_ticks), LEGEND):
            self._legend.addItem(item, short if compact else words)
        self._legend.anchor(itemPos=(1, 1), parentPos=(1, 1), offset=(-6, -22) if compact else (-10, -34))
        for side in ("left", "bottom"):
            self.plot.getAxis(side).showLabel(not compact)

    # --- public surface ----------------------------------------------------------------------
    def legend_entries(self) -> list:
        """(sample item, words) of each legend entry as shown, for tests and exporters."""
        return [(sample, label.text) for sample, label in self._legend.items]

    def axis_titles(self) -> dict:
        """{"left": ..., "bottom": ...}: each axis title as drawn (with any scale pyqtgraph adds)."""
        return {side: self.plot.getAxis(side).labelString() for side in ("left", "bottom")}

    def accuracy_curve(self) -> tuple:
        """(steps, accuracy in %) of the saved weights' accuracy curve as drawn."""
        x, y = self._quick_curve.getOriginalDataset()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    def click_plot_at(self, step: float, accuracy: float = 50.0):
        """The widget and position where a click lands on (step, accuracy) of the plot, for tests."""
        scene = self.plot.getViewBox().mapViewToScene(pg.Point(step, accuracy))
        return self._view.viewport(), self._view.mapFromScene(scene)

    def attach(self, view, training) -> None:
        super().attach(view, training)
        self.scrubbed.connect(view.set_past)
        self.live_requested.connect(lambda: view.set_past(None))
        training.data_loaded.connect(lambda data: self.set_test_set(data.test))

    @property
    def live(self) -> bool:
        """True while the window shows the live weights (no saved weights selected)."""
        return self.viewed is None

    def set_test_set(self, test):
        """The test set (a core.data.Dataset) for the accuracy of saved weights; None for none."""
        self._test = test
        self._generation += 1
        self._accuracy.clear()
        self._quick.clear()
        self._quick_asked = set()
        self.request_draw()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Offer the snapshot's weights to the timeline (no copy: they are read-only already)."""
        if snapshot.status == Status.TIMELINE:
            return
        if self.latest is not None and (snapshot.step < self.latest.step or snapshot.sizes != self.latest.sizes):
            self.reset()  # a new run or a loaded model
        self.latest = snapshot
        self.timeline.offer(snapshot.step, snapshot.W, snapshot.b)
        self._sync_slider()
        self._show_label()
        self.request_draw()

    def reset(self) -> None:
        """Forget every saved entry and go back to live."""
        was_viewing = self.viewed is not None or self._wanted is not None
        self._generation += 1
        self._wanted = None
        self._quick_asked = set()
        self.timeline.clear()
        self._accuracy.clear()
        self._quick.clear()
        self.latest = self.viewed = None
        self.live_button.setChecked(True)
        self._sync_slider()
        self.label.setText("No weights saved yet: run training.")
        self.request_draw()
        if was_viewing:
            self.live_requested.emit()

    def show_step(self, step: int) -> None:
        """Select the saved weights nearest to ``step``; ``scrubbed`` brings their snapshot once it
        has been computed off the GUI thread."""
        self.slider.setValue(self.timeline.index_of(step))
        if self._wanted != self.timeline.nearest(step).step:
            self._on_slider_changed(self.slider.value())

    def go_live(self):
        """Stop looking back: the slider goes to the newest entry and ``live_requested`` is emitted."""
        self.viewed = self._wanted = None
        self.live_button.setChecked(True)
        self._sync_slider()
        self._show_label()
        self.request_draw()
        self.live_requested.emit()

    def test_accuracy(self, step: int) -> float:
        """The test accuracy (0–1) of the weights saved at ``step``, once looked at; else NaN."""
        return self._accuracy.get(step, math.nan)

    def shutdown(self) -> None:
        self._past_job.stop()
        self._quick_job.stop()

    # --- slider ------------------------------------------------------------------------------
    def _sync_slider(self):
        """Range over the entries; the knob at the newest one when live, else at the viewed step."""
        n = len(self.timeline)
        index = n - 1 if self.viewed is None or n == 0 else self.timeline.index_of(self.viewed.step)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.setValue(max(0, index))
        self.slider.blockSignals(False)
        self.slider.setEnabled(n > 1)

    def _on_slider_changed(self, index: int):
        if self.latest is None or not 0 <= index < len(self.timeline):
            return
        entry = self.timeline.entries[index]
        self._wanted = entry.step
        self.live_button.setChecked(False)
        self._past_job.request(self.latest, entry, self._test, tag=self._generation)

    def _on_past_ready(self, result, generation):
        past, accuracy = result
        if generation != self._generation or past.step != self._wanted:
            return   # the person moved on (another step, Live, a new run) meanwhile
        self.viewed = past
        self._accuracy[past.step] = accuracy
        self._show_label()
        self.request_draw()
        self.scrubbed.emit(past)

    def _on_plot_clicked(self, event):
        """A click in the plot picks the saved weights nearest to that step."""
        box = self.plot.getViewBox()
        if len(self.timeline) == 0 or not box.sceneBoundingRect().contains(event.scenePos()):
            return
        self.show_step(box.mapSceneToView(event.scenePos()).x())

    # --- text and plot -----------------------------------------------------------------------
    def _show_label(self):
        if self.latest is None:
            return
        t = self.timeline
        kept = f"{len(t)} saved, one every {t.every} steps"
        if self.viewed is None:
            self.label.setText(f"live: step {self.latest.step} — drag the slider or click the plot "
                               f"to look back ({kept})")
            return
        acc = self.test_accuracy(self.viewed.step)
        test = "no test set" if math.isnan(acc) else f"test accuracy {100 * acc:.1f}%"
        self.label.setText(f"step {self.viewed.step} of {self.latest.step} — {test}  ({kept})")

    def _draw(self):
        self._dirty = False
        records = self.latest.epochs if self.latest is not None else ()
        known = [(r.step, 100 * r.test_accuracy) for r in records if math.isfinite(r.test_accuracy)]
        self._epoch_curve.setData(*self._xy(known))
        self._quick_curve.setData(*self._xy([(s, 100 * a) for s, a in self._quick_accuracies()]))
        seen = sorted((s, 100 * a) for s, a in self._accuracy.items() if math.isfinite(a))
        self._seen_points.setData(*self._xy(seen))
        steps = np.asarray(self.timeline.steps, dtype=np.float64)
        self._saved_ticks.setData(steps, np.full(len(steps), 1.5))
        self._cursor.setVisible(self.viewed is not None)
        if self.viewed is not None:
            self._cursor.setValue(self.viewed.step)

    def _quick_accuracies(self) -> list:
        """(step, accuracy on the first test digits) of the saved weights measured so far; the
        entries not measured yet go to the job, and the curve grows when it answers."""
        if self._test is None or self.latest is None:
            return []
        steps = set(self.timeline.steps)
        self._quick = {s: a for s, a in self._quick.items() if s in steps}   # thinned entries go
        missing = [e for e in self.timeline.entries if e.step not in self._quick]
        if {e.step for e in missing} - self._quick_asked:
            self._quick_asked = {e.step for e in missing}
            self._quick_job.request(self.latest, missing, self._test, tag=self._generation)
        return sorted(self._quick.items())

    def _on_quick_ready(self, result: dict, generation):
        if generation == self._generation:
            self._quick.update(result)
            self._quick_asked -= set(result)
            self.request_draw()

    @property
    def quick_accuracy(self) -> dict:
        """step → accuracy (0–1) on the first QUICK_SAMPLES test digits, for the saved weights drawn so far."""
        return dict(self._quick)

    @staticmethod
    def _xy(pairs) -> tuple:
        if not pairs:
            return np.zeros(0), np.zeros(0)
        x, y = zip(*pairs)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def __repr__(self):
        state = "live" if self.viewed is None else f"viewing step {self.viewed.step}"
        return f"TimelinePanel({self.timeline!r}, {state})"
