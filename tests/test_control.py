"""RunControl semantics with a real worker thread: exact step counts, no busy waiting."""
import threading
import time

from core.control import RunControl, SetHyper


class Worker(threading.Thread):
    """Counts steps the way the training thread does; records idle calls and applied requests."""

    def __init__(self, control):
        super().__init__(daemon=True)
        self.control, self.steps, self.idles, self.applied = control, 0, 0, []

    def run(self):
        while True:
            turn = self.control.wait_for_turn(on_idle=self._idle)
            if turn == "stop":
                return
            if turn == "requests":
                self.applied.append(self.control.take_requests())
                continue
            self.steps += 1

    def _idle(self):
        self.idles += 1


def wait_until(predicate, timeout=2.0):
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        time.sleep(0.005)
    return predicate()


def started():
    control = RunControl()
    worker = Worker(control)
    worker.start()
    assert wait_until(lambda: worker.idles >= 1)
    return control, worker


def test_step_n_gives_exactly_n_steps():
    control, worker = started()
    control.step(3)
    assert wait_until(lambda: worker.steps == 3)
    time.sleep(0.05)
    assert worker.steps == 3
    control.stop()
    worker.join(1)
    assert not worker.is_alive()


def test_a_thousand_single_steps_are_all_taken():
    control, worker = started()
    for _ in range(1000):
        control.step()
    assert wait_until(lambda: worker.steps == 1000)
    control.stop()
    worker.join(1)
    assert worker.steps == 1000


def test_run_pause_and_stop():
    control, worker = started()
    control.run()
    assert wait_until(lambda: worker.steps > 100)
    control.pause()
    time.sleep(0.05)
    paused_at = worker.steps
    time.sleep(0.05)
    assert worker.steps == paused_at
    control.stop()
    worker.join(1)
    assert not worker.is_alive()


def test_paused_worker_is_idle_not_spinning():
    control, worker = started()
    idles = worker.idles
    time.sleep(0.2)
    assert worker.idles == idles  # blocked on the condition, not polling
    control.stop()
    worker.join(1)


def test_requests_reach_the_worker_without_taking_a_step():
    control, worker = started()
    control.request(SetHyper(lr=0.5))
    assert wait_until(lambda: worker.applied == [[SetHyper(lr=0.5)]])
    assert worker.steps == 0
    control.stop()
    worker.join(1)


def test_slow_motion_delay_spaces_steps_and_stop_interrupts_it():
    control, worker = started()
    control.set_delay(0.05)
    control.run()
    time.sleep(0.3)
    assert 2 <= worker.steps <= 8
    control.set_delay(10)
    began = time.monotonic()
    control.stop()
    worker.join(1)
    assert not worker.is_alive() and time.monotonic() - began < 1
