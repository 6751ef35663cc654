"""A hostile settings file in a real window: the window opens, trains, names each bad entry, and on
close writes back only good values (issue 11, class 1)."""
import json
import os

from core.settings import Settings
from gui.session import Session
from test_robustness_gui import open_window

BAD = {"settings": {"lr": "abc", "hidden": [0], "seed": -1, "cost": "mse", "delay_ms": "x", "momentum": 0.5},
       "window_geometry": 5, "data_path": 7}


def test_bad_entries_are_named_trained_past_and_never_written_back(qtbot, tmp_path, monkeypatch):
    from gui.notices import Notices
    monkeypatch.setattr(Notices, "ask_keep_weights", lambda self: False)   # no modal question on close
    (tmp_path / "settings.json").write_text(json.dumps(BAD))
    w = open_window(qtbot, settings={}, session=Session(tmp_path))
    text = " ".join(w.message_box.text().split())
    for named in ("lr must be", "hidden must be", "seed must be", "cost must be", "delay_ms must be",
                  "window_geometry must be", "data_path must be"):
        assert named in text
    w.control.step(3)
    qtbot.waitUntil(lambda: w.last_snapshot.step == 3, timeout=10000)
    assert w.last_snapshot.sizes[1:-1] == (100,)          # the default hidden layer, not [0]
    w.close()
    written = json.loads((tmp_path / "settings.json").read_text())
    assert written["settings"] == {**Settings().to_dict(), "momentum": 0.5}
    assert Session(tmp_path).load()[1] == ""                # the next launch is clean


def test_a_fifo_settings_file_does_not_hang_the_window(qtbot, tmp_path):
    os.mkfifo(tmp_path / "settings.json")
    w = open_window(qtbot, settings={}, session=Session(tmp_path))
    assert "not a regular file" in w.message_box.text()
    w.close()
