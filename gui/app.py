"""Starting the application: QApplication, the main window, Ctrl+C, and the --steps/--screenshot mode.

``main.py`` checks every flag (through ``core.settings.Settings``) and hands over the settings; this
module never imports ``main``, so ``python main.py`` runs main.py once.
"""
from __future__ import annotations

import signal
import sys
from contextlib import contextmanager

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

EXIT_ERROR, EXIT_DATA, EXIT_DIVERGED = 1, 2, 3
SIGNAL_TICK_MS = 200   # how often Python gets control in Qt's event loop, so Ctrl+C is noticed


def run_app(args, settings: dict) -> int:
    """Open the window with ``settings`` (validated by the caller; a partial dict takes the rest from
    the last session). With --steps N train N mini-batches then pause; with --screenshot also save
    a PNG and exit. Returns the exit code: 0, 2 (data), 3 (diverged), 1 (training error), 130 (Ctrl+C),
    143 (SIGTERM)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Lens")
    from gui.main_window import MainWindow
    from gui.session import Session
    # A scripted run (--steps/--screenshot) starts clean, leaves the user's session alone and loads
    # its data before the window opens, so bad data is one line and exit 2.
    scripted = bool(args.steps or args.screenshot)
    data = None
    if scripted:
        data = _load_data(args.data)
        if data is None:
            return EXIT_DATA
    window = MainWindow(settings, data=data, data_path=args.data, session=None if scripted else Session())
    with _closing_on_signals(app, window) as signalled:
        window.show()
        if scripted:
            _script(window, app, args.steps, args.screenshot)
        code = app.exec()
    return 128 + signalled[0] if signalled else code


def _load_data(path):
    """The data set for a scripted run, or None after printing why it could not be loaded."""
    from core.data import DataError, load_mnist
    try:
        data = load_mnist(path, progress=sys.stderr.isatty())
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    print(f"data: {data.source}", file=sys.stderr)
    return data


@contextmanager
def _closing_on_signals(app: QApplication, window):
    """While the window runs, Ctrl+C (SIGINT) or SIGTERM closes it cleanly and the app exits with
    128 + the signal number (130 for Ctrl+C), without a traceback; a second one exits at once.

    Qt's event loop is C++: Python sees a signal only when Python code runs, so a timer ticks a
    no-op every SIGNAL_TICK_MS. The handler only schedules the close, because it may interrupt any
    Python code (a panel half-way through drawing)."""
    pressed = []

    def close(code: int):
        app.setQuitOnLastWindowClosed(False)   # its quit() would exit with 0, not this code
        window.close()
        app.exit(code)

    def on_signal(signum, frame):
        code = 128 + signum
        if pressed:                          # the close is stuck (a dialog?): leave now
            app.exit(code)
            return
        pressed.append(signum)
        print("interrupted, closing the window" if signum == signal.SIGINT else "terminated, closing the window",
              file=sys.stderr)
        QTimer.singleShot(0, lambda: close(code))

    tick = QTimer(window)
    tick.timeout.connect(lambda: None)
    tick.start(SIGNAL_TICK_MS)
    try:
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:                       # not the main thread (an embedding test): no handlers
        previous = {}
    try:
        yield pressed
    finally:
        tick.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)


def _script(window, app, steps: int, screenshot):
    """Step the run once the worker is up; when it pauses at ``steps``, save the screenshot and quit.
    Training that stops early (diverged, error) ends the app with one line and a non-zero code."""
    started, finished = [], []

    def on_snapshot(snap):
        status = str(snap.status)
        if finished:
            return
        if status in ("diverged", "error"):
            what = "diverged" if status == "diverged" else "stopped"
            stop(EXIT_DIVERGED if status == "diverged" else EXIT_ERROR,
                 _one_line(snap.message) or f"training {what} at step {snap.step}")
        elif snap.step == 0 and steps and not started:
            started.append(True)
            window.control.step(steps)
        elif snap.step >= steps and status == "paused" and screenshot:
            finished.append(True)
            QTimer.singleShot(300, save)

    def stop(code: int, message: str):
        if finished:
            return
        finished.append(True)
        print(f"error: {message}", file=sys.stderr)
        window.close()
        app.exit(code)

    def save():
        ok = window.grab().save(screenshot)
        print(f"saved {screenshot}" if ok else f"error: could not write {screenshot}", file=sys.stderr)
        window.close()
        app.exit(0 if ok else EXIT_ERROR)

    window.snapshot_shown.connect(on_snapshot)
    if window.worker is not None:
        window.worker.failed.connect(lambda message: stop(EXIT_ERROR, f"training stopped: {_one_line(message)}"))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
