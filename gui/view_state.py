"""What the window is looking at, as one evented model: panels subscribe to its signals.

The training worker decides the live state; the person decides the rest: which neuron is selected,
whether the Timeline shows weights saved earlier, and whether a drawn digit is the probe. Every
change goes through a setter here and is announced once; nobody pushes into panels by hand.
"""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from core.snapshot import Snapshot


class ViewState(QObject):
    """The latest live snapshot, the one looked back at (or None), the drawn digit and the selection."""

    run_started = pyqtSignal(int)          # a new network (Reset, Load, new data): forget histories
    live_changed = pyqtSignal(object)      # every live Snapshot, in order
    past_changed = pyqtSignal(object)      # a Snapshot of weights saved earlier, or None: live again
    drawing_changed = pyqtSignal(object)   # the drawn (784,) image, or None when the paper is wiped
    neuron_selected = pyqtSignal(int, int)  # (weight layer l, neuron j)
    explain_requested = pyqtSignal(int)    # a test digit's index: "why did it answer that?" (the Why panels)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.live: Snapshot | None = None
        self.past: Snapshot | None = None
        self.drawing = None
        self.neuron: tuple | None = None
        self.run_id: int | None = None
        self.last_good: Snapshot | None = None   # the latest live snapshot whose weights are all finite

    @property
    def looking_back(self) -> bool:
        return self.past is not None

    def shown(self, follows_past: bool) -> Snapshot | None:
        """What a panel should show: the past while looking back (if it follows the Timeline), else live."""
        return self.past if follows_past and self.past is not None else self.live

    # --- setters: each announces its change once ----------------------------------------------
    def set_live(self, snapshot: Snapshot) -> None:
        if snapshot.run_id != self.run_id:
            self.run_id = snapshot.run_id
            if self.past is not None:
                self.set_past(None)
            self.run_started.emit(snapshot.run_id)
        self.live = snapshot
        if all(np.isfinite(W).all() for W in snapshot.W) and all(np.isfinite(b).all() for b in snapshot.b):
            self.last_good = snapshot
        self.live_changed.emit(snapshot)

    def set_past(self, snapshot: Snapshot | None) -> None:
        if snapshot is None and self.past is None:
            return
        self.past = snapshot
        self.past_changed.emit(snapshot)

    def set_drawing(self, image) -> None:
        self.drawing = image
        self.drawing_changed.emit(image)

    def select_neuron(self, l: int, j: int) -> None:
        self.neuron = (int(l), int(j))
        self.neuron_selected.emit(int(l), int(j))

    def explain_digit(self, index: int) -> None:
        """Ask the Why workspace to explain test digit ``index`` (a mistake in Evaluate's gallery)."""
        self.explain_requested.emit(int(index))

    def __repr__(self):
        live = self.live.step if self.live is not None else None
        past = self.past.step if self.past is not None else None
        return f"ViewState(live_step={live}, past_step={past}, neuron={self.neuron}, drawing={self.drawing is not None})"
