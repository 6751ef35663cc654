"""Colour bars whose tick labels are never cut: the bar's axis is as wide as its widest label.

pyqtgraph's ColorBarItem fixes its axis at 45 px, which cuts labels such as "-0.0015". A helper for
gui.widgets (written here by the Weights-panel engineer, who does not own gui/widgets.py; it can move
there unchanged)."""
from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtGui import QFont, QFontMetrics

MIN_AXIS_PX = 30       # room for "0.5" and the tick marks


def bar_tick_texts(bar: pg.ColorBarItem) -> list:
    """The tick labels the bar's axis draws for its current levels."""
    axis = bar.axis
    low, high = bar.levels()
    length = max(float(axis.geometry().height()), 60.0)
    texts = []
    for spacing, values in axis.tickValues(low, high, length):
        texts += axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, spacing)
    return texts


def fit_bar_axis(bar: pg.ColorBarItem) -> int:
    """Widen (or narrow) the bar's axis to its widest tick label; returns the axis width in px."""
    axis = bar.axis
    metrics = QFontMetrics(axis.style.get("tickFont") or QFont())
    widest = max((metrics.horizontalAdvance(t) for t in bar_tick_texts(bar)), default=0)
    width = max(MIN_AXIS_PX, widest + abs(axis.style["tickLength"]) + axis.style["tickTextOffset"][0] + 6)
    if round(axis.width()) != width:
        axis.setWidth(width)
    return width
