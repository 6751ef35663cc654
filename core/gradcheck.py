"""Check backpropagation against finite differences, one neuron at a time.

Backprop's answer for ∂C/∂w_jk and ∂C/∂b_j is compared with the slope of the mean cost itself,
(C(w + ε) − C(w − ε)) / 2ε, on a float64 copy of the network: in float32 the rounding of C alone
(≈ 1e-7 C) would swamp a 1e-6 agreement, in float64 it is about 1e-16 C.

A first-layer neuron has 784 weights and each central difference costs two forward passes, so by
default only the ``n_weights`` (20) weights with the largest backprop gradient are checked, plus
the bias. Those are the terms that decide the relative error; the rest are near zero (often
exactly zero: a blank pixel a_k = 0 gives a_k δ_j = 0). Pass ``n_weights=None`` to check them all.

Relative error needs a gradient well above the rounding of the differences themselves, about
ulp(C) / 2ε ≈ 2e-16 C / 2ε. A saturated neuron's gradient can be that small; then ``agrees`` also
accepts differences within a few times that ``noise``, where nothing finer can be concluded.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_WEIGHTS = 20
TOLERANCE = 1e-6       # relative error under which backprop and finite differences agree


@dataclass(frozen=True)
class GradCheck:
    """Backprop and finite-difference gradients of neuron ``j`` of weight layer ``layer``.

    Entries run over ``weights`` (the indices k of the checked w_jk), then the bias b_j last.
    ``relative_error`` is ‖backprop − numeric‖ / (‖backprop‖ + ‖numeric‖); it is 0 when both are 0.
    """

    layer: int
    j: int
    weights: np.ndarray
    backprop: np.ndarray
    numeric: np.ndarray
    relative_error: float
    eps: float
    n_samples: int
    n_inputs: int                 # how many incoming weights the neuron has (all may not be checked)
    cost: float                   # the mean cost at the unperturbed weights

    @property
    def noise(self) -> float:
        """The rounding error of one central difference, 2 ulp(C) / 2ε."""
        return float(np.finfo(np.float64).eps * abs(self.cost) / self.eps)

    @property
    def agrees(self) -> bool:
        """Relative error under 1e-6, or every difference within 10× the rounding ``noise``."""
        return bool(self.relative_error < TOLERANCE or self.max_abs_error <= 10 * self.noise)

    @property
    def labels(self) -> list:
        """'w_jk' names of the checked entries, then 'b_j'."""
        return [f"w[{self.j},{k}]" for k in self.weights] + [f"b[{self.j}]"]

    @property
    def max_abs_error(self) -> float:
        return float(np.max(np.abs(self.backprop - self.numeric))) if self.backprop.size else 0.0

    def __repr__(self):
        return (f"GradCheck(layer={self.layer}, j={self.j}, entries={self.backprop.size}, "
                f"relative_error={self.relative_error:.3g})")


def check_neuron(net, X, Y, layer: int, j: int, eps: float = 1e-6,
                 n_weights: int | None = N_WEIGHTS) -> GradCheck:
    """Compare the core's backprop gradient of neuron j's incoming weights and bias with central
    finite differences of the mean cost over the batch (X, Y), on a float64 copy of ``net``."""
    net64 = float64_copy(net)
    X64, Y64 = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    if X64.ndim == 1:
        X64, Y64 = X64[None, :], Y64[None, :]
    trace, grads = net64.gradients(X64, Y64)
    row = grads.dW[layer][j]
    chosen = _largest(row, n_weights)
    backprop = np.append(row[chosen], grads.db[layer][j])
    W, b = net64.W[layer], net64.b[layer]
    numeric = np.array([_slope(net64, X64, Y64, W, (j, k), eps) for k in chosen]
                       + [_slope(net64, X64, Y64, b, (j,), eps)])
    return GradCheck(layer=int(layer), j=int(j), weights=chosen, backprop=backprop, numeric=numeric,
                     relative_error=relative_error(backprop, numeric), eps=float(eps),
                     n_samples=len(X64), n_inputs=row.size,
                     cost=float(np.mean(net64.costs(trace.output, Y64))))


def float64_copy(net):
    """An independent copy of ``net`` computing in float64."""
    other = net.copy()
    other.W = [w.astype(np.float64) for w in other.W]
    other.b = [b.astype(np.float64) for b in other.b]
    other.dtype = np.dtype(np.float64)
    return other


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖), 0 when both are zero, NaN when either holds NaN."""
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    diff = np.linalg.norm(a - b)
    return float(diff / scale) if scale > 0 else float(diff)


def _largest(row: np.ndarray, n: int | None) -> np.ndarray:
    """Indices of the n entries of ``row`` largest in size, in increasing index order."""
    if n is None or n >= row.size:
        return np.arange(row.size)
    return np.sort(np.argsort(-np.abs(row), kind="stable")[:n])


def _mean_cost(net, X, Y) -> float:
    return float(np.mean(net.costs(net.forward(X).output, Y)))


def _slope(net, X, Y, param: np.ndarray, index: tuple, eps: float) -> float:
    """(C(p + ε) − C(p − ε)) / 2ε for the entry ``index`` of ``param``, which is restored."""
    saved = param[index]
    param[index] = saved + eps
    up = _mean_cost(net, X, Y)
    param[index] = saved - eps
    down = _mean_cost(net, X, Y)
    param[index] = saved
    return (up - down) / (2 * eps)
