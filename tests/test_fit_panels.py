"""Issue 12 (fit and finish) for the Evaluate, Compare, Timeline, Gradients, Draw, Activations and Cost
panels: the confusion matrix's geometry and clicks, a drawn digit's label, legends, axes and wording,
and small minimum sizes. Each test reads what a person would see (texts, items, geometry)."""
import dataclasses

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QFont, QFontMetrics

from core.evaluate import Evaluation
from gui.panels.evaluate import ConfusionMatrixView, EvaluatePanel, count_text
from tests.snapshots import open_panel, synthetic_digits

SMALL = (300, 220)    # the smallest dock a panel must draw sensibly in


def big_evaluation(scale=1):
    """An evaluation of 10,000 × ``scale`` digits, with four-digit counts on the diagonal."""
    rng = np.random.default_rng(0)
    cm = rng.integers(0, 60, (10, 10)) * scale
    np.fill_diagonal(cm, rng.integers(880, 1135, 10) * scale)
    return Evaluation(cm=cm, accuracy=float(np.trace(cm) / cm.sum()),
                      per_class=np.diag(cm) / cm.sum(axis=1), mistakes=[], predicted=np.zeros(0, int))


# --- item 5: the confusion matrix -----------------------------------------------------------------
@pytest.mark.parametrize("size", [SMALL, (520, 400), (900, 600)])
def test_a_click_selects_exactly_the_cell_under_the_pointer(qtbot, size):
    panel = open_panel(qtbot, EvaluatePanel, size=size)
    panel.show_evaluation(big_evaluation(), synthetic_digits(10).images)
    qtbot.waitExposed(panel)
    clicked = []
    panel.matrix.cell_clicked.connect(lambda r, c: clicked.append((r, c)))
    for r in range(10):
        for c in range(10):
            rect = panel.matrix.cell_rect(r, c)
            qtbot.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
            assert clicked[-1] == (r, c), f"clicked in ({r}, {c}) at {size}, got {clicked[-1]}"
            assert panel.selected == (r, c)
            # every pixel of the cell, to its edges, is that cell (the same geometry maps the clicks)
            for fx, fy in ((0.02, 0.02), (0.98, 0.02), (0.02, 0.98), (0.98, 0.98)):
                point = rect.topLeft() + QPointF(fx * rect.width(), fy * rect.height())
                assert panel.matrix.cell_at(point) == (r, c)
    where = panel.matrix.cell_rect(5, 3).center().toPoint()
    qtbot.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=where)
    assert panel.selected == (5, 3) and panel.matrix.selected == (5, 3)
    assert "True 5 predicted as 3" in panel.gallery_label.text()


def test_a_click_outside_the_cells_selects_nothing(qtbot):
    panel = open_panel(qtbot, EvaluatePanel)
    panel.show_evaluation(big_evaluation(), synthetic_digits(10).images)
    qtbot.waitExposed(panel)
    clicked = []
    panel.matrix.cell_clicked.connect(lambda r, c: clicked.append((r, c)))
    left = panel.matrix.cell_rect(4, 0)
    qtbot.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=(left.center() - left.topRight() + left.topLeft()).toPoint())
    assert clicked == [] and panel.selected is None


@pytest.mark.parametrize("size", [SMALL, (520, 400), (900, 600)])
def test_the_whole_matrix_and_its_labels_fit_with_square_cells(qtbot, size):
    panel = open_panel(qtbot, EvaluatePanel, size=size)
    panel.show_evaluation(big_evaluation(), synthetic_digits(10).images)
    qtbot.waitExposed(panel)
    assert panel.size().width() == size[0] and panel.size().height() == size[1]
    matrix = panel.matrix
    inside = QRectF(matrix.rect())
    cells = [matrix.cell_rect(r, c) for r in range(10) for c in range(10)]
    assert all(inside.contains(rect) for rect in cells)
    assert all(rect.width() == rect.height() >= 9 for rect in cells)
    first, last = matrix.cell_rect(0, 0), matrix.cell_rect(9, 9)
    # room left of the cells for the row labels and the title, below them for the column labels
    assert first.left() >= 20 and inside.bottom() - last.bottom() >= 20
    assert matrix.visibleRegion().boundingRect().contains(matrix.rect())   # not clipped by the panel


def test_counts_fit_their_cells_in_a_smaller_font_or_shortened(qtbot):
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.set_matrix(big_evaluation(scale=10).cm)       # five-digit counts
    for width in (180, 300, 420, 700):
        view.resize(width, width)
        view.grab()
        side = view.cell_rect(0, 0).width()
        texts = view.count_texts()
        for (r, c), (text, px) in texts.items():
            font = QFont(view.font())
            font.setPixelSize(px)
            assert QFontMetrics(font).horizontalAdvance(text) <= side - 3, (text, px, side)
            assert text in (str(view.counts[r, c]), count_text(view.counts[r, c]))
        if side >= 30:
            assert len(texts) == np.count_nonzero(view.counts)   # large enough: every count shows
    assert count_text(957) == "957" and count_text(1090) == "1.1k" and count_text(12300) == "12k"


def test_every_row_and_column_is_labelled(qtbot):
    """The labels are drawn from the same geometry: ten of each, one per cell, in order."""
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.resize(300, 260)
    rows = [view.cell_rect(r, 0).center().y() for r in range(10)]
    cols = [view.cell_rect(0, c).center().x() for c in range(10)]
    assert rows == sorted(rows) and cols == sorted(cols)
    assert len(set(rows)) == len(set(cols)) == 10
    image = view.grab().toImage()
    # a label's ink left of every row and below every column
    left = view.cell_rect(0, 0).left()
    below = view.cell_rect(9, 0).bottom()
    for y in rows:
        assert any(image.pixelColor(x, int(y)).value() < 140 for x in range(0, int(left) - 1))
    for x in cols:
        assert any(image.pixelColor(int(x) + dx, y).value() < 140
                   for y in range(int(below) + 1, int(below) + 16) for dx in (-2, -1, 0, 1, 2))


# --- item 7: a drawn digit's label ----------------------------------------------------------------
@pytest.fixture(scope="module")
def snap():
    from tests.snapshots import make_snapshot
    return make_snapshot(steps=10)


def drawn_snapshot(snap, answer: int, label=None):
    """``snap`` as the worker sends it for a drawing the network reads as ``answer``: its probe
    label is the network's own answer unless the person said ``label``."""
    out = np.full(10, 0.01)
    out[answer] = 0.9
    probe_a = (snap.probe_a[0], *snap.probe_a[1:-1], out)
    return dataclasses.replace(snap, probe_a=probe_a, probe_index=-1,
                               probe_label=answer if label is None else label,
                               probe_label_known=label is not None)


def test_activations_say_your_drawing_and_label_unknown(qtbot, snap):
    from gui.panels.activations import ActivationsPanel
    panel = open_panel(qtbot, ActivationsPanel, unpaced=True)
    panel.show_snapshot(drawn_snapshot(snap, answer=3))
    assert panel.probe_text == "Probe: your drawing, label ?, predicted 3"
    assert "#-1" not in panel.probe_text and "test #" not in panel.probe_text
    assert not panel.probe_marked_wrong and panel.label_marker == []   # no ▼: nobody said
    panel.show_snapshot(drawn_snapshot(snap, answer=3, label=5))
    assert panel.probe_text == "Probe: your drawing, label 5 (yours), predicted 3"
    assert panel.probe_marked_wrong and panel.label_marker == [5]
    panel.show_snapshot(drawn_snapshot(snap, answer=3, label=3))
    assert not panel.probe_marked_wrong and panel.label_marker == [3]
    panel.show_snapshot(dataclasses.replace(drawn_snapshot(snap, answer=3, label=4), probe_index=12))
    assert panel.probe_text == "Probe: test #12, label 4, predicted 3" and panel.probe_marked_wrong


class Requests:
    """A stand-in for gui.training.Training that keeps what the panel asked for."""

    def __init__(self):
        self.sent = []

    def request(self, *requests):
        self.sent.extend(requests)


def test_draw_panel_sends_the_digit_meant_and_judges_only_then(qtbot, snap):
    from core.control import DrawProbe
    from core.evaluate import network_from_snapshot
    from core.preprocess import drawn_probe
    from gui.panels.draw import DrawPanel
    from gui.view_state import ViewState
    panel = open_panel(qtbot, DrawPanel, size=SMALL)
    training = Requests()
    panel.attach(ViewState(), training)
    assert panel.meant is None and [panel.meant_box.itemText(i) for i in range(11)] == ["?", *"0123456789"]
    panel.draw_stroke([(140, 40), (140, 240)], 22)
    assert np.array_equal(training.sent[-1].image, panel.image) and training.sent[-1].label is None
    worker = dict(drawn_probe(network_from_snapshot(snap), panel.image), probe_label_known=False)
    panel.show_snapshot(dataclasses.replace(snap, **worker))
    answer = int(np.argmax(panel.output))
    assert panel.answer_text.startswith(f"It reads: {answer}") and "right" not in panel.answer_text \
        and "meant" not in panel.answer_text
    wrong = (answer + 1) % 10
    with qtbot.waitSignal(panel.label_chosen) as blocker:
        panel.choose_label(wrong)
    assert blocker.args == [wrong]
    sent = training.sent[-1]
    assert isinstance(sent, DrawProbe) and sent.label == wrong and np.array_equal(sent.image, panel.image)
    assert f"✗ you meant {wrong}" in panel.answer_text
    panel.draw_stroke([(150, 40), (150, 240)], 22)          # another stroke keeps the digit meant
    assert training.sent[-1].label == wrong
    panel.choose_label(answer)
    assert "✓ right" in panel.answer_text
    panel.clear()                                            # a wiped paper forgets it
    assert panel.meant is None and training.sent[-1] == DrawProbe(None)


def test_window_a_chosen_label_reaches_the_worker(qtbot):
    from tests.test_window import small_data
    from gui.main_window import MainWindow
    w = MainWindow({"hidden": [16], "batch_size": 10}, data=small_data())
    qtbot.addWidget(w)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
        draw = w.panels["Draw"]
        draw.bring_forward()
        draw.draw_stroke([(140, 40), (140, 240)], 22)
        qtbot.waitUntil(lambda: w.worker.trainer.drawn is not None, timeout=5000)
        assert w.worker.trainer.drawn[1] is None
        qtbot.waitUntil(lambda: w.last_snapshot.probe_index == -1, timeout=5000)
        assert not w.last_snapshot.probe_label_known
        draw.choose_label(7)
        qtbot.waitUntil(lambda: w.worker.trainer.drawn[1] == 7, timeout=5000)
        qtbot.waitUntil(lambda: w.last_snapshot.probe_label_known and w.last_snapshot.probe_label == 7,
                        timeout=5000)
        np.testing.assert_array_equal(w.worker.trainer.drawn[0], draw.image)
    finally:
        w.close()


# --- item 13: Gradients legend and update-ratio numbers -------------------------------------------
@pytest.fixture(scope="module")
def three_layers():
    from tests.snapshots import make_snapshots
    return make_snapshots(count=4, steps_between=5, sizes=(784, 100, 30, 10))


@pytest.mark.parametrize("size", [SMALL, (520, 400), (900, 600)])
def test_gradients_legend_is_whole_and_ratio_numbers_never_overlap(qtbot, three_layers, size):
    from gui.panels.gradients import GradientsPanel
    panel = open_panel(qtbot, GradientsPanel, size=size, unpaced=True)
    for s in three_layers:
        panel.show_snapshot(s)
    qtbot.wait(50)
    assert panel.size().width() == size[0] and panel.size().height() == size[1]
    full, shown = panel.legend_text
    assert "…" not in shown and shown == full                   # never cut ("1 100)")
    assert all(name in full for name, _ in panel.shown_legend()) or full.startswith("layer ━━ 1")
    if size[0] >= 520:
        assert "layer 2 (100→30)" in shown                       # room for the names
    rects, typical = panel.ratio_label_rects()
    for k, a in enumerate(rects):
        assert not a.intersects(typical)
        assert not any(a.intersects(b) for b in rects[k + 1:])
    if size == (900, 600):
        assert len(rects) == 3                                   # room for every number


# --- item 13: Compare's accuracy axis and wording ------------------------------------------------
def test_compare_accuracy_axis_stays_within_100_percent_and_one_step_is_singular(qtbot):
    from core.snapshot import EpochRecord
    from gui.panels.compare import ComparePanel, steps_text
    from tests.snapshots import make_snapshot
    panel = open_panel(qtbot, ComparePanel, size=(900, 600))
    first = make_snapshot(steps=1)
    one = dataclasses.replace(first, cost_steps=np.array([1.0]), cost_values=np.array([2.3]),
                              accuracy_values=np.array([0.1]),
                              epochs=(EpochRecord(1, 1, 2.3, 0.5, 0.93),))   # one accuracy point
    panel.show_snapshot(one)
    qtbot.wait(20)
    low, high = panel.accuracy_range
    assert 0 <= low < 93 < high <= 100
    assert "steps)" not in panel.titles[0] and "(1 steps" not in panel.titles[0]
    assert steps_text(1) == "1 step" and steps_text(10) == "10 steps"
    assert panel.legend_texts()[0] == ["A: main run"]
    assert all(sample is not None for sample in panel.legend_samples()[0])


def test_compare_names_the_runs_in_the_titles_when_too_small_for_legends(qtbot):
    from gui.panels.compare import ComparePanel
    from tests.snapshots import make_snapshots
    panel = open_panel(qtbot, ComparePanel, size=SMALL)
    for s in make_snapshots(count=2):
        panel.show_snapshot(s)
    qtbot.wait(20)
    assert panel.size().width() == SMALL[0] and panel.size().height() == SMALL[1]
    assert "A: main run" in panel.titles[0]                   # the legends are hidden: the titles say it
    panel.resize(900, 600)
    qtbot.wait(20)
    assert panel.titles[0].startswith("training cost")


# --- item 13: Timeline axes and legend ------------------------------------------------------------
@pytest.mark.parametrize("size", [SMALL, (900, 600)])
def test_timeline_axes_are_plain_and_every_legend_entry_has_a_swatch(qtbot, size):
    from gui.panels.timeline import TimelinePanel
    from tests.snapshots import make_snapshots
    panel = open_panel(qtbot, TimelinePanel, size=size)
    stream = make_snapshots(count=3, steps_between=4)
    far = [dataclasses.replace(s, step=2_000_000 + 5000 * k) for k, s in enumerate(stream)]   # big steps
    for s in far:
        panel.show_snapshot(s)
    panel.draw_if_dirty()
    qtbot.wait(30)
    titles = panel.axis_titles()
    for side, text in titles.items():
        assert "(x" not in text and "×" not in text, f"{side} axis scaled: {text!r}"
    assert panel.plot.getAxis("bottom").autoSIPrefixScale == 1.0
    if size == (900, 600):
        assert "test accuracy (%)" in titles["left"] and "step" in titles["bottom"]
    entries = panel.legend_entries()
    assert len(entries) == 4
    rects = []
    for sample, words in entries:
        assert sample is not None and sample.isVisible() and words
        rect = sample.sceneBoundingRect()
        assert rect.width() > 5 and rect.height() > 5, words
        rects.append(rect.adjusted(1, 1, -1, -1))
    for k, a in enumerate(rects):                 # the swatches are side by side, not on top of each other
        assert not any(a.intersects(b) for b in rects[k + 1:])
    legend = entries[0][0].parentItem().sceneBoundingRect()
    assert panel.plot.getViewBox().sceneBoundingRect().contains(legend)   # the legend is whole


# --- item 4: small minimum sizes ------------------------------------------------------------------
def all_panel_classes():
    from gui.panels.activations import ActivationsPanel
    from gui.panels.compare import ComparePanel
    from gui.panels.curves import CurvesPanel
    from gui.panels.draw import DrawPanel
    from gui.panels.gradients import GradientsPanel
    from gui.panels.timeline import TimelinePanel
    return (EvaluatePanel, ComparePanel, TimelinePanel, GradientsPanel, DrawPanel, ActivationsPanel,
            CurvesPanel)


@pytest.mark.parametrize("cls", all_panel_classes(), ids=lambda c: c.__name__)
def test_every_panel_fits_a_300_by_220_dock_and_long_words_do_not_widen_it(qtbot, cls):
    from tests.snapshots import make_snapshots
    panel = open_panel(qtbot, cls, size=(900, 600))
    if panel._pacer is not None:
        panel.redraw_interval = 0
    for s in make_snapshots(count=2, sizes=(784, 100, 30, 10)):
        # a long message and a long-named run: texts set per frame must not ask for width
        panel.show_snapshot(dataclasses.replace(s, message="x" * 400))
    if cls is EvaluatePanel:
        panel.show_evaluation(big_evaluation(), synthetic_digits(10).images, note="n" * 300, step=5)
    panel.draw_if_dirty()
    qtbot.wait(20)
    hint = panel.minimumSizeHint()
    assert hint.width() <= SMALL[0] and hint.height() <= SMALL[1], f"{cls.__name__} needs {hint}"
    panel.resize(*SMALL)
    qtbot.wait(20)
    assert (panel.width(), panel.height()) == SMALL
