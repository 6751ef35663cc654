"""Output layer and cost pairs, each with its cost C0 and its output error δL = ∂C0/∂zL.

Costs are per sample, summed over the 10 outputs; the trainer averages them over the batch.
"""
from __future__ import annotations

import numpy as np

from core.activations import Sigmoid


class QuadraticCost:
    """Sigmoid outputs a = σ(z) with C0 = Σ_j (a_j − y_j)²; δL = 2(a − y) ⊙ σ'(zL)."""

    name = "quadratic"
    output_name = "sigmoid"

    def __init__(self):
        self._sigmoid = Sigmoid()

    def output(self, z: np.ndarray) -> np.ndarray:
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

    def __repr__(self):
        return "QuadraticCost()"


class CrossEntropyCost:
    """Softmax outputs s = e^z / Σ e^z with C0 = −Σ y ln s; δL = s − y."""

    name = "cross-entropy"
    output_name = "softmax"
    _tiny = 1e-300

    def output(self, z: np.ndarray) -> np.ndarray:
        # Subtracting the row maximum leaves softmax unchanged and keeps exp from overflowing.
        e = z - np.maximum.reduce(z, axis=-1, keepdims=True)
        np.exp(e, out=e)
        e /= np.add.reduce(e, axis=-1, keepdims=True)
        return e

    def fn(self, a, y):
        """C0 of each sample; ln s is clipped at the dtype's smallest positive value."""
        tiny = np.finfo(a.dtype).tiny if np.issubdtype(a.dtype, np.floating) else self._tiny
        return -np.sum(y * np.log(np.maximum(a, tiny)), axis=-1)

    def dC_da(self, a, y):
        """∂C0/∂s_j = −y_j / s_j (shown for teaching; backprop uses the shortcut ``delta``)."""
        return -y / np.maximum(a, np.finfo(a.dtype).tiny)

    def delta(self, z, a, y):
        """∂C0/∂z_j = s_j − y_j: the softmax Jacobian and −y/s cancel to this."""
        return a - y

    def __repr__(self):
        return "CrossEntropyCost()"


COSTS = {cls.name: cls for cls in (QuadraticCost, CrossEntropyCost)}


def get_cost(name: str):
    """The output/cost pair called ``name`` (quadratic or cross-entropy)."""
    try:
        return COSTS[name]()
    except KeyError:
        raise ValueError(f"unknown cost {name!r}; choose from {', '.join(COSTS)}") from None
