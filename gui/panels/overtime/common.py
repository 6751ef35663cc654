"""What the Over time panels share: digit colours, a one-line explanation, a small digit picture."""
from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage, QPixmap
from PyQt6.QtWidgets import QComboBox, QLabel

from gui.fit_text import ElidedLabel

# Ten well-separated colours (Tableau's 10, as matplotlib's "tab10"): one per digit label
DIGIT_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                 (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))
WORKSPACE = "Over time"


def explanation(text: str) -> ElidedLabel:
    """The panel's one-line explanation under its title (elided in a narrow dock, whole in the tooltip)."""
    label = ElidedLabel(text)
    label.setStyleSheet("color: #555;")
    label.setToolTip(text)
    return label


def digit_legend() -> QLabel:
    """'0 1 2 … 9' each in its colour: the key to a picture coloured by label."""
    spans = " ".join(f'<span style="color: rgb{c}; font-weight: bold;">{d}</span>'
                     for d, c in enumerate(DIGIT_COLOURS))
    label = QLabel(f"digit: {spans}")
    label.setTextFormat(Qt.TextFormat.RichText)
    return label


def digit_pixmap(image, scale: int = 3) -> QPixmap:
    """A (784,) image in 0–1 as a black-on-white 28×28 picture ``scale`` times larger."""
    pixels = np.ascontiguousarray((255 - np.clip(np.asarray(image, np.float64), 0, 1) * 255).astype(np.uint8)
                                  .reshape(28, 28))
    qimage = QImage(pixels.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(28 * scale, 28 * scale)


def layer_choice(tooltip: str) -> QComboBox:
    box = QComboBox()
    box.setToolTip(tooltip)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return box


def fill_layers(box: QComboBox, names: list) -> None:
    """Put ``names`` in ``box``, keeping the chosen index when it still exists (no signal)."""
    if [box.itemText(i) for i in range(box.count())] == names:
        return
    keep = box.currentIndex()
    box.blockSignals(True)
    box.clear()
    box.addItems(names)
    box.setCurrentIndex(keep if 0 <= keep < len(names) else 0)
    box.blockSignals(False)
