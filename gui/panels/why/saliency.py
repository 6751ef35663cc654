"""Saliency: which pixels and which hidden neurons made the network give its answer for one digit."""
from __future__ import annotations

from PyQt6.QtCore import QSize
from PyQt6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.explain import Saliency, saliency_job
from core.snapshot import Snapshot
from gui.fit_text import ElidedLabel
from gui.jobs import LatestJob
from gui.panels.base import Panel
from gui.panels.why.common import TEST, DigitChoice, NeuronTile, OverlayMaps, RefreshWhenSeen, for_job, knockouts_of

TOP = 6        # neurons shown per row
MAP_TITLES = ("∂z_p/∂x  (answer p)", "∂z_t/∂x  (true t)", "x ⊙ ∂z_p/∂x")


def answer_text(s: Saliency) -> str:
    """'answers 3 (97.1%), true digit 5' for the heading."""
    p = s.predicted
    truth = f"true digit {s.label}" if s.label >= 0 else "true digit not known (t = p)"
    return f"answers {p} ({100 * s.output[p]:.1f}%), {truth}"


class SaliencyPanel(RefreshWhenSeen, Panel):
    """Gradient maps of one digit and the hidden neurons whose w·a terms decided its answer."""

    title = "Saliency"
    area = "left"
    follows_past = True
    workspaces = ("Why",)
    help = ('Why the network answered what it did for one digit (the probe, your drawn digit or any test '
            'digit): ∂z/∂x for its answer p and for the true digit t, and gradient × input, each over the '
            'digit (red: more ink there raises z, blue: lowers it; colour bars are symmetric). Beside them '
            'the hidden neurons whose terms w·a pushed the answer up and the true digit down; click one to '
            'select it everywhere. Looking back in the Timeline explains the network as it was then.')

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result: Saliency | None = None
        self.shown_snapshot: Snapshot | None = None
        self._asked = None
        self._generation = 0
        self._job = None
        self._test = None
        self.choice = DigitChoice()
        self.heading = ElidedLabel("Waiting for the network…")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        explain = ElidedLabel("Red pixels raise the answer's z, blue ones lower it; the neurons below "
                              "add the biggest w·a terms.")
        self.maps = OverlayMaps(MAP_TITLES)
        self.up_label = ElidedLabel("Pushed the answer up:")
        self.down_label = ElidedLabel("Pushed the true digit down:")
        self.up = [NeuronTile(34) for _ in range(TOP)]
        self.down = [NeuronTile(34) for _ in range(TOP)]
        tiles = QWidget()
        grid = QGridLayout(tiles)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        grid.addWidget(self.up_label, 0, 0, 1, TOP)
        grid.addWidget(self.down_label, 2, 0, 1, TOP)
        for k, (u, d) in enumerate(zip(self.up, self.down)):
            grid.addWidget(u, 1, k)
            grid.addWidget(d, 3, k)
            u.hide()
            d.hide()
        top = QHBoxLayout()
        top.addWidget(QLabel("Explain:"))
        top.addWidget(self.choice, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.heading)
        layout.addWidget(explain)
        layout.addWidget(self.maps, 1)
        layout.addWidget(tiles)
        self.choice.changed.connect(self.refresh)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 150)

    def attach(self, view, training) -> None:
        super().attach(view, training)
        self._training = training
        # at most 10 a second while training runs
        self._job = LatestJob(saliency_job, self, min_interval=0.1, name="saliency")
        self._job.done.connect(self._on_done)
        self._job.failed.connect(self.heading.setText)
        for tile in (*self.up, *self.down):
            tile.picked.connect(view.select_neuron)
        view.drawing_changed.connect(lambda _: self.refresh())
        view.explain_requested.connect(self.explain_test_digit)
        knockouts_of(view).changed.connect(self.refresh)
        training.data_loaded.connect(lambda _: self.refresh())

    def explain_test_digit(self, index: int) -> None:
        """Explain test digit ``index`` (a double-click on a mistake in Evaluate's gallery): choose it
        and open the Why workspace."""
        self.choice.choose(TEST, index)
        window = self.window()
        if hasattr(window, "show_workspace") and getattr(window, "current_workspace", "Why") != "Why":
            window.show_workspace("Why")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.shown_snapshot = snapshot
        self.refresh()

    def request_job(self) -> None:
        """Ask for the saliency of the chosen digit under the shown network."""
        if self.view is None or self._job is None:
            return
        snapshot, test, image, label, words = self.choice.resolve(self.view, self._training, self.shown_snapshot)
        if image is None or snapshot is None:
            self.heading.setText(words)
            return
        self._generation += 1
        self._asked = (snapshot, words)
        self._job.request(for_job(snapshot), image, label, knockouts_of(self.view).pairs, tag=self._generation)

    def _on_done(self, result: Saliency, tag) -> None:
        if tag != self._generation:
            return            # an answer about an earlier digit or network
        self.show_result(result, self._asked[1], self._asked[0])

    def show_result(self, s: Saliency, words: str = "", snapshot: Snapshot | None = None) -> None:
        """Draw saliency ``s`` of ``words`` (which digit) for ``snapshot``'s network."""
        self.result = s
        step = f" · step {snapshot.step:,}" if snapshot is not None else ""
        self.heading.setText(f"{words}: {answer_text(s)}{step}")
        t = s.target
        self.maps.show_maps(s.image, (s.grad_predicted, s.grad_true, s.grad_x_input),
                            (f"∂z_{s.predicted}/∂x (answer)", f"∂z_{t}/∂x (true)",
                             f"x ⊙ ∂z_{s.predicted}/∂x"))
        self.up_label.setText(f"Hidden neurons that pushed {s.predicted} up most (w·a, click to select):")
        self.down_label.setText(f"… and that pushed {t} down most:")
        for tiles, contributions, digit in ((self.up, s.up, s.predicted), (self.down, s.down, t)):
            for tile, c in zip(tiles, contributions):
                tile.show_neuron(c.layer, c.neuron, c.image, f"{c.neuron}\n{c.term:+.2f}",
                                 f"hidden neuron {c.neuron} (layer {c.layer + 1}): w·a = {c.term:+.4g} of z_{digit}, "
                                 f"a = {c.activation:.3g}")
            for tile in tiles[len(contributions):]:
                tile.hide()

    def shutdown(self) -> None:
        if self._job is not None:
            self._job.stop()
