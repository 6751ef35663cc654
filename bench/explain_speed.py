"""How fast are the Why workspace's computations on real MNIST at 784-100-10?

Trains a 784-100-10 sigmoid / cross-entropy network for ``--epochs`` epochs on the real MNIST (the
app's default hyper-parameters), then times each of core.explain's jobs as the window runs them,
with a Snapshot of that network (so ``network_from_snapshot`` is part of the time):

- saliency of one test digit (both gradient maps, gradient × input, the ranked neurons),
- one FGSM of one digit, and the smallest flipping ε (grid + bisection),
- the knock-out evaluation (10,000 digits with and without 3 silenced neurons),
- the ablation scan: 100 neurons × 10,000 test digits,
- the accuracy-vs-ε curve: 10 ε × 10,000 digits,
- ten class dreams (150 ascent steps each, one batch).

Each figure is the median of ``--repeats`` runs (wall clock) with the best and the CPU time; also
prints what the network answers, so a fast wrong answer cannot pass for a result. Targets (issue
#15): saliency and FGSM < 20 ms, scan < 2 s, curve < 3 s, dreams < 1 s.

    PYTHONPATH=. python bench/explain_speed.py [--epochs 3] [--repeats 5] [--threads 1] [--process] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

from bench._common import DEFAULT_MNIST, blas_description, load_mnist, machine_description, threads
from core import explain
from core.network import Network
from core.trainer import Trainer

TARGETS_MS = {"saliency": 20, "fgsm": 20, "smallest ε": None, "knock-out (3 neurons)": None,
              "ablation scan": 2000, "accuracy vs ε": 3000, "ten dreams": 1000}


def timings(fn, repeats: int) -> dict:
    """Median and best wall time, median CPU time (ms) of ``fn()`` over ``repeats`` runs, and its result."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(1000 * (time.perf_counter() - w))
        cpus.append(1000 * (time.process_time() - c))
    return {"median_ms": statistics.median(walls), "best_ms": min(walls), "cpu_ms": statistics.median(cpus),
            "result": result}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_MNIST), help="MNIST IDX folder")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads while timing (default 1)")
    parser.add_argument("--process", action="store_true",
                        help="also time each job as the window asks for it: through gui.jobs.LatestJob and the "
                             "analysis process (request → answer back in the Qt thread)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.epochs < 0 or args.repeats < 1 or args.threads < 1:
        print("explain_speed: --epochs must be ≥ 0, --repeats and --threads ≥ 1", file=sys.stderr)
        return 2
    try:
        train, test, source = load_mnist(args.data)
    except OSError as e:
        print(f"explain_speed: cannot read MNIST at {args.data}: {e}", file=sys.stderr)
        return 1
    trainer = Trainer(Network((784, 100, 10), "sigmoid", "cross-entropy", seed=0), train, test,
                      lr=0.5, batch_size=32, seed=0)
    for _ in range(args.epochs):
        trainer.train_epoch()
    snap = trainer.snapshot("paused")
    accuracy = trainer.evaluate()[1]
    i = 0
    x, y = test.images[i], int(test.labels[i])
    r = args.repeats
    with threads(args.threads):
        rows = measure(snap, test, x, y, r)
    trips = through_process(snap, test, x, y, r) if args.process else {}
    return report(args, source, accuracy, snap, rows, trips)


def through_process(snap, test, x, y, r) -> dict:
    """Median and best ms from ``LatestJob.request`` to its ``done`` signal, for each job the Why
    panels ask for, with the snapshot as they send it (``for_job``); the first request of each
    (which starts the analysis process and puts the test set in shared memory) is left out."""
    from PyQt6.QtCore import QCoreApplication
    through_process.app = QCoreApplication.instance() or QCoreApplication([])   # kept: signals need it
    from gui.jobs import LatestJob
    from gui.panels.why.common import for_job
    sent = for_job(snap)
    jobs = {"saliency": (explain.saliency_job, (sent, x, y, ())),
            "fgsm + targeted + smallest ε": (explain.adversary_job, (sent, x, y, 0.1, (y + 1) % 10, ())),
            "knock-out (3 neurons)": (explain.knockout, (sent, test, ((0, 1), (0, 2), (0, 3)), x)),
            "ablation scan": (explain.ablation_job, (sent, test)),
            "accuracy vs ε": (explain.robustness_job, (sent, test)),
            "ten dreams": (explain.dreams_job, (sent, test, "blank"))}
    out = {}
    for name, (fn, args) in jobs.items():
        job, answered, walls = LatestJob(fn, name=name), [], []
        job.done.connect(lambda result, tag: answered.append(time.perf_counter()))
        job.failed.connect(lambda message: answered.append(message))
        for k in range(r + 1):
            started = time.perf_counter()
            job.request(*args, tag=k)
            job.wait(120)
            if not answered or isinstance(answered[-1], str):
                raise RuntimeError(f"{name}: no answer from the analysis process ({answered[-1:]})")
            if k:
                walls.append(1000 * (answered[-1] - started))
        job.stop()
        out[name] = {"median_ms": statistics.median(walls), "best_ms": min(walls), "remote": job.remote}
    return out


def measure(snap, test, x, y, r) -> dict:
    """Each job's timings (see ``timings``) for digit ``x`` of true label ``y`` and the test set."""
    return {
        "saliency": timings(lambda: explain.saliency_job(snap, x, y), r),
        "fgsm": timings(lambda: explain.fgsm(explain.explained_network(snap), x, y, 0.1), r),
        "smallest ε": timings(lambda: explain.smallest_flip(explain.explained_network(snap), x, y), r),
        "knock-out (3 neurons)": timings(lambda: explain.knockout(snap, test, [(0, 1), (0, 2), (0, 3)], x), r),
        "ablation scan": timings(lambda: explain.ablation_job(snap, test), r),
        "accuracy vs ε": timings(lambda: explain.robustness_job(snap, test), r),
        "ten dreams": timings(lambda: explain.dreams_job(snap, test, "blank"), r),
    }


def report(args, source, accuracy, snap, rows, trips) -> int:
    """Print the table (or JSON) with what the network answered, so a fast wrong answer shows."""
    y = rows["saliency"]["result"].label
    scan, (eps, curve), dreams = (rows["ablation scan"]["result"], rows["accuracy vs ε"]["result"],
                                  rows["ten dreams"]["result"])
    worst = int(scan.order[0])
    answers = {
        "test_accuracy": accuracy,
        "saliency_predicted": rows["saliency"]["result"].predicted, "label": y,
        "fgsm_0.1_predicted": rows["fgsm"]["result"].perturbed_predicted,
        "smallest_flipping_eps": rows["smallest ε"]["result"],
        "knockout_accuracy": rows["knock-out (3 neurons)"]["result"].accuracy,
        "most_harmful_neuron": worst, "its_accuracy_change": float(scan.total[worst]),
        "accuracy_vs_eps": dict(zip(map(float, eps), map(float, curve))),
        "dream_probabilities": [round(float(p), 3) for p in dreams.scores],
        "dream_answers": np.argmax(explain.explained_network(snap).output(dreams.images), axis=1).tolist(),
    }
    figures = {name: {k: v for k, v in row.items() if k != "result"} | {"target_ms": TARGETS_MS[name]}
               for name, row in rows.items()}
    out = {"network": "784-100-10 sigmoid/cross-entropy", "epochs": args.epochs, "data": source,
           "repeats": args.repeats, "threads": args.threads, "figures": figures, "through_process": trips,
           "answers": answers,
           "machine": machine_description(), "blas": blas_description()}
    if args.json:
        print(json.dumps(out, indent=2, default=float))
        return 0
    print(f"784-100-10 after {args.epochs} epochs on {source}: test accuracy {accuracy:.4f}; "
          f"{args.threads} BLAS thread(s), median of {args.repeats}")
    print(f"{'computation':<24}{'median ms':>10}{'best ms':>10}{'CPU ms':>10}{'target ms':>11}")
    for name, f in figures.items():
        target = f"< {f['target_ms']}" if f["target_ms"] else "–"
        print(f"{name:<24}{f['median_ms']:>10.1f}{f['best_ms']:>10.1f}{f['cpu_ms']:>10.1f}{target:>11}")
    if trips:
        print("through LatestJob and the analysis process (request → done signal):")
        for name, f in trips.items():
            print(f"  {name:<30}{f['median_ms']:>10.1f}{f['best_ms']:>10.1f}"
                  + ("" if f["remote"] else "  (ran on a thread: BACKPROP_LENS_BACKEND is not 'process')"))
    print("answers:", json.dumps(answers, default=float))
    print("machine:", out["machine"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
