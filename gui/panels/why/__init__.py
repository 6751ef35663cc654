"""The "Why" workspace's panels: why the network answered what it did (saliency, knock-outs,
adversarial digits, class dreams). ``PANELS`` lists them in dock order; gui.registry adds them."""
from gui.panels.why.adversarial import AdversarialPanel
from gui.panels.why.dreams import DreamsPanel
from gui.panels.why.knockout import AblationPanel, KnockoutPanel
from gui.panels.why.saliency import SaliencyPanel

PANELS: tuple = (SaliencyPanel, KnockoutPanel, AblationPanel, AdversarialPanel, DreamsPanel)
