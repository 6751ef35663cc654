"""Backpropagation for one neuron and one digit, written out term by term for the Backprop panel.

Nothing here re-derives backprop. The numbers are read from what the core computed: the probe
digit's z, a and δ of every layer (``Network.forward``/``backward``, carried by a Snapshot), the
weights, and the last mini-batch's averaged gradient. The only arithmetic done here is the
arithmetic a reader would do by hand to check the core: Σ_k w_jk a_k, σ'(z_j), Σ_i w_ij δ_i,
a_k δ_j, −η ∂C/∂w. ``NeuronExplanation.delta_from_parts`` puts δ_j back together from the pieces,
so the explanation carries its own consistency check.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from core.activations import get_activation
from core.costs import get_cost
from core.network import one_hot

TOP = 5  # rows in each "largest terms" table


@dataclass(frozen=True)
class Term:
    """One term ``left × right = product`` of a sum; ``index`` is k (forward) or i (backward)."""

    index: int
    left: float
    right: float
    product: float


@dataclass(frozen=True)
class NeuronExplanation:
    """The forward and backward pass of neuron j of weight layer l on the probe digit.

    Layer l = 0 is the first hidden layer; l = n_layers − 1 is the output. Vectors run over k, the
    neurons (or pixels) feeding neuron j. Gradients ∂C0/… are for this one digit; ∂C/… (``batch_*``)
    are the core's averages over the last mini-batch, which is what the optimizer used.
    """

    layer: int
    j: int
    n_layers: int
    activation: str               # σ of this layer: the hidden activation's name, or the output's
    cost: str                     # the output/cost pair's name (core.costs.COSTS)
    probe_index: int              # test-set row of the digit, −1 for a mini-batch digit
    probe_label: int              # the target y of δ (for an unlabelled drawing, the network's answer)
    train_index: int              # training-set row for a mini-batch digit, else −1
    # forward
    w: np.ndarray                 # w_jk, this neuron's incoming weights
    bias: float                   # b_j
    a_in: np.ndarray              # a_k, the previous layer's activations (the pixels for l = 0)
    weighted_sum: float           # Σ_k w_jk a_k
    z: float                      # z_j from the core's forward pass
    a: float                      # a_j = σ(z_j) from the core's forward pass
    sigma_z: float                # σ(z_j) element-wise: a_j, except inside a softmax; NaN for plain softmax
    z_terms: tuple                # the largest w_jk a_k as Terms (index k, w_jk, a_k, product)
    cost_value: float             # C0 of this digit
    # backward
    y: float                      # y_j (output layer only, else NaN)
    dC_da: float                  # the cost's factor of δ_j: ∂C0/∂a_j (the pair's dC_da at the output)
    shortcut: bool                # the pair computes δ_j whole (softmax + cross-entropy: s_j − y_j)
    back_terms: tuple             # hidden only: the largest w_ij δ_i (index i, w_ij, δ_i, product)
    sigma_prime: float            # σ'(z_j); NaN for a shortcut output (softmax couples the outputs)
    delta: float                  # δ_j = ∂C0/∂z_j from the core's backward pass
    dC0_dw: np.ndarray            # ∂C0/∂w_jk = a_k δ_j for every k
    # the mini-batch and the update
    batch_dw: np.ndarray          # ∂C/∂w_jk averaged over the next mini-batch (else the last one)
    batch_db: float               # ∂C/∂b_j likewise
    lr: float                     # η
    momentum: float               # μ: when > 0 the real step also adds μ·v, the previous step
    l2: float                     # λ: when > 0 the weight step also has −η λ w_jk
    batch_size: int
    label_known: bool = True      # False: a drawing nobody labelled (probe_label is the network's answer)

    @property
    def is_output(self) -> bool:
        return self.layer == self.n_layers - 1

    @property
    def dC0_db(self) -> float:
        """∂C0/∂b_j = δ_j: z_j moves one-for-one with b_j."""
        return self.delta

    @property
    def delta_from_parts(self) -> float:
        """δ_j rebuilt by hand: s_j − y_j for a shortcut pair, else σ'(z_j) · ∂C0/∂a_j."""
        if self.shortcut:
            return self.a - self.y
        return self.sigma_prime * self.dC_da

    @property
    def gradient_image(self):
        """∂C0/∂w_jk = a_k δ_j as a square image (28×28 for MNIST) for a first-layer neuron, else None."""
        side = math.isqrt(self.dC0_dw.size)
        return self.dC0_dw.reshape(side, side) if self.layer == 0 and side * side == self.dC0_dw.size else None

    @property
    def update_w(self) -> np.ndarray:
        """Δw_jk = −η (∂C/∂w_jk + λ w_jk), the step without momentum."""
        return -self.lr * (self.batch_dw + self.l2 * self.w)

    @property
    def update_b(self) -> float:
        """Δb_j = −η ∂C/∂b_j (L2 decay leaves biases alone)."""
        return -self.lr * self.batch_db

    def __repr__(self):
        return (f"NeuronExplanation(layer={self.layer}, j={self.j}, z={self.z:.4g}, a={self.a:.4g}, "
                f"delta={self.delta:.4g})")


def digit_view(snapshot, digit=None):
    """``snapshot`` seen through one digit: the probe (``digit`` None) or row ``digit`` of the next
    mini-batch, whose z, a and δ the trainer traced through the current weights.

    When the snapshot carries the next mini-batch, its averaged gradient stands in for dW and db:
    that is the gradient the next step will apply.
    """
    batch = getattr(snapshot, "next_batch", None)
    if batch is None:
        if digit is not None:
            raise IndexError("this snapshot carries no mini-batch")
        return snapshot
    fields = {name: getattr(snapshot, name) for name in ("W", "b", "config", "probe_index", "probe_label",
                                                          "probe_z", "probe_a", "probe_delta")}
    fields["probe_label_known"] = getattr(snapshot, "probe_label_known", True)
    fields.update(dW=batch.dW, db=batch.db, batch_size=batch.n)
    if digit is not None:
        k = int(digit)
        if not 0 <= k < len(batch):
            raise IndexError(f"the mini-batch has {len(batch)} digits, not {k + 1}")
        fields.update(probe_index=-1, probe_label=int(batch.labels[k]), train_index=int(batch.indices[k]),
                      probe_label_known=True,
                      probe_z=tuple(z[k] for z in batch.z), probe_a=tuple(a[k] for a in batch.a),
                      probe_delta=tuple(d[k] for d in batch.delta))
    return SimpleNamespace(**fields)


def explain_neuron(source, layer: int, j: int, digit=None) -> NeuronExplanation:
    """Explain neuron ``j`` of weight layer ``layer`` on the probe digit, or on digit ``digit`` of
    the next mini-batch.

    ``source`` is a Snapshot, or any object or mapping with its fields W, b, dW, db, probe_z,
    probe_a, probe_delta, probe_label and config (activation, cost, lr; momentum, l2, batch_size
    optional). Raises IndexError for a neuron that is not in the network.
    """
    s = SimpleNamespace(**source) if isinstance(source, Mapping) else digit_view(source, digit)
    L = len(s.W)
    l, j = int(layer), int(j)
    if not (0 <= l < L and 0 <= j < s.W[l].shape[0]):
        raise IndexError(f"no neuron {j} in weight layer {l} of a network with {L} weight layers")
    config = s.config
    cost = get_cost(config["cost"])
    act = get_activation(config["activation"])
    out = l == L - 1
    y_vec = one_hot([s.probe_label], s.W[-1].shape[0], np.float64)[0]
    w, a_in = np.asarray(s.W[l][j]), np.asarray(s.probe_a[l])
    backward = _output_backward(s, cost, y_vec, j) if out else _hidden_backward(s, act, l, j)
    delta = s.probe_delta[l][j]
    return NeuronExplanation(
        layer=l, j=j, n_layers=L,
        activation=cost.output_name if out else act.name, cost=cost.name,
        probe_index=int(getattr(s, "probe_index", -1)), probe_label=int(s.probe_label),
        w=w, bias=float(s.b[l][j]), a_in=a_in,
        weighted_sum=float(np.dot(w.astype(np.float64), a_in.astype(np.float64))),
        z=float(s.probe_z[l][j]), a=float(s.probe_a[l + 1][j]),
        sigma_z=_sigma_z(s, cost, l, j) if out else float(s.probe_a[l + 1][j]),
        z_terms=largest_terms(w, a_in),
        cost_value=float(cost.fn(np.asarray(s.probe_a[-1], np.float64), y_vec)),
        delta=float(delta), dC0_dw=a_in * delta,
        batch_dw=np.asarray(s.dW[l][j]), batch_db=float(s.db[l][j]),
        lr=float(config["lr"]), momentum=float(config.get("momentum", 0.0)),
        l2=float(config.get("l2", 0.0)),
        batch_size=int(getattr(s, "batch_size", config.get("batch_size", 0))),
        train_index=int(getattr(s, "train_index", -1)),
        label_known=bool(getattr(s, "probe_label_known", True)),
        **backward)


def _output_backward(s, cost, y_vec, j) -> dict:
    """The cost's factor ∂C0/∂a_j and the output's σ'(z_j) of output neuron j, from the core's pair."""
    a_out = np.asarray(s.probe_a[-1])
    y = y_vec.astype(a_out.dtype)
    prime = None if cost.shortcut else cost.output_prime(np.asarray(s.probe_z[-1]))
    # a shortcut pair (softmax): s_j depends on every z_i, so there is no single σ'(z_j)
    sigma_prime = float("nan") if prime is None else float(prime[j])
    return dict(y=float(y[j]), dC_da=float(cost.dC_da(a_out, y)[j]), shortcut=cost.shortcut,
                back_terms=(), sigma_prime=sigma_prime)


def _sigma_z(s, cost, l, j) -> float:
    """σ(z_j) of output neuron j: the element-wise function inside the output, NaN for none."""
    u = cost.squashed(np.asarray(s.probe_z[l]))
    return float("nan") if u is None else float(u[j])


def _hidden_backward(s, act, l, j) -> dict:
    """∂C0/∂a_j = Σ_i w_ij δ_i over the next layer, and σ'(z_j) from the core's activation."""
    w_next = np.asarray(s.W[l + 1][:, j])           # column j: how a_j feeds each neuron i
    delta_next = np.asarray(s.probe_delta[l + 1])
    return dict(y=float("nan"), dC_da=float(np.dot(w_next, delta_next)), shortcut=False,
                back_terms=largest_terms(w_next, delta_next),
                sigma_prime=float(act.prime(np.asarray(s.probe_z[l]))[j]))


def largest_terms(left: np.ndarray, right: np.ndarray, top: int = TOP) -> tuple:
    """The ``top`` products left[k]·right[k] largest in size, biggest first; NaN sorts last."""
    products = np.asarray(left, np.float64) * np.asarray(right, np.float64)
    size = np.nan_to_num(np.abs(products), nan=-1.0, posinf=np.inf)
    order = np.argsort(-size, kind="stable")[:top]
    return tuple(Term(int(k), float(left[k]), float(right[k]), float(products[k])) for k in order)
