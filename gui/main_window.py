"""The main window: a shell of toolbar, menus, docks and status bar around the panels.

The panels come from gui.registry (each declares its dock place and help), follow the ViewState
(gui.view_state) and talk to training through gui.training.Training. This file only lays them out
and wires the controls; it knows no panel by its internals.
"""
from __future__ import annotations

import time
from collections import deque

import pyqtgraph as pg
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QGuiApplication, QKeySequence
from PyQt6.QtWidgets import QDockWidget, QGraphicsItem, QLabel, QMainWindow, QMessageBox

from core.settings import Settings
from gui import theme  # noqa: F401  (pyqtgraph options)
from gui.assets import app_icon
from gui.controls import Controls
from gui.files import FileMenu
from gui.hint import FirstRunHint
from gui.notices import Notices, notify
from gui.help import GuideDialog, guide_html
from gui.registry import PANELS
from gui.session import keep_window, restore_window
from gui.status import StatusBar
from gui.training import Training
from gui.view_state import ViewState
from gui.widgets import scrolled
from gui.workspaces import WORKSPACES, workspace
from gui.workspaces import apply as apply_workspace

AREAS = {"left": Qt.DockWidgetArea.LeftDockWidgetArea, "right": Qt.DockWidgetArea.RightDockWidgetArea,
         "bottom": Qt.DockWidgetArea.BottomDockWidgetArea}


def initial_settings(saved: dict, given) -> tuple:
    """(Settings, problems): the last session's settings with the ``given`` ones (typed on the
    command line) on top; anything unusable is replaced by its default and reported."""
    given = given.to_dict() if isinstance(given, Settings) else dict(given or {})
    return Settings.from_mapping_lenient({**saved, **given}, "settings")


class MainWindow(QMainWindow):
    """Backprop Lens' window. Give it ``data`` (an MnistData) or a ``data_path`` to load."""

    snapshot_shown = pyqtSignal(object)   # after every panel has been offered a live snapshot

    def __init__(self, settings=None, data=None, data_path=None, session=None):
        super().__init__()
        self.setWindowTitle("Backprop Lens")
        self.setWindowIcon(app_icon())
        self.session = session
        saved, problem = session.load() if session is not None else ({}, "")
        settings, problems = initial_settings(saved.get("settings", {}), settings)
        self.message_box = self.guide = None
        self._shown_once = False
        self._asking = True        # closing asks whether to keep the trained network
        self.current_workspace = ""
        self.frame_times = deque(maxlen=600)   # (start, seconds) of recent frames, for benchmarks
        self.view = ViewState(self)
        self.training = Training(settings, self)
        self.files = FileMenu(self)
        self.panels = {cls.title: cls() for cls in PANELS}
        self._build_docks()
        self._build_controls()
        self._build_status()
        self._build_menus()
        self._connect()
        self.fit_to_screen()
        restore_window(self, saved, [problem, *problems])
        self.show_workspace(WORKSPACES[0].name)
        self.training.data_path = data_path if data_path is not None else saved.get("data_path")
        if data is not None:
            self.training.start(data)
        else:
            self.load_data(self.training.data_path)

    # --- what tests and scripts use ----------------------------------------------------------------
    @property
    def control(self):
        return self.training.control

    @property
    def worker(self):
        return self.training.worker

    @property
    def last_snapshot(self):
        return self.view.live

    @property
    def status_label(self) -> QLabel:
        return self.status.label

    # --- construction ------------------------------------------------------------------------------
    def _build_docks(self):
        self.docks = {}
        for panel in self.panels.values():
            panel.attach(self.view, self.training)
            if panel.area == "center":
                self.setCentralWidget(panel)
                continue
            self._dock(panel, panel.title, AREAS[panel.area]).hide()   # a workspace shows it

    def _dock(self, widget, title: str, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        # A dock smaller than its panel's minimum scrolls instead of pushing the window past the screen.
        dock.setWidget(scrolled(widget))
        if hasattr(widget, "on_dock_visibility"):   # a raised tab draws what it skipped while hidden
            dock.visibilityChanged.connect(widget.on_dock_visibility)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def _build_controls(self):
        self.controls = Controls(self, self.training)
        self.addToolBar(self.controls.toolbar)
        self.addToolBarBreak()
        self.hint = FirstRunHint(self)
        self.addToolBar(self.hint)
        self.hint.attach(self.view)
        self._dock(self.controls.tree, "Settings", Qt.DockWidgetArea.LeftDockWidgetArea)

    def _build_status(self):
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.status.attach(self.view)
        self.data_label = self.status.data_label

    def _build_menus(self):
        menu = self.menuBar().addMenu("&File")
        f = self.files
        for text, key, slot in (("Open data…", "Ctrl+D", f.ask_open_data), ("Load model…", "Ctrl+O", f.ask_load_model),
                                ("Save model…", "Ctrl+S", f.ask_save_model), ("Save run…", "Ctrl+Shift+S", f.ask_save_run),
                                ("Export panel…", "Ctrl+E", f.ask_export_panel),
                                ("Export animation (GIF/MP4)…", "Ctrl+Alt+E", f.ask_export_animation),
                                ("Export history (CSV)…", "Ctrl+Shift+E", f.ask_export_history),
                                ("Quit", "Ctrl+Q", self.close)):
            action = menu.addAction(text)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
        view = self.menuBar().addMenu("&View")
        self.workspace_actions = {}
        for ws in WORKSPACES:
            action = self.controls.action(f"{ws.name} workspace", ws.key, ws.purpose.capitalize(),
                                          lambda _=False, name=ws.name: self.show_workspace(name))
            action.setCheckable(True)
            view.addAction(action)
            self.workspace_actions[ws.name] = action
        view.addSeparator()
        for title in self.docks:   # each entry brings its panel to the front
            view.addAction(f"{title}").triggered.connect(lambda _=False, t=title: self.bring_forward(t))
        self.guide_action = self.menuBar().addMenu("&Help").addAction("Guide: panels and keys")
        self.guide_action.setShortcut(QKeySequence("F1"))
        self.guide_action.triggered.connect(self.show_guide)
        self.lessons_action = self.menuBar().actions()[-1].menu().addAction("Lessons")
        self.lessons_action.triggered.connect(self.show_lessons)
        self.hint.lessons_wanted.connect(self.show_lessons)

    def show_lessons(self) -> None:
        """The Lessons workspace, at the lesson and page the learner left (Help ▸ Lessons)."""
        self.show_workspace("Lessons")
        sheet = self.panels["Lessons"]
        if sheet.lesson is None:
            sheet.open_lesson(0)

    def _connect(self):
        self.training.snapshot_ready.connect(self._on_snapshot)
        self.notices = Notices(self)

    # --- screen and workspaces ---------------------------------------------------------------------
    def fit_to_screen(self) -> None:
        """At most 1600×1000 and never larger than the screen's free area, centred on it."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        free = screen.availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()   # title bar and borders
        width = min(1600, int(free.width() * 0.96) - frame.width())
        height = min(1000, int(free.height() * 0.94) - frame.height())
        self.resize(max(width, 640), max(height, 400))
        self.move(free.x() + (free.width() - self.frameGeometry().width()) // 2,
                  free.y() + (free.height() - self.frameGeometry().height()) // 2)

    def fits_screen(self) -> bool:
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry().contains(self.frameGeometry())

    def showEvent(self, event):
        super().showEvent(event)
        if not self._shown_once:   # only now are the window manager's borders known
            self._shown_once = True
            if not self.fits_screen() and not self.isMaximized():
                QTimer.singleShot(0, self.fit_to_screen)

    def show_workspace(self, name: str) -> None:
        """Lay the window out for workspace ``name`` (View menu, Ctrl+1…7)."""
        ws = workspace(name)
        apply_workspace(self, ws)
        self.current_workspace = ws.name
        for other, action in self.workspace_actions.items():
            action.setChecked(other == ws.name)

    def bring_forward(self, title: str) -> None:
        """Show panel ``title`` and raise its tab (the View menu's panel entries)."""
        dock = self.docks[title]
        dock.show()
        dock.raise_()
        self.panels.get(title, dock.widget()).setFocus()

    # --- data, settings and controls ---------------------------------------------------------------
    def load_data(self, path=None):
        """Load a data set in the background; the network and the data it had stay until it arrives."""
        self.training.keep_network(self.view.last_good if self.training.worker is not None else None)
        self.training.load_data(path)

    # --- snapshots ---------------------------------------------------------------------------------
    def _on_snapshot(self, snap):
        began = time.perf_counter()
        new_run = snap.run_id != self.view.run_id
        self.view.set_live(snap)
        if new_run:
            QTimer.singleShot(0, self._cache_static_items)   # items built for a new architecture exist by now
        if snap.status.halted and not self.training.running:
            self.controls.show_running(False)
        self.frame_times.append((began, time.perf_counter() - began))
        self.snapshot_shown.emit(snap)

    def _cache_static_items(self):
        """Let Qt keep axes and labels as pixmaps: repainting their text every frame cost more than
        everything else in a frame (measured in bench/gui_speed.py)."""
        for view in self.findChildren(pg.GraphicsView):
            for item in view.scene().items():
                if isinstance(item, (pg.AxisItem, pg.LabelItem)) and not item.cacheMode().value:
                    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def notify(self, kind: str, title: str, text: str, buttons=()) -> QMessageBox:
        """Show a message without blocking the window; ``buttons`` are (label, role, callback)."""
        return notify(self, kind, title, text, buttons)

    def show_guide(self) -> GuideDialog:
        """Open (or raise) the guide: what each panel shows, every key, where the data came from."""
        actions = self.actions() + self.menuBar().actions()[0].menu().actions() + [self.guide_action]
        source = str(getattr(self.training.data, "source", "") or "")
        if self.guide is None:
            self.guide = GuideDialog(self, actions, source, PANELS)
        else:
            self.guide.browser.setHtml(guide_html(actions, source, PANELS))
        self.guide.show()
        self.guide.raise_()
        return self.guide

    # --- sessions and closing ----------------------------------------------------------------------
    def close_without_asking(self) -> None:
        """Close now (a signal or a script): the settings are kept, the weights only if the last
        session kept them; no question is asked."""
        self._asking = False
        self.close()

    def closeEvent(self, event):
        lessons = self.panels.get("Lessons")
        own = lessons.learners_own() if lessons is not None else None
        if own is not None:   # mid-lesson: the session keeps the learner's own settings and network
            self.training.settings = own[0]
        self.training.close()
        for panel in self.panels.values():
            panel.shutdown()
        keep_window(self, ask=self._asking, own=own and own[1:])
        super().closeEvent(event)
