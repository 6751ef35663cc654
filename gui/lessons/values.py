"""The live numbers a lesson may show, by name: a fixed whitelist, each read from the core.

A lesson writes ``{probe.z[1][3]}`` or ``{neuron.delta}`` in its text or formulas; nothing else is
evaluated. Every value here is a field of the live Snapshot, a field of
``core.inspect.explain_neuron`` for the selected neuron (the Backprop panel's numbers), a constant
of the core, or a number a task recorded. No maths is redone here.
"""
from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field

import numpy as np

from core.costs import DETOUR_MAX, get_cost
from core.inspect import explain_neuron
from core.network import one_hot

# {name} or {name[i]} or {name[i][j]}…; an optional format after '|', like {neuron.z|.2f}
# (a name always has a dot, so LaTeX groups like \frac{1}{n} are never taken for one)
PLACEHOLDER = re.compile(r"\{([a-z]+\.[A-Za-z0-9_.]+)((?:\[-?\d+\])*)(?:\|([^{}]*))?\}")
FORMAT = re.compile(r"\.?\d{0,2}[efgd%]?")


class ValueError_(ValueError):
    """A live value that cannot be read now (no neuron selected, an index outside the network)."""


@dataclass
class Context:
    """What a live value is read from: the snapshot on screen, the selected neuron (weight layer l,
    neuron j), the learner's settings, and the numbers the page's task recorded (``task``)."""

    snapshot: object
    neuron: tuple | None = None
    settings: object = None
    task: dict = field(default_factory=dict)
    last_cost: tuple | None = None     # (step, C) of the newest trained step seen in this run
    _explained: object = None

    def explained(self):
        """``explain_neuron`` for the selected neuron (computed once per context)."""
        if self.neuron is None:
            raise ValueError_("select a neuron first (click one in Network or Weights)")
        if self._explained is None:
            try:
                self._explained = explain_neuron(self.snapshot, *self.neuron)
            except IndexError as e:
                raise ValueError_(str(e)) from None
        return self._explained


def _arr(seq, *idx):
    """seq[idx0][idx1]…, as a float; IndexError → a one-line ValueError_."""
    try:
        v = seq
        for i in idx:
            v = v[i]
        return float(v) if np.ndim(v) == 0 else v
    except (IndexError, TypeError):
        raise ValueError_(f"index {list(idx)} is outside the network") from None


def _neuron(attr):
    return lambda c, *i: _arr(getattr(c.explained(), attr), *i)


def _term(attr, part):
    """A field of the i-th largest term (core.inspect.Term) of the neuron's z or back sum."""
    def read(c, i):
        terms = getattr(c.explained(), attr)
        if not 0 <= i < len(terms):
            raise ValueError_(f"there are only {len(terms)} terms")
        return float(getattr(terms[i], part))
    return read


def _last_cost(c):
    """The mini-batch cost of the newest step the trainer reported (a snapshot carries the costs of
    the steps since the one before, so a paused snapshot may carry none: the sheet keeps the last)."""
    if c.last_cost is None:
        raise ValueError_("no step has been trained yet")
    return c.last_cost[1]


def _probe_cost(c):
    """C0 of the probe digit, by the run's own cost (core.costs) on the core's output a."""
    a = np.asarray(c.snapshot.probe_a[-1], np.float64)
    y = one_hot([c.snapshot.probe_label], a.size, np.float64)[0]
    return float(get_cost(c.snapshot.config["cost"]).fn(a, y))


def _task(key):
    def read(c):
        if c.task.get(key) is None:
            raise ValueError_("do the task first" if key not in c.task else "the watched value was not there yet")
        return c.task[key]
    return read


VALUES = {
    # the network and the run
    "net.step": lambda c: c.snapshot.step,
    "settings.lr": lambda c: c.snapshot.config["lr"],
    "settings.batch_size": lambda c: c.snapshot.config["batch_size"],
    "net.sizes": lambda c, i: c.snapshot.config["sizes"][i],
    "cost.batch": lambda c: _last_cost(c),   # the last trained step's mini-batch cost C
    # the probe digit, every layer (a[0] are its 784 pixels)
    "probe.label": lambda c: c.snapshot.probe_label,
    "probe.z": lambda c, l, j: _arr(c.snapshot.probe_z, l, j),
    "probe.a": lambda c, l, j: _arr(c.snapshot.probe_a, l, j),
    "probe.delta": lambda c, l, j: _arr(c.snapshot.probe_delta, l, j),
    "probe.pixel": lambda c, r, col: _arr(c.snapshot.probe_a[0].reshape(28, 28), r, col),
    "probe.pixel_max": lambda c: float(np.max(c.snapshot.probe_a[0])),
    "probe.pixels_lit": lambda c: int(np.count_nonzero(c.snapshot.probe_a[0] > 0.5)),
    "probe.cost": lambda c: _probe_cost(c),
    "probe.y": lambda c, j: float(j == c.snapshot.probe_label),
    "out.a": lambda c, j: _arr(c.snapshot.probe_a[-1], j),
    "out.z": lambda c, j: _arr(c.snapshot.probe_z[-1], j),
    "out.max": lambda c: float(np.max(c.snapshot.probe_a[-1])),
    "out.sum": lambda c: float(np.sum(c.snapshot.probe_a[-1], dtype=np.float64)),
    "out.guess": lambda c: int(np.argmax(c.snapshot.probe_a[-1])),
    "net.W": lambda c, l, j, k: _arr(c.snapshot.W, l, j, k),
    "net.b": lambda c, l, j: _arr(c.snapshot.b, l, j),
    "net.dW": lambda c, l, j, k: _arr(c.snapshot.dW, l, j, k),
    "net.db": lambda c, l, j: _arr(c.snapshot.db, l, j),
    # the selected neuron, as the Backprop panel shows it (core.inspect.explain_neuron)
    "neuron.l": lambda c: c.explained().layer,
    "neuron.j": lambda c: c.explained().j,
    "neuron.inputs": lambda c: int(c.explained().w.size),
    "neuron.z": _neuron("z"),
    "neuron.a": _neuron("a"),
    "neuron.b": _neuron("bias"),
    "neuron.weighted_sum": _neuron("weighted_sum"),
    "neuron.sigma_prime": _neuron("sigma_prime"),
    "neuron.y": _neuron("y"),
    "neuron.dC_da": _neuron("dC_da"),
    "neuron.delta": _neuron("delta"),
    "neuron.dC0_db": _neuron("dC0_db"),
    "neuron.cost": _neuron("cost_value"),
    "neuron.batch_db": _neuron("batch_db"),
    "neuron.update_b": _neuron("update_b"),
    "neuron.w": _neuron("w"),
    "neuron.a_in": _neuron("a_in"),
    "neuron.dC0_dw": _neuron("dC0_dw"),
    "neuron.term_k": _term("z_terms", "index"),
    "neuron.term_w": _term("z_terms", "left"),
    "neuron.term_a": _term("z_terms", "right"),
    "neuron.term_grad": lambda c, i: _arr(c.explained().dC0_dw, int(_term("z_terms", "index")(c, i))),
    "neuron.back_i": _term("back_terms", "index"),
    "neuron.back_w": _term("back_terms", "left"),
    "neuron.back_delta": _term("back_terms", "right"),
    "neuron.back_product": _term("back_terms", "product"),
    # constants of the core
    "detour.max": lambda c: DETOUR_MAX,
    # what the page's task recorded: the watched value when the page opened and when it was done
    "task.before": _task("before"),
    "task.after": _task("after"),
    "task.change": _task("change"),
    "task.choice": _task("choice"),
    "task.went": _task("went"),
}

NAMES = frozenset(VALUES)


def placeholders(text: str) -> list:
    """Every (name, indices, format) written in ``text``."""
    return [(m.group(1), tuple(int(i) for i in re.findall(r"-?\d+", m.group(2))), m.group(3))
            for m in PLACEHOLDER.finditer(text)]


def check_names(text: str) -> str:
    """'' when every placeholder in ``text`` is a known value with a usable format, else one line."""
    for name, idx, fmt in placeholders(text):
        if name not in NAMES:
            return f"unknown live value {{{name}}}; known: {', '.join(sorted(NAMES))}"
        if fmt is not None and not FORMAT.fullmatch(fmt):
            return f"bad number format {fmt!r} in {{{name}}} (write like .3f or .4g)"
        params = list(inspect.signature(VALUES[name]).parameters.values())[1:]
        if any(p.kind is p.VAR_POSITIONAL for p in params):
            continue   # a neuron's field: a number, or a vector that needs one index
        if len(idx) != len(params):
            return f"{{{name}}} takes {len(params)} index(es), not {len(idx)}"
    return ""


def read(name: str, idx: tuple, ctx: Context):
    """The live value ``name[idx…]`` (a number), or ValueError_ with one line."""
    return VALUES[name](ctx, *idx)


def format_number(v, fmt: str | None = None) -> str:
    """A number as a lesson shows it: 4 significant digits unless the lesson asks otherwise."""
    if isinstance(v, (int, np.integer)) and fmt is None:
        return f"{int(v):,}" if abs(v) >= 10000 else str(int(v))
    if isinstance(v, str):
        return v
    v = float(v)
    if math.isnan(v):
        return "—"
    return format(v, fmt or ".4g")


def fill(text: str, ctx: Context, shown: dict, latex: bool = False) -> str:
    """``text`` with every placeholder replaced by its live value; each value read is put in
    ``shown`` (its written form → the number) so a test can compare it with the core."""
    def one(m):
        name, idx = m.group(1), tuple(int(i) for i in re.findall(r"-?\d+", m.group(2)))
        try:
            v = read(name, idx, ctx)
        except ValueError_ as e:
            shown.setdefault("_missing", e.args[0])
            return r"\,?\," if latex else "?"
        if isinstance(v, np.ndarray):
            shown.setdefault("_missing", f"{{{name}}} is a vector: write one entry, like {{{name}[0]}}")
            return r"\,?\," if latex else "?"
        shown[m.group(0)] = v
        s = format_number(v, m.group(3))
        if latex and ("e" in s and not s.startswith("—")):
            mant, _, exp = s.partition("e")
            s = f"{mant}\\times 10^{{{int(exp)}}}"
        if latex and s == "—":
            s = r"\text{—}"
        if latex:
            s = "{" + s + "}"        # a group: a leading minus is a sign, not a subtraction with spaces
        else:
            s = s.replace("-", "−")  # the minus sign, not a hyphen
        return s
    return PLACEHOLDER.sub(one, text)
