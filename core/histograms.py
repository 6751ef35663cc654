"""Distributions over time: exact histograms of each layer's W, b, ∂C/∂W and a, one row per kept step.

Bin edges are fixed for a whole run, so a heat map of histogram × step compares like with like
(TensorBoard re-bins every step, which is why its histograms mislead). They are chosen once, from
the run's first snapshot:

* weights W and biases b: 80 evenly spaced bins symmetric about 0, over ±(a round number ≥ 5× the
  largest |value| at the start): room for the weights to spread as they learn;
* activations a: evenly spaced over the activation's own output range ([0, 1] for sigmoid,
  [−1, 1] for tanh), or [0, a round number ≥ 5× the first largest a] when unbounded (ReLU;
  symmetric about 0 if any first a is negative);
* gradients ∂C/∂W: signed-logarithmic, 4 bins per decade on each side from 10⁻⁷ to 10⁰ and one
  bin for |g| < 10⁻⁷, because gradients shrink by orders of magnitude during training.

Values outside the edges are counted (``under``/``over``), never dropped; NaN and ±inf separately.
Counts are exact: a value v falls in bin i when edges[i] ≤ v < edges[i+1], the last bin closed,
exactly as ``np.histogram`` counts. The rows are computed off the GUI thread (``histogram_row``)
and kept in a bounded ``HistogramHistory`` thinned evenly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

QUANTITIES = ("weights", "biases", "gradients", "activations")
SYMBOLS = {"weights": "W", "biases": "b", "gradients": "∂C/∂W", "activations": "a"}
LINEAR_BINS = 80
LOG_DECADES = (-7, 0)      # signed-log gradient bins span 10⁻⁷ … 10⁰ on each side
LOG_PER_DECADE = 4
ACTIVATION_DIGITS = 500    # test digits whose activations are histogrammed (fixed for the run)
SPREAD = 5                 # the W/b bins span this many times the largest first |w|: room to grow
MAX_ROWS = 400             # rows kept; beyond, every other one goes (as core.trainer keeps test checks)


NICE = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is ≥ x (x > 0): a round range end
    not much past the data, so the bins stay narrow."""
    if not (x > 0 and math.isfinite(x)):
        return 1.0
    k = math.floor(math.log10(x))
    for m in NICE:
        if m * 10 ** k >= x * (1 - 1e-12):
            return float(m * 10 ** k)
    return float(10 ** (k + 1))


def linear_edges(low: float, high: float, bins: int = LINEAR_BINS) -> np.ndarray:
    """``bins`` equal bins from ``low`` to ``high``."""
    if not (high > low):
        raise ValueError(f"bin edges need high > low, got {low}, {high}")
    return np.linspace(low, high, bins + 1)


def signed_log_edges(decades=LOG_DECADES, per_decade: int = LOG_PER_DECADE) -> np.ndarray:
    """−10^hi … −10^lo, 10^lo … 10^hi, log-spaced: the middle bin holds |v| < 10^lo."""
    lo, hi = decades
    positive = np.logspace(lo, hi, (hi - lo) * per_decade + 1)
    return np.concatenate([-positive[::-1], positive])


def _finite_max_abs(arrays) -> float:
    values = [np.abs(np.asarray(a)[np.isfinite(a)]).max(initial=0.0) for a in arrays]
    return float(max(values, default=0.0))


def choose_edges(snapshot, activations: tuple | None = None) -> dict:
    """{(quantity, l): edges} for every weight layer l of ``snapshot`` (the run's first), as the
    module notes say. ``activations``: a^(l+1) of the histogrammed digits per layer, to size the
    range of an unbounded activation."""
    from core.activations import get_activation
    edges = {}
    hidden = get_activation(snapshot.config["activation"])
    L = len(snapshot.W)
    for l in range(L):
        w = SPREAD * _finite_max_abs([snapshot.W[l]])
        edges["weights", l] = linear_edges(-nice_ceiling(w), nice_ceiling(w))
        # biases start at 0: size them like the layer's weights (they move on the same scale)
        edges["biases", l] = edges["weights", l]
        edges["gradients", l] = signed_log_edges()
        y_range = (0.0, 1.0) if l == L - 1 else hidden.y_range   # the outputs here are probabilities
        if y_range is None:
            # unbounded above (ReLU): from 0 up when no first activation is negative, else symmetric
            a = np.asarray(activations[l]) if activations is not None else np.zeros(0)
            top = nice_ceiling(SPREAD * _finite_max_abs([a]))
            negative = bool(np.any(a[np.isfinite(a)] < 0))
            y_range = (-top if negative else 0.0, top)
        edges["activations", l] = linear_edges(*y_range)
    return edges


@dataclass(frozen=True)
class Histogram:
    """Exact counts of one array over fixed ``edges``: ``counts[i]`` values in [edges[i], edges[i+1])
    (the last bin closed), ``under`` below edges[0], ``over`` above edges[-1], ``nonfinite`` NaN/±inf."""

    counts: np.ndarray
    under: int
    over: int
    nonfinite: int

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + self.under + self.over + self.nonfinite


def histogram(values, edges: np.ndarray) -> Histogram:
    """Count ``values`` into ``edges`` exactly (see Histogram). One binary search per value over
    the edges: exact for any edges, and as fast as np.histogram's uniform path for ~60 bins."""
    v = np.asarray(values).ravel()
    finite = np.isfinite(v)
    nonfinite = int(v.size - np.count_nonzero(finite))
    if nonfinite:
        v = v[finite]
    v = v.astype(np.float64, copy=False)
    edges = np.asarray(edges, dtype=np.float64)
    bins = len(edges) - 1
    i = np.searchsorted(edges, v, side="right") - 1
    i[v == edges[-1]] = bins - 1                    # the last bin is closed, as NumPy's
    under = int(np.count_nonzero(i < 0))
    over = int(np.count_nonzero(i >= bins))
    inside = i[(i >= 0) & (i < bins)]
    counts = np.bincount(inside, minlength=bins).astype(np.int64)
    return Histogram(counts, under, over, nonfinite)


@dataclass(frozen=True)
class HistogramRow:
    """Every (quantity, layer) histogram of one snapshot: ``histograms[(quantity, l)]``."""

    step: int
    run_id: int
    histograms: dict = field(default_factory=dict)
    seconds: float = 0.0     # what counting them took (the panel paces its requests by it)


def activation_digits(dataset, n: int = ACTIVATION_DIGITS) -> np.ndarray:
    """The fixed test digits whose activations are histogrammed: the first ``n`` (MNIST's test set
    is in no particular order of label)."""
    return np.arange(min(int(n), len(dataset.labels)))


def layer_activations(snapshot, images) -> list:
    """a^(l+1) of every weight layer l for ``images`` through the snapshot's weights."""
    from core.evaluate import network_from_snapshot
    net = network_from_snapshot(snapshot)
    return net.forward(images).a[1:]


def histogram_row(snapshot, dataset, edges: dict | None = None, digits: int = ACTIVATION_DIGITS) -> tuple:
    """The job run off the GUI thread: (HistogramRow, edges) of ``snapshot``. ``edges`` None: the run's
    first row, edges chosen now from this snapshot (the caller keeps them for the run's other rows)."""
    import time
    started = time.perf_counter()
    images = dataset.images[activation_digits(dataset, digits)] if dataset is not None else None
    a = layer_activations(snapshot, images) if images is not None else None
    if edges is None:
        edges = choose_edges(snapshot, a)
    out = {}
    for l in range(len(snapshot.W)):
        out["weights", l] = histogram(snapshot.W[l], edges["weights", l])
        out["biases", l] = histogram(snapshot.b[l], edges["biases", l])
        out["gradients", l] = histogram(snapshot.dW[l], edges["gradients", l])
        if a is not None:
            out["activations", l] = histogram(a[l], edges["activations", l])
    return HistogramRow(snapshot.step, snapshot.run_id, out, time.perf_counter() - started), edges


class HistogramHistory:
    """At most ``limit`` rows of one run, oldest first, thinned evenly: once full, every other row
    goes and from then on only every 2nd (4th, …) offered row is kept; the newest row is always there."""

    def __init__(self, limit: int = MAX_ROWS):
        if int(limit) < 4:
            raise ValueError(f"a histogram history needs room for at least 4 rows, not {limit}")
        self.limit = int(limit)
        self.clear()

    def clear(self) -> None:
        self._rows: list = []     # (offer number, row)
        self._offered, self._stride = 0, 1
        self.edges: dict | None = None

    def add(self, row: HistogramRow) -> None:
        kept = self._rows
        if kept and row.step <= kept[-1][1].step:
            return                                    # an older answer arriving late
        n = self._offered
        self._offered += 1
        if kept and kept[-1][0] % self._stride:      # the last was kept only for being newest
            kept.pop()
        kept.append((n, row))
        if len(kept) > self.limit:
            self._stride *= 2
            kept[:] = [(i, r) for i, r in kept if i % self._stride == 0 or i == n]

    @property
    def rows(self) -> list:
        return [r for _, r in self._rows]

    @property
    def steps(self) -> np.ndarray:
        return np.array([r.step for _, r in self._rows], dtype=np.int64)

    def matrix(self, key: tuple) -> np.ndarray:
        """(rows, bins) counts of ``key`` = (quantity, l), with under/over folded into the end bins
        (so nothing counted disappears from the picture); (0, 0) when no row has it."""
        rows = [r.histograms[key] for _, r in self._rows if key in r.histograms]
        if not rows:
            return np.zeros((0, 0), dtype=np.int64)
        return np.stack([folded(h) for h in rows])

    def __len__(self):
        return len(self._rows)

    def __repr__(self):
        return f"HistogramHistory(rows={len(self)}/{self.limit}, stride={self._stride})"


def folded(h: Histogram) -> np.ndarray:
    """The counts with ``under`` added to the first bin and ``over`` to the last."""
    c = h.counts.copy()
    c[0] += h.under
    c[-1] += h.over
    return c


def quantiles_from_counts(counts: np.ndarray, edges: np.ndarray, qs=(0.1, 0.5, 0.9)) -> np.ndarray:
    """Approximate quantiles (interpolated within bins) of each row of ``counts`` (rows, bins):
    (rows, len(qs)); NaN for an empty row. Used to overlay a compared run on a heat map."""
    counts = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    edges = np.asarray(edges, dtype=np.float64)
    out = np.full((len(counts), len(qs)), np.nan)
    for r, c in enumerate(counts):
        total = c.sum()
        if total <= 0:
            continue
        cum = np.concatenate([[0.0], np.cumsum(c)]) / total
        out[r] = np.interp(qs, cum, edges)
    return out


def resample_columns(steps: np.ndarray, matrix: np.ndarray, columns: int) -> tuple:
    """The rows of ``matrix`` laid on ``columns`` evenly spaced steps from the first to the last kept
    step, each column showing the latest row at or before its step: (column steps, (columns, bins))."""
    steps = np.asarray(steps)
    if len(steps) == 0:
        return np.zeros(0), np.zeros((0, matrix.shape[1] if matrix.ndim == 2 else 0))
    grid = np.linspace(steps[0], steps[-1], max(int(columns), 1)) if len(steps) > 1 else steps[:1].astype(float)
    pick = np.clip(np.searchsorted(steps, grid, side="right") - 1, 0, len(steps) - 1)
    return grid, matrix[pick]
