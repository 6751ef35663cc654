"""Every activation in the registry knows itself, and what it knows is true of its function."""
import numpy as np
import pytest

from core.activations import ACTIVATIONS, Activation, describe, get_activation
from core.network import Network

NAMES = list(ACTIVATIONS)
Z = np.concatenate([np.linspace(-12, 12, 241), [-700.0, -40.0, 40.0, 700.0]])


@pytest.fixture(params=NAMES)
def act(request) -> Activation:
    return get_activation(request.param)


def test_texts_are_there_and_name_the_function(act):
    assert act.name in ACTIVATIONS and act.symbol and act.rule and act.prime_rule and act.latex and act.prime_latex
    assert act.formula == f"aⱼ = {act.symbol}(zⱼ) = {act.rule}"
    assert act.prime_formula.startswith("σ'(zⱼ) = ") and act.about
    assert act.saturation_rule or act.dead_rule       # each says what to watch for
    assert repr(act) == f"{type(act).__name__}()"


def test_prime_is_the_slope_of_sigma(act):
    z = np.linspace(-6, 6, 121) + 0.013              # off ReLU's corner
    h = 1e-6
    slope = (act(z + h) - act(z - h)) / (2 * h)
    np.testing.assert_allclose(act.prime(z), slope, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(act.prime_from_a(act(z)), act.prime(z), rtol=1e-12, atol=1e-15)


def test_outputs_stay_in_the_y_range_and_keep_the_dtype(act):
    for dtype in (np.float32, np.float64):
        with np.errstate(over="ignore"):
            a = act(Z.astype(dtype))
        assert a.dtype == dtype and np.isfinite(a).all()
        if act.y_range is not None:
            low, high = act.y_range
            assert (a >= low).all() and (a <= high).all()
        else:
            assert a.max() >= 700 * 0.99              # unbounded above


def test_saturated_and_dead_agree_with_a_vanishing_slope(act):
    a = act(Z)
    slope = act.prime_from_a(a)
    flat = act.saturated(a) | act.dead(a)
    assert flat.any() and (slope[flat] < 0.05).all()      # what the panels call saturated or dead is flat
    steep = slope > 0.1
    assert not (flat & steep).any()
    broken = np.array([np.nan, np.inf, -np.inf])
    assert not act.saturated(broken).any() and not act.dead(broken).any()   # broken, not saturated


def test_the_network_draws_first_weights_at_the_activations_scale(act):
    net = Network((400, 300, 10), act.name, seed=0, dtype=np.float64)
    assert np.std(net.W[0]) == pytest.approx(np.sqrt(act.gain / 400), rel=0.02)
    assert np.std(net.W[1]) == pytest.approx(np.sqrt(act.gain / 300), rel=0.1)


def test_an_unknown_name_is_refused_to_compute_but_can_be_described():
    with pytest.raises(ValueError, match="unknown activation 'swish'; choose from sigmoid"):
        get_activation("swish")
    unknown = describe("swish")
    assert unknown.name == "swish" and not unknown.saturated([0.5]).any() and not unknown.dead([0.0]).any()
    with pytest.raises(ValueError):
        unknown(np.zeros(2))
    assert describe("tanh").name == "tanh"
