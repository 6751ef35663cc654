"""The "Over time" workspace's panels: how the whole network changes as it learns (hidden space,
distributions over time, the loss landscape). ``PANELS`` lists them in dock order; gui.registry
adds them."""
PANELS: tuple = ()
