"""The settings dock: a pyqtgraph ParameterTree with live hyper-parameters and the architecture."""
from __future__ import annotations

from pyqtgraph.parametertree import Parameter, ParameterTree
from PyQt6.QtWidgets import QHeaderView

LIVE = ("lr", "momentum", "l2", "batch_size", "delay_ms")
ARCHITECTURE = ("hidden", "activation", "cost", "seed")


def parse_hidden(text: str) -> list:
    """'100 64' or '100, 64' → [100, 64]; raises ValueError with a readable message."""
    parts = text.replace(",", " ").split()
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"hidden sizes must be whole numbers, like '100' or '100 64', not {text!r}") from None
    if not sizes or min(sizes) < 1 or max(sizes) > 4096:
        raise ValueError("give one or more hidden layer sizes between 1 and 4096")
    return sizes


def build_parameters(settings: dict) -> Parameter:
    """The parameter tree's model, filled from ``settings``."""
    live = [
        dict(name="lr", title="learning rate η", type="float", value=settings["lr"], limits=(1e-6, 1000),
             step=0.1, dec=True, siPrefix=False, decimals=4),
        dict(name="momentum", title="momentum μ", type="float", value=settings["momentum"],
             limits=(0.0, 0.999), step=0.05, decimals=3),
        dict(name="l2", title="L2 decay λ", type="float", value=settings.get("l2", 0.0),
             limits=(0.0, 10.0), step=1e-4, decimals=5),
        dict(name="batch_size", title="batch size", type="int", value=settings["batch_size"],
             limits=(1, 60000)),
        dict(name="delay_ms", title="slow motion (ms/step)", type="int",
             value=settings.get("delay_ms", 0), limits=(0, 5000), step=50),
    ]
    arch = [
        dict(name="hidden", title="hidden sizes", type="str", value=" ".join(map(str, settings["hidden"]))),
        dict(name="activation", title="hidden activation", type="list",
             limits=["sigmoid", "tanh", "relu"], value=settings["activation"]),
        dict(name="cost", title="output / cost", type="list", value=settings["cost"],
             limits={"softmax + cross-entropy": "cross-entropy", "sigmoid + quadratic": "quadratic"}),
        dict(name="seed", title="seed", type="int", value=settings["seed"], limits=(0, 2**31 - 1)),
    ]
    return Parameter.create(name="settings", type="group", children=[
        dict(name="live", title="Training (applies at once)", type="group", children=live),
        dict(name="architecture", title="Network (applies on Reset)", type="group", children=arch),
    ])


def make_tree(params: Parameter) -> ParameterTree:
    tree = ParameterTree(showHeader=False)
    tree.setParameters(params, showTop=False)
    # Names as wide as they need, values get the rest (so "softmax + cross-entropy" is not cut).
    tree.setIndentation(12)
    header = tree.header()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    return tree


def read_settings(params: Parameter) -> dict:
    """The current values as a settings dict (hidden sizes parsed)."""
    values = {name: params.child("live", name).value() for name in LIVE}
    values.update({name: params.child("architecture", name).value() for name in ARCHITECTURE})
    values["hidden"] = parse_hidden(values["hidden"])
    return values
