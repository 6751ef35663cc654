"""The trainer learns real digits, reproducibly, and reports what the window draws."""
from types import SimpleNamespace

import numpy as np
import pytest

from core.network import Network, one_hot
from core.trainer import Trainer


def tiny_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.random((n, 784)).astype(np.float32) * 0.1
    images[np.arange(n), labels * 70] = 1.0  # one bright pixel per class: learnable
    return SimpleNamespace(images=images, labels=labels)


def test_steps_cover_an_epoch_and_evaluate():
    data = tiny_data(100)
    trainer = Trainer(Network((784, 16, 10)), data, data, batch_size=32)
    assert trainer.steps_per_epoch == 4
    record = trainer.train_epoch()
    assert trainer.step_count == 4 and trainer.epoch == 1 and record.epoch == 1
    assert 0 <= record.test_accuracy <= 1 and np.isfinite(record.test_cost)


def test_every_sample_is_seen_once_per_epoch():
    data = tiny_data(100)
    trainer = Trainer(Network((784, 8, 10)), data, batch_size=32)
    seen = np.concatenate([trainer.next_batch() for _ in range(trainer.steps_per_epoch)])
    assert sorted(seen) == list(range(100))


def test_same_seed_same_run():
    def run(seed):
        data = tiny_data()
        trainer = Trainer(Network((784, 16, 10), seed=seed), data, data, batch_size=10, seed=seed)
        return [trainer.step().cost for _ in range(15)]
    assert run(3) == run(3)
    assert run(3) != run(4)


def test_step_statistics_have_the_right_shapes():
    data = tiny_data()
    trainer = Trainer(Network((784, 20, 12, 10)), data, data)
    stats = trainer.step()
    assert stats.layer_norms.shape == (3,)
    assert [n.shape for n in stats.neuron_norms] == [(20,), (12,), (10,)]
    assert np.all(stats.update_ratios > 0) and 0 <= stats.accuracy <= 1
    np.testing.assert_allclose(stats.neuron_norms[0], np.linalg.norm(stats.grads.dW[0], axis=1), rtol=1e-5)
    probe = trainer.probe()
    assert [a.shape for a in probe.a] == [(1, 784), (1, 20), (1, 12), (1, 10)]


def test_update_ratio_is_lr_times_gradient_over_weights():
    data = tiny_data()
    net = Network((784, 10, 10))
    trainer = Trainer(net, data, lr=0.05, momentum=0.0, batch_size=20)
    before = [W.copy() for W in net.W]
    stats = trainer.step()
    for l, W0 in enumerate(before):
        expected = np.linalg.norm(net.W[l] - W0) / np.linalg.norm(net.W[l])
        assert stats.update_ratios[l] == pytest.approx(expected, rel=1e-4)
        np.testing.assert_allclose(net.W[l] - W0, -0.05 * stats.grads.dW[l], atol=1e-7)


@pytest.mark.parametrize("lr,momentum,l2", [(0.05, 0.0, 0.0), (0.3, 0.9, 0.0), (0.3, 0.9, 1e-2), (0.0, 0.5, 0.0)])
def test_step_statistics_are_those_of_the_true_gradient(lr, momentum, l2):
    """The step works with Δ = −η ∂C/∂p; what it reports is ∂C/∂p itself (float64, exact to rounding)."""
    data = tiny_data()
    net = Network((784, 12, 10), "tanh", "quadratic", seed=4, dtype=np.float64)
    trainer = Trainer(net, data, lr=lr, momentum=momentum, l2=l2, batch_size=16)
    for _ in range(3):
        idx = trainer.peek_batch()
        before = net.copy()
        velocity = [np.zeros_like(p) for p in net.params()] if trainer.optimizer.velocity is None \
            else [v.copy() for v in trainer.optimizer.velocity]
        stats = trainer.step()
        Y = np.eye(10)[data.labels[idx]]
        X = data.images[idx].astype(np.float64)
        want = before.backward(before.forward(X), Y)
        for got, g in zip(stats.grads.params(), want.params()):
            np.testing.assert_allclose(got, g, rtol=1e-10, atol=1e-14)
        for l, dW in enumerate(want.dW):
            np.testing.assert_allclose(stats.neuron_norms[l], np.linalg.norm(dW, axis=1), rtol=1e-10)
            full = np.sqrt(np.linalg.norm(dW) ** 2 + np.linalg.norm(want.db[l]) ** 2)
            assert stats.layer_norms[l] == pytest.approx(full, rel=1e-10)
        for l in range(net.n_layers):   # the update the optimizer applied, momentum and decay included
            v = momentum * velocity[2 * l] - lr * (want.dW[l] + l2 * before.W[l])
            np.testing.assert_allclose(net.W[l], before.W[l] + v, rtol=1e-10, atol=1e-14)
            ratio = np.linalg.norm(v) / np.linalg.norm(net.W[l])
            assert stats.update_ratios[l] == pytest.approx(ratio, rel=1e-9, abs=1e-15)


def test_update_ratios_must_be_read_before_the_next_step():
    data = tiny_data()
    trainer = Trainer(Network((784, 8, 10)), data, lr=0.1, momentum=0.9)
    first = trainer.step()
    trainer.step()
    with pytest.raises(RuntimeError, match="read them right after the step"):
        first.update_ratios
    assert trainer.snapshot().update_ratios.shape == (2,)   # the snapshot reads the latest in time


def test_snapshot_is_read_only_and_carries_new_points_once():
    data = tiny_data()
    trainer = Trainer(Network((784, 16, 10)), data, data)
    for _ in range(5):
        trainer.step()
    snap = trainer.snapshot("paused")
    assert snap.step == 5 and list(snap.cost_steps) == [1, 2, 3, 4, 5]
    assert snap.grad_norm_values.shape == (5, 2)
    with pytest.raises(ValueError):
        snap.W[0][0, 0] = 1.0
    trainer.step()
    assert not np.shares_memory(snap.W[0], trainer.net.W[0])
    assert list(trainer.snapshot().cost_steps) == [6]


def test_hyper_parameters_change_between_steps():
    data = tiny_data()
    trainer = Trainer(Network((784, 16, 10)), data, batch_size=32)
    trainer.set_hyper(lr=0.5, batch_size=8)
    assert len(trainer.next_batch()) == 8 and trainer.optimizer.lr == 0.5


def train_epochs(mnist, cost, epochs=5, **hyper):
    net = Network((784, 100, 10), "sigmoid", cost, seed=0)
    trainer = Trainer(net, mnist.train, mnist.test, seed=0, **hyper)
    return [trainer.train_epoch() for _ in range(epochs)]


def test_cross_entropy_reaches_97_5_percent_on_mnist_in_5_epochs(mnist):
    records = train_epochs(mnist, "cross-entropy", lr=0.1, momentum=0.9, batch_size=32)
    assert records[-1].test_accuracy >= 0.975, [r.test_accuracy for r in records]
    assert records[-1].test_cost < records[0].test_cost


def test_quadratic_cost_reaches_95_percent_on_mnist_in_5_epochs(mnist):
    records = train_epochs(mnist, "quadratic", lr=1.5, momentum=0.0, batch_size=10)
    assert records[-1].test_accuracy >= 0.95, [r.test_accuracy for r in records]


def test_test_checks_measure_the_whole_test_set_without_changing_training():
    data = tiny_data()
    a = Trainer(Network((784, 16, 10), seed=1), data, data, lr=0.2, batch_size=20)
    b = Trainer(Network((784, 16, 10), seed=1), data, data, lr=0.2, batch_size=20)
    for k in range(6):
        a.step()
        b.step()
        if k % 2:
            check = a.check_test()
            assert check.step == a.step_count
            assert (check.test_cost, check.test_accuracy) == a.net.evaluate(data.images, data.labels)
    assert [c.step for c in a.test_checks] == [2, 4, 6]
    for p, q in zip(a.net.params(), b.net.params()):   # checking is read-only
        np.testing.assert_array_equal(p, q)
    a.check_test()                                       # same step again: replaced, not repeated
    assert [c.step for c in a.snapshot().test_checks] == [2, 4, 6]
    assert Trainer(Network((784, 8, 10)), data, None).check_test() is None


def test_test_checks_are_thinned_evenly_keeping_the_latest(monkeypatch):
    import core.trainer as trainer_module
    monkeypatch.setattr(trainer_module, "MAX_TEST_CHECKS", 8)
    data = tiny_data(60)
    trainer = Trainer(Network((784, 4, 10)), data, data, batch_size=10)
    for _ in range(20):
        trainer.step()
        trainer.check_test()
    steps = [c.step for c in trainer.test_checks]
    assert len(steps) <= 8 and steps[0] == 1 and steps[-1] == 20
    assert len(set(np.diff(steps))) <= 2                 # evenly spread


def test_a_huge_batch_is_traced_for_its_gradient_but_keeps_only_the_first_digits():
    """A snapshot carries at most MAX_TRACED digits of the next batch (a batch of 40,000 once took
    1.4 GB in the window), while its dW and db stay the whole batch's average."""
    from core.snapshot import MAX_TRACED
    from tests.snapshots import make_trainer
    trainer = make_trainer((784, 8, 10), batch_size=290)
    batch = trainer.trace_next_batch()
    assert len(batch) == MAX_TRACED and batch.n == 290 and batch.a[0].shape == (MAX_TRACED, 784)
    idx = trainer.peek_batch()
    net = trainer.net
    grads = net.backward(net.forward(trainer.train.images[idx]), one_hot(trainer.train.labels[idx], 10, net.dtype))
    for mine, whole in zip(batch.dW, grads.dW):
        np.testing.assert_allclose(mine, whole, rtol=1e-6)
