"""Starting the application: QApplication, the main window, Ctrl+C, and the --steps/--screenshot mode.

``main.py`` checks every flag (through ``core.settings.Settings``) and hands over the settings; this
module never imports ``main``, so ``python main.py`` runs main.py once.
"""
from __future__ import annotations

import gc
import os
import signal
import sys
from contextlib import contextmanager

from PyQt6 import sip
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
    ending = _Ending(app, window)
    with _closing_on_signals(ending):
        window.show()
        # Everything built so far lives as long as the window: out of the garbage collector's sight,
        # its full collections no longer walk the whole window (a Step's p95 fell about 10 ms on xcb).
        gc.freeze()
        if scripted:
            _script(window, ending, args.steps, args.screenshot)
        code = app.exec()
    # Free the window's widgets now, while the application still exists: left to Python's exit,
    # Qt objects were destroyed after the application and a big network's window crashed there.
    ending.window = None
    sip.delete(window)
    del window
    return code if ending.code is None else ending.code


class _Ending:
    """Closes the window and ends the app with a chosen exit code, once. The code is kept here
    because closing the last window makes Qt quit with 0, which may come after our exit(code)."""

    def __init__(self, app: QApplication, window):
        self.app, self.window, self.code = app, window, None

    def __call__(self, code: int):
        if self.code is not None:
            return
        self.code = code
        self.app.setQuitOnLastWindowClosed(False)
        self.window.close_without_asking()   # Ctrl+C, SIGTERM or a script's end: no question to answer
        self.app.exit(code)


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
def _closing_on_signals(ending: _Ending):
    """While the window runs, Ctrl+C (SIGINT) or SIGTERM closes it cleanly and the app exits with
    128 + the signal number (130 for Ctrl+C), without a traceback; a second one exits at once.

    Qt's event loop is C++: Python sees a signal only when Python code runs, so a timer ticks a
    no-op every SIGNAL_TICK_MS. The handler only schedules the close, because it may interrupt any
    Python code (a panel half-way through drawing)."""
    pressed = []

    def on_signal(signum, frame):
        if pressed:                          # the close is stuck (a dialog?): leave now
            ending.app.exit(128 + pressed[0] if ending.code is None else ending.code)
            return
        pressed.append(signum)
        print("interrupted, closing the window" if signum == signal.SIGINT else "terminated, closing the window",
              file=sys.stderr)
        QTimer.singleShot(0, lambda: ending(128 + signum))

    tick = QTimer(ending.window)
    tick.timeout.connect(lambda: None)
    tick.start(SIGNAL_TICK_MS)
    try:
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:                       # not the main thread (an embedding test): no handlers
        previous = {}
    try:
        yield
    finally:
        tick.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)


def _script(window, end: _Ending, steps: int, screenshot):
    """Step the run once the worker is up; when it pauses at ``steps``, save the screenshot and quit.
    Training that stops early (diverged, error) ends the app with one line and a non-zero code."""
    started, finished = [], []

    def on_snapshot(snap):
        status = str(snap.status)
        if finished or end.code is not None:
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
        end(code)

    def save():
        if end.code is not None:             # Ctrl+C came first
            return
        ok = window.grab().save(screenshot)
        print(f"saved {screenshot}" if ok else f"error: could not write {screenshot}", file=sys.stderr)
        end(0 if ok else EXIT_ERROR)

    window.snapshot_shown.connect(on_snapshot)
    if window.worker is not None:
        window.worker.failed.connect(lambda message: stop(EXIT_ERROR, f"training stopped: {_one_line(message)}"))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def exit_without_teardown(code: int) -> None:
    """End a script that drove a window (a benchmark, the screenshot tool) once the window is closed
    and its trainer ended: Python's teardown of Qt objects a script still holds can crash in the
    last moment on xcb; ``run_app`` frees its window itself and does not need this."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
