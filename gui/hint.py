"""The first thing a newcomer reads: what to press, under the toolbar, until training has moved."""
from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QPushButton, QToolBar

TEXT = ("<b>New here?</b> Press <b>Space</b> (Run) to start training: the first 100 steps go slowly so "
        "you can watch the cost fall and the weights take shape. Or press <b>→</b> to take one step and "
        "see every panel change. <b>Ctrl+1…4</b> switch workspaces, <b>F1</b> explains every panel.")


class FirstRunHint(QToolBar):
    """A one-line hint bar; it follows the ViewState and goes once the network has trained a step."""

    def __init__(self, parent=None):
        super().__init__("Getting started", parent)
        self.setObjectName("toolbar-hint")
        self.setMovable(False)
        self.label = QLabel(TEXT)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setStyleSheet("QLabel { background: #fff4d6; border: 1px solid #e0b44c; border-radius: 4px;"
                                 " padding: 4px 8px; }")
        self.addWidget(self.label)
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
