"""A run file: the settings and data path that reproduce a training run, as a small JSON file.

    {"format": "backprop-lens-run/1",
     "settings": {"hidden": [100], "activation": "sigmoid", "cost": "cross-entropy", "seed": 0,
                  "lr": 0.1, "momentum": 0.9, "l2": 0.0, "batch_size": 32},
     "data_path": "/home/me/mnist"}

``data_path`` null means the default data (cache, download, offline fallback). A relative
``data_path`` in a hand-written file is read relative to the run file's folder.
"""
from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

from core.activations import ACTIVATIONS
from core.atomic import atomic_write
from core.costs import COSTS

FORMAT = "backprop-lens-run/1"
RUN_KEYS = ("hidden", "activation", "cost", "seed", "lr", "momentum", "l2", "batch_size")
OPTIONAL = {"l2": 0.0}


class RunFileError(ValueError):
    """A run file that cannot be written or used; the message is one line for the user."""


def save_run(path, settings: dict, data_path=None) -> Path:
    """Write the run-defining ``settings`` (other keys, like the window's delay, are left out) and
    ``data_path`` (made absolute) to ``path`` atomically. Raises RunFileError for bad settings."""
    path = Path(path)
    clean = _validated({**OPTIONAL, **{k: settings[k] for k in RUN_KEYS if k in settings}}, "settings")
    data = None if data_path is None else str(Path(data_path).expanduser().resolve())
    text = json.dumps({"format": FORMAT, "settings": clean, "data_path": data}, indent=1)
    with atomic_write(path, "w") as f:
        f.write(text + "\n")
    return path


def load_run(path) -> tuple:
    """(settings dict, data_path str or None) from a run file; RunFileError says what is wrong."""
    path = Path(path)
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunFileError(f"{path}: no such run file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RunFileError(f"{path}: cannot be read ({e})") from None
    except ValueError as e:
        raise RunFileError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise RunFileError(f"{path}: not a Backprop Lens run file (format {found!r}, expected {FORMAT!r})")
    unknown = sorted(set(state) - {"format", "settings", "data_path"})
    if unknown:
        raise RunFileError(f"{path}: unknown entries {', '.join(map(repr, unknown))}")
    settings = _validated(state.get("settings"), f"{path}: settings")
    return settings, _data_path(path, state.get("data_path"))


def _data_path(run_file: Path, value):
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RunFileError(f"{run_file}: data_path must be a path or null, not {value!r}")
    data = Path(value).expanduser()
    return str(data if data.is_absolute() else (run_file.parent / data).resolve())


def _validated(settings, where: str) -> dict:
    """The settings with checked types and ranges, in RUN_KEYS order."""
    if not isinstance(settings, dict):
        raise RunFileError(f"{where}: expected an object of settings, not {type(settings).__name__}")
    unknown = sorted(set(settings) - set(RUN_KEYS))
    if unknown:
        raise RunFileError(f"{where}: unknown setting {', '.join(map(repr, unknown))}; "
                           f"known: {', '.join(RUN_KEYS)}")
    settings = {**OPTIONAL, **settings}
    missing = [k for k in RUN_KEYS if k not in settings]
    if missing:
        raise RunFileError(f"{where}: missing {', '.join(missing)}")
    return {key: _check(key, settings[key], where) for key in RUN_KEYS}


def _check(key: str, value, where: str):
    def bad(expected: str):
        return RunFileError(f"{where}: {key} must be {expected}, not {value!r}")

    if key == "hidden":
        if (not isinstance(value, (list, tuple)) or not value
                or not all(_whole(n) and 1 <= n <= 4096 for n in value)):
            raise bad("a list of layer sizes between 1 and 4096, like [100] or [100, 30]")
        return [int(n) for n in value]
    if key == "activation":
        if value not in ACTIVATIONS:
            raise bad(f"one of {', '.join(ACTIVATIONS)}")
        return value
    if key == "cost":
        if value not in COSTS:
            raise bad(f"one of {', '.join(COSTS)}")
        return value
    if key in ("seed", "batch_size"):
        low = 0 if key == "seed" else 1
        if not _whole(value) or not low <= value < 2**31:
            raise bad(f"a whole number from {low} to {2**31 - 1}")
        return int(value)
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise bad("a finite number")
    if key == "lr" and value <= 0:
        raise bad("positive")
    if key == "momentum" and not 0 <= value < 1:
        raise bad("at least 0 and below 1")
    if key == "l2" and value < 0:
        raise bad("0 or more")
    return float(value)


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
