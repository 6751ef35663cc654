"""What survives a restart: settings, window layout, data source, and (if the user agrees) the weights."""
from __future__ import annotations

import json
from pathlib import Path

import platformdirs

from core.atomic import atomic_write
from core.checkpoint import CheckpointError, load_model, save_model

SETTING_KEYS = ("hidden", "activation", "cost", "seed", "lr", "momentum", "l2", "batch_size", "delay_ms")


class Session:
    """Files in the user's config folder (or ``folder``): settings.json and session-model.npz."""

    def __init__(self, folder=None):
        self.folder = Path(folder or platformdirs.user_config_dir("backprop-lens"))
        self.settings_path = self.folder / "settings.json"
        self.model_path = self.folder / "session-model.npz"

    def load(self) -> tuple:
        """(saved state dict, problem text or ""); a broken file gives an empty state and says so."""
        if not self.settings_path.exists():
            return {}, ""
        try:
            state = json.loads(self.settings_path.read_text())
            if not isinstance(state, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as e:
            return {}, f"the saved settings in {self.settings_path} could not be read ({e}); using defaults"
        settings = {k: v for k, v in state.get("settings", {}).items() if k in SETTING_KEYS}
        return {**state, "settings": settings}, ""

    def save(self, settings: dict, data_path=None, window_geometry="", window_state=""):
        """Write the state atomically, so a crash mid-write keeps the previous file."""
        state = {"settings": {k: settings[k] for k in SETTING_KEYS if k in settings},
                 "data_path": data_path, "window_geometry": window_geometry, "window_state": window_state}
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.settings_path, "w") as f:
            json.dump(state, f, indent=1)

    def save_model(self, net, hyper: dict):
        self.folder.mkdir(parents=True, exist_ok=True)
        save_model(self.model_path, net, hyper)

    def forget_model(self):
        self.model_path.unlink(missing_ok=True)

    def load_model(self) -> tuple:
        """(Network or None, problem text or "")."""
        if not self.model_path.exists():
            return None, ""
        try:
            return load_model(self.model_path)[0], ""
        except CheckpointError as e:
            return None, f"the network kept from last time could not be loaded: {e}"
