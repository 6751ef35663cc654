"""Backprop Lens: `python main.py` opens the window; `python main.py train ...` trains headless;
`python main.py evaluate --load model.npz` measures a saved model on the test set."""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from core.settings import Settings, SettingsError, defaults_for_cost, field_info, run_keys

EXIT_DATA, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130
HYPER_KEYS = ("lr", "momentum", "batch_size")   # the ones whose default depends on the cost
MAX_EPOCHS, MAX_STEPS = 100_000, 10**9


class Interrupted(KeyboardInterrupt):
    """Ctrl+C or SIGTERM reached the CLI; ``signum`` says which (exit code 128 + signum)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line, ``error: …``, and exit code 2 (no usage dump)."""

    def error(self, message):
        self.exit(EXIT_DATA, f"error: {message}\n")


# --- flags, built from the Settings fields --------------------------------------------------------
def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_setting_flags(p: argparse.ArgumentParser):
    """One flag per run setting, typed and explained by its field in core.settings (default None, so
    the flags actually given can be told from the rest)."""
    for name in run_keys():
        info = field_info(name)
        default = info.default
        if name in HYPER_KEYS:
            others = [f"{defaults_for_cost(c)[name]} for {c}" for c in field_info("cost").choices
                      if defaults_for_cost(c)[name] != default]
            default = "; ".join([str(default), *others])
        help_text = f"{info.title}: {info.help} (default {default})"
        if info.kind == "sizes":
            p.add_argument(flag(name), type=int, nargs="+", metavar="N", help=help_text)
        elif info.kind == "choice":
            p.add_argument(flag(name), metavar="{" + ",".join(info.choices) + "}", help=help_text)
        else:
            p.add_argument(flag(name), type=float if info.kind == "number" else int, help=help_text)


def _add_training_options(p: argparse.ArgumentParser):
    p.add_argument("--data", metavar="PATH", help="MNIST folder (IDX files), .npz or .csv; default: cache, download, offline")
    _add_setting_flags(p)
    p.add_argument("--run", metavar="FILE.json", help="take every setting (and the data path, unless --data is given) from a run file")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="backprop-lens", description=__doc__)
    parser.add_argument("--steps", type=int, default=0, help="window: train this many mini-batches, then pause")
    parser.add_argument("--screenshot", metavar="FILE.png", help="window: save a PNG of the window after --steps and exit")
    _add_training_options(parser)
    sub = parser.add_subparsers(dest="command")
    train = sub.add_parser("train", help="train without a window, reporting every epoch")
    _add_training_options(train)
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--load", metavar="FILE.npz", help="go on training this saved model (its architecture wins)")
    train.add_argument("--save", metavar="FILE.npz", help="save the trained model here")
    train.add_argument("--json", action="store_true", help="print one JSON object per epoch")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    evaluate = sub.add_parser("evaluate", help="test accuracy, cost and confusion matrix of a saved model")
    evaluate.add_argument("--load", metavar="FILE.npz", required=True, help="the model to measure")
    evaluate.add_argument("--data", metavar="PATH", help="as for train; the test set is used")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar while loading data")
    return parser


def given_settings(args) -> dict:
    """The settings typed as flags (or read from --run), and nothing else."""
    return {k: getattr(args, k) for k in run_keys() if getattr(args, k, None) is not None}


def settings_from_args(args, only_given: bool = False) -> dict:
    """The settings the flags ask for, validated by Settings (SettingsError names the flag).

    All of them, defaults filled in (the lr, momentum and batch size for the chosen cost), or with
    ``only_given`` just those typed, so the window takes the rest from the last session; naming a
    cost brings its hyper-parameters along.
    """
    given = given_settings(args)
    cost = given.get("cost", Settings().cost)
    tuned = {k: v for k, v in defaults_for_cost(cost).items() if k not in given}
    if only_given:
        chosen = {**(tuned if "cost" in given else {}), **given}
    else:
        chosen = {**Settings().run_dict(), **tuned, **given}
    try:
        checked = Settings.from_mapping(chosen, "flags").to_dict()
    except SettingsError as e:
        raise SettingsError(_as_flag(e), e.name) from None
    return {k: checked[k] for k in chosen}


def _as_flag(e: SettingsError) -> str:
    """'flags: batch_size must be …' → '--batch-size must be …'."""
    text = str(e).removeprefix("flags: ")
    if e.name and text.startswith(e.name + " "):
        text = flag(e.name) + text[len(e.name):]
    return text


def apply_run_file(args):
    """Fill ``args`` from --run FILE; returns an exit code when the file is bad, else None."""
    if not getattr(args, "run", None):
        return None
    from core.runfile import RUN_KEYS, RunFileError, load_run
    try:
        settings, data_path = load_run(args.run)
    except RunFileError as e:
        return fail(str(e))
    for key in RUN_KEYS:
        setattr(args, key, settings[key])
    args.data = args.data or data_path
    return None


def fail(message: str, code: int = EXIT_DATA) -> int:
    """Print ``error: message`` (one line) and return ``code``."""
    print(f"error: {message}", file=sys.stderr)
    return code


def _whole_in(args, name: str, low: int, high: int):
    """Exit-2 message when the flag ``name`` is outside low..high, else None."""
    value = getattr(args, name.replace("-", "_"), None)
    if value is not None and not low <= value <= high:
        return f"--{name} must be a whole number from {low} to {high}, not {value}"
    return None


# --- checks made before anything slow starts --------------------------------------------------------
def writable_problem(path) -> str | None:
    """Why a file cannot be written at ``path`` (None when it can), found by creating and removing a
    temporary file beside it, exactly as the atomic save will."""
    path = Path(path).expanduser()
    if path.is_dir():
        return f"cannot save to {path}: it is a folder"
    if path.exists() and not path.is_file():
        return f"cannot save to {path}: it is not a regular file"
    folder = path.parent
    if not folder.is_dir():
        return f"cannot save to {path}: the folder {folder} does not exist"
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        return f"cannot save to {path}: {e.strerror or e}"
    return None


def _load_data(args):
    """(data, None) or (None, exit code) with the reason printed."""
    from core.data import DataError, load_mnist
    try:
        data = load_mnist(args.data, progress=not args.no_progress)
    except DataError as e:
        return None, fail(str(e))
    print(f"data: {data.source}", file=sys.stderr)
    return data, None


def _load_model(path):
    """((Network, hyper dict), None) or (None, exit code) with the reason printed."""
    from core.checkpoint import CheckpointError, load_model
    try:
        return load_model(path), None
    except CheckpointError as e:
        return None, fail(str(e))


def _fits(net, data) -> str | None:
    """Why ``net`` cannot run on ``data`` (pixels per image, classes), or None."""
    pixels = data.train.images.shape[1]
    if net.sizes[0] != pixels:
        return f"the model takes {net.sizes[0]} inputs but the data's images have {pixels} pixels"
    classes = int(max(data.train.labels.max(initial=0), data.test.labels.max(initial=0))) + 1
    if net.sizes[-1] < classes:
        return f"the model has {net.sizes[-1]} outputs but the data has {classes} classes"
    return None


# --- train ------------------------------------------------------------------------------------------
def train_command(args) -> int:
    from core.network import Network

    problem = _whole_in(args, "epochs", 1, MAX_EPOCHS)
    if problem:
        return fail(problem)
    try:
        settings = settings_from_args(args)
    except SettingsError as e:
        return fail(str(e))
    if args.save and (problem := writable_problem(args.save)):
        return fail(problem)
    net = None
    if args.load:
        loaded, code = _load_model(args.load)
        if code is not None:
            return code
        try:                                  # the saved architecture meets the same limits as flags
            net, settings = _continue_from(args, loaded, settings)
        except SettingsError as e:
            return fail(str(e))
    data, code = _load_data(args)
    if code is not None:
        return code
    if net is None:
        net = Network([data.train.images.shape[1], *settings["hidden"], 10], settings["activation"],
                      settings["cost"], seed=settings["seed"])
    elif problem := _fits(net, data):
        return fail(problem)
    return _train(args, net, data, settings)


def _continue_from(args, loaded, settings: dict) -> tuple:
    """(Network, settings) to go on training a saved model: its architecture wins; its
    hyper-parameters too, unless given as flags (bad saved values are reported and replaced)."""
    net, hyper = loaded
    saved = {}
    for key in ("lr", "momentum", "l2", "batch_size", "seed"):
        if isinstance(hyper, dict) and key in hyper:
            try:
                saved[key] = Settings.from_mapping({key: hyper[key]}, f"{args.load}").to_dict()[key]
            except SettingsError as e:
                print(f"warning: {e}; not used", file=sys.stderr)
    settings = {**settings, **defaults_for_cost(net.cost.name), **saved, **given_settings(args)}
    settings.update(hidden=list(net.sizes[1:-1]), activation=net.activation.name, cost=net.cost.name)
    print(f"model: {args.load}: {net!r}; its architecture wins over --hidden, --activation and --cost",
          file=sys.stderr)
    return net, Settings.from_mapping(settings, f"{args.load}").run_dict()


def _train(args, net, data, settings: dict) -> int:
    from tqdm import tqdm
    from core.checkpoint import save_model
    from core.divergence import DivergenceMonitor
    from core.trainer import Trainer

    hyper = {k: settings[k] for k in ("lr", "momentum", "l2", "batch_size")}
    trainer = Trainer(net, data.train, data.test, seed=settings["seed"], **hyper)
    monitor = DivergenceMonitor()
    print(f"{net!r} lr={hyper['lr']} momentum={hyper['momentum']} batch={hyper['batch_size']}", file=sys.stderr)
    for epoch in range(1, args.epochs + 1):
        bar = tqdm(total=trainer.steps_per_epoch, desc=f"epoch {epoch}", unit="batch",
                   disable=args.no_progress or args.json and not sys.stderr.isatty(), file=sys.stderr, leave=False)
        started, samples, reason = time.perf_counter(), 0, ""
        try:
            while True:
                stats = trainer.step()
                samples += len(stats.trace.a[0])
                bar.update(1)
                reason = monitor.update(stats.step, stats.cost)
                if reason or stats.epoch_record is not None:
                    break
        finally:
            bar.close()
        seconds = time.perf_counter() - started
        if reason:
            return fail(f"training diverged: {reason}; try a smaller --lr (now {hyper['lr']})", EXIT_DIVERGED)
        _report(stats.epoch_record, seconds, samples, args.json)
    if args.save:
        try:
            path = save_model(args.save, net, trainer.config())
        except OSError as e:
            return fail(f"could not save {args.save}: {e.strerror or e}")
        print(f"saved {path}", file=sys.stderr)
    return 0


def finite_or_none(x):
    """A float for JSON: NaN and ±inf become None (null), since bare NaN is not JSON."""
    return round(float(x), 6) if math.isfinite(x) else None


def _report(record, seconds, samples, as_json):
    rate = samples / seconds if seconds > 0 else float("nan")
    figures = {"epoch": record.epoch, "step": record.step, "train_cost": finite_or_none(record.train_cost),
               "test_cost": finite_or_none(record.test_cost), "test_accuracy": finite_or_none(record.test_accuracy),
               "seconds": round(seconds, 3), "samples_per_second": finite_or_none(round(rate, 1))}
    if as_json:
        print(json.dumps(figures, allow_nan=False), flush=True)
    else:
        print(f"epoch {record.epoch}: train cost {record.train_cost:.4f}  test cost {record.test_cost:.4f}  "
              f"test accuracy {100 * record.test_accuracy:.2f}%  ({seconds:.1f} s, {rate:.0f} samples/s)", flush=True)


# --- evaluate -----------------------------------------------------------------------------------------
def evaluate_command(args) -> int:
    """Test accuracy, mean cost and the confusion matrix of a saved model, as text or one JSON object."""
    from core.evaluate import evaluate
    loaded, code = _load_model(args.load)
    if code is not None:
        return code
    net = loaded[0]
    try:                                      # a test pass over a wider network would not fit in memory
        Settings.from_mapping({"hidden": list(net.sizes[1:-1]), "activation": net.activation.name,
                               "cost": net.cost.name}, f"{args.load}")
    except SettingsError as e:
        return fail(str(e))
    data, code = _load_data(args)
    if code is not None:
        return code
    if problem := _fits(net, data):
        return fail(problem)
    result = evaluate(net, data.test)
    cost, _ = net.evaluate(data.test.images, data.test.labels) if result.n else (float("nan"), None)
    if args.json:
        print(json.dumps({"model": str(args.load), "data": data.source, "n": result.n,
                          "test_accuracy": finite_or_none(result.accuracy), "test_cost": finite_or_none(cost),
                          "confusion_matrix": result.cm.tolist()}, allow_nan=False))
        return 0
    print(f"{net!r} on {result.n:,} test images: accuracy {100 * result.accuracy:.2f}% "
          f"({int(result.cm.trace()):,} right), cost {cost:.4f}")
    print(confusion_text(result.cm))
    return 0


def confusion_text(cm) -> str:
    """The confusion matrix as aligned text: rows the true digit, columns the prediction."""
    width = max(5, len(f"{int(cm.max(initial=0)):,}") + 1)
    head = "true\\pred" + "".join(f"{k:>{width}}" for k in range(len(cm)))
    rows = [f"{d:>9}" + "".join(f"{int(n):>{width},}" for n in row) for d, row in enumerate(cm)]
    return "\n".join([head, *rows])


# --- entry ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def interrupts_as_exceptions():
    """While inside, SIGINT and SIGTERM raise Interrupted, so finally-blocks run (an atomic save
    removes its .part file) and the CLI ends with one line. Off the main thread it does nothing."""
    def raise_interrupted(signum, frame):
        raise Interrupted(signum)

    try:
        previous = {s: signal.signal(s, raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:                       # not the main thread: leave signals alone
        previous = {}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(argv=None) -> int:
    with interrupts_as_exceptions():
        try:
            return _main(argv)
        except KeyboardInterrupt as e:
            signum = getattr(e, "signum", signal.SIGINT)
            print("interrupted" if signum == signal.SIGINT else "terminated", file=sys.stderr)
            return 128 + signum


def _main(argv) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:                 # --help, or a bad flag already reported in one line
        return e.code if isinstance(e.code, int) else EXIT_DATA
    problem = apply_run_file(args)
    if problem is not None:
        return problem
    if args.command == "train":
        return train_command(args)
    if args.command == "evaluate":
        return evaluate_command(args)
    return window_command(args)


def window_command(args) -> int:
    """Open the window; every flag is checked here, before Qt starts."""
    if problem := _whole_in(args, "steps", 0, MAX_STEPS):
        return fail(problem)
    scripted = bool(args.steps or args.screenshot)
    if args.screenshot and (problem := writable_problem(args.screenshot)):
        return fail(problem)
    try:
        # A scripted run or a run file gives every setting; otherwise only those typed win over the session's.
        settings = settings_from_args(args, only_given=not (scripted or args.run))
    except SettingsError as e:
        return fail(str(e))
    from gui.app import run_app
    return run_app(args, settings)


if __name__ == "__main__":
    sys.exit(main())
