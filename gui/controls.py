"""The training controls: the toolbar (run, step, step epoch, reset, slow motion) and the Settings
dock's parameter tree, both speaking to gui.training.Training and showing its settings."""
from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QAbstractSpinBox, QApplication, QLabel, QLineEdit, QSlider, QToolBar, QWidget

from core.settings import Settings, SettingsError
from gui.assets import icon
from gui.settings_tree import build_parameters, make_tree, read_settings, show_settings

SLOW_MOTION_MAX_MS = 1000


class Controls(QObject):
    """Builds the toolbar and the settings tree for ``window`` (it gives ``notify`` for problems)."""

    def __init__(self, window, training):
        super().__init__(window)
        self.window, self.training = window, training
        self.toolbar = QToolBar("Training", window)
        self.toolbar.setObjectName("toolbar-training")
        self._build_actions()
        self._build_slow_motion()
        self.params = build_parameters(training.settings)
        self.params.child("live").sigTreeStateChanged.connect(self._on_live_setting_changed)
        self.tree = make_tree(self.params)
        self.tree.setMinimumWidth(240)
        QApplication.instance().installEventFilter(self)   # keys in the settings: see eventFilter
        training.running_changed.connect(self.show_running)
        training.settings_changed.connect(self.show_settings)

    def action(self, text, shortcut, tip, slot, icon_name: str = "") -> QAction:
        """A window-wide action with a key, a tooltip that names the key, and ``slot``."""
        action = QAction(icon(icon_name), text, self.window) if icon_name else QAction(text, self.window)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})")
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    def _build_actions(self):
        t = self.training
        self.run_action = self.action("Run", "Space", "Run or pause training", t.toggle_run, "run")
        self.step_action = self.action("Step", "Right", "Train on one mini-batch", lambda: t.step(1), "step")
        self.epoch_action = self.action("Step epoch", "Shift+Right", "Train to the end of this epoch",
                                        t.step_epoch, "step-epoch")
        self.reset_action = self.action("Reset", "Ctrl+R", "New network with the same seed and the settings",
                                        lambda: self.reset(new_seed=False), "reset")
        self.reseed_action = self.action("Reset (new seed)", "Ctrl+Shift+R", "New network with a new seed",
                                         lambda: self.reset(new_seed=True), "reseed")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.run_action, self.step_action, self.epoch_action, self.reset_action, self.reseed_action):
            self.toolbar.addAction(action)
        self.toolbar.addSeparator()

    def _build_slow_motion(self):
        """A slider for the delay between steps, with [ and ] to go faster or slower."""
        self.slow_slider = QSlider(Qt.Orientation.Horizontal)
        self.slow_slider.setRange(0, SLOW_MOTION_MAX_MS)
        self.slow_slider.setSingleStep(50)
        self.slow_slider.setPageStep(50)   # [ and ] change the delay by 50 ms a press
        self.slow_slider.setFixedWidth(160)
        self.slow_slider.setValue(self.training.settings.delay_ms)
        self.slow_slider.setToolTip("Delay between mini-batches while running, 0–1000 ms ([ faster, ] slower)")
        self.slow_value = QLabel(f"{self.slow_slider.value()} ms/step")
        self.slow_slider.valueChanged.connect(lambda ms: self.change_live(delay_ms=ms))
        for widget in (QLabel(" Slow motion: "), self.slow_slider, self.slow_value):
            self.toolbar.addWidget(widget)
        step = self.slow_slider.pageStep()
        self.slower_action = self.action("Slower", "]", "More delay between steps",
                                         lambda: self.slow_slider.setValue(self.slow_slider.value() + step))
        self.faster_action = self.action("Faster", "[", "Less delay between steps",
                                         lambda: self.slow_slider.setValue(self.slow_slider.value() - step))

    def eventFilter(self, obj, event) -> bool:
        """The window's keys work whatever has focus: in a settings number box, Space runs or pauses
        (a number has no spaces), and Enter hands the keys back to the window once the value is in;
        in the hidden-sizes text, Space types a space ("128 64")."""
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) or not isinstance(obj, QWidget) \
                or not self.tree.isAncestorOf(obj):
            return False
        key = event.key()
        if kind == QEvent.Type.ShortcutOverride and key == Qt.Key.Key_Space and not _types_text(obj):
            event.ignore()       # not taken by the editor: the Space shortcut fires
            return True
        if kind == QEvent.Type.KeyPress and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            QTimer.singleShot(0, self._hand_keys_back)
        return False

    def _hand_keys_back(self):
        centre = self.window.centralWidget()
        (centre if centre is not None and centre.isVisible() else self.window).setFocus()

    # --- settings ------------------------------------------------------------------------------
    def reset(self, new_seed=False):
        """A new network from the tree's settings (the next seed with ``new_seed``)."""
        try:
            settings = read_settings(self.params)
            if new_seed:
                settings = settings.replace(seed=(settings.seed + 1) % 2**31)
        except SettingsError as e:
            self.window.notify("warning", "Backprop Lens: settings", str(e))
            return
        self.training.reset(settings)

    def change_live(self, **changes):
        try:
            self.training.change_live(**changes)
        except SettingsError as e:
            self.window.notify("warning", "Backprop Lens: settings", str(e))

    def _on_live_setting_changed(self, *_):
        self.change_live(**{name: self.params.child("live", name).value() for name in Settings.fields_in("live")})

    def show_settings(self, settings: Settings):
        show_settings(self.params, settings)
        self.slow_slider.blockSignals(True)
        self.slow_slider.setValue(settings.delay_ms)
        self.slow_slider.blockSignals(False)
        self.slow_value.setText(f"{settings.delay_ms} ms/step")

    def show_running(self, running: bool):
        self.run_action.setText("Pause" if running else "Run")
        self.run_action.setIcon(icon("pause" if running else "run"))


def _types_text(widget) -> bool:
    """A text field where a space is content (not a spin box's number field)."""
    return isinstance(widget, QLineEdit) and not isinstance(widget.parentWidget(), QAbstractSpinBox)
