"""The status bar: where training is, the last real figures, where the data came from, and whether
the window is looking back at weights saved earlier."""
from __future__ import annotations

import math
import time

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QLabel, QSizePolicy, QStatusBar

from core.snapshot import Snapshot, Status

DATA_LABEL_PX = 420   # the data-source text is cut to this width (tooltip: all of it)
WARNING_STYLE = "color: #b00020; font-weight: bold;"
PAST_STYLE = "color: #8a4b00; font-weight: bold;"
NOTE_SECONDS = 8.0


def test_text(snap: Snapshot) -> str:
    """The latest test accuracy with when it was measured, or ""."""
    last = snap.epochs[-1] if snap.epochs else None
    check = snap.test_checks[-1] if snap.test_checks else None
    if check and (last is None or check.step > last.step) and math.isfinite(check.test_accuracy):
        return f"test accuracy {100 * check.test_accuracy:.2f}% (at step {check.step})"
    if last and math.isfinite(last.test_accuracy):
        when = (f"after epoch {last.epoch}" if last.epoch else
                "untrained" if snap.origin == "new" else f"as loaded, step {last.step}")
        return f"test accuracy {100 * last.test_accuracy:.2f}% ({when})"
    return ""


class StatusBar(QStatusBar):
    """Follows the ViewState: ``attach(view)``. A snapshot without cost points (paused, stepped by a
    request) keeps the last real cost and batch accuracy instead of showing NaN."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel("Loading data…")
        # Long text is cut at the window's edge (its tooltip has all of it), never widening the window.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(1)
        self.data_label = QLabel("")
        self.addWidget(self.label, 1)
        self.addPermanentWidget(self.data_label)
        self._figures = (math.nan, math.nan, None)   # last real (cost, batch accuracy, run id)
        self._style = ""
        self._note = ("", 0.0)       # (text, until time.monotonic()): a message shown for a while
        self.view = None

    def attach(self, view) -> None:
        self.view = view
        view.live_changed.connect(self._on_view_changed)
        view.past_changed.connect(self._on_view_changed)

    def say(self, text: str) -> None:
        self.label.setText(text)

    def note(self, text: str, seconds: float = NOTE_SECONDS) -> None:
        """Show ``text`` after the figures for ``seconds`` (or until the next note)."""
        self._note = (text, time.monotonic() + seconds)
        self._on_view_changed()
        QTimer.singleShot(int(seconds * 1000) + 50, self._on_view_changed)   # gone even while paused

    def show_source(self, source: str) -> None:
        metrics = self.data_label.fontMetrics()
        self.data_label.setText(metrics.elidedText(source, Qt.TextElideMode.ElideRight, DATA_LABEL_PX))
        self.data_label.setToolTip(source)

    def _on_view_changed(self, _=None) -> None:
        live = self.view.live if self.view is not None else None
        if live is None:
            if self._note[0]:
                self.label.setText(self._note[0])
            return
        text = self.text_for(live)
        past = self.view.past
        if past is not None:
            text = (f"Looking back at step {past.step:,} (the panels marked ⏪ show it; "
                    f"training is at step {live.step:,}; Live returns)   —   {text}")
        self._set_style(PAST_STYLE if past is not None else
                        WARNING_STYLE if live.status in (Status.DIVERGED, Status.ERROR)
                        or live.message.startswith("Warning") else "")
        self.label.setText(text)
        self.label.setToolTip(text)

    def text_for(self, snap: Snapshot) -> str:
        cost, accuracy, run = self._figures
        if len(snap.cost_values) or run != snap.run_id:
            cost, accuracy = snap.cost, snap.accuracy
            self._figures = (cost, accuracy, snap.run_id)
        parts = [str(snap.status), f"epoch {snap.epoch} ({100 * snap.epoch_fraction:.0f}%)", f"step {snap.step}"]
        if math.isfinite(cost):
            parts += [f"cost {cost:.4f}", f"batch accuracy {100 * accuracy:.1f}%"]
        parts += [test_text(snap), f"{snap.samples_per_second:,.0f} samples/s" if snap.samples_per_second else ""]
        text = "   ".join(p for p in parts if p)
        note, until = self._note
        for extra in (snap.message, note if time.monotonic() < until else ""):
            if extra:
                text += f"   —   {extra}"
        return text

    def _set_style(self, style: str) -> None:
        if style != self._style:   # restyling every frame costs a relayout
            self._style = style
            self.label.setStyleSheet(style)
