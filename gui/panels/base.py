"""The common shape of every panel."""
from __future__ import annotations

from PyQt6.QtWidgets import QWidget

from core.snapshot import Snapshot


class Panel(QWidget):
    """A view of training. Subclasses build their pyqtgraph items once in ``__init__`` and then only
    update their data in ``show_snapshot``; they never touch the trainer or the network."""

    title = "Panel"
    keeps_history = False  # True: it must see every snapshot, even hidden (it accumulates points)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget accumulated history (a new run started). Panels without history need not override."""

    def __repr__(self):
        return f"{type(self).__name__}()"
