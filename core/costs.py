"""Output layer and cost pairs, each with its cost C0 and its output error δL = ∂C0/∂zL.

Costs are per sample, summed over the outputs; the trainer averages them over the batch.

Each pair also knows what a reader needs about it: the symbol and formula of its output, of C0, of
∂C0/∂a and of δ, whether its outputs are probabilities, their range, and when they are pinned.
``COSTS`` is the registry. Formula texts are plain Unicode written for output neuron j (ᵢ indexes
a sum over the outputs, ₗ the digit's label ℓ), as in ``core.activations``.
"""
from __future__ import annotations

import math

import numpy as np

from core.activations import Sigmoid


def softmax(u: np.ndarray) -> np.ndarray:
    """e^u / Σ e^u along the last axis."""
    # Subtracting the row maximum leaves softmax unchanged and keeps exp from overflowing.
    e = u - np.maximum.reduce(u, axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= np.add.reduce(e, axis=-1, keepdims=True)
    return e


class OutputCost:
    """The common shape of an output/cost pair (not a pair itself).

    ``output(z)`` is the network's output a; ``fn(a, y)`` is C0 per sample; ``delta(z, a, y)`` is
    δL = ∂C0/∂zL; ``dC_da(a, y)`` and ``output_prime(z)`` are the two factors of δL the Backprop
    panel shows, δL = ``dC_da`` ⊙ ``output_prime`` (``shortcut`` pairs compute δL directly).
    """

    name = ""
    title = ""                      # how a menu names the pair
    output_name = ""                # the output's function, as a word
    output_symbol = ""              # ... and as a symbol
    probabilities = False           # every output row sums to 1
    y_range = (0.0, 1.0)            # the range of every output
    output_formula = ""             # aⱼ written out
    cost_formula = ""               # C₀ written out
    cost_of_label = ""              # C₀ for a one-hot y (the digit's label ℓ), "" when not simpler
    dC_da_symbol = "∂C₀/∂aⱼ"        # the factor of δⱼ that comes from the cost ...
    dC_da_rule = ""                 # ... written out
    prime_rule = ""                 # σ'(zⱼ), the output function's factor of δⱼ ("" for a shortcut)
    delta_rule = ""                 # δⱼ = ∂C₀/∂zⱼ written out
    delta_formula = ""              # δᴸ for the whole layer
    shortcut = False                # δ is computed whole: no single σ'(zⱼ) factor
    note = ""                       # one line on what is special about the pair
    pinned_rule = ""                # when outputs count as pinned ("" never)
    suggested = {"lr": 0.1, "momentum": 0.9, "batch_size": 32}   # hyper-parameters that learn well

    @property
    def dC_da_formula(self) -> str:
        return f"{self.dC_da_symbol} = {self.dC_da_rule}"

    def output_prime(self, z: np.ndarray):
        """σ'(z) of the output function, element-wise; None for a ``shortcut`` pair."""
        return None

    def squashed(self, z: np.ndarray):
        """σ(z), the element-wise function inside the output; None when there is none (softmax)."""
        return None

    def pinned(self, a: np.ndarray, tol: float = 1e-3) -> bool:
        """True when every output in ``a`` is pinned where σ' ≈ 0, so learning has stopped."""
        return False

    def __repr__(self):
        return f"{type(self).__name__}()"


class QuadraticCost(OutputCost):
    """Sigmoid outputs a = σ(z) with C0 = Σ_j (a_j − y_j)²; δL = 2(a − y) ⊙ σ'(zL)."""

    name = "quadratic"
    title = "sigmoid + quadratic"
    output_name = "sigmoid"
    output_symbol = "σ"
    output_formula = "aⱼ = σ(zⱼ)"
    cost_formula = "C₀ = Σᵢ (aᵢ − yᵢ)²"
    dC_da_rule = "2(aⱼ − yⱼ)"
    prime_rule = Sigmoid.prime_rule
    delta_rule = "2(aⱼ − yⱼ) σ'(zⱼ)"
    delta_formula = "δᴸ = 2(a − y) ⊙ σ'(zᴸ)"
    note = "Sigmoid outputs each between 0 and 1, not summing to 1; σ'(z) slows learning near 0 and 1."
    pinned_rule = "every a < 0.001 or a > 0.999"
    suggested = {"lr": 1.5, "momentum": 0.0, "batch_size": 10}

    def __init__(self):
        self._sigmoid = Sigmoid()

    def output(self, z: np.ndarray) -> np.ndarray:
        return self._sigmoid(z)

    def output_prime(self, z):
        return self._sigmoid.prime(z)

    def squashed(self, z):
        return self._sigmoid(z)

    def fn(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """C0 of each sample (rows of a and y)."""
        return np.sum((a - y) ** 2, axis=-1)

    def dC_da(self, a, y):
        """∂C0/∂a_j = 2(a_j − y_j)."""
        return 2.0 * (a - y)

    def delta(self, z, a, y):
        """∂C0/∂z_j = 2(a_j − y_j) σ'(z_j), from the output a = σ(z)."""
        return self.dC_da(a, y) * self._sigmoid.prime_from_a(a)

    def pinned(self, a, tol=1e-3):
        """Every sigmoid output within ``tol`` of 0 or 1: σ'(z) < tol there."""
        a = np.asarray(a, dtype=np.float64)
        return bool(a.size and np.all((a < tol) | (a > 1 - tol)))


def _cross_entropy(a, y):
    """−Σ y ln a per sample, ln a clipped at the dtype's smallest positive value."""
    tiny = np.finfo(a.dtype).tiny if np.issubdtype(a.dtype, np.floating) else 1e-300
    return -np.sum(y * np.log(np.maximum(a, tiny)), axis=-1)


class CrossEntropyCost(OutputCost):
    """Softmax outputs s = e^z / Σ e^z with C0 = −Σ y ln s; δL = s − y."""

    name = "cross-entropy"
    title = "softmax + cross-entropy"
    output_name = "softmax"
    output_symbol = "softmax"
    probabilities = True
    output_formula = "aⱼ = sⱼ = exp(zⱼ) / Σᵢ exp(zᵢ)"
    cost_formula = "C₀ = −Σᵢ yᵢ ln sᵢ"
    cost_of_label = "−ln sₗ"
    dC_da_symbol = "∂C₀/∂sⱼ"
    dC_da_rule = "−yⱼ / sⱼ"
    delta_rule = "sⱼ − yⱼ"
    delta_formula = "δᴸ = s − y"
    shortcut = True
    note = ("softmax with cross-entropy: sⱼ depends on every zᵢ, and the chain rule through them "
            "sums to sⱼ − yⱼ, so no σ'(zⱼ) factor slows learning.")

    def output(self, z: np.ndarray) -> np.ndarray:
        return softmax(z)

    def fn(self, a, y):
        """C0 of each sample; ln s is clipped at the dtype's smallest positive value."""
        return _cross_entropy(a, y)

    def dC_da(self, a, y):
        """∂C0/∂s_j = −y_j / s_j (shown for teaching; backprop uses the shortcut ``delta``)."""
        return -y / np.maximum(a, np.finfo(a.dtype).tiny)

    def delta(self, z, a, y):
        """∂C0/∂z_j = s_j − y_j: the softmax Jacobian and −y/s cancel to this."""
        return a - y


# The largest probability the detour can give: one σ(z) at 1, the other nine at 0.
DETOUR_MAX = math.e / (math.e + 9)


class SigmoidSoftmaxCost(OutputCost):
    """The notes' detour: softmax on top of sigmoid outputs, s = softmax(σ(z)), C0 = −Σ y ln s;
    δL = (s − y) ⊙ σ'(zL).

    Since every σ(z_j) lies in (0, 1), s_j = e^σ(z_j) / Σ e^σ(z_i) can never pass e / (e + 9) ≈ 0.23:
    the network cannot be confident, and the σ' factor slows learning as the quadratic cost's does.
    """

    name = "sigmoid-softmax"
    title = "sigmoid + softmax + cross-entropy (the notes' detour)"
    output_name = "sigmoid-softmax"
    output_symbol = "softmax(σ)"
    probabilities = True
    output_formula = "aⱼ = sⱼ = exp(σ(zⱼ)) / Σᵢ exp(σ(zᵢ))"
    cost_formula = "C₀ = −Σᵢ yᵢ ln sᵢ"
    cost_of_label = "−ln sₗ"
    dC_da_symbol = "∂C₀/∂σ(zⱼ)"
    dC_da_rule = "sⱼ − yⱼ"
    prime_rule = "σ(zⱼ)(1 − σ(zⱼ))"
    delta_rule = "(sⱼ − yⱼ) σ'(zⱼ)"
    delta_formula = "δᴸ = (s − y) ⊙ σ'(zᴸ)"
    note = (f"softmax of sigmoids: every σ(zᵢ) is in (0, 1), so no sⱼ can pass e / (e + 9) ≈ "
            f"{DETOUR_MAX:.3f}, and σ'(zⱼ) slows learning.")
    pinned_rule = "every σ(z) within 0.001 of 0 or 1"
    # σ' ≤ ¼ shrinks every gradient: η = 1 reached 94.5 % after one MNIST epoch (0.1: 91.5 %; 4 fails)
    suggested = {"lr": 1.0, "momentum": 0.9, "batch_size": 32}

    def __init__(self):
        self._sigmoid = Sigmoid()

    def output(self, z: np.ndarray) -> np.ndarray:
        return softmax(self._sigmoid(z))

    def output_prime(self, z):
        return self._sigmoid.prime(z)

    def squashed(self, z):
        return self._sigmoid(z)

    def fn(self, a, y):
        """C0 of each sample, −Σ y ln s."""
        return _cross_entropy(a, y)

    def dC_da(self, a, y):
        """∂C0/∂σ(z_j) = s_j − y_j: softmax and cross-entropy on u = σ(z) cancel as usual."""
        return a - y

    def delta(self, z, a, y):
        """∂C0/∂z_j = (s_j − y_j) σ'(z_j), the chain rule through u = σ(z)."""
        return self.dC_da(a, y) * self._sigmoid.prime(z)

    def pinned(self, a, tol=1e-3):
        """Every σ(z) within ``tol`` of 0 or 1, read from s: then ln(s_max / s_j) = σ(z)_max − σ(z_j)
        is 0 or 1 for every j. A row whose outputs are all equal cannot tell (σ(z) could all be ½),
        so it needs at least one gap of 1 to count."""
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.atleast_2d(np.asarray(a, dtype=np.float64))
            gap = np.log(s.max(axis=-1, keepdims=True)) - np.log(s)
        one, zero = np.abs(gap - 1) < 2 * tol, np.abs(gap) < 2 * tol
        return bool(s.size and np.all(one | zero) and np.all(one.any(axis=-1)))


COSTS = {cls.name: cls for cls in (QuadraticCost, CrossEntropyCost, SigmoidSoftmaxCost)}


def get_cost(name: str) -> OutputCost:
    """The output/cost pair called ``name`` (one of ``COSTS``)."""
    try:
        return COSTS[name]()
    except KeyError:
        raise ValueError(f"unknown cost {name!r}; choose from {', '.join(COSTS)}") from None
