"""Confusion matrix, per-class accuracy and mistakes agree with each other and with Network.evaluate;
the Evaluate panel draws them and filters its gallery by the clicked cell."""
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt

from core.evaluate import (Evaluation, confusion_matrix, evaluate, misclassified, network_from_snapshot,
                           per_class_accuracy, top_outputs)
from core.network import Network
from core.trainer import Trainer
from gui.jobs import EvaluationRunner
from gui.panels.evaluate import EvaluatePanel, cell_colours, mistake_title
from tests.snapshots import make_trainer, open_panel, synthetic_digits

PNG_DIR = Path("/tmp/panels")


# --- the core ---------------------------------------------------------------------------------
def test_confusion_matrix_counts_rows_true_columns_predicted():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], n=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert cm.dtype.kind == "i"


def test_per_class_accuracy_is_the_diagonal_over_the_row():
    acc = per_class_accuracy([[3, 1, 0], [0, 0, 0], [1, 1, 2]])
    np.testing.assert_allclose(acc[[0, 2]], [0.75, 0.5])
    assert np.isnan(acc[1])                                  # a digit absent from the data


def test_top_outputs_ranks_like_argmax():
    assert top_outputs([0.1, 0.6, 0.3]) == [(1, 0.6), (2, 0.3), (0, 0.1)]
    assert top_outputs([0.5, 0.5, 0.0], top=2)[0][0] == 0   # ties: the first, as np.argmax
    assert top_outputs([0.1, np.nan, 0.9])[0][0] == 1       # NaN first, as np.argmax


def test_misclassified_lists_every_wrong_answer_with_its_top_three():
    out = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    mistakes = misclassified(out, [0, 0, 2, 1])
    assert [(i, y, top[0][0]) for i, y, top in mistakes] == [(1, 0, 1), (3, 1, 2)]
    assert mistakes[0][2] == [(1, 0.6), (0, 0.3), (2, 0.1)]


@pytest.fixture(scope="module")
def trained():
    """A small network trained a little on synthetic digits, so that it is right and wrong."""
    trainer = make_trainer((784, 16, 10))
    for _ in range(6):
        trainer.step()
    return trainer


def test_evaluation_agrees_with_network_evaluate(trained):
    test = trained.test
    ev = evaluate(trained.net, test)
    assert ev.cm.sum() == len(test.labels) == ev.n
    assert ev.accuracy == np.trace(ev.cm) / len(test.labels)
    assert ev.accuracy == pytest.approx(trained.net.evaluate(test.images, test.labels)[1], abs=1e-12)
    assert 0 < ev.accuracy < 1                               # there are mistakes to look at
    np.testing.assert_array_equal(ev.predicted, trained.net.predict(test.images))
    np.testing.assert_allclose(ev.per_class, np.diag(ev.cm) / ev.cm.sum(axis=1))


def test_mistakes_are_consistent_with_the_confusion_matrix(trained):
    ev = evaluate(trained.net, trained.test)
    assert len(ev.mistakes) == ev.cm.sum() - np.trace(ev.cm)
    counted = np.zeros_like(ev.cm)
    for index, label, top in ev.mistakes:
        assert label == trained.test.labels[index] != top[0][0] == ev.predicted[index]
        assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
        counted[label, top[0][0]] += 1
    np.testing.assert_array_equal(counted, ev.cm - np.diag(np.diag(ev.cm)))
    for true, predicted in zip(*np.nonzero(counted)):
        assert len(ev.mistakes_for(true, predicted)) == ev.cm[true, predicted]


def test_evaluation_is_frozen(trained):
    ev = evaluate(trained.net, trained.test)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.accuracy = 1.0
    assert not ev.cm.flags.writeable and not ev.per_class.flags.writeable


def test_snapshot_network_evaluates_like_the_trainers(trained):
    snap = trained.snapshot("paused")
    a, b = evaluate(network_from_snapshot(snap), trained.test), evaluate(trained.net, trained.test)
    np.testing.assert_array_equal(a.cm, b.cm)


def test_real_mnist_confusion_matrix(mnist):
    trainer = Trainer(Network((784, 32, 10), seed=0), mnist.train, mnist.test, lr=0.1, momentum=0.9)
    for _ in range(300):
        trainer.step()
    ev = evaluate(trainer.net, mnist.test)
    assert ev.cm.sum() == 10000
    assert ev.accuracy == pytest.approx(trainer.net.evaluate(mnist.test.images, mnist.test.labels)[1])
    assert ev.accuracy > 0.85
    assert len(ev.mistakes) == 10000 - np.trace(ev.cm)


# --- the panel --------------------------------------------------------------------------------
@pytest.fixture
def panel(qtbot):
    return open_panel(qtbot, EvaluatePanel, show=False)


@pytest.fixture(scope="module")
def weak():
    """An evaluation with many mistakes spread over many cells (a barely trained network)."""
    data = synthetic_digits(400, seed=3)
    trainer = make_trainer((784, 16, 10))
    trainer.step()
    return evaluate(trainer.net, data), data


def test_mistake_title_reads_true_arrow_predicted():
    assert mistake_title(7, [(2, 0.61), (7, 0.30), (1, 0.04)]) == "7→2 (2: 61%, 7: 30%, 1: 4%)"


def test_panel_draws_counts_colours_and_accuracy(panel, weak):
    ev, data = weak
    panel.show_evaluation(ev, data.images)
    panel.grab()                                             # paints the matrix
    np.testing.assert_array_equal(panel.matrix.colours, cell_colours(ev.cm))
    np.testing.assert_array_equal(panel.matrix.counts, ev.cm)
    texts = panel.matrix.count_texts()
    assert {cell: text for cell, (text, _) in texts.items()} == {
        (r, c): str(n) for (r, c), n in np.ndenumerate(ev.cm) if n}   # 900×600: every count, whole
    np.testing.assert_allclose(panel.matrix.accuracy, ev.per_class)
    assert f"{100 * ev.accuracy:.2f}%" in panel.status_label.text()


def test_gallery_shows_the_first_mistakes(panel, weak):
    ev, data = weak
    panel.show_evaluation(ev, data.images)
    shown = [c for c in panel.cells if not c.isHidden()]
    assert len(shown) == min(40, len(ev.mistakes)) == len(panel.shown)
    assert panel.shown == ev.mistakes[:len(shown)]
    index, label, top = ev.mistakes[0]
    assert shown[0].title == mistake_title(label, top)
    assert shown[0].picture.pixmap().width() == 56


def click_cell(qtbot, panel, true, predicted):
    """A real left click in the middle of the confusion matrix cell (true, predicted)."""
    where = panel.matrix.cell_rect(true, predicted).center().toPoint()
    qtbot.mouseMove(panel.matrix, where)
    qtbot.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=where)


def test_clicking_a_cell_filters_the_gallery(qtbot, panel, weak):
    ev, data = weak
    panel.show()
    panel.show_evaluation(ev, data.images)
    qtbot.waitExposed(panel)
    qtbot.wait(50)  # let the layout settle before mapping cells to the screen
    off = ev.cm - np.diag(np.diag(ev.cm))
    true, predicted = np.unravel_index(np.argmax(off), off.shape)
    click_cell(qtbot, panel, true, predicted)
    assert panel.selected == (true, predicted)
    assert len(panel.shown) == min(40, ev.cm[true, predicted])
    assert all(label == true and top[0][0] == predicted for _, label, top in panel.shown)
    assert f"True {true} predicted as {predicted}" in panel.gallery_label.text()
    click_cell(qtbot, panel, true, predicted)                # the same cell again: everything
    assert panel.selected is None and panel.shown == ev.mistakes[:40]


def test_a_diagonal_cell_shows_every_mistake_on_that_digit(qtbot, panel, weak):
    ev, data = weak
    panel.show_evaluation(ev, data.images)
    digit = int(np.argmax(ev.cm.sum(axis=1) - np.diag(ev.cm)))
    panel.select_cell(digit, digit)
    assert len(panel.shown) == min(40, ev.cm[digit].sum() - ev.cm[digit, digit])
    assert all(label == digit for _, label, _ in panel.shown)
    panel.show_all_button.click()
    assert panel.selected is None


def test_reset_forgets_the_evaluation(panel, weak):
    ev, data = weak
    panel.show_evaluation(ev, data.images)
    panel.select_cell(1, 2)
    panel.reset()
    assert panel.evaluation is None and panel.selected is None and panel.shown == []
    panel.grab()
    assert all(c.isHidden() for c in panel.cells) and not panel.matrix.count_texts()
    assert panel.matrix.selected is None


def test_refresh_button_asks_for_an_evaluation(qtbot, panel):
    with qtbot.waitSignal(panel.refresh_requested, timeout=1000):
        panel.refresh_button.click()


def test_show_snapshot_evaluates_nothing(panel, trained):
    panel.show_snapshot(trained.snapshot("running"))
    assert panel.evaluation is None and "Refresh" in panel.status_label.text()


def test_status_says_when_training_has_moved_on(panel, weak, trained):
    ev, data = weak
    snap = trained.snapshot("running")
    panel.show_evaluation(ev, data.images, step=snap.step)
    panel.show_snapshot(snap)
    assert "Refresh" not in panel.status_label.text()
    panel.show_snapshot(dataclasses.replace(snap, step=snap.step + 50))
    assert "training has moved on: Refresh" in panel.status_label.text()


def test_runner_evaluates_off_the_gui_thread(qtbot, trained):
    runner = EvaluationRunner(min_interval=0)
    snap = trained.snapshot("paused")
    with qtbot.waitSignal(runner.finished, timeout=10000) as blocker:
        runner.request(snap, trained.test)
    ev, which = blocker.args
    assert isinstance(ev, Evaluation) and which is snap
    np.testing.assert_array_equal(ev.cm, evaluate(trained.net, trained.test).cm)
    runner.wait(5)


def test_runner_keeps_only_the_newest_request_and_rests_between_runs(qtbot, trained):
    runner = EvaluationRunner(min_interval=0.3)
    snaps = [trained.snapshot("paused") for _ in range(3)]
    got = []
    runner.finished.connect(lambda ev, snap: got.append(snap))
    runner.request(snaps[0], trained.test)
    qtbot.waitUntil(lambda: len(got) == 1, timeout=5000)
    runner.request(snaps[1], trained.test)                   # during the rest after the first
    runner.request(snaps[2], trained.test)
    qtbot.waitUntil(lambda: len(got) == 2, timeout=5000)
    assert got == [snaps[0], snaps[2]]                       # the middle one was superseded
    runner.stop()
    runner.request(snaps[1], trained.test)                   # stopped: nothing more
    qtbot.wait(100)
    assert len(got) == 2 and not runner.busy


def test_runner_reports_errors_as_signals(qtbot, trained):
    runner = EvaluationRunner(min_interval=0)
    snap = trained.snapshot("paused")
    bad = dataclasses.replace(snap, config={**snap.config, "cost": "nope"})
    with qtbot.waitSignal(runner.failed, timeout=10000) as blocker:
        runner.request(bad, trained.test)
    assert "nope" in blocker.args[0]


def test_render_png(qtbot, request):
    """The panel with a real evaluation (784-32-10 after one MNIST epoch, or synthetic digits)."""
    try:
        mnist = request.getfixturevalue("mnist")
        trainer = Trainer(Network((784, 32, 10), seed=0), mnist.train, mnist.test, lr=0.1, momentum=0.9)
        test, note = mnist.test, "784-32-10 after one epoch of MNIST"
    except pytest.skip.Exception:
        trainer = make_trainer((784, 32, 10))
        test, note = trainer.test, "synthetic digits"
    trainer.train_epoch()
    ev = evaluate(network_from_snapshot(trainer.snapshot("paused")), test)
    panel = EvaluatePanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    panel.show_evaluation(ev, test.images, note=note)
    qtbot.waitExposed(panel)
    qtbot.wait(50)  # the gallery's layout grows on the next turn of the event loop
    PNG_DIR.mkdir(exist_ok=True)
    assert panel.grab().save(str(PNG_DIR / "evaluate.png"))
    off = ev.cm - np.diag(np.diag(ev.cm))
    panel.select_cell(*np.unravel_index(np.argmax(off), off.shape))
    qtbot.wait(50)
    assert panel.grab().save(str(PNG_DIR / "evaluate_filtered.png"))


def test_a_snapshot_with_knocked_out_neurons_answers_as_the_trainer_does():
    """Silenced in training: the window's copy of the network holds the same neurons silent."""
    from core.network import Network
    from core.snapshot import network_from_snapshot as keep_copy
    from core.trainer import Trainer
    from tests.snapshots import synthetic_digits
    from core.evaluate import network_from_snapshot
    train, test = synthetic_digits(200, 0), synthetic_digits(100, 1)
    trainer = Trainer(Network((784, 12, 10), seed=0), train, test, lr=0.5)
    trainer.net.silence({0: [1, 4, 7]})
    for _ in range(20):
        trainer.step()
    snap = trainer.snapshot("paused")
    assert snap.silenced == ((0, 1), (0, 4), (0, 7))
    for net in (network_from_snapshot(snap), keep_copy(snap)):
        np.testing.assert_array_equal(net.forward(test.images).output, trainer.net.forward(test.images).output)
    whole = network_from_snapshot(dataclasses.replace(snap, silenced=()))
    assert not np.array_equal(whole.forward(test.images).output, trainer.net.forward(test.images).output)
