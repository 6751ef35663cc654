"""Animations: GIF/MP4 of a panel across the Timeline, frames equal to the panel's own renders."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from core.timeline import Timeline
from gui.animation import (CAPTION_PX, AnimationExport, ExportError, GifWriter, evenly_chosen, grab_rgb, quantised,
                           render_panel, timeline_snapshots, writer_for)
from gui.panels.weights import WeightsPanel
from snapshots import make_trainer, open_panel


def _timeline(saves=12, between=5):
    trainer = make_trainer()
    timeline = Timeline(capacity=50, every=1)
    for _ in range(saves):
        timeline.offer(trainer.step_count, trainer.net.W, trainer.net.b)
        for _ in range(between):
            trainer.step()
    return trainer.snapshot("paused"), timeline


def _export(qtbot, export):
    done = []
    export.finished.connect(done.append)
    export.failed.connect(lambda m: done.append("FAILED " + m))
    export.start()
    qtbot.waitUntil(lambda: bool(done), timeout=30000)
    return done[0]


def test_gif_has_the_frames_asked_for_and_each_equals_the_panels_render_at_its_step(qtbot, tmp_path):
    latest, timeline = _timeline()
    panel = open_panel(qtbot, WeightsPanel, size=(480, 360))
    snaps = timeline_snapshots(latest, timeline.entries, 6)
    assert [s.step for s in snaps] == [0, 10, 25, 30, 45, 55] or len(snaps) == 6
    path = tmp_path / "weights.gif"
    export = AnimationExport(panel, path, fps=5, snapshots=snaps, name="Weights")
    assert _export(qtbot, export) == str(path)
    gif = Image.open(path)
    frames = [f.convert("RGB") for f in ImageSequence.Iterator(gif)]
    assert len(frames) == 6 and gif.info["duration"] == 200 and gif.info["loop"] == 0
    for snap, frame in zip(snaps, frames):
        render = render_panel(panel, snap, f"Backprop Lens · Weights · step {snap.step:,}")
        expected = np.asarray(quantised(render).convert("RGB"))
        got = np.asarray(frame)
        assert got.shape == render.shape
        assert np.array_equal(got, expected), snap.step                 # the panel's render, exactly as quantised
        panel_part = slice(0, render.shape[0] - CAPTION_PX)
        assert np.abs(got[panel_part].astype(int) - render[panel_part]).mean() < 3   # 256 colours are close
    # the frames differ from each other: the weights moved
    assert not np.array_equal(np.asarray(frames[0]), np.asarray(frames[-1]))


def test_mp4_is_written_with_every_frame(qtbot, tmp_path):
    av = pytest.importorskip("av", reason="PyAV is the optional MP4 writer")
    latest, timeline = _timeline(8)
    panel = open_panel(qtbot, WeightsPanel, size=(400, 300))
    path = tmp_path / "weights.mp4"
    export = AnimationExport(panel, path, fps=10, snapshots=timeline_snapshots(latest, timeline.entries, 8))
    assert _export(qtbot, export) == str(path)
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 8
    render = render_panel(panel, timeline_snapshots(latest, timeline.entries, 8)[-1], "Backprop Lens · Weights · step 35")
    assert decoded[-1].shape == render.shape
    assert np.abs(decoded[-1].astype(int) - render).mean() < 12          # lossy H.264, yet the same picture


def test_cancel_stops_and_leaves_no_file(qtbot, tmp_path):
    latest, timeline = _timeline(20, 2)
    panel = open_panel(qtbot, WeightsPanel, size=(400, 300))
    path = tmp_path / "w.gif"
    export = AnimationExport(panel, path, fps=10, snapshots=timeline_snapshots(latest, timeline.entries, 20))
    seen = []
    export.progress.connect(lambda done, total: (seen.append(done), done == 3 and export.cancel()))
    assert _export(qtbot, export) == "FAILED cancelled"
    assert max(seen) == 3 and not path.exists() and not export.running


def test_the_panel_is_drawn_as_now_again_afterwards(qtbot, tmp_path):
    from gui.view_state import ViewState
    latest, timeline = _timeline(5)
    panel = open_panel(qtbot, WeightsPanel, size=(400, 300))
    view = ViewState()
    view.live = latest
    render_panel(panel, latest)
    qtbot.wait(20)
    before = render_panel(panel, latest)
    export = AnimationExport(panel, tmp_path / "a.gif", snapshots=timeline_snapshots(latest, timeline.entries, 5),
                             view=view)
    _export(qtbot, export)
    assert np.array_equal(grab_rgb(panel), before)


def test_bad_requests_get_one_clear_line(tmp_path):
    with pytest.raises(ExportError, match="as .gif or .mp4"):
        writer_for(tmp_path / "a.avi", 10, 5)
    with pytest.raises(ExportError, match="1 to"):
        writer_for(tmp_path / "a.gif", 10, 100000)
    with pytest.raises(ExportError, match="frames per second"):
        writer_for(tmp_path / "a.gif", 0, 5)
    big = GifWriter(tmp_path / "b.gif", 10, 1000)
    with pytest.raises(ExportError, match="MB for a GIF"):
        big.add(np.zeros((1080, 1920, 3), np.uint8))              # refused before 2 GB of frames pile up


def test_evenly_chosen_keeps_first_and_last():
    assert evenly_chosen(list(range(10)), 4) == [0, 3, 6, 9]
    assert evenly_chosen([1, 2], 5) == [1, 2]


def test_a_panel_drawing_off_the_gui_thread_is_grabbed_once_it_has_drawn_each_step(qtbot, tmp_path):
    """The Hidden space panel projects in the analysis process: every frame waits for its step's
    projection, so frame k shows step k (not the previous frame's points)."""
    from types import SimpleNamespace
    from gui.panels.overtime.hidden_space import HiddenSpacePanel
    from snapshots import synthetic_digits
    latest, timeline = _timeline(6, 8)
    panel = open_panel(qtbot, HiddenSpacePanel, size=(500, 420))
    panel.set_dataset(synthetic_digits(300, 1))
    snaps = timeline_snapshots(latest, timeline.entries, 6)
    drawn = []
    export = AnimationExport(panel, tmp_path / "h.gif", fps=5, snapshots=snaps, name="Hidden space")
    export.progress.connect(lambda done, total: drawn.append(panel.projection.step))
    assert _export(qtbot, export) == str(tmp_path / "h.gif")
    assert drawn == [s.step for s in snaps]
    assert not panel.exporting and not panel.busy_drawing
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(Image.open(tmp_path / "h.gif"))]
    assert len(frames) == 6 and not np.array_equal(frames[0], frames[-1])


def test_export_dialog_offers_the_timeline_only_when_weights_are_saved(qtbot):
    from gui.animation import WHOLE_WINDOW, ExportDialog
    none = ExportDialog(None, ["Weights", "Cost"], saved=0)
    qtbot.addWidget(none)
    assert none.choice() == {"target": "Weights", "live": True, "frames": 100, "fps": 10}
    assert not none.timeline.isEnabled()
    some = ExportDialog(None, ["Weights"], saved=57)
    qtbot.addWidget(some)
    some.target.setCurrentText(WHOLE_WINDOW)
    assert some.choice() == {"target": WHOLE_WINDOW, "live": False, "frames": 57, "fps": 10}


def test_a_folder_that_cannot_take_it_is_said_before_any_frame(tmp_path):
    with pytest.raises(ExportError, match="is not a folder"):
        writer_for(tmp_path / "missing" / "a.gif", 10, 5)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: a read-only folder is still writable")
        with pytest.raises(ExportError, match="may not write there"):
            writer_for(locked / "a.mp4", 10, 5)
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_the_file_appears_whole_or_not_at_all(tmp_path, suffix):
    if suffix == ".mp4":
        pytest.importorskip("av", reason="PyAV is the optional MP4 writer")
    path = tmp_path / f"a{suffix}"
    w = writer_for(path, 10, 3)
    for _ in range(3):
        w.add(np.zeros((40, 60, 3), np.uint8))
    assert not path.exists()                                      # nothing under the name yet
    w.abort()
    assert not list(tmp_path.iterdir())                           # aborted: nothing left
    w = writer_for(path, 10, 3)
    for _ in range(3):
        w.add(np.zeros((40, 60, 3), np.uint8))
    assert w.close() == path and path.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == [path.name]    # no part file beside it
