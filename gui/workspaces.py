"""Workspaces: a few named layouts of the panels, each for one activity, chosen from the View menu
or with Ctrl+1…7. A panel says which workspaces show it (``Panel.workspaces``) and where it docks;
a workspace says how much of the window each dock area gets, and which tabs come to the front.

Overview is the calm default a newcomer meets: the network, its weights, the cost and a few
numbers. The others give one part of the window most of the room.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PyQt6.QtCore import Qt

MIN_SIDE_PX = 250   # a side dock narrower than this shows too little (the settings' values get cut)
AREA = {"left": Qt.DockWidgetArea.LeftDockWidgetArea, "right": Qt.DockWidgetArea.RightDockWidgetArea,
        "bottom": Qt.DockWidgetArea.BottomDockWidgetArea}


@dataclass(frozen=True)
class Workspace:
    """``widths``/``heights``: the share of the window's width (left, right) or height (bottom) a dock
    area gets; ``front``: docks raised in their tab group; ``extra``: docks that are not panels
    (Settings) shown here; ``areas``: a panel's dock area in this workspace, where it differs."""

    name: str
    key: str
    purpose: str
    widths: dict = field(default_factory=dict)
    heights: dict = field(default_factory=dict)
    front: tuple = ()
    extra: tuple = ()
    areas: dict = field(default_factory=dict)


WORKSPACES = (
    Workspace("Overview", "Ctrl+1", "the network, its weights and the cost: where to start",
              widths={"left": 0.2, "right": 0.34}, heights={"bottom": 0.34},
              front=("Cost",), extra=("Settings",)),
    Workspace("Weights", "Ctrl+2", "every hidden neuron's weights large, one neuron up close, the timeline",
              widths={"left": 0.64, "right": 0.34}, heights={"bottom": 0.34},
              front=("Weights", "Timeline", "Neuron"), areas={"Weights": "left", "Neuron": "right"}),
    Workspace("Backprop", "Ctrl+3", "the chain rule for one neuron with the live numbers",
              widths={"right": 0.58}, heights={"bottom": 0.30},
              front=("Backprop",), areas={"Backprop": "right"}),
    Workspace("Evaluate", "Ctrl+4", "test-set results, mistakes, your own digits and run comparisons",
              widths={"left": 0.40, "right": 0.58}, heights={"bottom": 0.34},
              front=("Evaluate",), areas={"Draw": "left", "Evaluate": "right"}),
    Workspace("Lessons", "Ctrl+5", "short lessons that follow the notes on the live network",
              widths={"left": 0.36}, heights={"bottom": 0.30}, front=("Lessons",), areas={"Lessons": "left"}),
    Workspace("Why", "Ctrl+6", "why it answered that: saliency, knock-outs, adversarial digits, dreams",
              widths={"left": 0.5, "right": 0.5}, heights={"bottom": 0.34}, front=("Saliency", "Knock-out", "Dreams")),
    Workspace("Over time", "Ctrl+7", "how the network changes: hidden space, distributions, the loss landscape", widths={"left": 0.42, "right": 0.56}, front=("Distributions",)),
)


def workspace(name: str) -> Workspace:
    for w in WORKSPACES:
        if w.name == name:
            return w
    raise KeyError(f"no workspace {name!r}; there are {', '.join(w.name for w in WORKSPACES)}")


def members(ws: Workspace, panels: dict) -> list:
    """The panels (in registry order) that ``ws`` shows."""
    return [p for p in panels.values() if ws.name in p.workspaces]


def apply(window, ws: Workspace) -> None:
    """Show ``ws``'s panels in ``window`` (a MainWindow: its panels and docks) and size the areas."""
    shown = members(ws, window.panels)
    titles = {p.title for p in shown} | set(ws.extra)
    central = window.centralWidget()
    for title, dock in window.docks.items():
        if title not in titles:
            dock.hide()
    if central is not None:
        central.setVisible(central.title in titles)
    placed = {}
    for title in ws.extra:
        _place(window, title, "left", None, placed)
    for panel in shown:
        if panel.area != "center":
            area = ws.areas.get(panel.title, panel.area)
            partner = panel.tab_with if panel.tab_with in placed and placed[panel.tab_with] == area else None
            _place(window, panel.title, area, partner, placed)
    for title in (*ws.front, *[p.title for p in shown if p.tab_with is None]):
        if title in placed:
            window.docks[title].raise_()
    for title in ws.front:
        if title in placed:
            window.docks[title].raise_()
    _size(window, ws, placed)


def _place(window, title: str, area: str, partner, placed: dict) -> None:
    dock = window.docks[title]
    window.removeDockWidget(dock)
    window.addDockWidget(AREA[area], dock)
    if partner is not None:
        window.tabifyDockWidget(window.docks[partner], dock)
    dock.show()
    placed[title] = area


def _size(window, ws: Workspace, placed: dict) -> None:
    """Give each area its share: one dock per area (the first placed) is resized, the others follow."""
    w, h = window.width(), window.height()
    firsts = {}
    for title, area in placed.items():
        firsts.setdefault(area, title)
    across = [(firsts[a], ws.widths[a]) for a in ("left", "right") if a in firsts and a in ws.widths]
    if across:
        window.resizeDocks([window.docks[t] for t, _ in across], [max(int(f * w), MIN_SIDE_PX) for _, f in across],
                           Qt.Orientation.Horizontal)
    if "bottom" in firsts and "bottom" in ws.heights:
        bottoms = [t for t, a in placed.items() if a == "bottom"]
        window.resizeDocks([window.docks[t] for t in bottoms], [int(ws.heights["bottom"] * h)] * len(bottoms),
                           Qt.Orientation.Vertical)
