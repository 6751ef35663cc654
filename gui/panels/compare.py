"""The compare panel: change one setting, train a second run B beside the main run A, overlay both.

The panel only asks (``compare_requested`` with the change, e.g. {"lr": 0.5}); the window starts
run B from the same seed on the same data and feeds its snapshots to ``show_snapshot_b``.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QLayout,
                             QLineEdit, QPushButton, QVBoxLayout)

from core.history import DecimatingHistory
from core.snapshot import Snapshot, Status, test_points
from gui.fit_text import ElidedLabel, NarrowTitle
from gui.panels.base import Panel
from gui.widgets import DecadeAxis, drawable, mean_between, place_in_grid
from core.activations import ACTIVATIONS
from core.costs import COSTS
from core.settings import Settings, SettingsError, field_info
from gui.settings_tree import parse_hidden

# (key, what the form calls it): the settings a comparison may change
CHOICES = (("lr", "learning rate η"), ("momentum", "momentum μ"), ("batch_size", "batch size"),
           ("hidden", "hidden sizes"), ("activation", "hidden activation"), ("cost", "output / cost"))
OPTIONS = {"activation": lambda: tuple(ACTIVATIONS), "cost": lambda: tuple(COSTS)}   # read from the registries
SHORT = {"lr": "lr", "momentum": "momentum", "batch_size": "batch", "hidden": "hidden",
         "activation": "", "cost": ""}
COLOURS = {"A": (31, 119, 180), "B": (230, 110, 0)}   # blue for the main run, orange for B
SYMBOLS = {"A": "o", "B": "s"}
SPANS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)     # smoothing windows, in steps
POINTS_PER_SPAN = 30                                    # the window is about 1/30 of the run
CAPACITY = 2048                                         # per-step points kept per run
TITLE_SIZE = "9pt"
AXIS_WIDTH = 56                                         # px: narrow axes, as two plots share a dock
SMOOTH_POINTS = 1000                                    # at most this many points on a smoothed curve
WIDE = 560              # px: the form fits one row from this width on
ROOMY = (560, 330)      # px: the plots keep their legends from this size on; smaller, the titles name the runs


def _parsed(key: str, value):
    """A value typed in the form as the setting's type (text → number or sizes); Settings checks it."""
    if key == "hidden":
        return parse_hidden(value if isinstance(value, str) else " ".join(map(str, value)))
    if isinstance(value, str) and field_info(key).kind in ("number", "whole"):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            raise SettingsError(f"{field_info(key).title} must be a number, not {value!r}") from None
        value = number
    if isinstance(value, float) and field_info(key).kind == "whole" and value.is_integer():
        return int(value)
    return value


def compare_settings(base, change: dict) -> dict:
    """Run B's settings (a dict): ``base`` (run A's settings) with ``change`` validated and applied.

    Raises SettingsError (a ValueError) when the change is empty, names a setting a comparison
    cannot change, holds a bad value (checked by core.settings, like every setting) or changes nothing.
    """
    if not change:
        raise SettingsError("choose a setting to change for run B")
    for key in change:
        if key not in dict(CHOICES):
            raise SettingsError(f"a comparison cannot change {key!r}; choose from {', '.join(k for k, _ in CHOICES)}")
    base = Settings.from_mapping(base) if not isinstance(base, Settings) else base
    b = base.replace(**{key: _parsed(key, value) for key, value in change.items()})
    if b == base:
        key = next(iter(change))
        raise SettingsError(f"run B would be the same as run A ({describe(key, getattr(b, key))})")
    return b.to_dict()


def smooth(values, width: int) -> np.ndarray:
    """Moving average over 2·(width // 2) + 1 points centred on each point, skipping non-finite ones.

    Near the start the window shrinks symmetrically (point i averages 0…2i), so the steep first
    steps are not pulled down by later, lower costs; near the end it is simply cut off, so the
    newest point does not jump with every step. O(n) through running sums."""
    y = np.asarray(values, dtype=np.float64)
    if width <= 1 or len(y) == 0:
        return drawable(y)
    i = np.arange(len(y))
    half = np.minimum(width // 2, i)
    return mean_between(y, i - half, np.minimum(i + half + 1, len(y)))


def settings_of(config: dict) -> dict:
    """A Snapshot's config in the settings shape (hidden sizes instead of all layer sizes)."""
    known = Settings.fields_in("live") + Settings.fields_in("architecture")
    out = {k: v for k, v in config.items() if k in known}
    if "sizes" in config:
        out["hidden"] = list(config["sizes"][1:-1])
    return out


def describe(key: str, value) -> str:
    """A setting's value as a legend shows it: 'lr 0.1', 'hidden 100 30', 'tanh'."""
    text = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else (
        f"{value:g}" if isinstance(value, float) else str(value))
    return f"{SHORT.get(key, key)} {text}".strip()


def steps_text(n: int) -> str:
    """"1 step", "10 steps"."""
    return f"{n} step" if n == 1 else f"{n} steps"


class RunCurves:
    """One run's bounded per-step cost history, its epoch records, and its three plot items."""

    def __init__(self, name: str, cost_plot: pg.PlotItem, acc_plot: pg.PlotItem):
        colour = COLOURS[name]
        self.name = name
        self.history = DecimatingHistory(CAPACITY, columns=1)
        self.epochs: tuple = ()
        self.config: dict = {}
        self.last_step = -math.inf
        self.status = ""
        self.raw = cost_plot.plot(pen=pg.mkPen((*colour, 60), width=1))
        self.raw.setClipToView(True)
        self.raw.setDownsampling(auto=True, method="peak")
        self.smooth = cost_plot.plot(pen=pg.mkPen(colour, width=2.5), antialias=True)
        # the line runs through the test checks made between epochs (and the epochs among them);
        # the markers are the epochs themselves
        self.test = acc_plot.plot(pen=pg.mkPen(colour, width=2), symbol=SYMBOLS[name], symbolSize=7,
                                  symbolBrush=colour, symbolPen=pg.mkPen("w", width=1))
        self.test_line = acc_plot.plot(pen=pg.mkPen(colour, width=1.5))
        self.checks: tuple = ()
        self.steps_per_epoch = 1

    def add(self, snapshot: Snapshot):
        steps = np.asarray(snapshot.cost_steps, dtype=np.float64)
        if len(steps) and steps[0] <= self.last_step:
            self.clear()     # steps went backwards: that run started again
        for x, c in zip(steps.tolist(), np.asarray(snapshot.cost_values, dtype=np.float64).tolist()):
            self.history.append(x, c)
        if len(steps):
            self.last_step = float(steps[-1])
        self.epochs, self.config, self.status = snapshot.epochs, snapshot.config, snapshot.status
        self.checks, self.steps_per_epoch = snapshot.test_checks, max(int(snapshot.steps_per_epoch), 1)

    def clear(self):
        self.history = DecimatingHistory(CAPACITY, columns=1)
        self.epochs, self.config, self.last_step, self.status = (), {}, -math.inf, ""
        self.checks = ()

    @property
    def steps_seen(self) -> float:
        return self.last_step if math.isfinite(self.last_step) else 0.0

    def draw(self, span: int):
        x, y = self.history.x, self.history.y[:, 0]
        self.raw.setData(x, drawable(y), connect="finite")
        width = max(1, round(span / self.history.stride))
        # a moving average has no detail finer than its window: a point per quarter window keeps
        # its shape, and so few points can be drawn antialiased at no cost
        every = max(1, width // 4, math.ceil(len(x) / SMOOTH_POINTS))
        keep = np.unique(np.r_[np.arange(0, len(x), every), len(x) - 1]) if len(x) else np.zeros(0, int)
        self.smooth.setData(x[keep], smooth(y, width)[keep], connect="finite")   # ends at the newest
        done = [r for r in self.epochs if math.isfinite(r.test_accuracy)]
        self.test.setData(np.array([r.epoch for r in done], dtype=np.float64),
                          np.array([100 * r.test_accuracy for r in done], dtype=np.float64))
        self.test.setPen(pg.mkPen(None) if self.checks else pg.mkPen(COLOURS[self.name], width=2))
        points = test_points(self.epochs, self.checks)
        points = points[np.isfinite(points[:, 2])]
        self.test_line.setData(points[:, 0] / self.steps_per_epoch, 100 * points[:, 2])

    def last_accuracy_text(self) -> str:
        done = [r for r in self.epochs if r.epoch > 0 and math.isfinite(r.test_accuracy)]
        return f" — {100 * done[-1].test_accuracy:.1f}%" if done else ""   # the latest epoch's

    def label(self, key: str | None) -> str:
        if not self.config:
            return f"{self.name}: {'main run' if self.name == 'A' else 'not started'}"
        if key is None:
            return f"{self.name}: main run"
        value = settings_of(self.config).get(key)
        return f"{self.name}: {describe(key, value)}"


class ComparePanel(Panel):
    """Run A (the main run) and run B (one setting changed) overlaid: smoothed training cost per
    step and test accuracy over epochs (each epoch marked, the checks between epochs joined by a
    line). ``compare_requested(dict)`` asks for run B."""

    title = "Compare"
    area = "bottom"
    tab_with = "Cost"
    workspaces = ("Evaluate",)
    help = ("Change one setting and start a second run from the same seed beside the first; both runs' "
            'cost and test accuracy are overlaid.')
    keeps_history = True    # run A's curve must cover the run even while the panel is hidden
    compare_requested = pyqtSignal(dict)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.change: dict | None = None       # what run B changes, once a comparison started
        self._dirty = False
        self._build_form()
        self._build_plots()
        self.runs = {name: RunCurves(name, self._cost_plot, self._acc_plot) for name in "AB"}
        self._on_every_step_changed(self.every_step.isChecked())
        self._on_log_scale_changed(self.log_scale.isChecked())
        self._relabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(self._form)
        layout.addWidget(self._view, 1)
        layout.addLayout(self._footer)
        # the smallest size is the two-row form's: the one-row form's width must not become the
        # panel's minimum, or a dock made narrower could never bring the two rows back
        self._narrow_min = layout.minimumSize()
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)

    # --- construction ------------------------------------------------------------------------
    def _build_form(self):
        self.setting = QComboBox(objectName="compare_setting")
        for key, text in CHOICES:
            self.setting.addItem(text, key)
        self.value_edit = QLineEdit(objectName="compare_value")
        self.value_edit.setPlaceholderText("new value")
        self.value_edit.setMaximumWidth(110)
        self.value_edit.returnPressed.connect(self._on_start_clicked)
        self.value_choice = QComboBox(objectName="compare_choice")
        self.start_button = QPushButton("Start comparison", objectName="compare_start")
        self.start_button.clicked.connect(self._on_start_clicked)
        # on a log axis the gap between two runs' late costs is as visible as the early fall
        self.log_scale = QCheckBox("log cost", objectName="compare_log", checked=True)
        self.log_scale.toggled.connect(self._on_log_scale_changed)
        self.every_step = QCheckBox("every step", objectName="compare_raw")
        self.every_step.setToolTip("Also draw the unsmoothed cost of every step (noisy)")
        self.every_step.toggled.connect(self._on_every_step_changed)
        # one line, elided (the whole message in its tooltip): a long message never widens the dock
        self.message = ElidedLabel("Pick one setting and its value for run B, then Start.",
                                   objectName="compare_message")
        self._form = QGridLayout()
        self._form_words = (QLabel("Run B changes"), QLabel("to"))
        self._form_wide = None
        self._arrange_form(wide=False)
        # the view options sit beside the message, so the top row stays narrow enough for a dock
        self._footer = QHBoxLayout()
        self._footer.addWidget(self.message, 1)
        self._footer.addWidget(self.log_scale)
        self._footer.addWidget(self.every_step)
        self.setting.currentIndexChanged.connect(self._on_setting_changed)
        self._on_setting_changed()

    def _arrange_form(self, wide: bool) -> None:
        """The form on one row in a wide dock, on two ("Run B changes [setting]" / "to [value] Start")
        in a narrow one."""
        if wide == self._form_wide:
            return
        self._form_wide = wide
        changes, to = self._form_words
        places = ((changes, 0, 0), (self.setting, 0, 1), (to, 0, 2), (self.value_edit, 0, 3),
                  (self.value_choice, 0, 4), (self.start_button, 0, 5)) if wide else (
                 (changes, 0, 0), (self.setting, 0, 1, 1, 3), (to, 1, 0), (self.value_edit, 1, 1),
                 (self.value_choice, 1, 2), (self.start_button, 1, 3))
        place_in_grid(self._form, places, 6 if wide else 2)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._arrange_form(self.width() >= WIDE)
        roomy = self.width() >= ROOMY[0] and self.height() >= ROOMY[1]
        if roomy != self._roomy:
            self._roomy = roomy
            for legend in self._legends:
                legend.setVisible(roomy)
            for plot in (self._cost_plot, self._acc_plot):   # axis titles too take room a small plot needs
                for side in ("left", "bottom"):
                    plot.getAxis(side).showLabel(roomy)
            self._labels = None   # the titles change with the legends
            self.request_draw()

    _roomy = True

    def minimumSizeHint(self):
        return self._narrow_min

    def _build_plots(self):
        self._view = pg.GraphicsLayoutWidget()
        self._titles = [NarrowTitle(text, size=TITLE_SIZE) for text in ("training cost, smoothed",
                                                                         "test accuracy (● each epoch)")]
        for col, title in enumerate(self._titles):
            self._view.addItem(title, row=0, col=col)
        cost = self._cost_plot = self._view.addPlot(row=1, col=0, axisItems={"left": DecadeAxis("left")})
        acc = self._acc_plot = self._view.addPlot(row=1, col=1)
        cost.setLabel("bottom", "step")
        cost.setLabel("left", "cost")
        for col in (0, 1):
            self._view.ci.layout.setColumnStretchFactor(col, 1)
        acc.setLabel("bottom", "epoch")
        acc.setLabel("left", "accuracy (%)")      # no units: pyqtgraph would scale them ("k%")
        # accuracy lives in 0–100 %: a single point must not auto-range the axis to 140 %
        acc.getViewBox().setLimits(yMin=0, yMax=100)
        for plot in (cost, acc):
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            plot.setMenuEnabled(False)
        self._legends = [plot.addLegend(offset=offset, brush=(255, 255, 255, 210), pen=(180, 180, 180))
                         for plot, offset in ((cost, (-10, 10)), (acc, (-10, -10)))]

    # --- public surface ----------------------------------------------------------------------
    @property
    def curves(self) -> dict:
        """Plot items by run and role ("A cost", "A smoothed", "A test", "A test checks", same for
        B): read only."""
        return {f"{name} {role}": getattr(run, attr) for name, run in self.runs.items()
                for role, attr in (("cost", "raw"), ("smoothed", "smooth"), ("test", "test"),
                                   ("test checks", "test_line"))}

    def legend_texts(self) -> tuple:
        """([cost legend entries], [accuracy legend entries]) as listed, for tests and exporters."""
        return tuple([label.text for _, label in legend.items] for legend in self._legends)

    def legend_samples(self) -> tuple:
        """The sample (swatch) item beside each legend entry, per legend."""
        return tuple([sample for sample, _ in legend.items] for legend in self._legends)

    @property
    def titles(self) -> tuple:
        """(cost title, accuracy title) as set (rich text), for tests and exporters."""
        return tuple(title.text for title in self._titles)

    @property
    def accuracy_range(self) -> tuple:
        """The accuracy axis's (low, high) in %, as shown."""
        return tuple(self._acc_plot.viewRange()[1])

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Feed run A, the main run."""
        first = not self.runs["A"].config
        self.runs["A"].add(snapshot)
        if first:
            self._on_setting_changed()    # the placeholder shows run A's value
        self.request_draw()

    def show_snapshot_b(self, snapshot: Snapshot) -> None:
        """Feed run B, the comparison run."""
        self.runs["B"].add(snapshot)
        self._show_b_status(snapshot)
        self.request_draw()

    def reset(self) -> None:
        """Forget both runs (a new main run started: B no longer compares with it)."""
        self.runs["A"].clear()
        self.clear_b()

    def clear_b(self) -> None:
        """Forget run B (it ended, or a new comparison starts)."""
        self.runs["B"].clear()
        self.change = None
        self.message.setStyleSheet("")
        self.message.setText("Pick one setting and its value for run B, then Start.")
        self.request_draw()

    def attach(self, view, training) -> None:
        super().attach(view, training)
        self._training = training
        self.compare_requested.connect(self._start)
        training.comparison_ready.connect(self.show_snapshot_b)

    def _start(self, change: dict) -> None:
        try:
            self._training.start_comparison(Settings.from_mapping(compare_settings(self._training.settings, change)))
        except SettingsError as e:
            self.message.setText(f"Not started: {e}")
            self.message.setStyleSheet("color: #b00020;")

    def request(self, change: dict) -> bool:
        """Validate ``change`` against run A's settings; if it is good, start afresh and emit
        ``compare_requested`` with the parsed change. False (and a message) if it is not."""
        base = settings_of(self.runs["A"].config)
        try:
            settings = compare_settings(base, change)
        except ValueError as e:
            self.message.setText(f"Not started: {e}")
            self.message.setStyleSheet("color: #b00020;")
            return False
        parsed = {key: settings[key] for key in change}
        self.clear_b()
        self.change = parsed
        self.message.setStyleSheet("")
        key = next(iter(parsed))
        self.message.setText(f"Run B: {describe(key, parsed[key])}, starting from the same seed…")
        self._relabel()
        self.compare_requested.emit(parsed)
        return True

    # --- the form ----------------------------------------------------------------------------
    def _on_setting_changed(self, *_):
        key = self.setting.currentData()
        choice = key in OPTIONS
        self.value_edit.setVisible(not choice)
        self.value_choice.setVisible(choice)
        if choice:
            self.value_choice.clear()
            self.value_choice.addItems(OPTIONS[key]())
        now = settings_of(self.runs["A"].config).get(key) if hasattr(self, "runs") else None
        self.value_edit.setPlaceholderText(f"now {describe('', now)}" if now is not None else
                                           "e.g. 100 30" if key == "hidden" else "new value")

    def _on_start_clicked(self):
        key = self.setting.currentData()
        value = self.value_choice.currentText() if key in OPTIONS else self.value_edit.text()
        self.request({key: value})

    def _on_every_step_changed(self, checked: bool):
        for run in self.runs.values():
            run.raw.setVisible(checked)

    def _on_log_scale_changed(self, checked: bool):
        self._cost_plot.setLogMode(y=checked)

    def _show_b_status(self, snapshot: Snapshot):
        if snapshot.status in (Status.DIVERGED, Status.ERROR):
            self.message.setText(f"Run B {snapshot.status} at step {snapshot.step}. {snapshot.message}")
            self.message.setStyleSheet("color: #b00020;")
        else:
            a_step = self.runs["A"].last_step
            a_text = f"; run A at step {a_step:.0f}" if math.isfinite(a_step) else ""
            self.message.setText(f"{self.runs['B'].label(self.changed_key())} — step {snapshot.step}, "
                                 f"epoch {snapshot.epoch}{a_text}")

    # --- drawing -----------------------------------------------------------------------------
    def changed_key(self):
        """The setting B changes: the one requested, else the first that differs between the runs."""
        if self.change:
            return next(iter(self.change))
        a, b = (settings_of(self.runs[name].config) for name in "AB")
        return next((key for key, _ in CHOICES if b and a.get(key) != b.get(key)), None)

    _labels = None

    def _relabel(self):
        key = self.changed_key()
        shown = [run for run in self.runs.values() if run.name == "A" or self.change or run.config]
        labels = tuple((run.name, self._label(run, key), run.last_accuracy_text()) for run in shown)
        if labels == self._labels:
            return   # rebuilding a legend makes new text items: only when the words change
        self._labels = labels
        for legend in self._legends:
            legend.clear()
        for run, (_, text, _) in zip(shown, labels):
            self._legends[0].addItem(run.smooth, text)
            self._legends[1].addItem(run.test, text + run.last_accuracy_text())
        self._set_titles()

    def _set_titles(self):
        """The plots' titles; in a small dock (legends hidden) they name the runs in their colours."""
        span = self.smoothing_span
        cost = f"training cost, smoothed ({steps_text(span)})" if span > 1 else "training cost per step"
        accuracy = "test accuracy (● each epoch)"
        if not self._roomy:
            key = self.changed_key()
            shown = [run for run in self.runs.values() if run.name == "A" or self.change or run.config]
            swatch = "<span style='color: #%02x%02x%02x'>━</span>&nbsp;"
            cost = "&nbsp;&nbsp;".join(swatch % COLOURS[run.name] + self._label(run, key) for run in shown)
            accuracy = "&nbsp;&nbsp;".join(swatch % COLOURS[run.name] + run.name
                                           + run.last_accuracy_text().replace(" — ", " ") for run in shown)
        note = self._cost_note()
        if note and self._roomy:   # a second, smaller line: a long title would squeeze the other plot
            cost += f"<br><span style='font-size:8pt; color:#b05000'>{note}</span>"
        for title, text in zip(self._titles, (cost, accuracy)):
            if text != title.text:
                title.setText(text, size=TITLE_SIZE)

    def _label(self, run: RunCurves, key) -> str:
        if run.name == "B" and not run.config and self.change:
            return f"B: {describe(key, self.change[key])}"   # asked for, first snapshot not here yet
        return run.label(key)

    def _draw(self):
        self._dirty = False
        span = self.smoothing_span
        for run in self.runs.values():
            run.draw(span)
        self._relabel()
        self._set_titles()
        self._set_cost_axis()
        self._set_epoch_ticks()

    def _set_epoch_ticks(self):
        last = max((r.epoch for run in self.runs.values() for r in run.epochs), default=0)
        every = next(n for n in (1, 2, 5, 10, 20, 50, 100, 200, 500, 10**9) if last / n <= 12)
        ticks = [[(float(e), str(e)) for e in range(0, last + 1, every)], []]
        self._acc_plot.getAxis("bottom").setTicks(ticks)   # whole epochs only: 0.5 means nothing here

    @property
    def smoothing_span(self) -> int:
        """Steps in the centred smoothing window, the same for both runs: about 1/30 of the longer
        run (rounded down to 1, 2, 5, 10…), so the curves stay readable as the runs grow and a
        wide window never bends the start of a short run."""
        longest = max(run.steps_seen for run in self.runs.values())
        return max(span for span in SPANS if span <= max(1, longest / POINTS_PER_SPAN))

    def _cost_note(self) -> str:
        key = self.changed_key()
        if key == "cost":
            return "different costs: compare accuracy"
        if key == "batch_size":
            return "steps differ in size: compare per epoch"
        return ""

    def _set_cost_axis(self):
        names = [self.runs[n].config.get("cost") for n in "AB" if self.runs[n].config]
        label = f"cost ({names[0]})" if names and len(set(names)) == 1 else (
            f"cost (A: {names[0]}, B: {names[1]})" if names else "cost")
        if label != self._cost_plot.getAxis("left").labelText:
            self._cost_plot.setLabel("left", label)

    def __repr__(self):
        return (f"ComparePanel(change={self.change}, A points={len(self.runs['A'].history)}, "
                f"B points={len(self.runs['B'].history)})")
