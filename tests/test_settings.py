"""core.settings: one validated Settings object, strict and lenient readers, fuzzed with arbitrary JSON."""
import dataclasses
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings
from hypothesis import strategies as st

import core.activations
import core.costs
from core.settings import (ARCHITECTURE, LIVE, Settings, SettingsError, defaults_for_cost, field_info,
                           run_keys)

DEFAULTS = {"hidden": [100], "activation": "sigmoid", "cost": "cross-entropy", "seed": 0,
            "lr": 0.1, "momentum": 0.9, "l2": 0.0, "batch_size": 32, "delay_ms": 0}


def test_defaults_and_normalised_types():
    s = Settings()
    assert s.to_dict() == DEFAULTS
    t = Settings.from_mapping({"hidden": [64, 32], "lr": 1, "seed": 5})
    assert t.hidden == (64, 32) and isinstance(t.lr, float) and t.lr == 1.0 and t.seed == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.lr = 0.5


@pytest.mark.parametrize("change, message", [
    ({"lr": "abc"}, "lr must be a finite number (positive and at most 1000), not 'abc'"),
    ({"lr": -1}, "lr must be positive and at most 1000, not -1"),
    ({"lr": 0}, "lr must be positive"),
    ({"lr": 1000.5}, "lr must be positive and at most 1000, not 1000.5"),
    ({"lr": float("nan")}, "lr must be a finite number"),
    ({"lr": float("inf")}, "lr must be a finite number"),
    ({"lr": True}, "lr must be a finite number"),
    ({"momentum": 1}, "momentum must be at least 0 and below 1, not 1"),
    ({"momentum": 1.5}, "momentum must be at least 0 and below 1"),
    ({"momentum": float("nan")}, "momentum must be a finite number"),
    ({"l2": -5}, "l2 must be 0 or more and at most 10, not -5"),
    ({"l2": 11}, "l2 must be 0 or more and at most 10"),
    ({"batch_size": 0}, "batch_size must be a whole number from 1 to 60000, not 0"),
    ({"batch_size": 60001}, "batch_size must be a whole number from 1 to 60000"),
    ({"batch_size": 2.5}, "batch_size must be a whole number"),
    ({"batch_size": True}, "batch_size must be a whole number"),
    ({"seed": -1}, "seed must be a whole number from 0 to 2147483647, not -1"),
    ({"seed": 2**31}, "seed must be a whole number from 0 to 2147483647"),
    ({"seed": "3"}, "seed must be a whole number"),
    ({"delay_ms": "x"}, "delay_ms must be a whole number from 0 to 5000, not 'x'"),
    ({"delay_ms": 5001}, "delay_ms must be a whole number from 0 to 5000"),
    ({"hidden": [0]}, "hidden must be a list of layer sizes (1 to 8 layers, each a whole number between 1 and 4096"),
    ({"hidden": []}, "hidden must be a list of layer sizes"),
    ({"hidden": [100000000]}, "not [100000000]"),
    ({"hidden": [1] * 9}, "1 to 8 layers"),
    ({"hidden": [100, "30"]}, "hidden must be a list"),
    ({"hidden": [True]}, "hidden must be a list"),
    ({"hidden": 100}, "hidden must be a list"),
    ({"hidden": "100"}, "hidden must be a list"),
    ({"activation": "swish"}, "activation must be one of sigmoid, tanh, relu"),
    ({"activation": ["sigmoid"]}, "activation must be one of"),
    ({"cost": "mse"}, f"cost must be one of {', '.join(core.costs.COSTS)}, not 'mse'"),
])
def test_a_bad_value_is_one_clear_line(change, message):
    with pytest.raises(SettingsError) as info:
        Settings.from_mapping(change, where="run.json: settings")
    text = str(info.value)
    assert message in text and text.startswith("run.json: settings: ") and "\n" not in text
    assert isinstance(info.value, ValueError)
    with pytest.raises(SettingsError, match="must be"):
        Settings(**change)                       # the constructor checks the same way


def test_memory_limits_across_fields():
    """A step holds batch_size × hidden neurons numbers several times over, a test pass 10,000 ×
    hidden neurons: both are bounded so training stays under 1 GB (README: Limits)."""
    Settings(hidden=(1024,), batch_size=2048)
    Settings(hidden=(512, 512), batch_size=2048)
    with pytest.raises(SettingsError, match="at most 1024 neurons in all, .*not \\(1024, 1\\)"):
        Settings(hidden=(1024, 1))
    with pytest.raises(SettingsError, match="batch_size × hidden neurons must be at most 2,097,152") as info:
        Settings(hidden=(1024,), batch_size=2049)
    assert info.value.name == "batch_size"
    s, problems = Settings.from_mapping_lenient({"hidden": [1024], "batch_size": 60000}, "session")
    assert (s.hidden, s.batch_size) == ((1024,), 32) and "using 32" in problems[0]


def test_huge_and_deep_values_are_shown_short():
    for value in (10**5000, -(10**400), "x" * 100_000, [[[[[[[[1]]]]]]]], {"a": list(range(10**4))}):
        with pytest.raises(SettingsError) as info:
            Settings.from_mapping({"seed": value})
        assert len(str(info.value)) < 200
    with pytest.raises(SettingsError, match="whole number of about 5,000 digits"):
        Settings.from_mapping({"seed": 10**5000})


def test_unknown_missing_and_restricted_keys():
    with pytest.raises(SettingsError, match="unknown setting 'lrate'; known: hidden, activation"):
        Settings.from_mapping({"lrate": 0.1})
    with pytest.raises(SettingsError, match="missing activation, seed"):
        Settings.from_mapping({"hidden": [3]}, require=("hidden", "activation", "seed"))
    with pytest.raises(SettingsError, match="unknown setting 'delay_ms'"):
        Settings.from_mapping({"delay_ms": 5}, keys=run_keys())
    with pytest.raises(SettingsError, match="expected an object of settings, not list"):
        Settings.from_mapping([1, 2])
    assert Settings.from_mapping(Settings(lr=0.3)).lr == 0.3


def test_lenient_reading_replaces_each_bad_entry_and_reports_it():
    s, problems = Settings.from_mapping_lenient(
        {"lr": "abc", "hidden": [12], "seed": -1, "cost": "mse", "colour": "red", "delay_ms": 100}, "session")
    assert s.to_dict() == {**DEFAULTS, "hidden": [12], "delay_ms": 100}
    assert len(problems) == 4 and all("\n" not in p and p.startswith("session: ") for p in problems)
    assert problems[0] == "session: lr must be a finite number (positive and at most 1000), not 'abc'; using 0.1"
    assert "unknown setting 'colour' ignored" in problems[3]
    s, problems = Settings.from_mapping_lenient([1, 2], "session")
    assert s == Settings() and problems == ["session: expected an object of settings, not list; using the defaults"]


def test_writing_and_replacing():
    s = Settings(hidden=(8,), delay_ms=50)
    assert "delay_ms" not in s.run_dict() and list(s.run_dict()) == list(run_keys())
    assert json.loads(json.dumps(s.to_dict())) == s.to_dict()
    assert s.replace(lr=0.5).lr == 0.5 and s.lr == 0.1
    with pytest.raises(SettingsError, match="lr must be"):
        s.replace(lr=-1)
    with pytest.raises(SettingsError, match="unknown setting 'eta'"):
        s.replace(eta=1)


def test_every_field_describes_itself_for_a_ui():
    assert Settings.fields_in(LIVE) == ("lr", "momentum", "l2", "batch_size", "delay_ms")
    assert Settings.fields_in(ARCHITECTURE) == ("hidden", "activation", "cost", "seed")
    for f in dataclasses.fields(Settings):
        info = field_info(f.name)
        assert info.title and info.help and info.group in (LIVE, ARCHITECTURE) and info.limits_text
    lr = field_info("lr")
    assert (lr.title, lr.low, lr.high, lr.low_open, lr.high_open) == ("learning rate η", 0, 1000, True, False)
    assert field_info("activation").choices == tuple(core.activations.ACTIVATIONS)
    assert field_info("hidden").layers == (1, 8)
    assert not field_info("delay_ms").in_run
    with pytest.raises(SettingsError, match="unknown setting"):
        field_info("nope")
    with pytest.raises(SettingsError):
        Settings.fields_in("other")


def test_registries_are_read_when_validating(monkeypatch):
    class Swish(core.activations.Activation):
        name = "swish"
    monkeypatch.setitem(core.activations.ACTIVATIONS, "swish", Swish)
    assert Settings(activation="swish").activation == "swish"
    assert "swish" in field_info("activation").choices


def test_defaults_for_each_cost():
    assert defaults_for_cost("quadratic") == {"lr": 1.5, "momentum": 0.0, "batch_size": 10}
    assert defaults_for_cost("cross-entropy") == {"lr": 0.1, "momentum": 0.9, "batch_size": 32}
    assert defaults_for_cost("no such cost") == defaults_for_cost("cross-entropy")
    for cost, pair in core.costs.COSTS.items():      # every pair's suggestion is a valid setting
        Settings(cost=cost, **defaults_for_cost(cost))
        assert defaults_for_cost(cost)["lr"] == getattr(pair, "suggested", {}).get("lr", 0.1)


# --- fuzzing with arbitrary JSON ------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30)
field_names = st.sampled_from([f.name for f in dataclasses.fields(Settings)])
plausible = st.dictionaries(field_names | st.text(max_size=8), json_values
                            | st.lists(st.integers(min_value=-5, max_value=5000), max_size=10), max_size=10)
anything = json_values | plausible
fuzz = hyp_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def deep(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


@fuzz
@given(anything)
def test_strict_reading_raises_only_settings_error(data):
    try:
        s = Settings.from_mapping(data, where="fuzz")
    except SettingsError as e:
        assert "\n" not in str(e) and len(str(e)) < 600
    else:
        assert Settings(**s.to_dict()) == s


@fuzz
@given(anything)
def test_lenient_reading_never_raises_and_gives_valid_settings(data):
    s, problems = Settings.from_mapping_lenient(data, "fuzz")
    assert Settings.from_mapping(s.to_dict()) == s        # every value valid
    assert all(isinstance(p, str) and "\n" not in p and len(p) < 600 for p in problems)
    if isinstance(data, dict):
        for key, value in data.items():
            kept = key in s.to_dict() and not any(p.startswith(f"fuzz: {key} ") for p in problems)
            if kept:
                assert s.to_dict()[key] == (list(value) if isinstance(value, tuple) else value) or \
                    (isinstance(value, float) and math.isclose(s.to_dict()[key], value))


def test_deep_nesting_is_one_line_too():
    value = deep(100_000)
    s, problems = Settings.from_mapping_lenient({"hidden": value, "lr": value}, "fuzz")
    assert s == Settings() and len(problems) == 2
    with pytest.raises(SettingsError, match="hidden must be a list"):
        Settings.from_mapping({"hidden": value})
