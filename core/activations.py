"""Activation functions σ(z) and their derivatives σ'(z), all element-wise on NumPy arrays.

Each activation also knows what a reader of the app needs about it: its symbol and formulas, the
range of its output, when a unit counts as saturated or dead, and the scale of its first weights.
Panels ask these objects; no other file names an activation. ``ACTIVATIONS`` is the registry: a
class added to it is a new choice everywhere (see "Adding an activation" in the README).

Formula texts are plain Unicode written for neuron j (zⱼ, aⱼ; ᵢ and ₖ index sums), so a Qt label
shows them as they are and the Backprop panel can put the neuron's number and values in.
"""
from __future__ import annotations

import numpy as np


class Activation:
    """An element-wise function σ with its derivative; ``prime`` takes z, ``prime_from_a`` the output a.

    The base class is the identity, σ(z) = z; it never saturates and is never dead.
    """

    name = "identity"               # the registry key, used in settings, files and snapshots
    symbol = "id"                   # how σ is written in a formula: σ, tanh, ReLU, ...
    rule = "zⱼ"                     # σ(zⱼ) written out
    prime_rule = "1"                # σ'(zⱼ) written out, from aⱼ (or zⱼ)
    latex = r"\sigma(z) = z"        # mathtext / LaTeX versions, for typesetting
    prime_latex = r"\sigma'(z) = 1"
    y_range: tuple | None = None    # (low, high) of every output, None when unbounded above or below
    gain = 1.0                      # first weights are N(0, gain / n_in)
    saturation_rule = ""            # when a unit counts as saturated ("" never)
    dead_rule = ""                  # when a unit counts as dead ("" never)
    kinks: tuple = ()               # z where σ has a corner: a finite difference across one is no slope
    about = "σ'(z) = 1 everywhere: the unit passes every error back unchanged."

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return z

    def prime(self, z: np.ndarray) -> np.ndarray:
        return self.prime_from_a(self(z))

    def prime_from_a(self, a: np.ndarray) -> np.ndarray:
        return np.ones_like(a)

    # --- what the panels ask --------------------------------------------------------------
    @property
    def formula(self) -> str:
        """σ written out, e.g. 'aⱼ = σ(zⱼ) = 1 / (1 + exp(−zⱼ))'."""
        return f"aⱼ = {self.symbol}(zⱼ) = {self.rule}"

    @property
    def prime_formula(self) -> str:
        """σ' written out, e.g. "σ'(zⱼ) = aⱼ(1 − aⱼ)"."""
        return f"σ'(zⱼ) = {self.prime_rule}"

    def saturated(self, a) -> np.ndarray:
        """Boolean mask of the units of ``a`` that are saturated (σ' ≈ 0 on a flat part of σ).
        A non-finite unit is broken, not saturated."""
        return np.zeros(np.shape(a), dtype=bool)

    def dead(self, a) -> np.ndarray:
        """Boolean mask of the units of ``a`` that are dead (σ' = 0, no error passes back)."""
        return np.zeros(np.shape(a), dtype=bool)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _finite(a) -> tuple:
    """(a as float64, its finite mask): comparisons on ±inf would count a blown-up unit as saturated."""
    a = np.asarray(a, dtype=np.float64)
    return a, np.isfinite(a)


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^(−z)); σ'(z) = σ(z)(1 − σ(z))."""

    name = "sigmoid"
    symbol = "σ"
    rule = "1 / (1 + exp(−zⱼ))"
    prime_rule = "aⱼ(1 − aⱼ)"
    latex = r"\sigma(z) = \frac{1}{1 + e^{-z}}"
    prime_latex = r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z))"
    y_range = (0.0, 1.0)
    saturation_rule = "a < 0.02 or a > 0.98"
    about = ("Saturated: a is near 0 or 1, where σ'(z) = a(1 − a) < 0.02, so almost no error "
             "passes back through the unit and its weights barely move.")

    def __call__(self, z):
        # 0.5·(1 + tanh(z/2)) is the same function, never overflows and is faster than exp in NumPy.
        a = np.multiply(z, 0.5)
        np.tanh(a, out=a)
        a += 1.0
        a *= 0.5
        return a

    def prime_from_a(self, a):
        p = np.subtract(1.0, a)  # a(1 − a) with one temporary instead of two
        p *= a
        return p

    def saturated(self, a):
        a, finite = _finite(a)
        return finite & ((a < 0.02) | (a > 0.98))


class Tanh(Activation):
    """tanh(z); its derivative is 1 − tanh²(z)."""

    name = "tanh"
    symbol = "tanh"
    rule = "(exp(zⱼ) − exp(−zⱼ)) / (exp(zⱼ) + exp(−zⱼ))"
    prime_rule = "1 − aⱼ²"
    latex = r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}"
    prime_latex = r"\tanh'(z) = 1 - \tanh^2(z)"
    y_range = (-1.0, 1.0)
    saturation_rule = "|a| > 0.98"
    about = ("Saturated: a is near −1 or 1, where σ'(z) = 1 − a² < 0.04, so little error passes "
             "back through the unit and its weights barely move.")

    def __call__(self, z):
        return np.tanh(z)

    def prime_from_a(self, a):
        return 1.0 - a * a

    def saturated(self, a):
        a, finite = _finite(a)
        return finite & (np.abs(a) > 0.98)


class ReLU(Activation):
    """max(0, z); its derivative is 1 where z > 0, else 0."""

    name = "relu"
    symbol = "ReLU"
    rule = "max(0, zⱼ)"
    prime_rule = "1 if zⱼ > 0, else 0"
    latex = r"\mathrm{ReLU}(z) = \max(0, z)"
    prime_latex = r"\mathrm{ReLU}'(z) = [z > 0]"
    y_range = None
    gain = 2.0          # He et al.: half the units are 0, so twice the variance keeps a's scale
    dead_rule = "a = 0"
    kinks = (0.0,)
    about = ("Dead: z ≤ 0, so a = 0 and σ'(z) = 0: no error passes back through the unit and its "
             "incoming weights do not move for this input. Never saturated for z > 0.")

    def __call__(self, z):
        return np.maximum(z, 0.0)

    def prime_from_a(self, a):
        return (a > 0).astype(a.dtype)

    def dead(self, a):
        a, finite = _finite(a)
        return finite & (a == 0.0)


class Softplus(Activation):
    """softplus(z) = ln(1 + e^z), a smooth ReLU; its derivative is the logistic sigmoid 1 / (1 + e^(−z)).

    Chosen as the fourth activation because it is smooth: finite differences have no corner to
    straddle, and it shows a unit that saturates on one side only and never quite dies.
    """

    name = "softplus"
    symbol = "softplus"
    rule = "ln(1 + exp(zⱼ))"
    prime_rule = "1 / (1 + exp(−zⱼ))"
    latex = r"\mathrm{softplus}(z) = \ln(1 + e^{z})"
    prime_latex = r"\mathrm{softplus}'(z) = \frac{1}{1 + e^{-z}}"
    y_range = None
    gain = 1.0          # measured: 95.9 % after one MNIST epoch, against 95.5 % with ReLU's 2
    saturation_rule = "a < 0.02"
    about = ("Saturated: z is far below 0, so a = ln(1 + e^z) < 0.02 and σ'(z) = 1 − e^(−a) < 0.02: "
             "little error passes back, but never none, so the unit can recover (a ReLU would be dead).")

    def __call__(self, z):
        return np.logaddexp(z, 0.0)     # ln(e^z + e^0) without overflow for large z

    def prime_from_a(self, a):
        # σ'(z) = 1 / (1 + e^(−z)) = 1 − e^(−a); expm1 keeps it exact for a near 0 (z very negative)
        p = np.negative(a)
        np.expm1(p, out=p)
        np.negative(p, out=p)
        return p

    def saturated(self, a):
        a, finite = _finite(a)
        return finite & (a < 0.02)


ACTIVATIONS = {cls.name: cls for cls in (Sigmoid, Tanh, ReLU, Softplus)}


def get_activation(name: str) -> Activation:
    """The activation called ``name`` (one of ``ACTIVATIONS``)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}") from None


class Unnamed(Activation):
    """Stands in, for display only, for an activation this version does not know (a file written
    by a newer one): it calls no unit saturated or dead and cannot be computed."""

    def __init__(self, name: str):
        self.name = self.symbol = str(name)

    def __call__(self, z):
        raise ValueError(f"unknown activation {self.name!r}; choose from {', '.join(ACTIVATIONS)}")

    prime_from_a = __call__

    def __repr__(self):
        return f"Unnamed({self.name!r})"


def describe(name: str) -> Activation:
    """The activation called ``name`` for a panel to describe: ``get_activation(name)``, or for a
    name not in ``ACTIVATIONS`` an ``Unnamed`` one, so every panel says the same about it."""
    cls = ACTIVATIONS.get(name)
    return cls() if cls is not None else Unnamed(name)
