"""The Lessons side sheet: the lessons of assets/lessons, a page at a time, on the live network.

Each page shows its text and typeset formulas with live numbers (gui.lessons.values, read from the
core), brings the panel it talks about forward and marks its title, and sets a task the learner
does in the real window; the task's check (gui.lessons.checks) runs on every snapshot, selection,
drawing and settings change, and once it passes the page answers with numbers. A lesson that needs
a particular network sets it up; "Back to my network" restores the learner's settings and weights.
"""
from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

import numpy as np
import pyqtgraph as pg

from core.activations import get_activation
from core.snapshot import network_from_snapshot
from gui import theme
from gui.lessons import values
from gui.lessons.checks import CHECKS, Env, watched
from gui.lessons.formula import FormulaView
from gui.lessons.model import load_all
from gui.lessons.progress import Progress
from gui.panels.base import Panel
from gui.widgets import RedrawPacer

HIGHLIGHT = "QDockWidget::title { background: #ffd54a; font-weight: bold; padding-left: 4px; }"
DONE_STYLE = "QLabel { background: #e3f4e1; border: 1px solid #7dbb73; border-radius: 4px; padding: 6px; }"
TASK_STYLE = "QLabel { background: #fff4d6; border: 1px solid #e0b44c; border-radius: 4px; padding: 6px; }"


class LessonsPanel(Panel):
    """A side sheet of short lessons that follow the notes, checked on the live network."""

    title = "Lessons"
    area = "right"
    workspaces = ("Lessons",)
    help = ("Ten short lessons that follow the notes this app grew from, from a digit's 784 pixels to "
            "backpropagation and the notes' sigmoid-softmax detour. Each page shows its formulas with the "
            "live numbers of the network, brings the panel it talks about forward, and sets a task you do in "
            "the window (press →, click a neuron, draw a digit…), which it checks and answers with numbers. "
            "Lessons are TOML files in assets/lessons (see the README's \"For teachers\").")

    page_changed = pyqtSignal(str, int)   # lesson key, page index
    task_done = pyqtSignal(str, int)

    def __init__(self, folder=None, progress_path=None):
        super().__init__()
        self.lessons, self.problems = load_all(folder) if folder is not None else load_all()
        self.progress = Progress(progress_path)
        if self.progress.problem:
            self.problems.append(self.progress.problem)
        self.training = None
        self.lesson = None
        self.page_index = 0
        self.check = None
        self.choice = None
        self.last_cost = None          # (run_id, C of the newest trained step)
        self.clicks = 0                # neurons selected since the page's task began
        self.task: dict = {}
        self.shown: dict = {}          # placeholder text → the number shown, for the current page
        self._highlighted = None
        self.figure_point = None       # (z, a) the figure shows
        self._opened = []              # docks a page showed that the workspace had not
        self._saved = None             # (settings, network, step) to restore on leaving
        self._pacer = RedrawPacer(self, self.draw_if_dirty)
        self._build()

    # --- construction ------------------------------------------------------------------------
    def _build(self):
        top = QHBoxLayout()
        self.chooser = QComboBox()
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(12)
        self.chooser.activated.connect(self.open_lesson)
        self.prev_button, self.next_button = QPushButton("◀"), QPushButton("Next ▶")
        self.prev_button.setToolTip("Previous page")
        self.prev_button.clicked.connect(lambda: self.open_page(self.page_index - 1))
        self.next_button.clicked.connect(self.next_page)
        self.page_label = QLabel()
        top.addWidget(self.chooser, 1)
        top.addWidget(self.prev_button)
        top.addWidget(self.page_label)
        top.addWidget(self.next_button)
        self.heading = QLabel()
        self.heading.setStyleSheet("QLabel { font-size: 15pt; font-weight: bold; }")
        self.heading.setWordWrap(True)
        self.body = QVBoxLayout()
        self.body.setSpacing(6)
        self.figure = self._activation_plot()
        self.task_label = self._label(TASK_STYLE)
        self.options = QHBoxLayout()
        self.answer_label = self._label(DONE_STYLE)
        self.missing_label = QLabel()
        self.missing_label.setStyleSheet("color: #8a4b00")
        self.missing_label.setWordWrap(True)
        self.setup_label = QLabel()
        self.setup_label.setWordWrap(True)
        self.setup_label.setStyleSheet("color: #555")
        self.leave_button = QPushButton("Back to my network")
        self.leave_button.setToolTip("Put back the settings and weights you had before the lessons set up their network")
        self.leave_button.clicked.connect(self.leave)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #a00")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.heading)
        layout.addLayout(self.body)
        layout.addWidget(self.figure)
        layout.addWidget(self.task_label)
        layout.addLayout(self.options)
        layout.addWidget(self.answer_label)
        layout.addWidget(self.missing_label)
        layout.addStretch(1)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(line)
        layout.addWidget(self.setup_label)
        layout.addWidget(self.leave_button)
        layout.addWidget(self.problem_label)
        self.problem_label.setText("<br>".join(self.problems))
        self.problem_label.setVisible(bool(self.problems))
        self._fill_chooser()

    @staticmethod
    def _activation_plot() -> pg.PlotWidget:
        """The selected hidden neuron's point (z, a) on its activation function's curve."""
        plot = pg.PlotWidget()
        plot.setFixedHeight(170)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setLabel("bottom", "z")
        plot.setLabel("left", "a = σ(z)")
        plot.curve = plot.plot(pen=pg.mkPen(theme.TRAIN, width=2))
        plot.point = pg.ScatterPlotItem(size=11, brush=pg.mkBrush(theme.ACCENT), pen=pg.mkPen("k"))
        plot.addItem(plot.point)
        plot.hide()
        return plot

    def _draw_figure(self, page) -> None:
        """Draw the page's figure from the core: the run's activation function and the neuron's z, a."""
        self.figure.setVisible(page.figure == "activation")
        self.figure_point = None
        if page.figure != "activation" or self.view.neuron is None:
            return
        try:
            e = values.Context(self.view.live, self.view.neuron).explained()
        except values.ValueError_:
            return
        if e.is_output:
            return   # an output's function is the cost pair's (softmax couples them): not one curve
        act = get_activation(self.view.live.config["activation"])
        reach = max(8.0, abs(e.z) * 1.1)
        z = np.linspace(-reach, reach, 401)
        self.figure.curve.setData(z, act(z))
        self.figure.point.setData([e.z], [e.a])
        self.figure_point = (e.z, e.a)

    @staticmethod
    def _label(style=""):
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.MarkdownText)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        label.setMinimumWidth(1)
        if style:
            label.setStyleSheet(style)
        return label

    def _fill_chooser(self):
        current = self.chooser.currentIndex()
        self.chooser.clear()
        for n, lesson in enumerate(self.lessons, 1):
            tasks = sum(p.task is not None for p in lesson.pages)
            mark = " ✓" if tasks and self.progress.finished(lesson.key, tasks) else ""
            self.chooser.addItem(f"{n}. {lesson.title}{mark}")
            self.chooser.setItemData(n - 1, lesson.summary, Qt.ItemDataRole.ToolTipRole)
        if current >= 0:
            self.chooser.setCurrentIndex(current)

    # --- wiring ------------------------------------------------------------------------------
    def showEvent(self, event):
        super().showEvent(event)
        if self.lesson is None and self.lessons:   # shown by Ctrl+5 or the View menu: a page, not a blank sheet
            QTimer.singleShot(0, self._open_where_left)

    def _open_where_left(self) -> None:
        if self.lesson is None and self.lessons:
            self.open_lesson(0)

    def attach(self, view, training) -> None:
        super().attach(view, training)
        self.training = training
        # a task's check must see every change, even while the sheet is hidden or paced
        view.live_changed.connect(self._on_live)
        view.neuron_selected.connect(self._on_neuron_selected)
        view.drawing_changed.connect(lambda _d: self.evaluate())
        training.settings_changed.connect(lambda _s: self.evaluate())

    def _on_live(self, snapshot) -> None:
        if self.last_cost is not None and self.last_cost[0] != snapshot.run_id:
            self.last_cost = None
        if len(snapshot.cost_values):
            self.last_cost = (snapshot.run_id, float(snapshot.cost_values[-1]))
        self.evaluate()

    def _on_neuron_selected(self, _l: int, _j: int) -> None:
        self.clicks += 1
        self.evaluate()
        self.request_draw()

    def show_snapshot(self, snapshot) -> None:
        self.show_paced(snapshot)

    def draw_snapshot(self, snapshot) -> None:
        self.render_page()

    def _draw(self) -> None:
        self._dirty = False
        self._pacer.drawn()
        self.render_page()

    # --- lessons and pages -------------------------------------------------------------------
    def open_lesson(self, index: int, page: int | None = None) -> None:
        """Open lesson ``index`` (in order) at ``page`` (default: where the learner left it)."""
        if not 0 <= index < len(self.lessons):
            return
        self.lesson = self.lessons[index]
        self.chooser.setCurrentIndex(index)
        self._set_up(self.lesson)
        start = self.progress.page.get(self.lesson.key, 0) if page is None else page
        self.open_page(min(max(start, 0), len(self.lesson.pages) - 1))

    def _set_up(self, lesson) -> None:
        """Give the lesson the network it needs, keeping the learner's own to put back later."""
        if self.training is None or not lesson.setup:
            return
        wanted = lesson.settings(self._saved[0] if self._saved else self.training.settings)
        if wanted.run_dict() == self.training.settings.run_dict() and self._saved is not None:
            return
        if self._saved is None:
            snap = self.view.last_good if self.view is not None else None
            net = network_from_snapshot(snap) if snap is not None else None
            self._saved = (self.training.settings, net, snap.step if snap is not None else 0)
        self.training.reset(wanted)
        self._show_setup()

    def _show_setup(self):
        s = self.training.settings if self.training is not None else None
        if self._saved is None or s is None:
            self.setup_label.setText("The lessons use your own network.")
            self.leave_button.setEnabled(False)
            return
        sizes = "-".join(str(n) for n in (784, *s.hidden, 10))
        self.setup_label.setText(f"This lesson set up a {sizes} {s.activation} network with the {s.cost} cost. "
                                 "Your own settings and weights come back when you press the button.")
        self.leave_button.setEnabled(True)

    def learners_own(self):
        """(settings, network, step) the learner had before a lesson set up its own network, or None."""
        return self._saved

    def leave(self) -> None:
        """Put back the learner's settings and network as they were before the first setup."""
        if self._saved is None or self.training is None:
            return
        settings, net, step = self._saved
        self._saved = None
        self.training.reset(settings)
        if net is not None:
            self.training.load_network(net, step)
        self._show_setup()
        self._unhighlight()

    def next_page(self) -> None:
        if self.lesson is None:
            return
        if self.page_index + 1 < len(self.lesson.pages):
            self.open_page(self.page_index + 1)
        else:
            at = self.lessons.index(self.lesson)
            if at + 1 < len(self.lessons):
                self.open_lesson(at + 1, 0)

    def open_page(self, index: int) -> None:
        lesson = self.lesson
        if lesson is None or not 0 <= index < len(lesson.pages):
            return
        self.page_index = index
        page = lesson.pages[index]
        self.progress.open_page(lesson.key, index)
        self.choice, self.task = None, {}
        self.check = CHECKS[page.task["kind"]](page.task) if page.task else None
        self._build_options(page)
        self._begin_task()
        self._show_panel(page.panel)
        self.heading.setText(page.title)
        self.page_label.setText(f"{index + 1}/{len(lesson.pages)}")
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index + 1 < len(lesson.pages) or self.lessons.index(lesson) + 1 < len(self.lessons))
        self._clear_body()
        for kind, content in page.blocks():
            widget = FormulaView() if kind == "formula" else self._label()
            widget.setProperty("template", content)
            self.body.addWidget(widget)
        self._show_setup()
        self.page_changed.emit(lesson.key, index)
        self.evaluate()
        self.render_page()

    def _begin_task(self) -> None:
        """Note how things stand now: the task's check counts what the learner does from here."""
        self.clicks = 0
        if self.check is None:
            return
        self.check.begin(self._env())
        spec = self.lesson.pages[self.page_index].task
        self.task["before"] = watched(spec["watch"], self._context()) if "watch" in spec else None

    def _clear_body(self):
        while self.body.count():
            item = self.body.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()

    def _build_options(self, page):
        while self.options.count():
            self.options.takeAt(0).widget().deleteLater()
        self.option_buttons = []
        for n, text in enumerate(page.task.get("options", ()) if page.task else ()):
            button = QPushButton(text)
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, n=n: self.choose(n))
            self.options.addWidget(button)
            self.option_buttons.append(button)

    def choose(self, n: int) -> None:
        """The learner's answer to the page's question (option ``n``)."""
        if self.task.get("done"):
            return
        self.choice = n
        self.task["choice"] = self.lesson.pages[self.page_index].task["options"][n]
        for k, b in enumerate(self.option_buttons):
            b.setChecked(k == n)
        if self.check is not None and self.check.kind == "predict" and self.view.live is not None:
            # a guess is about the steps after it: count them, and the watched value, from here
            self.check.start["step"] = self.view.live.step
            spec = self.lesson.pages[self.page_index].task
            self.task["before"] = watched(spec["watch"], self._context()) if "watch" in spec else None
        self.evaluate()
        self.render_page()

    # --- the panel a page talks about --------------------------------------------------------
    def _show_panel(self, title) -> None:
        self._unhighlight()
        window = self.window()
        if title is None or not hasattr(window, "docks"):
            return
        if title == "Network" and window.centralWidget() is not None:
            window.centralWidget().show()      # the Network panel is the window's centre, not a dock
            return
        dock = window.docks.get(title)
        for other in self._opened:      # the panels earlier pages opened make way, so the sheet keeps its room
            if other is not dock:
                other.hide()
        self._opened = [dock] if dock is not None and (dock in self._opened or not dock.isVisible()) else []
        panel = getattr(window, "panels", {}).get(title)
        if panel is not None:
            panel.bring_forward()
        elif title in window.docks:
            window.docks[title].show()
            window.docks[title].raise_()
        dock = window.docks.get(title)
        if dock is not None:
            dock.setStyleSheet(HIGHLIGHT)
            self._highlighted = dock

    def _unhighlight(self):
        if self._highlighted is not None:
            self._highlighted.setStyleSheet("")
            self._highlighted = None

    # --- checks and numbers ------------------------------------------------------------------
    def _env(self) -> Env:
        v = self.view
        settings = self.training.settings if self.training is not None else None
        return Env(v.live if v else None, v.neuron if v else None, v.drawing if v else None, settings, self.choice,
                   self.clicks)

    def _context(self) -> values.Context:
        v = self.view
        return values.Context(v.live if v else None, v.neuron if v else None,
                              self.training.settings if self.training else None, self.task,
                              self.last_cost if self.last_cost and v and v.live and self.last_cost[0] == v.live.run_id
                              else None)

    def evaluate(self) -> bool:
        """Run the page's check; when it passes for the first time, record the answer's numbers."""
        if self.check is None or self.task.get("done") or self.view is None or self.view.live is None:
            return bool(self.task.get("done"))
        if self.check.start.get("run_id") != self.view.live.run_id:
            self._begin_task()     # a new network (the lesson's setup, a Reset): the task starts on it
            return False
        if not self.check.done(self._env()):
            return False
        spec = self.lesson.pages[self.page_index].task
        if "watch" in spec:
            after = watched(spec["watch"], self._context())
            self.task["after"] = after
            before = self.task.get("before")
            if before is not None and after is not None:
                change = after - before
                self.task["change"] = change
                went = "up" if change > 0 else "down" if change < 0 else "stayed"
                self.task["went"] = went
        self.task["done"] = True
        self.progress.mark(self.lesson.key, self.page_index)
        self._fill_chooser()
        self.task_done.emit(self.lesson.key, self.page_index)
        self.request_draw()
        return True

    @property
    def done(self) -> bool:
        return bool(self.task.get("done"))

    def render_page(self) -> None:
        """Fill the page's text, formulas, task and answer with the live numbers."""
        if self.lesson is None or self.view is None or self.view.live is None:
            return
        page = self.lesson.pages[self.page_index]
        ctx = self._context()
        shown: dict = {}
        for i in range(self.body.count()):
            widget = self.body.itemAt(i).widget()
            template = widget.property("template")
            if isinstance(widget, FormulaView):
                try:
                    widget.set_latex(values.fill(template, ctx, shown, latex=True))
                except ValueError as e:
                    shown.setdefault("_missing", str(e))
            else:
                widget.setText(values.fill(template, ctx, shown))
        self._draw_figure(page)
        task = page.task or {}
        self.task_label.setVisible(bool(task))
        self.task_label.setText("**Your turn:** " + values.fill(task.get("prompt", ""), ctx, shown) if task else "")
        answer = task.get("answer", "Done.")
        self.answer_label.setVisible(self.done)
        self.answer_label.setText("✓ " + values.fill(answer, ctx, shown) if self.done else "")
        missing = shown.pop("_missing", "")
        self.missing_label.setText(f"Some numbers show “?”: {missing}." if missing else "")
        self.missing_label.setVisible(bool(missing))
        self.shown = shown

    def shutdown(self) -> None:
        self._unhighlight()
