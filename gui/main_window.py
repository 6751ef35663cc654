"""The main window: toolbar, settings, docks of panels, status bar; routes each Snapshot to the panels."""
from __future__ import annotations

import math
import sys
import time
from collections import deque
from dataclasses import replace

from PyQt6.QtCore import QThread, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtCore import QByteArray
from PyQt6.QtWidgets import (QDockWidget, QFileDialog, QGraphicsItem, QInputDialog, QLabel, QMainWindow,
                             QMessageBox, QSlider, QWidget)
import pyqtgraph as pg

import numpy as np

from core.checkpoint import CheckpointError, load_model, save_model
from core.control import RunControl
from core.evaluate import network_from_snapshot as sharing_network
from core.preprocess import drawn_probe
from core.runfile import RunFileError, save_run
from core.snapshot import network_from_snapshot
from gui import theme  # noqa: F401  (pyqtgraph options)
from gui.export import export_history_csv, export_panel
from gui.help import GuideDialog, guide_html
from gui.panels.activations import ActivationsPanel
from gui.panels.backprop import BackpropPanel
from gui.panels.base import Panel
from gui.panels.compare import ComparePanel, compare_settings
from gui.panels.curves import CurvesPanel
from gui.panels.draw import DrawPanel
from gui.panels.evaluate import EvaluatePanel, EvaluationRunner
from gui.panels.gradients import GradientsPanel
from gui.panels.layout import LayoutPanel
from gui.panels.neuron import NeuronInspector
from gui.panels.timeline import TimelinePanel
from gui.panels.weights import WeightsPanel
from gui.settings_tree import build_parameters, make_tree, read_settings
from gui.training_thread import TrainingThread

DEFAULT_SETTINGS = {"hidden": [100], "activation": "sigmoid", "cost": "cross-entropy", "seed": 0,
                    "lr": 0.1, "momentum": 0.9, "l2": 0.0, "batch_size": 32, "delay_ms": 0}
DATA_LABEL_PX = 420   # the status bar's data-source text is cut to this width (tooltip: all of it)


class DataLoader(QThread):
    """Loads the data set off the GUI thread (it may download); reports success or one-line failure."""

    loaded = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, path=None, parent=None):
        super().__init__(parent)
        self.path = path

    def run(self):
        from core.data import DataError, load_mnist
        try:
            self.loaded.emit(load_mnist(self.path, progress=False))
        except DataError as e:
            self.failed.emit(str(e))
        except Exception as e:  # never a traceback for users
            self.failed.emit(f"could not load the data: {e}")


class MainWindow(QMainWindow):
    """Backprop Lens' window. Give it ``data`` (an MnistData) or a ``data_path`` to load."""

    snapshot_shown = pyqtSignal(object)   # after every panel has drawn a snapshot

    def __init__(self, settings: dict | None = None, data=None, data_path=None, session=None):
        super().__init__()
        self.setWindowTitle("Backprop Lens")
        self.session = session
        saved, problem = session.load() if session is not None else ({}, "")
        self.settings = {**DEFAULT_SETTINGS, **saved.get("settings", {}), **(settings or {})}
        self.data_path = data_path if data_path is not None else saved.get("data_path")
        self.message_box = None
        self.last_good_snapshot = None
        self._initial_network = None
        self._diverged_shown_at = None
        self.control = RunControl(self.settings["delay_ms"] / 1000)
        self.worker: TrainingThread | None = None
        self.loader: DataLoader | None = None
        self.last_snapshot = None
        self.looking_back = None               # a Snapshot from the timeline on show, None when live
        self.worker_b: TrainingThread | None = None   # run B of a comparison
        self.control_b: RunControl | None = None
        self._run_id = None
        self.frame_times = deque(maxlen=600)   # (start, seconds) of recent frames, for benchmarks
        self._build_panels()
        self._build_actions()
        self._build_settings()
        self._build_status()
        self._build_menus()
        self.resize(1600, 1000)
        self._arrange_docks()
        self._restore_session(saved, problem)
        if data is not None:
            self._start(data)
        else:
            self.load_data(self.data_path)

    # --- construction -----------------------------------------------------------------------
    def _build_panels(self):
        self.layout_panel = LayoutPanel()
        self.weights_panel = WeightsPanel()
        self.curves_panel = CurvesPanel()
        self.gradients_panel = GradientsPanel()
        self.activations_panel = ActivationsPanel()
        self.inspector = NeuronInspector()
        self.backprop_panel = BackpropPanel()
        self.timeline_panel = TimelinePanel()
        self.compare_panel = ComparePanel()
        self.draw_panel = DrawPanel()
        self.evaluate_panel = EvaluatePanel()
        self.panels = [self.layout_panel, self.weights_panel, self.curves_panel,
                       self.gradients_panel, self.activations_panel, self.backprop_panel,
                       self.timeline_panel, self.compare_panel, self.draw_panel, self.evaluate_panel]
        self.time_travel_panels = [self.weights_panel, self.layout_panel, self.activations_panel]
        self.setCentralWidget(self.layout_panel)
        self.docks = {}
        self._dock(self.weights_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock(self.curves_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock(self.gradients_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock(self.activations_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        inspector_dock = self._dock(self.inspector, Qt.DockWidgetArea.RightDockWidgetArea, "Neuron")
        self.tabifyDockWidget(self.docks["Weights"], inspector_dock)
        # Backprop is wide (formulas beside their tables): it shares the bottom row's widest slot.
        self.tabifyDockWidget(self.docks["Activations"],
                              self._dock(self.backprop_panel, Qt.DockWidgetArea.BottomDockWidgetArea))
        for panel in (self.draw_panel, self.evaluate_panel):
            self.tabifyDockWidget(self.docks["Weights"], self._dock(panel, Qt.DockWidgetArea.RightDockWidgetArea))
        self.docks["Weights"].raise_()
        self._dock(self.timeline_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["Cost"], self._dock(self.compare_panel, Qt.DockWidgetArea.BottomDockWidgetArea))
        self.tabifyDockWidget(self.docks["Gradients"], self.docks["Timeline"])
        for name in ("Cost", "Gradients", "Activations"):
            self.docks[name].raise_()
        self.timeline_panel.scrubbed.connect(self._on_scrubbed)
        self.timeline_panel.live_requested.connect(self._on_live_requested)
        self.compare_panel.compare_requested.connect(self.start_comparison)
        self._build_drawing_and_evaluation()
        self.layout_panel.neuron_clicked.connect(self.inspect_neuron)
        self.weights_panel.neuron_clicked.connect(self.inspect_neuron)
        self.activations_panel.probe_requested.connect(lambda how: self.control.request(probe=how))
        self.backprop_panel.gradient_check_requested.connect(lambda l, j: self.control.request(gradcheck=(l, j)))
        self.backprop_panel.step_one_digit_toggled.connect(self._on_step_one_digit_toggled)

    def _build_drawing_and_evaluation(self):
        """A drawn digit replaces the probe in the Network and Activations panels while it is on the
        paper; the test set is evaluated off the GUI thread after every epoch and on Refresh."""
        self.drawn_image = None
        self._probe_net = None            # reused for the drawn digit's forward/backward pass
        self._evaluated = None            # (run id, epoch) last sent for evaluation
        self._evaluation_due = False      # an epoch ended while the Evaluate panel was hidden
        self.evaluator = EvaluationRunner(self)
        self.evaluator.finished.connect(self._on_evaluation_finished)
        self.evaluator.failed.connect(lambda message: self.status_label.setText(message))
        self.evaluate_panel.refresh_requested.connect(self.evaluate_now)
        self.docks["Evaluate"].visibilityChanged.connect(self._on_evaluate_visibility_changed)
        self.draw_panel.digit_drawn.connect(self._on_drawing_changed)
        self.draw_panel.cleared.connect(lambda: self._on_drawing_changed(None))

    def _on_drawing_changed(self, image):
        self.drawn_image = image
        shown = self.looking_back or self.last_snapshot
        if shown is not None:
            for panel in (self.layout_panel, self.activations_panel):
                if panel.on_screen():
                    panel.show_snapshot(self._with_drawing(shown))

    def _with_drawing(self, snap):
        """``snap`` with the drawn digit as its probe (label: the network's answer), while there is one."""
        if self.drawn_image is None:
            return snap
        self._probe_net = sharing_network(snap, reuse=self._probe_net)
        return replace(snap, **drawn_probe(self._probe_net, self.drawn_image))

    def _probe_view(self, panel, snap):
        """What ``panel`` shows of ``snap``: the Network and Activations panels follow a drawing."""
        return self._with_drawing(snap) if panel in (self.layout_panel, self.activations_panel) else snap

    def evaluate_now(self, snap=None):
        """Evaluate ``snap`` (the latest snapshot by default) on the test set in the background."""
        snap = snap or self.last_snapshot
        if snap is not None and getattr(self, "data", None) is not None:
            self._evaluation_due = False
            self.evaluator.request(snap, self.data.test)

    def _maybe_evaluate(self, snap):
        """After every epoch (and for the untrained network): evaluate now, or when the panel shows."""
        key = (self._run_id, snap.epoch)
        if key != self._evaluated:
            self._evaluated = key
            if self.evaluate_panel.on_screen():
                self.evaluate_now(snap)
            else:
                self._evaluation_due = True

    def _on_evaluate_visibility_changed(self, visible: bool):
        if visible and self._evaluation_due:
            self.evaluate_now()

    def _on_evaluation_finished(self, evaluation, snap):
        if snap.extra.get("run_id") == self._run_id:  # not a late answer about a previous run
            self.evaluate_panel.show_evaluation(evaluation, self.data.test.images,
                                                note=f"epoch {snap.epoch}", step=snap.step)

    def _cache_static_items(self):
        """Let Qt keep axes and labels as pixmaps: repainting their text every frame cost more than
        everything else in a frame (measured in bench/gui_speed.py)."""
        for view in self.findChildren(pg.GraphicsView):
            for item in view.scene().items():
                if isinstance(item, (pg.AxisItem, pg.LabelItem)) and not item.cacheMode().value:
                    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def _dock(self, widget: QWidget, area, title=None) -> QDockWidget:
        title = title or widget.title
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        if isinstance(widget, Panel):  # a raised tab catches up on what it skipped while hidden
            dock.visibilityChanged.connect(lambda visible, p=widget: visible and QTimer.singleShot(0, p.draw_if_dirty))
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def _action(self, text, shortcut, tip, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})")
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self):
        bar = self.addToolBar("Training")
        bar.setObjectName("toolbar-training")
        self.run_action = self._action("▶ Run", "Space", "Run or pause training", self.toggle_run)
        self.step_action = self._action("Step", "Right", "Train on one mini-batch", lambda: self.control.step(1))
        self.epoch_action = self._action("Step epoch", "Shift+Right", "Train to the end of this epoch",
                                         lambda: self.control.request(step_epoch=True))
        self.reset_action = self._action("Reset", "Ctrl+R", "New network with the same seed and the settings",
                                         lambda: self.reset(new_seed=False))
        self.reseed_action = self._action("Reset (new seed)", "Ctrl+Shift+R", "New network with a new seed",
                                          lambda: self.reset(new_seed=True))
        for action in (self.run_action, self.step_action, self.epoch_action, self.reset_action, self.reseed_action):
            bar.addAction(action)
        bar.addSeparator()
        self._build_slow_motion(bar)

    def _build_slow_motion(self, bar):
        """A slider for the delay between steps, with [ and ] to go faster or slower."""
        label = QLabel(" Slow motion: ")
        self.slow_slider = QSlider(Qt.Orientation.Horizontal)
        self.slow_slider.setRange(0, 1000)
        self.slow_slider.setSingleStep(50)
        self.slow_slider.setFixedWidth(160)
        self.slow_slider.setValue(int(self.settings["delay_ms"]))
        self.slow_slider.setToolTip("Delay between mini-batches while running, 0–1000 ms ([ faster, ] slower)")
        self.slow_value = QLabel(f"{self.slow_slider.value()} ms/step")
        self.slow_slider.valueChanged.connect(lambda ms: self.params.child("live", "delay_ms").setValue(ms))
        for widget in (label, self.slow_slider, self.slow_value):
            bar.addWidget(widget)
        step = self.slow_slider.pageStep()
        self.slower_action = self._action("Slower", "]", "More delay between steps",
                                          lambda: self.slow_slider.setValue(self.slow_slider.value() + step))
        self.faster_action = self._action("Faster", "[", "Less delay between steps",
                                          lambda: self.slow_slider.setValue(self.slow_slider.value() - step))

    def _build_settings(self):
        self.params = build_parameters(self.settings)
        self.params.child("live").sigTreeStateChanged.connect(self._on_live_setting_changed)
        dock = self._dock(make_tree(self.params), Qt.DockWidgetArea.LeftDockWidgetArea, "Settings")
        dock.widget().setMinimumWidth(360)
        dock.widget().header().resizeSection(0, 160)

    def _arrange_docks(self):
        """Give the network layout the middle, weights the right, curves along the bottom."""
        horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        self.layout_panel.setMinimumSize(420, 380)
        self.resizeDocks([self.docks["Settings"], self.docks["Weights"]], [360, 520], horizontal)
        self.resizeDocks([self.docks["Cost"]], [360], vertical)
        self.resizeDocks([self.docks["Cost"], self.docks["Gradients"], self.docks["Activations"]],
                         [560, 520, 520], horizontal)

    def _build_menus(self):
        menu = self.menuBar().addMenu("&File")
        for text, key, slot in (("Open data…", "Ctrl+D", self._ask_open_data),
                                ("Load model…", "Ctrl+O", self._ask_load_model),
                                ("Save model…", "Ctrl+S", self._ask_save_model),
                                ("Save run…", "Ctrl+Shift+S", self._ask_save_run),
                                ("Export panel…", "Ctrl+E", self._ask_export_panel),
                                ("Export history (CSV)…", "Ctrl+Shift+E", self._ask_export_history),
                                ("Quit", "Ctrl+Q", self.close)):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
            menu.addAction(action)
        view = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        self.guide_action = QAction("Guide: panels and keys", self)
        self.guide_action.setShortcut(QKeySequence("F1"))
        self.guide_action.triggered.connect(self.show_guide)
        help_menu.addAction(self.guide_action)

    def show_guide(self) -> GuideDialog:
        """Open (or raise) the guide: what each panel shows, every key, where the data came from."""
        file_menu = self.menuBar().actions()[0].menu()
        actions = self.actions() + file_menu.actions() + [self.guide_action]
        source = str(getattr(getattr(self, "data", None), "source", "") or "")
        if getattr(self, "guide", None) is None:
            self.guide = GuideDialog(self, actions, source)
        else:
            self.guide.browser.setHtml(guide_html(actions, source))
        self.guide.show()
        self.guide.raise_()
        return self.guide

    def _restore_session(self, saved: dict, problem: str):
        if self.session is None:
            return
        if saved.get("window_geometry"):
            self.restoreGeometry(QByteArray.fromBase64(saved["window_geometry"].encode()))
        if saved.get("window_state"):
            self.restoreState(QByteArray.fromBase64(saved["window_state"].encode()))
        net, model_problem = self.session.load_model()
        self._initial_network = net
        for text in (problem, model_problem):
            if text:
                self.notify("warning", "Backprop Lens: last session", text)

    def _build_status(self):
        self.status_label = QLabel("Loading data…")
        self.data_label = QLabel("")
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.data_label)

    # --- data and the worker ------------------------------------------------------------------
    def load_data(self, path=None):
        """Load a data set in the background; on failure the current data and network stay."""
        self.status_label.setText("Loading data…")
        self.loader = DataLoader(path, self)
        self.loader.loaded.connect(self._start)
        self.loader.failed.connect(self._on_data_failed)
        self.loader.start()

    def _show_data_source(self, data):
        """Where the data came from, on the status bar's right (cut to fit, the whole sentence as
        its tooltip); and when it is the 5,000-digit offline fallback, say so where it is seen."""
        source = str(getattr(data, "source", ""))
        metrics = self.data_label.fontMetrics()
        self.data_label.setText(metrics.elidedText(source, Qt.TextElideMode.ElideRight, DATA_LABEL_PX))
        self.data_label.setToolTip(source)
        if getattr(data, "kind", "") == "mnist-5k":
            self.notify("information", "Backprop Lens: offline digits",
                        "No full MNIST was found or could be downloaded, so training uses the offline "
                        f"fallback.\n\n{source}.\n\nFor the full MNIST (60,000 "
                        "training digits) open its folder with File ▸ Open data (Ctrl+D), or start "
                        "with `python main.py --data PATH`; with internet the app downloads it itself.",
                        buttons=[("Open data…", QMessageBox.ButtonRole.ActionRole, self._ask_open_data),
                                 ("OK", QMessageBox.ButtonRole.AcceptRole, lambda: None)])

    def _on_data_failed(self, message: str):
        keep = " Training goes on with the data it had." if self.worker is not None else ""
        self.status_label.setText(f"Data not loaded: {message}")
        self.notify("warning", "Backprop Lens: data not loaded", message + keep)

    def _start(self, data):
        if self.worker is not None and self.last_good_snapshot is not None:
            self._initial_network = network_from_snapshot(self.last_good_snapshot)  # new data, same network
        self._stop_worker()
        self.data = data
        self.data_path = self.loader.path if self.loader is not None else self.data_path
        self._show_data_source(data)
        self.control = RunControl(self.settings["delay_ms"] / 1000)
        self.worker = TrainingThread(data, self.settings, self.control, self, network=self._initial_network)
        self._initial_network = None
        self.worker.snapshot_ready.connect(self._on_snapshot_ready)
        self.worker.failed.connect(self._on_worker_failed)
        self.worker.gradient_checked.connect(self.backprop_panel.show_gradient_check)
        self.timeline_panel.set_test_set(data.test.images, data.test.labels)
        self.worker.start()

    def _stop_worker(self):
        self.stop_comparison()
        if self.worker is not None:
            self.worker.stop_and_wait(5000)
            self.worker = None

    # --- buttons ----------------------------------------------------------------------------
    def toggle_run(self):
        if self.control.running:
            self.control.pause()
        else:
            self.control.run()
        if self.control_b is not None:   # run B runs and pauses with the main run
            self.control_b.run() if self.control.running else self.control_b.pause()
        self._show_running(self.control.running)

    def _show_running(self, running: bool):
        self.run_action.setText("⏸ Pause" if running else "▶ Run")

    def reset(self, new_seed=False):
        try:
            values = read_settings(self.params)
        except ValueError as e:
            self.notify("warning", "Backprop Lens: settings", str(e))
            return
        if new_seed:
            values["seed"] = (values["seed"] + 1) % 2**31
            self.params.child("architecture", "seed").setValue(values["seed"])
        self.settings.update(values)
        self.stop_comparison()
        self.control.pause()
        self._show_running(False)
        self.control.request(reset={k: values[k] for k in ("hidden", "activation", "cost", "seed")})

    def _on_live_setting_changed(self, *_):
        values = {name: self.params.child("live", name).value() for name in ("lr", "momentum", "l2", "batch_size")}
        self.settings.update(values)
        self.settings["delay_ms"] = self.params.child("live", "delay_ms").value()
        self.control.set_delay(self.settings["delay_ms"] / 1000)
        self.slow_slider.blockSignals(True)
        self.slow_slider.setValue(int(self.settings["delay_ms"]))
        self.slow_slider.blockSignals(False)
        self.slow_value.setText(f"{self.settings['delay_ms']} ms/step")
        self.control.request(**values)

    def _on_step_one_digit_toggled(self, on: bool):
        """Mini-batches of one digit (the batch-size setting shows 1), or back to the size before."""
        batch = self.params.child("live", "batch_size")
        if on:
            self._batch_before_one_digit = batch.value()
        batch.setValue(1 if on else getattr(self, "_batch_before_one_digit", batch.value()))

    def inspect_neuron(self, layer: int, neuron: int):
        """Open the neuron inspector on neuron ``neuron`` fed by weight layer ``layer`` (hidden or output)."""
        self.inspector.set_neuron(layer, neuron)
        self.backprop_panel.set_neuron(layer, neuron)
        if self.last_snapshot is not None:
            self.inspector.show_snapshot(self.last_snapshot)
        dock = self.docks["Neuron"]
        dock.show()
        dock.raise_()

    # --- snapshots --------------------------------------------------------------------------
    def _on_snapshot_ready(self):
        snap = self.worker.mailbox.take() if self.worker is not None else None
        if snap is None:
            return
        began = time.perf_counter()
        self._draw(snap)
        self.frame_times.append((began, time.perf_counter() - began))

    def _draw(self, snap):
        if snap.extra.get("run_id") != self._run_id:
            self._run_id = snap.extra.get("run_id")
            for panel in self.panels:
                panel.reset()
            self._pending_cache = True
        elif getattr(self, "_pending_cache", False):
            self._pending_cache = False  # items built for a new architecture exist by now
            self._cache_static_items()
        for panel in self.panels:
            if self.looking_back is not None and panel in self.time_travel_panels:
                continue   # they show the timeline's weights until Live is pressed
            if panel.on_screen() or panel.keeps_history:
                panel.show_snapshot(self._probe_view(panel, snap))
        if self.inspector.isVisible():
            self.inspector.show_snapshot(snap)
        self.last_snapshot = snap
        self._maybe_evaluate(snap)
        if all(np.isfinite(W).all() for W in snap.W) and all(np.isfinite(b).all() for b in snap.b):
            self.last_good_snapshot = snap
        self._show_status(snap)
        if snap.status == "diverged" and self._diverged_shown_at != (self._run_id, snap.step):
            self._diverged_shown_at = (self._run_id, snap.step)
            self._offer_recovery(snap)
        if snap.status in ("paused", "diverged", "stopped", "error") and self.control.running is False:
            self._show_running(False)
        self.snapshot_shown.emit(snap)

    # --- timeline and comparison -------------------------------------------------------------
    def _on_scrubbed(self, past):
        """Show weights saved earlier in the weight, layout and activation panels; training goes on."""
        self.looking_back = past
        for panel in self.time_travel_panels:
            panel.show_snapshot(self._probe_view(panel, past))

    def _on_live_requested(self):
        self.looking_back = None
        if self.last_snapshot is not None:
            for panel in self.time_travel_panels:
                panel.show_snapshot(self._probe_view(panel, self.last_snapshot))

    def start_comparison(self, change: dict):
        """Train run B (the settings with ``change``) from the same seed on the same data, beside run A."""
        try:
            if getattr(self, "data", None) is None:
                raise ValueError("the data are not loaded yet")
            settings = compare_settings(self.settings, change)
        except ValueError as e:
            self.notify("warning", "Backprop Lens: comparison", str(e))
            return
        self.stop_comparison()
        self.control_b = RunControl(self.settings["delay_ms"] / 1000)
        self.worker_b = TrainingThread(self.data, settings, self.control_b, self)
        self.worker_b.snapshot_ready.connect(self._on_comparison_ready)
        self.worker_b.start()
        if self.control.running:
            self.control_b.run()

    def stop_comparison(self):
        if self.worker_b is not None:
            self.worker_b.stop_and_wait(5000)
            self.worker_b = self.control_b = None

    def _on_comparison_ready(self):
        snap = self.worker_b.mailbox.take() if self.worker_b is not None else None
        if snap is not None:
            self.compare_panel.show_snapshot_b(snap)

    def _offer_recovery(self, snap):
        lr = snap.config["lr"]
        self._show_running(False)
        role = QMessageBox.ButtonRole
        self.notify("warning", "Backprop Lens: training diverged", snap.message, buttons=(
            ("Reset", role.AcceptRole, lambda: self.reset()),
            (f"Lower the learning rate to {lr / 10:g}", role.ActionRole,
             lambda: self.params.child("live", "lr").setValue(lr / 10)),
            ("Close", role.RejectRole, lambda: None)))

    def _show_status(self, snap):
        last = snap.epochs[-1] if snap.epochs else None
        check = snap.test_checks[-1] if snap.test_checks else None
        test = ""
        if check and (last is None or check.step > last.step) and math.isfinite(check.test_accuracy):
            test = f"test accuracy {100 * check.test_accuracy:.2f}% (at step {check.step})"
        elif last and math.isfinite(last.test_accuracy):
            when = f"after epoch {last.epoch}" if last.epoch else "untrained"
            test = f"test accuracy {100 * last.test_accuracy:.2f}% ({when})"
        parts = [snap.status, f"epoch {snap.epoch} ({100 * snap.epoch_fraction:.0f}%)", f"step {snap.step}",
                 f"cost {snap.cost:.4f}", f"batch accuracy {100 * snap.accuracy:.1f}%", test,
                 f"{snap.samples_per_second:,.0f} samples/s"]
        text = "   ".join(p for p in parts if p)
        if snap.message:
            text += f"   —   {snap.message}"
        self.status_label.setText(text)
        warn = snap.status in ("diverged", "error") or snap.message.startswith("Warning")
        if warn != getattr(self, "_warning_shown", False):  # restyling every frame costs a relayout
            self._warning_shown = warn
            self.status_label.setStyleSheet("color: #b00020; font-weight: bold;" if warn else "")

    def _on_worker_failed(self, message: str):
        self._show_running(False)
        self.notify("critical", "Backprop Lens: training stopped",
                    message + "\n\nThe last good weights can still be saved (File ▸ Save model).")

    def notify(self, kind: str, title: str, text: str, buttons=()) -> QMessageBox:
        """Show a message without blocking the window; ``buttons`` are (label, role, callback)."""
        icon = {"warning": QMessageBox.Icon.Warning, "critical": QMessageBox.Icon.Critical}.get(
            kind, QMessageBox.Icon.Information)
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.NoButton, self)
        for label, role, callback in buttons:
            box.addButton(label, role).clicked.connect(callback)
        if not buttons:
            box.addButton(QMessageBox.StandardButton.Ok)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.show()
        self.message_box = box
        return box

    # --- files ------------------------------------------------------------------------------
    def _ask_open_data(self):
        path = QFileDialog.getExistingDirectory(self, "Folder with the MNIST IDX files")
        if path:
            self.load_data(path)

    def _ask_load_model(self):
        path, _ = QFileDialog.getOpenFileName(self, "Load a model", "", "Models (*.npz)")
        if path:
            self.load_model_from(path)

    def _ask_save_model(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save the model", "model.npz", "Models (*.npz)")
        if path:
            self.save_model_to(path)

    def _ask_save_run(self):
        path, _ = QFileDialog.getSaveFileName(self, "Save the run's settings", "run.json", "Run files (*.json)")
        if path:
            try:
                save_run(path, self.settings, self.data_path)
            except (RunFileError, OSError) as e:
                self.notify("warning", "Backprop Lens: run not saved", str(e))

    def _ask_export_panel(self):
        titles = [panel.title for panel in self.panels]
        title, ok = QInputDialog.getItem(self, "Export a panel", "Panel:", titles, 0, False)
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, f"Export {title}", f"{title.lower()}.png",
                                              "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            try:
                export_panel(self.panels[titles.index(title)], path)
            except (ValueError, OSError) as e:
                self.notify("warning", "Backprop Lens: panel not exported", str(e))

    def _ask_export_history(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export the history", "history.csv", "CSV (*.csv)")
        if path:
            c = self.curves_panel
            snap = self.last_snapshot
            epochs, checks = (snap.epochs, snap.test_checks) if snap is not None else ((), ())
            try:
                export_history_csv(path, c.steps, c.costs, getattr(c, "accuracies", None), epochs, checks)
            except (ValueError, OSError) as e:
                self.notify("warning", "Backprop Lens: history not exported", str(e))

    def load_model_from(self, path) -> bool:
        """Replace the network by the model in ``path``; on any problem, say so and change nothing."""
        try:
            net, _ = load_model(path)
        except CheckpointError as e:
            self.notify("warning", "Backprop Lens: model not loaded", f"{e}\n\nThe current network is unchanged.")
            return False
        if net.sizes[0] != 784 or net.sizes[-1] != 10:
            self.notify("warning", "Backprop Lens: model not loaded",
                        f"{path}: the model maps {net.sizes[0]} inputs to {net.sizes[-1]} outputs; "
                        "this app needs 784 → 10. The current network is unchanged.")
            return False
        self.control.pause()
        self._show_running(False)
        self.control.request(load=net)
        return True

    def save_model_to(self, path) -> bool:
        """Save the last network whose weights were all finite."""
        snap = self.last_good_snapshot
        if snap is None:
            self.notify("warning", "Backprop Lens: nothing to save", "There is no trained network yet.")
            return False
        try:
            save_model(path, network_from_snapshot(snap), snap.config)
        except OSError as e:
            self.notify("warning", "Backprop Lens: model not saved", f"{path}: {e.strerror or e}")
            return False
        self.status_label.setText(f"Saved the network at step {snap.step} to {path}")
        return True

    # --- closing ----------------------------------------------------------------------------
    def closeEvent(self, event):
        self._stop_worker()
        self.evaluator.stop()
        if self.loader is not None:
            self.loader.wait(5000)
        self._save_session()
        super().closeEvent(event)

    def _save_session(self):
        if self.session is None:
            return
        try:
            self.session.save(self.settings, self.data_path,
                              bytes(self.saveGeometry().toBase64()).decode(), bytes(self.saveState().toBase64()).decode())
            snap = self.last_good_snapshot
            if snap is not None and snap.step > 0 and self.ask_keep_weights():
                self.session.save_model(network_from_snapshot(snap), snap.config)
            elif snap is not None and snap.step > 0:
                self.session.forget_model()
        except OSError as e:
            print(f"warning: could not save the session: {e}", file=sys.stderr)

    def ask_keep_weights(self) -> bool:
        """Ask whether to keep the trained network for the next launch."""
        answer = QMessageBox.question(self, "Backprop Lens", "Keep the trained network for next time?")
        return answer == QMessageBox.StandardButton.Yes
