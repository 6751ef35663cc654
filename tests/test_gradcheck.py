"""core.gradcheck: backprop of one neuron against finite differences, in float64, for every pair."""
import dataclasses
import itertools

import numpy as np
import pytest

from core.gradcheck import N_WEIGHTS, check_neuron, float64_copy, relative_error
from core.network import Network, one_hot
from core.trainer import Trainer
from tests.snapshots import make_trainer, synthetic_digits

PAIRS = list(itertools.product(["sigmoid", "tanh", "relu"], ["quadratic", "cross-entropy"]))
SIZES = (784, 12, 8, 10)


def trained(activation, cost, dtype=np.float64, steps=5):
    net = Network(SIZES, activation, cost, seed=2, dtype=dtype)
    trainer = Trainer(net, synthetic_digits(300, 0), synthetic_digits(100, 1), lr=0.3, seed=2)
    for _ in range(steps):
        trainer.step()
    return trainer


def probe(trainer):
    i = trainer.probe_index
    data = trainer.probe_set
    return data.images[i:i + 1], one_hot(data.labels[i:i + 1], 10, np.float64)


def live_neuron(trainer, l):
    """The neuron of layer l with the largest |δ| on the probe: never a dead ReLU."""
    X, Y = probe(trainer)
    _, grads = trainer.net.gradients(X, Y)
    return int(np.argmax(np.abs(grads.delta[l][0])))


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_backprop_agrees_with_finite_differences_for_every_layer(activation, cost):
    trainer = trained(activation, cost)
    X, Y = probe(trainer)
    for l in range(trainer.net.n_layers):
        result = check_neuron(trainer.net, X, Y, l, live_neuron(trainer, l))
        assert result.relative_error < 1e-6 and result.agrees, (l, result)
        assert np.abs(result.backprop).max() > 1e-6  # a real gradient was checked, not zeros


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_a_float32_network_is_checked_in_float64_and_left_alone(activation, cost):
    trainer = make_trainer(SIZES, activation, cost, seed=1)
    for _ in range(3):
        trainer.step()
    net = trainer.net
    before = [w.copy() for w in net.params()]
    X, Y = probe(trainer)
    result = check_neuron(net, X, Y, 0, live_neuron(trainer, 0))
    assert result.relative_error < 1e-6
    assert result.backprop.dtype == np.float64
    assert net.dtype == np.float32 and all(p.dtype == np.float32 for p in net.params())
    assert all(np.array_equal(a, b) for a, b in zip(before, net.params()))


def test_a_first_layer_neuron_checks_its_largest_weights_and_the_bias():
    trainer = trained("sigmoid", "cross-entropy")
    X, Y = probe(trainer)
    j = live_neuron(trainer, 0)
    result = check_neuron(trainer.net, X, Y, 0, j)
    _, grads = float64_copy(trainer.net).gradients(np.asarray(X, np.float64), Y)
    row = grads.dW[0][j]
    assert len(result.weights) == N_WEIGHTS and result.backprop.size == N_WEIGHTS + 1
    assert result.n_inputs == 784
    smallest_checked = np.abs(row[result.weights]).min()
    unchecked = np.delete(np.abs(row), result.weights)
    assert smallest_checked >= unchecked.max()
    np.testing.assert_array_equal(result.backprop, np.append(row[result.weights], grads.db[0][j]))
    assert result.labels[-1] == f"b[{j}]"


def test_all_weights_when_asked_and_on_a_batch():
    net = Network((12, 7, 4), "tanh", "quadratic", seed=3, dtype=np.float64)
    rng = np.random.default_rng(0)
    X, Y = rng.random((6, 12)), one_hot(rng.integers(0, 4, 6), 4, np.float64)
    result = check_neuron(net, X, Y, 0, 2, n_weights=None)
    assert list(result.weights) == list(range(12)) and result.n_samples == 6
    assert result.relative_error < 1e-6


def test_a_wrong_backprop_is_caught(monkeypatch):
    trainer = trained("sigmoid", "quadratic")
    X, Y = probe(trainer)
    right = Network.backward

    def one_percent_off(self, trace, Y):
        grads = right(self, trace, Y)
        grads.dW[0] *= 1.01
        return grads

    monkeypatch.setattr(Network, "backward", one_percent_off)
    result = check_neuron(trainer.net, X, Y, 0, live_neuron(trainer, 0))
    assert result.relative_error > 1e-3 and not result.agrees


def test_relative_error_is_zero_for_two_zero_gradients_and_nan_safe():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert np.isnan(relative_error(np.array([np.nan]), np.array([1.0])))


def test_agreement_allows_for_rounding_when_the_gradient_is_tiny():
    from core.gradcheck import GradCheck
    tiny = GradCheck(0, 1, np.array([3]), np.array([1e-9, 2e-9]), np.array([1.01e-9, 2e-9]), 3e-3,
                     1e-6, 1, 784, cost=1.0)
    assert tiny.noise == pytest.approx(2.22e-10, rel=1e-2) and tiny.agrees
    wrong = dataclasses.replace(tiny, backprop=np.array([1e-3, 2e-3]), numeric=np.array([1.01e-3, 2e-3]))
    assert not wrong.agrees


def test_a_dead_relu_neuron_has_zero_gradient_both_ways():
    trainer = trained("relu", "cross-entropy")
    X, Y = probe(trainer)
    z = trainer.net.forward(X).z[0][0]
    if not (z < 0).any():
        pytest.skip("no dead neuron on this probe")
    result = check_neuron(trainer.net, X, Y, 0, int(np.argmin(z)))
    assert not result.backprop.any() and not result.numeric.any() and result.relative_error == 0.0
