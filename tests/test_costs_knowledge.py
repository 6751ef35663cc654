"""Every output/cost pair in the registry knows itself, and what it knows is true of its maths."""
import numpy as np
import pytest

from core.costs import COSTS, OutputCost, get_cost
from core.network import one_hot

rng = np.random.default_rng(0)
Z = rng.normal(scale=3, size=(50, 10))
Y = one_hot(rng.integers(0, 10, 50), 10, np.float64)


@pytest.fixture(params=list(COSTS))
def pair(request) -> OutputCost:
    return get_cost(request.param)


def test_texts_are_there(pair):
    for text in (pair.title, pair.output_name, pair.output_symbol, pair.output_formula, pair.cost_formula,
                 pair.dC_da_symbol, pair.dC_da_rule, pair.delta_rule, pair.delta_formula):
        assert text
    assert pair.cost_formula.startswith("C₀ = ") and pair.delta_formula.startswith("δᴸ = ")
    assert pair.shortcut or pair.prime_rule        # a σ' factor is written out unless δ is whole
    assert set(pair.suggested) == {"lr", "momentum", "batch_size"}


def test_outputs_fit_the_range_and_probabilities_sum_to_one(pair):
    a = pair.output(Z)
    low, high = pair.y_range
    assert (a >= low).all() and (a <= high).all()
    if pair.probabilities:
        np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-13)
    else:
        assert not np.allclose(a.sum(axis=1), 1.0)


def test_delta_is_the_slope_of_the_cost(pair):
    """δ = ∂C0/∂z by central differences of fn(output(z)), every output of every row."""
    h = 1e-6
    numeric = np.empty_like(Z)
    for j in range(10):
        up, down = Z.copy(), Z.copy()
        up[:, j] += h
        down[:, j] -= h
        numeric[:, j] = (pair.fn(pair.output(up), Y) - pair.fn(pair.output(down), Y)) / (2 * h)
    np.testing.assert_allclose(pair.delta(Z, pair.output(Z), Y), numeric, rtol=1e-6, atol=1e-9)


def test_delta_is_the_product_the_backprop_panel_shows(pair):
    a = pair.output(Z)
    if pair.shortcut:
        assert pair.output_prime(Z) is None and pair.squashed(Z) is None
        np.testing.assert_allclose(pair.delta(Z, a, Y), a - Y)
    else:
        np.testing.assert_allclose(pair.delta(Z, a, Y), pair.dC_da(a, Y) * pair.output_prime(Z), rtol=1e-14)
        assert pair.squashed(Z).shape == Z.shape


def test_pinned_only_where_the_pair_says(pair):
    assert not pair.pinned(pair.output(Z))
    pinned = pair.output(np.where(np.eye(10, dtype=bool), 1e3, -1e3))
    assert pair.pinned(pinned) == bool(pair.pinned_rule)


def test_an_unknown_cost_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown cost 'hinge'; choose from quadratic, cross-entropy, sigmoid-softmax"):
        get_cost("hinge")
