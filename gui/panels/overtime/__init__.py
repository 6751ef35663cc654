"""The "Over time" workspace's panels: how the whole network changes as it learns (hidden space,
distributions over time, the loss landscape). ``PANELS`` lists them in dock order; gui.registry
adds them."""
from gui.panels.overtime.distributions import DistributionsPanel
from gui.panels.overtime.hidden_space import HiddenSpacePanel
from gui.panels.overtime.landscape import LandscapePanel

PANELS: tuple = (HiddenSpacePanel, DistributionsPanel, LandscapePanel)
