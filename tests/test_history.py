import numpy as np
import pytest

from core.history import DecimatingHistory


def test_history_keeps_everything_until_full():
    h = DecimatingHistory(8)
    for i in range(8):
        h.append(i, i * 10)
    np.testing.assert_array_equal(h.x, np.arange(8))
    assert h.stride == 1


def test_history_halves_instead_of_dropping_the_start():
    h = DecimatingHistory(8)
    for i in range(1000):
        h.append(i, float(i))
    assert len(h) <= 9
    assert h.x[0] < 64  # the beginning of the run is still covered
    assert h.x[-1] > 900
    np.testing.assert_allclose(h.x, h.y[:, 0])  # averages of x and y stay paired
    assert np.all(np.diff(h.x) > 0)


def test_history_memory_is_bounded():
    h = DecimatingHistory(64, columns=3)
    for i in range(100_000):
        h.append(i, 1.0, 2.0, 3.0)
    assert len(h) <= 65 and h.y.shape[1] == 3


def test_capacity_must_be_even():
    with pytest.raises(ValueError):
        DecimatingHistory(7)
