"""The training settings as one typed, validated, frozen object: every way a setting arrives
(flags, run file, session file, settings tree, Compare) goes through ``Settings``.

    >>> s = Settings.from_mapping({"lr": 0.5, "hidden": [64, 32]})
    >>> s.lr, s.hidden
    (0.5, (64, 32))
    >>> Settings(lr=float("nan"))
    Traceback (most recent call last):
    ...
    core.settings.SettingsError: lr must be a finite number (positive and at most 1000), not nan

Each field carries what a person and a UI need in its metadata: a title, its group (``live``
applies at once, ``architecture`` on Reset), its limits, a help line and whether a run file keeps
it. Adding a setting is one field below; the validators are chosen by the field's kind.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

import core.activations as _activations
import core.costs as _costs

LIVE, ARCHITECTURE = "live", "architecture"


class SettingsError(ValueError):
    """A setting that cannot be used; the message is one line for the user. ``name`` is the
    setting at fault when there is one (so the CLI can say ``--batch-size`` for ``batch_size``)."""

    def __init__(self, message: str, name: str | None = None):
        super().__init__(message)
        self.name = name


# --- how a field is declared -------------------------------------------------------------------
def _number(default: float, title: str, help: str, *, low: float, high: float,
            low_open=False, high_open=False, ui=None):
    """A finite real number in [low, high] (``low_open``/``high_open`` exclude the end)."""
    return field(default=default, metadata=dict(
        kind="number", title=title, group=LIVE, help=help, run=True,
        low=low, high=high, low_open=low_open, high_open=high_open, ui=ui or {}))


def _whole(default: int, title: str, group: str, help: str, *, low: int, high: int, run=True, ui=None):
    """A whole number from ``low`` to ``high`` inclusive (a bool is not a number)."""
    return field(default=default, metadata=dict(
        kind="whole", title=title, group=group, help=help, run=run, low=low, high=high,
        low_open=False, high_open=False, ui=ui or {}))


def _choice(default: str, title: str, help: str, registry: Callable[[], Mapping]):
    """One of the names of ``registry()``, read at validation time so a new entry needs no edit here."""
    return field(default=default, metadata=dict(
        kind="choice", title=title, group=ARCHITECTURE, help=help, run=True, registry=registry,
        low=None, high=None, low_open=False, high_open=False, ui={}))


def _sizes(default: tuple, title: str, help: str, *, layers: tuple, each: tuple, total: int):
    """A list of ``layers[0]``–``layers[1]`` whole numbers, each ``each[0]``–``each[1]``, summing
    to at most ``total``."""
    return field(default=default, metadata=dict(
        kind="sizes", title=title, group=ARCHITECTURE, help=help, run=True,
        low=each[0], high=each[1], layers=layers, total=total, low_open=False, high_open=False, ui={}))


# --- the settings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """Everything that defines a training run, plus the window's slow-motion delay.

    Construct with keywords (``Settings(lr=0.5)``) or from a mapping (``from_mapping``); every
    value is checked in ``__post_init__`` and normalised (hidden sizes to a tuple of ints, the
    real numbers to float). A bad value raises ``SettingsError`` with one line.
    """

    hidden: tuple[int, ...] = _sizes(
        (100,), "hidden sizes", "neurons in each hidden layer, input side first, like 100 or 100 30",
        layers=(1, 8), each=(1, 4096), total=1024)
    activation: str = _choice(
        "sigmoid", "hidden activation", "the function σ of every hidden layer", lambda: _activations.ACTIVATIONS)
    cost: str = _choice(
        "cross-entropy", "output / cost", "the output layer and the cost C it is trained on", lambda: _costs.COSTS)
    seed: int = _whole(
        0, "seed", ARCHITECTURE, "the random seed of the initial weights and the batch order",
        low=0, high=2**31 - 1)
    lr: float = _number(
        0.1, "learning rate η", "the step size: W ← W − η ∂C/∂W",
        low=0.0, high=1000.0, low_open=True, ui=dict(step=0.1, dec=True, decimals=4))
    momentum: float = _number(
        0.9, "momentum μ", "how much of the previous step each update keeps: v ← μv − η∂C/∂W",
        low=0.0, high=1.0, high_open=True, ui=dict(step=0.05, decimals=3))
    l2: float = _number(
        0.0, "L2 decay λ", "weight decay: adds λ/2 · ΣW² to the cost, shrinking every weight",
        low=0.0, high=10.0, ui=dict(step=1e-4, decimals=5))
    batch_size: int = _whole(
        32, "batch size", LIVE, "samples averaged in each gradient step", low=1, high=60000)
    delay_ms: int = _whole(
        0, "slow motion (ms/step)", LIVE, "a pause after every step, to watch it learn slowly",
        low=0, high=5000, run=False, ui=dict(step=50))

    # One step holds a few arrays of batch_size × hidden neurons (z, a, δ per layer): this bounds
    # them to a few hundred MB, with the neuron total bounding the test-set pass and the weights.
    MAX_BATCH_NEURONS = 2**21

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _check(f, getattr(self, f.name)))
        neurons = sum(self.hidden)
        if self.batch_size * neurons > self.MAX_BATCH_NEURONS:
            raise SettingsError(
                f"batch_size × hidden neurons must be at most {self.MAX_BATCH_NEURONS:,} (the memory one "
                f"step needs), not {self.batch_size} × {neurons:,} = {self.batch_size * neurons:,}; "
                f"use a smaller batch or fewer neurons", "batch_size")

    # --- reading -------------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, data, where: str = "settings", *, require=(), keys=None) -> "Settings":
        """Settings from a mapping of name → value, strictly: an unknown name (or one outside
        ``keys``, when given), a missing name listed in ``require`` or a bad value raises
        SettingsError naming ``where``. Other missing names take their defaults."""
        if isinstance(data, Settings):
            data = data.to_dict()
        if not isinstance(data, Mapping):
            raise SettingsError(f"{where}: expected an object of settings, not {type(data).__name__}")
        known = _names() if keys is None else tuple(keys)
        unknown = [k for k in data if k not in known]
        if unknown:
            raise SettingsError(f"{where}: unknown setting {', '.join(short_repr(k) for k in unknown)}; "
                                f"known: {', '.join(known)}")
        missing = [k for k in require if k not in data]
        if missing:
            raise SettingsError(f"{where}: missing {', '.join(missing)}")
        try:
            return cls(**data)
        except SettingsError as e:
            raise SettingsError(f"{where}: {e}", e.name) from None

    @classmethod
    def from_mapping_lenient(cls, data, where: str = "settings") -> tuple["Settings", list]:
        """(Settings, problems): every unknown or bad entry of ``data`` is left out (its default
        used) and reported as one line in ``problems``. Never raises, whatever JSON value it gets."""
        if isinstance(data, Settings):
            return data, []
        if not isinstance(data, Mapping):
            return cls(), [f"{where}: expected an object of settings, not {type(data).__name__}; using the defaults"]
        fields, good, problems = _fields(), {}, []
        for key, value in data.items():
            if key not in fields:
                problems.append(f"{where}: unknown setting {short_repr(key)} ignored")
                continue
            try:
                good[key] = _check(fields[key], value)
            except SettingsError as e:
                problems.append(f"{where}: {e}; using {short_repr(_plain(fields[key].default))}")
        try:
            return cls(**good), problems
        except SettingsError as e:          # good one by one, not together: the default batch fits any
            good.pop(e.name, None)
            problems.append(f"{where}: {e}; using {short_repr(_plain(fields[e.name].default))}")
            return cls(**good), problems

    # --- writing -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Every setting as JSON-ready values (hidden sizes as a list), in field order."""
        return {name: _plain(getattr(self, name)) for name in _names()}

    def run_dict(self) -> dict:
        """Only the settings a run file keeps (not the window's slow-motion delay)."""
        return {name: _plain(getattr(self, name)) for name in run_keys()}

    def replace(self, **changes) -> "Settings":
        """A copy with ``changes`` applied and validated (SettingsError for a bad or unknown one)."""
        return Settings.from_mapping({**self.to_dict(), **changes})

    # --- describing ----------------------------------------------------------------------------
    @staticmethod
    def fields_in(group: str) -> tuple:
        """The names of the settings in ``group`` ("live" or "architecture"), in field order."""
        if group not in (LIVE, ARCHITECTURE):
            raise SettingsError(f"group must be {LIVE!r} or {ARCHITECTURE!r}, not {short_repr(group)}")
        return tuple(f.name for f in _fields().values() if f.metadata["group"] == group)


@dataclass(frozen=True)
class FieldInfo:
    """What a UI needs to show one setting: ``title`` for people, ``group``, ``kind`` (number,
    whole, choice, sizes), the limits ``low``/``high`` (``low_open``/``high_open`` when the end
    itself is excluded; for sizes they bound each layer, ``layers`` their count and ``total`` their
    sum),
    ``choices`` (names, for a choice), ``help``, ``in_run`` (kept in run files), ``default``
    and ``ui`` hints (step, decimals) for a spin box."""

    name: str
    title: str
    group: str
    kind: str
    default: Any
    low: Any
    high: Any
    low_open: bool
    high_open: bool
    layers: tuple | None
    total: int | None
    choices: tuple | None
    help: str
    in_run: bool
    ui: Mapping

    @property
    def limits_text(self) -> str:
        """The allowed values in words, as the error messages say them."""
        return _expected(_fields()[self.name])


def field_info(name: str) -> FieldInfo:
    """Title, group, limits, help and the rest of the setting ``name`` (SettingsError if unknown)."""
    fields = _fields()
    if name not in fields:
        raise SettingsError(f"unknown setting {short_repr(name)}; known: {', '.join(fields)}")
    f = fields[name]
    m = f.metadata
    return FieldInfo(
        name=name, title=m["title"], group=m["group"], kind=m["kind"], default=_plain(f.default),
        low=m["low"], high=m["high"], low_open=m["low_open"], high_open=m["high_open"],
        layers=m.get("layers"), total=m.get("total"), choices=tuple(m["registry"]()) if m["kind"] == "choice" else None,
        help=m["help"], in_run=m["run"], ui=dict(m["ui"]))


def run_keys() -> tuple:
    """The names a run file holds, in field order."""
    return tuple(f.name for f in _fields().values() if f.metadata["run"])


def defaults_for_cost(cost: str) -> dict:
    """The lr, momentum and batch size that learn well with the output/cost pair ``cost`` (its
    ``suggested`` values in core.costs, measured in the README; the field defaults otherwise):
    sigmoid + quadratic wants a large η without momentum and small batches."""
    base = {name: _fields()[name].default for name in ("lr", "momentum", "batch_size")}
    suggested = getattr(_costs.COSTS.get(cost) if isinstance(cost, str) else None, "suggested", None)
    return {**base, **{k: v for k, v in (suggested or {}).items() if k in base}}


# --- checking one value ------------------------------------------------------------------------
def _fields() -> dict:
    return {f.name: f for f in dataclasses.fields(Settings)}


def _names() -> tuple:
    return tuple(f.name for f in dataclasses.fields(Settings))


def _check(f: dataclasses.Field, value):
    """``value`` normalised for field ``f``, or SettingsError saying what it must be."""
    return _CHECKS[f.metadata["kind"]](f, value)


def _check_number(f, value) -> float:
    m = f.metadata
    if not _is_real(value) or not _finite(value):
        raise SettingsError(f"{f.name} must be a finite number ({_range(m)}), not {short_repr(value)}", f.name)
    too_low = value <= m["low"] if m["low_open"] else value < m["low"]
    too_high = value >= m["high"] if m["high_open"] else value > m["high"]
    if too_low or too_high:
        raise SettingsError(f"{f.name} must be {_range(m)}, not {short_repr(value)}", f.name)
    return float(value)


def _check_whole(f, value) -> int:
    m = f.metadata
    if not _is_whole(value) or not m["low"] <= value <= m["high"]:
        raise SettingsError(f"{f.name} must be {_expected(f)}, not {short_repr(value)}", f.name)
    return int(value)


def _check_choice(f, value) -> str:
    names = tuple(f.metadata["registry"]())
    if not isinstance(value, str) or value not in names:
        raise SettingsError(f"{f.name} must be {_expected(f)}, not {short_repr(value)}", f.name)
    return value


def _check_sizes(f, value) -> tuple:
    m = f.metadata
    (fewest, most), low, high = m["layers"], m["low"], m["high"]
    ok = (isinstance(value, (list, tuple)) and fewest <= len(value) <= most
          and all(_is_whole(n) and low <= n <= high for n in value) and sum(value) <= m["total"])
    if not ok:
        raise SettingsError(f"{f.name} must be {_expected(f)}, not {short_repr(value)}", f.name)
    return tuple(int(n) for n in value)


_CHECKS = {"number": _check_number, "whole": _check_whole, "choice": _check_choice, "sizes": _check_sizes}


def _expected(f) -> str:
    """What a field's value must be, in words (the middle of its error message)."""
    m = f.metadata
    kind = m["kind"]
    if kind == "number":
        return f"a finite number ({_range(m)})"
    if kind == "whole":
        return f"a whole number from {m['low']} to {m['high']}"
    if kind == "choice":
        return f"one of {', '.join(m['registry']())}"
    fewest, most = m["layers"]
    return (f"a list of layer sizes ({fewest} to {most} layers, each a whole number between "
            f"{m['low']} and {m['high']}, at most {m['total']} neurons in all, like [100] or [100, 30])")


def _range(m) -> str:
    """[low, high] in words: 'positive and at most 1000', 'at least 0 and below 1', …"""
    low, high = _num(m["low"]), _num(m["high"])
    if m["high_open"] and not m["low_open"]:
        return f"at least {low} and below {high}"
    low_text = ("positive" if m["low"] == 0 else f"above {low}") if m["low_open"] else f"{low} or more"
    return f"{low_text} and {'below' if m['high_open'] else 'at most'} {high}"


def _num(x) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _is_whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _finite(value) -> bool:
    # A huge int is finite but cannot become a float; the range check refuses it.
    return True if isinstance(value, numbers.Integral) else math.isfinite(value)


def _plain(value):
    """JSON-ready: tuples become lists."""
    return list(value) if isinstance(value, tuple) else value


_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlong, _repr.maxlevel = 40, 40, 24, 2
_repr.maxlist = _repr.maxtuple = _repr.maxdict = 6


def short_repr(value) -> str:
    """A short repr for a one-line message: long strings, huge numbers and deep nesting are cut."""
    if _is_whole(value) and value.bit_length() > 4000:     # repr() refuses over 4300 digits
        return f"{'-' if value < 0 else ''}a whole number of about {int(value.bit_length() * 0.30103):,} digits"
    try:
        text = _repr.repr(value)
    except Exception:  # a hostile object's own __repr__ may fail; the type is still worth saying
        return f"<{type(value).__name__}>"
    return text if len(text) <= 80 else f"{text[:60]}...{text[-17:]}"
