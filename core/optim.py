"""Gradient descent: W ← W + v with v = μ v − η (∂C/∂W + λ W); plain SGD when μ = 0."""
from __future__ import annotations

import numpy as np


class SGD:
    """Stochastic gradient descent with optional momentum μ and L2 weight decay λ (on W, not b).

    ``lr`` is the learning rate η. Hyper-parameters may change between steps.

    Two ways in: ``step(params, grads)`` takes the gradients ∂C/∂p; ``apply(params, deltas)`` takes
    Δp = −η ∂C/∂p, the step plain gradient descent would take, which ``Network.backward(...,
    scale=-lr)`` computes for free. Both give the same update; ``apply`` saves a pass over the weights.
    """

    def __init__(self, lr=0.1, momentum=0.0, l2=0.0):
        self.lr, self.momentum, self.l2 = float(lr), float(momentum), float(l2)
        self._velocity = None
        self._scratch = None
        self._last = []

    @property
    def velocity(self) -> list | None:
        """The momentum buffers v, one per parameter array (None before the first step): read them,
        don't change them."""
        return self._velocity

    def _buffers(self, params):
        if self._velocity is None or [v.shape for v in self._velocity] != [p.shape for p in params]:
            self._velocity = [np.zeros_like(p) for p in params]
            self._scratch = [np.empty_like(p) for p in params]

    def step(self, params: list, grads: list, norms: bool = True):
        """Apply one update to ``params`` in place from the gradients ``grads``; returns ‖Δp‖ of every
        parameter array (or None with ``norms=False``, which saves a pass over the weights)."""
        self._buffers(params)
        deltas = [np.multiply(g, -self.lr, out=s) for g, s in zip(grads, self._scratch)]
        return self.apply(params, deltas, norms)

    def apply(self, params: list, deltas: list, norms: bool = False):
        """Apply one update to ``params`` in place from Δp = −η ∂C/∂p (``deltas``, left unchanged):
        v = μ v + Δp − η λ W, p += v. Returns ‖update‖ per array, or None."""
        self._buffers(params)
        sizes, self._last = [], []
        mu, decay = self.momentum, -self.lr * self.l2
        for p, update, v, scratch in zip(params, deltas, self._velocity, self._scratch):
            if decay and p.ndim == 2:
                if update is scratch:   # step()'s own −η g
                    update += decay * p
                else:
                    update = np.add(update, np.multiply(p, decay, out=scratch), out=scratch)
            if mu:
                v *= mu
                v += update
                update = v
            p += update
            self._last.append(update)
            if norms:
                sizes.append(float(np.sqrt(np.vdot(update, update))))
        return sizes if norms else None

    def last_update(self) -> list:
        """The arrays the last step added to each parameter (valid until the next step)."""
        return list(self._last)

    def reset(self):
        """Forget the momentum (after the weights were replaced)."""
        self._velocity = None

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum}, l2={self.l2})"
