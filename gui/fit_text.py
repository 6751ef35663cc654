"""Text that never widens a dock: a one-line label and a plot title that elide what does not fit.

A QLabel asks for its whole text's width, so a long line set every frame can push a dock (and the
window) wider. ElidedLabel asks for no width at all, keeps one line's height, shows as much of its
text as fits with "…" (Qt's own QFontMetrics.elidedText) and gives the whole text as its tooltip.
"""
from __future__ import annotations

import html

import pyqtgraph as pg
import pyqtgraph.functions as fn
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFont, QFontMetrics
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


class NarrowTitle(pg.LabelItem):
    """A plot title that asks for no width: in a narrow plot its text shrinks to 7 pt and then is
    elided with "…" (the whole title stays in ``text``), so a long title never makes the plot, the
    dock or the window wider."""

    _full_html = None
    _fitting = False
    MIN_POINTS = 7.0   # a title shrinks to this size before it is elided

    def updateMin(self):
        height = self.itemRect().height()
        self.setMinimumWidth(0)
        self.setMinimumHeight(height)
        self._sizeHint = {Qt.SizeHint.MinimumSize: (0, height), Qt.SizeHint.PreferredSize: (0, height),
                          Qt.SizeHint.MaximumSize: (-1, -1), Qt.SizeHint.MinimumDescent: (0, 0)}
        self.updateGeometry()

    def setText(self, text, **args):
        self._fitting = True     # LabelItem.setText lays out with the new text: no fitting meanwhile
        try:
            super().setText(text, **args)
        finally:
            self._fitting = False
        self._full_html = self.item.toHtml()
        self._fit()

    def resizeEvent(self, ev):
        self._fit()
        super().resizeEvent(ev)

    def shown_text(self) -> str:
        """The title as drawn (plain text, elided when the plot is narrower than the title)."""
        return self.item.toPlainText()

    def _fit(self):
        if self._fitting or self._full_html is None:
            return
        self._fitting = True
        try:
            self.item.setHtml(self._full_html)
            room = self.rect().width() - 4
            if room > 0 and self.item.boundingRect().width() > room + 4:
                self._shrink_or_elide(room)
            super().resizeEvent(None)
        finally:
            self._fitting = False


    def _shrink_or_elide(self, room: float) -> None:
        """The title in a smaller font (down to MIN_POINTS) if that fits ``room``, else elided."""
        size = str(self.opts.get("size", "9pt"))
        points = float(size[:-2]) if size.endswith("pt") else 9.0
        colour = fn.mkColor(self.opts["color"] if self.opts["color"] is not None
                            else pg.getConfigOption("foreground")).name()
        smaller = points - 1
        while smaller >= self.MIN_POINTS:
            self.item.setHtml(f"<span style='color: {colour}; font-size: {smaller:g}pt'>{self.text}</span>")
            if self.item.boundingRect().width() <= room + 4:
                return
            smaller -= 1
        font = QFont(self.item.font())
        font.setPointSizeF(self.MIN_POINTS)
        plain = QFontMetrics(font).elidedText(self.item.toPlainText(), Qt.TextElideMode.ElideRight, int(room - 8))
        self.item.setHtml(f"<span style='color: {colour}; font-size: {self.MIN_POINTS:g}pt'>"
                          f"{html.escape(plain)}</span>")


def narrow_title(plot: pg.PlotItem) -> NarrowTitle:
    """Give ``plot`` a NarrowTitle in place of its own title (which would set its minimum width)."""
    old = plot.titleLabel
    plot.layout.removeItem(old)
    # hidden, not removed from the scene: PyQt would hand a removed item to Python, which deletes it
    # while pyqtgraph may still point at it (a crash in a later paint); the plot keeps it, unseen
    old.hide()
    old.setMaximumHeight(0)
    title = NarrowTitle("", size="11pt", parent=plot)
    plot.layout.addItem(title, 0, 1)
    plot.titleLabel = title
    plot.setTitle(None)
    return title


def set_title(plot: pg.PlotItem, text: str, size: str) -> None:
    """``plot.setTitle`` with the title row as high as one line of ``size`` (pyqtgraph fixes it
    at 30 px, a lot in a small dock)."""
    plot.setTitle(text, size=size)
    height = plot.titleLabel.itemRect().height()   # one line, with the text item's margins
    plot.layout.setRowFixedHeight(0, height)
    plot.titleLabel.setMaximumHeight(height)


def legend_title(plot: pg.PlotItem, entries, size: str = "9pt") -> str:
    """Make ``plot``'s title (a NarrowTitle, see narrow_title) its legend: each entry
    (mark, (r, g, b), words, short words) as the mark in its colour and the words; the short words
    when the long ones do not fit the plot's width. Returns the plain text shown. A legend above the
    plot hides no data, and it never widens the plot."""
    font = QFont()
    font.setPointSizeF(float(size[:-2]))
    room = plot.getViewBox().width()   # the title spans the plot's data area
    long = "   ".join(f"{mark} {words}" for mark, _, words, _ in entries)
    short = room > 0 and QFontMetrics(font).horizontalAdvance(long) * 1.1 > room - 16
    parts = []
    for mark, colour, words, brief in entries:
        parts.append(f"<span style='color: #%02x%02x%02x'>{mark}</span>&nbsp;{html.escape(brief if short else words)}"
                     % tuple(colour[:3]))
    text = ("&nbsp;" if short else "&nbsp;&nbsp;&nbsp;").join(parts)
    if text != plot.titleLabel.text:
        set_title(plot, text, "8pt" if short else size)   # the short words a little smaller too
    return "   ".join(f"{mark} {brief if short else words}" for mark, _, words, brief in entries)
