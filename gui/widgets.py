"""Widgets and helpers every panel may use: redraw pacing, number formatting, image helpers, axes.

Panels import shared pieces from here, never from a sibling panel."""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QTimer
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import QFrame, QScrollArea

from core.activations import describe
from gui import theme

NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


REDRAW_INTERVAL = 0.02                     # s between redraws at most while training runs: every snapshot (≤ 30 a second)


def drawable(values) -> np.ndarray:
    """``values`` as float64 with ±inf as NaN, so curves break there instead of shooting off."""
    out = np.array(values, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def window_mean(values, width: int) -> np.ndarray:
    """Centred moving average over ``width`` points, skipping non-finite ones (NaN if none are left).

    O(n) through running sums; |values| above 1e12 count as gaps so a blow-up cannot swamp the sums.
    """
    y = np.asarray(values, dtype=np.float64)
    if width <= 1 or len(y) == 0:
        return drawable(y)
    i = np.arange(len(y))
    return mean_between(y, np.clip(i - width // 2, 0, len(y)), np.clip(i - width // 2 + width, 0, len(y)))


def mean_between(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """For each point, the mean of the finite y[lo:hi] (NaN if none), in O(n) through running sums;
    |values| above 1e12 count as gaps so a blow-up cannot swamp the sums."""
    ok = np.isfinite(y) & (np.abs(y) < 1e12)
    sums = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    counts = np.concatenate([[0], np.cumsum(ok)])
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / n, np.nan)


def nice_ceil(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is ≥ ``value`` (> 0)."""
    if not (value > 0 and math.isfinite(value)):
        return 1.0
    scale = 10.0 ** math.floor(math.log10(value))
    return next(n for n in NICE if n * scale >= value * (1 - 1e-12)) * scale


def grown_end(current, needed: float, headroom: float = 1.25) -> float:
    """The right end of an x axis that only grows in steps: ``current`` while it still holds
    ``needed`` (and is not 8× too long, as after a reset), else a round number a quarter beyond it."""
    if current is not None and needed <= current and needed * 8 > current:
        return current
    return nice_ceil(max(needed, 1e-12) * headroom)


def stable_span(current, lo: float, hi: float, margin: float, slack: float = 2.5,
                floor: float | None = None, ceiling: float | None = None):
    """A (low, high) holding [lo, hi]: ``current`` while it still holds them and is at most ``slack``
    times the needed width, else [lo, hi] widened by ``margin`` on each side (and kept inside
    [floor, ceiling], give or take 3% of the width, when the data is)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return current
    margin = margin if margin > 0 else max(abs(hi), 1.0) * 0.1
    if current is not None:
        a, b = current
        if a <= lo and b >= hi and b - a <= slack * (hi - lo + 2 * margin):
            return current
    a, b = lo - margin, hi + margin
    if floor is not None and lo >= floor and a < floor:
        a = floor - 0.03 * (b - floor)      # the floor's tick shows, clear of the edge
    if ceiling is not None and hi <= ceiling and b > ceiling:
        b = ceiling + 0.03 * (ceiling - a)
    return a, b


def finite_bounds(*arrays):
    """(min, max) over the finite values of ``arrays``; (nan, nan) when there are none."""
    parts = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    values = np.concatenate(parts) if parts else np.zeros(0)
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max())) if values.size else (math.nan, math.nan)


class RangeKeeper:
    """Sets the ranges of some ViewBoxes while they follow the data, and keeps out of the way once
    the user pans or zooms one of them; the auto-range button ("A") or menu makes them follow again.

    ``set(box, x=…, y=…)`` applies a range only when it differs from the last one it applied."""

    def __init__(self, *boxes):
        self.boxes = boxes
        self.following = True
        self._applied = {}
        for box in boxes:
            box.disableAutoRange()
            box.sigRangeChangedManually.connect(self._on_manual)

    def _on_manual(self, *_):
        self.following = False

    def follow(self) -> bool:
        """True when the ranges are ours to set (auto-range asked for again counts as yes)."""
        for box in self.boxes:
            if any(box.autoRangeEnabled()):
                box.disableAutoRange()
                self.following = True
                self._applied.clear()
        return self.following

    def set(self, box, x=None, y=None):
        ranges = {}
        if x is not None and self._applied.get((id(box), 0)) != tuple(x):
            ranges["xRange"] = tuple(x)
        if y is not None and self._applied.get((id(box), 1)) != tuple(y):
            ranges["yRange"] = tuple(y)
        if ranges:
            box.setRange(**ranges, padding=0.0)
            self._applied.update({(id(box), 0 if k == "xRange" else 1): v for k, v in ranges.items()})

    def forget(self):
        """Apply the next ranges even if equal to the last (the view was changed elsewhere)."""
        self._applied.clear()


class RedrawPacer:
    """When a history panel redraws while training runs: at most every ``interval`` seconds.

    A run's history moves by a pixel or two between frames, and redrawing a few plots of
    thousands of points costs a frame several ms, so while snapshots stream in ("running") the
    ones in between only add their points, drawn with the next one due. Any other request (a
    paused run, a control, a reset) draws at once, and a timer draws what a run that stopped
    publishing left pending.
    """

    def __init__(self, parent, late_draw, interval: float = REDRAW_INTERVAL):
        self.interval = interval
        self.drawn_at = -math.inf
        self._timer = QTimer(parent, singleShot=True)
        self._timer.timeout.connect(late_draw)

    def due(self, live: bool) -> bool:
        """Draw now? When not, the next snapshot (or at worst the timer) draws."""
        if not live or time.monotonic() - self.drawn_at >= self.interval:
            return True
        if not self._timer.isActive():
            self._timer.start(max(1, round(3000 * self.interval)))
        return False

    def drawn(self):
        self.drawn_at = time.monotonic()
        self._timer.stop()


class DecadeAxis(pg.AxisItem):
    """An axis whose log mode labels decades first, then 2 and 5, then the other in-betweens, each
    level only where it fits (pyqtgraph's own log axis labels every in-between when the range spans
    under three decades, and the labels pile up)."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        lo, hi = math.floor(minVal), math.ceil(maxVal)
        every = max(1, math.ceil((hi - lo) * 18 / max(size, 1.0)))  # ≥ 18 px per decade label
        if every > 1:
            decades = range(lo - lo % every, hi + 1, every)
            return [(None, [float(d) for d in decades if minVal <= d <= maxVal])]
        levels = []
        for mantissas in ((1,), (2, 5), (3, 4, 6, 7, 8, 9)):
            values = [d + math.log10(m) for d in range(lo, hi) for m in mantissas]
            levels.append((None, [v for v in values if minVal <= v <= maxVal]))
        return levels


TILE = 28                  # a digit is 28×28 pixels


BAR_PEN = (90, 90, 90)


def finite_for_display(values: np.ndarray, level: float) -> np.ndarray:
    """NaN drawn as 0 and ±inf as ±level, so a diverged network still draws."""
    return np.nan_to_num(values, nan=0.0, posinf=level, neginf=-level)


def nice_steps():
    """1, 2, 5, 10, 20, 50, …: tick spacings a reader can count in."""
    scale = 1
    while True:
        yield from (scale, 2 * scale, 5 * scale)
        scale *= 10


def fmt(value) -> str:
    return f"{float(value):.4g}"


def colour_bar(plot: pg.PlotItem, image: pg.ImageItem, label: str) -> pg.ColorBarItem:
    """A fixed (non-interactive) diverging colour bar to the right of ``plot``."""
    bar = pg.ColorBarItem(values=(-1, 1), colorMap=theme.diverging_cmap(), label=label,
                          interactive=False, width=14, pen=BAR_PEN, colorMapMenu=False)
    bar.setImageItem(image, insert_in=plot)
    return bar


def digit_image(widget: pg.PlotWidget, label: str) -> tuple:
    """A 28×28 image in ``widget`` (square, row 0 at the top, no axes) with a colour bar ``label``;
    returns (ImageItem, ColorBarItem)."""
    plot = widget.getPlotItem()
    image = pg.ImageItem(axisOrder="row-major")
    plot.addItem(image)
    plot.invertY(True)
    plot.setAspectLocked(True)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.setRange(xRange=(0, TILE), yRange=(0, TILE), padding=0.02)
    return image, colour_bar(plot, image, label)


def shown_level(values, shown: float, live: bool) -> float:
    """The colour-scale level for ``values``: exact, or while training runs a round one held
    steady (theme.steady_level), so the colour bar's axis is not redrawn on every frame."""
    level = theme.symmetric_level(values)
    return theme.steady_level(level, shown) if live else level


def set_bar_levels(bar: pg.ColorBarItem, level: float):
    if tuple(bar.levels()) != (-level, level):   # moving the bar redraws its axis
        bar.setLevels(low=-level, high=level)


_BRUSHES: dict = {}   # (r, g, b, a) → QBrush: making a QBrush per node per frame cost more than drawing


def brush(rgba) -> QBrush:
    """A shared QBrush of colour ``rgba`` (a tuple of 4 bytes)."""
    made = _BRUSHES.get(rgba)
    if made is None:
        if len(_BRUSHES) > 8192:   # the colour map has far fewer colours; just in case
            _BRUSHES.clear()
        made = _BRUSHES[rgba] = QBrush(QColor(*rgba))
    return made


def changed(shown: dict, key, value) -> bool:
    """True, remembering ``value`` in ``shown``, when it differs from the last ``value`` for ``key``:
    panels skip updating items whose content is the same (each update costs a repaint or a relayout)."""
    old = shown.get(key, None)
    same = (old is not None and np.array_equal(old, value)) if isinstance(value, np.ndarray) \
        else (key in shown and old == value)
    if not same:
        shown[key] = value
    return not same


NEUTRAL = (175, 175, 175, 255)  # NaN / inf activations


def unit_activation(a, activation) -> np.ndarray:
    """Activations mapped to 0–1 for the colour map; NaN stays NaN.

    ``activation`` is a hidden activation's name, or anything with a ``y_range`` (an output/cost
    pair of core.costs): a bounded range (0–1, −1–1) is mapped onto 0–1, an unbounded one is
    divided by the layer's largest finite value.
    """
    kind = describe(activation) if isinstance(activation, str) else activation
    a = np.asarray(a, dtype=np.float64)
    if kind.y_range is not None:
        low, high = kind.y_range
        a = (a - low) / (high - low)
    else:
        finite = a[np.isfinite(a)]
        top = finite.max() if finite.size else 0.0
        a = a / top if top > 0 else np.where(np.isnan(a), np.nan, 0.0)
    return np.clip(a, 0.0, 1.0)




_CMAP = theme.activation_cmap()


def activation_brushes(a, activation) -> list:
    """One brush per node: the activation colour map, NEUTRAL for non-finite values."""
    u = unit_activation(a, activation)
    rgba = _CMAP.map(np.nan_to_num(u, nan=0.0), mode="byte")
    rgba[~np.isfinite(np.asarray(a, dtype=np.float64))] = NEUTRAL
    return [brush(c) for c in map(tuple, rgba.tolist())]


def scrolled(widget) -> QScrollArea:
    """``widget`` in a frameless scroll area that resizes it: given less room than the widget's
    minimum size, it scrolls instead of forcing its container (a dock, the window) to grow."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    area.setMinimumSize(120, 80)
    return area


def place_in_grid(grid, places, stretch_column: int) -> None:
    """Put each widget at its ``(widget, row, column[, row span, column span])`` place in ``grid``
    (emptied first: the widgets stay their owner's, only their places change); only
    ``stretch_column`` takes spare width. For controls that go on one row or two as a dock narrows."""
    while grid.count():
        grid.takeAt(0)
    for widget, *cell in places:
        grid.addWidget(widget, *cell)
    for col in range(max(grid.columnCount(), stretch_column + 1)):
        grid.setColumnStretch(col, 0)
    grid.setColumnStretch(stretch_column, 1)
