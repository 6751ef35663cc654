"""Hidden space: a fixed set of test digits, their activations in one hidden layer, projected to 2-D.

The projection is PCA: the two directions along which the digits' activations a^(l) vary most.
PCA alone would make a live picture jump, because each frame's axes are only defined up to sign
(and, when two variances are close, up to a rotation). So every frame is aligned to the one before
by orthogonal Procrustes: the 2×2 orthogonal matrix R minimising ‖P R − P_prev‖ for the same
digits' points P and P_prev. A fixed network therefore gives the same picture twice, and a small
change of the weights moves the points a little without flipping an axis.

Everything here is NumPy only and runs off the GUI thread (``project_snapshot`` is the job).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_DIGITS = 2000   # digits in the picture: enough to see clusters, few enough to draw each frame
MAX_DIGITS = 10_000
TSNE_ITERATIONS = 500   # measured on 2,000 MNIST digits: label separation 0.891 against 0.900 at 1,000


@dataclass(frozen=True)
class Projection:
    """One frame of the hidden-space picture.

    ``points`` (n, 2) are the digits' coordinates, ``axes`` (d, 2) the unit directions in the
    layer's d-dimensional activation space they were projected on (after alignment), ``mean`` (d,)
    the centre subtracted first; ``explained`` the fraction of the activations' variance along each
    axis; ``layer`` the hidden layer (1 = first); ``step`` the training step of the weights.
    """

    points: np.ndarray
    axes: np.ndarray
    mean: np.ndarray
    explained: np.ndarray
    layer: int
    step: int
    run_id: int = 0
    method: str = "PCA"
    seconds: float = 0.0    # what computing it took (the panel paces its requests by it)

    def __repr__(self):
        return (f"Projection({self.method}, layer={self.layer}, step={self.step}, points={len(self.points)}, "
                f"explained={np.round(self.explained, 3).tolist()})")


def choose_digits(labels, n: int = DEFAULT_DIGITS, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` digits (as evenly spread over the labels as the data allow), sorted, drawn
    once from ``seed`` so the picture always shows the same digits. All of them when there are fewer."""
    labels = np.asarray(labels)
    if not 1 <= int(n) <= MAX_DIGITS:
        raise ValueError(f"the hidden-space picture shows 1 to {MAX_DIGITS:,} digits, not {n}")
    if len(labels) <= n:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    by_class = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    # round-robin over the shuffled classes: equal shares, the rest from the classes that have more
    order = [ids[k] for k in range(max(len(ids) for ids in by_class)) for ids in by_class if k < len(ids)]
    return np.sort(np.asarray(order[:n], dtype=np.intp))


def hidden_activations(snapshot, images, layer: int) -> np.ndarray:
    """a^(layer) for every row of ``images`` through the snapshot's network (core.network's own
    forward pass, with the neurons the trainer knocked out held at 0). Float64 for a stable PCA."""
    from core.evaluate import network_from_snapshot
    if not 1 <= layer <= len(snapshot.W) - 1:
        raise ValueError(f"hidden layer {layer} does not exist: this network has {len(snapshot.W) - 1}")
    net = network_from_snapshot(snapshot)
    return np.asarray(net.forward(np.asarray(images, dtype=net.dtype)).a[layer], dtype=np.float64)


def principal_axes(A: np.ndarray, k: int = 2) -> tuple:
    """(axes (d, k), mean (d,), explained (k,)): the top-k principal directions of the rows of A.

    The eigenvectors of the d×d covariance (d is a hidden layer's width: 2 ms at 100 neurons, about
    0.3 s at 1,024, when the panel asks less often: see ``paced_interval``); directions are unit
    length; a layer with fewer than k neurons gets zero columns for the missing ones."""
    A = np.asarray(A, dtype=np.float64)
    mean = A.mean(axis=0)
    X = A - mean
    d = X.shape[1]
    cov = X.T @ X / max(len(X) - 1, 1)
    values, vectors = np.linalg.eigh(cov)            # ascending
    order = np.argsort(values)[::-1][:k]
    axes = np.zeros((d, k))
    axes[:, :len(order)] = vectors[:, order]
    total = float(np.trace(cov))
    explained = np.zeros(k)
    if total > 0:
        explained[:len(order)] = np.clip(values[order], 0, None) / total
    return axes, mean, explained


def procrustes_rotation(P: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal 2×2 R (a rotation, possibly with a reflection) minimising ‖P R − target‖_F:
    R = U Vᵀ from the SVD of Pᵀ target (orthogonal Procrustes)."""
    M = np.asarray(P, dtype=np.float64).T @ np.asarray(target, dtype=np.float64)
    if not np.all(np.isfinite(M)):
        return np.eye(M.shape[0])
    U, _, Vt = np.linalg.svd(M)
    return U @ Vt


def project(A: np.ndarray, previous: Projection | None = None) -> tuple:
    """(points, axes, mean, explained) of activations A (n, d), aligned to ``previous`` (same digits,
    same layer) when given; without it the signs are fixed so each axis' largest loading is positive
    (a stable convention for the first frame)."""
    axes, mean, explained = principal_axes(A)
    if previous is not None and previous.points.shape == (len(A), 2) and previous.axes.shape == axes.shape:
        points = (A - mean) @ axes
        R = procrustes_rotation(points, previous.points)
        return points @ R, axes @ R, mean, explained
    signs = np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(axes.shape[1])])
    signs[signs == 0] = 1
    axes = axes * signs
    return (A - mean) @ axes, axes, mean, explained


def project_snapshot(snapshot, dataset, indices, layer: int, previous: Projection | None = None) -> Projection:
    """The job run off the GUI thread: the hidden-space frame of ``snapshot``'s weights for digits
    ``indices`` of ``dataset`` (a core.data.Dataset), aligned to ``previous``."""
    import time
    started = time.perf_counter()
    A = hidden_activations(snapshot, dataset.images[np.asarray(indices)], layer)
    if not np.all(np.isfinite(A)):
        raise ValueError(f"the activations of hidden layer {layer} are not finite at step {snapshot.step}")
    same = previous is not None and previous.layer == layer and previous.run_id == snapshot.run_id
    points, axes, mean, explained = project(A, previous if same else None)
    return Projection(points.astype(np.float32), axes, mean, explained, layer, snapshot.step, snapshot.run_id,
                      seconds=time.perf_counter() - started)


def paced_interval(seconds: float, least: float, share: float) -> float:
    """Seconds to wait between two jobs of ``seconds`` each so they take at most ``share`` of a core
    (never less than ``least``)."""
    return max(float(least), float(seconds) * (1 - share) / share)


def tsne_snapshot(snapshot, dataset, indices, layer: int, reference: Projection | None = None,
                  perplexity: float = 30.0, seed: int = 0) -> Projection:
    """A t-SNE layout (scikit-learn's TSNE, on request: 2–3 s for 2,000 digits) of the same
    digits, rotated by Procrustes onto ``reference`` (the PCA picture) so the two read alike.
    Raises ImportError with an install hint when scikit-learn is absent."""
    try:
        from sklearn.manifold import TSNE
    except ImportError as e:
        raise ImportError("t-SNE needs scikit-learn: pip install scikit-learn") from e
    A = hidden_activations(snapshot, dataset.images[np.asarray(indices)], layer)
    init = reference.points if reference is not None and len(reference.points) == len(A) else "pca"
    if not isinstance(init, str):
        init = np.asarray(init, dtype=np.float64)
        init = init / max(float(np.std(init[:, 0])), 1e-12) * 1e-4   # sklearn's own scale for an init
    options = dict(perplexity=min(perplexity, (len(A) - 1) / 3), init=init, random_state=seed, method="barnes_hut")
    try:    # 500 iterations: the layout of 1,000 at 2 s instead of 4 (the analysis process runs one job at a time)
        tsne = TSNE(2, max_iter=TSNE_ITERATIONS, **options)
    except TypeError:   # scikit-learn before 1.5 called it n_iter
        tsne = TSNE(2, n_iter=TSNE_ITERATIONS, **options)
    Y = tsne.fit_transform(A)
    if reference is not None and len(reference.points) == len(A):
        Y = Y - Y.mean(axis=0)
        R = procrustes_rotation(Y, reference.points)
        Y = Y @ R
    return Projection(Y.astype(np.float32), np.zeros((A.shape[1], 2)), A.mean(axis=0), np.zeros(2), layer,
                      snapshot.step, snapshot.run_id, method="t-SNE")
