"""How good is the network, digit by digit: confusion matrix, per-class accuracy, the mistakes.

Everything is computed from ``Network.output`` (the core's own forward pass); nothing here repeats
the maths of a layer. ``network_from_snapshot`` rebuilds a Network around a Snapshot's frozen
weights so the GUI can evaluate or run a drawn digit without touching the training thread's network.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.network import Network, silenced_layers


# --- a network from frozen weights -------------------------------------------------------------
def network_from_weights(W, b, activation="sigmoid", cost="cross-entropy",
                         reuse: Network | None = None, seed: int = 0) -> Network:
    """A Network whose layers are ``W[l]`` (n_out, n_in) and ``b[l]``, shared, not copied.

    The arrays may be read-only (a Snapshot's are): forward passes work, training would fail loudly,
    which is what we want. Use ``.copy()`` for a network to train. ``reuse``, when it has the same
    architecture, is given the new weights instead of building (and randomly initialising) another;
    ``seed`` is only recorded (``config()``), the weights are the ones given.
    """
    W, b = [np.asarray(w) for w in W], [np.asarray(v) for v in b]
    sizes = (W[0].shape[1], *(w.shape[0] for w in W))
    if not _same_architecture(reuse, sizes, activation, cost, W[0].dtype):
        reuse = Network(sizes, activation, cost, seed=seed, dtype=W[0].dtype)
    reuse.W, reuse.b, reuse.seed = W, b, seed
    return reuse


def network_from_snapshot(snapshot, reuse: Network | None = None) -> Network:
    """A Network holding ``snapshot``'s weights (read-only, shared: nothing is copied) with its
    activation, cost and seed, and the neurons the trainer had knocked out (``snapshot.silenced``)
    held silent, so it answers as the trained network does. For a network to train or keep, take
    ``.copy()`` of it."""
    config = snapshot.config
    net = network_from_weights(snapshot.W, snapshot.b, config["activation"], config["cost"], reuse,
                               config.get("seed", 0))
    net.silence(silenced_layers(getattr(snapshot, "silenced", ())))
    return net


def _same_architecture(net, sizes, activation, cost, dtype) -> bool:
    return (net is not None and net.sizes == tuple(sizes) and net.activation.name == activation
            and net.cost.name == cost and net.dtype == np.dtype(dtype))


# --- counting right and wrong ------------------------------------------------------------------
def confusion_matrix(labels, predicted, n: int = 10) -> np.ndarray:
    """(n, n) int64 counts: row = true digit, column = predicted digit."""
    labels, predicted = np.asarray(labels, np.int64), np.asarray(predicted, np.int64)
    return np.bincount(labels * n + predicted, minlength=n * n).reshape(n, n)


def per_class_accuracy(cm) -> np.ndarray:
    """For each true digit, the share (0–1) predicted right: diagonal / row sum; NaN for absent digits."""
    cm = np.asarray(cm, dtype=np.float64)
    totals = cm.sum(axis=1)
    return np.divide(np.diag(cm), totals, out=np.full(len(cm), np.nan), where=totals > 0)


def top_outputs(output_row, top: int = 3) -> list:
    """The ``top`` largest outputs of one sample as [(digit, value), ...], largest first.

    NaN ranks first and ties keep digit order, as in ``np.argmax``: the first pair is the prediction.
    """
    row = np.nan_to_num(np.asarray(output_row, dtype=np.float64), nan=np.inf)
    order = np.argsort(-row, kind="stable")[:top]
    return [(int(k), float(output_row[k])) for k in order]


def misclassified(net_output, labels, top: int = 3) -> list:
    """Every wrongly predicted sample, in data-set order, as (index, label, [(digit, output) × top]).

    The first pair is the prediction. Outputs are probabilities for softmax; for sigmoid outputs
    (quadratic cost) they are each output's own 0–1 value and need not sum to 1.
    """
    out = np.asarray(net_output)
    labels = np.asarray(labels)
    wrong = np.flatnonzero(np.argmax(out, axis=1) != labels)
    return [(int(i), int(labels[i]), top_outputs(out[i], top)) for i in wrong]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """A network's results on a data set: confusion matrix ``cm`` (rows true, columns predicted),
    ``accuracy`` 0–1, ``per_class`` accuracy 0–1 per true digit, ``mistakes`` as from
    :func:`misclassified`, and ``predicted`` digit of every sample."""

    cm: np.ndarray
    accuracy: float
    per_class: np.ndarray
    mistakes: list
    predicted: np.ndarray

    @property
    def n(self) -> int:
        return int(self.cm.sum())

    def mistakes_for(self, true=None, predicted=None) -> list:
        """The mistakes with true digit ``true`` and/or predicted digit ``predicted`` (None: any)."""
        return [m for m in self.mistakes
                if (true is None or m[1] == true) and (predicted is None or m[2][0][0] == predicted)]

    def __repr__(self):
        return f"Evaluation(n={self.n}, accuracy={self.accuracy:.4f}, mistakes={len(self.mistakes)})"


def evaluate(net: Network, dataset, top: int = 3) -> Evaluation:
    """Run ``net`` over ``dataset`` (``images`` (N, 784), ``labels`` (N,)) and count what it got right."""
    out = net.output(dataset.images)
    labels = np.asarray(dataset.labels, dtype=np.int64)
    predicted = np.argmax(out, axis=1)  # as Network.predict, so accuracies agree exactly
    cm = confusion_matrix(labels, predicted, net.sizes[-1])
    accuracy = float(np.trace(cm) / len(labels)) if len(labels) else float("nan")
    return Evaluation(cm=_read_only(cm), accuracy=accuracy, per_class=_read_only(per_class_accuracy(cm)),
                      mistakes=misclassified(out, labels, top), predicted=_read_only(predicted))


def evaluate_snapshot(snapshot, dataset) -> Evaluation:
    """The test-set evaluation of ``snapshot``'s weights on ``dataset`` (run in the analysis
    process: the trainer is never touched)."""
    return evaluate(network_from_snapshot(snapshot), dataset)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
