"""Soak: 200,000 training steps with the snapshot stream on; resident memory must stay flat.

Runs the real TrainingThread (784-100-10, batch 32) under a Qt event loop that takes every
snapshot from the mailbox and feeds it to the panels that keep histories (cost curves and
gradients), as the window does. Reports resident memory (RSS) at intervals and its growth after
warm-up. Target: growth under 50 MB.

    QT_QPA_PLATFORM=offscreen python bench/soak.py [--steps 200000] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    """Resident set size of this process in MB, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "mnist"))
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from PyQt6.QtWidgets import QApplication
    from core.data import load_mnist
    from gui.panels.curves import CurvesPanel
    from gui.panels.gradients import GradientsPanel
    from gui.training_thread import TrainingThread

    app = QApplication.instance() or QApplication([])
    data = load_mnist(args.data, progress=False)
    panels = [CurvesPanel(), GradientsPanel()]
    for p in panels:
        p.resize(600, 400)
        p.show()
    settings = {"hidden": [100], "activation": "sigmoid", "cost": "cross-entropy", "seed": 0,
                "lr": 0.05, "momentum": 0.9, "batch_size": 32}
    worker = TrainingThread(data, settings)
    samples, snapshots = [], [0]
    warm_step = min(20_000, args.steps // 10)

    def on_snapshot():
        snap = worker.mailbox.take()
        if snap is None:
            return
        snapshots[0] += 1
        for p in panels:
            p.show_snapshot(snap)
        if not samples or snap.step - samples[-1][0] >= args.steps // 20:
            samples.append((snap.step, rss_mb()))
        if snap.step >= args.steps:
            worker.control.stop()

    worker.snapshot_ready.connect(on_snapshot)
    worker.finished.connect(app.quit)
    began = time.perf_counter()
    worker.start()
    worker.control.step(args.steps)
    app.exec()
    worker.wait()
    seconds = time.perf_counter() - began
    base = next((mb for step, mb in samples if step >= warm_step), samples[0][1])
    peak = max(mb for _, mb in samples)
    result = {"steps": worker.trainer.step_count, "snapshots": snapshots[0], "seconds": round(seconds, 1),
              "rss_after_warmup_mb": round(base, 1), "rss_peak_mb": round(peak, 1),
              "growth_mb": round(peak - base, 1), "target_growth_mb": 50,
              "history_points": len(worker.trainer.history), "rss_samples": samples}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{'step':>8} {'RSS MB':>8}")
        for step, mb in samples:
            print(f"{step:8d} {mb:8.1f}")
        print(f"{result['steps']} steps, {result['snapshots']} snapshots in {seconds:.0f} s; RSS growth after "
              f"step {warm_step}: {result['growth_mb']} MB (target < 50 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
