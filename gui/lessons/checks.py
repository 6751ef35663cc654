"""The tasks a lesson page can set, each with its check: a small registry, chosen by ``kind``.

A check looks only at what the learner did in the real window, through the ViewState (live
snapshot, selected neuron, drawing) and the Training's settings. ``begin`` remembers how things
stood when the page opened; ``done`` says whether the learner has done the task since. A task may
``watch`` one live value (gui.lessons.values): its value at the start and when done become
``{task.before}`` and ``{task.after}`` in the page's answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gui.lessons import values


@dataclass
class Env:
    """What a check may look at: the live snapshot, the selected neuron, the drawing, the settings
    and the learner's answer to a question (None until chosen)."""

    snapshot: object
    neuron: tuple | None
    drawing: object
    settings: object
    choice: int | None = None
    clicks: int = 0           # neurons selected since the task began


def watched(text: str, ctx) -> float | None:
    """The value ``text`` names (like ``neuron.b`` or ``out.a[3]``), or None when it cannot be read."""
    found = values.placeholders("{" + text + "}")
    if not found:
        return None
    name, idx, _ = found[0]
    try:
        v = values.read(name, idx, ctx)
    except values.ValueError_:
        return None
    return v


@dataclass
class Check:
    """The base: ``spec`` is the page's [page.task] table (already validated)."""

    spec: dict
    start: dict = field(default_factory=dict)

    kind = ""
    needs = {}                # option → type the lesson file may give (``prompt``/``answer``/``watch`` always)

    def begin(self, env: Env) -> None:
        self.start = {"step": env.snapshot.step if env.snapshot is not None else 0,
                      "run_id": getattr(env.snapshot, "run_id", None), "neuron": env.neuron,
                      "drawing": env.drawing, "lr": env.settings.lr if env.settings is not None else None}

    def done(self, env: Env) -> bool:
        raise NotImplementedError

    @staticmethod
    def validate(spec: dict) -> str:
        return ""


class Steps(Check):
    """Train ``n`` steps (→ or Run) from the page's start; passes once the run has moved on so far."""

    kind = "steps"
    needs = {"n": int}

    def done(self, env):
        s = env.snapshot
        return (s is not None and s.run_id == self.start["run_id"]
                and s.step >= self.start["step"] + self.spec.get("n", 1))

    @staticmethod
    def validate(spec):
        return "" if 1 <= spec.get("n", 1) <= 100_000 else "n must be 1…100000"


class SelectNeuron(Check):
    """Click a neuron (Network or Weights panel); ``layer`` = "hidden", "output" or "any"."""

    kind = "select_neuron"
    needs = {"layer": str}

    def done(self, env):
        if env.neuron is None or env.snapshot is None or env.clicks == 0:
            return False
        last = len(env.snapshot.W) - 1
        want = self.spec.get("layer", "any")
        return want == "any" or (want == "output") == (env.neuron[0] == last)

    @staticmethod
    def validate(spec):
        return "" if spec.get("layer", "any") in ("any", "hidden", "output") else "layer must be any, hidden or output"


class Draw(Check):
    """Draw a digit on the Draw panel's paper (it becomes the probe digit)."""

    kind = "draw"

    def done(self, env):
        return env.drawing is not None and env.drawing is not self.start["drawing"]


class SetLearningRate(Check):
    """Set the learning rate η above ``above`` (Settings dock)."""

    kind = "set_lr"
    needs = {"above": float}

    def done(self, env):
        return env.settings is not None and env.settings.lr > self.spec["above"]

    @staticmethod
    def validate(spec):
        return "" if "above" in spec else "set_lr needs above = <number>"


class Choose(Check):
    """Answer a question: passes when the learner picks option ``correct`` (counted from 0)."""

    kind = "choose"
    needs = {"options": list, "correct": int}

    def done(self, env):
        return env.choice == self.spec["correct"]

    @staticmethod
    def validate(spec):
        opts = spec.get("options")
        if not (isinstance(opts, list) and len(opts) >= 2 and all(isinstance(o, str) for o in opts)):
            return "choose needs options = [two or more strings]"
        return "" if 0 <= spec.get("correct", -1) < len(opts) else "correct must index one of the options"


class Predict(Check):
    """Guess first, then see: pick one of ``options``, then train ``n`` steps. Passes once both are
    done (any guess: the answer then tells whether it was right, from the watched value)."""

    kind = "predict"
    needs = {"options": list, "n": int}

    def done(self, env):
        s = env.snapshot
        return (env.choice is not None and s is not None and s.run_id == self.start["run_id"]
                and s.step >= self.start["step"] + self.spec.get("n", 1))

    @staticmethod
    def validate(spec):
        opts = spec.get("options")
        if not (isinstance(opts, list) and len(opts) >= 2 and all(isinstance(o, str) for o in opts)):
            return "predict needs options = [two or more strings]"
        return Steps.validate(spec)


CHECKS = {cls.kind: cls for cls in (Steps, SelectNeuron, Draw, SetLearningRate, Choose, Predict)}
COMMON = {"kind": str, "prompt": str, "answer": str, "watch": str}
