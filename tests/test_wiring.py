"""The window wiring of the timeline, run comparison, drawing, evaluation, exports and run files."""
import csv

import numpy as np
from PyQt6.QtCore import Qt

from test_window import wait_paused, window  # noqa: F401  (window is a fixture)


def test_timeline_scrub_and_live(qtbot, window):
    w = window
    from core.timeline import Timeline
    w.panels["Timeline"].timeline = Timeline(200, 5)
    for k in range(1, 13):
        w.control.step(5)
        wait_paused(qtbot, w, 5 * k)
    # every paused state is kept (snapshots published mid-budget may add a few more)
    assert set(range(5, 61, 5)) <= set(w.panels["Timeline"].timeline.steps)
    step = w.panels["Timeline"].timeline.steps[2]
    with qtbot.waitSignal(w.view.past_changed, timeout=3000):
        w.panels["Timeline"].show_step(step)
    assert w.view.past.step == step
    # every panel showing the past says so; the others do not
    for panel in w.panels.values():
        badge = panel.past_badge
        # a panel of another workspace is hidden with its dock: its badge is set all the same
        assert (badge is not None and not badge.isHidden() and f"step {step}" in badge.text()) == panel.follows_past, panel.title
    assert f"Looking back at step {step}" in w.status_label.text()
    tile = w.panels["Weights"].mosaic.image.image[:28, :28]
    np.testing.assert_allclose(tile, w.panels["Timeline"].timeline.at(step).W[0][0].reshape(28, 28), rtol=1e-6)
    w.control.step(10)                      # training goes on; the weights panel keeps the past
    wait_paused(qtbot, w, 70)
    tile = w.panels["Weights"].mosaic.image.image[:28, :28]
    np.testing.assert_allclose(tile, w.panels["Timeline"].timeline.at(step).W[0][0].reshape(28, 28), rtol=1e-6)
    qtbot.mouseClick(w.panels["Timeline"].live_button, Qt.MouseButton.LeftButton)
    assert w.view.past is None
    assert not any(p.past_badge is not None and not p.past_badge.isHidden() for p in w.panels.values())
    tile = w.panels["Weights"].mosaic.image.image[:28, :28]
    np.testing.assert_allclose(tile, w.worker.trainer.net.W[0][0].reshape(28, 28), rtol=1e-6)


def test_comparison_runs_with_main(qtbot, window):
    w = window
    w.panels["Compare"].request({"lr": 0.5})
    qtbot.waitUntil(lambda: w.training.worker_b is not None and w.training.worker_b.isRunning(), timeout=3000)
    w.controls.run_action.trigger()
    qtbot.waitUntil(lambda: w.panels["Compare"].runs["B"].steps_seen > 50 and w.last_snapshot.step > 50, timeout=10000)
    w.controls.run_action.trigger()
    wait_paused(qtbot, w)
    assert w.training.worker_b.trainer.optimizer.lr == 0.5 and w.worker.trainer.optimizer.lr == 0.1
    assert not w.training.control_b.running
    w.controls.reset()
    assert w.training.worker_b is None


def test_exports_and_run_file(qtbot, window, tmp_path, monkeypatch):
    from PyQt6.QtWidgets import QFileDialog, QInputDialog
    from core.runfile import load_run
    w = window
    w.control.step(30)
    wait_paused(qtbot, w, 30)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "run.json"), "")))
    w.files.ask_save_run()
    assert load_run(tmp_path / "run.json")[0]["hidden"] == [16]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "h.csv"), "")))
    w.files.ask_export_history()
    with open(tmp_path / "h.csv", newline="") as f:
        steps = [row for row in csv.DictReader(f) if row["kind"] == "step"]
    # every step's batch accuracy, as the worker measured it (the column was once always empty)
    assert [int(r["step"]) for r in steps] == list(range(1, 31))
    accuracies = [float(r["batch_accuracy"]) for r in steps]
    np.testing.assert_array_equal(accuracies, w.worker.trainer.history.y[:30, 1])
    assert all(0 <= a <= 1 for a in accuracies) and len(set(accuracies)) > 1
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("Weights", True)))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "w.svg"), "")))
    w.files.ask_export_panel()
    assert (tmp_path / "w.svg").stat().st_size > 1000


def test_cli_run_file(tmp_path, monkeypatch, capsys):
    from core.runfile import save_run
    import main
    save_run(tmp_path / "run.json", {"hidden": [8], "activation": "tanh", "cost": "cross-entropy", "seed": 3,
                                     "lr": 0.2, "momentum": 0.5, "batch_size": 50}, None)
    args = main.build_parser().parse_args(["train", "--run", str(tmp_path / "run.json")])
    assert main.apply_run_file(args) is None
    assert (args.hidden, args.activation, args.lr, args.batch_size, args.seed, args.data) == ([8], "tanh", 0.2, 50, 3, None)
    (tmp_path / "bad.json").write_text("{}")
    assert main.main(["train", "--run", str(tmp_path / "bad.json")]) == main.EXIT_DATA
    assert "not a Backprop Lens run file" in capsys.readouterr().err


def test_a_drawn_digit_goes_through_the_network_live(qtbot, window):
    w = window
    w.docks["Activations"].show()
    w.panels["Draw"].draw_stroke([(60, 60), (220, 60), (120, 240)], 24)
    shown = lambda: np.array_equal(w.panels["Activations"].input_image.ravel(), w.panels["Draw"].image)  # noqa: E731
    qtbot.waitUntil(shown, timeout=3000)
    w.control.step(1)
    wait_paused(qtbot, w, 1)
    assert shown()                          # still the drawing after a training step
    w.panels["Draw"].clear()
    qtbot.waitUntil(lambda: not shown(), timeout=3000)


def test_evaluation_arrives_after_an_epoch_and_on_refresh(qtbot, window):
    w = window
    w.docks["Evaluate"].show()
    w.show_workspace("Evaluate")
    qtbot.waitUntil(lambda: w.panels["Evaluate"].evaluation is not None, timeout=10000)
    assert int(w.panels["Evaluate"].evaluation.cm.sum()) == len(w.training.data.test.labels)
    with qtbot.waitSignal(w.training.evaluator.finished, timeout=10000):
        w.panels["Evaluate"].refresh_requested.emit()
