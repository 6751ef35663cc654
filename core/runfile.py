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
from pathlib import Path

from core.atomic import atomic_write
from core.guarded_read import open_or_explain, size_text
from core.settings import Settings, SettingsError, run_keys, short_repr

FORMAT = "backprop-lens-run/1"
RUN_KEYS = run_keys()
REQUIRED = tuple(k for k in RUN_KEYS if k != "l2")   # l2 came later: an old file without it means 0
MAX_BYTES = 1 << 20                                    # a run file is a few hundred bytes


class RunFileError(ValueError):
    """A run file that cannot be written or used; the message is one line for the user."""


def save_run(path, settings, data_path=None) -> Path:
    """Write the run-defining ``settings`` (a dict or Settings; other keys, like the window's delay,
    are left out) and ``data_path`` (made absolute) to ``path`` atomically. Raises RunFileError for
    bad settings, before anything is written."""
    path = Path(path)
    if isinstance(settings, dict):
        settings = {k: settings[k] for k in RUN_KEYS if k in settings}
    clean = _validated(settings, "settings", require=())
    data = None if data_path is None else str(Path(data_path).expanduser().resolve())
    text = json.dumps({"format": FORMAT, "settings": clean, "data_path": data}, indent=1)
    with atomic_write(path, "w") as f:
        f.write(text + "\n")
    return path


def load_run(path) -> tuple:
    """(settings dict in RUN_KEYS order, data_path str or None) from a run file; RunFileError says
    what is wrong. Only a regular file of at most MAX_BYTES is read."""
    path = Path(path)
    state = read_json(path, MAX_BYTES, "run file", RunFileError, missing="no such run file")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise RunFileError(f"{path}: not a Backprop Lens run file (format {short_repr(found)}, expected {FORMAT!r})")
    unknown = sorted(map(short_repr, set(state) - {"format", "settings", "data_path"}))
    if unknown:
        raise RunFileError(f"{path}: unknown entries {', '.join(unknown)}")
    settings = _validated(state.get("settings"), f"{path}: settings", require=REQUIRED)
    return settings, _data_path(path, state.get("data_path"))


def read_json(path, max_bytes: int, what: str, error: type, missing: str = "no such file"):
    """The parsed JSON of ``path``, a regular file of at most ``max_bytes`` (anything else, a FIFO
    included, is refused before a byte is read); every failure is raised as ``error`` with one line
    naming the file. Shared by run files and the window's settings file."""
    with open_or_explain(path, max_bytes, what, error, missing) as f:
        try:
            raw = f.read(max_bytes + 1)          # it may have grown since it was checked
        except OSError as e:
            raise error(f"{path}: cannot read it ({e.strerror or e})") from None
    if len(raw) > max_bytes:
        raise error(f"{path}: more than the {size_text(max_bytes)} a {what} may have")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text ({e.reason})") from None
    except RecursionError:
        raise error(f"{path}: not valid JSON (nested too deeply)") from None
    except ValueError as e:                      # JSONDecodeError, and numbers over 4300 digits
        raise error(f"{path}: not valid JSON ({' '.join(str(e).split())})") from None


def _data_path(run_file: Path, value):
    if value is None:
        return None
    if not isinstance(value, str) or not value or "\0" in value:
        raise RunFileError(f"{run_file}: data_path must be a path or null, not {short_repr(value)}")
    data = Path(value).expanduser()
    return str(data if data.is_absolute() else (run_file.parent / data).resolve())


def _validated(settings, where: str, require) -> dict:
    """The run settings checked by ``Settings`` (types, ranges, unknown names), in RUN_KEYS order."""
    if not isinstance(settings, (dict, Settings)):
        raise RunFileError(f"{where}: expected an object of settings, not {type(settings).__name__}")
    try:
        if isinstance(settings, Settings):
            return settings.run_dict()
        return Settings.from_mapping(settings, where, require=require, keys=RUN_KEYS).run_dict()
    except SettingsError as e:
        raise RunFileError(str(e)) from None

