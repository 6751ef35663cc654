import math

import numpy as np

from core.divergence import DivergenceMonitor, pinned_outputs
from core.network import Network
from core.trainer import Trainer


def test_non_finite_cost_is_divergence_at_once():
    m = DivergenceMonitor()
    assert m.update(1, 2.3) == ""
    assert "nan" in m.update(2, math.nan)


def test_a_spike_that_recovers_is_not_divergence():
    m = DivergenceMonitor(patience=20)
    costs = [2.3] * 50 + [40.0] * 5 + [1.0] * 100
    assert not any(m.update(i, c) for i, c in enumerate(costs))


def test_a_cost_that_climbs_and_stays_is_divergence():
    m = DivergenceMonitor()
    reasons = [m.update(i, 2.3 if i < 100 else 30.0) for i in range(400)]
    first = next(i for i, r in enumerate(reasons) if r)
    assert 100 < first < 300 and "far above its best" in reasons[first]


def test_huge_learning_rate_diverges_on_real_digits(mnist):
    trainer = Trainer(Network((784, 100, 10), cost="cross-entropy"), mnist.train, lr=50, momentum=0, batch_size=32)
    monitor = DivergenceMonitor()
    reason = ""
    for _ in range(trainer.steps_per_epoch):
        stats = trainer.step()
        reason = monitor.update(stats.step, stats.cost)
        if reason:
            break
    assert reason, "cross-entropy at learning rate 50 should be caught within an epoch"


def test_pinned_sigmoid_outputs_are_noticed():
    assert pinned_outputs(np.array([[1e-5, 0.99999]]), "quadratic")
    assert not pinned_outputs(np.array([[0.2, 0.9]]), "quadratic")
    assert not pinned_outputs(np.array([[1e-5, 0.99999]]), "cross-entropy")
