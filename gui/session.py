"""What survives a restart: settings, window layout, data source, and (if the user agrees) the weights.

The settings file is read as a hostile file would be: only a regular file of at most MAX_BYTES is
opened (a FIFO would block the open), every entry is checked, a bad one is named in the problem
text and replaced by its default, and nothing bad is ever written back.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path

import platformdirs

from core.atomic import atomic_write, remove_stale_parts
from core.checkpoint import CheckpointError, load_model, save_model
from core.runfile import read_json
from core.settings import Settings, SettingsError, short_repr

MAX_BYTES = 1 << 20             # settings.json is about 2 KB; the window layout is most of it
MAX_LAYOUT_CHARS = 64 * 1024    # base64 text of QMainWindow.saveGeometry()/saveState()
MAX_PATH_CHARS = 4096
MAX_LISTED = 12                 # problems named in the message (every known entry); the rest are counted


class Session:
    """Files in the user's config folder (or ``folder``): settings.json and session-model.npz."""

    def __init__(self, folder=None):
        self.folder = Path(folder or platformdirs.user_config_dir("backprop-lens"))
        self.settings_path = self.folder / "settings.json"
        self.model_path = self.folder / "session-model.npz"
        self.kept_step = 0            # the step the kept network had reached, once load_model has read it

    def load(self) -> tuple:
        """(saved state dict, problem text or ""). The state holds ``settings`` (a plain dict of
        valid values, defaults where the file's were bad or missing), ``data_path`` (str or None),
        ``window_geometry`` and ``window_state`` (base64 text) when they were usable. A file that
        cannot be read at all gives an empty state; the problem text says so in one sentence."""
        if not os.path.lexists(self.settings_path):
            return {}, ""
        try:
            state = read_json(self.settings_path, MAX_BYTES, "settings file", _Unreadable)
        except _Unreadable as e:
            return {}, f"the saved settings could not be read ({e}); using defaults"
        if not isinstance(state, dict):
            return {}, (f"the saved settings in {self.settings_path} could not be read (not a JSON object "
                        f"but {type(state).__name__}); using defaults")
        settings, problems = Settings.from_mapping_lenient(state.get("settings", {}), "settings")
        clean = {"settings": settings.to_dict()}
        for key, check in _CHECKS.items():
            if key in state:
                problem = check(state[key])
                if problem:
                    problems.append(f"{key} {problem}, dropped")
                else:
                    clean[key] = state[key]
        return clean, _sentence(self.settings_path, problems)

    def save(self, settings, data_path=None, window_geometry="", window_state=""):
        """Write the state atomically, so a crash mid-write keeps the previous file. ``settings`` is a
        dict or Settings; a bad value (or a bad path or layout) is replaced by its default, never
        written."""
        clean, _ = Settings.from_mapping_lenient(settings, "settings")
        state = {"settings": clean.to_dict(), "data_path": None, "window_geometry": "", "window_state": ""}
        for key, value in (("data_path", data_path), ("window_geometry", window_geometry),
                           ("window_state", window_state)):
            if _CHECKS[key](value) is None:
                state[key] = value
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.settings_path, "w") as f:
            json.dump(state, f, indent=1)

    def save_model(self, net, hyper: dict):
        self.folder.mkdir(parents=True, exist_ok=True)
        save_model(self.model_path, net, hyper)

    def forget_model(self):
        self.model_path.unlink(missing_ok=True)

    def load_model(self) -> tuple:
        """(Network or None, problem text or ""); the model loader refuses a FIFO or a huge file unread.
        ``kept_step`` is then the step the network had reached (0 when unknown)."""
        self.kept_step = 0
        if not os.path.lexists(self.model_path):
            return None, ""
        try:
            net, hyper = load_model(self.model_path)
            step = (hyper or {}).get("step", 0)
            self.kept_step = step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else 0
            # it must be a network the settings allow, or the window could not train it within memory
            Settings.from_mapping({"hidden": list(net.sizes[1:-1]), "activation": net.activation.name,
                                   "cost": net.cost.name}, str(self.model_path))
            return net, ""
        except (CheckpointError, SettingsError) as e:
            return None, f"the network kept from last time could not be loaded: {e}"


class _Unreadable(Exception):
    """The settings file cannot be used at all; the message says why in one line."""


def _check_path(value):
    """None when ``value`` can be a data path (a string or None), else what is wrong."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or "\0" in value or len(value) > MAX_PATH_CHARS:
        return f"must be a path or null, not {short_repr(value)}"
    return None


def _check_layout(value):
    """None when ``value`` is base64 text of at most MAX_LAYOUT_CHARS, else what is wrong."""
    if not isinstance(value, str):
        return f"must be base64 text, not {type(value).__name__}"
    if len(value) > MAX_LAYOUT_CHARS:
        return f"is {len(value):,} characters, more than {MAX_LAYOUT_CHARS:,}"
    try:
        base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):       # non-ASCII text is a ValueError
        return f"is not base64 text ({short_repr(value)})"
    return None


_CHECKS = {"data_path": _check_path, "window_geometry": _check_layout, "window_state": _check_layout}


def _sentence(path: Path, problems: list) -> str:
    """The problems as one sentence for the window's message ("" for none)."""
    if not problems:
        return ""
    problems = sorted(problems, key=lambda p: "unknown setting" in p)   # bad values first, stable
    shown = [p.removeprefix("settings: ") for p in problems[:MAX_LISTED]]
    more = len(problems) - len(shown)
    tail = f"; and {more} more" if more else ""
    return (f"some saved settings in {path} could not be used and were replaced by their defaults: "
            f"{'; '.join(shown)}{tail}.")


# --- the window's side: what a launch restores and a close keeps --------------------------------------
def restore_window(window, saved: dict, problems: list) -> None:
    """Give ``window`` (a MainWindow) last time's size and place, if they fit the screen (the dock
    layout comes from the workspaces), the network kept last time, and say what could not be used."""
    from PyQt6.QtCore import QByteArray
    session = window.session
    if session is None:
        return
    remove_stale_parts(session.folder)   # a save that a kill interrupted left its temporary file
    if saved.get("window_geometry"):
        window.restoreGeometry(QByteArray.fromBase64(saved["window_geometry"].encode()))
        if not window.fits_screen():
            window.showNormal()
            window.fit_to_screen()
    net, model_problem = session.load_model()
    if net is not None:
        window.training.start_from(net, session.kept_step)
    for text in (*problems, model_problem):
        if text:
            window.notify("warning", "Backprop Lens: last session", text)


def keep_window(window, ask: bool = True, own=None) -> None:
    """Save ``window``'s settings, data path and size; keep its trained network if the person says so
    (``ask`` False, a close by a signal: the network kept last time stays as it was). ``own``:
    (network, step) to keep instead of the one on show (a lesson's network is not the learner's)."""
    import sys
    from core.snapshot import network_from_snapshot
    session = window.session
    if session is None:
        return
    training = window.training
    try:
        session.save(training.settings, training.data_path, bytes(window.saveGeometry().toBase64()).decode(),
                     bytes(window.saveState().toBase64()).decode())
        snap = window.view.last_good
        net, step = own if own else (network_from_snapshot(snap) if snap is not None else None,
                                     snap.step if snap is not None else 0)
        if net is None or step == 0 or not ask:
            return
        if window.notices.ask_keep_weights():
            hyper = net.config() if own else snap.config   # the run's η, μ, λ and batch with the network
            session.save_model(net, {**hyper, "step": step})
        else:
            session.forget_model()
    except OSError as e:
        print(f"warning: could not save the session: {e}", file=sys.stderr)
