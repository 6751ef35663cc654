"""Backprop Lens core: a NumPy-only multilayer perceptron, its data and its trainer.

Public names: ``Network``, ``one_hot``, ``SGD``, ``Trainer``, ``load_mnist``. Nothing here imports Qt.
"""
from core.network import Network, one_hot
from core.optim import SGD
from core.trainer import Trainer

__all__ = ["Network", "one_hot", "SGD", "Trainer", "load_mnist"]


def __getattr__(name):
    # The data module pulls in download machinery; load it only when asked for.
    if name == "load_mnist":
        from core.data import load_mnist
        return load_mnist
    raise AttributeError(f"module 'core' has no attribute {name!r}")
