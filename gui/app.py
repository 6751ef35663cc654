"""Starting the application: QApplication, the main window, and the --steps/--screenshot mode."""
from __future__ import annotations

import sys

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication


def settings_from_args(args) -> dict:
    from main import resolve_hyper
    settings = {"hidden": args.hidden, "activation": args.activation, "cost": args.cost,
                "seed": args.seed, "l2": args.l2}
    settings.update(resolve_hyper(args))
    return settings


def explicit_settings(args) -> dict:
    """Only the settings given on the command line, so the rest come from the last session."""
    from main import build_parser
    defaults = settings_from_args(build_parser().parse_args([]))
    return {k: v for k, v in settings_from_args(args).items() if v != defaults[k]}


def run_app(args) -> int:
    """Open the window; with --steps N train N mini-batches then pause; with --screenshot save a PNG and exit."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Lens")
    from gui.main_window import MainWindow
    from gui.session import Session
    # A scripted run (--steps/--screenshot) starts clean and leaves the user's session alone.
    scripted = bool(args.steps or args.screenshot)
    # A run file gives every setting; otherwise only those typed win over the last session's.
    settings = settings_from_args(args) if scripted or args.run else explicit_settings(args)
    window = MainWindow(settings, data_path=args.data, session=None if scripted else Session())
    window.show()
    if args.steps or args.screenshot:
        _script(window, app, args.steps, args.screenshot)
    return app.exec()


def _script(window, app, steps, screenshot):
    """Step the run once the worker is up; when it pauses at ``steps``, save the screenshot and quit."""
    def on_snapshot(snap):
        if snap.step == 0 and steps and not getattr(window, "_script_started", False):
            window._script_started = True
            window.control.step(steps)
        elif snap.step >= steps and snap.status == "paused" and screenshot:
            window.snapshot_shown.disconnect(on_snapshot)
            QTimer.singleShot(300, save)

    def save():
        ok = window.grab().save(screenshot)
        print(f"saved {screenshot}" if ok else f"error: could not write {screenshot}", file=sys.stderr)
        window.close()
        app.exit(0 if ok else 1)

    window.snapshot_shown.connect(on_snapshot)
    window.loader and window.loader.failed.connect(lambda msg: app.exit(2))
