"""The network's maths against trusted references: finite differences and hand-worked values."""
import itertools

import numpy as np
import pytest

from core.activations import get_activation
from core.costs import get_cost
from core.network import Network, one_hot

PAIRS = list(itertools.product(["sigmoid", "tanh", "relu"], ["quadratic", "cross-entropy"]))


def small_batch(seed=1, n=5, n_in=12, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in)).astype(dtype)
    return X, one_hot(rng.integers(0, 4, n), 4, dtype)


def mean_cost(net, X, Y):
    return float(np.mean(net.costs(net.forward(X).output, Y)))


def finite_difference(net, X, Y, param, eps=1e-6):
    """Central differences of the mean cost with respect to every entry of ``param``."""
    grad = np.zeros_like(param)
    for i in np.ndindex(param.shape):
        saved = param[i]
        param[i] = saved + eps
        up = mean_cost(net, X, Y)
        param[i] = saved - eps
        down = mean_cost(net, X, Y)
        param[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_backprop_matches_finite_differences(activation, cost):
    net = Network((12, 7, 5, 4), activation, cost, seed=3, dtype=np.float64)
    for b in net.b:  # non-zero biases so every term of the chain rule is exercised
        b[:] = np.random.default_rng(4).normal(0, 0.3, b.shape)
    X, Y = small_batch()
    _, grads = net.gradients(X, Y)
    for l in range(net.n_layers):
        assert relative_error(grads.dW[l], finite_difference(net, X, Y, net.W[l])) < 1e-6
        assert relative_error(grads.db[l], finite_difference(net, X, Y, net.b[l])) < 1e-6


def test_forward_is_sigma_of_w_a_plus_b():
    net = Network((3, 2, 2), "sigmoid", "quadratic", dtype=np.float64)
    net.W = [np.array([[1.0, -1.0, 0.5], [0.0, 2.0, 0.0]]), np.array([[1.0, 1.0], [-1.0, 0.0]])]
    net.b = [np.array([0.1, -0.2]), np.array([0.0, 0.3])]
    x = np.array([[0.2, 0.4, 1.0]])
    trace = net.forward(x)
    z1 = np.array([0.2 - 0.4 + 0.5 + 0.1, 0.8 - 0.2])
    a1 = 1 / (1 + np.exp(-z1))
    z2 = np.array([a1[0] + a1[1], -a1[0] + 0.3])
    np.testing.assert_allclose(trace.z[0][0], z1)
    np.testing.assert_allclose(trace.a[1][0], a1)
    np.testing.assert_allclose(trace.output[0], 1 / (1 + np.exp(-z2)))


def test_quadratic_cost_and_output_error_follow_the_notes():
    cost = get_cost("quadratic")
    z = np.array([[0.5, -1.0]])
    a = cost.output(z)
    y = np.array([[1.0, 0.0]])
    assert cost.fn(a, y)[0] == pytest.approx(np.sum((a - y) ** 2))
    np.testing.assert_allclose(cost.delta(z, a, y), 2 * (a - y) * a * (1 - a))


def test_softmax_cross_entropy_error_is_s_minus_y():
    cost = get_cost("cross-entropy")
    z = np.array([[1.0, 2.0, 3.0]])
    s = cost.output(z)
    np.testing.assert_allclose(s, np.exp(z) / np.exp(z).sum())
    y = np.array([[0.0, 1.0, 0.0]])
    assert cost.fn(s, y)[0] == pytest.approx(-np.log(s[0, 1]))
    np.testing.assert_allclose(cost.delta(z, s, y), s - y)


def test_softmax_survives_huge_inputs():
    s = get_cost("cross-entropy").output(np.array([[1000.0, 0.0, -1000.0]], dtype=np.float32))
    assert np.all(np.isfinite(s)) and s[0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_activation_derivatives_match_finite_differences(name):
    f = get_activation(name)
    z = np.linspace(-4, 4, 41) + 0.013  # avoid ReLU's kink at exactly 0
    numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
    np.testing.assert_allclose(f.prime(z), numeric, rtol=1e-6, atol=1e-9)


def test_sigmoid_does_not_overflow():
    a = get_activation("sigmoid")(np.array([-1e4, 0.0, 1e4], dtype=np.float32))
    np.testing.assert_array_equal(a, [0.0, 0.5, 1.0])


def test_gradient_is_averaged_over_the_batch():
    net = Network((12, 6, 4), "sigmoid", "cross-entropy", dtype=np.float64)
    X, Y = small_batch(n=4)
    _, whole = net.gradients(X, Y)
    parts = [net.gradients(X[i:i + 1], Y[i:i + 1])[1].dW[0] for i in range(4)]
    np.testing.assert_allclose(whole.dW[0], np.mean(parts, axis=0), rtol=1e-10)


def test_float32_is_the_default_and_stays_float32():
    net = Network()
    X, Y = small_batch(n=3, n_in=784, dtype=np.float32)
    trace, grads = net.gradients(X, one_hot([1, 2, 3]))
    assert all(a.dtype == np.float32 for a in trace.a)
    assert all(g.dtype == np.float32 for g in grads.dW + grads.db)


def test_same_seed_same_network_and_repr():
    a, b = Network(seed=7), Network(seed=7)
    assert all(np.array_equal(x, y) for x, y in zip(a.W, b.W))
    assert not np.array_equal(a.W[0], Network(seed=8).W[0])
    assert "784, 100, 10" in repr(a)


def test_invalid_architecture_is_refused():
    with pytest.raises(ValueError):
        Network((784,))
    with pytest.raises(ValueError):
        Network((784, 100, 10), activation="softsign")


def test_gradient_norms_per_layer_and_per_neuron():
    net = Network((12, 6, 4), "relu", "cross-entropy", seed=3, dtype=np.float64)
    X, Y = small_batch(n=5)
    _, grads = net.gradients(X, Y)
    for l, (dW, db) in enumerate(zip(grads.dW, grads.db)):
        whole = np.linalg.norm(np.concatenate([dW.ravel(), db]))
        assert grads.layer_norms()[l] == pytest.approx(whole, rel=1e-12)
        assert grads.layer_norms(grads.neuron_norms())[l] == pytest.approx(whole, rel=1e-12)
        np.testing.assert_allclose(grads.neuron_norms()[l], np.linalg.norm(dW, axis=1), rtol=1e-12)
