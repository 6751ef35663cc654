"""Does watching slow training down? Headless samples/s against the live window's, in one run.

For each network (784-100-10, 784-512-10, 784-256-128-64-10 at batch 32) this measures, side by
side in one run: training's samples/s alone (Trainer.step in this process, one BLAS thread, before
and after the windowed run) and with the window open on its default (Overview) workspace while
training runs; how often each visible panel redraws (paint events of its busiest widget); and two
latencies: Step pressed (paused) until every visible panel has painted the new step, and a weight
tile clicked (training running) until the neuron inspector has painted that neuron.

Targets (issue 13): every visible panel ≥ 25 redraws/s, training keeps ≥ 90% of headless, Step
p95 ≤ 50 ms, tile click p95 ≤ 100 ms.

    QT_QPA_PLATFORM=offscreen python bench/gui_speed.py [--seconds 8] [--json]
    Xvfb :99 -screen 0 1920x1080x24 &  DISPLAY=:99 QT_QPA_PLATFORM=xcb python bench/gui_speed.py
    ... --backend thread          the old way: training in a thread of the window's process
    ... --pacer-interval 0.033    what-if: panels' own redraw pacing (10/s today) set to this
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from core.data import load_mnist  # noqa: E402
from core.network import Network  # noqa: E402
from core.trainer import Trainer  # noqa: E402

NETWORKS = {"784-100-10": [100], "784-512-10": [512], "784-256-128-64-10": [256, 128, 64]}
TARGETS = {"kept": 0.9, "panel_redraws_per_second": 25, "step_p95_ms": 50, "click_p95_ms": 100}


def settings_for(hidden) -> dict:
    return {"hidden": list(hidden), "activation": "sigmoid", "cost": "cross-entropy", "seed": 0,
            "lr": 0.1, "momentum": 0.9, "batch_size": 32}


def headless(data, hidden, seconds: float) -> tuple[float, float]:
    """Samples/s of Trainer.step (the worker's own code path, statistics included) with one BLAS
    thread, and samples per CPU-second of this thread (less sensitive to other load than wall time)."""
    s = settings_for(hidden)
    net = Network([784, *hidden, 10], s["activation"], s["cost"], seed=0)
    trainer = Trainer(net, data.train, data.test, lr=s["lr"], momentum=s["momentum"], batch_size=s["batch_size"])
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(200):
            trainer.step()  # warm-up
        began, cpu, steps = time.perf_counter(), time.thread_time(), 0
        while time.perf_counter() - began < seconds:
            trainer.step()
            steps += 1
    samples = steps * s["batch_size"]
    return samples / (time.perf_counter() - began), samples / (time.thread_time() - cpu)


# --- the window, watched ------------------------------------------------------------------------
def run_events(seconds: float) -> None:
    """Run Qt's event loop for ``seconds``, as the app does (app.exec()), never spinning."""
    from PyQt6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    QTimer.singleShot(max(1, round(1000 * seconds)), loop.quit)
    loop.exec()


def make_paint_watch():
    """A QObject event filter that notes, per panel and widget, when each paint has finished."""
    from PyQt6.QtCore import QEvent, QObject, QTimer

    class PaintWatch(QObject):
        def __init__(self):
            super().__init__()
            self.owner = {}          # widget → panel name
            self.paints = {}         # (panel, widget id) → count
            self.last_paint = {}     # panel → perf_counter when its latest paint was done
            self.listeners = []

        def watch(self, name, panel):
            from PyQt6.QtWidgets import QWidget
            for widget in [panel, *panel.findChildren(QWidget)]:
                self.owner[widget] = name
                widget.installEventFilter(self)

        def reset(self):
            self.paints.clear()

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and obj in self.owner:
                name = self.owner[obj]
                key = (name, id(obj))
                self.paints[key] = self.paints.get(key, 0) + 1
                QTimer.singleShot(0, lambda: self._done(name))   # after this paint has been done
            return False

        def _done(self, name):
            self.last_paint[name] = time.perf_counter()
            for listener in list(self.listeners):
                listener()

        def redraws(self) -> dict:
            """Paints of each panel's busiest widget."""
            out = {}
            for (name, _), count in self.paints.items():
                out[name] = max(out.get(name, 0), count)
            return out

    return PaintWatch()


def wait_until(condition, timeout: float, watch, *signals) -> bool:
    """Run the event loop until ``condition()`` holds (checked on every paint done and every emit of
    ``signals``) or ``timeout`` s pass; True when it held."""
    from PyQt6.QtCore import QEventLoop, QTimer
    if condition():
        return True
    loop = QEventLoop()

    def check(*_):
        if condition():
            loop.quit()
    watch.listeners.append(check)
    for signal in signals:
        signal.connect(check)
    QTimer.singleShot(max(1, round(1000 * timeout)), loop.quit)
    loop.exec()
    watch.listeners.remove(check)
    for signal in signals:
        signal.disconnect(check)
    return condition()


def time_show_snapshot(window) -> dict:
    """Wrap every panel's show_snapshot to add up its wall seconds: {panel: [calls, seconds]}."""
    spent = {}
    for name, panel in window.panels.items():
        account = spent.setdefault(name, [0, 0.0])

        def timed(*args, _fn=panel.show_snapshot, _account=account, **kwargs):
            began = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                _account[0] += 1
                _account[1] += time.perf_counter() - began
        panel.show_snapshot = timed
    return spent


def set_pacers(window, interval: float) -> int:
    """What-if: every panel's RedrawPacer at ``interval`` s; how many pacers were changed."""
    from gui.widgets import RedrawPacer
    changed = 0
    for panel in window.panels.values():
        for value in vars(panel).values():
            if isinstance(value, RedrawPacer):
                value.interval = interval
                changed += 1
    return changed


def process_cpu(pid) -> float | None:
    """CPU seconds process ``pid`` has used (Linux /proc), or None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(samples) -> dict:
    a = np.asarray(samples, dtype=float) * 1000
    if a.size == 0:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None, "n": 0}
    return {"p50_ms": round(float(np.percentile(a, 50)), 1), "p95_ms": round(float(np.percentile(a, 95)), 1),
            "max_ms": round(float(a.max()), 1), "n": int(a.size)}


def step_latencies(window, watch, visible, trials: int) -> tuple[list, list]:
    """Paused: Step pressed → every visible panel has painted after the new step was shown."""
    out, missing = [], set()
    for _ in range(trials):
        target = window.last_snapshot.step + 1
        shown_at = {}
        window.snapshot_shown.connect(lambda snap, t=target: shown_at.setdefault("t", time.perf_counter())
                                      if snap.step == t else None)
        began = time.perf_counter()
        window.controls.step_action.trigger()

        def all_painted():
            t = shown_at.get("t")
            return t is not None and all(watch.last_paint.get(name, 0) >= t for name in visible)
        ok = wait_until(all_painted, 1.0, watch, window.snapshot_shown)
        window.snapshot_shown.disconnect()
        if ok:
            out.append(max(watch.last_paint[name] for name in visible) - began)
        else:
            missing |= {name for name in visible if watch.last_paint.get(name, 0) < shown_at.get("t", began)}
        run_events(0.03)
    return out, sorted(missing)


def click_latencies(window, watch, trials: int, n_hidden: int) -> list:
    """Training runs: a weight tile clicked → the Neuron inspector has painted that neuron."""
    out = []
    weights, neuron = window.panels["Weights"], window.panels["Neuron"]
    for i in range(trials):
        j = (7 * i + 1) % n_hidden
        began = time.perf_counter()
        weights.neuron_clicked.emit(0, j)
        ok = wait_until(lambda: neuron.neuron == (0, j) and watch.last_paint.get("Neuron", 0) > began
                        and window.docks["Neuron"].isVisible(), 2.0, watch)
        if ok:
            out.append(watch.last_paint["Neuron"] - began)
        run_events(0.1)
    return out


def windowed(data, hidden, seconds: float, trials: int, pacer_interval: float | None) -> dict:
    """The window open on its default workspace while training runs: samples/s, redraws, latencies."""
    from PyQt6.QtWidgets import QApplication
    from gui.main_window import MainWindow
    app = QApplication.instance() or QApplication([])  # noqa: F841  (the event loop needs it)
    window = MainWindow(settings_for(hidden), data=data)
    window.resize(1600, 1000)
    window.show()
    gc.freeze()     # as gui.app.run_app does once the window is built
    window.training.gentle = False
    while window.last_snapshot is None:
        run_events(0.02)
    run_events(0.5)
    if pacer_interval is not None:
        set_pacers(window, pacer_interval)
    visible = [name for name, p in window.panels.items() if p.on_screen()]
    watch = make_paint_watch()
    for name in visible:
        watch.watch(name, window.panels[name])
    watch.watch("Neuron", window.panels["Neuron"])
    spent = time_show_snapshot(window)
    frames = []
    window.snapshot_shown.connect(lambda snap: frames.append(time.perf_counter()))

    window.control.run()
    run_events(1.0)  # warm-up
    frames.clear()
    watch.reset()
    for account in spent.values():
        account[:] = [0, 0.0]
    trainer_pid = getattr(getattr(window.worker, "process", None), "pid", None)   # None: the thread backend
    trainer_cpu = process_cpu(trainer_pid) if trainer_pid else None
    start_step, began, window_cpu = window.worker.trainer.step_count, time.perf_counter(), time.process_time()
    run_events(seconds)
    steps, elapsed = window.worker.trainer.step_count - start_step, time.perf_counter() - began
    window_cpu = (time.process_time() - window_cpu) / elapsed
    if trainer_cpu is not None:
        trainer_cpu = (process_cpu(trainer_pid) - trainer_cpu) / elapsed
    fps = round(len(frames) / elapsed, 1)
    redraws = {name: round(count / elapsed, 1) for name, count in watch.redraws().items() if name in visible}
    show_ms = {name: round(1000 * t / n, 2) for name, (n, t) in spent.items() if n and name in visible}
    clicks = click_latencies(window, watch, trials, hidden[0])
    window.control.pause()
    wait_until(lambda: window.last_snapshot.status == "paused", 3.0, watch, window.snapshot_shown)
    run_events(0.3)
    steps_lat, missing = step_latencies(window, watch, visible, trials)
    backend = window.training.backend
    window.close()
    samples = steps * settings_for(hidden)["batch_size"]
    return {"samples_per_second": samples / elapsed,
            "samples_per_trainer_cpu_second": samples / (trainer_cpu * elapsed) if trainer_cpu else None,
            "window_fps": fps, "visible_panels": visible,
            "window_process_cpu": round(window_cpu, 2),
            "trainer_process_cpu": None if trainer_cpu is None else round(trainer_cpu, 2),
            "panel_redraws_per_second": redraws, "panel_show_snapshot_ms": show_ms,
            "step_latency": percentiles(steps_lat), "step_never_painted": missing,
            "click_latency": percentiles(clicks), "backend": backend}


def measure(data, name, hidden, args) -> dict:
    (alone, alone_cpu) = headless(data, hidden, args.seconds / 2)
    live = windowed(data, hidden, args.seconds, args.trials, args.pacer_interval)
    (alone_after, alone_cpu_after) = headless(data, hidden, args.seconds / 2)   # before and after: machine noise
    reference, reference_cpu = (alone + alone_after) / 2, (alone_cpu + alone_cpu_after) / 2
    per_cpu = live.pop("samples_per_trainer_cpu_second")
    slowest = min(live["panel_redraws_per_second"].values(), default=0.0)
    return {"network": name, "headless_samples_per_second": round(reference),
            "headless_before_after": [round(alone), round(alone_after)],
            "window_samples_per_second": round(live["samples_per_second"]),
            "kept": round(live["samples_per_second"] / reference, 3),
            "headless_samples_per_cpu_second": round(reference_cpu),
            "trainer_samples_per_cpu_second": None if per_cpu is None else round(per_cpu),
            "kept_per_cpu_second": None if per_cpu is None else round(per_cpu / reference_cpu, 3),
            "slowest_panel_redraws_per_second": slowest, **{k: v for k, v in live.items() if k != "samples_per_second"}}


def print_result(r: dict) -> None:
    print(f"\n{r['network']}  (backend: {r['backend']})")
    print(f"  headless samples/s {r['headless_samples_per_second']:>10,}   (before {r['headless_before_after'][0]:,}, "
          f"after {r['headless_before_after'][1]:,})")
    print(f"  window samples/s   {r['window_samples_per_second']:>10,}   kept {100 * r['kept']:.0f}% "
          f"(target ≥ {100 * TARGETS['kept']:.0f}%)")
    if r["kept_per_cpu_second"] is not None:
        print(f"  per CPU-second     {r['trainer_samples_per_cpu_second']:>10,}   vs headless "
              f"{r['headless_samples_per_cpu_second']:,}: {100 * r['kept_per_cpu_second']:.0f}% (what the trainer does besides "
              "steps: snapshots, test checks; and what sharing the machine costs a CPU-second)")
    print(f"  snapshots shown/s  {r['window_fps']:>10}")
    trainer = r["trainer_process_cpu"]
    print(f"  CPU, cores used    window process {r['window_process_cpu']:.2f}"
          + (f", trainer process {trainer:.2f}" if trainer is not None else " (trainer thread included)"))
    for name, rate in r["panel_redraws_per_second"].items():
        show = r["panel_show_snapshot_ms"].get(name)
        show_text = f"   show_snapshot {show:.1f} ms a call" if show is not None else ""
        print(f"  {name:18} {rate:6.1f} redraws/s{show_text}")
    s, c = r["step_latency"], r["click_latency"]
    print(f"  Step → every visible panel painted: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, max {s['max_ms']} "
          f"(n={s['n']}; target p95 ≤ {TARGETS['step_p95_ms']} ms)"
          + (f"; never painted in 1 s: {', '.join(r['step_never_painted'])}" if r["step_never_painted"] else ""))
    print(f"  tile click → inspector painted:     p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms, max {c['max_ms']} "
          f"(n={c['n']}; target p95 ≤ {TARGETS['click_p95_ms']} ms)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "mnist"))
    parser.add_argument("--seconds", type=float, default=8.0, help="windowed seconds per network (headless: half before, half after)")
    parser.add_argument("--trials", type=int, default=30, help="presses and clicks per latency")
    parser.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated, of: " + ", ".join(NETWORKS))
    parser.add_argument("--backend", choices=("process", "thread"), default="process")
    parser.add_argument("--pacer-interval", type=float, default=None,
                        help="what-if: set every panel's redraw pacer to this many seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    unknown = [n for n in args.networks.split(",") if n not in NETWORKS]
    if unknown:
        parser.error(f"unknown network {unknown[0]!r}; choose from {', '.join(NETWORKS)}")
    os.environ["BACKPROP_LENS_BACKEND"] = args.backend
    data = load_mnist(args.data, progress=False)
    results = [measure(data, name, NETWORKS[name], args) for name in args.networks.split(",")]
    report = {"platform": os.environ.get("QT_QPA_PLATFORM", ""), "backend": args.backend,
              "pacer_interval": args.pacer_interval, "load_average": os.getloadavg(), "targets": TARGETS,
              "results": results}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"platform {report['platform']}, backend {args.backend}, load average before "
              f"{', '.join(f'{x:.2f}' for x in report['load_average'])}")
        for r in results:
            print_result(r)
    return 0


if __name__ == "__main__":
    from gui.app import exit_without_teardown
    exit_without_teardown(main())
