"""Panels ask core.activations and core.costs: none names an activation or a cost, and the panels
that count saturated or dead units use one definition."""
import io
import tokenize
from pathlib import Path

import numpy as np
import pytest

from core.activations import ACTIVATIONS, describe
from core.costs import COSTS, get_cost
from gui.panels.activations import saturation, y_range
from gui.panels.backprop import maths
from gui.panels.gradients import saturation_masks
from gui.widgets import unit_activation

ROOT = Path(__file__).resolve().parents[1]
NAMES = set(ACTIVATIONS) | set(COSTS) | {get_cost(c).output_name for c in COSTS}
A = np.array([0.0, 0.01, 0.019, 0.5, 0.99, -0.99, 3.0, np.nan, np.inf, -np.inf])


def string_literals(path: Path) -> list:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(t.start[0], t.string.strip("'\"")) for t in tokens if t.type == tokenize.STRING]


@pytest.mark.parametrize("path", sorted((ROOT / "gui" / "panels").glob("*.py")), ids=lambda p: p.name)
def test_no_panel_names_an_activation_or_a_cost(path):
    named = [(line, text) for line, text in string_literals(path) if text in NAMES]
    assert named == [], f"{path.name} names {named}: ask core.activations / core.costs instead"


@pytest.mark.parametrize("name", [*ACTIVATIONS, "swish"])
def test_activations_and_gradients_panels_count_the_same_units(name):
    saturated, dead = saturation_masks(name, A)
    count, what = saturation(A, name)
    assert count == int((dead if what == "dead" else saturated).sum())
    act = describe(name)
    np.testing.assert_array_equal(saturated, act.saturated(A))
    np.testing.assert_array_equal(dead, act.dead(A))
    assert not (saturated | dead)[~np.isfinite(A)].any()     # a blown-up unit is neither


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_axes_and_colours_follow_the_activations_range(name):
    a = describe(name)(np.linspace(-3, 3, 7))
    fixed = describe(name).y_range
    if fixed is not None:
        assert y_range(a, name) == fixed
        np.testing.assert_allclose(unit_activation(a, name), (a - fixed[0]) / (fixed[1] - fixed[0]))
    else:
        assert y_range(a, name)[1] == pytest.approx(1.05 * a.max())
        np.testing.assert_allclose(unit_activation(a, name), a / a.max())


def test_output_colours_follow_the_pairs_range():
    for name in COSTS:
        pair = get_cost(name)
        out = pair.output(np.linspace(-2, 2, 10)[None])[0]
        np.testing.assert_allclose(unit_activation(out, pair), out)      # every pair: 0–1


def test_maths_turns_the_cores_unicode_into_rich_text():
    assert maths("aⱼ = σ(zⱼ)", 5) == "<i>a</i><sub>5</sub> = σ(<i>z</i><sub>5</sub>)"
    assert maths("C₀ = −Σᵢ yᵢ ln sᵢ = −ln sₗ", 2, 7) == (
        "<i>C</i><sub>0</sub> = −Σ<sub><i>i</i></sub> <i>y</i><sub><i>i</i></sub> ln "
        "<i>s</i><sub><i>i</i></sub> = −ln <i>s</i><sub>7</sub>")
    assert maths("wᵢⱼ", 3) == "<i>w</i><sub><i>i</i>3</sub>"
    assert maths("a < 0.02 or a > 0.98") == "<i>a</i> &lt; 0.02 or <i>a</i> &gt; 0.98"
    assert maths("δᴸ = s − y") == "δ<sup><i>L</i></sup> = <i>s</i> − <i>y</i>"
