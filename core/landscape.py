"""The loss landscape: the cost along a line and over a plane through weight space.

* The line: θ(α) = θ₀ + α (θ₁ − θ₀) from the first weights θ₀ (α = 0) through the current ones θ₁
  (α = 1) and beyond, training and test cost on a fixed subset of digits.
* The plane: θ(α, β) = θ_c + α d₁ + β d₂ through the current weights θ_c. The directions are the
  trajectory's two main directions of change: PCA of the saved weights θ_i − θ_c (as Li et al.,
  "Visualizing the Loss Landscape of Neural Nets", 2018, draw optimiser paths), so the path gradient
  descent took lies as nearly as possible in the plane and is drawn on it. With fewer than three
  saved weights there is no trajectory yet, and two filter-normalised random directions are used
  (each neuron's row of a random direction scaled to that neuron's weight norm; biases 0).

Costs are those of the network's own cost function (core.costs) on ``SUBSET`` digits. Only the
first layer sees the 784 inputs, and z¹ = X Wᵀ + b is linear in θ: X(W_c + α D₁ + β D₂)ᵀ =
XW_cᵀ + α XD₁ᵀ + β XD₂ᵀ. The three products are made once per request, so each grid point costs
only the small layers after it: a 25 × 25 slice needs 3 big products, not 625.

``measure_landscape(task, train, test, progress)`` is the job: it reports its progress after the
line and after each row of the plane, where the window's Cancel can stop it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

SUBSET = 1000          # digits each cost is measured on
GRID = 25              # points along each side of the plane
LINE_ALPHAS = np.round(np.linspace(-0.5, 1.5, 41), 10)   # 0 and 1 exactly on the grid
MAX_PATH = 60          # saved weights used for the path and its directions (evenly chosen, the last kept)
MARGIN = 1.25          # the plane spans the path's extent times this, on each side of θ_c


@dataclass(frozen=True)
class Params:
    """A point (or a direction) in weight space: one W and one b per weight layer."""

    W: tuple
    b: tuple

    def flat(self) -> np.ndarray:
        return np.concatenate([np.ravel(a) for a in (*self.W, *self.b)]).astype(np.float64)

    def minus(self, other: "Params") -> "Params":
        return Params(tuple(np.asarray(a, np.float64) - b for a, b in zip(self.W, other.W)),
                      tuple(np.asarray(a, np.float64) - b for a, b in zip(self.b, other.b)))

    def unflat(self, v: np.ndarray) -> "Params":
        """A Params shaped like this one holding the numbers of the flat vector ``v``."""
        out, k = [], 0
        for a in (*self.W, *self.b):
            out.append(np.asarray(v[k:k + a.size]).reshape(a.shape))
            k += a.size
        n = len(self.W)
        return Params(tuple(out[:n]), tuple(out[n:]))


@dataclass(frozen=True)
class Plane:
    """The 2-D slice: θ(α, β) = centre + α d1 + β d2 on the grid ``alphas`` × ``betas`` (each
    holding 0 exactly, at the middle); ``path`` (m, 2) the saved weights' (α, β) coordinates, at
    ``path_steps``; ``directions`` says how d1, d2 were chosen; ``in_plane`` the share of the path's
    squared distance from θ_c the plane holds (1.0 = the path lies in it)."""

    centre: Params
    d1: Params
    d2: Params
    alphas: np.ndarray
    betas: np.ndarray
    path: np.ndarray
    path_steps: np.ndarray
    directions: str
    in_plane: float


@dataclass(frozen=True)
class LandscapeTask:
    """A landscape request: the current weights, the first ones (None: rebuilt from the seed), the
    saved weights for the path, the digits to measure on; ``plane`` once planned."""

    config: dict                     # activation, cost (a Snapshot's config)
    current: Params
    first: Params | None = None      # the weights at step 0 (for the line)
    saved: tuple = ()                # Params of the saved weights, oldest first
    saved_steps: tuple = ()
    train_idx: np.ndarray | None = None
    test_idx: np.ndarray | None = None
    plane: Plane | None = None
    grid: int = GRID
    seed: int = 0
    step: int = 0                    # the training step of ``current``
    silenced: tuple = ()             # (l, j) of hidden neurons the trainer holds at 0 (Snapshot.silenced)


@dataclass(frozen=True)
class LineResult:
    """Costs along θ₀ + α(θ₁ − θ₀): ``train`` and ``test`` (NaN where a cost overflowed)."""

    alphas: np.ndarray
    train: np.ndarray
    test: np.ndarray


def evenly(n: int, count: int) -> np.ndarray:
    """``count`` indices of ``n`` spread evenly from the first to the last (all when fewer)."""
    if n <= count:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, count)).astype(int))


def subset_indices(n: int, size: int = SUBSET, seed: int = 0) -> np.ndarray:
    """``size`` fixed digits of ``n`` (sorted), the same for every request of a run."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def first_weights(config: dict) -> Params:
    """The network at step 0: core.network.Network built again from the run's seed."""
    from core.network import Network
    net = Network(config["sizes"], config["activation"], config["cost"], seed=config.get("seed", 0),
                  dtype=config.get("dtype", "float32"))
    return Params(tuple(net.W), tuple(net.b))


# --- directions ----------------------------------------------------------------------------
def trajectory_directions(centre: Params, saved) -> tuple:
    """(d1, d2, in_plane): orthonormal unit directions of the two largest principal components of
    the saved weights' offsets θ_i − θ_c (uncentred PCA through the small m × m Gram matrix, built
    one offset pair at a time: memory stays a few weight vectors, not m of them)."""
    c = centre.flat()
    m = len(saved)
    G = np.zeros((m, m))
    for i in range(m):
        di = saved[i].flat() - c
        for j in range(i, m):
            G[i, j] = G[j, i] = di @ (saved[j].flat() - c) if j != i else di @ di
    values, vectors = np.linalg.eigh(G)
    order = np.argsort(values)[::-1][:2]
    dirs = [np.zeros_like(c) for _ in order]
    for i in range(m):
        di = saved[i].flat() - c
        for d, k in zip(dirs, order):
            d += vectors[i, k] * di
    dirs = [d / np.linalg.norm(d) if np.linalg.norm(d) > 0 else d for d in dirs]
    total = float(np.trace(G))
    in_plane = float(np.clip(values[order], 0, None).sum() / total) if total > 0 else 1.0
    return centre.unflat(dirs[0]), centre.unflat(dirs[1]), in_plane


def filter_normalised_direction(centre: Params, rng) -> Params:
    """A random direction whose row j of each layer has the norm of neuron j's incoming weights
    (filter normalisation, Li et al. 2018); biases 0."""
    W = []
    for w in centre.W:
        d = rng.standard_normal(w.shape)
        d *= (np.linalg.norm(w, axis=1, keepdims=True) / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12))
        W.append(d)
    return Params(tuple(W), tuple(np.zeros(np.shape(b)) for b in centre.b))


def coordinates(centre: Params, d1: Params, d2: Params, saved) -> np.ndarray:
    """(m, 2): each saved θ_i's least-squares (α, β) with θ_i − θ_c ≈ α d1 + β d2 (the 2×2 normal
    equations, one saved point at a time)."""
    if not saved:
        return np.zeros((0, 2))
    c, u, v = centre.flat(), d1.flat(), d2.flat()
    M = np.array([[u @ u, u @ v], [u @ v, v @ v]])
    out = np.zeros((len(saved), 2))
    for i, p in enumerate(saved):
        d = p.flat() - c
        out[i] = np.linalg.lstsq(M, [u @ d, v @ d], rcond=None)[0]
    return out


def axis_grid(extent: float, n: int) -> np.ndarray:
    """``n`` (odd) evenly spaced values over ±extent, the middle one exactly 0."""
    n = n if n % 2 else n + 1
    g = np.linspace(-extent, extent, n)
    g[n // 2] = 0.0
    return g


def plan(task: LandscapeTask) -> Plane:
    """The plane for ``task``: trajectory directions with ≥ 3 saved weights, else random ones."""
    centre, saved = task.current, list(task.saved)
    steps = np.asarray(task.saved_steps, dtype=np.int64)
    if len(saved) > MAX_PATH:
        pick = evenly(len(saved), MAX_PATH)
        saved, steps = [saved[i] for i in pick], steps[pick]
    if len(saved) >= 3:
        d1, d2, in_plane = trajectory_directions(centre, saved)
        how = "trajectory PCA: the two main directions of the saved weights' path"
    else:
        rng = np.random.default_rng(task.seed)
        d1, d2 = filter_normalised_direction(centre, rng), filter_normalised_direction(centre, rng)
        in_plane, how = float("nan"), "filter-normalised random directions (no path saved yet)"
    path = coordinates(centre, d1, d2, saved)
    if len(path) and np.abs(path).max() > 0:
        ext_a, ext_b = (max(float(np.abs(path[:, k]).max()) * MARGIN, 1e-3) for k in (0, 1))
        ext_b = max(ext_b, 0.25 * ext_a)          # a thin path still gets a readable height
    else:
        ext_a = ext_b = 1.0                        # random directions: one weight norm either way
    return Plane(centre, d1, d2, axis_grid(ext_a, task.grid), axis_grid(ext_b, task.grid),
                 path, steps, how, in_plane)


# --- costs -----------------------------------------------------------------------------------
class LinearFamily:
    """Costs of θ(c) = base + Σ_k c_k D_k on fixed digits X (labels y), the first layer's products
    X·Wᵀ made once (see the module notes)."""

    def __init__(self, config: dict, base: Params, dirs, X, labels, silenced=()):
        from core.evaluate import network_from_weights
        from core.network import one_hot, silenced_layers
        self.base, self.dirs = base, list(dirs)
        self.net = network_from_weights(base.W, base.b, config["activation"], config["cost"])
        self.silenced = silenced_layers(silenced)  # weight layer l → knocked-out neurons, held at 0
        dtype = self.net.dtype
        X = np.asarray(X, dtype=dtype)
        stacked = np.concatenate([np.asarray(base.W[0], dtype)] + [np.asarray(d.W[0], dtype) for d in self.dirs])
        Z = X @ stacked.T                          # one product for all: (n, n_out · (k+1))
        self.Z = np.split(Z, len(self.dirs) + 1, axis=1)
        self.Y = one_hot(labels, self.net.sizes[-1], dtype)

    def _held(self, l: int, a: np.ndarray) -> np.ndarray:
        """``a`` with layer l's knocked-out neurons at 0, as Network.forward holds them."""
        if l in self.silenced and l < self.net.n_layers - 1:
            a[:, self.silenced[l]] = 0
        return a

    def cost(self, c) -> float:
        """The mean cost at coefficients ``c`` (one per direction); NaN if it is not finite."""
        net, dtype = self.net, self.net.dtype
        z = self.Z[0].copy()
        b0 = np.asarray(self.base.b[0], np.float64) + sum(ck * np.asarray(d.b[0]) for ck, d in zip(c, self.dirs))
        for ck, Zk in zip(c, self.Z[1:]):
            if ck:
                z += dtype.type(ck) * Zk
        z += b0.astype(dtype)
        a = self._held(0, net.sigma(0)(z))
        for l in range(1, net.n_layers):
            W = np.asarray(self.base.W[l], np.float64) + sum(ck * np.asarray(d.W[l]) for ck, d in zip(c, self.dirs))
            b = np.asarray(self.base.b[l], np.float64) + sum(ck * np.asarray(d.b[l]) for ck, d in zip(c, self.dirs))
            z = a @ W.astype(dtype).T
            z += b.astype(dtype)
            a = self._held(l, net.sigma(l)(z))
        with np.errstate(all="ignore"):
            value = float(np.mean(net.costs(a, self.Y)))
        return value if np.isfinite(value) else float("nan")


def line_costs(task: LandscapeTask, train, test) -> LineResult:
    """Training and test cost along the line from ``task.first`` through ``task.current``."""
    first = task.first if task.first is not None else first_weights(task.config)
    direction = task.current.minus(first)
    out = []
    for data, idx in ((train, task.train_idx), (test, task.test_idx)):
        if data is None:
            out.append(np.full(len(LINE_ALPHAS), np.nan))
            continue
        family = LinearFamily(task.config, first, [direction], data.images[idx], data.labels[idx], task.silenced)
        out.append(np.array([family.cost((a,)) for a in LINE_ALPHAS]))
    return LineResult(LINE_ALPHAS.copy(), *out)


def plane_rows(task: LandscapeTask, train, rows=None, progress=None, done: int = 0, total: int = 0) -> np.ndarray:
    """The training cost over rows ``rows`` (all by default) of ``task.plane``'s grid, the first
    layer's products made once; ``progress(fraction)`` after each row (``done`` parts of ``total``
    before them)."""
    p = task.plane
    rows = range(len(p.alphas)) if rows is None else rows
    family = LinearFamily(task.config, p.centre, [p.d1, p.d2], train.images[task.train_idx],
                          train.labels[task.train_idx], task.silenced)
    out = []
    for k, r in enumerate(rows):
        out.append([family.cost((float(p.alphas[r]), float(b))) for b in p.betas])
        if progress is not None:
            progress((done + k + 1) / max(total, done + len(rows)))
    return np.array(out)


@dataclass(frozen=True)
class Landscape:
    """A measured landscape: the plane (directions, grid, path), the line, and ``costs``
    (alphas, betas): the training cost at each grid point."""

    plane: Plane
    line: LineResult
    costs: np.ndarray
    step: int = 0


def measure_landscape(task: LandscapeTask, train, test, progress=None) -> Landscape:
    """The job run off the GUI thread: plan the plane, measure the line, then the plane row by row,
    reporting ``progress(fraction)`` after the line and after each row (the window's Cancel stops
    it there). The saved weights are dropped from the task once the plane is planned."""
    plane = plan(task)
    line = line_costs(task, train, test)
    total = len(plane.alphas) + 1
    if progress is not None:
        progress(1 / total)
    costs = plane_rows(replace(task, plane=plane, saved=(), saved_steps=()), train, progress=progress,
                       done=1, total=total)
    return Landscape(plane, line, costs, task.step)
