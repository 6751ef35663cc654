"""Save and load a trained network as .npz: arrays plus a JSON header, no pickles, atomic writes.

Loading trusts nothing in the file. In order, before anything large is allocated:

1. the path must be a regular file of at most :data:`MAX_MODEL_BYTES` (a FIFO is refused at once);
2. the zip's end record must list at most :data:`MAX_MEMBERS` members;
3. the JSON header (a small unicode ``.npy``) must describe a network within the limits below
   (:data:`MAX_NEURONS` a layer, :data:`MAX_WEIGHT_LAYERS` weight layers, :data:`MAX_PARAMETERS`);
4. the members must be exactly ``header``, ``W0``, ``b0``, ``W1``, … as that architecture needs;
5. each array's ``.npy`` header must give a float32/float64 dtype and exactly the needed shape, and
   the zip's uncompressed size must equal what that header promises (so decompression is bounded);
6. only then are the arrays read, converted to the network's dtype and checked to be finite;
7. only then is the :class:`~core.network.Network` built.

Anything wrong raises :class:`CheckpointError` with one line naming the file and the problem.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.activations import ACTIVATIONS
from core.atomic import atomic_write
from core.costs import COSTS
from core.guarded_read import InputRefused, npy_header, open_or_explain, open_zip, read_npy, size_text
from core.network import Network

FORMAT = "backprop-lens-model/1"

#: Largest layer (neurons) a loaded model may have; the same bound as a run file's hidden sizes.
MAX_NEURONS = 4096
#: Most weight layers (hidden layers + 1) a loaded model may have.
MAX_WEIGHT_LAYERS = 9
#: Most weights and biases a loaded model may have in all.
MAX_PARAMETERS = 50_000_000
#: Most bytes of array data (50 million float32 parameters, or 25 million float64).
MAX_WEIGHT_BYTES = 200_000_000
#: Largest model file: the arrays plus room for the zip's and the .npy headers.
MAX_MODEL_BYTES = MAX_WEIGHT_BYTES + 1_000_000
#: header.npy, W0…W8, b0…b8.
MAX_MEMBERS = 1 + 2 * MAX_WEIGHT_LAYERS
#: Longest JSON header, in characters (a real one is a few hundred).
MAX_HEADER_CHARS = 65_536

_DTYPES = ("float32", "float64")


class CheckpointError(Exception):
    """A model file that cannot be loaded; the message is one line for the user."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def save_model(path, net: Network, hyper: dict | None = None) -> Path:
    """Write ``net`` (architecture, weights, biases) and ``hyper`` to ``path`` atomically.

    The file is written next to its destination and renamed into place, so a crash mid-write never
    leaves a half-written model behind.
    """
    path = Path(path)
    header = {"format": FORMAT, "network": net.config(), "hyper": dict(hyper or {})}
    if net.silenced:   # knocked-out neurons (Why ▸ Knock-out, in training) stay knocked out
        header["silenced"] = {str(l): [int(j) for j in js] for l, js in net.silenced.items()}
    arrays = {"header": np.array(json.dumps(header))}
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    with atomic_write(path) as f:
        np.savez(f, **arrays)
    return path


def load_model(path, *, inputs: int | None = 784, outputs: int | None = 10) -> tuple:
    """Read a model written by ``save_model``; returns (Network, hyper dict).

    ``inputs``/``outputs`` are the layer sizes the caller needs at either end (the app's 784
    pixels and 10 digits); ``None`` accepts any. Raises :class:`CheckpointError` for anything
    else: not a regular file, too large, not such a model, pickles, wrong dtypes or shapes,
    values that are not finite in the network's dtype.
    """
    path = Path(path)
    handle = open_or_explain(path, MAX_MODEL_BYTES, "model file", CheckpointError)
    try:
        with handle, open_zip(handle, MAX_MEMBERS) as archive:
            return _load(archive, inputs, outputs)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None
    except InputRefused as e:
        raise CheckpointError(f"{path}: not a Backprop Lens model ({e})") from None
    except MemoryError:
        raise CheckpointError(f"{path}: not enough memory to load this model") from None
    except Exception as e:  # noqa: BLE001 - zipfile/zlib/numpy raise many kinds for a damaged file
        raise CheckpointError(f"{path}: not a Backprop Lens model ({_reason(e)})") from None


def _reason(e: Exception) -> str:
    text = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
    return "it holds pickled objects" if "pickle" in text.lower() else f"{type(e).__name__}: {text}"


def _load(archive, inputs, outputs) -> tuple:
    """The checks of the module docstring, steps 3 to 7, on an open archive."""
    header = _header(archive)
    sizes, activation, cost, seed, dtype = _architecture(header.get("network"), inputs, outputs)
    hyper = header.get("hyper", {})
    if not isinstance(hyper, dict):
        raise CheckpointError(f"the model's hyper-parameters are not a JSON object but {type(hyper).__name__}")
    shapes = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes[f"W{l}"], shapes[f"b{l}"] = (n_out, n_in), (n_out,)
    _expect_members(archive, ["header", *shapes])
    headers = {name: _array_header(archive, name, shape) for name, shape in shapes.items()}
    total = sum(h.data_bytes for h in headers.values())
    if total > MAX_WEIGHT_BYTES:
        raise CheckpointError(f"its arrays hold {size_text(total)}, more than the {size_text(MAX_WEIGHT_BYTES)} accepted")
    arrays = {name: _finite(name, read_npy(archive, archive.getinfo(name + ".npy"), h), dtype)
              for name, h in headers.items()}
    net = Network(sizes, activation, cost, seed, dtype)
    for l in range(net.n_layers):
        net.W[l], net.b[l] = arrays.pop(f"W{l}"), arrays.pop(f"b{l}")
    _silence(net, header.get("silenced", {}))
    return net, hyper


def _silence(net: Network, entry) -> None:
    """Knock out the neurons the model was saved with ({layer: [neuron, …]}), checked against ``net``."""
    if not isinstance(entry, dict) or not all(isinstance(js, list) and all(_whole(j) for j in js)
                                              for js in entry.values()):
        raise CheckpointError("its knocked-out neurons are not a map of layer to neuron numbers")
    try:
        net.silence({int(l): js for l, js in entry.items()})     # the checks the trainer makes
    except ValueError as e:
        raise CheckpointError(f"its knocked-out neurons do not fit the network: {e}") from None


def _header(archive) -> dict:
    """The JSON header from ``header.npy``: a 0-d unicode array of bounded length."""
    try:
        info = archive.getinfo("header.npy")
    except KeyError:
        raise InputRefused("no header") from None
    h = npy_header(archive, info)
    if h.dtype.hasobject:
        raise InputRefused("it holds pickled objects")
    if h.dtype.kind != "U" or h.shape != () or h.dtype.itemsize > 4 * MAX_HEADER_CHARS:
        raise CheckpointError(f"the model header is not a text of at most {MAX_HEADER_CHARS:,} characters "
                              f"(dtype {h.dtype}, shape {h.shape})")
    text = str(read_npy(archive, info, h)[()])
    try:
        header = json.loads(text)
    except RecursionError:
        raise CheckpointError("the model header is nested too deeply") from None
    except ValueError:
        raise CheckpointError("the model header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise CheckpointError(f"unknown model format {str(found)[:60]!r}, expected {FORMAT!r}")
    return header


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _architecture(config, inputs, outputs) -> tuple:
    """(sizes, activation, cost, seed, dtype) from the header, each checked against the limits."""
    if not isinstance(config, dict):
        raise CheckpointError("the model's architecture is missing")
    sizes = config.get("sizes")
    if (not isinstance(sizes, list) or not 2 <= len(sizes) <= MAX_WEIGHT_LAYERS + 1
            or not all(_whole(n) and 1 <= n <= MAX_NEURONS for n in sizes)):
        raise CheckpointError(f"the model's layer sizes {str(sizes)[:80]} are not 2 to {MAX_WEIGHT_LAYERS + 1} "
                              f"whole numbers from 1 to {MAX_NEURONS}")
    if inputs is not None and sizes[0] != inputs or outputs is not None and sizes[-1] != outputs:
        raise CheckpointError(f"the model maps {sizes[0]} inputs to {sizes[-1]} outputs; "
                              f"this needs {inputs} to {outputs}")
    parameters = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if parameters > MAX_PARAMETERS:
        raise CheckpointError(f"the model has {parameters:,} parameters, more than the {MAX_PARAMETERS:,} accepted")
    activation, cost = config.get("activation"), config.get("cost")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise CheckpointError(f"unknown activation {str(activation)[:40]!r} in the model; known: {', '.join(ACTIVATIONS)}")
    if not isinstance(cost, str) or cost not in COSTS:
        raise CheckpointError(f"unknown cost {str(cost)[:40]!r} in the model; known: {', '.join(COSTS)}")
    seed = config.get("seed", 0)
    if not _whole(seed) or not 0 <= seed < 2**63:
        raise CheckpointError(f"the model's seed {str(seed)[:40]} is not a whole number from 0 to 2**63 - 1")
    dtype = config.get("dtype", "float32")
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise CheckpointError(f"the model's dtype {str(dtype)[:40]!r} is not float32 or float64")
    return sizes, activation, cost, seed, np.dtype(dtype)


def _expect_members(archive, names: list) -> None:
    """The archive holds exactly ``<name>.npy`` for each of ``names``: nothing missing, nothing more."""
    present = archive.namelist()
    wanted = [n + ".npy" for n in names]
    missing = [n for n, w in zip(names, wanted) if w not in present]
    if missing:
        raise CheckpointError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing")
    extra = [p for p in present if p not in wanted]
    if extra or len(present) != len(wanted):
        what = repr(extra[0][:60]) if extra else "a duplicated member"
        raise CheckpointError(f"unexpected {what} beside the network's arrays")


def _array_header(archive, name: str, shape: tuple):
    """The approved ``.npy`` header of one weight or bias array (dtype and shape checked)."""
    h = npy_header(archive, archive.getinfo(name + ".npy"))
    if h.dtype.hasobject:
        raise InputRefused("it holds pickled objects")
    if h.dtype.kind != "f" or h.dtype.name not in _DTYPES or h.dtype.fields is not None:
        raise CheckpointError(f"{name} has dtype {h.dtype}, expected float32 or float64 numbers")
    if h.shape != shape:
        raise CheckpointError(f"{name} has shape {h.shape}, the architecture needs {shape}")
    return h


def _finite(name: str, array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``array`` in the network's dtype, refused if any value is not finite there (float64 weights
    beyond float32's range become inf when converted, so the check comes after the conversion)."""
    if not np.isfinite(array).all():
        raise CheckpointError(f"{name} holds values that are not finite numbers")
    with np.errstate(over="ignore"):
        converted = array.astype(dtype, copy=False)
    if not np.isfinite(converted).all():
        raise CheckpointError(f"{name} holds values too large for {dtype.name} (they would become infinite)")
    return np.ascontiguousarray(converted)
