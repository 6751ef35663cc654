"""The first thing a newcomer reads: what to press, under the toolbar, until training has moved."""
from __future__ import annotations

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtWidgets import QLabel, QPushButton, QSizePolicy, QToolBar

from gui.workspaces import WORKSPACES

TEXT = ("<b>New here?</b> Press <b>Space</b> to train (the first 100 steps go slowly, to watch) or "
        f"<b>→</b> for one step.&nbsp; <b>Ctrl+1…{len(WORKSPACES)}</b>: workspaces.&nbsp; "
        "<b>F1</b>: what each panel shows.")
TIP = ("Space runs and pauses training; the first 100 steps of a new network run at 30 ms each so you can "
       "watch the cost fall and the weights take shape. → trains exactly one mini-batch and every panel "
       "shows the result. " + ", ".join(f"{w.key} {w.name}" for w in WORKSPACES) + ".")


class HintLabel(QLabel):
    """The hint's text: as wide as it wants where there is room, but never a minimum that widens
    the window (on a narrow screen it is cut at the edge; the tooltip has it all)."""

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())


class FirstRunHint(QToolBar):
    """A one-line hint bar; it follows the ViewState and goes once the network has trained a step."""

    lessons_wanted = pyqtSignal()   # "Take the lessons" pressed

    def __init__(self, parent=None):
        super().__init__("Getting started", parent)
        self.setObjectName("toolbar-hint")
        self.setMovable(False)
        self.label = HintLabel(TEXT)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setToolTip(TIP)
        self.label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.label.setStyleSheet("QLabel { background: #fff4d6; border: 1px solid #e0b44c; border-radius: 4px;"
                                 " padding: 4px 8px; }")
        self.addWidget(self.label)
        self.lessons_button = QPushButton("Take the lessons")
        self.lessons_button.setToolTip("Ten short lessons that walk through the notes on this live network (Help ▸ Lessons)")
        self.lessons_button.clicked.connect(self.lessons_wanted)
        self.addWidget(self.lessons_button)
        close = QPushButton("Got it")
        close.setToolTip("Hide this hint")
        close.clicked.connect(self.dismiss)
        self.addWidget(close)
        self.dismissed = False

    def attach(self, view) -> None:
        view.live_changed.connect(self._on_live)

    def _on_live(self, snap) -> None:
        wanted = not self.dismissed and snap.step == 0 and snap.origin == "new"
        if wanted != self.isVisible():
            self.setVisible(wanted)

    def dismiss(self) -> None:
        self.dismissed = True
        self.hide()
