"""Screenshots of the real window for the README, on a real X server, driven by keys as a person would.

    tools/screenshots.sh            # starts Xvfb + openbox at each size and runs this script

This script expects DISPLAY to point at a running X server with a window manager. It opens the app
on the full MNIST (../shared/mnist by default), presses Space to train, Space to pause, clicks into
the workspaces with Ctrl+1…6 through xdotool, and saves the whole screen with ImageMagick's
``import`` after each: docs/<tag>-<workspace>.png.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def open_window(data_path):
    """(the app's window on the data in ``data_path``, shown; ``wait(seconds)``, which runs Qt's event
    loop that long, as the app does)."""
    from PyQt6.QtCore import QEventLoop, QTimer
    from PyQt6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Lens")
    from core.data import load_mnist
    from gui.main_window import MainWindow
    window = MainWindow({"hidden": [100]}, data=load_mnist(data_path, progress=False))
    window.show()

    def wait(seconds):
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()
    return window, wait


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tag", help="file name prefix, e.g. 1366x768")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "mnist"))
    parser.add_argument("--train-seconds", type=float, default=6.0)
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--workspaces", default="Overview,Weights,Backprop,Evaluate,Why")
    args = parser.parse_args()
    window, wait = open_window(args.data)

    def keys(*names):
        window.activateWindow()
        wait(0.2)
        for name in names:
            subprocess.run(["xdotool", "key", "--clearmodifiers", name], check=True)
            wait(0.3)

    def shoot(name):
        wait(0.8)
        path = Path(args.out) / f"{args.tag}-{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], check=True)
        print(f"saved {path}", file=sys.stderr)

    wait(1.5)
    shoot("first-launch")
    keys("space")                          # run (the gentle start, then full speed)
    wait(args.train_seconds)
    keys("space")                          # pause
    wait(0.5)
    window.view.select_neuron(0, 7)        # as a click on a weight tile does
    from gui.workspaces import workspace
    for name in args.workspaces.split(","):
        keys(workspace(name).key.lower())  # Ctrl+1…6
        if name in ("Evaluate", "Why"):
            wait(2.5)                      # the test-set evaluation (and the Why jobs) run off the GUI thread
        if name == "Why":                  # three neurons knocked out, as three clicks on their tiles do
            from gui.panels.why.common import knockouts_of
            knockouts_of(window.view).set([(0, 3), (0, 17), (0, 42)])
            wait(1.0)
        shoot(name.lower())
        if name == "Why":                  # the tabs behind Knock-out
            for title in ("Ablation scan", "Adversarial"):
                window.panels[title].bring_forward()
                wait(2.5)
                shoot(f"why-{title.split()[0].lower()}")
    window.close()
    return 0


if __name__ == "__main__":
    from gui.app import exit_without_teardown
    exit_without_teardown(main())
