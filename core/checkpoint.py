"""Save and load a trained network as .npz: arrays plus a JSON header, no pickles, atomic writes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.atomic import atomic_write
from core.network import Network

FORMAT = "backprop-lens-model/1"


class CheckpointError(Exception):
    """A model file that cannot be loaded; the message is one line for the user."""


def save_model(path, net: Network, hyper: dict | None = None) -> Path:
    """Write ``net`` (architecture, weights, biases) and ``hyper`` to ``path`` atomically.

    The file is written next to its destination and renamed into place, so a crash mid-write never
    leaves a half-written model behind.
    """
    path = Path(path)
    header = {"format": FORMAT, "network": net.config(), "hyper": dict(hyper or {})}
    arrays = {"header": np.array(json.dumps(header))}
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    with atomic_write(path) as f:
        np.savez(f, **arrays)
    return path


def load_model(path) -> tuple:
    """Read a model written by ``save_model``; returns (Network, hyper dict).

    Raises CheckpointError for anything that is not such a model: no pickles, wrong shapes,
    non-finite numbers.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            files = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except Exception as e:  # numpy and zipfile raise many kinds for a damaged file
        raise CheckpointError(f"{path}: not a Backprop Lens model ({_reason(e)})") from None
    header = _header(path, files)
    net = _network(path, header.get("network"))
    for l in range(net.n_layers):
        net.W[l] = _array(path, files, f"W{l}", net.W[l].shape, net.dtype)
        net.b[l] = _array(path, files, f"b{l}", net.b[l].shape, net.dtype)
    return net, header.get("hyper", {})


def _reason(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return "it holds pickled objects" if "pickle" in text.lower() else text


def _header(path, files) -> dict:
    try:
        header = json.loads(str(files["header"]))
    except KeyError:
        raise CheckpointError(f"{path}: not a Backprop Lens model (no header)") from None
    except (ValueError, TypeError):
        raise CheckpointError(f"{path}: the model header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown model format {header.get('format') if isinstance(header, dict) else header!r}")
    return header


def _network(path, config) -> Network:
    try:
        return Network(config["sizes"], config["activation"], config["cost"],
                       config.get("seed", 0), config.get("dtype", "float32"))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: the model's architecture is invalid ({e})") from None


def _array(path, files, name, shape, dtype) -> np.ndarray:
    if name not in files:
        raise CheckpointError(f"{path}: {name} is missing")
    a = files[name]
    if a.shape != shape:
        raise CheckpointError(f"{path}: {name} has shape {a.shape}, the architecture needs {shape}")
    if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
        raise CheckpointError(f"{path}: {name} holds values that are not finite numbers")
    return a.astype(dtype)
