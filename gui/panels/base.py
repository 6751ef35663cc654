"""The common shape of every panel: what it declares about itself, and how snapshots reach it.

A panel declares where it docks, whether it follows the Timeline, its help text and the workspaces
it belongs to; ``gui.registry.PANELS`` lists the panel classes and the window is built from that list.
A panel subscribes to the ``ViewState`` in ``attach`` (the window calls it once); the base class
routes snapshots: a panel on screen draws at once (paced while training runs), a hidden one keeps
the latest and draws it the moment it is shown, paused or not.
"""
from __future__ import annotations

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QDockWidget, QLabel, QWidget

from core.snapshot import Snapshot


class Panel(QWidget):
    """A view of training. Subclasses build their pyqtgraph items once in ``__init__`` and then only
    update their data in ``show_snapshot``; they never touch the trainer or the network."""

    title = "Panel"
    area = "bottom"            # where it docks: "left", "right", "bottom" or "center"
    tab_with: str | None = None  # the title of a dock to share tabs with
    follows_past = False       # True: while the Timeline looks back, it shows the weights saved then
    keeps_history = False      # True: it must see every snapshot, even hidden (it accumulates points)
    help = ""                  # one paragraph for Help ▸ Guide (a test keeps every panel explained)
    workspaces: tuple = ("Overview",)   # the named layouts that show it (gui.workspaces)

    _dirty = False  # data changed since the last draw
    _pacer = None   # a gui.widgets.RedrawPacer for panels that redraw at most so often while running
    _pending: Snapshot | None = None    # offered while hidden, drawn once shown
    view = None     # the ViewState, once attached
    past_badge: QLabel | None = None    # shown while the panel shows the Timeline's past weights

    # --- subscriptions ---------------------------------------------------------------------------
    def attach(self, view, training) -> None:
        """Subscribe to ``view`` (a gui.view_state.ViewState); ``training`` (gui.training.Training)
        takes requests. Panels that offer controls extend this and connect their own signals."""
        self.view = view
        view.run_started.connect(self._on_run_started)
        view.live_changed.connect(self._on_live_changed)
        if self.follows_past:
            view.past_changed.connect(self._on_past_changed)

    def _on_run_started(self, _run_id: int) -> None:
        self._pending = None
        self.reset()

    def _on_live_changed(self, snapshot: Snapshot) -> None:
        if self.follows_past and self.view.looking_back:
            return   # it shows the Timeline's weights until Live is pressed
        self.offer(snapshot)

    def _on_past_changed(self, past: Snapshot | None) -> None:
        shown = past if past is not None else self.view.live
        self._mark_past(past)
        if shown is not None:
            self.offer(shown)

    def _mark_past(self, past: Snapshot | None) -> None:
        """A badge in the corner while the panel shows weights saved earlier, so nobody takes them for now."""
        if past is None:
            if self.past_badge is not None:
                self.past_badge.hide()
            return
        if self.past_badge is None:
            self.past_badge = QLabel(self)
            self.past_badge.setObjectName("past_badge")
            self.past_badge.setStyleSheet("QLabel { background: #8a4b00; color: white; font-weight: bold;"
                                          " border-radius: 3px; padding: 2px 6px; }")
        live = f", live {past.live_step:,}" if past.live_step is not None else ""
        self.past_badge.setText(f"⏪ step {past.step:,}{live}")
        self.past_badge.setToolTip("Looking back: the Timeline shows the weights saved at this step. "
                                   "Press Live in the Timeline to return.")
        self.past_badge.adjustSize()
        self._place_badge()
        self.past_badge.show()
        self.past_badge.raise_()

    def _place_badge(self) -> None:
        if self.past_badge is not None:
            self.past_badge.move(max(0, self.width() - self.past_badge.width() - 6), 4)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place_badge()

    def offer(self, snapshot: Snapshot) -> None:
        """Show ``snapshot`` now when seen (or when the panel must see every one), else when shown."""
        if self.keeps_history or self.on_screen():
            self._pending = None
            self.show_snapshot(snapshot)
        else:
            self._pending = snapshot

    def on_dock_visibility(self, visible: bool) -> None:
        """The panel's dock was shown or its tab raised: catch up once Qt has laid it out."""
        if visible:
            QTimer.singleShot(0, self.catch_up)

    def catch_up(self) -> None:
        """Draw what arrived while hidden (the window calls it when the panel's dock tab is raised)."""
        if not self.on_screen():
            return
        if self._pending is not None:
            snapshot, self._pending = self._pending, None
            self.show_snapshot(snapshot)
        self.draw_if_dirty()

    # --- drawing ---------------------------------------------------------------------------------
    def show_snapshot(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def on_screen(self) -> bool:
        """Seen by a person: visible, and not a dock tab hidden behind another one (Qt still calls
        those widgets visible)."""
        if not self.isVisible():
            return False
        dock = self.dock()
        return dock is None or not dock.visibleRegion().isEmpty()

    def dock(self) -> QDockWidget | None:
        widget = self.parentWidget()
        while widget is not None and not isinstance(widget, QDockWidget):
            widget = widget.parentWidget()
        return widget

    def bring_forward(self) -> None:
        """Show the panel's dock and raise its tab."""
        dock = self.dock()
        if dock is not None:
            dock.show()
            dock.raise_()

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
        """Draw what was marked out of date, if the panel is seen."""
        if self._dirty and self.on_screen():
            self._draw()

    def showEvent(self, event):
        super().showEvent(event)
        if self._pending is not None or self._dirty:
            self.catch_up()

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
        self.request_draw(live=snapshot.running)

    def draw_snapshot(self, snapshot: Snapshot) -> None:
        """Draw one snapshot (panels using ``show_paced``)."""

    def shutdown(self) -> None:
        """The window is closing: end any thread of the panel's own (the default has none)."""

    def reset(self) -> None:
        """Forget accumulated history (a new run started). Panels without history need not override."""

    def __repr__(self):
        return f"{type(self).__name__}()"
