"""Help ▸ Guide: what every panel shows and every key does, built from the window's own actions."""
from __future__ import annotations

import html
import platform

import numpy as np
from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, Qt
from PyQt6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout

# One entry per panel (the dock's title; "Network" is the window's centre). A test checks that every
# dock has one, so a new panel cannot arrive unexplained.
PANELS = {
    "Network": "The probe digit's 784 pixels on the left, the hidden neurons coloured by their "
               "activation, the 10 outputs with their values; lines are the strongest weights, blue "
               "positive and red negative. Click a hidden node to inspect that neuron.",
    "Settings": "Learning rate η, momentum μ, L2 decay λ, batch size and slow motion apply at once. "
                "Hidden sizes (\"100\", or \"128 64\" for two layers), the hidden activation, the "
                "output/cost pair and the seed apply when you press Reset.",
    "Weights": "Every hidden neuron's 784 incoming weights as a 28×28 tile (blue negative, red "
               "positive, white zero); deeper layers as heat maps, one row per neuron. Hover for "
               "numbers, click to inspect a neuron.",
    "Neuron": "One neuron up close: its weights enlarged, its bias, the gradient ∂C/∂W of its "
              "weights as an image, and its activation on the probe digit.",
    "Backprop": "The chain rule for one neuron and one digit, with the live numbers: z and a going "
                "forward, ∂C0/∂a, σ′(z), δ, ∂C0/∂b and ∂C0/∂w, then the mini-batch average and the "
                "update Δw = −η ∂C/∂w the next step will apply.",
    "Cost": "Training cost per mini-batch (raw and smoothed) and batch accuracy; the whole test "
            "set's cost and accuracy at every epoch (dots) and measured while training runs (line). "
            "x in steps or epochs; log scale.",
    "Compare": "Change one setting and start a second run from the same seed beside the first; both "
               "runs' cost and test accuracy are overlaid.",
    "Gradients": "The gradient norm of every layer over time, this step's gradient size per neuron, "
                 "the update-to-weight ratio per layer (about 1e-3 is typical) and how many units are "
                 "saturated or dead.",
    "Timeline": "Scrub back through saved weights: the panels show the network as it was, with its "
                "test accuracy, while training goes on. Live returns to now.",
    "Activations": "Every layer's activations for the probe digit. Previous, Next, Random and Next "
                   "mistake pick another probe from the test set.",
    "Draw": "Draw a digit with the mouse: it is prepared the way MNIST digits were (cropped, scaled "
            "to 20 px, centred by mass) and the network's answer updates as you draw.",
    "Evaluate": "The confusion matrix of the whole test set (click a cell for its digits), the "
                "accuracy per digit, and a gallery of mistakes with the top three answers.",
}


def guide_html(actions, data_source: str = "") -> str:
    """The guide as HTML: panels, then the keys of ``actions`` (QActions with a shortcut)."""
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
                     for name, text in PANELS.items())
    source = f"<p><b>Data:</b> {html.escape(data_source)}</p>" if data_source else ""
    return (f"<h2>Backprop Lens</h2><p>A small network learns handwritten digits; every panel shows "
            f"one part of it. Run, pause, or step one mini-batch at a time, and look inside.</p>"
            f"{source}<h3>Panels</h3><dl>{panels}</dl>"
            f"<h3>Keys</h3><table cellspacing='6'>{''.join(rows)}</table>"
            f"<h3>Versions</h3><p>Python {platform.python_version()}, NumPy {np.__version__}, "
            f"Qt {QT_VERSION_STR}, PyQt {PYQT_VERSION_STR}</p>")


class GuideDialog(QDialog):
    """A non-modal window with the guide; the main window keeps running beside it."""

    def __init__(self, parent, actions, data_source: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Backprop Lens — guide")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.browser = QTextBrowser()
        self.browser.setHtml(guide_html(actions, data_source))
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        self.resize(640, 720)
