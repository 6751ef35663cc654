"""What the Over time views cost (issue 16), on real MNIST: a table, or ``--json``.

Measured, each in this process with one BLAS thread (as the trainer and the analysis process run):

* training: ms per step of Trainer.step (784-100-10, batch 32), the yardstick;
* hidden space: ms per projection (core.embedding.project_snapshot, 2,000 test digits, aligned to
  the previous frame) and the share of a core it takes at the panel's pace (one every
  PROJECT_EVERY s): the analysis process's time beside training's; the GUI thread's ms per frame
  (HiddenSpacePanel.draw_projection plus a synchronous repaint of the plot);
* distributions: ms per histogram row (core.histograms.histogram_row) and its share at ROW_EVERY;
  the GUI thread's ms per heat-map redraw (400 rows kept);
* landscape: seconds for a 25 × 25 slice and the 41-point line on 1,000 digits
  (core.landscape.measure_landscape), with a path of 60 saved weights;
* animation: seconds for a 200-frame GIF (and MP4, when PyAV is installed) of the Weights panel
  across 200 saved weights (gui.animation.AnimationExport: each drawn by the panel and grabbed).

With ``--window``, also the real window (trainer and analysis processes, as the app runs): steps
per second of training with the Over time workspace on screen against the Overview, alternated
A B A B for ``--seconds`` each, and the GUI thread's ms per live snapshot there.

Targets: embedding ≤ 5 ms GUI time a frame and its projection ≤ 5% of training time; slice < 10 s;
200-frame GIF < 20 s.

    QT_QPA_PLATFORM=offscreen python bench/overtime_speed.py [--json] [--frames 200] [--data DIR]
                                                             [--window [--seconds 6]]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

TARGETS = {"embedding_gui_ms": 5.0, "projection_share": 0.05, "landscape_s": 10.0, "gif_s": 20.0}


def timed(fn, repeat: int) -> list:
    """Seconds of each of ``repeat`` calls of ``fn()``."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def ms(values) -> dict:
    v = sorted(values)
    return {"median": 1000 * statistics.median(v), "p95": 1000 * v[min(len(v) - 1, int(0.95 * len(v)))]}


def train_run(data, steps: int, every: int):
    """A 784-100-10 trainer after ``steps`` steps, a snapshot every ``every`` steps, and the
    seconds per step measured meanwhile."""
    from core.network import Network
    from core.trainer import Trainer
    trainer = Trainer(Network((784, 100, 10), seed=0), data.train, data.test, lr=0.5, batch_size=32)
    snaps, times = [trainer.snapshot("running")], []
    for s in range(1, steps + 1):
        t = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - t)
        if s % every == 0:
            snaps.append(trainer.snapshot("running"))
    return trainer, snaps, times


def bench_embedding(data, snaps, app) -> dict:
    from core.embedding import choose_digits, project_snapshot
    from gui.panels.overtime import hidden_space
    idx = choose_digits(data.test.labels, 2000)
    previous = project_snapshot(snaps[0], data.test, idx, 1)
    projections, times = [previous], []
    for s in snaps[1:]:
        t = time.perf_counter()
        previous = project_snapshot(s, data.test, idx, 1, previous)
        times.append(time.perf_counter() - t)
        projections.append(previous)
    panel = hidden_space.HiddenSpacePanel()
    panel.resize(640, 560)
    panel.show()
    panel.set_dataset(data.test)
    for p in projections[:5]:           # warm up: items built, axes laid out
        panel.draw_projection(p)
        app.processEvents()
    gui = []
    for p in projections:
        t = time.perf_counter()
        panel.draw_projection(p)
        panel.view_widget.viewport().repaint()
        gui.append(time.perf_counter() - t)
    panel.close()
    t_proj = statistics.median(times)
    return {"projection_ms": ms(times), "gui_ms": ms(gui), "every_s": hidden_space.PROJECT_EVERY,
            "share_of_a_core": t_proj / (hidden_space.PROJECT_EVERY + t_proj)}


def bench_histograms(data, snaps, app) -> dict:
    from core.histograms import histogram_row
    from gui.panels.overtime import distributions
    row, edges = histogram_row(snaps[0], data.test)
    rows, times = [row], []
    for s in snaps[1:]:
        t = time.perf_counter()
        rows.append(histogram_row(s, data.test, edges)[0])
        times.append(time.perf_counter() - t)
    panel = distributions.DistributionsPanel()
    panel.resize(800, 560)
    panel.show()
    history = panel.run_a.history
    history.edges = edges
    for k in range(history.limit):      # a full history: the rows again at later steps
        r = rows[k % len(rows)]
        history.add(type(r)(1000 * (k + 1), r.run_id, r.histograms))
    panel.layer_box.addItems(["layer 1", "layer 2"])
    panel._draw()
    app.processEvents()
    gui = timed(lambda: (panel._draw(), panel.graphics.viewport().repaint()), 30)
    panel.close()
    t_row = statistics.median(times)
    return {"row_ms": ms(times), "gui_redraw_ms": ms(gui), "every_s": distributions.ROW_EVERY,
            "share_of_a_core": t_row / (distributions.ROW_EVERY + t_row), "rows_drawn": len(history)}


def bench_landscape(data, trainer, snaps) -> dict:
    from core.landscape import GRID, SUBSET, LandscapeTask, Params, measure_landscape, subset_indices
    net = trainer.net
    saved = tuple(Params(s.W, s.b) for s in snaps)
    task = LandscapeTask(trainer.config(), Params(tuple(net.W), tuple(net.b)), None, saved,
                         tuple(s.step for s in snaps), subset_indices(len(data.train.labels), SUBSET),
                         subset_indices(len(data.test.labels), SUBSET), grid=GRID, step=trainer.step_count)
    times = timed(lambda: measure_landscape(task, data.train, data.test), 3)
    result = measure_landscape(task, data.train, data.test)
    mid = GRID // 2
    X = data.train.images[task.train_idx]
    y = data.train.labels[task.train_idx]
    return {"grid": GRID, "digits": SUBSET, "path_points": len(saved), "seconds": statistics.median(times),
            "all_s": times, "centre_cost": float(result.costs[mid, mid]),
            "network_cost": float(net.evaluate(X, y)[0]), "in_plane": result.plane.in_plane}


def bench_animation(data, frames: int, app) -> dict:
    from core.network import Network
    from core.timeline import Timeline
    from core.trainer import Trainer
    from gui.animation import AnimationExport, timeline_snapshots
    from gui.panels.weights import WeightsPanel
    trainer = Trainer(Network((784, 100, 10), seed=0), data.train, data.test, lr=0.5, batch_size=32)
    timeline = Timeline(capacity=frames, every=5)
    for _ in range(frames):
        timeline.offer(trainer.step_count, trainer.net.W, trainer.net.b)
        for _ in range(5):
            trainer.step()
    latest = trainer.snapshot("paused")
    panel = WeightsPanel()
    panel.resize(640, 480)
    panel.show()
    app.processEvents()
    out = {"frames": frames, "panel_px": [panel.width(), panel.height()]}
    folder = Path(tempfile.mkdtemp(prefix="overtime-bench-"))
    for suffix in (".gif", ".mp4"):
        if suffix == ".mp4":
            try:
                import av  # noqa: F401
            except ImportError:
                out["mp4_s"] = None
                continue
        path = folder / f"weights{suffix}"
        started = time.perf_counter()
        snaps = timeline_snapshots(latest, timeline.entries, frames)
        export = AnimationExport(panel, path, fps=20, snapshots=snaps, name="Weights")
        result = []
        export.finished.connect(result.append)
        export.failed.connect(result.append)
        export.start()
        while not result:
            app.processEvents()
        seconds = time.perf_counter() - started
        out[f"{suffix[1:]}_s"] = seconds
        out[f"{suffix[1:]}_mb"] = path.stat().st_size / 2**20 if path.exists() else None
        out[f"{suffix[1:]}_result"] = "ok" if result[0] == str(path) else result[0]
    panel.close()
    return out


def bench_window(data, seconds: float, app) -> dict:
    """Steps/s of training in the real window, Overview against Over time (alternated twice), and
    the GUI thread's time per live snapshot with Over time shown."""
    from gui.main_window import MainWindow
    window = MainWindow({"hidden": [100], "batch_size": 32}, data=data)
    window.show()

    def pump(s):
        end = time.monotonic() + s
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.001)
    pump(1.0)
    rates = {"Overview": [], "Over time": []}
    frames = []
    for name in ("Overview", "Over time", "Overview", "Over time"):
        window.show_workspace(name)
        pump(0.5)
        window.training.run()
        pump(1.0)                                  # past the gentle start, the jobs under way
        first, began = window.last_snapshot.step, time.monotonic()
        window.frame_times.clear()
        pump(seconds)
        rates[name].append((window.last_snapshot.step - first) / (time.monotonic() - began))
        if name == "Over time":
            frames += [t for _, t in window.frame_times]
        window.training.pause()
        pump(0.5)
    window.close_without_asking()
    overview, overtime = statistics.mean(rates["Overview"]), statistics.mean(rates["Over time"])
    return {"steps_per_s_overview": overview, "steps_per_s_over_time": overtime, "kept": overtime / overview,
            "runs": rates, "gui_ms_per_snapshot": ms(frames) if frames else None, "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--frames", type=int, default=200, help="frames of the GIF (default 200)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "mnist"), help="folder of MNIST's IDX files")
    parser.add_argument("--window", action="store_true", help="also measure training in the real window")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds of each window run (default 6)")
    args = parser.parse_args(argv)
    from core.data import DataError, load_mnist
    try:
        data = load_mnist(args.data, download=False, progress=False)
    except DataError as e:
        print(f"overtime_speed: {e}", file=sys.stderr)
        return 2
    from PyQt6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    with threadpool_limits(1):
        trainer, snaps, step_times = train_run(data, 600, 10)
        figures = {
            "data": data.source,
            "training_step_ms": ms(step_times),
            "embedding": bench_embedding(data, snaps, app),
            "distributions": bench_histograms(data, snaps, app),
            "landscape": bench_landscape(data, trainer, snaps),
            "animation": bench_animation(data, args.frames, app),
        }
    if args.window:
        figures["window"] = bench_window(data, args.seconds, app)
    figures["targets"] = TARGETS
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_table(figures)
    return 0


def print_table(f: dict) -> None:
    e, d, l, a = f["embedding"], f["distributions"], f["landscape"], f["animation"]
    rows = [
        ("training step (784-100-10, batch 32)", f"{f['training_step_ms']['median']:.2f} ms", ""),
        ("hidden space: projection of 2,000 digits", f"{e['projection_ms']['median']:.1f} ms (p95 "
         f"{e['projection_ms']['p95']:.1f})", ""),
        (f"  share of a core at one per {e['every_s']} s", f"{100 * e['share_of_a_core']:.1f}%",
         f"≤ {100 * TARGETS['projection_share']:.0f}%"),
        ("  GUI time a frame (points + repaint)", f"{e['gui_ms']['median']:.2f} ms (p95 {e['gui_ms']['p95']:.2f})",
         f"≤ {TARGETS['embedding_gui_ms']:.0f} ms"),
        ("distributions: one histogram row", f"{d['row_ms']['median']:.1f} ms", ""),
        (f"  share of a core at one per {d['every_s']} s", f"{100 * d['share_of_a_core']:.1f}%", "≤ 2%"),
        (f"  GUI redraw ({d['rows_drawn']} rows)", f"{d['gui_redraw_ms']['median']:.1f} ms", ""),
        (f"landscape {l['grid']}×{l['grid']} + line, {l['digits']:,} digits", f"{l['seconds']:.2f} s",
         f"< {TARGETS['landscape_s']:.0f} s"),
        ("  centre cost / network's own cost", f"{l['centre_cost']:.6f} / {l['network_cost']:.6f}", "equal"),
        (f"GIF, {a['frames']} frames of Weights ({a['panel_px'][0]}×{a['panel_px'][1]})",
         f"{a['gif_s']:.1f} s, {a['gif_mb']:.2f} MB", f"< {TARGETS['gif_s']:.0f} s"),
        (f"MP4, {a['frames']} frames", "PyAV not installed" if a.get("mp4_s") is None else
         f"{a['mp4_s']:.1f} s, {a['mp4_mb']:.2f} MB", ""),
    ]
    w = f.get("window")
    if w:
        rows += [
            ("window: training steps/s, Overview", f"{w['steps_per_s_overview']:,.0f}", ""),
            ("  with Over time on screen", f"{w['steps_per_s_over_time']:,.0f} ({100 * w['kept']:.0f}% kept)", ""),
            ("  GUI ms per live snapshot (Over time)", f"{w['gui_ms_per_snapshot']['median']:.2f} (p95 "
             f"{w['gui_ms_per_snapshot']['p95']:.2f})", ""),
        ]
    width = max(len(r[0]) for r in rows) + 2
    print(f"Over time views on {f['data']}")
    for name, value, target in rows:
        print(f"{name:<{width}}{value:<28}{target}")


if __name__ == "__main__":
    from gui.app import exit_without_teardown
    exit_without_teardown(main())
