"""The Draw panel: strokes become a prepared digit, and its bars are the core's forward pass."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from core.evaluate import network_from_snapshot
from core.network import Network
from core.preprocess import centre_of_mass, drawn_probe, forward_digit, prepare_drawing
from core.trainer import Trainer
from gui import theme
from gui.panels.draw import DrawPanel
from tests.snapshots import make_snapshot, make_snapshots, open_panel

PNG_DIR = Path("/tmp/panels")
SEVEN = [(70, 60), (215, 60), (130, 240)]


@pytest.fixture
def panel(qtbot):
    return open_panel(qtbot, DrawPanel, show=False)


@pytest.fixture(scope="module")
def snap():
    return make_snapshot(steps=10)


def drawn(snap, image):
    """``snap`` as the worker sends it once the drawing is its probe (core.preprocess.drawn_probe)."""
    return replace(snap, **drawn_probe(network_from_snapshot(snap), image))


def bar_heights(panel) -> np.ndarray:
    return panel.bar_heights()


def bar_colours(panel) -> list:
    return panel.bar_colours()


def test_a_stroke_emits_the_prepared_digit(qtbot, panel):
    with qtbot.waitSignal(panel.digit_drawn, timeout=1000) as blocker:
        panel.draw_stroke(SEVEN, 22)
    image = blocker.args[0]
    assert image.shape == (784,) and image.dtype == np.float32
    np.testing.assert_array_equal(image, prepare_drawing(panel.canvas.ink()))
    np.testing.assert_allclose(centre_of_mass(image.reshape(28, 28)), (14, 14), atol=0.5)
    np.testing.assert_array_equal(panel.prepared_image, image.reshape(28, 28))


def test_the_canvas_holds_black_ink_on_white(panel):
    assert not panel.canvas.ink().any()
    panel.draw_stroke([(100, 100), (180, 100)], 20)
    ink = panel.canvas.ink()
    assert ink.shape == (280, 280) and ink[100, 140] == pytest.approx(1.0)
    assert ink[40, 140] == 0 and ink[100, 250] == 0


def test_bars_are_the_cores_forward_output(panel, snap):
    panel.show_snapshot(snap)
    panel.draw_stroke(SEVEN, 22)
    assert panel.output is None                  # the worker has not read the drawing yet
    panel.show_snapshot(drawn(snap, panel.image))
    expected = forward_digit(snap.W, snap.b, snap.config["activation"], snap.config["cost"], panel.image)[-1]
    np.testing.assert_allclose(panel.output, expected, rtol=1e-6)
    np.testing.assert_allclose(bar_heights(panel), expected, rtol=1e-6)
    top = int(np.argmax(expected))
    colours = bar_colours(panel)
    assert colours[top] == theme.ACCENT and colours.count(theme.ACCENT) == 1
    assert f"It reads: {top}" in panel.answer_text
    assert panel.value_texts()[top] == f"{100 * expected[top]:.0f}%"


def test_a_new_snapshot_reads_the_same_drawing_again(panel):
    first, _, last = make_snapshots(3, steps_between=5)
    panel.draw_stroke(SEVEN, 22)
    panel.show_snapshot(drawn(first, panel.image))
    before = panel.output.copy()
    panel.show_snapshot(drawn(last, panel.image))
    expected = network_from_snapshot(last).forward(panel.image[None]).output[0]
    np.testing.assert_allclose(panel.output, expected, rtol=1e-6)
    assert not np.allclose(before, panel.output)


def test_no_network_yet_or_no_drawing_shows_no_bars(qtbot, panel, snap):
    panel.draw_stroke(SEVEN, 22)
    assert panel.output is None and not bar_heights(panel).any()
    panel.show_snapshot(snap)
    with qtbot.waitSignal(panel.cleared, timeout=1000):
        panel.clear_button.click()
    assert panel.output is None and not bar_heights(panel).any() and not panel.image.any()
    assert "Draw a digit" in panel.answer_text


def test_the_pen_slider_sets_the_stroke_width(panel):
    panel.pen_slider.setValue(40)
    assert panel.canvas.pen_size == 40 and panel.pen_label.text() == "40 px"
    panel.draw_stroke([(140, 140)])                          # a dot of the pen's size
    ink = panel.canvas.ink()
    assert 30 <= np.count_nonzero(ink[140] > 0.5) <= 42


def test_the_mouse_draws(qtbot, panel):
    panel.show()
    qtbot.waitExposed(panel)
    canvas = panel.canvas

    def at(x, y):   # paper pixels to the widget position the pointer must be at
        return canvas.to_widget(x, y).toPoint()

    with qtbot.waitSignal(panel.digit_drawn, timeout=1000):
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(60, 140))
    for x in range(70, 230, 10):
        qtbot.mouseMove(canvas, at(x, 140))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(220, 140))
    ink = canvas.ink()
    assert ink[140, 60:221].min() > 0.9                      # one unbroken line
    assert ink[140 + 30, :].max() == 0                       # nothing far from it


def test_an_answer_for_an_older_stroke_is_kept_until_the_new_one_is_read(panel, snap):
    panel.draw_stroke(SEVEN, 22)
    panel.show_snapshot(drawn(snap, panel.image))
    before = panel.output.copy()
    old = panel.image.copy()
    panel.draw_stroke([(60, 150), (220, 150)], 22)       # a cross bar: a new drawing
    panel.show_snapshot(drawn(snap, old))                 # the worker still answers the old one
    np.testing.assert_array_equal(panel.output, before)
    panel.show_snapshot(drawn(snap, panel.image))
    assert not np.allclose(panel.output, before)


def test_quadratic_outputs_are_shown_as_values(panel):
    panel.draw_stroke(SEVEN, 22)
    panel.show_snapshot(drawn(make_snapshot(steps=5, cost="quadratic"), panel.image))
    top = int(np.argmax(panel.output))
    assert panel.value_texts()[top] == f"{panel.output[top]:.2f}"
    assert "sigmoid" in panel.output_title


@pytest.fixture(scope="module")
def trained_snapshot(request):
    """784-32-10 after one epoch of MNIST, or of synthetic digits when MNIST is absent."""
    try:
        mnist = request.getfixturevalue("mnist")
        trainer = Trainer(Network((784, 32, 10), seed=0), mnist.train, mnist.test, lr=0.1, momentum=0.9)
    except pytest.skip.Exception:
        from tests.snapshots import make_trainer
        trainer = make_trainer((784, 32, 10))
    trainer.train_epoch()
    return trainer.snapshot("paused")


def test_render_png(qtbot, panel, trained_snapshot):
    panel.show()
    panel.draw_stroke(SEVEN, 22)
    panel.show_snapshot(drawn(trained_snapshot, panel.image))
    qtbot.waitExposed(panel)
    qtbot.wait(50)
    PNG_DIR.mkdir(exist_ok=True)
    assert panel.grab().save(str(PNG_DIR / "draw.png"))
