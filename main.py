"""Backprop Lens: `python main.py` opens the window; `python main.py train ...` trains headless."""
from __future__ import annotations

import argparse
import json
import sys
import time

EXIT_DATA, EXIT_DIVERGED = 2, 3


def _add_training_options(p: argparse.ArgumentParser):
    p.add_argument("--data", metavar="PATH", help="MNIST folder (IDX files), .npz or .csv; default: cache, download, offline")
    p.add_argument("--hidden", type=int, nargs="+", default=[100], metavar="N", help="hidden layer sizes (default 100)")
    p.add_argument("--activation", choices=["sigmoid", "tanh", "relu"], default="sigmoid")
    p.add_argument("--cost", choices=["quadratic", "cross-entropy"], default="cross-entropy")
    p.add_argument("--lr", type=float, default=None, help="learning rate η (default 0.1; 1.5 for quadratic)")
    p.add_argument("--momentum", type=float, default=None, help="momentum μ (default 0.9; 0 for quadratic)")
    p.add_argument("--l2", type=float, default=0.0, help="L2 weight decay λ")
    p.add_argument("--batch-size", type=int, default=None, help="mini-batch size (default 32; 10 for quadratic)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run", metavar="FILE.json", help="take every setting (and the data path, unless --data is given) from a run file")


def defaults_for(cost: str) -> dict:
    """Hyper-parameters that learn well for each output/cost pair (measured in the README)."""
    if cost == "quadratic":
        return {"lr": 1.5, "momentum": 0.0, "batch_size": 10}
    return {"lr": 0.1, "momentum": 0.9, "batch_size": 32}


def resolve_hyper(args) -> dict:
    hyper = defaults_for(args.cost)
    for key in ("lr", "momentum", "batch_size"):
        if getattr(args, key) is not None:
            hyper[key] = getattr(args, key)
    return hyper


def apply_run_file(args):
    """Fill ``args`` from --run FILE; returns an exit code when the file is bad, else None."""
    if not getattr(args, "run", None):
        return None
    from core.runfile import RUN_KEYS, RunFileError, load_run
    try:
        settings, data_path = load_run(args.run)
    except RunFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_DATA
    for key in RUN_KEYS:
        setattr(args, key, settings[key])
    args.data = args.data or data_path
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backprop-lens", description=__doc__)
    parser.add_argument("--steps", type=int, default=0, help="window: train this many mini-batches, then pause")
    parser.add_argument("--screenshot", metavar="FILE.png", help="window: save a PNG of the window after --steps and exit")
    _add_training_options(parser)
    sub = parser.add_subparsers(dest="command")
    train = sub.add_parser("train", help="train without a window, reporting every epoch")
    _add_training_options(train)
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--save", metavar="FILE.npz", help="save the trained model here")
    train.add_argument("--json", action="store_true", help="print one JSON object per epoch")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def train_command(args) -> int:
    from tqdm import tqdm
    from core.checkpoint import save_model
    from core.data import DataError, load_mnist
    from core.divergence import DivergenceMonitor
    from core.network import Network
    from core.trainer import Trainer

    try:
        data = load_mnist(args.data, progress=not args.no_progress)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_DATA
    print(f"data: {data.source}", file=sys.stderr)
    hyper = resolve_hyper(args)
    if min(args.hidden) < 1 or hyper["batch_size"] < 1 or args.epochs < 1:
        print("error: hidden sizes, batch size and epochs must be positive", file=sys.stderr)
        return EXIT_DATA
    net = Network([784, *args.hidden, 10], args.activation, args.cost, seed=args.seed)
    trainer = Trainer(net, data.train, data.test, l2=args.l2, seed=args.seed, **hyper)
    monitor = DivergenceMonitor()
    print(f"{net!r} lr={hyper['lr']} momentum={hyper['momentum']} batch={hyper['batch_size']}", file=sys.stderr)
    for epoch in range(1, args.epochs + 1):
        bar = tqdm(total=trainer.steps_per_epoch, desc=f"epoch {epoch}", unit="batch",
                   disable=args.no_progress or args.json and not sys.stderr.isatty(), file=sys.stderr, leave=False)
        started, samples, reason = time.perf_counter(), 0, ""
        while True:
            stats = trainer.step()
            samples += len(stats.trace.a[0])
            bar.update(1)
            reason = monitor.update(stats.step, stats.cost)
            if reason or stats.epoch_record is not None:
                break
        bar.close()
        seconds = time.perf_counter() - started
        if reason:
            print(f"error: training diverged: {reason}; try a smaller --lr (now {hyper['lr']})", file=sys.stderr)
            return EXIT_DIVERGED
        _report(stats.epoch_record, seconds, samples, args.json)
    if args.save:
        path = save_model(args.save, net, trainer.config())
        print(f"saved {path}", file=sys.stderr)
    return 0


def _report(record, seconds, samples, as_json):
    figures = {"epoch": record.epoch, "step": record.step, "train_cost": round(record.train_cost, 6),
               "test_cost": round(record.test_cost, 6), "test_accuracy": round(record.test_accuracy, 6),
               "seconds": round(seconds, 3), "samples_per_second": round(samples / seconds, 1)}
    if as_json:
        print(json.dumps(figures), flush=True)
    else:
        print(f"epoch {record.epoch}: train cost {record.train_cost:.4f}  test cost {record.test_cost:.4f}  "
              f"test accuracy {100 * record.test_accuracy:.2f}%  ({seconds:.1f} s, "
              f"{figures['samples_per_second']:.0f} samples/s)", flush=True)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    problem = apply_run_file(args)
    if problem is not None:
        return problem
    if args.command == "train":
        return train_command(args)
    from gui.app import run_app
    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
