"""A bounded record of the weights through a run, so any earlier moment can be looked at again.

The timeline keeps one set of weights per ``every`` steps. When it fills up it drops every other
entry and doubles ``every``: memory stays bounded, and the kept entries still span the whole run
from its first step, ever more sparsely.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from core.snapshot import frozen

DEFAULT_MAX_BYTES = 256 * 2**20   # a wide network gets fewer entries rather than gigabytes


@dataclass(frozen=True)
class TimelineEntry:
    """The weights and biases (read-only arrays, one per weight layer) saved at ``step``."""

    step: int
    W: tuple
    b: tuple

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (*self.W, *self.b))

    def __repr__(self):
        return f"TimelineEntry(step={self.step}, layers={len(self.W)})"


def _kept(array) -> np.ndarray:
    """``array`` itself when nobody can change it (a Snapshot's arrays), else a read-only copy."""
    a = array
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return frozen(array)
        if a.base is None:
            return array
        a = a.base
    return frozen(array)


class Timeline:
    """Weights saved at the first offered step and then once per ``every`` steps, at most
    ``capacity`` entries (fewer when one entry is big: all entries together stay under ``max_bytes``).

    Offers must come in increasing step order; an offer in the same ``every``-step bucket as the last
    saved entry is declined, so snapshots arriving at any rate give evenly spaced entries.
    """

    def __init__(self, capacity: int = 200, every: int = 100, max_bytes: int = DEFAULT_MAX_BYTES):
        if int(capacity) < 4:
            raise ValueError(f"a timeline needs room for at least 4 entries, not {capacity}")
        if int(every) < 1:
            raise ValueError(f"'every' must be a positive number of steps, not {every}")
        self.capacity, self.max_bytes = int(capacity), int(max_bytes)
        self._first_every = self.every = int(every)
        self._entries: list[TimelineEntry] = []
        self._steps: list[int] = []
        self._limit = self.capacity

    # --- recording ---------------------------------------------------------------------------
    def offer(self, step: int, W, b) -> bool:
        """Keep these weights if ``step`` opens a new ``every``-step bucket; True when kept."""
        step = int(step)
        if not self._is_new(step):
            return False
        if not self._entries:
            self._limit = self._limit_for(sum(np.asarray(a).nbytes for a in (*W, *b)))
        if len(self._entries) >= self._limit:
            self._thin()
            if not self._is_new(step):
                return False
        self._entries.append(TimelineEntry(step, tuple(map(_kept, W)), tuple(map(_kept, b))))
        self._steps.append(step)
        return True

    def _is_new(self, step: int) -> bool:
        if not self._steps:
            return True
        last = self._steps[-1]
        return step > last and step // self.every > last // self.every

    def _limit_for(self, entry_bytes: int) -> int:
        return max(4, min(self.capacity, self.max_bytes // max(entry_bytes, 1)))

    def _thin(self):
        """Double ``every`` and keep the first entry of each new bucket: about every other entry."""
        self.every *= 2
        kept = [self._entries[0]]
        for entry in self._entries[1:]:
            if entry.step // self.every > kept[-1].step // self.every:
                kept.append(entry)
        self._entries = kept
        self._steps = [e.step for e in kept]

    def clear(self):
        """Forget every entry and start again at the first ``every``."""
        self._entries, self._steps = [], []
        self.every, self._limit = self._first_every, self.capacity

    # --- reading -----------------------------------------------------------------------------
    @property
    def steps(self) -> list:
        """The steps with saved weights, oldest first."""
        return list(self._steps)

    @property
    def entries(self) -> tuple:
        return tuple(self._entries)

    @property
    def limit(self) -> int:
        """How many entries fit: ``capacity``, or fewer if the network is big."""
        return self._limit

    def at(self, step: int) -> TimelineEntry:
        """The entry saved at exactly ``step``; KeyError (naming the nearest step) if there is none."""
        i = bisect.bisect_left(self._steps, int(step))
        if i < len(self._steps) and self._steps[i] == int(step):
            return self._entries[i]
        near = f"; the nearest is step {self.nearest(step).step}" if self._entries else ""
        raise KeyError(f"no weights saved at step {step}{near}")

    def nearest(self, step: int) -> TimelineEntry:
        """The entry closest to ``step`` (the earlier one on a tie); IndexError when empty."""
        if not self._entries:
            raise IndexError("the timeline is empty")
        i = bisect.bisect_left(self._steps, step)
        if i == len(self._steps) or (i > 0 and step - self._steps[i - 1] <= self._steps[i] - step):
            i -= 1
        return self._entries[i]

    def index_of(self, step: int) -> int:
        """The position of the entry nearest to ``step`` in ``steps``."""
        return self._steps.index(self.nearest(step).step)

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self._entries)

    def __len__(self):
        return len(self._entries)

    def __repr__(self):
        span = f", steps {self._steps[0]}–{self._steps[-1]}" if self._steps else ""
        return f"Timeline(entries={len(self)}/{self._limit}, every={self.every}{span})"
