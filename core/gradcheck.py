"""Check backpropagation against finite differences, one neuron at a time.

Backprop's answer for ∂C/∂w_jk and ∂C/∂b_j is compared with the slope of the mean cost itself,
(C(w + ε) − C(w − ε)) / 2ε, on a float64 copy of the network: in float32 the rounding of C alone
would swamp the comparison.

A first-layer neuron has 784 weights and each central difference costs two forward passes, so by
default only the ``n_weights`` (20) weights with the largest backprop gradient are checked, plus
the bias. Those are the terms that decide the relative error; the rest are near zero (often
exactly zero: a blank pixel a_k = 0 gives a_k δ_j = 0). Pass ``n_weights=None`` to check them all.

How far apart a correct backprop and the finite differences can be (measured in the README):

- Rounding. C is computed from numbers of size about 1 (activations, probabilities), so its
  rounding error is about ε_mach·max(1, |C|) even when C itself is tiny, and a central difference
  carries that divided by ε: ``noise`` per entry. Measured on trained networks, |g_bp − g_num|
  stayed under 5× that.
- Truncation, ε²/6 · ∂³C/∂p³: negligible at ε = 1e-5, which balances the two (at 1e-6 rounding
  is ten times larger, at 1e-4 truncation shows).
- Corners: a ReLU unit within ε of z = 0 makes the difference straddle the corner, where it is no
  slope at all. Such entries are detected (a z changes side between C(p + ε) and C(p − ε)) and left out.

So the relative error ‖g_bp − g_num‖ / (‖g_bp‖ + ‖g_num‖) is taken with a floor under the
denominator: for gradients too small for the differences to resolve, the error is measured against
``floor`` = MARGIN × noise / TOLERANCE, which keeps rounding alone a hundred times under TOLERANCE.
A wrong δ (a missing σ' factor, 1 % off) gives 1e-3 or more.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

N_WEIGHTS = 20
EPS = 1e-5             # the step of the central differences (see the module docstring)
TOLERANCE = 1e-6       # relative error under which backprop and finite differences agree
MARGIN = 100           # the floor puts rounding alone at TOLERANCE / MARGIN
ULP = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class GradCheck:
    """Backprop and finite-difference gradients of neuron ``j`` of weight layer ``layer``.

    Entries run over ``weights`` (the indices k of the checked w_jk), then the bias b_j last.
    ``skipped`` marks entries left out because a ReLU-like corner lay within ±ε. ``relative_error``
    is ‖backprop − numeric‖ / max(‖backprop‖ + ‖numeric‖, ``floor``) over the entries kept.
    ``fingerprint`` identifies the weights and digits checked (see ``fingerprint``).
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
    floor: float = 0.0            # the denominator's floor (see the module docstring)
    skipped: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    fingerprint: str = ""

    @property
    def noise(self) -> float:
        """The rounding error of one central difference, ε_mach·max(1, |C|) / ε."""
        return noise(self.cost, self.eps)

    @property
    def n_checked(self) -> int:
        """How many entries were compared (the skipped ones left out)."""
        return int(self.backprop.size - np.count_nonzero(self.skipped))

    @property
    def agrees(self) -> bool:
        """At least one entry compared, and a relative error under TOLERANCE (NaN never agrees)."""
        return bool(self.n_checked > 0 and self.relative_error < TOLERANCE)

    @property
    def labels(self) -> list:
        """'w_jk' names of the checked entries, then 'b_j'."""
        return [f"w[{self.j},{k}]" for k in self.weights] + [f"b[{self.j}]"]

    @property
    def max_abs_error(self) -> float:
        kept = self._kept()
        return float(np.max(np.abs(self.backprop[kept] - self.numeric[kept]))) if kept.any() else 0.0

    def _kept(self) -> np.ndarray:
        return ~self.skipped if self.skipped.size == self.backprop.size else np.ones(self.backprop.size, bool)

    def __repr__(self):
        return (f"GradCheck(layer={self.layer}, j={self.j}, entries={self.backprop.size}, "
                f"relative_error={self.relative_error:.3g}, floor={self.floor:.3g})")


def check_neuron(net, X, Y, layer: int, j: int, eps: float = EPS,
                 n_weights: int | None = N_WEIGHTS) -> GradCheck:
    """Compare the core's backprop gradient of neuron j's incoming weights and bias with central
    finite differences of the mean cost over the batch (X, Y), on a float64 copy of ``net``."""
    net64 = float64_copy(net)
    X64, Y64 = np.atleast_2d(np.asarray(X, np.float64)), np.atleast_2d(np.asarray(Y, np.float64))
    trace, grads = net64.gradients(X64, Y64)
    row = grads.dW[layer][j]
    chosen = _largest(row, n_weights)
    backprop = np.append(row[chosen], grads.db[layer][j])
    W, b = net64.W[layer], net64.b[layer]
    slopes = [_slope(net64, X64, Y64, W, (j, k), eps) for k in chosen] + [_slope(net64, X64, Y64, b, (j,), eps)]
    numeric = np.array([s for s, _ in slopes])
    skipped = np.array([crossed for _, crossed in slopes], dtype=bool)
    cost = float(np.mean(net64.costs(trace.output, Y64)))
    kept = ~skipped
    floor = MARGIN * noise(cost, eps) * np.sqrt(max(int(kept.sum()), 1)) / TOLERANCE
    return GradCheck(layer=int(layer), j=int(j), weights=chosen, backprop=backprop, numeric=numeric,
                     relative_error=relative_error(backprop[kept], numeric[kept], floor), eps=float(eps),
                     n_samples=len(X64), n_inputs=row.size, cost=cost, floor=float(floor),
                     skipped=skipped, fingerprint=fingerprint(net.W, net.b, X64))


def noise(cost: float, eps: float) -> float:
    """The rounding error of one central difference of a cost ``cost``: ε_mach·max(1, |C|) / ε."""
    return ULP * max(1.0, abs(float(cost))) / float(eps) if np.isfinite(cost) else float("nan")


def float64_copy(net):
    """An independent copy of ``net`` computing in float64."""
    other = net.copy()
    other.W = [w.astype(np.float64) for w in other.W]
    other.b = [b.astype(np.float64) for b in other.b]
    other.dtype = np.dtype(np.float64)
    return other


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 0.0) -> float:
    """‖a − b‖ / max(‖a‖ + ‖b‖, floor); 0 when a and b are both zero (and no floor); NaN when
    either holds NaN."""
    scale = max(np.linalg.norm(a) + np.linalg.norm(b), floor)
    diff = np.linalg.norm(np.subtract(a, b))
    if np.isnan(scale):
        return float("nan")
    return float(diff / scale) if scale > 0 else float(diff)


def fingerprint(W, b, X) -> str:
    """A digest of the weights ``W``, biases ``b`` and digits ``X``, in float64: a check made on one
    state can be told apart from any other (a Snapshot's W, b and probe_a[0][None] give the same)."""
    h = hashlib.blake2b(digest_size=16)
    for array in (*W, *b, X):
        a = np.ascontiguousarray(array, dtype=np.float64)
        h.update(str(a.shape).encode())
        h.update(a)
    return h.hexdigest()


def _largest(row: np.ndarray, n: int | None) -> np.ndarray:
    """Indices of the n entries of ``row`` largest in size, in increasing index order."""
    if n is None or n >= row.size:
        return np.arange(row.size)
    return np.sort(np.argsort(-np.abs(row), kind="stable")[:n])


def _cost_and_hidden_z(net, X, Y) -> tuple:
    trace = net.forward(X)
    return float(np.mean(net.costs(trace.output, Y))), trace.z[:-1]


def _slope(net, X, Y, param: np.ndarray, index: tuple, eps: float) -> tuple:
    """((C(p + ε) − C(p − ε)) / 2ε, whether a hidden z crossed a corner of σ in between) for the
    entry ``index`` of ``param``, which is restored."""
    saved = param[index]
    param[index] = saved + eps
    up, z_up = _cost_and_hidden_z(net, X, Y)
    param[index] = saved - eps
    down, z_down = _cost_and_hidden_z(net, X, Y)
    param[index] = saved
    return (up - down) / (2 * eps), _crossed(net.activation.kinks, z_up, z_down)


def _crossed(kinks, z_up, z_down) -> bool:
    """Whether any z lies on different sides of (or on) a corner in the two passes."""
    return any(np.any(np.sign(u - k) != np.sign(d - k)) for k in kinks for u, d in zip(z_up, z_down))
