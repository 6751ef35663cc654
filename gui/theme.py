"""Colours and colour maps shared by every panel, so a sign or an activation reads the same everywhere."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")

POSITIVE = (200, 40, 40)     # red: positive weights / gradients (CET-D1: blue–white–red)
NEGATIVE = (40, 80, 200)     # blue: negative
ACCENT = (230, 120, 0)       # orange: selection, highlights
TRAIN = (31, 119, 180)       # training curves
TEST = (214, 39, 40)         # test curves
LAYER_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75)]


def diverging_cmap() -> pg.ColorMap:
    """Blue for negative, white for zero, red for positive: for weights and gradients."""
    return pg.colormap.get("CET-D1")


def activation_cmap() -> pg.ColorMap:
    """Dark to bright, for activations in 0–1."""
    return pg.colormap.get("viridis")


def grey_cmap() -> pg.ColorMap:
    """White paper, black ink: how a digit looks."""
    return pg.ColorMap([0.0, 1.0], [(255, 255, 255), (0, 0, 0)])


def symmetric_level(values, quantile=0.99) -> float:
    """A colour scale ±L centred on zero that ignores the top 1% of outliers and non-finite values."""
    finite = np.abs(np.asarray(values, dtype=np.float64))
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 1.0
    level = float(np.quantile(finite, quantile))
    return level if level > 0 else 1.0


def layer_colour(l: int):
    return LAYER_COLOURS[l % len(LAYER_COLOURS)]
