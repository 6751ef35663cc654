"""Trainer: mini-batch gradient descent over a Dataset, with the statistics the window draws."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from core.history import DecimatingHistory
from core.network import Gradients, Network, Trace, one_hot
from core.optim import SGD
from core.snapshot import MAX_TRACED, BatchTrace, EpochRecord, Snapshot, Status, TestCheck, frozen, sealed

MAX_TEST_CHECKS = 400   # test checks kept; beyond, every other one goes (evenly thinned)


@dataclass
class StepStats:
    """What one mini-batch did. ``trace`` is the live forward pass of that step.

    The step computed Δp = −η ∂C/∂p directly (``Network.backward(scale=-η)``); ``grads`` gives
    ∂C/∂p back, divided out on first use. ``update_ratios`` (‖ΔW‖ / ‖W‖ per layer, the momentum
    included) is also computed on first use, from the optimizer's state, so it must be read before
    the trainer takes its next step (``Trainer.snapshot`` does).
    """

    step: int
    epoch: int
    cost: float
    accuracy: float
    layer_norms: np.ndarray
    neuron_norms: list
    trace: Trace
    deltas: Gradients        # −η ∂C/∂W, −η ∂C/∂b (δ unscaled); ∂C/∂p itself when η = 0
    lr: float
    ratios: object = None    # a callable until first read, then the array
    epoch_record: EpochRecord | None = None  # set on the step that completes an epoch
    _grads: Gradients | None = None

    @property
    def grads(self) -> Gradients:
        """∂C/∂W and ∂C/∂b of this step (and each sample's δ)."""
        if self._grads is None:
            d = self.deltas
            if self.lr:
                f = -1.0 / self.lr
                self._grads = Gradients([g * f for g in d.dW], [g * f for g in d.db], d.delta)
            else:
                self._grads = d
        return self._grads

    @property
    def update_ratios(self) -> np.ndarray:
        if callable(self.ratios):
            self.ratios = self.ratios()
        return self.ratios


class Trainer:
    """Trains ``net`` on ``train`` in shuffled mini-batches; evaluates on ``test`` after each epoch.

    The sample order of epoch e is a permutation drawn from (seed, e), so runs are reproducible and
    the order does not depend on when the batch size changes.
    """

    def __init__(self, net: Network, train, test=None, lr=0.1, momentum=0.0, l2=0.0,
                 batch_size=32, seed=0, probe_index=0, history=4096):
        self.net, self.train, self.test = net, train, test
        self.optimizer = SGD(lr, momentum, l2)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.step_count, self.epoch, self._pos = 0, 0, 0
        self._order = self._permutation(0)
        self.probe_index = int(probe_index)
        self.origin = "new"                  # "loaded": the network came trained from a file or session
        self.drawn = None                    # (image (784,), label or None): a drawn digit as the probe
        self.trace_running = True            # False: running snapshots leave out the next batch's trace
        self.history = DecimatingHistory(history, columns=2)               # cost, accuracy
        self.grad_history = DecimatingHistory(history, columns=net.n_layers)
        self.epochs: list[EpochRecord] = []
        self._checks: list = []              # (check number, TestCheck), thinned evenly
        self._checks_made, self._check_stride = 0, 1
        self._epoch_cost_sum, self._epoch_steps = 0.0, 0
        self._pending: list = []
        self._pending_limit = history
        self._speed = 0.0
        self.last: StepStats | None = None

    # --- sample order -----------------------------------------------------------------------
    def _permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.train.labels))

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.train.labels) / self.batch_size)

    @property
    def epoch_fraction(self) -> float:
        return self._pos / len(self.train.labels)

    def steps_left_in_epoch(self) -> int:
        return math.ceil((len(self.train.labels) - self._pos) / self.batch_size)

    def peek_batch(self) -> np.ndarray:
        """Indices of the mini-batch the next step will train on, without taking it."""
        return self._order[self._pos:self._pos + self.batch_size]

    def trace_next_batch(self) -> BatchTrace:
        """Forward and backward pass of the next mini-batch through the current weights."""
        idx = self.peek_batch()
        labels = self.train.labels[idx]
        trace = self.net.forward(self.train.images[idx])
        grads = self.net.backward(trace, one_hot(labels, self.net.sizes[-1], self.net.dtype))
        kept = lambda arrays: tuple(frozen(x[:MAX_TRACED]) for x in arrays)  # noqa: E731
        return BatchTrace(frozen(idx[:MAX_TRACED]), frozen(labels[:MAX_TRACED]), kept(trace.z), kept(trace.a),
                          kept(grads.delta), tuple(map(sealed, grads.dW)), tuple(map(sealed, grads.db)), len(idx))

    def _batch_trace(self, status) -> BatchTrace | None:
        """The next batch's trace for a snapshot: always when paused, while running if asked for
        (it costs about a training step's forward and backward pass)."""
        return self.trace_next_batch() if self.trace_running or status != Status.RUNNING else None

    def next_batch(self) -> np.ndarray:
        """Indices of the next mini-batch (the last one of an epoch may be smaller)."""
        idx = self._order[self._pos:self._pos + self.batch_size]
        self._pos += len(idx)
        return idx

    # --- training ---------------------------------------------------------------------------
    def set_hyper(self, lr=None, momentum=None, l2=None, batch_size=None):
        """Change hyper-parameters; they apply from the next step."""
        opt = self.optimizer
        opt.lr = opt.lr if lr is None else float(lr)
        opt.momentum = opt.momentum if momentum is None else float(momentum)
        opt.l2 = opt.l2 if l2 is None else float(l2)
        self.batch_size = self.batch_size if batch_size is None else max(1, int(batch_size))

    def step(self) -> StepStats:
        """Train on one mini-batch and return its statistics."""
        started = time.perf_counter()
        idx = self.next_batch()
        X, labels = self.train.images[idx], self.train.labels[idx]
        net, opt = self.net, self.optimizer
        n = len(idx)
        trace = net.forward(X)
        Y = one_hot(labels, net.sizes[-1], net.dtype)
        cost = float(net.costs(trace.output, Y).sum()) / n
        accuracy = np.count_nonzero(trace.output.argmax(axis=1) == labels) / n
        lr = opt.lr
        # η folded into δ: the arrays come out as the step plain gradient descent takes, saving a
        # pass over the weights; the norms of ∂C/∂p are those of Δp divided by η.
        deltas = net.backward(trace, Y, scale=-lr if lr else 1.0)
        unit = 1.0 / abs(lr) if lr else 1.0
        raw = deltas.neuron_norms()
        neuron_norms = [norms * unit for norms in raw]
        layer_norms = deltas.layer_norms(raw) * unit
        if lr:
            opt.apply(net.params(), deltas.params())
        else:
            opt.step(net.params(), deltas.params(), norms=False)
        self.step_count += 1
        self._record(cost, accuracy, layer_norms)
        stats = StepStats(self.step_count, self.epoch, cost, accuracy, layer_norms, neuron_norms,
                          trace, deltas, lr, self._ratios_reader(self.step_count))
        self._measure_speed(n, time.perf_counter() - started)
        if self._pos >= len(self._order):
            stats.epoch_record = self._finish_epoch()
        self.last = stats
        return stats

    def _ratios_reader(self, step: int):
        """‖update‖ / ‖W‖ per layer for step ``step``, computed when first asked for."""
        def read():
            if step != self.step_count:
                raise RuntimeError(f"the update ratios of step {step} were not read before step "
                                   f"{self.step_count}; read them right after the step")
            updates = self.optimizer.last_update()[0::2]
            return np.array([np.sqrt(np.vdot(u, u)) / max(float(np.sqrt(np.vdot(W, W))), 1e-12)
                             for u, W in zip(updates, self.net.W)])
        return read

    def _record(self, cost, accuracy, layer_norms):
        self.history.append(self.step_count, cost, accuracy)
        self.grad_history.append(self.step_count, *layer_norms)
        self._epoch_cost_sum += cost
        self._epoch_steps += 1
        self._pending.append((self.step_count, cost, accuracy, layer_norms))
        if len(self._pending) > self._pending_limit:
            del self._pending[::2]  # nobody is reading: thin out rather than grow

    def _measure_speed(self, samples, seconds):
        rate = samples / max(seconds, 1e-9)
        self._speed = rate if self._speed == 0 else 0.95 * self._speed + 0.05 * rate

    def _finish_epoch(self) -> EpochRecord:
        train_cost = self._epoch_cost_sum / max(self._epoch_steps, 1)
        self.epoch += 1
        self._pos, self._order = 0, self._permutation(self.epoch)
        self._epoch_cost_sum, self._epoch_steps = 0.0, 0
        return self.record_epoch(train_cost)

    def record_epoch(self, train_cost=float("nan")) -> EpochRecord:
        """Evaluate on the test set and keep the result in ``epochs``."""
        test_cost, test_acc = self.evaluate()
        record = EpochRecord(self.epoch, self.step_count, train_cost, test_cost, test_acc)
        self.epochs.append(record)
        return record

    def check_test(self) -> TestCheck | None:
        """Measure the test set now, between epochs (for a live test curve), and keep the result.

        Only the forward pass runs: training is unaffected. None without a test set. At most
        MAX_TEST_CHECKS are kept, evenly spread: beyond that every other one goes and from then on
        only every 2nd (4th, …) check is kept, the latest one always.
        """
        if self.test is None:
            return None
        cost, accuracy = self.evaluate()
        check = TestCheck(self.step_count, cost, accuracy)
        kept = self._checks
        if kept and kept[-1][1].step == check.step:
            kept.pop()                                  # the same step measured again
        n = self._checks_made
        self._checks_made += 1
        if kept and kept[-1][0] % self._check_stride:   # the last was kept only for being latest
            kept.pop()
        kept.append((n, check))
        if len(kept) > MAX_TEST_CHECKS:
            self._check_stride *= 2
            kept[:] = [(i, c) for i, c in kept if i % self._check_stride == 0 or i == n]
        return check

    @property
    def test_checks(self) -> list:
        """The TestChecks kept so far, oldest first."""
        return [c for _, c in self._checks]

    def evaluate(self, dataset=None) -> tuple:
        """(mean cost, accuracy) on ``dataset``, the test set by default."""
        data = self.test if dataset is None else dataset
        if data is None:
            return float("nan"), float("nan")
        return self.net.evaluate(data.images, data.labels)

    def train_epoch(self, on_step=None) -> EpochRecord:
        """Run steps until the current epoch completes; ``on_step(stats)`` after each one."""
        while True:
            stats = self.step()
            if on_step is not None:
                on_step(stats)
            if stats.epoch_record is not None:
                return stats.epoch_record

    # --- looking inside ----------------------------------------------------------------------
    @property
    def probe_set(self):
        return self.test if self.test is not None else self.train

    def probe_image(self) -> np.ndarray:
        """The probe digit as a (1, 784) row: the drawn one while there is one, else a test image."""
        if self.drawn is not None:
            return np.asarray(self.drawn[0], dtype=self.net.dtype).reshape(1, -1)
        i = self.probe_index % len(self.probe_set.labels)
        return self.probe_set.images[i:i + 1]

    def probe(self) -> Trace:
        """The forward pass of the probe digit through the current network."""
        return self.net.forward(self.probe_image())

    def probe_target(self, trace: Trace) -> tuple:
        """(label, known): a test digit's label; a drawn digit's label if the person gave one, else
        the network's own answer, marked unknown (δ then shows what would make it surer)."""
        if self.drawn is None:
            return int(self.probe_set.labels[self.probe_index % len(self.probe_set.labels)]), True
        if self.drawn[1] is not None:
            return int(self.drawn[1]), True
        return int(np.argmax(trace.output[0])), False

    @property
    def samples_per_second(self) -> float:
        return self._speed

    def config(self) -> dict:
        opt = self.optimizer
        return {**self.net.config(), "lr": opt.lr, "momentum": opt.momentum, "l2": opt.l2,
                "batch_size": self.batch_size, "seed": self.seed}

    def snapshot(self, status=Status.RUNNING, message="", data_source="", run_id=0) -> Snapshot:
        """A frozen copy of the current state, with the cost points since the previous snapshot."""
        pending, self._pending = self._pending, []
        net, last = self.net, self.last
        probe = self.probe()
        i = self.probe_index % len(self.probe_set.labels) if self.drawn is None else -1
        probe_label, label_known = self.probe_target(probe)
        probe_grads = net.backward(probe, one_hot([probe_label], net.sizes[-1], net.dtype))
        L = net.n_layers
        if last is not None:   # ∂C/∂p divided out of the step's −η ∂C/∂p: fresh arrays, sealed not copied
            dW, db = [sealed(g) for g in last.grads.dW], [sealed(g) for g in last.grads.db]
            layer_norms, neuron_norms, ratios = last.layer_norms, last.neuron_norms, last.update_ratios
        else:
            dW, db = [np.zeros_like(W) for W in net.W], [np.zeros_like(b) for b in net.b]
            layer_norms, ratios = np.zeros(L), np.zeros(L)
            neuron_norms = [np.zeros(len(b)) for b in net.b]
        return Snapshot(
            step=self.step_count, epoch=self.epoch, epoch_fraction=self.epoch_fraction,
            steps_per_epoch=self.steps_per_epoch, status=Status(status), config=self.config(),
            W=tuple(map(frozen, net.W)), b=tuple(map(frozen, net.b)),
            dW=tuple(map(sealed, dW)), db=tuple(map(sealed, db)),
            probe_index=i, probe_label=probe_label, probe_label_known=label_known, origin=self.origin,
            probe_z=tuple(frozen(z[0]) for z in probe.z), probe_a=tuple(frozen(a[0]) for a in probe.a),
            probe_delta=tuple(frozen(d[0]) for d in probe_grads.delta),
            grad_layer_norms=frozen(layer_norms), grad_neuron_norms=tuple(map(frozen, neuron_norms)),
            update_ratios=frozen(ratios),
            cost_steps=frozen([p[0] for p in pending]),
            cost_values=frozen([p[1] for p in pending]),
            accuracy_values=frozen([p[2] for p in pending]),
            grad_norm_values=frozen(np.array([p[3] for p in pending]).reshape(len(pending), L)),
            epochs=tuple(self.epochs), test_checks=tuple(self.test_checks),
            samples_per_second=self._speed, message=message,
            data_source=data_source, run_id=run_id, next_batch=self._batch_trace(status),
            silenced=tuple((l, int(j)) for l, js in sorted(net.silenced.items()) for j in js))

    def __repr__(self):
        return (f"Trainer({self.net!r}, {self.optimizer!r}, batch_size={self.batch_size}, "
                f"step={self.step_count}, epoch={self.epoch})")
