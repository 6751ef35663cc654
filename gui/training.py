"""The window's one handle on training: data loading, the worker, its RunControl, run B of a
comparison and the test-set evaluator. Buttons and panels call this; it answers with signals.

The worker is a trainer process (gui.trainer_process, the default) or, with ``backend="thread"``
or BACKPROP_LENS_BACKEND=thread, a thread of this process (gui.training_thread, which shares the
GIL with drawing). Both look the same from here: ``control``, ``mailbox``/``take``, signals.

Nothing here draws. The window connects ``snapshot_ready`` to its ViewState; panels ask for work
through ``request`` (typed requests from core.control), ``start_comparison`` and ``evaluate``.
"""
from __future__ import annotations

import os

from PyQt6.QtCore import QObject, QThread, pyqtSignal

from core.control import CheckGradient, LoadNetwork, Reset, RunControl, SetHyper, StepEpoch
from core.settings import Settings, SettingsError
from core.snapshot import network_from_snapshot
from gui import jobs
from gui.jobs import EvaluationRunner
from gui.trainer_process import TrainerProcess
from gui.training_thread import TrainingThread

BACKENDS = ("process", "thread")


class DataLoader(QThread):
    """Loads the data set off the GUI thread (it may download); reports success or one-line failure."""

    loaded = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, path=None, parent=None):
        super().__init__(parent)
        self.path = path

    def run(self):
        from core.data import DataError, load_mnist
        try:
            self.loaded.emit(load_mnist(self.path, progress=False))
        except DataError as e:
            self.failed.emit(str(e))
        except Exception as e:  # never a traceback for users
            self.failed.emit(f"could not load the data: {e}")


GENTLE_STEPS = 100      # a fresh network's first Run shows this many steps slowly...
GENTLE_DELAY_MS = 30    # ...at this delay each (3 s), then goes on at full speed


class Training(QObject):
    """Owns the training worker (and run B of a comparison) for the window; see the module notes."""

    snapshot_ready = pyqtSignal(object)        # every live Snapshot of run A, in order
    comparison_ready = pyqtSignal(object)      # every Snapshot of run B
    running_changed = pyqtSignal(bool)
    failed = pyqtSignal(str)                   # the worker stopped on an internal error
    data_loading = pyqtSignal(object)          # the path being loaded (None: the default places)
    data_loaded = pyqtSignal(object)           # an MnistData, now trained on
    data_failed = pyqtSignal(str)
    gradient_checked = pyqtSignal(object)
    evaluated = pyqtSignal(object, object)     # (Evaluation, Snapshot) of run A's current network
    message = pyqtSignal(str)                  # one line for the status bar
    settings_changed = pyqtSignal(object)      # Settings changed by a panel or a control

    def __init__(self, settings: Settings, parent=None, backend: str | None = None):
        super().__init__(parent)
        backend = backend or os.environ.get("BACKPROP_LENS_BACKEND", "process")
        if backend not in BACKENDS:
            raise ValueError(f"unknown training backend {backend!r}: one of {', '.join(BACKENDS)}")
        self.backend = backend
        self.settings = settings
        self.data = None
        self.data_path = None
        self.loader: DataLoader | None = None
        self.worker: TrainerProcess | TrainingThread | None = None
        self.worker_b: TrainerProcess | TrainingThread | None = None
        self.control = RunControl(settings.delay_ms / 1000)
        self.control_b: RunControl | None = None
        self.evaluator = EvaluationRunner(self)
        self.evaluator.finished.connect(self._on_evaluated)
        self.evaluator.failed.connect(self.message)
        self._next_network = None      # the network the next worker starts from (session, new data)
        self._next_step = 0
        self.gentle = True             # slow the first GENTLE_STEPS of a fresh network's first Run
        self._gentle_until = None      # the step where the gentle start ends, while it lasts
        self.step_shown = None         # the step of the latest snapshot

    # --- data and the worker -------------------------------------------------------------------
    def load_data(self, path=None) -> None:
        """Load a data set in the background; on failure the current data and network stay."""
        self.data_loading.emit(path)
        self.loader = DataLoader(path, self)
        self.loader.loaded.connect(lambda data, path=path: self.start(data, path))
        self.loader.failed.connect(self.data_failed)
        self.loader.start()

    def start(self, data, path=None, network=None, step: int = 0) -> None:
        """Train on ``data`` from now on: a new worker, keeping the current network if there is one."""
        if network is not None:
            self._next_network, self._next_step = network, step
        self.stop_worker()
        self.data, self.data_path = data, path if path is not None else self.data_path
        self.worker = self._new_worker(self.settings, network=self._next_network, step=self._next_step)
        self.control = self.worker.control
        self._next_network, self._next_step = None, 0
        self.worker.snapshot_ready.connect(self._on_worker_snapshot)
        self.worker.failed.connect(self._on_failed)
        self.worker.gradient_checked.connect(self.gradient_checked)
        self.worker.start()
        self.data_loaded.emit(data)

    def _new_worker(self, settings: Settings, network=None, step: int = 0):
        """A trainer (not started) on the current data with ``settings`` and this object's backend."""
        delay = self.settings.delay_ms / 1000
        if self.backend == "thread":
            return TrainingThread(self.data, settings.to_dict(), RunControl(delay), self, network=network, step=step)
        return TrainerProcess(self.data, settings.to_dict(), delay, self, network=network, step=step)

    def _worker_ended(self) -> bool:
        """The worker crashed or was killed: the next Reset or Load starts a new one."""
        return self.worker is not None and self.worker.isFinished()

    def keep_network(self, snapshot) -> None:
        """Start the next worker (new data) from ``snapshot``'s weights instead of a new network."""
        if snapshot is not None:
            self.start_from(network_from_snapshot(snapshot), snapshot.step)

    def start_from(self, network, step: int = 0) -> None:
        """Start the next worker from ``network`` (kept from the last session, or these weights)."""
        self._next_network, self._next_step = network, step

    def _on_worker_snapshot(self):
        snap = self.worker.take() if self.worker is not None else None
        if snap is not None:
            self.step_shown = snap.step
            if self._gentle_until is not None and snap.step >= self._gentle_until:
                self._end_gentle_start(f"Gentle start over: training at full speed from step {snap.step}.")
            self.snapshot_ready.emit(snap)

    def _on_failed(self, message: str):
        self.running_changed.emit(False)
        self.failed.emit(message)

    def stop_worker(self) -> None:
        self.stop_comparison()
        if self.worker is not None:
            self.worker.stop_and_wait(5000)
            self.worker = None

    def close(self) -> None:
        """End every thread this object started (closing the window)."""
        self.stop_worker()
        self.evaluator.stop()
        jobs.shutdown()           # the analysis process ends with the window (a new one starts on demand)
        if self.loader is not None:
            self.loader.wait(5000)

    # --- controls ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.control.running

    def toggle_run(self) -> None:
        self.pause() if self.control.running else self.run()

    def run(self) -> None:
        if self.gentle and self.step_shown == 0 and self.settings.delay_ms == 0:
            self._gentle_until = GENTLE_STEPS
            self.control.set_delay(GENTLE_DELAY_MS / 1000)
            self.message.emit(f"Gentle start: the first {GENTLE_STEPS} steps at {GENTLE_DELAY_MS} ms each, "
                              "so you can watch them; then full speed (the Slow motion slider sets your own pace).")
        self.control.run()
        if self.control_b is not None:   # run B runs and pauses with the main run
            self.control_b.run()
        self.running_changed.emit(True)

    def _end_gentle_start(self, why: str = "") -> None:
        self._gentle_until = None
        self.control.set_delay(self.settings.delay_ms / 1000)
        if why:
            self.message.emit(why)

    def pause(self) -> None:
        if self._gentle_until is not None:
            self._end_gentle_start()
        self.control.pause()
        if self.control_b is not None:
            self.control_b.pause()
        self.running_changed.emit(False)

    def step(self, n: int = 1) -> None:
        self.control.step(n)

    def step_epoch(self) -> None:
        self.control.request(StepEpoch())

    def request(self, *requests) -> None:
        """Hand typed requests (core.control) to the worker, applied before its next step."""
        self.control.request(*requests)

    def check_gradient(self, layer: int, neuron: int) -> None:
        self.request(CheckGradient(layer, neuron))

    def change_live(self, **changes) -> Settings:
        """Apply hyper-parameters or slow motion at once (validated: SettingsError for a bad one)."""
        settings = self.settings.replace(**changes)
        if settings != self.settings:
            self.settings = settings
            self._gentle_until = None     # the person chose a pace
            self.control.set_delay(settings.delay_ms / 1000)
            self.request(SetHyper(lr=settings.lr, momentum=settings.momentum, l2=settings.l2,
                                  batch_size=settings.batch_size))
            self.settings_changed.emit(settings)
        return settings

    def reset(self, settings: Settings) -> None:
        """A new network from ``settings`` (paused)."""
        self.settings = settings
        self.settings_changed.emit(settings)
        self.stop_comparison()
        if self._worker_ended():
            self.start(self.data)
            return
        self.pause()
        self.request(Reset(settings))

    def load_network(self, network, step: int = 0) -> None:
        if self._worker_ended():
            self.start(self.data, network=network, step=step)
            return
        self.pause()
        self.request(LoadNetwork(network, step))

    # --- run B ---------------------------------------------------------------------------------
    def start_comparison(self, settings_b: Settings) -> None:
        """Train run B with ``settings_b`` from the same seed on the same data, beside run A."""
        if self.data is None:
            raise SettingsError("the data are not loaded yet")
        self.stop_comparison()
        self.worker_b = self._new_worker(settings_b)
        self.control_b = self.worker_b.control
        self.worker_b.snapshot_ready.connect(self._on_comparison_snapshot)
        self.worker_b.start()
        if self.control.running:
            self.control_b.run()

    def _on_comparison_snapshot(self):
        snap = self.worker_b.take() if self.worker_b is not None else None
        if snap is not None:
            self.comparison_ready.emit(snap)

    def stop_comparison(self) -> None:
        if self.worker_b is not None:
            self.worker_b.stop_and_wait(5000)
            self.worker_b = self.control_b = None

    # --- evaluation ----------------------------------------------------------------------------
    def evaluate(self, snapshot) -> None:
        """Evaluate ``snapshot``'s network on the whole test set in the background."""
        if snapshot is not None and self.data is not None:
            self.evaluator.request(snapshot, self.data.test)

    def _on_evaluated(self, evaluation, snapshot):
        if self.worker is not None and snapshot.run_id == self.worker.run_id:  # not about an old run
            self.evaluated.emit(evaluation, snapshot)

    def __repr__(self):
        return f"Training(worker={self.worker is not None}, comparing={self.worker_b is not None}, {self.control!r})"
