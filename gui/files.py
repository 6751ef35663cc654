"""The File menu: open data, load and save models, save a run file, export a panel, an animation
(GIF or MP4, gui.animation) or the history.

Every action asks for a path in a dialog that opens where the person last saved or opened a file
(the Documents folder at first), and reports a problem in a message that changes nothing.
"""
from __future__ import annotations

from pathlib import Path

import platformdirs
from PyQt6.QtWidgets import QDialog, QFileDialog, QInputDialog

from core.checkpoint import CheckpointError, load_model, save_model
from core.runfile import RunFileError, save_run
from core.settings import Settings, SettingsError
from core.snapshot import network_from_snapshot
from gui.export import export_history_csv, export_panel

MODEL_STEP_KEY = "step"   # the step a saved network had reached, kept beside its hyper-parameters
ANIMATION_ENTRY = ("Export animation (GIF/MP4)…", "Ctrl+Alt+E")


class FileMenu:
    """The File menu's actions for ``window`` (a MainWindow: its training, view, panels and notify)."""

    def __init__(self, window):
        self.window = window
        self.folder = Path(platformdirs.user_documents_dir())
        self.animation = None          # the export running (gui.animation.AnimationExport), if any
        self.animation_dialog = None   # its progress dialog

    # --- asking for a path ---------------------------------------------------------------------
    def _remember(self, path: str) -> str:
        if path:
            self.folder = Path(path).parent
        return path

    def _save_path(self, caption: str, name: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self.window, caption, str(self.folder / name), filters)
        return self._remember(path)

    def _open_path(self, caption: str, filters: str) -> str:
        path, _ = QFileDialog.getOpenFileName(self.window, caption, str(self.folder), filters)
        return self._remember(path)

    # --- the actions ---------------------------------------------------------------------------
    def ask_open_data(self):
        path = QFileDialog.getExistingDirectory(self.window, "Folder with the MNIST IDX files", str(self.folder))
        if path:
            self.folder = Path(path)
            self.window.load_data(path)

    def ask_load_model(self):
        path = self._open_path("Load a model", "Models (*.npz)")
        if path:
            self.load_model(path)

    def ask_save_model(self):
        path = self._save_path("Save the model", "model.npz", "Models (*.npz)")
        if path:
            self.save_model(path)

    def ask_save_run(self):
        path = self._save_path("Save the run's settings", "run.json", "Run files (*.json)")
        if path:
            training = self.window.training
            try:
                save_run(path, training.settings.run_dict(), training.data_path)
            except (RunFileError, OSError) as e:
                self.window.notify("warning", "Backprop Lens: run not saved", str(e))

    def ask_export_panel(self):
        panels = self.window.panels
        titles = list(panels)
        title, ok = QInputDialog.getItem(self.window, "Export a panel", "Panel:", titles, 0, False)
        if not ok:
            return
        path = self._save_path(f"Export {title}", f"{title.lower()}.png", "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            try:
                export_panel(panels[title], path)
            except (ValueError, OSError) as e:
                self.window.notify("warning", "Backprop Lens: panel not exported", str(e))

    def ask_export_animation(self):
        """Ask what to animate (a panel of this workspace or the whole window; the Timeline's saved
        weights or live training), where to save it (.gif or .mp4), and write it with a progress bar."""
        from gui.animation import ExportDialog
        window = self.window
        titles = [t for t, p in window.panels.items() if t in window.docks and not window.docks[t].isHidden()]
        timeline = window.panels.get("Timeline")
        saved = len(timeline.timeline) if timeline is not None else 0
        dialog = ExportDialog(window, titles, saved)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        choice = dialog.choice()
        name = "window" if choice["target"] not in window.panels else choice["target"].lower().replace(" ", "-")
        path = self._save_path("Export an animation", f"{name}.gif", "Animated GIF (*.gif);;MP4 video (*.mp4)")
        if path:
            self.export_animation(path, **choice)

    def export_animation(self, path, target: str, frames: int, fps: float = 10, live: bool = False):
        """Start writing an animation of ``target`` (a panel title or gui.animation.WHOLE_WINDOW) to
        ``path``; returns the AnimationExport, or None (and a message) when it cannot be made."""
        from gui.animation import ExportError, export_from_window, run_with_progress
        if self.animation is not None and self.animation.running:
            self.window.notify("warning", "Backprop Lens: animation not started", "An animation is being written already.")
            return None
        try:
            export = export_from_window(self.window, target, path, frames, fps, live)
        except ExportError as e:
            self.window.notify("warning", "Backprop Lens: animation not exported", str(e))
            return None
        export.finished.connect(lambda p, n=export.total: self.window.status.say(f"Saved a {n}-frame animation to {p}"))
        export.failed.connect(self._animation_failed)
        self.animation = export
        self.animation_dialog = run_with_progress(export, self.window)
        return export

    def _animation_failed(self, message: str):
        if message == "cancelled":
            self.window.status.say("Animation cancelled: nothing was written")
        else:
            self.window.notify("warning", "Backprop Lens: animation not exported", message)

    def ask_export_history(self):
        path = self._save_path("Export the history", "history.csv", "CSV (*.csv)")
        if path:
            self.export_history(path)

    # --- the work behind them ------------------------------------------------------------------
    def export_history(self, path) -> bool:
        """The Cost panel's per-step points and the epochs and test checks of the live run, as CSV."""
        curves, snap = self.window.panels["Cost"], self.window.view.live
        epochs, checks = (snap.epochs, snap.test_checks) if snap is not None else ((), ())
        try:
            export_history_csv(path, curves.steps, curves.costs, curves.accuracies, epochs, checks)
        except (ValueError, OSError) as e:
            self.window.notify("warning", "Backprop Lens: history not exported", str(e))
            return False
        return True

    def load_model(self, path) -> bool:
        """Replace the network by the model in ``path``; on any problem, say so and change nothing."""
        try:
            net, hyper = load_model(path)
        except CheckpointError as e:
            self.window.notify("warning", "Backprop Lens: model not loaded", f"{e}\n\nThe current network is unchanged.")
            return False
        data = self.window.training.data
        wanted = (data.train.images.shape[1], int(data.train.labels.max()) + 1) if data is not None else (784, 10)
        if (net.sizes[0], net.sizes[-1]) != wanted:
            self.window.notify("warning", "Backprop Lens: model not loaded",
                               f"{path}: the model maps {net.sizes[0]} inputs to {net.sizes[-1]} outputs; "
                               f"the data need {wanted[0]} → {wanted[1]}. The current network is unchanged.")
            return False
        try:   # the same limits as every other way a network arrives (a model may be larger than we train)
            Settings.from_mapping({"hidden": list(net.sizes[1:-1]), "activation": net.activation.name,
                                   "cost": net.cost.name, "batch_size": self.window.training.settings.batch_size})
        except SettingsError as e:
            self.window.notify("warning", "Backprop Lens: model not loaded",
                               f"{path}: {e}. The current network is unchanged.")
            return False
        step = (hyper or {}).get(MODEL_STEP_KEY, 0)
        self.window.training.load_network(net, step if isinstance(step, int) and step >= 0 else 0)
        return True

    def save_model(self, path) -> bool:
        """Save the last network whose weights were all finite, with the step it had reached."""
        snap = self.window.view.last_good
        if snap is None:
            self.window.notify("warning", "Backprop Lens: nothing to save", "There is no trained network yet.")
            return False
        try:
            save_model(path, network_from_snapshot(snap), {**snap.config, MODEL_STEP_KEY: snap.step})
        except (OSError, CheckpointError) as e:
            self.window.notify("warning", "Backprop Lens: model not saved", f"{path}: {getattr(e, 'strerror', None) or e}")
            return False
        self.window.status.say(f"Saved the network at step {snap.step} to {path}")
        return True
