"""Help ▸ Guide: what every panel shows and every key does, built from the window's own actions."""
from __future__ import annotations

import html
import platform

import numpy as np
from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, Qt
from PyQt6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout

SETTINGS_HELP = ("Learning rate η, momentum μ, L2 decay λ, batch size and slow motion apply at once. "
                 "Hidden sizes (\"100\", or \"128 64\" for two layers), the hidden activation, the "
                 "output/cost pair and the seed apply when you press Reset.")


def panel_texts(panels) -> dict:
    """Dock title → help text: the Settings dock's and each panel's own ``help``."""
    return {"Settings": SETTINGS_HELP, **{panel.title: panel.help for panel in panels}}


def guide_html(actions, data_source: str = "", panels=()) -> str:
    """The guide as HTML: ``panels`` (Panel classes or instances) with their help, then the keys of
    ``actions`` (QActions with a shortcut)."""
    rows = []
    for action in actions:
        key = action.shortcut().toString()
        if key:
            text = action.text().replace("&", "").replace("▶ ", "")
            tip = action.toolTip().rsplit(" (", 1)[0]
            if text.lower().startswith(tip.rstrip(".…").lower()):   # Qt's default: the text again
                tip = ""
            rows.append(f"<tr><td><b>{html.escape(key)}</b></td><td>{html.escape(text)}</td>"
                        f"<td>{html.escape(tip)}</td></tr>")
    panels = "".join(f"<dt><b>{html.escape(name)}</b></dt><dd>{html.escape(text)}</dd>"
                     for name, text in panel_texts(panels).items())
    source = f"<p><b>Data:</b> {html.escape(data_source)}</p>" if data_source else ""
    return (f"<h2>Backprop Lens</h2><p>A small network learns handwritten digits; every panel shows "
            f"one part of it. Run, pause, or step one mini-batch at a time, and look inside.</p>"
            f"{source}<h3>Panels</h3><dl>{panels}</dl>"
            f"<h3>Keys</h3><table cellspacing='6'>{''.join(rows)}</table>"
            f"<h3>Versions</h3><p>Python {platform.python_version()}, NumPy {np.__version__}, "
            f"Qt {QT_VERSION_STR}, PyQt {PYQT_VERSION_STR}</p>")


class GuideDialog(QDialog):
    """A non-modal window with the guide; the main window keeps running beside it."""

    def __init__(self, parent, actions, data_source: str = "", panels=()):
        super().__init__(parent)
        self.setWindowTitle("Backprop Lens — guide")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.browser = QTextBrowser()
        self.browser.setHtml(guide_html(actions, data_source, panels))
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        self.resize(640, 720)
