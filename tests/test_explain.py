"""core.explain: gradients down to the pixels against finite differences, knock-outs against zeroed
weights, FGSM's definition, dreams that raise their digit's probability, the ablation scan."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core import explain
from core.control import RunControl, Silence
from core.network import Network, one_hot
from core.worker_loop import TrainingLoop
from tests.snapshots import Keep, make_snapshot, make_trainer, synthetic_digits

ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")


def trained(sizes=(784, 12, 10), activation="sigmoid", cost="cross-entropy", steps=30, dtype=np.float64):
    """A float64 network trained a few steps on the synthetic digits (finite differences need float64)."""
    trainer = make_trainer(sizes, activation, cost, lr=0.5)
    for _ in range(steps):
        trainer.step()
    net = Network(sizes, activation, cost, dtype=dtype)
    net.W = [w.astype(dtype) for w in trainer.net.W]
    net.b = [b.astype(dtype) for b in trainer.net.b]
    return net, trainer.test


def numeric_gradient(f, x, h=1e-6, pixels=None):
    """Central differences of scalar f at x for the given pixels."""
    g = np.zeros_like(x)
    for i in pixels:
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [(784, 12, 10), (784, 9, 7, 10)])
def test_input_gradient_matches_finite_differences(activation, sizes):
    net, test = trained(sizes, activation)
    x = test.images[3].astype(np.float64) * 0.9 + 0.05      # away from ReLU kinks at exactly 0
    y = int(test.labels[3])
    pixels = np.random.default_rng(1).choice(784, 40, replace=False)
    cost = lambda v: float(net.costs(net.forward(v[None]).output, one_hot([y], 10, np.float64))[0])  # noqa: E731
    analytic = explain.input_gradient(net, x[None], y)[0]
    numeric = numeric_gradient(cost, x, pixels=pixels)
    np.testing.assert_allclose(analytic[pixels], numeric[pixels], rtol=1e-4, atol=1e-8)
    assert np.abs(analytic).max() > 1e-6      # a gradient of zeros would pass trivially

    for k in (0, 7):
        zk = lambda v: float(net.forward(v[None]).z[-1][0, k])  # noqa: E731
        analytic = explain.output_input_gradient(net, x[None], k)[0]
        np.testing.assert_allclose(analytic[pixels], numeric_gradient(zk, x, pixels=pixels)[pixels],
                                   rtol=1e-4, atol=1e-8)


def test_backprop_to_input_continues_network_backward():
    """The δ rule is the network's: seeded with the cost's δ^L, the δ^(0) it reaches times W^(0)."""
    net, test = trained((784, 9, 7, 10), "tanh")
    X, labels = test.images[:5].astype(np.float64), test.labels[:5]
    trace, grads = net.gradients(X, one_hot(labels, 10, np.float64))
    np.testing.assert_allclose(explain.input_gradient(net, X, labels), grads.delta[0] @ net.W[0], rtol=1e-12)


def test_silencing_equals_zero_outgoing_weights():
    net, test = trained((784, 12, 10), "tanh")      # tanh: σ'(0) = 1, so δ must be cut explicitly
    net.silence({0: [2, 5]})
    zeroed = net.copy()
    zeroed.silence({})
    zeroed.W[1][:, [2, 5]] = 0
    X, labels = test.images.astype(np.float64), test.labels
    np.testing.assert_allclose(net.output(X), zeroed.output(X), rtol=1e-12)
    trace, grads = net.gradients(X[:8], one_hot(labels[:8], 10, np.float64))
    assert np.all(trace.a[1][:, [2, 5]] == 0) and np.all(grads.delta[0][:, [2, 5]] == 0)
    assert np.all(grads.dW[0][[2, 5]] == 0) and np.all(grads.dW[1][:, [2, 5]] == 0)
    # the input gradient also goes round the silenced neurons
    np.testing.assert_allclose(explain.input_gradient(net, X[:4], labels[:4]),
                               explain.input_gradient(_without_rows(zeroed, [2, 5]), X[:4], labels[:4]), rtol=1e-10)


def _without_rows(net, js):
    """The same network with hidden neurons ``js`` removed altogether."""
    keep = np.setdiff1d(np.arange(net.sizes[1]), js)
    other = Network((784, len(keep), 10), net.activation.name, net.cost.name, dtype=net.dtype)
    other.W = [net.W[0][keep], net.W[1][:, keep]]
    other.b = [net.b[0][keep], net.b[1]]
    return other


def test_silence_rejects_output_and_missing_neurons():
    net = Network((784, 5, 10))
    with pytest.raises(ValueError, match="hidden"):
        net.silence({1: [0]})
    with pytest.raises(ValueError, match="0–4"):
        net.silence({0: [5]})
    net.silence({0: [1]})
    net.silence({0: []})
    assert net.silenced == {}


def test_ablation_scan_equals_silencing_each_neuron():
    net, test = trained((784, 12, 10), "sigmoid")
    scan = explain.ablation_scan(net, test)
    labels = test.labels
    base_acc, base_per, _ = explain.accuracy_by_class(net, test)
    assert scan.accuracy == pytest.approx(base_acc)
    for j in range(12):
        cut = net.copy()
        cut.silence({0: [j]})
        acc, per, predicted = explain.accuracy_by_class(cut, test)
        np.testing.assert_array_equal(scan.predicted[j], predicted)
        assert scan.total[j] == pytest.approx(acc - base_acc)
        np.testing.assert_allclose(np.nan_to_num(scan.change[j]), np.nan_to_num(per - base_per), atol=1e-12)
    assert list(scan.total[scan.order]) == sorted(scan.total)
    j = int(scan.order[0])
    broken, mended = scan.flips(j)
    right = scan.intact_predicted == labels
    assert set(broken) == set(np.flatnonzero(right & (scan.predicted[j] != labels)))
    assert len(broken) - len(mended) == round(-scan.total[j] * len(labels))


def test_ablation_scan_of_a_deeper_layer():
    net, test = trained((784, 9, 7, 10), "relu")
    scan = explain.ablation_scan(net, test, layer=0)
    for j in (0, 4, 8):
        cut = net.copy()
        cut.silence({0: [j]})
        np.testing.assert_array_equal(scan.predicted[j], cut.predict(test.images))


def test_fgsm_definition():
    net, test = trained()
    x, y = test.images[0].astype(np.float64), int(test.labels[0])
    still = explain.fgsm(net, x, y, 0.0)
    np.testing.assert_array_equal(still.perturbed, x)
    np.testing.assert_array_equal(still.perturbed_output, still.output)
    g = explain.input_gradient(net, x[None], y)[0]
    for eps in (0.05, 0.3):
        attack = explain.fgsm(net, x, y, eps)
        np.testing.assert_allclose(attack.perturbed, np.clip(x + eps * np.sign(g), 0, 1))
        assert attack.perturbed.min() >= 0 and attack.perturbed.max() <= 1
        assert np.abs(attack.perturbation).max() <= eps + 1e-12
    # a larger step up the cost raises it
    c = lambda v: float(net.costs(net.forward(v[None]).output, one_hot([y], 10, np.float64))[0])  # noqa: E731
    assert c(explain.fgsm(net, x, y, 0.1).perturbed) > c(x)


def test_smallest_flip_flips_and_just_below_does_not():
    net, test = trained(steps=60)
    for i in range(5):
        x, y = test.images[i].astype(np.float64), int(test.labels[i])
        eps = explain.smallest_flip(net, x, y)
        if np.isnan(eps):
            continue
        assert explain.fgsm(net, x, y, eps).flipped
        assert not explain.fgsm(net, x, y, eps * 0.97).flipped or eps < 0.01
        return
    pytest.fail("no digit could be flipped by ε ≤ 0.5")


def test_targeted_attack_reaches_its_target_within_epsilon():
    net, test = trained(steps=60)
    x = test.images[1].astype(np.float64)
    answer = int(np.argmax(net.output(x[None])))
    target = (answer + 3) % 10
    attack = explain.targeted_attack(net, x, target, 0.4, steps=80)
    assert attack.perturbed_predicted == target
    assert np.abs(attack.perturbation).max() <= 0.4 + 1e-12
    assert 0 <= attack.perturbed.min() and attack.perturbed.max() <= 1


def test_accuracy_vs_epsilon_matches_one_digit_at_a_time():
    net, test = trained(steps=60)
    eps = (0.0, 0.05, 0.2)
    curve = explain.accuracy_vs_epsilon(net, test, eps, chunk=37)
    assert curve[0] == pytest.approx(net.evaluate(test.images, test.labels)[1])
    for e, value in zip(eps, curve):
        right = [explain.fgsm(net, x, int(y), e).perturbed_predicted == y for x, y in zip(test.images, test.labels)]
        assert value == pytest.approx(np.mean(right))
    assert curve[-1] < curve[0]


@pytest.mark.parametrize("start", ["blank", "mean"])
def test_dreams_raise_their_class_probability(start):
    net, test = trained(steps=60)
    dreams = explain.dream(net, net.n_layers - 1, range(10), explain.dream_start(start, test))
    assert dreams.images.shape == (10, 784) and 0 <= dreams.images.min() and dreams.images.max() <= 1
    assert np.all(dreams.scores > dreams.start_scores)
    # each picture is its own digit's: the network answers k for dream k
    np.testing.assert_array_equal(np.argmax(net.output(dreams.images), axis=1), np.arange(10))


def test_hidden_neuron_dream_raises_its_z():
    net, test = trained((784, 9, 7, 10), "tanh", steps=40)
    dreams = explain.dream(net, 1, [0, 3], explain.dream_start("blank"))
    assert np.all(dreams.scores > dreams.start_scores + 0.5)


def test_saliency_numbers():
    net, test = trained(steps=60)
    x, y = test.images[4].astype(np.float64), int(test.labels[4])
    s = explain.saliency(net, x, y)
    p = int(np.argmax(net.output(x[None])))
    assert s.predicted == p and s.label == y
    np.testing.assert_allclose(s.grad_predicted, explain.output_input_gradient(net, x[None], p)[0])
    np.testing.assert_allclose(s.grad_true, explain.output_input_gradient(net, x[None], y)[0])
    np.testing.assert_allclose(s.grad_x_input, x * s.grad_predicted)
    np.testing.assert_allclose(s.grad_cost, explain.input_gradient(net, x[None], y)[0])
    a = net.forward(x[None]).a[1][0]
    terms = net.W[1][p] * a
    assert [c.neuron for c in s.up] == [int(j) for j in np.argsort(-terms)[:len(s.up)]]
    assert all(c.term > 0 for c in s.up) and all(c.term < 0 for c in s.down)
    assert s.up[0].term == pytest.approx(terms.max())
    np.testing.assert_array_equal(s.up[0].image, net.W[0][s.up[0].neuron])
    # Σ_j w_pj a_j + b_p = z_p
    assert terms.sum() + net.b[1][p] == pytest.approx(s.z[p])


def test_jobs_use_the_snapshot_and_its_knockouts():
    snap = make_snapshot(steps=20)
    data = synthetic_digits(100, 1)
    k = explain.knockout(snap, data, [(0, 1), (0, 3)], snap.probe_a[0])
    net = explain.explained_network(snap)
    assert k.intact_accuracy == pytest.approx(net.evaluate(data.images, data.labels)[1])
    np.testing.assert_allclose(k.intact_probe_output, snap.probe_a[-1], rtol=1e-5)
    net.silence({0: [1, 3]})
    assert k.accuracy == pytest.approx(net.evaluate(data.images, data.labels)[1])
    assert k.silenced == ((0, 1), (0, 3))
    s = explain.saliency_job(snap, snap.probe_a[0], snap.probe_label)
    assert s.predicted == int(np.argmax(snap.probe_a[-1]))
    dreams = explain.dreams_job(snap, data, "mean")
    assert dreams.images.shape == (10, 784)
    eps, acc = explain.robustness_job(snap, data, (0.0, 0.1))
    assert acc[0] == pytest.approx(k.intact_accuracy)



def test_training_loop_honours_silence():
    data = SimpleNamespace(train=synthetic_digits(200, 0), test=synthetic_digits(50, 1), source="synthetic")
    settings = dict(hidden=[8], activation="sigmoid", cost="cross-entropy", seed=0, lr=0.5, momentum=0.0,
                    l2=0.0, batch_size=20)
    control, outlet = RunControl(), Keep()
    loop = TrainingLoop(data, settings, control, outlet)
    loop._apply([Silence(0, (2, 6))])
    assert outlet.snapshots[-1].silenced == ((0, 2), (0, 6))
    before = [w.copy() for w in loop.trainer.net.W]
    for _ in range(5):
        loop._train_one()
    W = loop.trainer.net.W
    np.testing.assert_array_equal(W[0][[2, 6]], before[0][[2, 6]])       # no δ: incoming weights frozen
    np.testing.assert_array_equal(W[1][:, [2, 6]], before[1][:, [2, 6]])  # a = 0: outgoing frozen
    assert not np.array_equal(W[0][0], before[0][0])
    loop._apply([Silence(0, (2, 6), in_training=False)])
    assert outlet.snapshots[-1].silenced == ()
    loop._apply([Silence(3, (1,))])
    assert "Knock-out ignored" in loop._message


def test_saliency_without_hidden_layers_has_no_neurons_to_rank():
    net = Network((784, 10), dtype=np.float64)
    x = synthetic_digits(1, 3).images[0]
    s = explain.saliency(net, x, 2)
    assert s.up == () and s.down == ()
    np.testing.assert_allclose(s.grad_true, net.W[0][2])     # z_2 = W_2·x + b_2
    with pytest.raises(ValueError, match="not a hidden layer"):
        explain.ablation_scan(net, synthetic_digits(20, 3))


def test_saliency_neuron_images_of_a_deeper_net_are_their_input_gradients():
    net, test = trained((784, 9, 7, 10), "tanh")
    x = test.images[0].astype(np.float64)
    s = explain.saliency(net, x, int(test.labels[0]))
    c = s.up[0] if s.up else s.down[0]
    assert c.layer == 1
    np.testing.assert_allclose(c.image, explain.neuron_input_gradient(net, x[None], 1, c.neuron)[0])
