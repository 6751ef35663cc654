"""Distributions over time: exact counts on fixed edges, bounded evenly thinned history (core.histograms)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from core.histograms import (HistogramHistory, HistogramRow, QUANTITIES, choose_edges, folded, histogram,
                             histogram_row, linear_edges, nice_ceiling, quantiles_from_counts, resample_columns,
                             signed_log_edges)
from snapshots import make_snapshot, make_snapshots, synthetic_digits


def _numpy_counts(v, edges):
    v = np.asarray(v, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    return np.histogram(v, edges)[0]


@pytest.mark.parametrize("edges", [linear_edges(-1, 1), linear_edges(0, 1, 7), signed_log_edges()])
def test_counts_equal_numpys_on_the_edges_themselves(edges):
    """Values exactly on every edge, just beside them, and outside: the same counts as np.histogram."""
    v = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf),
                        [edges[0] - 1, edges[-1] + 1, np.nan, np.inf, -np.inf, 0.0]])
    h = histogram(v, edges)
    assert np.array_equal(h.counts, _numpy_counts(v, edges))
    assert h.under == 2 and h.over == 2 and h.nonfinite == 3 and h.total == v.size


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.integers(0, 400), elements=st.floats(-3, 3, width=32)))
def test_counts_equal_numpys_for_any_values(v):
    for edges in (linear_edges(-2, 2, 13), signed_log_edges((-3, 1), 2)):
        h = histogram(v, edges)
        inside = v[(v >= edges[0]) & (v <= edges[-1])]
        assert np.array_equal(h.counts, np.histogram(inside.astype(np.float64), edges)[0])
        assert h.total == v.size


def test_real_weights_counted_as_numpy_does():
    snap = make_snapshot(steps=20, sizes=(784, 32, 10))
    row, edges = histogram_row(snap, synthetic_digits(100, 1))
    for l in range(2):
        for q, arr in (("weights", snap.W[l]), ("biases", snap.b[l]), ("gradients", snap.dW[l])):
            h = row.histograms[q, l]
            assert np.array_equal(h.counts, _numpy_counts(arr, edges[q, l])), (q, l)
            assert h.total == arr.size


def test_edges_are_chosen_well():
    snap = make_snapshot(steps=0, sizes=(784, 16, 10))
    edges = choose_edges(snap)
    w = edges["weights", 0]
    assert w[0] == -w[-1] and w[-1] >= 5 * np.abs(snap.W[0]).max()       # room to spread
    assert np.allclose(np.diff(w), np.diff(w)[0])                          # evenly spaced
    assert edges["activations", 0][0] == 0 and edges["activations", 0][-1] == 1   # sigmoid's range
    g = edges["gradients", 0]
    assert g[0] == -1 and g[-1] == 1 and np.all(np.diff(g) > 0)
    assert nice_ceiling(0.31) == 0.4 and nice_ceiling(3.1) == 4 and nice_ceiling(0.1) == 0.1


def test_relu_activations_get_a_range_from_the_start():
    snap = make_snapshot(steps=2, sizes=(784, 16, 10), activation="relu")
    row, edges = histogram_row(snap, synthetic_digits(100, 1))
    hidden = edges["activations", 0]
    assert hidden[0] == 0 and hidden[-1] > 0
    assert row.histograms["activations", 0].over == 0     # nothing past the chosen top at the start


def test_history_keeps_at_most_its_limit_evenly_with_the_newest():
    history = HistogramHistory(limit=10)
    for step in range(1, 101):
        history.add(HistogramRow(step, 0, {}))
        assert len(history) <= 10
        assert history.steps[-1] == step
    steps = history.steps
    gaps = np.diff(steps[:-1])
    assert len(set(gaps)) == 1 and steps[0] == 1          # evenly spread from the first
    history.add(HistogramRow(50, 0, {}))                  # a late answer is ignored
    assert history.steps[-1] == 100


def test_matrix_folds_outliers_into_the_end_bins_and_quantiles_follow():
    edges = linear_edges(0, 10, 10)
    history = HistogramHistory()
    for step, centre in ((1, 2.5), (2, 7.5)):
        v = np.full(100, centre)
        v[:5] = 50
        history.add(HistogramRow(step, 0, {("weights", 0): histogram(v, edges)}))
    m = history.matrix(("weights", 0))
    assert m.shape == (2, 10) and m[0, 2] == 95 and m[0, -1] == 5
    q = quantiles_from_counts(m, edges, (0.5,))
    assert 2 <= q[0, 0] <= 3 and 7 <= q[1, 0] <= 8
    grid, cols = resample_columns(history.steps, m, 5)
    assert np.array_equal(cols[0], m[0]) and np.array_equal(cols[-1], m[1])
    assert history.matrix(("biases", 3)).shape == (0, 0)


def test_every_quantity_of_every_layer_is_there():
    snaps = make_snapshots(count=2, sizes=(784, 16, 12, 10))
    row, edges = histogram_row(snaps[0], synthetic_digits(60, 2))
    assert set(row.histograms) == {(q, l) for q in QUANTITIES for l in range(3)}
    row2, _ = histogram_row(snaps[1], synthetic_digits(60, 2), edges)
    assert row2.histograms["activations", 1].total == 60 * 12
    assert folded(row2.histograms["weights", 0]).sum() + row2.histograms["weights", 0].nonfinite == 784 * 16
