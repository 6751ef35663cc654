"""Timeline: the weights saved through a run, and the panel that scrubs through them."""
import os
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from core.network import Network, one_hot
from core.snapshot import frozen
from core.timeline import Timeline
from tests.snapshots import make_snapshots, synthetic_digits

PNG_DIR = Path(os.environ.get("PANEL_PNG_DIR", "/tmp/panels"))


def weights_at(step, shapes=((3, 4), (2, 3))):
    rng = np.random.default_rng(step)
    return [rng.standard_normal(s) for s in shapes], [rng.standard_normal(s[0]) for s in shapes]


# --- core.timeline --------------------------------------------------------------------------------
def test_at_returns_exactly_the_weights_saved_at_that_step():
    t = Timeline(capacity=8, every=5)
    offered = {}
    for step in range(0, 200):
        W, b = weights_at(step)
        if t.offer(step, W, b):
            offered[step] = (W, b)
        for a in (*W, *b):
            a += 1.0       # the caller goes on changing its arrays: the saved copies must not follow
    assert len(t) <= 8 and t.steps[0] == 0
    for step in t.steps:
        W, b = weights_at(step)
        entry = t.at(step)
        assert entry.step == step
        assert all(np.array_equal(x, y) for x, y in zip(entry.W, W))
        assert all(np.array_equal(x, y) for x, y in zip(entry.b, b))
        assert not any(a.flags.writeable for a in (*entry.W, *entry.b))


def test_read_only_arrays_are_kept_without_a_copy():
    W, b = weights_at(0)
    W, b = [frozen(x) for x in W], [frozen(x) for x in b]
    t = Timeline()
    assert t.offer(0, W, b)
    assert all(x is y for x, y in zip(t.at(0).W, W)) and all(x is y for x, y in zip(t.at(0).b, b))
    view = np.arange(6.0).reshape(2, 3)
    readonly_view = view[:1]
    readonly_view.flags.writeable = False      # a read-only view of a writeable array can still change
    t.offer(100, [readonly_view], [view[0]])
    assert t.at(100).W[0] is not readonly_view


def test_stays_bounded_over_100000_steps_and_still_covers_the_start():
    W, b = weights_at(0)
    W, b = [frozen(x) for x in W], [frozen(x) for x in b]
    t = Timeline(capacity=200, every=100)
    kept = sum(t.offer(step, W, b) for step in range(100_000))
    assert kept > 200                       # it kept saving all along, thinning as it went
    assert 100 <= len(t) <= 200
    assert t.steps[0] == 0                  # the first step survives every thinning
    assert t.steps[-1] >= 100_000 - t.every
    assert set(np.diff(t.steps)) == {t.every}  # evenly spread over the whole run
    assert t.every == 800


def test_irregular_snapshot_steps_give_one_entry_per_bucket():
    rng = np.random.default_rng(1)
    steps = np.cumsum(rng.integers(1, 60, 3000))      # snapshots arrive whenever the window is ready
    W, b = weights_at(0)
    t = Timeline(capacity=50, every=100)
    for step in steps:
        t.offer(int(step), W, b)
    buckets = [s // t.every for s in t.steps]
    assert len(t) <= 50 and t.steps[0] == steps[0]
    assert buckets == sorted(set(buckets))            # never two entries in one bucket
    assert t.steps[-1] > steps[-1] - 2 * t.every


def test_nearest_and_missing_steps():
    t = Timeline(capacity=10, every=10)
    for step in (0, 10, 20, 30):
        t.offer(step, *weights_at(step))
    assert t.nearest(14).step == 10 and t.nearest(16).step == 20 and t.nearest(15).step == 10
    assert t.nearest(-5).step == 0 and t.nearest(999).step == 30
    assert not t.offer(35, *weights_at(35)) and not t.offer(30, *weights_at(30))
    with pytest.raises(KeyError, match="nearest is step 20"):
        t.at(21)
    t.clear()
    assert len(t) == 0 and t.every == 10
    with pytest.raises(IndexError):
        t.nearest(0)


def test_a_big_network_gets_fewer_entries():
    W = [frozen(np.zeros((1000, 1000), np.float32))]   # 4 MB an entry
    t = Timeline(capacity=200, every=1, max_bytes=40 * 2**20)
    for step in range(100):
        t.offer(step, W, [frozen(np.zeros(1000, np.float32))])
    assert t.limit == 10 and len(t) <= 10 and t.nbytes <= 40 * 2**20


# --- the panel ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stream():
    """A real run: 300 samples, batch 32 (10 steps an epoch), a snapshot every 5 steps up to 200."""
    return make_snapshots(count=40, steps_between=5)


@pytest.fixture
def panel(qtbot):
    from gui.panels.timeline import TimelinePanel
    p = TimelinePanel(every=10)
    qtbot.addWidget(p)
    p.resize(900, 500)
    p.show()
    test = synthetic_digits(100, 1)       # the test set make_snapshots' trainer evaluates on
    p.set_test_set(test)
    return p


def feed(panel, snapshots):
    for s in snapshots:
        panel.show_snapshot(s)


def look_back(qtbot, panel, step):
    """Select ``step`` and wait for its snapshot, computed off the GUI thread."""
    with qtbot.waitSignal(panel.scrubbed, timeout=3000) as blocker:
        panel.show_step(step)
    return blocker.args[0]


def test_panel_saves_the_stream_and_slides_over_it(panel, stream):
    feed(panel, stream)
    assert panel.timeline.steps == [5] + list(range(10, 201, 10))
    assert panel.slider.maximum() == len(panel.timeline) - 1
    assert panel.slider.value() == panel.slider.maximum() and panel.live
    assert "live: step 200" in panel.label.text()
    # the panel stores the snapshot's own read-only arrays: no copies
    assert panel.timeline.at(200).W[0] is stream[-1].W[0]


def test_scrubbed_snapshot_has_the_entry_weights_and_their_probe_activations(qtbot, panel, stream):
    feed(panel, stream)
    index = panel.timeline.steps.index(60)
    with qtbot.waitSignal(panel.scrubbed) as blocker:
        panel.slider.setValue(index)
    past = blocker.args[0]
    entry = panel.timeline.at(60)
    assert past.step == 60 and past.status == "timeline" and not panel.live
    assert all(np.array_equal(x, y) for x, y in zip(past.W, entry.W))
    assert all(np.array_equal(x, y) for x, y in zip(past.b, entry.b))
    # a core forward/backward of that network on the probe image
    latest = stream[-1]
    net = Network(latest.sizes, latest.config["activation"], latest.config["cost"])
    net.W, net.b = [np.array(w) for w in entry.W], [np.array(b) for b in entry.b]
    trace = net.forward(latest.probe_a[0][None, :])
    delta = net.backward(trace, one_hot([latest.probe_label])).delta
    for mine, ref in ((past.probe_a, trace.a), (past.probe_z, trace.z), (past.probe_delta, delta)):
        assert len(mine) == len(ref)
        for x, y in zip(mine, ref):
            np.testing.assert_array_equal(x, y[0])
    # and the same figures the trainer itself published when it was at step 60
    live_then = next(s for s in stream if s.step == 60)
    for x, y in zip(past.probe_a, live_then.probe_a):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
    assert past.epoch == 6 and len(past.cost_values) == 0 and past.next_batch is None
    assert past.live_step == 200


def test_historical_test_accuracy_matches_the_epoch_record(qtbot, panel, stream):
    feed(panel, stream)
    past = look_back(qtbot, panel, 30)             # step 30 ends epoch 3: the trainer evaluated it there
    record = next(r for r in stream[-1].epochs if r.step == 30)
    assert past.step == 30
    assert panel.test_accuracy(30) == pytest.approx(record.test_accuracy, abs=1e-12)
    assert f"step 30 of 200 — test accuracy {100 * record.test_accuracy:.1f}%" in panel.label.text()


def test_live_button_returns_to_the_newest_weights(qtbot, panel, stream):
    feed(panel, stream[:20])
    look_back(qtbot, panel, 20)
    feed(panel, stream[20:])                # training goes on while we look back
    assert panel.viewed.step == 20 and "step 20 of 200" in panel.label.text()
    assert panel.slider.value() == panel.timeline.steps.index(20)
    with qtbot.waitSignal(panel.live_requested):
        qtbot.mouseClick(panel.live_button, Qt.MouseButton.LeftButton)
    assert panel.live and panel.slider.value() == panel.slider.maximum()


def test_an_answer_for_a_step_left_behind_is_dropped(qtbot, panel, stream):
    feed(panel, stream)
    panel.show_step(30)
    look_back(qtbot, panel, 90)            # moved on before step 30's snapshot was shown
    qtbot.wait(100)
    assert panel.viewed.step == 90 and "step 90 of 200" in panel.label.text()
    panel.show_step(40)
    panel.go_live()                        # Live before step 40's answer arrived
    qtbot.wait(100)
    assert panel.live and panel.viewed is None


def test_a_new_run_clears_the_timeline(qtbot, panel, stream):
    feed(panel, stream)
    look_back(qtbot, panel, 50)
    with qtbot.waitSignal(panel.live_requested):
        panel.show_snapshot(stream[0])      # steps went backwards: a reset
    assert panel.timeline.steps == [stream[0].step] and panel.live
    panel.reset()
    assert len(panel.timeline) == 0 and not panel.slider.isEnabled()


def test_render_timeline_panel(qtbot, panel, stream):
    feed(panel, stream)
    for step in (10, 50, 100, 150):
        look_back(qtbot, panel, step)
    look_back(qtbot, panel, 80)
    qtbot.wait(50)
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    assert panel.grab().save(str(PNG_DIR / "timeline.png"))


def test_clicking_the_plot_picks_the_nearest_saved_weights(qtbot, panel, stream):
    feed(panel, stream)
    qtbot.wait(20)
    widget, where = panel.click_plot_at(118, 50)
    with qtbot.waitSignal(panel.scrubbed) as blocker:
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=where)
    assert blocker.args[0].step == 120
    assert panel.slider.value() == panel.timeline.steps.index(120)


def test_the_accuracy_curve_covers_every_saved_entry(qtbot, panel, stream):
    feed(panel, stream)
    qtbot.waitUntil(lambda: set(panel.quick_accuracy) == set(panel.timeline.steps), timeout=3000)
    test = synthetic_digits(100, 1)       # fewer than QUICK_SAMPLES: all of them
    for record in stream[-1].epochs:
        if record.step in panel.quick_accuracy:
            assert panel.quick_accuracy[record.step] == pytest.approx(record.test_accuracy, abs=1e-12)
    x, y = panel.accuracy_curve()
    np.testing.assert_array_equal(x, panel.timeline.steps)
    assert len(test.labels) == 100 and 0 <= y.min() and y.max() <= 100
