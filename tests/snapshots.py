"""Hand-made Snapshots for panel tests: a real Trainer on small synthetic digits, no files needed."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from core.network import Network
from core.trainer import Trainer
from core.worker_loop import Outlet


def synthetic_digits(n=300, seed=0):
    """Images with a bright bar whose position encodes the label: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.random((n, 28, 28)).astype(np.float32) * 0.2
    for i, y in enumerate(labels):
        images[i, 2 + 2 * y: 4 + 2 * y, 4:24] = 1.0
    images = images.reshape(n, 784)
    images.flags.writeable = False
    return SimpleNamespace(images=images, labels=labels)


def small_data():
    """A small learnable data set in the shape the window takes (train, test, source, kind)."""
    return SimpleNamespace(train=synthetic_digits(600, 0), test=synthetic_digits(200, 1),
                           source="synthetic test digits", kind="synthetic")


def make_trainer(sizes=(784, 16, 10), activation="sigmoid", cost="cross-entropy", seed=0, **hyper):
    train, test = synthetic_digits(300, seed), synthetic_digits(100, seed + 1)
    net = Network(sizes, activation, cost, seed=seed)
    return Trainer(net, train, test, seed=seed, **hyper)


def make_snapshot(steps=5, status="paused", sizes=(784, 16, 10), **kwargs):
    """A Snapshot after ``steps`` real training steps."""
    trainer = make_trainer(sizes, **kwargs)
    for _ in range(steps):
        trainer.step()
    return trainer.snapshot(status)


def make_snapshots(count=3, steps_between=4, sizes=(784, 16, 10), **kwargs):
    """A sequence of Snapshots from one run, as the worker would stream them."""
    trainer = make_trainer(sizes, **kwargs)
    trainer.record_epoch()
    out = []
    for _ in range(count):
        for _ in range(steps_between):
            trainer.step()
        out.append(trainer.snapshot("running"))
    return out


def open_panel(qtbot, cls, size=(900, 600), show=True, unpaced=False):
    """A panel of class ``cls`` at ``size``, closed with the test. ``show``: on screen (panels
    nobody sees do not draw); ``unpaced``: every snapshot drawn at once (pacing has its own tests)."""
    panel = cls()
    qtbot.addWidget(panel)
    panel.resize(*size)
    if unpaced:
        panel.redraw_interval = 0
    if show:
        panel.show()
    return panel


class Keep(Outlet):
    """A TrainingLoop outlet that keeps every snapshot it is given, in order."""

    def __init__(self):
        self.snapshots = []

    def deliver(self, snapshot):
        self.snapshots.append(snapshot)
