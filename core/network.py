"""A fully connected network, a = σ(W a_prev + b) layer by layer, trained by backpropagation.

Shapes follow the notes: ``W[l]`` is (n_out, n_in), so row j holds neuron j's incoming weights, and
``b[l]`` is (n_out,). A batch is a matrix of rows, so layer l computes ``Z = A_prev @ W[l].T + b[l]``.
Index l counts weight layers: l = 0 maps the 784 inputs to the first hidden layer, the last maps to
the 10 outputs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.activations import get_activation
from core.costs import get_cost


@dataclass
class Trace:
    """The forward pass of one batch: ``a[0]`` is the input, ``z[l]`` and ``a[l+1]`` belong to layer l."""

    z: list
    a: list

    @property
    def output(self) -> np.ndarray:
        return self.a[-1]


@dataclass
class Gradients:
    """∂C/∂W and ∂C/∂b averaged over the batch, and each sample's δ = ∂C0/∂z of every layer."""

    dW: list
    db: list
    delta: list

    def params(self) -> list:
        """∂C/∂W then ∂C/∂b for each layer, in the order of ``Network.params()``."""
        return [g for pair in zip(self.dW, self.db) for g in pair]

    def neuron_norms(self) -> list:
        """For each layer, ‖∂C/∂W_j‖ of every neuron j's incoming weights."""
        return [np.sqrt(_row_dots(dW)) for dW in self.dW]

    def layer_norms(self, neuron_norms=None) -> np.ndarray:
        """For each layer, the Frobenius norm of ∂C/∂W together with ∂C/∂b (from ``neuron_norms``
        when given: ‖∂C/∂W‖² = Σ_j ‖∂C/∂W_j‖², which spares a pass over the weights)."""
        if neuron_norms is None:
            neuron_norms = self.neuron_norms()
        return np.array([np.sqrt(np.vdot(n, n) + np.vdot(db, db)) for n, db in zip(neuron_norms, self.db)])


class Network:
    """A multilayer perceptron: ``sizes`` such as (784, 100, 10), a hidden activation, an output/cost pair.

    Weights start as N(0, gain/n_in) from ``seed``, the gain being the activation's own (1, or 2
    for ReLU); biases start at zero.
    """

    def __init__(self, sizes=(784, 100, 10), activation="sigmoid", cost="cross-entropy",
                 seed=0, dtype=np.float32):
        if len(sizes) < 2 or any(int(n) < 1 for n in sizes):
            raise ValueError(f"layer sizes must be at least two positive numbers, got {sizes!r}")
        self.sizes = tuple(int(n) for n in sizes)
        self.activation = get_activation(activation)
        self.cost = get_cost(cost)
        self.dtype = np.dtype(dtype)
        self.seed = seed
        rng = np.random.default_rng(seed)
        gain = self.activation.gain
        self.W = [(rng.standard_normal((n_out, n_in)) * np.sqrt(gain / n_in)).astype(self.dtype)
                  for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]
        self.b = [np.zeros(n_out, dtype=self.dtype) for n_out in self.sizes[1:]]
        self.silenced: dict = {}   # knock-out: weight layer l -> neurons j whose activation is held at 0

    def silence(self, silenced) -> None:
        """Hold the activations of some hidden neurons at 0 (a knock-out) in forward and backward:
        ``silenced`` maps weight layer l (a hidden layer) to neuron indices j; empty restores all.
        A silenced neuron passes nothing on and, its activation being a constant, gets δ = 0."""
        checked = {}
        for l, js in dict(silenced).items():
            l, js = int(l), np.unique(np.asarray(list(js), dtype=np.intp))
            if js.size == 0:
                continue                   # nothing silenced there (even a layer this network lacks)
            if not 0 <= l < self.n_layers - 1:
                raise ValueError(f"only hidden neurons can be silenced; weight layer {l} is not a hidden layer "
                                 f"of a network with {self.n_layers} weight layers")
            if not (0 <= js[0] and js[-1] < self.sizes[l + 1]):
                raise ValueError(f"hidden layer {l + 1} has neurons 0–{self.sizes[l + 1] - 1}, not {js.tolist()}")
            checked[l] = js
        self.silenced = checked

    @property
    def n_layers(self) -> int:
        """How many weight layers (hidden layers + 1)."""
        return len(self.W)

    def sigma(self, l: int):
        """The activation of layer l: the hidden activation, or the output/cost pair's output."""
        return self.cost.output if l == self.n_layers - 1 else self.activation

    def forward(self, X: np.ndarray) -> Trace:
        """z = W a_prev + b and a = σ(z) for every layer, for a batch X of shape (n, 784)."""
        a = [np.asarray(X, dtype=self.dtype)]
        z = []
        silenced = self.silenced
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            zl = _times_transpose(a[-1], W)
            zl += b
            z.append(zl)
            a.append(self.sigma(l)(zl))
            if silenced and l in silenced:
                if a[-1] is zl:             # a linear σ returns z itself; z must stay as computed
                    a[-1] = zl.copy()
                a[-1][:, silenced[l]] = 0   # knocked out: the neuron passes nothing on
        return Trace(z=z, a=a)

    def backward(self, trace: Trace, Y: np.ndarray, scale: float = 1.0) -> Gradients:
        """Backpropagate one batch: δL from the cost, δl = (δ(l+1) W(l+1)) ⊙ σ'(zl), averaged gradients.

        ``scale`` multiplies ∂C/∂W and ∂C/∂b (not δ): with ``scale=-η`` they come out as the step
        Δ = −η ∂C/∂p of plain gradient descent, for ``SGD.apply``, at no extra cost.
        """
        n = trace.a[0].shape[0]
        L = self.n_layers
        delta = [None] * L
        delta[-1] = self.cost.delta(trace.z[-1], trace.a[-1], np.asarray(Y, dtype=self.dtype))
        silenced = self.silenced
        for l in range(L - 2, -1, -1):
            d = delta[l + 1] @ self.W[l + 1]
            d *= self.activation.prime_from_a(trace.a[l + 1])
            if silenced and l in silenced:
                d[:, silenced[l]] = 0      # a held activation does not depend on z: ∂a/∂z = 0
            delta[l] = d
        dW, db = [], []
        for l in range(L):
            # Averaging (and scaling) the small δ (n rows) rather than the large ∂C/∂W saves a pass
            # over the weights.
            scaled = np.multiply(delta[l], scale / n)
            dW.append(scaled.T @ trace.a[l])
            db.append(scaled.sum(axis=0))
        return Gradients(dW=dW, db=db, delta=delta)

    def gradients(self, X, Y):
        """Forward then backward on one batch; returns (trace, gradients)."""
        trace = self.forward(X)
        return trace, self.backward(trace, Y)

    def costs(self, output, Y) -> np.ndarray:
        """C0 of each sample for network outputs ``output`` and one-hot targets Y."""
        return self.cost.fn(output, np.asarray(Y, dtype=output.dtype))

    def output(self, X, chunk: int = 10000) -> np.ndarray:
        """The network's 10 outputs for every row of X, computed in chunks to bound memory."""
        parts = [self.forward(X[i:i + chunk]).output for i in range(0, len(X), chunk)]
        return np.concatenate(parts) if parts else np.zeros((0, self.sizes[-1]), self.dtype)

    def predict(self, X) -> np.ndarray:
        """The predicted digit for every row of X."""
        return np.argmax(self.output(X), axis=1)

    def evaluate(self, X, labels) -> tuple:
        """Mean cost and accuracy (0–1) of the network on images X with integer labels."""
        out = self.output(X)
        cost = float(np.mean(self.costs(out, one_hot(labels, self.sizes[-1], out.dtype))))
        return cost, float(np.mean(np.argmax(out, axis=1) == labels))

    def params(self) -> list:
        """All parameter arrays, W then b for each layer (the live arrays, not copies)."""
        return [p for pair in zip(self.W, self.b) for p in pair]

    def config(self) -> dict:
        """The architecture as plain values, enough to build an identical empty network."""
        return {"sizes": list(self.sizes), "activation": self.activation.name,
                "cost": self.cost.name, "seed": self.seed, "dtype": self.dtype.name}

    def copy(self) -> "Network":
        """An independent network with the same architecture and weights."""
        other = Network(self.sizes, self.activation.name, self.cost.name, self.seed, self.dtype)
        other.W = [w.copy() for w in self.W]
        other.b = [b.copy() for b in self.b]
        other.silenced = dict(self.silenced)
        return other

    def __repr__(self):
        return (f"Network(sizes={self.sizes}, activation={self.activation.name!r}, "
                f"cost={self.cost.name!r}, dtype={self.dtype.name})")


def _times_transpose(A: np.ndarray, W: np.ndarray) -> np.ndarray:
    """A @ W.T as a C-ordered array. For a few rows BLAS computes (W @ A.T).T faster (OpenBLAS:
    5–20 % with its Haswell kernels, up to 2× with AVX-512 ones); for many rows A @ W.T wins."""
    if A.shape[0] <= 64:
        return np.ascontiguousarray((W @ A.T).T)
    return A @ W.T


def _row_dots(M: np.ndarray) -> np.ndarray:
    """Σ_k M[j, k]² for every row j (np.vecdot runs a BLAS dot per row, about twice einsum's speed)."""
    if hasattr(np, "vecdot"):
        return np.vecdot(M, M)
    return np.einsum("ij,ij->i", M, M)


def silenced_layers(pairs) -> dict:
    """``{l: [j, …]}`` (sorted, each once) from (l, j) pairs such as a Snapshot's ``silenced``:
    what ``Network.silence`` takes."""
    out: dict = {}
    for l, j in pairs:
        out.setdefault(int(l), set()).add(int(j))
    return {l: sorted(js) for l, js in out.items()}


def one_hot(labels, n: int = 10, dtype=np.float32) -> np.ndarray:
    """Rows y with y[label] = 1 and zeros elsewhere."""
    labels = np.asarray(labels, dtype=np.intp)
    Y = np.zeros((labels.size, n), dtype=dtype)
    Y[np.arange(labels.size), labels] = 1
    return Y
