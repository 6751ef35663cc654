"""How fast the NumPy core trains, next to PyTorch on the same CPU, and how soon it reaches 98 %.

Three figures, one run:

1. Training throughput (samples/s) of the same MLP in the core and in PyTorch: same sizes, batch,
   float32, thread count, sample order, initial weights, SGD with momentum, softmax cross-entropy,
   sigmoid hidden layer. The core is measured as a bare forward+backward+SGD loop and through
   ``Trainer.step()``, which also computes the per-step statistics the window draws.
2. GFLOP/s of one core training step (784-512-10, batch 256) against the best GFLOP/s np.matmul
   reaches on the same shapes, dtype and threads.
3. Seconds of training the core needs to reach 98 % test accuracy on the full MNIST (evaluation
   time not counted), and PyTorch with the same settings for reference.

Usage (from the project root)::

    PYTHONPATH=. python bench/throughput.py            # ~1-3 minutes
    PYTHONPATH=. python bench/throughput.py --quick    # ~30 s smoke run
    PYTHONPATH=. python bench/throughput.py --json > bench.json   # table on stderr, JSON on stdout

OpenBLAS kernel: some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE to pin an older kernel (a
safeguard for old OpenBLAS builds; on this workplace's AMD EPYC it pins Haswell and slows a current
NumPy). The benchmark is meant to measure NumPy as it runs on a user's machine, so it restarts itself
once, before NumPy loads, with those two variables removed from its own environment only, and prints
the kernel OpenBLAS then picks. ``--pinned-kernel`` keeps them. PyTorch uses its own BLAS either way.

Threads are pinned (threadpoolctl for NumPy's BLAS, ``torch.set_num_threads``) to the same count for
every contender, 1 by default: on a busy 2-core machine two BLAS threads on small matrices can be
many times slower than one.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

# OpenBLAS reads its kernel choice when NumPy loads: restart before `import numpy` (see above).
KERNEL_PINS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UNPINNED_NOTE = "BACKPROP_LENS_BENCH_UNPINNED"
if (__name__ == "__main__" and "--pinned-kernel" not in sys.argv
        and any(k in os.environ for k in KERNEL_PINS)):
    _env = {k: v for k, v in os.environ.items() if k not in KERNEL_PINS}
    _env[UNPINNED_NOTE] = " ".join(f"{k}={os.environ[k]}" for k in KERNEL_PINS if k in os.environ)
    os.execve(sys.executable, [sys.executable, *sys.argv], _env)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from _common import (DEFAULT_MNIST, blas_description, interleaved, load_mnist,  # noqa: E402
                     machine_description, median, threads, timed, timed_both, torch_or_none)

from core.network import Network, one_hot  # noqa: E402
from core.optim import SGD  # noqa: E402
from core.trainer import Trainer  # noqa: E402

OUT = sys.stdout


def say(*parts):
    print(*parts, file=OUT, flush=True)


def note(*parts):
    print(*parts, file=sys.stderr, flush=True)


# --- the sample order every contender follows ---------------------------------------------------
class BatchOrder:
    """Mini-batch indices in exactly the order ``Trainer`` uses (a permutation per (seed, epoch))."""

    def __init__(self, n: int, batch: int, seed: int = 0):
        self.n, self.batch, self.seed = n, batch, seed
        self.epoch, self.pos = 0, 0
        self.order = self._perm(0)

    def _perm(self, epoch):
        return np.random.default_rng([self.seed, epoch]).permutation(self.n)

    def next(self) -> np.ndarray:
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += len(idx)
        if self.pos >= self.n:
            self.epoch += 1
            self.pos, self.order = 0, self._perm(self.epoch)
        return idx


# --- contenders: each runs `steps` mini-batches and returns how many samples it saw ---------------
class CoreLoop:
    """The core without the trainer: Network.forward, Network.backward (scaled by −η), SGD.apply."""

    def __init__(self, net: Network, train, batch, lr, momentum, seed=0):
        self.net, self.train = net, train
        self.opt = SGD(lr, momentum)
        self.batches = BatchOrder(len(train.labels), batch, seed)

    def step(self):
        idx = self.batches.next()
        net = self.net
        X = self.train.images[idx]
        Y = one_hot(self.train.labels[idx], net.sizes[-1], net.dtype)
        deltas = net.backward(net.forward(X), Y, scale=-self.opt.lr)  # Δp = −η ∂C/∂p
        self.opt.apply(net.params(), deltas.params())
        return len(idx)

    def run(self, steps):
        return sum(self.step() for _ in range(steps))


class CoreTrainer:
    """The core through Trainer.step(): the same maths plus the per-step statistics."""

    def __init__(self, net: Network, train, batch, lr, momentum, seed=0):
        self.trainer = Trainer(net, train, None, lr=lr, momentum=momentum, batch_size=batch, seed=seed)

    def run(self, steps):
        step = self.trainer.step
        return sum(len(step().trace.a[0]) for _ in range(steps))


class TorchLoop:
    """The same MLP in idiomatic eager PyTorch: nn.Sequential, F.cross_entropy, optim.SGD."""

    def __init__(self, net: Network, train, batch, lr, momentum, seed=0):
        torch = torch_or_none()
        self.torch, self.F = torch, torch.nn.functional
        layers = []
        for l, (W, b) in enumerate(zip(net.W, net.b)):
            lin = torch.nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():  # start from the core's weights, so both learn the same thing
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if l < net.n_layers - 1:
                layers.append(torch.nn.ReLU() if net.activation.name == "relu" else torch.nn.Sigmoid())
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)
        with warnings.catch_warnings():  # read-only arrays: torch warns, but we never write to them
            warnings.simplefilter("ignore", UserWarning)
            self.images = torch.from_numpy(train.images)
            self.labels = torch.from_numpy(train.labels)
        self.batches = BatchOrder(len(train.labels), batch, seed)

    def set_lr(self, lr):
        for group in self.opt.param_groups:
            group["lr"] = lr

    def step(self):
        idx = self.torch.from_numpy(self.batches.next())
        X, y = self.images.index_select(0, idx), self.labels.index_select(0, idx)
        self.opt.zero_grad(set_to_none=True)
        self.F.cross_entropy(self.model(X), y).backward()
        self.opt.step()
        return len(idx)

    def run(self, steps):
        return sum(self.step() for _ in range(steps))

    def accuracy(self, test) -> float:
        torch = self.torch
        with torch.inference_mode():
            out = self.model(torch.from_numpy(np.ascontiguousarray(test.images)))
            return float((out.argmax(1) == torch.from_numpy(np.asarray(test.labels))).double().mean())


# --- 1. throughput -------------------------------------------------------------------------------
def throughput(train, sizes, batch, args, have_torch):
    lr, momentum = 0.1, 0.9
    make = lambda: Network(sizes, "sigmoid", "cross-entropy", seed=0, dtype=np.float32)  # noqa: E731
    runners = {"core loop": CoreLoop(make(), train, batch, lr, momentum),
               "core Trainer.step": CoreTrainer(make(), train, batch, lr, momentum)}
    if have_torch:
        runners["pytorch"] = TorchLoop(make(), train, batch, lr, momentum)
    # Calibrate one chunk to ~chunk_s seconds of the core loop; every contender runs the same steps.
    for r in runners.values():
        r.run(max(3, 2048 // batch))  # warm-up: caches, allocator, torch's lazy init
    per_step = timed(runners["core loop"].run, 20) / 20
    steps = max(5, int(args.chunk_s / per_step))
    samples = {name: [] for name in runners}
    contenders = {}
    for name, r in runners.items():
        contenders[name] = (lambda r=r, name=name: samples[name].append(r.run(steps)))
    times = interleaved(contenders, args.rounds)
    wall = {name: [s / t[0] for s, t in zip(samples[name], times[name])] for name in runners}
    cpu = {name: [s / t[1] for s, t in zip(samples[name], times[name])] for name in runners}
    return {"sizes": list(sizes), "batch": batch, "steps_per_round": steps, "rounds": args.rounds,
            "samples_per_s": {name: median(v) for name, v in wall.items()},
            "min_max": {name: (min(v), max(v)) for name, v in wall.items()},
            "samples_per_cpu_s": {name: median(v) for name, v in cpu.items()}}


# --- 2. GFLOP/s against np.matmul's peak ------------------------------------------------------
def step_flops(sizes, batch) -> float:
    """Forward 2B·Σ n_in·n_out, dW the same again, δ back through every layer but the first."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    forward = 2 * batch * sum(i * o for i, o in pairs)
    delta = 2 * batch * sum(i * o for i, o in pairs[1:])
    return 2 * forward + delta


def step_matmuls(sizes, batch) -> list:
    """(m, k, n) of every product a training step makes: Z = A Wᵀ, δ W, δᵀ A."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    shapes = [(batch, i, o) for i, o in pairs]                  # forward
    shapes += [(batch, o, i) for i, o in pairs[1:]]             # δ back-propagation
    shapes += [(o, batch, i) for i, o in pairs]                 # ∂C/∂W
    return shapes


def _best_matmul_time(A, B, rounds) -> float:
    C = np.empty((A.shape[0], B.shape[1]), np.float32)
    reps = max(3, int(2e8 / (2 * A.shape[0] * A.shape[1] * B.shape[1])))  # ~ a few ms per timing
    np.matmul(A, B, out=C)
    best = math.inf
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(reps):
            np.matmul(A, B, out=C)
        best = min(best, (time.perf_counter() - started) / reps)
    return best


def matmul_best(m, k, n, rounds, rng) -> float:
    """Best seconds of np.matmul for (m,k)@(k,n) float32 over every transposed storage layout.

    A few rounds pick the fastest layout, which then gets ``rounds`` more: as many short tries as
    the step gets below, so that both sides of the ratio have the same chance of a quiet moment.
    """
    operands = []
    for a_t in (False, True):
        for b_t in (False, True):
            A = rng.random((k, m) if a_t else (m, k), dtype=np.float32)
            B = rng.random((n, k) if b_t else (k, n), dtype=np.float32)
            operands.append((A.T if a_t else A, B.T if b_t else B))
    first = [_best_matmul_time(A, B, 3) for A, B in operands]
    fastest = int(np.argmin(first))
    return min(first[fastest], _best_matmul_time(*operands[fastest], rounds))


def gflops(train, args):
    sizes, batch = (784, 512, 10), 256
    rng = np.random.default_rng(1)
    flops = step_flops(sizes, batch)
    shapes = step_matmuls(sizes, batch)
    step_rounds = max(10, int(args.rounds * args.chunk_s / 0.01))  # ~10 ms each, as the matmuls'
    best = [matmul_best(m, k, n, step_rounds // 4, rng) for m, k, n in shapes]
    per_shape = [2 * m * k * n / t / 1e9 for (m, k, n), t in zip(shapes, best)]
    peak = sum(2 * m * k * n for m, k, n in shapes) / sum(best) / 1e9
    loop = CoreLoop(Network(sizes, "sigmoid", "cross-entropy", 0, np.float32), train, batch, 0.1, 0.9)
    loop.run(5)
    per_step = timed(loop.run, 5) / 5
    # Short rounds (~10 ms, like the matmul timings) for as long as the throughput rounds take; the
    # best round against the best matmul is the same statistic on both sides of the ratio.
    # Time per sample, scaled to a full batch: an epoch's last batch is smaller (60000 = 234·256 + 96).
    steps = max(1, int(0.01 / per_step))
    runs = []
    for _ in range(step_rounds):
        samples = []
        wall, cpu = timed_both(lambda: samples.append(loop.run(steps)))
        runs.append((wall * batch / samples[0], cpu * batch / samples[0]))
    step_s = min(wall for wall, _ in runs)
    achieved = flops / step_s / 1e9
    return {"sizes": list(sizes), "batch": batch, "flops_per_step": flops,
            "step_ms": step_s * 1e3, "step_median_ms": median([w for w, _ in runs]) * 1e3,
            "step_cpu_median_ms": median([cpu for _, cpu in runs]) * 1e3,
            "matmul_floor_ms": sum(best) * 1e3,
            "gflops": achieved, "peak_gflops": peak, "max_shape_gflops": max(per_shape),
            "percent_of_peak": 100 * achieved / peak,
            "percent_of_max_shape": 100 * achieved / max(per_shape),
            "shapes": [{"mkn": list(s), "gflops": g} for s, g in zip(shapes, per_shape)]}


# --- 3. time to 98 % -----------------------------------------------------------------------------
RACE = {"sizes": (784, 512, 10), "activation": "relu", "batch": 64, "lr": 0.1, "momentum": 0.9,
        "decay": 0.6, "evals_per_epoch": 2, "target": 0.98}


def schedule(race, evals_done):
    """Learning rate for the next segment: η · decay^(epochs done), stepped every segment."""
    return race["lr"] * race["decay"] ** (evals_done / race["evals_per_epoch"])


def race_core(train, test, race, cap_s, max_epochs):
    net = Network(race["sizes"], race["activation"], "cross-entropy", seed=0, dtype=np.float32)
    trainer = Trainer(net, train, None, lr=race["lr"], momentum=race["momentum"],
                      batch_size=race["batch"], seed=0)
    seg = math.ceil(trainer.steps_per_epoch / race["evals_per_epoch"])

    def train_segment():  # keeps no StepStats alive: each holds that step's trace and gradients
        for _ in range(min(seg, trainer.steps_left_in_epoch())):
            trainer.step()

    return _race(train_segment, lambda: net.evaluate(test.images, test.labels)[1],
                 lambda k: trainer.set_hyper(lr=schedule(race, k)), race, cap_s, max_epochs)


def race_torch(train, test, race, cap_s, max_epochs):
    net = Network(race["sizes"], race["activation"], "cross-entropy", seed=0, dtype=np.float32)
    loop = TorchLoop(net, train, race["batch"], race["lr"], race["momentum"])
    steps_per_epoch = math.ceil(len(train.labels) / race["batch"])
    seg = math.ceil(steps_per_epoch / race["evals_per_epoch"])
    left = lambda: math.ceil((len(train.labels) - loop.batches.pos) / race["batch"])  # noqa: E731
    return _race(lambda: loop.run(min(seg, left())), lambda: loop.accuracy(test),
                 lambda k: loop.set_lr(schedule(race, k)), race, cap_s, max_epochs)


def _race(train_segment, accuracy, set_lr, race, cap_s, max_epochs):
    """Train segment by segment; only the training segments count toward the clock."""
    clock, cpu, curve = 0.0, 0.0, []
    for k in range(max_epochs * race["evals_per_epoch"]):
        set_lr(k)
        wall_s, cpu_s = timed_both(train_segment)
        clock, cpu = clock + wall_s, cpu + cpu_s
        acc = accuracy()
        curve.append((round((k + 1) / race["evals_per_epoch"], 3), round(clock, 3), round(acc, 4)))
        if acc >= race["target"] or clock > cap_s:
            break
    reached = curve[-1][2] >= race["target"]
    return {"seconds": curve[-1][1] if reached else None, "cpu_seconds": round(cpu, 3),
            "epochs": curve[-1][0], "accuracy": curve[-1][2], "reached": reached, "curve": curve}


# --- report --------------------------------------------------------------------------------------
def fmt_rate(x):
    return f"{x:,.0f}" if x == x else "skipped"


def fmt_ratio(a, b):
    return f"{a / b:.2f}x" if a == a and b == b else "-"


def report(result):
    m, b = result["machine"], result["blas"]
    say(f"\nBackprop Lens throughput — {m['cpu']}, {m['cores']} cores, load {m['load_1min']} at start, "
        f"{result['load_end']} at end")
    say(f"numpy {b['numpy']}, BLAS {', '.join(b['blas'])}, env {b['env'] or '{}'}; "
        f"torch {result['torch'] or result['torch_note']}; {result['threads']} thread(s) each; "
        f"data: {result['data']}")
    if "OPENBLAS_CORETYPE" in b["env"]:
        say("(kernel pinned by OPENBLAS_CORETYPE, as asked with --pinned-kernel)")
    elif result.get("unpinned"):
        say(f"(OpenBLAS picked its own kernel: this run removed {result['unpinned']} from its own "
            "environment; --pinned-kernel keeps them)")
    say("\n1. Training throughput, samples/s: median of interleaved rounds (sigmoid hidden, softmax "
        "cross-entropy, SGD η=0.1 μ=0.9, float32, same order and initial weights)")
    say(f"   {'network':<11}{'batch':>6}{'core loop':>11}{'Trainer.step':>14}{'pytorch':>10}"
        f"{'loop/torch':>12}{'step/torch':>12}{'stats cost':>12}{'loop/torch by CPU time':>24}")
    for t in result["throughput"]:
        r, c = t["samples_per_s"], t["samples_per_cpu_s"]
        core, trn, pt = r["core loop"], r["core Trainer.step"], r.get("pytorch", float("nan"))
        stats = f"{100 * (1 - trn / core):.0f}%"
        say(f"   {'-'.join(map(str, t['sizes'])):<11}{t['batch']:>6}{fmt_rate(core):>11}"
            f"{fmt_rate(trn):>14}{fmt_rate(pt):>10}{fmt_ratio(core, pt):>12}{fmt_ratio(trn, pt):>12}"
            f"{stats:>12}{fmt_ratio(c['core loop'], c.get('pytorch', float('nan'))):>24}")
    say("   (stats cost: the share of Trainer.step's time spent on statistics, "
        "1 − Trainer.step rate / loop rate)")
    g = result["gflops"]
    say(f"\n2. One core training step (gather, forward, backward, SGD), {'-'.join(map(str, g['sizes']))} at "
        f"batch {g['batch']}: {g['flops_per_step'] / 1e6:.1f} MFLOP in {g['step_ms']:.2f} ms (best round; "
        f"median {g['step_median_ms']:.2f} ms, CPU {g['step_cpu_median_ms']:.2f} ms) = "
        f"{g['gflops']:.1f} GFLOP/s")
    say(f"   np.matmul on the step's shapes, best layout each: {g['peak_gflops']:.1f} GFLOP/s over the "
        f"step (floor {g['matmul_floor_ms']:.2f} ms); best single shape {g['max_shape_gflops']:.1f}")
    say(f"   -> {g['percent_of_peak']:.0f}% of the step's matmul peak "
        f"({g['percent_of_max_shape']:.0f}% of the best single shape)")
    say("   per shape (m,k,n) GFLOP/s: " + ", ".join(
        f"{tuple(s['mkn'])} {s['gflops']:.0f}" for s in g["shapes"]))
    race = result.get("race")
    if race:
        s = race["settings"]
        say(f"\n3. Time to {100 * s['target']:.0f}% test accuracy on the 10k test images, training "
            f"seconds only (tested every 1/{s['evals_per_epoch']} epoch, untimed)")
        say(f"   settings: {'-'.join(map(str, s['sizes']))} {s['activation']}, softmax cross-entropy, "
            f"batch {s['batch']}, SGD μ={s['momentum']}, η={s['lr']}·{s['decay']}^epoch "
            f"(set_hyper every half epoch), seed 0; core via Trainer.step()")
        for name in ("core", "pytorch"):
            r = race.get(name)
            if r is None:
                say(f"   {name:<8} skipped")
            elif r["reached"]:
                say(f"   {name:<8} {r['seconds']:6.2f} s  (CPU {r['cpu_seconds']:.2f} s; epoch "
                    f"{r['epochs']}, test accuracy {100 * r['accuracy']:.2f}%)")
            else:
                say(f"   {name:<8} not reached: {100 * r['accuracy']:.2f}% after {r['epochs']} epochs, "
                    f"{r['curve'][-1][1]:.1f} s")
    say(f"\n(total wall time {result['wall_s']:.0f} s)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a ~30 s smoke run")
    p.add_argument("--json", action="store_true", help="JSON on stdout, the table on stderr")
    p.add_argument("--threads", type=int, default=1, help="BLAS / torch threads for every contender")
    p.add_argument("--mnist", default=str(DEFAULT_MNIST), help="folder of the four IDX .gz files")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    p.add_argument("--no-race", action="store_true", help="skip the time-to-98%% race")
    p.add_argument("--pinned-kernel", action="store_true",
                   help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (default: drop them for this run)")
    p.add_argument("--torch-cap", type=float, default=60.0, help="seconds PyTorch may train in the race")
    args = p.parse_args(argv)
    args.rounds = 3 if args.quick else 9
    args.chunk_s = 0.12 if args.quick else 0.5
    global OUT
    OUT = sys.stderr if args.json else sys.stdout
    started = time.perf_counter()
    torch = None if args.no_torch else torch_or_none()
    train, test, source = load_mnist(args.mnist)
    result = {"machine": machine_description(), "blas": blas_description(), "threads": args.threads,
              "torch": torch.__version__ if torch else None, "data": source, "quick": args.quick,
              "unpinned": os.environ.get(UNPINNED_NOTE, ""),
              "torch_note": "skipped (--no-torch)" if args.no_torch else "not installed (skipped)"}
    with threads(args.threads):
        configs = [((784, 128, 10), 32), ((784, 512, 10), 256)]
        result["throughput"] = []
        for sizes, batch in configs:
            note(f"[throughput {sizes} batch {batch}]")
            result["throughput"].append(throughput(train, sizes, batch, args, torch is not None))
        note("[GFLOP/s]")
        result["gflops"] = gflops(train, args)
        if not args.no_race:
            race = dict(RACE)
            result["race"] = {"settings": race}
            max_epochs = 1 if args.quick else 30
            note("[race: core]")
            result["race"]["core"] = race_core(train, test, race, 60.0, max_epochs)
            if torch is not None:
                note("[race: pytorch]")
                result["race"]["pytorch"] = race_torch(train, test, race, args.torch_cap, max_epochs)
    result["wall_s"] = time.perf_counter() - started
    result["load_end"] = machine_description()["load_1min"]
    report(result)
    if args.json:
        print(json.dumps(result, default=float))
    return result


if __name__ == "__main__":
    main()
