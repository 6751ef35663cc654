"""The network as it was: a snapshot rebuilt from weights the Timeline saved, and how well those
weights did. Run in the analysis process (gui.jobs) while the Timeline looks back."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from core.network import one_hot
from core.snapshot import Snapshot, Status, frozen, network_from_snapshot
from core.timeline import TimelineEntry

NO_POINTS = frozen(np.zeros(0))
QUICK_SAMPLES = 1000     # test digits behind the accuracy curve over all saved weights


def historical_snapshot(latest: Snapshot, entry: TimelineEntry) -> Snapshot:
    """``latest`` with ``entry``'s weights, step and epoch, and the probe digit's z, a and δ
    recomputed by the core Network for those weights. Its status is "timeline"; it carries no cost
    points and no next-batch trace (they belong to the live run)."""
    past = replace(latest, W=entry.W, b=entry.b, step=entry.step)
    net = network_from_snapshot(past)
    trace = net.forward(np.asarray(latest.probe_a[0])[None, :])
    grads = net.backward(trace, one_hot([latest.probe_label], net.sizes[-1], net.dtype))
    epochs = tuple(r for r in latest.epochs if r.step <= entry.step)
    epoch = epochs[-1].epoch if epochs else 0
    start = epochs[-1].step if epochs else 0
    return replace(
        past, status=Status.TIMELINE, epochs=epochs, epoch=epoch,
        epoch_fraction=min(1.0, (entry.step - start) / max(latest.steps_per_epoch, 1)),
        probe_z=tuple(frozen(z[0]) for z in trace.z), probe_a=tuple(frozen(a[0]) for a in trace.a),
        probe_delta=tuple(frozen(d[0]) for d in grads.delta),
        cost_steps=NO_POINTS, cost_values=NO_POINTS, accuracy_values=NO_POINTS,
        grad_norm_values=frozen(np.zeros((0, len(entry.W)))),
        next_batch=None,   # traced through the live weights, not these
        message=f"weights saved at step {entry.step} (live: step {latest.step})",
        live_step=latest.step)


def past_view(latest: Snapshot, entry: TimelineEntry, test) -> tuple:
    """(historical snapshot, its whole-test-set accuracy or NaN): run off the GUI thread."""
    past = historical_snapshot(latest, entry)
    accuracy = network_from_snapshot(past).evaluate(test.images, test.labels)[1] if test is not None else math.nan
    return past, accuracy


def quick_accuracies(latest: Snapshot, entries, test, progress=None) -> dict:
    """step → accuracy on the first QUICK_SAMPLES test digits of each entry's weights (off the GUI
    thread). ``progress(fraction)`` is called after each entry (it may cancel the job)."""
    images, labels = test.images[:QUICK_SAMPLES], test.labels[:QUICK_SAMPLES]
    out = {}
    for i, entry in enumerate(entries):
        net = network_from_snapshot(replace(latest, W=entry.W, b=entry.b))
        out[entry.step] = float(np.mean(net.predict(images) == labels))
        if progress is not None:
            progress((i + 1) / len(entries))
    return out

