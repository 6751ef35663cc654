"""The next batch's trace costs a forward and backward pass a snapshot: running snapshots carry it
only while the Backprop panel (its one reader) is on screen; paused snapshots always do."""
from types import SimpleNamespace

from core.control import RunControl, TraceBatch
from core.snapshot import Status
from core.worker_loop import Timing, TrainingLoop, early_check
from tests.snapshots import Keep, synthetic_digits



def make_loop():
    data = SimpleNamespace(train=synthetic_digits(200, 0), test=synthetic_digits(50, 1), source="synthetic")
    settings = dict(hidden=[8], activation="sigmoid", cost="cross-entropy", seed=0, lr=0.5, momentum=0.0,
                    l2=0.0, batch_size=20)
    outlet = Keep()
    return TrainingLoop(data, settings, RunControl(), outlet), outlet


def test_running_snapshots_leave_the_trace_out_when_nobody_reads_it():
    loop, outlet = make_loop()
    loop._train_one()
    loop.publish(Status.RUNNING)
    assert outlet.snapshots[-1].next_batch is not None           # the default: traced
    loop._apply([TraceBatch(running=False)])
    assert outlet.snapshots[-1].next_batch is not None           # paused: always traced
    loop._train_one()
    loop.publish(Status.RUNNING)
    assert outlet.snapshots[-1].next_batch is None
    loop.publish(Status.PAUSED)
    paused = outlet.snapshots[-1]
    assert paused.next_batch is not None and paused.next_batch.n == 20
    loop._apply([TraceBatch(running=True)])
    loop.publish(Status.RUNNING)
    assert outlet.snapshots[-1].next_batch is not None


def test_the_choice_survives_a_reset():
    from core.control import Reset
    loop, outlet = make_loop()
    loop._apply([TraceBatch(running=False)])
    loop._apply([Reset({"hidden": [4]})])
    loop.publish(Status.RUNNING)
    assert outlet.snapshots[-1].next_batch is None


def test_early_test_checks_end_at_step_800():
    timing = Timing()
    early = [s for s in range(1, 20000) if s <= timing.early_until and early_check(s, timing.early_checks)]
    assert early == [25, 50, 100, 200, 400, 800]


def test_the_backprop_panel_asks_for_the_trace_only_while_seen(qtbot):
    from gui.main_window import MainWindow
    from tests.test_window import small_data
    w = MainWindow({"hidden": [16], "batch_size": 10}, data=small_data())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    asked = []
    original = w.training.request
    w.training.request = lambda *r: (asked.extend(x for x in r if isinstance(x, TraceBatch)), original(*r))
    w.show_workspace("Backprop")
    qtbot.waitUntil(lambda: asked and asked[-1] == TraceBatch(True), timeout=3000)
    w.control.run()
    qtbot.waitUntil(lambda: w.last_snapshot.status == "running" and w.last_snapshot.next_batch is not None,
                    timeout=5000)
    w.show_workspace("Overview")
    qtbot.waitUntil(lambda: asked[-1] == TraceBatch(False), timeout=3000)
    qtbot.waitUntil(lambda: w.last_snapshot.status == "running" and w.last_snapshot.next_batch is None,
                    timeout=5000)
    w.control.pause()
    qtbot.waitUntil(lambda: w.last_snapshot.status == "paused", timeout=5000)
    assert w.last_snapshot.next_batch is not None
    w.close()


def test_a_paused_step_sends_one_snapshot_the_paused_one():
    """Step while paused: the paused snapshot (with the trace) is the only one, so the panels draw
    once and at once (a running one first would make the paused one wait for its turn)."""
    import threading
    import time

    def wait_for(condition, seconds=20.0):
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert condition()

    loop, outlet = make_loop()
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    wait_for(lambda: outlet.snapshots)
    for k in range(1, 4):
        before = len(outlet.snapshots)
        loop.control.step(1)
        wait_for(lambda: len(outlet.snapshots) > before and outlet.snapshots[-1].step == k)
        time.sleep(0.05)                                        # nothing else follows
        # (the loop's start may still send its idle step-0 snapshot meanwhile: only step k counts)
        new = [s for s in outlet.snapshots[before:] if s.step >= k]
        assert [(s.step, s.status) for s in new] == [(k, Status.PAUSED)]
        assert new[0].next_batch is not None
    loop.control.step(60)                                       # many steps: running ones on the way
    wait_for(lambda: outlet.snapshots[-1].step == 63 and outlet.snapshots[-1].status == Status.PAUSED)
    loop.control.stop()
    thread.join(5)


def test_short_epochs_are_not_each_followed_by_a_test_check(monkeypatch):
    """An epoch's end measures the test set: the next timed check waits a whole gap (share × the
    last check's time) after it, not one second, or a network with 1.6-s epochs and 135-ms checks
    (784-512-10) spent 8% of its time on checks between epochs."""
    import core.worker_loop as worker_loop
    clock = [1000.0]
    monkeypatch.setattr(worker_loop.time, "monotonic", lambda: clock[0])
    data = SimpleNamespace(train=synthetic_digits(160, 0), test=synthetic_digits(50, 1), source="synthetic")
    settings = dict(hidden=[8], activation="sigmoid", cost="cross-entropy", seed=0, lr=0.5, momentum=0.0,
                    l2=0.0, batch_size=10)                        # 16 steps an epoch
    loop = TrainingLoop(data, settings, RunControl(), Keep(),
                        timing=Timing(test_check_every=1.0, test_check_share=25, early_checks=25, early_until=0))
    checks = []
    real_check = loop.trainer.check_test

    def slow_check():
        checks.append(loop.trainer.step_count)
        clock[0] += 0.135                                        # a check of a big network
        return real_check()
    loop.trainer.check_test = slow_check
    for _ in range(16 * 10):                                     # ten epochs of 1.6 s
        clock[0] += 0.1
        loop._train_one()
    assert len(checks) <= 2, checks                              # was one after every epoch's end
