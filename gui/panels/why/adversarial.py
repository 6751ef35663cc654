"""Adversarial digits: how little change to the pixels flips the network's answer."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import QComboBox, QGridLayout, QLabel, QSlider, QSplitter, QVBoxLayout

from core.explain import EPSILONS, Adversary, adversary_job, robustness_job
from core.snapshot import Snapshot
from gui import theme
from gui.fit_text import ElidedLabel
from gui.jobs import LatestJob
from gui.panels.base import Panel
from gui.panels.why.common import TEST, DigitChoice, RefreshWhenSeen, for_job, knockouts_of
from gui.widgets import TILE

EPS_STEPS = 100          # the slider: ε = 0 … 0.5 in steps of 0.005
EPS_MAX = 0.5


def attack_text(a, what: str) -> str:
    before, after = a.predicted, a.perturbed_predicted
    return (f"{what}: {before} ({100 * a.output[before]:.0f}%) → {after} ({100 * a.perturbed_output[after]:.0f}%)"
            + (" flipped" if a.flipped else " held"))


class AdversarialPanel(RefreshWhenSeen, Panel):
    """FGSM with an ε slider and a targeted iterative attack on one digit; accuracy against ε."""

    title = "Adversarial"
    area = "right"
    tab_with = "Knock-out"
    follows_past = True
    workspaces = ("Why",)
    help = ('Adversarial digits: the fast gradient sign method moves every pixel of the chosen digit by ε '
            'in the direction that raises its cost, x + ε·sign(∂C/∂x), kept in [0, 1]. Drag ε and watch '
            'the perturbation, the perturbed digit and the new answer; the smallest ε that flips the answer '
            'is found for you. Pick a target digit for the iterative, targeted version. The curve is the '
            'whole test set\'s accuracy against ε for the network shown.')

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result: Adversary | None = None
        self.curve_result = None
        self.shown_snapshot: Snapshot | None = None
        self._job = self._curve_job = None
        self._training = None
        self._generation = self._curve_generation = 0
        self._asked = None
        self.choice = DigitChoice()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, EPS_STEPS)
        self.slider.setValue(20)
        self.slider.setToolTip("ε: how far each pixel may move (0–0.5)")
        self.eps_label = QLabel()
        self.target = QComboBox()
        self.target.addItems(["no target"] + [f"target {k}" for k in range(10)])
        self.target.setToolTip("A digit the iterative attack should make the network answer")
        self.summary = ElidedLabel("Waiting for the network…")
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)
        self.detail = ElidedLabel("")
        self.images = pg.GraphicsLayoutWidget()
        self.images.setMinimumSize(200, 90)
        self.original = self._digit_plot(0, "digit", grey=True)
        self.perturbation = self._digit_plot(1, "perturbation", grey=False)
        self.perturbed = self._digit_plot(2, "perturbed digit", grey=True)
        self.targeted = self._digit_plot(3, "targeted", grey=True)
        self.targeted_plot = self.images.getItem(0, 3)
        self.probs = self.images.addPlot(row=0, col=4, title="outputs before / after")
        for col, stretch in enumerate((2, 2, 2, 2, 3)):     # the pictures equally wide, whatever their titles
            self.images.ci.layout.setColumnStretchFactor(col, stretch)
        self.before_bars = pg.BarGraphItem(x=np.arange(10) - 0.2, height=np.zeros(10), width=0.38,
                                           brush=(150, 150, 150), pen=None)
        self.after_bars = pg.BarGraphItem(x=np.arange(10) + 0.2, height=np.zeros(10), width=0.38,
                                          brush=theme.ACCENT, pen=None)
        self.probs.addItem(self.before_bars)
        self.probs.addItem(self.after_bars)
        self.probs.setYRange(0, 1, padding=0.02)
        self.probs.getAxis("bottom").setTicks([[(k, str(k)) for k in range(10)]])
        for plot in (self.probs,):
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
        self.curve_widget = pg.PlotWidget(title="Test accuracy under FGSM")
        self.curve_widget.setMinimumSize(160, 90)
        self.curve_plot = self.curve_widget.getPlotItem()
        self.curve_plot.setLabel("bottom", "ε")
        self.curve_plot.getAxis("bottom").enableAutoSIPrefix(False)   # ε is read as 0.1, not 100 × 0.001
        self.curve_plot.setLabel("left", "accuracy %")
        self.curve_plot.setYRange(0, 100, padding=0.02)
        self.curve_plot.setXRange(0, max(EPSILONS), padding=0.02)
        self.curve_plot.setMenuEnabled(False)
        self.curve_plot.setMouseEnabled(False, False)
        self.curve = self.curve_plot.plot([], [], pen=pg.mkPen(theme.TEST, width=2), symbol="o", symbolSize=5,
                                          symbolBrush=theme.TEST)
        self.eps_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.ACCENT, width=1, style=Qt.PenStyle.DashLine))
        self.curve_plot.addItem(self.eps_line)
        controls = QGridLayout()
        controls.addWidget(QLabel("Attack:"), 0, 0)
        controls.addWidget(self.choice, 0, 1)
        controls.addWidget(self.target, 0, 2)
        controls.addWidget(self.eps_label, 0, 3)
        controls.addWidget(self.slider, 0, 4)
        controls.setColumnStretch(4, 1)
        split = self.split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.images)
        split.addWidget(self.curve_widget)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.detail)
        layout.addWidget(split, 1)
        self._show_eps()
        self.slider.valueChanged.connect(self._on_eps)
        self.target.currentIndexChanged.connect(lambda _: self.refresh())
        self.choice.changed.connect(self.refresh)

    def _digit_plot(self, col: int, title: str, grey: bool):
        plot = self.images.addPlot(row=0, col=col, title=title)
        image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(image)
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.setRange(xRange=(0, TILE), yRange=(0, TILE), padding=0.02)
        image.setLookupTable((theme.grey_cmap() if grey else theme.diverging_cmap()).getLookupTable(nPts=256))
        return image

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 150)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # the curve beside the pictures in a wide, low dock, below them in a tall one
        wide = self.width() > 2.2 * self.height()
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.split.orientation() != orientation:
            self.split.setOrientation(orientation)

    @property
    def epsilon(self) -> float:
        return EPS_MAX * self.slider.value() / EPS_STEPS

    def set_epsilon(self, eps: float):
        self.slider.setValue(round(eps / EPS_MAX * EPS_STEPS))

    def _show_eps(self):
        self.eps_label.setText(f"ε = {self.epsilon:.3f}")
        self.eps_line.setValue(self.epsilon)

    def _on_eps(self, _):
        self._show_eps()
        self.refresh(curve=False)

    def attach(self, view, training) -> None:
        super().attach(view, training)
        self._training = training
        self._job = LatestJob(adversary_job, self, min_interval=0.1, name="adversarial")
        self._job.done.connect(self._on_done)
        self._job.failed.connect(self.summary.setText)
        self._curve_job = LatestJob(robustness_job, self, min_interval=2.0, name="accuracy vs ε")
        self._curve_job.done.connect(self._on_curve)
        self._curve_job.failed.connect(self.detail.setText)
        view.drawing_changed.connect(lambda _: self.refresh(curve=False))
        view.explain_requested.connect(lambda index: self.choice.choose(TEST, index))
        knockouts_of(view).changed.connect(self.refresh)
        training.data_loaded.connect(lambda _: self.refresh())

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.shown_snapshot = snapshot
        self.refresh()

    def request_job(self, curve: bool = True):
        if self.view is None or self._job is None:
            return
        snapshot, test, image, label, words = self.choice.resolve(self.view, self._training, self.shown_snapshot)
        if image is None or snapshot is None:
            self.summary.setText(words)
            return
        silenced = knockouts_of(self.view).pairs
        self._generation += 1
        self._asked = (snapshot, words)
        self._job.request(for_job(snapshot), image, label, self.epsilon, self.target.currentIndex() - 1, silenced,
                          tag=self._generation)
        if curve and test is not None:
            self._curve_generation += 1
            self._curve_job.request(for_job(snapshot), test, EPSILONS, silenced, tag=self._curve_generation)

    def _on_done(self, result: Adversary, tag):
        if tag == self._generation:
            self.show_result(result, self._asked[1])

    def _on_curve(self, result, tag):
        if tag == self._curve_generation:
            self.show_curve(*result)

    def show_result(self, r: Adversary, words: str = ""):
        self.result = r
        a = r.fgsm
        self.summary.setText(attack_text(a, f"{words}, FGSM ε = {a.epsilon:.3f}"))
        smallest = ("no ε ≤ 0.5 flips it" if np.isnan(r.smallest)
                    else f"the smallest ε that flips it: {r.smallest:.4f}")
        targeted = ""
        if r.targeted is not None:
            t = r.targeted
            reached = "reached" if t.perturbed_predicted == t.target else "not reached"
            targeted = (f"; target {t.target} {reached} in {t.steps} steps "
                        f"(answer {t.perturbed_predicted}, {100 * t.perturbed_output[t.target]:.0f}% for {t.target})")
        self.detail.setText(smallest + targeted)
        self.original.setImage(a.image.reshape(TILE, TILE), autoLevels=False, levels=(0, 1))
        level = max(a.epsilon, 1e-3)
        self.perturbation.setImage(a.perturbation.reshape(TILE, TILE), autoLevels=False, levels=(-level, level))
        self.perturbed.setImage(a.perturbed.reshape(TILE, TILE), autoLevels=False, levels=(0, 1))
        shown = r.targeted.perturbed if r.targeted is not None else np.zeros(TILE * TILE)
        self.targeted_plot.setTitle(f"towards {r.targeted.target}" if r.targeted is not None else "(no target)")
        self.targeted.setImage(shown.reshape(TILE, TILE), autoLevels=False, levels=(0, 1))
        after = r.targeted.perturbed_output if r.targeted is not None and self.target.currentIndex() > 0 \
            else a.perturbed_output
        self.before_bars.setOpts(height=a.output)
        self.after_bars.setOpts(height=after)

    def show_curve(self, epsilons, accuracy):
        self.curve_result = (epsilons, accuracy)
        self.curve.setData(epsilons, 100 * accuracy)

    def shutdown(self) -> None:
        for job in (self._job, self._curve_job):
            if job is not None:
                job.stop()
