"""Watching the training cost for divergence (non-finite or runaway) and for pinned outputs."""
from __future__ import annotations

import math

import numpy as np

from core.costs import get_cost


class DivergenceMonitor:
    """Feed it every step's cost; ``check`` returns a reason once training has diverged, else "".

    Diverged means a non-finite cost, or a smoothed cost that has stayed above ``factor`` × its best
    (plus ``margin``) for ``patience`` steps in a row: a spike that recovers is not divergence.
    """

    def __init__(self, factor=4.0, margin=1.0, patience=50, smoothing=0.05):
        self.factor, self.margin, self.patience, self.smoothing = factor, margin, patience, smoothing
        self.reset()

    def reset(self):
        self.ema = None
        self.best = math.inf
        self._above = 0

    def update(self, step: int, cost: float) -> str:
        """Take one step's cost; returns why training diverged at this step, or ""."""
        if not math.isfinite(cost):
            return f"the cost became {cost} at step {step}"
        self.ema = cost if self.ema is None else self.ema + self.smoothing * (cost - self.ema)
        self.best = min(self.best, self.ema)
        limit = self.factor * self.best + self.margin
        self._above = self._above + 1 if self.ema > limit else 0
        if self._above >= self.patience:
            return (f"the cost climbed to {self.ema:.3g} at step {step}, far above its best "
                    f"{self.best:.3g}, and stayed there for {self.patience} steps")
        return ""


def pinned_outputs(output: np.ndarray, cost_name: str, tol=1e-3) -> bool:
    """True when the outputs are all pinned where σ'(z) ≈ 0, so learning has stopped: the pair's
    own rule (``pinned`` of core.costs), e.g. every sigmoid output within ``tol`` of 0 or 1."""
    return get_cost(cost_name).pinned(output, tol)
