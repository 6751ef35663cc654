"""Exports: panels as PNG/SVG, history as CSV, the model as .npz, and run files."""
import csv
import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.checkpoint import load_model, save_model
from core.runfile import RunFileError, load_run, save_run
from core.snapshot import EpochRecord, TestCheck, network_from_snapshot
from gui.export import CSV_COLUMNS, export_history_csv, export_panel
from gui.panels.curves import CurvesPanel
from tests.snapshots import make_snapshot, make_snapshots, open_panel, synthetic_digits


@pytest.fixture(scope="module")
def stream():
    return make_snapshots(count=12, steps_between=5)


@pytest.fixture
def curves(qtbot, stream):
    p = open_panel(qtbot, CurvesPanel, size=(800, 500))
    for s in stream:
        p.show_snapshot(s)
    return p


# --- panels ---------------------------------------------------------------------------------------
def test_png_of_a_panel_loads_at_twice_its_size(tmp_path, curves):
    path = export_panel(curves, tmp_path / "cost.png")
    image = QImage(str(path))
    assert not image.isNull()
    view = curves.findChild(type(curves._view))
    assert image.width() == 2 * view.width() and abs(image.height() - 2 * view.height()) <= 2
    pixels = image.convertToFormat(QImage.Format.Format_RGB32)
    colours = {pixels.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 5        # drawn curves and text, not a blank page


def test_svg_of_a_panel_is_xml_with_the_curves(tmp_path, curves):
    path = export_panel(curves, tmp_path / "cost.svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    lines = [e for e in root.iter() if e.tag.endswith(("path", "polyline"))]   # the curves, as vectors
    assert len(lines) > 3


def test_the_timeline_and_compare_panels_export_too(qtbot, tmp_path, stream):
    from gui.panels.compare import ComparePanel
    from gui.panels.timeline import TimelinePanel
    for panel in (TimelinePanel(every=10), ComparePanel()):
        qtbot.addWidget(panel)          # never shown: the exporter lays it out itself
        for s in stream:
            panel.show_snapshot(s)
        for suffix in ("png", "svg"):
            path = export_panel(panel, tmp_path / f"{panel.title}.{suffix}")
            assert path.stat().st_size > 1000
        assert not QImage(str(tmp_path / f"{panel.title}.png")).isNull()


def test_a_panel_of_several_views_is_grabbed_whole(qtbot, tmp_path):
    import pyqtgraph as pg
    w = QWidget()
    layout = QVBoxLayout(w)
    for _ in range(2):
        plot = pg.PlotWidget()
        plot.plot([1, 3, 2])
        layout.addWidget(plot)
    layout.addWidget(QLabel("two plots"))
    qtbot.addWidget(w)
    w.resize(400, 500)
    w.show()
    image = QImage(str(export_panel(w, tmp_path / "two.png")))
    assert (image.width(), image.height()) == (w.width() * w.devicePixelRatio(), w.height() * w.devicePixelRatio())
    no_plots = QLabel("text only")
    qtbot.addWidget(no_plots)
    with pytest.raises(ValueError, match="no plots to save as SVG"):
        export_panel(no_plots, tmp_path / "label.svg")


def test_unknown_suffix_is_refused(tmp_path, curves):
    with pytest.raises(ValueError, match=r"\.png or \.svg, not \.jpg"):
        export_panel(curves, tmp_path / "cost.jpg")


# --- history CSV ----------------------------------------------------------------------------------
def test_history_csv_reads_back_to_the_same_numbers(tmp_path, curves, stream):
    steps, costs = curves.steps, curves.costs
    accuracies = np.concatenate([s.accuracy_values for s in stream])
    epochs = stream[-1].epochs + (EpochRecord(7, 70, float("nan"), 0.5, 0.25),)
    checks = (TestCheck(12, 0.75, 0.625), TestCheck(40, float("nan"), 0.5))
    path = export_history_csv(tmp_path / "history.csv", steps, costs, accuracies, epochs, checks)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    test_rows = [r for r in rows if r["kind"] == "test"]
    assert [(int(r["step"]), r["test_cost"], float(r["test_accuracy"])) for r in test_rows] == [
        (12, "0.75", 0.625), (40, "nan", 0.5)]
    assert all(r["epoch"] == r["train_cost"] == r["batch_accuracy"] == "" for r in test_rows)
    assert tuple(rows[0]) == CSV_COLUMNS
    step_rows = [r for r in rows if r["kind"] == "step"]
    epoch_rows = [r for r in rows if r["kind"] == "epoch"]
    assert [int(r["step"]) for r in step_rows] == steps.astype(int).tolist()
    assert [float(r["train_cost"]) for r in step_rows] == costs.tolist()          # exact
    assert [float(r["batch_accuracy"]) for r in step_rows] == accuracies.tolist()
    assert all(r["epoch"] == r["test_cost"] == "" for r in step_rows)
    assert len(epoch_rows) == len(epochs)
    for row, record in zip(epoch_rows, epochs):
        assert (int(row["epoch"]), int(row["step"])) == (record.epoch, record.step)
        assert float(row["test_accuracy"]) == record.test_accuracy
        assert float(row["test_cost"]) == record.test_cost
        assert row["batch_accuracy"] == ""
    assert math.isnan(float(epoch_rows[0]["train_cost"]))       # epoch 0 has no training cost
    assert list(tmp_path.glob("*.part")) == []


def test_history_csv_checks_lengths(tmp_path):
    with pytest.raises(ValueError, match="differ in length"):
        export_history_csv(tmp_path / "h.csv", [1, 2], [0.5], None, ())
    path = export_history_csv(tmp_path / "h.csv", [1.5], [0.25], None, ())
    rows = list(csv.reader(open(path, newline="")))
    assert rows[1] == ["step", "1.5", "", "0.25", "", "", ""]


# --- the model ------------------------------------------------------------------------------------
def test_a_saved_model_reloads_into_the_same_predictions(tmp_path, stream):
    snap = stream[-1]
    net = network_from_snapshot(snap)
    path = save_model(tmp_path / "model.npz", net, snap.config)
    loaded, hyper = load_model(path)
    test = synthetic_digits(100, 1)
    np.testing.assert_array_equal(loaded.predict(test.images), net.predict(test.images))
    np.testing.assert_array_equal(loaded.output(test.images), net.output(test.images))
    assert hyper["lr"] == snap.config["lr"] and loaded.sizes == snap.sizes


# --- run files ------------------------------------------------------------------------------------
SETTINGS = {"hidden": [64, 32], "activation": "tanh", "cost": "quadratic", "seed": 7,
            "lr": 1.5, "momentum": 0.0, "l2": 1e-4, "batch_size": 10}


def test_run_file_round_trips(tmp_path):
    data = tmp_path / "mnist"
    path = save_run(tmp_path / "run.json", {**SETTINGS, "delay_ms": 50}, data)
    settings, data_path = load_run(path)
    assert settings == SETTINGS                      # the window-only delay is not part of a run
    assert data_path == str(data.resolve())
    assert json.loads(path.read_text())["format"] == "backprop-lens-run/1"
    save_run(path, {k: v for k, v in SETTINGS.items() if k != "l2"}, None)   # l2 defaults to 0
    assert load_run(path) == ({**SETTINGS, "l2": 0.0}, None)
    assert list(tmp_path.glob("*.part")) == []


def test_relative_data_path_is_relative_to_the_run_file(tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    path = tmp_path / "runs" / "run.json"
    path.write_text(json.dumps({"format": "backprop-lens-run/1", "settings": SETTINGS, "data_path": "../mnist"}))
    monkeypatch.chdir("/")
    assert load_run(path)[1] == str(tmp_path / "mnist")


def write(tmp_path, state) -> str:
    path = tmp_path / "bad.json"
    path.write_text(state if isinstance(state, str) else json.dumps(state))
    return path


def run(**settings):
    return {"format": "backprop-lens-run/1", "settings": {**SETTINGS, **settings}, "data_path": None}


@pytest.mark.parametrize("state, message", [
    ("{not json", "not valid JSON"),
    ([1, 2], "not a Backprop Lens run file"),
    ({"format": "backprop-lens-model/1"}, "format 'backprop-lens-model/1'"),
    ({**run(), "extra": 1}, "unknown entries 'extra'"),
    ({**run(), "settings": [1]}, "expected an object of settings"),
    (run(lrate=0.1), "unknown setting 'lrate'"),
    ({**run(), "settings": {"hidden": [10]}}, "missing activation, cost, seed, lr, momentum, batch_size"),
    (run(hidden=[]), "hidden must be a list of layer sizes"),
    (run(hidden=[100, "30"]), "hidden must be a list"),
    (run(hidden=[0]), "between 1 and 4096"),
    (run(activation="swish"), "activation must be one of sigmoid, tanh, relu"),
    (run(cost="hinge"), "cost must be one of"),
    (run(lr=-0.1), "lr must be positive"),
    (run(lr="0.1"), "lr must be a finite number"),
    (run(momentum=1), "momentum must be at least 0 and below 1"),
    (run(l2=-1), "l2 must be 0 or more"),
    (run(batch_size=0), "batch_size must be a whole number from 1"),
    (run(batch_size=True), "batch_size must be a whole number"),
    (run(batch_size=2.5), "batch_size must be a whole number"),
    (run(seed=-1), "seed must be a whole number from 0"),
    ({**run(), "data_path": 3}, "data_path must be a path or null"),
])
def test_bad_run_files_are_refused_with_a_clear_message(tmp_path, state, message):
    path = write(tmp_path, state)
    with pytest.raises(RunFileError, match=message) as info:
        load_run(path)
    assert isinstance(info.value, ValueError) and str(path) in str(info.value)


def test_missing_run_file_and_bad_settings_on_save(tmp_path):
    with pytest.raises(ValueError, match="no such run file"):
        load_run(tmp_path / "nothing.json")
    with pytest.raises(ValueError, match="lr must be positive"):
        save_run(tmp_path / "run.json", {**SETTINGS, "lr": 0}, None)
    assert not (tmp_path / "run.json").exists()
    nan_lr = write(tmp_path, '{"format": "backprop-lens-run/1", "settings": %s, "data_path": null}'
                   % json.dumps(SETTINGS).replace("1.5", "NaN"))
    with pytest.raises(ValueError, match="finite number"):
        load_run(nan_lr)


def test_png_of_the_weights_panel_has_every_tile_at_twice_its_pixels(qtbot, tmp_path):
    """Issue 12 item 4: Export PNG gave the same tiny (and scrolled) mosaic as on screen."""
    from gui.panels.weights import WeightsPanel
    panel = open_panel(qtbot, WeightsPanel, size=(320, 240))          # a small dock: it scrolls
    panel.show_snapshot(make_snapshot(steps=2, sizes=(784, 128, 64, 10)))
    path = export_panel(panel, tmp_path / "weights.png")
    image = QImage(str(path))
    assert image.width() * image.height() >= 128 * 56 * 56          # all 128 tiles, each ≥ 56×56 px
    assert image.height() > panel.height()                            # not the scrolled view on screen
