"""Hidden space: PCA aligned frame to frame (core.embedding)."""
from dataclasses import replace

import numpy as np
import pytest

from core.embedding import (Projection, choose_digits, hidden_activations, principal_axes, procrustes_rotation,
                            project, project_snapshot)
from snapshots import make_snapshot, make_snapshots, synthetic_digits

from tests.conftest import SHARED_MNIST as MNIST   # ../shared/mnist beside the project


def test_choose_digits_is_balanced_fixed_and_sorted():
    labels = np.repeat(np.arange(10), [50, 300, 300, 300, 300, 300, 300, 300, 300, 300])
    a, b = choose_digits(labels, 1000, seed=3), choose_digits(labels, 1000, seed=3)
    assert np.array_equal(a, b) and np.all(np.diff(a) > 0) and len(a) == 1000
    counts = np.bincount(labels[a], minlength=10)
    assert counts[0] == 50 and set(counts[1:]) <= {105, 106}   # the scarce digit all in, the rest shared
    assert len(choose_digits(labels[:20], 1000)) == 20
    with pytest.raises(ValueError):
        choose_digits(labels, 0)


def test_principal_axes_match_numpy_svd():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((500, 12)) @ rng.standard_normal((12, 12))
    axes, mean, explained = principal_axes(A)
    _, s, Vt = np.linalg.svd(A - A.mean(0), full_matrices=False)
    for k in range(2):
        assert abs(abs(axes[:, k] @ Vt[k]) - 1) < 1e-9
    assert np.allclose(explained, s[:2] ** 2 / np.sum(s ** 2))
    assert np.allclose(mean, A.mean(0))


def test_paced_interval_keeps_the_share():
    from core.embedding import paced_interval
    assert paced_interval(0.005, 0.25, 0.05) == 0.25
    gap = paced_interval(0.2, 0.25, 0.05)
    assert 0.2 / (0.2 + gap) == pytest.approx(0.05)


def test_procrustes_undoes_a_rotation_and_a_flip():
    rng = np.random.default_rng(1)
    P = rng.standard_normal((200, 2))
    t = 0.7
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ np.diag([1, -1])
    assert np.allclose(P @ R @ procrustes_rotation(P @ R, P), P)


def test_a_fixed_network_gives_the_same_picture_twice():
    snap = make_snapshot(steps=30, sizes=(784, 16, 10))
    data = synthetic_digits(300, 5)
    idx = choose_digits(data.labels, 200)
    first = project_snapshot(snap, data, idx, 1)
    again = project_snapshot(snap, data, idx, 1, previous=first)
    assert np.allclose(first.points, again.points, atol=1e-5)
    cold = project_snapshot(snap, data, idx, 1)        # no previous frame: the sign convention is fixed
    assert np.array_equal(first.points, cold.points)


def test_small_weight_changes_move_points_a_little_and_never_flip_axes():
    """Frames a few training steps apart (and weights nudged by noise) stay aligned: every axis of
    the new frame points the way the old one did, and points move by a small part of the spread."""
    snaps = make_snapshots(count=12, steps_between=2, sizes=(784, 16, 10))
    data = synthetic_digits(300, 5)
    idx = choose_digits(data.labels, 300)
    previous = project_snapshot(snaps[0], data, idx, 1)
    rng = np.random.default_rng(0)
    for snap in snaps[1:]:
        W = tuple(w + rng.normal(0, 1e-3, w.shape).astype(w.dtype) for w in snap.W)
        frame = project_snapshot(replace(snap, W=W), data, idx, 1, previous=previous)
        spread = np.linalg.norm(previous.points, axis=1).mean()
        moved = np.linalg.norm(frame.points - previous.points, axis=1).mean()
        assert moved < 0.25 * spread
        cosines = np.sum(frame.axes * previous.axes, axis=0)
        assert np.all(cosines > 0.5), cosines          # a flipped axis would give about −1
        # the unaligned PCA of the same frame may point either way: alignment is what keeps it
        previous = frame


def test_flipped_pca_is_turned_back():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((300, 8)) * np.arange(8, 0, -1)
    points, axes, mean, _ = project(A)
    prev = Projection(points, axes, mean, np.zeros(2), 1, 0)
    flipped = Projection(-points, -axes, mean, np.zeros(2), 1, 0)
    again, _, _, _ = project(A, prev)
    assert np.allclose(again, points)
    turned, turned_axes, _, _ = project(A, flipped)
    assert np.allclose(turned, -points) and np.allclose(turned_axes, -axes)


def test_activations_are_the_networks_own_with_knocked_out_neurons_silent():
    snap = make_snapshot(steps=3, sizes=(784, 12, 8, 10))
    from core.snapshot import network_from_snapshot
    data = synthetic_digits(50, 0)
    trace = network_from_snapshot(snap).forward(data.images)
    for layer in (1, 2):
        A = hidden_activations(snap, data.images, layer)
        assert np.allclose(A, trace.a[layer], atol=1e-6)
    with pytest.raises(ValueError, match="hidden layer 3"):
        hidden_activations(snap, data.images, 3)
    silenced = replace(snap, silenced=((0, 2), (0, 5)))
    A = hidden_activations(silenced, data.images, 1)
    assert not A[:, [2, 5]].any() and A[:, 0].any()


@pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte.gz").exists(), reason=f"the full MNIST is not at {MNIST}")
def test_real_mnist_layer_separates_digits_more_after_training():
    """2,000 real test digits: after training, the 2-D picture holds the digits apart better than
    at step 0 (between-class spread over total spread grows)."""
    from core.data import load_mnist
    from core.network import Network
    from core.trainer import Trainer
    data = load_mnist(str(MNIST), progress=False, download=False)
    trainer = Trainer(Network((784, 64, 10), seed=0), data.train, data.test, lr=0.5, batch_size=32)
    idx = choose_digits(data.test.labels, 2000)

    def separation(snap):
        p = project_snapshot(snap, data.test, idx, 1).points.astype(np.float64)
        labels = data.test.labels[idx]
        centres = np.stack([p[labels == c].mean(0) for c in range(10)])
        within = sum(((p[labels == c] - centres[c]) ** 2).sum() for c in range(10))
        return 1 - within / ((p - p.mean(0)) ** 2).sum()

    before = separation(trainer.snapshot("paused"))
    for _ in range(300):
        trainer.step()
    after = separation(trainer.snapshot("paused"))
    assert after > before + 0.1, (before, after)


def test_tsne_on_request_lays_out_the_same_digits_turned_like_the_pca():
    pytest.importorskip("sklearn", reason="t-SNE is optional (scikit-learn)")
    from core.embedding import tsne_snapshot
    snap = make_snapshot(steps=40, sizes=(784, 16, 10))
    data = synthetic_digits(300, 5)
    idx = choose_digits(data.labels, 300)
    pca = project_snapshot(snap, data, idx, 1)
    t = tsne_snapshot(snap, data, idx, 1, reference=pca, perplexity=20)
    assert t.method == "t-SNE" and t.points.shape == (300, 2) and np.all(np.isfinite(t.points))
    # digits of one label lie closer together than digits in general
    labels = data.labels[idx]
    within = np.mean([np.linalg.norm(t.points[labels == c] - t.points[labels == c].mean(0), axis=1).mean()
                      for c in np.unique(labels)])
    overall = np.linalg.norm(t.points - t.points.mean(0), axis=1).mean()
    assert within < 0.5 * overall


def test_tsne_without_scikit_learn_says_how_to_get_it(monkeypatch):
    import builtins
    from core.embedding import tsne_snapshot
    real = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        tsne_snapshot(make_snapshot(steps=1), synthetic_digits(20, 0), np.arange(20), 1)
