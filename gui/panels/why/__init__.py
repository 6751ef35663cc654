"""The "Why" workspace's panels: why the network answered what it did (saliency, knock-outs,
adversarial digits, class dreams). ``PANELS`` lists them in dock order; gui.registry adds them."""
PANELS: tuple = ()
