"""The Activations panel: bars hold the probe's activations, the toolbar asks for other probes."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QAbstractButton

from gui import theme
from gui.panels.activations import ActivationsPanel, saturation
from gui.widgets import NEUTRAL
from tests.snapshots import make_snapshot, open_panel

PNG_DIR = Path("/tmp/panels")


@pytest.fixture(scope="module")
def one_hidden():
    return make_snapshot(steps=20)


@pytest.fixture(scope="module")
def two_hidden():
    return make_snapshot(steps=20, sizes=(784, 16, 12, 10), activation="relu")


@pytest.fixture
def panel(qtbot):
    return open_panel(qtbot, ActivationsPanel, unpaced=True)


def with_probe(snapshot, *activations):
    """``snapshot`` with its probe activations replaced (the input image is kept)."""
    return replace(snapshot, probe_a=(snapshot.probe_a[0],) + tuple(np.asarray(a, float) for a in activations))


def button(panel, text) -> QAbstractButton:
    (found,) = [b for b in panel.findChildren(QAbstractButton) if b.text() == text]
    return found


def title(panel, l) -> str:
    return panel.hidden_texts()[l][0]


def test_input_image_is_the_probe(panel, one_hidden):
    panel.show_snapshot(one_hidden)
    np.testing.assert_array_equal(panel.input_image, np.asarray(one_hidden.probe_a[0]).reshape(28, 28))


def test_bar_heights_are_the_probe_activations(panel, two_hidden):
    panel.show_snapshot(two_hidden)
    heights = panel.bar_heights()
    assert len(heights) == 3                                    # two hidden layers and the output
    for l in range(2):
        np.testing.assert_allclose(heights[l], two_hidden.probe_a[l + 1])
    np.testing.assert_allclose(heights[-1], two_hidden.probe_a[-1])


def test_charts_follow_the_architecture(panel, one_hidden, two_hidden):
    panel.show_snapshot(one_hidden)
    assert len(panel.hidden_texts()) == 1 and len(panel.bar_heights()) == 2
    panel.show_snapshot(make_snapshot(steps=2))
    assert len(panel.hidden_texts()) == 1
    panel.show_snapshot(two_hidden)
    assert len(panel.hidden_texts()) == 2 and len(panel.bar_heights()) == 3


def test_prediction_highlighted_and_label_marked(panel, one_hidden):
    out = np.full(10, 0.02)
    out[3] = 0.8
    panel.show_snapshot(replace(with_probe(one_hidden, one_hidden.probe_a[1], out), probe_label=7,
                                probe_index=123))
    colours = panel.output_colours()
    assert colours[3] == theme.ACCENT
    assert all(c != theme.ACCENT for k, c in enumerate(colours) if k != 3)
    assert panel.label_marker == [7]
    texts = panel.output_texts()
    assert texts[3] == "0.80" and texts[0] == "0.02"
    assert panel.probe_text == "Probe: test #123, label 7, predicted 3"
    assert panel.probe_marked_wrong                             # a mistake reads red


def test_probe_label_for_a_right_answer(panel, one_hidden):
    out = np.eye(10)[one_hidden.probe_label] * 0.9
    panel.show_snapshot(with_probe(one_hidden, one_hidden.probe_a[1], out))
    assert panel.probe_text == (f"Probe: test #{one_hidden.probe_index}, "
                                f"label {one_hidden.probe_label}, predicted {one_hidden.probe_label}")
    assert not panel.probe_marked_wrong


@pytest.mark.parametrize("activation, a, count, word", [
    ("sigmoid", [0.01, 0.5, 0.99, 0.03, 0.97], 2, "saturated"),
    ("tanh", [-0.99, 0.0, 0.985, 0.5], 2, "saturated"),
    ("relu", [0.0, 0.0, 0.0, 2.5], 3, "dead"),
])
def test_saturation_counts(activation, a, count, word):
    assert saturation(np.array(a), activation) == (count, word)


def test_saturation_shown_per_hidden_layer(panel, one_hidden):
    hidden = np.array([0.01, 0.99, 0.5, 0.5] * 4)             # 8 of 16 saturated
    panel.show_snapshot(with_probe(one_hidden, hidden, one_hidden.probe_a[-1]))
    assert "50% saturated" in title(panel, 0)
    assert panel.hidden_texts()[0][1].startswith("8 of 16 units saturated")


def test_relu_axis_reaches_the_largest_activation(panel, two_hidden):
    panel.show_snapshot(two_hidden)
    top = float(np.max(two_hidden.probe_a[1]))
    low, high = panel.hidden_ranges()[0]
    assert low == pytest.approx(0.0) and high == pytest.approx(1.05 * top)
    assert "dead" in title(panel, 0)


@pytest.mark.parametrize("text, kind", [("◀", "previous"), ("▶", "next"),
                                        ("Random", "random"), ("Mistake ▶", "mistake")])
def test_buttons_request_a_probe(panel, qtbot, text, kind):
    with qtbot.waitSignal(panel.probe_requested, timeout=1000) as blocker:
        qtbot.mouseClick(button(panel, text), Qt.MouseButton.LeftButton)
    assert blocker.args == [kind]


def test_nan_and_inf_do_not_break_the_bars(panel, one_hidden):
    hidden = np.array(one_hidden.probe_a[1])
    hidden[:3] = [np.nan, np.inf, -np.inf]
    out = np.full(10, np.nan)
    pixels = np.array(one_hidden.probe_a[0])
    pixels[:2] = [np.nan, np.inf]
    snapshot = replace(one_hidden, probe_a=(pixels, hidden, out))
    panel.show_snapshot(snapshot)
    heights = panel.bar_heights()[0]
    assert np.isfinite(heights).all() and heights[0] == 0.0
    assert heights[1] == 1.0                                  # +inf: a bar to the top of the axis
    colours = panel.hidden_colours(0)
    assert colours[0] == colours[1] == colours[2] == NEUTRAL
    np.testing.assert_allclose(heights[3:], hidden[3:])
    assert np.isfinite(panel.bar_heights()[-1]).all()
    assert np.isfinite(panel.input_image).all()
    assert panel.probe_text.endswith("predicted ?")


def test_render_png(panel, qtbot, two_hidden):
    PNG_DIR.mkdir(exist_ok=True)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_snapshot(two_hidden)
    path = PNG_DIR / "activations.png"
    assert panel.grab().save(str(path))
    assert path.stat().st_size > 5000


def test_hidden_panel_draws_when_shown_and_running_redraws_are_paced(qtbot, one_hidden):
    snap = one_hidden
    p = ActivationsPanel()
    qtbot.addWidget(p)
    p.show_snapshot(snap)
    assert p.bar_heights() == []          # not drawn while nobody can see it
    p.show()
    qtbot.waitUntil(lambda: len(p.bar_heights()) == 2, timeout=2000)
    first, second = (np.eye(10)[k] * 0.9 for k in (2, 5))
    qtbot.wait(int(1000 * p.redraw_interval) + 50)   # long enough since the last draw
    p.show_snapshot(replace(with_probe(snap, snap.probe_a[1], first), status="running"))   # drawn at once
    np.testing.assert_allclose(p.bar_heights()[-1], first)
    p.show_snapshot(replace(with_probe(snap, snap.probe_a[1], second), status="running"))
    np.testing.assert_allclose(p.bar_heights()[-1], first)    # within the interval: waits for the pacer
    qtbot.waitUntil(lambda: np.allclose(p.bar_heights()[-1], second), timeout=3000)


def test_output_numbers_blank_where_the_bar_is_zero_and_spell_out_non_finite():
    from gui.panels.activations import output_text
    assert [output_text(v) for v in (0.0, 0.004, 0.005, 0.8, 1.0)] == ["", "", "0.01", "0.80", "1.00"]
    assert [output_text(v) for v in (float("nan"), float("inf"), -float("inf"))] == ["NaN", "+inf", "-inf"]
