"""Text that never widens a dock: a one-line label that elides what does not fit.

A QLabel asks for its whole text's width, so a long line set every frame can push a dock (and the
window) wider. ElidedLabel asks for no width at all, keeps one line's height, shows as much of its
text as fits with "…" (Qt's own QFontMetrics.elidedText) and gives the whole text as its tooltip.
"""
from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    """A one-line plain-text label of fixed height and no minimum width; ``text()`` is the whole text,
    ``shown_text()`` what fits the current width."""

    def __init__(self, text: str = "", parent=None, objectName: str = ""):
        super().__init__(parent)
        if objectName:
            self.setObjectName(objectName)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(1)
        self._fix_height()
        self.setText(text)

    def _fix_height(self):
        self.setFixedHeight(QFontMetrics(self.font()).height() + 2)

    def setFont(self, font):
        super().setFont(font)
        self._fix_height()
        self._elide()

    def setText(self, text: str):
        if text == self._full:
            return       # the same words: no repaint, no tooltip churn
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        """The text as drawn at the current width (elided with "…" when it does not fit)."""
        return super().text()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._elide()

    def _elide(self):
        width = max(self.width() - 2, 1)
        super().setText(QFontMetrics(self.font()).elidedText(self._full, Qt.TextElideMode.ElideRight, width))

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(min(hint.width(), 200))
        return hint

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(1)
        return hint
