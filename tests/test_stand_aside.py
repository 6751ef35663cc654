"""The worker's hand-over with the window: the one-slot mailbox and waiting for the GUI thread to
go idle (Qt's event dispatcher), driven with a real event loop."""
import threading
import time

from PyQt6.QtCore import QTimer

from gui.training_thread import GuiIdle, Mailbox, early_check
from tests.snapshots import make_snapshots


def test_mailbox_counts_takes_and_knows_which_one_a_signal_waits_for():
    a, b, c = make_snapshots(count=3)
    box = Mailbox()
    assert box.put(a) and box.awaited == 1
    assert not box.put(b)                       # unread: replaced, no second signal, same wait
    assert box.awaited == 1
    assert box.take().step == b.step and box.taken == 1
    assert box.take() is None and box.taken == 1  # an empty take counts nothing
    assert box.put(c) and box.awaited == 2


def test_worker_waits_until_the_gui_thread_took_the_snapshot_and_went_idle(qtbot):
    box = Mailbox()
    idle = GuiIdle.of_this_thread(box)
    assert idle is not None
    box.put("snapshot")
    result = {}

    def worker():
        began = time.monotonic()
        result["ok"] = idle.wait(box.awaited, timeout=5.0)
        result["waited"] = time.monotonic() - began

    thread = threading.Thread(target=worker)
    thread.start()
    QTimer.singleShot(200, box.take)            # the window takes it 0.2 s later
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=5000)
    assert result["ok"] and 0.15 <= result["waited"] < 2.0
    idle.close()


def test_an_untaken_snapshot_ends_the_wait_at_its_timeout(qtbot):
    box = Mailbox()
    idle = GuiIdle.of_this_thread(box)
    box.put("snapshot")
    qtbot.wait(50)                              # the GUI thread goes idle without taking it
    began = time.monotonic()
    assert not idle.wait(box.awaited, timeout=0.1)
    assert time.monotonic() - began < 1.0
    idle.close()
    idle.close()                                # closing twice is harmless


def test_early_checks():
    assert [s for s in range(0, 500) if early_check(s)] == [25, 50, 100, 200, 400]


def test_an_unread_snapshot_of_another_run_is_replaced_not_merged():
    """A Reset to another shape while the window has not taken the last snapshot: the new run's
    snapshot replaces it (merging their per-layer points would mix shapes)."""
    from dataclasses import replace
    from core.snapshot import merge_points
    from tests.snapshots import make_snapshot
    old = replace(make_snapshot(steps=3, sizes=(784, 16, 10)), run_id=1)
    new = replace(make_snapshot(steps=2, sizes=(784, 12, 8, 10)), run_id=2)
    assert merge_points(old, new) is new
    again = replace(make_snapshot(steps=2, sizes=(784, 16, 10)), run_id=1)
    assert len(merge_points(old, again).cost_values) == len(old.cost_values) + len(again.cost_values)
