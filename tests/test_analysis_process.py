"""The analysis process (core.analysis_process + gui.jobs): jobs run outside the window's process,
the data set crosses once, progress, cancel, a killed process, and nothing left behind."""
import os
import signal
import sys

import numpy as np
import pytest

from core.analysis_process import function, process_id
from core.data import Dataset
from core.evaluate import evaluate, evaluate_snapshot
from core.past import QUICK_SAMPLES, quick_accuracies
from core.timeline import TimelineEntry
from gui import jobs
from gui.jobs import EvaluationRunner, LatestJob
from tests.snapshots import make_trainer, synthetic_digits

LINUX = sys.platform.startswith("linux")


def shm_names() -> set:
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


@pytest.fixture
def fresh(monkeypatch):
    """Jobs in the analysis process (whatever the environment says), ended after the test."""
    monkeypatch.setenv("BACKPROP_LENS_BACKEND", "process")
    jobs.shutdown()
    yield
    jobs.shutdown()


@pytest.fixture(scope="module")
def trained():
    trainer = make_trainer((784, 16, 10))
    test = synthetic_digits(1200, 1)
    trainer.test = Dataset(test.images, test.labels, "synthetic test")   # as the app's data sets are
    for _ in range(30):
        trainer.step()
    return trainer


def run(qtbot, job, *args, timeout=20000):
    with qtbot.waitSignal(job.done, timeout=timeout) as blocker:
        job.request(*args, tag="t")
    return blocker.args[0]


def test_a_core_function_runs_in_another_process(qtbot, fresh):
    job = LatestJob(process_id, name="where")
    assert job.remote
    pid = run(qtbot, job)
    assert pid != os.getpid() and pid == jobs.analysis().process.pid


def test_a_function_outside_core_runs_on_a_thread(qtbot, fresh):
    job = LatestJob(lambda x: (x * 2, os.getpid()), name="local")
    assert not job.remote
    assert run(qtbot, job, 21) == (42, os.getpid())


def test_only_core_functions_are_imported_there():
    assert function("core.analysis_process:process_id") is process_id
    for name in ("os:system", "gui.jobs:shutdown", "core.past"):
        with pytest.raises(ValueError, match="only core functions"):
            function(name)


def test_evaluation_in_the_process_equals_evaluating_here(qtbot, fresh, trained):
    runner = EvaluationRunner(min_interval=0)
    snap = trained.snapshot("paused")
    with qtbot.waitSignal(runner.finished, timeout=20000) as blocker:
        runner.request(snap, trained.test)
    ev, which = blocker.args
    assert which is snap                                   # the tag stays in the window
    np.testing.assert_array_equal(ev.cm, evaluate_snapshot(snap, trained.test).cm)
    np.testing.assert_array_equal(ev.cm, evaluate(trained.net, trained.test).cm)


@pytest.fixture
def made(monkeypatch):
    """The names of the shared-memory segments this test's window side makes (other processes on
    the machine may make and remove their own meanwhile)."""
    from core.worker_process import SharedArrays
    names, create = [], SharedArrays.create.__func__

    def recording(cls, arrays):
        shm, spec = create(cls, arrays)
        names.append(shm.name)
        return shm, spec
    monkeypatch.setattr(SharedArrays, "create", classmethod(recording))
    return names


@pytest.mark.skipif(not LINUX, reason="reads /dev/shm")
def test_the_data_set_crosses_once_and_leaves_no_segment(qtbot, fresh, trained, made):
    runner = EvaluationRunner(min_interval=0)
    snap = trained.snapshot("paused")
    for _ in range(3):
        with qtbot.waitSignal(runner.finished, timeout=20000):
            runner.request(snap, trained.test)
    process = jobs.analysis()
    assert len(process._published) == 1                   # one data set, published once
    qtbot.waitUntil(lambda: not process._segments, timeout=5000)
    assert len(made) == 1 and not set(made) & shm_names()  # unlinked once mapped


def entries(trained, n):
    snap = trained.snapshot("paused")
    return snap, [TimelineEntry(step=i, W=snap.W, b=snap.b) for i in range(n)]


def test_progress_reaches_the_window_and_the_answer_is_whole(qtbot, fresh, trained):
    snap, many = entries(trained, 40)
    job = LatestJob(quick_accuracies, name="accuracy")
    seen = []
    job.progressed.connect(lambda f, tag: seen.append((f, tag)))
    out = run(qtbot, job, snap, many, trained.test)
    assert sorted(out) == list(range(40))
    expected = float(np.mean(trained.net.predict(trained.test.images[:QUICK_SAMPLES])
                             == trained.test.labels[:QUICK_SAMPLES]))
    assert all(v == pytest.approx(expected) for v in out.values())
    assert seen and seen[-1] == (1.0, "t") and all(0 < f <= 1 for f, _ in seen)


@pytest.mark.parametrize("backend", ["process", "thread"])
def test_cancel_stops_a_running_job(qtbot, monkeypatch, trained, backend):
    monkeypatch.setenv("BACKPROP_LENS_BACKEND", backend)
    jobs.shutdown()
    snap, many = entries(trained, 20000)                   # far longer than the test waits
    job = LatestJob(quick_accuracies, name="accuracy")
    got = []
    job.done.connect(lambda *a: got.append("done"))
    job.progressed.connect(lambda *a: got.append("progress"))
    with qtbot.waitSignal(job.progressed, timeout=20000):
        job.request(snap, many, trained.test, tag="long")
    with qtbot.waitSignal(job.cancelled, timeout=5000) as blocker:
        job.cancel()
    assert blocker.args == ["long"] and "done" not in got
    qtbot.waitUntil(lambda: not job.busy, timeout=5000)
    assert sorted(run(qtbot, job, snap, many[:3], trained.test)) == [0, 1, 2]   # it still works
    jobs.shutdown()


@pytest.mark.skipif(not LINUX, reason="sends SIGKILL")
def test_a_killed_process_is_a_message_and_the_next_request_starts_a_new_one(qtbot, fresh, trained):
    snap, many = entries(trained, 20000)
    job = LatestJob(quick_accuracies, name="accuracy")
    with qtbot.waitSignal(job.progressed, timeout=20000):
        job.request(snap, many, trained.test)
    old = jobs.analysis().process.pid
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        os.kill(old, signal.SIGKILL)
    assert "killed by SIGKILL" in blocker.args[0] and "next request starts a new one" in blocker.args[0]
    qtbot.waitUntil(lambda: not job.busy, timeout=5000)
    where = LatestJob(process_id, name="where")
    assert run(qtbot, where) not in (old, os.getpid())


@pytest.mark.skipif(not LINUX, reason="reads /proc and /dev/shm")
def test_shutdown_leaves_no_process_and_no_segment(qtbot, fresh, trained, made):
    runner = EvaluationRunner(min_interval=0)
    with qtbot.waitSignal(runner.finished, timeout=20000):
        runner.request(trained.snapshot("paused"), trained.test)
    process = jobs.analysis().process
    pid = process.pid
    jobs.shutdown()
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert made and not set(made) & shm_names()


def test_a_diverged_network_is_answered_without_warnings(qtbot, fresh, trained, recwarn):
    """inf weights make inf and NaN: the answer says so in numbers, the console stays quiet."""
    import dataclasses
    import warnings
    from core.explain import saliency_job
    snap = trained.snapshot("paused")
    huge = dataclasses.replace(snap, W=(snap.W[0] * np.float32(1e38) * 10, *snap.W[1:]))
    image, label = trained.test.images[0], int(trained.test.labels[0])
    for backend in ("process", "thread"):
        job = LatestJob(saliency_job, name="saliency")
        job.remote = backend == "process"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = run(qtbot, job, huge, image, label)
        assert result is not None
