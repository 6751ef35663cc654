"""Every panel of the window, in the order their docks are built. Adding a panel is one new file in
gui/panels/ (a Panel subclass declaring its title, dock place, help and workspaces) and one line here
(the Why and Over time panels are listed in their packages' ``PANELS``).
A panel that tabs with another comes after it."""
from __future__ import annotations

from gui.lessons.panel import LessonsPanel
from gui.panels.activations import ActivationsPanel
from gui.panels.backprop import BackpropPanel
from gui.panels.compare import ComparePanel
from gui.panels.curves import CurvesPanel
from gui.panels.draw import DrawPanel
from gui.panels.evaluate import EvaluatePanel
from gui.panels.gradients import GradientsPanel
from gui.panels.layout import LayoutPanel
from gui.panels.neuron import NeuronInspector
from gui.panels.timeline import TimelinePanel
from gui.panels.weights import WeightsPanel
from gui.panels import overtime, why

PANELS = (
    LayoutPanel,
    WeightsPanel,
    NeuronInspector,
    DrawPanel,
    EvaluatePanel,
    CurvesPanel,
    ComparePanel,
    GradientsPanel,
    TimelinePanel,
    ActivationsPanel,
    BackpropPanel,
    LessonsPanel,
    *why.PANELS,
    *overtime.PANELS,
)
