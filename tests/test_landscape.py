"""The loss landscape: the line and the plane through weight space (core.landscape)."""
from dataclasses import replace

import numpy as np
import pytest

from core.evaluate import network_from_weights
from core.landscape import (LINE_ALPHAS, LandscapeTask, LinearFamily, Params, axis_grid, coordinates, first_weights,
                            line_costs, measure_landscape, plan, plane_rows, subset_indices, trajectory_directions)
from core.network import Network
from core.trainer import Trainer
from snapshots import make_trainer, synthetic_digits

from tests.conftest import SHARED_MNIST as MNIST   # ../shared/mnist beside the project


def _run(trainer, steps=60, every=10):
    saved, steps_saved = [], []
    for s in range(steps + 1):
        if s % every == 0:
            saved.append(Params(tuple(w.copy() for w in trainer.net.W), tuple(b.copy() for b in trainer.net.b)))
            steps_saved.append(trainer.step_count)
        if s < steps:
            trainer.step()
    return saved, steps_saved


def _task(trainer, saved, steps, train, test, grid=7):
    net = trainer.net
    return LandscapeTask(trainer.config(), Params(tuple(net.W), tuple(net.b)),
                         first_weights(trainer.config()), tuple(saved), tuple(steps),
                         subset_indices(len(train.labels), 200), subset_indices(len(test.labels), 200), grid=grid)


def test_first_weights_are_the_seeds_network():
    trainer = make_trainer(seed=4)
    first = first_weights(trainer.config())
    assert all(np.array_equal(a, b) for a, b in zip(first.W, trainer.net.W))


def test_the_linear_family_equals_the_networks_own_cost():
    rng = np.random.default_rng(0)
    trainer = make_trainer(sizes=(784, 16, 12, 10))
    data = synthetic_digits(100, 3)
    base = Params(tuple(trainer.net.W), tuple(trainer.net.b))
    d = Params(tuple(rng.standard_normal(w.shape) * 0.1 for w in base.W), tuple(rng.standard_normal(b.shape) * 0.1 for b in base.b))
    family = LinearFamily(trainer.config(), base, [d], data.images, data.labels)
    for c in (0.0, 0.5, -1.3):
        W = [(w + c * dw).astype(np.float32) for w, dw in zip(base.W, d.W)]
        b = [(v + c * dv).astype(np.float32) for v, dv in zip(base.b, d.b)]
        expected = network_from_weights(W, b, "sigmoid", "cross-entropy").evaluate(data.images, data.labels)[0]
        assert family.cost((c,)) == pytest.approx(expected, rel=1e-5)


def test_centre_of_the_plane_is_the_current_cost_and_line_ends_are_first_and_current():
    trainer = make_trainer()
    train, test = trainer.train, trainer.test
    saved, steps = _run(trainer)
    task = _task(trainer, saved, steps, train, test)
    reported = []
    result = measure_landscape(task, train, test, progress=reported.append)
    plane, line = result.plane, result.line
    assert "trajectory" in plane.directions
    assert len(reported) == 8 and reported[-1] == 1.0 and reported == sorted(reported)   # the line, 7 rows
    mid = len(plane.alphas) // 2
    assert plane.alphas[mid] == 0 and plane.betas[mid] == 0
    row = result.costs[mid]
    X, y = train.images[task.train_idx], train.labels[task.train_idx]
    current = trainer.net.evaluate(X, y)[0]
    assert row[mid] == pytest.approx(current, rel=1e-5)
    first = Network(trainer.net.sizes, seed=0)
    i0, i1 = list(LINE_ALPHAS).index(0.0), list(LINE_ALPHAS).index(1.0)
    assert line.train[i0] == pytest.approx(first.evaluate(X, y)[0], rel=1e-5)
    assert line.train[i1] == pytest.approx(current, rel=1e-5)
    Xt, yt = test.images[task.test_idx], test.labels[task.test_idx]
    assert line.test[i1] == pytest.approx(trainer.net.evaluate(Xt, yt)[0], rel=1e-5)
    assert line.train[i1] < line.train[i0]           # training went downhill


def test_the_path_ends_at_the_centre_and_lies_mostly_in_the_plane():
    trainer = make_trainer()
    saved, steps = _run(trainer, 80, 10)
    plane = plan(_task(trainer, saved, steps, trainer.train, trainer.test))
    assert np.allclose(plane.path[-1], 0, atol=1e-6)                  # the last saved is the current
    assert plane.in_plane > 0.8
    assert np.abs(plane.path[:, 0]).max() <= plane.alphas[-1]           # the grid covers the path
    d1, d2 = plane.d1.flat(), plane.d2.flat()
    assert abs(d1 @ d2) < 1e-8 and np.isclose(np.linalg.norm(d1), 1)


def test_coordinates_recover_a_point_in_the_plane():
    rng = np.random.default_rng(1)
    centre = Params((rng.standard_normal((3, 4)),), (rng.standard_normal(3),))
    saved = [Params((rng.standard_normal((3, 4)),), (rng.standard_normal(3),)) for _ in range(4)]
    d1, d2, _ = trajectory_directions(centre, saved)
    point = centre.unflat(centre.flat() + 2 * d1.flat() - 0.5 * d2.flat())
    assert np.allclose(coordinates(centre, d1, d2, [point]), [[2, -0.5]])


def test_without_a_path_random_filter_normalised_directions_are_used():
    trainer = make_trainer()
    task = _task(trainer, [], [], trainer.train, trainer.test)
    plane = plan(task)
    assert "random" in plane.directions and len(plane.path) == 0
    for w, d in zip(trainer.net.W, plane.d1.W):
        assert np.allclose(np.linalg.norm(d, axis=1), np.linalg.norm(w, axis=1))
    assert all(not np.any(b) for b in plane.d1.b)


def test_axis_grid_is_odd_with_zero_in_the_middle():
    g = axis_grid(0.3, 24)
    assert len(g) == 25 and g[12] == 0 and g[0] == -0.3


@pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte.gz").exists(), reason=f"the full MNIST is not at {MNIST}")
def test_real_mnist_current_weights_sit_in_a_valley_of_the_plane():
    """After 200 steps on real MNIST, the centre of a 9×9 slice (1,000 digits) is lower than its
    corners, and equals the network's cost on those digits."""
    from core.data import load_mnist
    data = load_mnist(str(MNIST), progress=False, download=False)
    trainer = Trainer(Network((784, 32, 10), seed=0), data.train, data.test, lr=0.5, batch_size=32)
    saved, steps = _run(trainer, 200, 20)
    net = trainer.net
    task = LandscapeTask(trainer.config(), Params(tuple(net.W), tuple(net.b)), None, tuple(saved),
                         tuple(steps), subset_indices(60000), subset_indices(10000), grid=9)
    plane = plan(task)
    costs = plane_rows(replace(task, plane=plane), data.train, range(9))
    X, y = data.train.images[task.train_idx], data.train.labels[task.train_idx]
    assert costs[4, 4] == pytest.approx(net.evaluate(X, y)[0], rel=1e-5)
    assert costs[4, 4] < min(costs[0, 0], costs[0, -1], costs[-1, 0], costs[-1, -1])
    line = line_costs(task, data.train, data.test)
    assert np.all(np.isfinite(line.train)) and line.test[list(LINE_ALPHAS).index(1.0)] < line.test[list(LINE_ALPHAS).index(0.0)]


def test_knocked_out_neurons_stay_silent_on_the_landscape():
    """The centre of the plane is the cost of the network as the trainer runs it, knock-outs included."""
    from core.evaluate import network_from_snapshot
    trainer = make_trainer()
    saved, steps = _run(trainer, 30, 10)
    task = replace(_task(trainer, saved, steps, trainer.train, trainer.test), silenced=((0, 1), (0, 4)))
    result = measure_landscape(task, trainer.train, trainer.test)
    snap = replace(trainer.snapshot("paused"), silenced=((0, 1), (0, 4)))
    X, y = trainer.train.images[task.train_idx], trainer.train.labels[task.train_idx]
    silenced_cost = network_from_snapshot(snap).evaluate(X, y)[0]
    mid = len(result.plane.alphas) // 2
    assert result.costs[mid, mid] == pytest.approx(silenced_cost, rel=1e-5)
    assert silenced_cost != pytest.approx(trainer.net.evaluate(X, y)[0], rel=1e-3)
