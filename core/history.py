"""Bounded histories that thin out old points instead of dropping them, so memory stays flat."""
from __future__ import annotations

import numpy as np


class DecimatingHistory:
    """(x, y) points in a fixed-size buffer; when it fills, neighbouring pairs are averaged into one.

    The whole run stays covered from its first step, at a resolution that halves each time the
    buffer fills: memory is O(capacity) however long training goes on.
    """

    def __init__(self, capacity: int = 4096, columns: int = 1):
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty((capacity, columns), dtype=np.float64)
        self._n = 0
        self.stride = 1  # how many raw points each stored point stands for
        self._acc_x = 0.0
        self._acc_y = np.zeros(columns)
        self._acc_n = 0

    def append(self, x: float, *y: float):
        """Add one raw point; it is stored once ``stride`` raw points have been averaged."""
        self._acc_x += x
        self._acc_y += y
        self._acc_n += 1
        if self._acc_n < self.stride:
            return
        if self._n == self.capacity:
            self._halve()
        self._x[self._n] = self._acc_x / self._acc_n
        self._y[self._n] = self._acc_y / self._acc_n
        self._n += 1
        self._acc_x, self._acc_n = 0.0, 0
        self._acc_y[:] = 0.0

    def _halve(self):
        half = self.capacity // 2
        self._x[:half] = self._x.reshape(half, 2).mean(axis=1)
        self._y[:half] = self._y.reshape(half, 2, -1).mean(axis=1)
        self._n = half
        self.stride *= 2

    @property
    def x(self) -> np.ndarray:
        """The x values, including the average of raw points not yet stored."""
        tail = [self._acc_x / self._acc_n] if self._acc_n else []
        return np.concatenate([self._x[: self._n], tail])

    @property
    def y(self) -> np.ndarray:
        """The y values, shape (n, columns), including the average of raw points not yet stored."""
        tail = [self._acc_y / self._acc_n] if self._acc_n else np.zeros((0, self._y.shape[1]))
        return np.concatenate([self._y[: self._n], tail])

    def __len__(self):
        return self._n + (1 if self._acc_n else 0)

    def __repr__(self):
        return f"DecimatingHistory(points={self._n}, capacity={self.capacity}, stride={self.stride})"
