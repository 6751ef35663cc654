"""The notes' detour, softmax on top of sigmoid outputs: s = softmax(σ(z)), δL = (s − y) ⊙ σ'(z).

No output can pass e / (e + 9) ≈ 0.23, the pair gradient-checks with every hidden activation, the
Backprop inspector shows its δ, and a network trained with it learns, more slowly.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.activations import ACTIVATIONS
from core.costs import DETOUR_MAX, get_cost
from core.divergence import pinned_outputs
from core.gradcheck import TOLERANCE, check_neuron
from core.inspect import explain_neuron
from core.network import Network, one_hot
from core.trainer import Trainer
from tests.snapshots import synthetic_digits

NAME = "sigmoid-softmax"
pair = get_cost(NAME)


def test_the_bound_is_e_over_e_plus_nine_and_reached_only_in_the_limit():
    assert DETOUR_MAX == pytest.approx(math.e / (math.e + 9)) and 0.2319 < DETOUR_MAX < 0.2320
    z = np.array([[1e30] + [-1e30] * 9, [0.0] * 10])
    s = pair.output(z)
    assert s[0, 0] == pytest.approx(DETOUR_MAX, rel=1e-15) and s[0, 1:] == pytest.approx(1 / (math.e + 9))
    np.testing.assert_allclose(s[1], 0.1)


huge_or_not = st.one_of(st.floats(-50, 50), st.floats(-1e300, 1e300), st.sampled_from([-1e308, 1e308, 0.0]))


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, (3, 10), elements=huge_or_not), st.sampled_from([np.float64, np.float32]))
def test_no_output_ever_passes_e_over_e_plus_nine(z, dtype):
    with np.errstate(over="ignore"):
        z = z.astype(dtype)            # float32: the huge ones become ±inf, which σ takes to 0 or 1
    s = pair.output(z)
    ulp = np.finfo(dtype).eps
    assert s.dtype == dtype and np.isfinite(s).all()
    assert (s <= DETOUR_MAX * (1 + 4 * ulp)).all()        # up to the last bits of rounding
    assert (s >= (1 / (1 + 9 * math.e)) * (1 - 4 * ulp)).all()
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=16 * ulp)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, (4, 10), elements=st.floats(-30, 30)), st.integers(0, 9))
def test_delta_is_s_minus_y_times_sigma_prime(z, label):
    y = one_hot([label] * 4, 10, np.float64)
    s = pair.output(z)
    e = np.exp(-np.abs(z))
    sigma_prime = e / (1 + e) ** 2            # σ(z)(1 − σ(z)) without the cancellation of 1 − σ
    # the core takes σ' = a(1 − a) from a = σ(z), as backprop does: exact to ulp(1), not relatively
    np.testing.assert_allclose(pair.delta(z, s, y), (s - y) * sigma_prime, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(pair.delta(z, s, y), pair.dC_da(s, y) * pair.output_prime(z), rtol=1e-15)
    np.testing.assert_allclose(pair.fn(s, y), -np.log(s[:, label]), rtol=1e-13)
    assert (pair.fn(s, y) >= -math.log(DETOUR_MAX) * (1 - 1e-15)).all()   # the cost can never reach 0


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_check_for_every_hidden_activation(activation):
    net = Network((784, 12, 8, 10), activation, NAME, seed=5, dtype=np.float64)
    trainer = Trainer(net, synthetic_digits(300, 0), synthetic_digits(100, 1), lr=1.0, momentum=0.9, seed=5)
    for _ in range(5):
        trainer.step()
    X, labels = trainer.test.images[:3], trainer.test.labels[:3]
    Y = one_hot(labels, 10, np.float64)
    _, grads = net.gradients(X, Y)
    for l in range(net.n_layers):
        j = int(np.argmax(np.abs(grads.delta[l]).sum(axis=0)))   # a live neuron
        result = check_neuron(net, X, Y, l, j)
        assert result.relative_error < TOLERANCE and result.agrees, (l, result)
        assert np.abs(result.backprop).max() > 1e-6


def test_the_inspector_rebuilds_the_detours_delta():
    trainer = Trainer(Network((784, 10, 10), "tanh", NAME, seed=1, dtype=np.float64), synthetic_digits(200, 0),
                      synthetic_digits(50, 1), lr=1.0, seed=1)
    trainer.step()
    snap = trainer.snapshot("paused")
    for j in range(10):
        e = explain_neuron(snap, 1, j)
        u = 1 / (1 + math.exp(-e.z))
        assert not e.shortcut and e.sigma_z == pytest.approx(u) and e.sigma_prime == pytest.approx(u * (1 - u))
        assert e.dC_da == pytest.approx(e.a - e.y) and e.delta == pytest.approx(e.delta_from_parts, rel=1e-12)


def test_pinned_when_every_sigmoid_is_at_zero_or_one():
    u = np.array([[1.0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1.0, 1, 0, 0, 0, 0, 0, 0, 0, 0]])
    s = np.exp(u) / np.exp(u).sum(axis=1, keepdims=True)
    assert pinned_outputs(s, NAME)
    assert not pinned_outputs(np.full((2, 10), 0.1), NAME)            # all σ(z) equal: could be ½
    assert not pinned_outputs(pair.output(np.random.default_rng(0).normal(size=(5, 10))), NAME)


def test_it_learns_on_real_digits_more_slowly(mnist):
    """300 steps of 32 digits: the detour learns, but with the same η it trails softmax + cross-entropy,
    and its probabilities never pass 0.232."""
    def accuracy(cost, lr):
        trainer = Trainer(Network((784, 100, 10), "sigmoid", cost, seed=0), mnist.train, mnist.test,
                          lr=lr, momentum=0.9, batch_size=32, seed=0)
        for _ in range(300):
            trainer.step()
        out = trainer.net.output(mnist.test.images)
        return float(np.mean(np.argmax(out, axis=1) == mnist.test.labels)), out

    detour, out = accuracy(NAME, 0.1)
    plain, _ = accuracy("cross-entropy", 0.1)
    tuned, _ = accuracy(NAME, pair.suggested["lr"])
    assert 0.75 < detour < plain - 0.02                 # measured: 0.849 against 0.899
    assert tuned > 0.87                                 # measured: 0.895 with its own η = 1
    assert out.max() <= DETOUR_MAX * (1 + 1e-6)
