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
        if self._acc_n >= self.stride:
            self._store_average()

    def _store_average(self):
        """Store the accumulated raw points as one point, halving the buffer first if it is full."""
        if self._n == self.capacity:
            self._halve()
        self._x[self._n] = self._acc_x / self._acc_n
        self._y[self._n] = self._acc_y / self._acc_n
        self._n += 1
        self._acc_x, self._acc_n = 0.0, 0
        self._acc_y[:] = 0.0

    def extend(self, x, y):
        """Append points ``x`` (k,) with values ``y`` (k, columns), in order: the same result as
        that many ``append`` calls, whole blocks at a time (a snapshot brings hundreds of steps)."""
        x = np.asarray(x, dtype=np.float64).ravel()
        if not len(x):
            return
        y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
        i, k = 0, len(x)
        while i < k:
            stride = self.stride
            if self._acc_n or k - i < stride:          # finish (or start) a partial average
                take = min(stride - self._acc_n, k - i)
                self._acc_x += float(x[i:i + take].sum())
                self._acc_y += y[i:i + take].sum(axis=0)
                self._acc_n += take
                i += take
                if self._acc_n >= stride:              # complete: stored as append stores it
                    self._store_average()
            elif self._n == self.capacity:             # as append: a full block, halve, store it
                mean_x, mean_y = x[i:i + stride].mean(), y[i:i + stride].mean(axis=0)
                self._halve()
                self._x[self._n], self._y[self._n] = mean_x, mean_y
                self._n += 1
                i += stride
            else:                                      # whole blocks into the free slots
                blocks = min((k - i) // stride, self.capacity - self._n)
                end, n = i + blocks * stride, self._n
                self._x[n:n + blocks] = x[i:end].reshape(blocks, stride).mean(axis=1)
                self._y[n:n + blocks] = y[i:end].reshape(blocks, stride, -1).mean(axis=1)
                self._n += blocks
                i = end


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
