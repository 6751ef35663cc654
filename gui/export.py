"""Saving what the window shows: a panel as PNG or SVG, the training history as CSV.

A panel's plots live in pyqtgraph graphics views; pyqtgraph's exporters render a view's scene at
any resolution (PNG) or as vectors (SVG). A panel whose plots are spread over several views, or
that has none, is saved as a screenshot of the whole panel instead (PNG only).
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (pg.exporters is not imported by pyqtgraph itself)
from PyQt6.QtCore import QRect
from PyQt6.QtGui import QPainter
from PyQt6.QtWidgets import QWidget

from core.atomic import atomic_write

CSV_COLUMNS = ("kind", "step", "epoch", "train_cost", "batch_accuracy", "test_cost", "test_accuracy")


def graphics_views(widget: QWidget) -> list:
    """The pyqtgraph views (PlotWidget, GraphicsLayoutWidget, ImageView's view…) in ``widget``."""
    views = [widget] if isinstance(widget, pg.GraphicsView) else []
    views += [v for v in widget.findChildren(pg.GraphicsView) if v.isVisibleTo(widget) or not widget.isVisible()]
    return views


def export_panel(widget: QWidget, path, scale: float = 2.0) -> Path:
    """Save ``widget`` (a panel) to ``path``: .png or .svg, chosen by the suffix.

    PNG: the panel's graphics view rendered at ``scale`` × its size on screen; a panel with
    several views (or none) is grabbed as a screenshot at screen resolution instead. SVG: the
    panel's largest graphics view as vectors (buttons and text fields are not part of it).
    Raises ValueError for another suffix, for SVG of a panel without plots, or when nothing is written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"{path.name}: save a panel as .png or .svg, not {suffix or 'no suffix'}")
    _ensure_laid_out(widget)
    views = graphics_views(widget)
    if suffix == ".svg":
        if not views:
            raise ValueError(f"{type(widget).__name__} has no plots to save as SVG; save it as PNG")
        _export_svg(max(views, key=lambda v: v.width() * v.height()), path)
    elif hasattr(widget, "export_image"):   # a panel that renders itself whole (the Weights mosaic)
        widget.export_image().save(str(path))
    elif len(views) == 1:
        exporter = pg.exporters.ImageExporter(views[0].scene())
        exporter.parameters()["width"] = max(1, round(views[0].width() * scale))  # height follows
        exporter.export(str(path))
    else:
        widget.grab().save(str(path))
    if not path.is_file() or path.stat().st_size == 0:
        raise ValueError(f"{path}: could not be written")
    return path


def _export_svg(view: pg.GraphicsView, path: Path):
    """pyqtgraph's SVGExporter; if it cannot read Qt's own SVG (Qt 6.10+ closes paths with "Z",
    which pyqtgraph 0.14's coordinate fix-up does not parse: pyqtgraph issue #3485), Qt's
    QSvgGenerator renders the view instead."""
    try:
        pg.exporters.SVGExporter(view.scene()).export(str(path))
    except ValueError:
        path.unlink(missing_ok=True)
        _render_svg(view, path)


def _render_svg(view: pg.GraphicsView, path: Path):
    from PyQt6.QtSvg import QSvgGenerator
    size = view.viewport().size()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle("Backprop Lens")
    generator.setResolution(view.logicalDpiX())  # as on screen: pictures recorded there replay 1:1
    painter = QPainter(generator)
    try:
        view.render(painter)
    finally:
        painter.end()


def _ensure_laid_out(widget: QWidget):
    """A panel never shown has no size yet; give it one so the export is not empty."""
    if widget.width() < 10 or widget.height() < 10:
        hint = widget.sizeHint()
        widget.resize(max(hint.width(), 640), max(hint.height(), 400))
    if widget.layout() is not None:
        widget.layout().activate()


def export_history_csv(path, steps, costs, accuracies, epochs, checks=()) -> Path:
    """Write the training history to one CSV file with a ``kind`` column, atomically.

    Rows of kind "step" hold ``step``, ``train_cost`` (the mini-batch cost) and ``batch_accuracy``
    (0–1; empty when ``accuracies`` is None), one per stored point, oldest first. Rows of kind
    "epoch" hold ``epoch``, ``step``, ``train_cost`` (mean over the epoch), ``test_cost`` and
    ``test_accuracy`` (0–1), one per EpochRecord; rows of kind "test" hold ``step``, ``test_cost``
    and ``test_accuracy`` of each TestCheck made between epochs. Cells that do not apply are empty; numbers are
    written so they read back exactly (``float(cell)``; NaN as "nan").
    """
    path = Path(path)
    steps, costs = list(steps), list(costs)
    accuracies = [None] * len(steps) if accuracies is None else list(accuracies)
    if not len(steps) == len(costs) == len(accuracies):
        raise ValueError(f"steps, costs and accuracies differ in length "
                         f"({len(steps)}, {len(costs)}, {len(accuracies)})")
    rows = [_row("step", step=s, train_cost=c, batch_accuracy=a) for s, c, a in zip(steps, costs, accuracies)]
    rows += [_row("epoch", epoch=r.epoch, step=r.step, train_cost=r.train_cost,
                  test_cost=r.test_cost, test_accuracy=r.test_accuracy) for r in epochs]
    rows += [_row("test", step=c.step, test_cost=c.test_cost, test_accuracy=c.test_accuracy) for c in checks]
    _write_atomically(path, rows)
    return path


def _row(kind: str, **values) -> list:
    return [kind] + [_cell(values.get(name)) for name in CSV_COLUMNS[1:]]


def _cell(value) -> str:
    """A number as text that reads back to the same float: whole steps without '.0'."""
    if value is None:
        return ""
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _write_atomically(path: Path, rows: list):
    with atomic_write(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)
