"""Typeset LaTeX formulas: ziamath writes SVG paths (its own STIX math font, no TeX, no network),
QtSvg paints them as vectors, so they are crisp at any device pixel ratio."""
from __future__ import annotations

import warnings
from functools import lru_cache

with warnings.catch_warnings():   # ziamath finds its font with a deprecated importlib.resources call
    warnings.simplefilter("ignore", DeprecationWarning)
    import ziamath

from PyQt6.QtCore import QByteArray, QRectF, QSize
from PyQt6.QtSvg import QSvgRenderer
from PyQt6.QtWidgets import QSizePolicy, QWidget

ziamath.config.svg2 = False     # SVG 1.1: QtSvg draws nothing of ziamath's SVG 2 <symbol> use


@lru_cache(maxsize=512)
def latex_svg(latex: str, size: float = 18.0) -> bytes:
    """The SVG of ``latex`` at font size ``size`` px; ValueError with one line when it cannot be typeset."""
    try:
        return ziamath.Latex(latex, size=size).svg().encode()
    except Exception as e:   # latex2mathml/ziamath raise many kinds for a bad formula
        raise ValueError(f"cannot typeset {latex[:60]!r}: {e}") from None


class FormulaView(QWidget):
    """One formula, drawn from its SVG at the widget's size (scaled down to fit, never up)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.renderer = QSvgRenderer(self)
        self.latex = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_latex(self, latex: str) -> None:
        if latex == self.latex:
            return
        self.latex = latex
        self.renderer.load(QByteArray(latex_svg(latex)))
        self.setFixedHeight(self.sizeHint().height())
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return self.renderer.defaultSize() + QSize(8, 8) if self.renderer.isValid() else QSize(10, 10)

    def minimumSizeHint(self) -> QSize:
        return QSize(40, self.sizeHint().height())

    def paintEvent(self, event):
        from PyQt6.QtGui import QPainter
        if not self.renderer.isValid():
            return
        size = self.renderer.defaultSize()
        scale = min(1.0, (self.width() - 8) / max(size.width(), 1))
        w, h = size.width() * scale, size.height() * scale
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.renderer.render(p, QRectF(4, (self.height() - h) / 2, w, h))
        p.end()
