"""The common shape of every panel."""
from __future__ import annotations

from PyQt6.QtWidgets import QDockWidget, QWidget

from core.snapshot import Snapshot


class Panel(QWidget):
    """A view of training. Subclasses build their pyqtgraph items once in ``__init__`` and then only
    update their data in ``show_snapshot``; they never touch the trainer or the network."""

    title = "Panel"
    keeps_history = False  # True: it must see every snapshot, even hidden (it accumulates points)

    _dirty = False  # data changed since the last draw
    _pacer = None   # a RedrawPacer (gui/panels/curves.py) for panels that redraw at most so often while running

    def show_snapshot(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def on_screen(self) -> bool:
        """Seen by a person: visible, and not a dock tab hidden behind another one (Qt still calls
        those widgets visible)."""
        if not self.isVisible():
            return False
        dock = self.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        return dock is None or not dock.visibleRegion().isEmpty()

    @property
    def redraw_interval(self) -> float:
        """Seconds between redraws at most while training runs (0: every snapshot)."""
        return self._pacer.interval if self._pacer is not None else 0.0

    @redraw_interval.setter
    def redraw_interval(self, seconds: float):
        self._pacer.interval = seconds

    def request_draw(self, live: bool = False) -> None:
        """Mark the panel out of date; draw now if it is on screen (and, while training runs, its
        pacer says a redraw is due), else once it is shown."""
        self._dirty = True
        if self.on_screen() and (self._pacer is None or self._pacer.due(live)):
            self._draw()

    def draw_if_dirty(self) -> None:
        """Catch up after being hidden (the window calls it when the panel's dock tab is raised)."""
        if self._dirty and self.on_screen():
            self._draw()

    def showEvent(self, event):
        super().showEvent(event)
        if self._dirty:
            self._draw()

    def _draw(self) -> None:
        """Draw what changed. The default draws the latest snapshot kept by ``show_paced``
        through ``draw_snapshot``; panels with their own deferred drawing override this."""
        self._dirty = False
        if self._pacer is not None:
            self._pacer.drawn()
        snapshot = getattr(self, "_snapshot", None)
        if snapshot is not None:
            self.draw_snapshot(snapshot)

    def show_paced(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` and draw it when on screen (paced while training runs)."""
        self._snapshot = snapshot
        self.request_draw(live=snapshot.status == "running")

    def draw_snapshot(self, snapshot: Snapshot) -> None:
        """Draw one snapshot (panels using ``show_paced``)."""

    def reset(self) -> None:
        """Forget accumulated history (a new run started). Panels without history need not override."""

    def __repr__(self):
        return f"{type(self).__name__}()"
