"""Messages to the person, never blocking the window: the data source, a failed load, a training run
that diverged (with ways out) or stopped, and the choices when closing."""
from __future__ import annotations

from PyQt6.QtCore import QObject, Qt
from PyQt6.QtWidgets import QMessageBox

from core.snapshot import Status

ICONS = {"warning": QMessageBox.Icon.Warning, "critical": QMessageBox.Icon.Critical}
ROLE = QMessageBox.ButtonRole


def notify(parent, kind: str, title: str, text: str, buttons=()) -> QMessageBox:
    """A non-modal message over ``parent``; ``buttons`` are (label, role, callback). The box is kept as
    ``parent.message_box`` (the latest one), so a script or test can read it."""
    box = QMessageBox(ICONS.get(kind, QMessageBox.Icon.Information), title, text,
                      QMessageBox.StandardButton.NoButton, parent)
    for label, role, callback in buttons:
        box.addButton(label, role).clicked.connect(callback)
    if not buttons:
        box.addButton(QMessageBox.StandardButton.Ok)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.show()
    parent.message_box = box
    return box


class Notices(QObject):
    """Listens to ``window``'s training and view and tells the person what needs their attention."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._diverged_shown_at = None
        t = window.training
        t.failed.connect(self._on_worker_failed)
        t.data_loading.connect(lambda _: window.status.say("Loading data…"))
        t.data_loaded.connect(self._on_data_loaded)
        t.data_failed.connect(self._on_data_failed)
        t.message.connect(window.status.note)
        window.view.live_changed.connect(self._on_live)

    def _on_data_loaded(self, data):
        self.window.status.show_source(str(getattr(data, "source", "")))
        if getattr(data, "kind", "") == "mnist-5k":
            notify(self.window, "information", "Backprop Lens: offline digits",
                   "No full MNIST was found or could be downloaded, so training uses the offline "
                   f"fallback.\n\n{data.source}.\n\nFor the full MNIST (60,000 training digits) open its "
                   "folder with File ▸ Open data (Ctrl+D), or start with `python main.py --data PATH`; "
                   "with internet the app downloads it itself.",
                   buttons=[("Open data…", ROLE.ActionRole, self.window.files.ask_open_data),
                            ("OK", ROLE.AcceptRole, lambda: None)])

    def _on_data_failed(self, message: str):
        keep = " Training goes on with the data it had." if self.window.training.worker is not None else ""
        self.window.status.say(f"Data not loaded: {message}")
        notify(self.window, "warning", "Backprop Lens: data not loaded", message + keep)

    def _on_worker_failed(self, message: str):
        notify(self.window, "critical", "Backprop Lens: training stopped",
               message + "\n\nThe last good weights can still be saved (File ▸ Save model).")

    def _on_live(self, snap):
        if snap.status == Status.DIVERGED and self._diverged_shown_at != (snap.run_id, snap.step):
            self._diverged_shown_at = (snap.run_id, snap.step)
            self._offer_recovery(snap)

    def _offer_recovery(self, snap):
        lr, controls = snap.config["lr"], self.window.controls
        controls.show_running(False)
        notify(self.window, "warning", "Backprop Lens: training diverged", snap.message, buttons=(
            ("Reset", ROLE.AcceptRole, lambda: controls.reset()),
            (f"Lower the learning rate to {lr / 10:g}", ROLE.ActionRole, lambda: controls.change_live(lr=lr / 10)),
            ("Close", ROLE.RejectRole, lambda: None)))

    def ask_keep_weights(self) -> bool:
        """Ask whether to keep the trained network for the next launch."""
        answer = QMessageBox.question(self.window, "Backprop Lens", "Keep the trained network for next time?")
        return answer == QMessageBox.StandardButton.Yes
