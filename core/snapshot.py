"""The one message that crosses from the training thread to the window: a frozen Snapshot."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np


class Status(str, Enum):
    """What training is doing at a snapshot. A ``str`` so ``status == "paused"`` reads naturally."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    ERROR = "error"
    TIMELINE = "timeline"   # not live: weights saved earlier, looked at again

    def __str__(self):
        return self.value

    @property
    def halted(self) -> bool:
        """Training is not moving on by itself: paused, or ended by divergence, an error or stop."""
        return self is not Status.RUNNING


def frozen(array) -> np.ndarray:
    """A read-only copy of ``array``: the receiver can keep it, nobody can change it."""
    out = np.array(array, copy=True)
    out.flags.writeable = False
    return out


def sealed(array: np.ndarray) -> np.ndarray:
    """``array`` itself made read-only, without a copy: only for an array just made by the caller
    that nobody else holds a writeable reference to (a gradient fresh from the backward pass)."""
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class EpochRecord:
    """Test-set figures after an epoch (epoch 0 is the untrained network)."""

    epoch: int
    step: int
    train_cost: float
    test_cost: float
    test_accuracy: float


@dataclass(frozen=True)
class TestCheck:
    """The whole test set's figures at ``step``, measured between epochs while training runs."""

    __test__ = False   # a name pytest would otherwise try to collect

    step: int
    test_cost: float
    test_accuracy: float


MAX_TRACED = 256   # digits of the next mini-batch whose z, a and δ a snapshot carries


@dataclass(frozen=True)
class BatchTrace:
    """The next mini-batch through the current network: what the next step will compute and apply.

    ``z``/``a``/``delta`` are per layer with one row per digit kept (``a[0]`` the images): the first
    ``MAX_TRACED`` digits of the batch at most, so a batch of 40,000 does not copy 40,000 images into
    every snapshot. ``dW``/``db`` are the averages over the whole batch of ``size`` digits, the
    gradient the next step will use (before momentum and L2).
    """

    indices: np.ndarray    # rows of the training set (the digits kept)
    labels: np.ndarray
    z: tuple
    a: tuple
    delta: tuple
    dW: tuple
    db: tuple
    size: int = 0          # digits in the whole batch (0: as many as kept)

    def __len__(self):
        """The digits kept, one row each."""
        return len(self.labels)

    @property
    def n(self) -> int:
        """Digits in the whole mini-batch: the n of (1/n) Σ."""
        return self.size or len(self.labels)


@dataclass(frozen=True)
class Snapshot:
    """The exact state of training at ``step``, with read-only copies of everything a panel draws.

    Layer-indexed tuples have one entry per weight layer l (``W[l]`` is (n_out, n_in)); the probe
    activations have one more, ``probe_a[0]`` being the probe image itself.
    """

    step: int
    epoch: int                     # epochs completed
    epoch_fraction: float          # how far into the current epoch, 0–1
    steps_per_epoch: int
    status: Status
    config: dict                   # sizes, activation, cost, lr, momentum, l2, batch_size, seed
    W: tuple
    b: tuple
    dW: tuple                      # last step's ∂C/∂W averaged over its batch
    db: tuple
    probe_index: int               # index in the test set; -1 for a drawn digit
    probe_label: int               # the target y of probe_delta (see probe_label_known)
    probe_z: tuple
    probe_a: tuple
    probe_delta: tuple             # δ = ∂C0/∂z of every layer for the probe digit, from Network.backward
    grad_layer_norms: np.ndarray   # ‖∂C/∂(W, b)‖ per layer, last step
    grad_neuron_norms: tuple       # ‖∂C/∂W_j‖ per neuron j, per layer, last step
    update_ratios: np.ndarray      # ‖ΔW‖ / ‖W‖ per layer, last step
    cost_steps: np.ndarray         # step numbers of the points since the previous snapshot
    cost_values: np.ndarray        # training cost of each of those steps
    accuracy_values: np.ndarray    # batch accuracy of each of those steps
    grad_norm_values: np.ndarray   # (points, layers): gradient norm per layer at those steps
    epochs: tuple = ()             # every EpochRecord so far
    test_checks: tuple = ()        # TestChecks between epochs (thinned evenly to at most a few hundred)
    samples_per_second: float = 0.0
    message: str = ""              # why training paused or stopped, when it did
    data_source: str = ""
    probe_label_known: bool = True  # False: a drawn digit whose label nobody gave (the network's answer)
    origin: str = "new"            # "loaded": this run started from a saved network, not a new one
    run_id: int = 0                # a new network (Reset, Load) gets a new id
    live_step: int | None = None   # looking back: the live run's step meanwhile; None when live
    next_batch: BatchTrace | None = None  # the mini-batch the next step trains on, traced now
    silenced: tuple = ()           # (l, j) of hidden neurons the trainer holds at 0 (knocked out), sorted

    @property
    def running(self) -> bool:
        """Training was running on its own when this was taken (panels then pace their redraws)."""
        return self.status == Status.RUNNING

    @property
    def cost(self) -> float:
        """The latest training cost, NaN before the first step."""
        return float(self.cost_values[-1]) if len(self.cost_values) else float("nan")

    @property
    def accuracy(self) -> float:
        return float(self.accuracy_values[-1]) if len(self.accuracy_values) else float("nan")

    @property
    def sizes(self) -> tuple:
        return tuple(self.config["sizes"])

    def __repr__(self):
        return (f"Snapshot(step={self.step}, epoch={self.epoch}, status={self.status!r}, "
                f"sizes={self.sizes}, cost={self.cost:.4g})")


def test_points(epochs, checks) -> np.ndarray:
    """The test set's figures through a run as rows (step, test cost, test accuracy), by step:
    every TestCheck, and the EpochRecords from the first check on (none before it, so a line drawn
    through them never spans steps nobody measured). Empty (0, 3) without checks."""
    first = checks[0].step if checks else float("inf")
    by_step = {c.step: (c.test_cost, c.test_accuracy) for c in checks}
    by_step.update({r.step: (r.test_cost, r.test_accuracy) for r in epochs if r.step >= first})
    return np.array([(step, *by_step[step]) for step in sorted(by_step)], dtype=np.float64).reshape(-1, 3)


POINT_FIELDS = ("cost_steps", "cost_values", "accuracy_values", "grad_norm_values")


def merge_points(older: Snapshot, newer: Snapshot) -> Snapshot:
    """``newer`` carrying ``older``'s cost points too: for a snapshot that replaces an unread one.
    Points of another run (a Reset or a loaded network, maybe of another shape) are dropped."""
    from dataclasses import replace
    if older.run_id != newer.run_id:
        return newer
    merged = {name: frozen(np.concatenate([getattr(older, name), getattr(newer, name)]))
              for name in POINT_FIELDS}
    return replace(newer, **merged)


def network_from_snapshot(snapshot: Snapshot):
    """A Network holding a copy of the snapshot's weights (to save or keep); see
    core.evaluate.network_from_snapshot for one that shares them."""
    from core.evaluate import network_from_snapshot as sharing
    return sharing(snapshot).copy()
