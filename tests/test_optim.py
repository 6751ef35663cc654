"""Gradient descent against the update rule written out by hand: v = μ v − η (g + λ W), p += v."""
import numpy as np
import pytest

from core.network import Network, one_hot
from core.optim import SGD


def batch(seed=3, n=6, n_in=12, n_out=4):
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in)), one_hot(rng.integers(0, n_out, n), n_out, np.float64)


def by_hand(params, grads_per_step, lr, mu, l2):
    """The textbook rule, one plain loop per parameter and step, in float64."""
    params = [p.copy() for p in params]
    velocity = [np.zeros_like(p) for p in params]
    for grads in grads_per_step:
        for i, (p, g) in enumerate(zip(params, grads)):
            decay = l2 * p if p.ndim == 2 else 0.0
            velocity[i] = mu * velocity[i] - lr * (g + decay)
            params[i] = p + velocity[i]
    return params


@pytest.mark.parametrize("mu,l2", [(0.0, 0.0), (0.9, 0.0), (0.0, 1e-3), (0.5, 1e-2)])
def test_step_follows_the_update_rule(mu, l2):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((4, 3)), rng.standard_normal(4)]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(3)]
    expected = by_hand(params, grads, 0.3, mu, l2)
    opt, live = SGD(0.3, mu, l2), [p.copy() for p in params]
    for g in grads:
        opt.step(live, [x.copy() for x in g])
    for got, want in zip(live, expected):
        np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("mu,l2", [(0.0, 0.0), (0.9, 0.0), (0.9, 1e-3)])
def test_apply_with_backward_scaled_by_minus_lr_trains_exactly_like_step(mu, l2):
    X, Y = batch()
    a = Network((12, 7, 4), "sigmoid", "cross-entropy", seed=2, dtype=np.float64)
    b = a.copy()
    opt_a, opt_b = SGD(0.5, mu, l2), SGD(0.5, mu, l2)
    for _ in range(5):
        grads = a.backward(a.forward(X), Y)
        opt_a.step(a.params(), grads.params(), norms=False)
        deltas = b.backward(b.forward(X), Y, scale=-opt_b.lr)
        opt_b.apply(b.params(), deltas.params())
    for p, q in zip(a.params(), b.params()):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)


def test_backward_scale_multiplies_the_gradients_but_not_delta():
    X, Y = batch()
    net = Network((12, 5, 4), "tanh", "quadratic", seed=1, dtype=np.float64)
    trace = net.forward(X)
    plain, scaled = net.backward(trace, Y), net.backward(trace, Y, scale=-0.25)
    for g, s in zip(plain.params(), scaled.params()):
        np.testing.assert_allclose(s, -0.25 * g, rtol=1e-13)
    for d, e in zip(plain.delta, scaled.delta):
        np.testing.assert_array_equal(d, e)


def test_norms_are_the_size_of_each_update():
    p = [np.zeros((2, 2)), np.zeros(2)]
    sizes = SGD(0.5).step(p, [np.full((2, 2), 2.0), np.array([3.0, 4.0])])
    assert sizes == pytest.approx([2.0, 2.5])
    assert SGD(0.5).step(p, [np.ones((2, 2)), np.ones(2)], norms=False) is None


def test_reset_forgets_momentum():
    opt, p = SGD(1.0, 0.9), [np.zeros(3)]
    opt.step(p, [np.ones(3)])
    opt.reset()
    before = p[0].copy()
    opt.step(p, [np.ones(3)])
    np.testing.assert_allclose(p[0] - before, -1.0)  # no velocity carried over


def test_hyper_parameters_can_change_between_steps():
    opt, p = SGD(1.0), [np.zeros(2)]
    opt.step(p, [np.ones(2)])
    opt.lr = 0.1
    opt.step(p, [np.ones(2)])
    np.testing.assert_allclose(p[0], -1.1)
