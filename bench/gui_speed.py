"""Does watching slow training down? Headless samples/s against the live window's, in one run.

With every panel visible and live, training should keep at least 70% of its headless samples/s
(784-100-10, batch 32) while the window redraws at least 20 times a second.

    QT_QPA_PLATFORM=offscreen python bench/gui_speed.py [--seconds 10] [--json]
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

from threadpoolctl import threadpool_limits  # noqa: E402

from core.data import load_mnist  # noqa: E402
from core.network import Network  # noqa: E402
from core.trainer import Trainer  # noqa: E402

SETTINGS = {"hidden": [100], "activation": "sigmoid", "cost": "cross-entropy", "seed": 0,
            "lr": 0.1, "momentum": 0.9, "batch_size": 32}


def headless(data, seconds: float) -> float:
    """Samples/s of Trainer.step (the worker's own code path, statistics included) with one BLAS thread."""
    net = Network([784, *SETTINGS["hidden"], 10], SETTINGS["activation"], SETTINGS["cost"], seed=0)
    trainer = Trainer(net, data.train, data.test, lr=SETTINGS["lr"], momentum=SETTINGS["momentum"],
                      batch_size=SETTINGS["batch_size"])
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(200):
            trainer.step()  # warm-up
        began, steps = time.perf_counter(), 0
        while time.perf_counter() - began < seconds:
            trainer.step()
            steps += 1
    return steps * SETTINGS["batch_size"] / (time.perf_counter() - began)


def run_events(seconds: float) -> None:
    """Run Qt's event loop for ``seconds``, as the app does (app.exec()). Calling processEvents() in
    a loop instead would keep the GUI thread spinning, taking the GIL between events, which slows
    the worker down far more than drawing does; the app never does that."""
    from PyQt6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    QTimer.singleShot(max(1, round(1000 * seconds)), loop.quit)
    loop.exec()


def measure_panels(window) -> dict:
    """Wrap every panel's show_snapshot and its plots' paintEvent to add up the GUI thread's CPU
    seconds each costs: {panel name: [show seconds, paint seconds]}."""
    import pyqtgraph as pg
    spent = {}

    def timed(fn, account, k):
        def wrapper(*args, **kwargs):
            began = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                account[k] += time.thread_time() - began
        return wrapper

    for panel in window.panels.values():
        account = spent.setdefault(type(panel).__name__, [0.0, 0.0])
        panel.show_snapshot = timed(panel.show_snapshot, account, 0)
        for view in panel.findChildren(pg.GraphicsView):
            view.paintEvent = timed(view.paintEvent, account, 1)
    return spent


def windowed(data, seconds: float, breakdown: bool = False) -> dict:
    """Samples/s of the worker and frames drawn per second with every panel visible; with
    ``breakdown``, also each panel's GUI CPU per frame (the wrapping costs a little itself)."""
    from PyQt6.QtWidgets import QApplication
    from gui.main_window import MainWindow
    app = QApplication.instance() or QApplication([])  # noqa: F841  (the event loop needs it)
    window = MainWindow(SETTINGS, data=data)
    window.show()
    spent = measure_panels(window) if breakdown else {}
    frames = []
    window.snapshot_shown.connect(lambda snap: frames.append(time.perf_counter()))
    while window.last_snapshot is None:
        run_events(0.02)
    visible = [type(p).__name__ for p in window.panels.values() if p.on_screen()]
    window.control.run()
    run_events(1.0)  # warm-up
    start_step, began, gui_began = window.worker.trainer.step_count, time.perf_counter(), time.thread_time()
    frames.clear()
    for account in spent.values():
        account[:] = [0.0, 0.0]
    run_events(seconds)
    elapsed = time.perf_counter() - began
    gui_cpu = time.thread_time() - gui_began
    draw_seconds = [d for t, d in window.frame_times if t >= began]
    frame_wall = getattr(window.worker, "frame_cost", float("nan"))   # as the worker paces by it
    steps = window.worker.trainer.step_count - start_step
    window.close()
    draw_seconds.sort()
    return {"samples_per_second": steps * SETTINGS["batch_size"] / elapsed, "fps": len(frames) / elapsed,
            "median_frame_ms": 1000 * draw_seconds[len(draw_seconds) // 2] if draw_seconds else float("nan"),
            "frame_ms": 1000 * frame_wall, "gui_cpu_share": gui_cpu / elapsed,
            "gui_cpu_ms_per_frame": 1000 * gui_cpu / max(len(frames), 1), "visible_panels": visible,
            "panel_cpu_ms_per_frame": {name: [round(1000 * t / max(len(frames), 1), 2) for t in account]
                                       for name, account in spent.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "mnist"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--breakdown", action="store_true",
                        help="also print each panel's GUI CPU per frame (show_snapshot, paint)")
    args = parser.parse_args(argv)
    data = load_mnist(args.data, progress=False)
    alone = headless(data, args.seconds)
    live = windowed(data, args.seconds, breakdown=args.breakdown)
    alone_after = headless(data, args.seconds)   # before and after, to average out machine noise
    reference = (alone + alone_after) / 2
    result = {"headless_samples_per_second": round(reference, 1),
              "window_samples_per_second": round(live["samples_per_second"], 1),
              "kept": round(live["samples_per_second"] / reference, 3),
              "window_fps": round(live["fps"], 1), "median_frame_ms": round(live["median_frame_ms"], 1),
              "gui_cpu_ms_per_frame": round(live["gui_cpu_ms_per_frame"], 1),
              "frame_ms": round(live["frame_ms"], 1),
              "gui_cpu_share": round(live["gui_cpu_share"], 3),
              "visible_panels": live["visible_panels"], "targets": {"kept": 0.7, "window_fps": 20},
              "platform": os.environ.get("QT_QPA_PLATFORM", "")}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{'headless samples/s':28} {reference:12,.0f}   (before {alone:,.0f}, after {alone_after:,.0f})")
        print(f"{'window samples/s':28} {live['samples_per_second']:12,.0f}   kept {100 * result['kept']:.0f}% (target ≥ 70%)")
        print(f"{'window redraws per second':28} {live['fps']:12.1f}   (target ≥ 20)")
        print(f"{'median frame (draw) time':28} {live['median_frame_ms']:10.1f} ms")
        print(f"{'frame, signal to GUI idle':28} {live['frame_ms']:10.1f} ms   (the worker stands aside for it and paces by it; Qt paints just after)")
        print(f"{'GUI thread CPU per frame':28} {live['gui_cpu_ms_per_frame']:10.1f} ms   "
              f"({100 * live['gui_cpu_share']:.0f}% of a core; draw, paint and the rest)")
        print(f"visible panels: {', '.join(live['visible_panels'])}")
        for name, (show, paint) in live["panel_cpu_ms_per_frame"].items():
            print(f"  {name:24} show_snapshot {show:6.2f} ms   paint {paint:6.2f} ms  (CPU per frame)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
