"""Icons and other files from ``assets/``: beside the code in a clone or an editable install, under
``<prefix>/share/backprop-lens`` after a plain install (pyproject's data-files put them there)."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from PyQt6.QtGui import QIcon

PLACES = (Path(__file__).resolve().parent.parent / "assets", Path(sys.prefix) / "share" / "backprop-lens")


def asset(name: str) -> Path:
    """The path of ``name`` (like "icons/run.svg") in the first place that has it (else the first place)."""
    return next((place / name for place in PLACES if (place / name).is_file()), PLACES[0] / name)


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The toolbar icon ``name`` (an SVG in assets/icons, drawn crisp at any scale); a null icon if missing."""
    path = asset(f"icons/{name}.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()


def app_icon() -> QIcon:
    path = asset("backprop-lens.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()
