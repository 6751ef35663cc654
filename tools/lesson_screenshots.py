"""Screenshots of three lesson pages for the README, on a real X server (Xvfb + openbox).

    Xvfb :95 -screen 0 1920x1080x24 & DISPLAY=:95 openbox &
    DISPLAY=:95 QT_QPA_PLATFORM=xcb python tools/lesson_screenshots.py 1x
    (2×: a 3200x2000 screen and QT_SCALE_FACTOR=2, tag 2x)

It opens the app on the full MNIST, takes the lessons (Help ▸ Lessons), does each page's task the
way a learner would (a step, a click on a neuron) and saves the screen with ImageMagick's ``import``
as docs/lesson-<tag>-<page>.png.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = (("neuron", 1, 1, (1, 4)), ("backprop", 6, 1, (2, 3)), ("detour", 9, 0, None))  # name, lesson, page, neuron


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tag")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "mnist"))
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    from gui.lessons import progress
    from screenshots import open_window   # tools/screenshots.py, beside this file
    progress.default_path = lambda: Path("/tmp/lesson-shots-progress.json")   # leave the real one alone
    window, wait = open_window(args.data)

    wait(1.5)
    window.show_lessons()
    sheet = window.panels["Lessons"]
    for name, lesson, page, neuron in PAGES:
        sheet.open_lesson(lesson, 0)
        wait(2.0)                                   # the lesson's own network arrives
        window.training.step(300 if name == "detour" else 200)
        wait(4.0)
        if neuron is not None:
            window.view.select_neuron(*neuron)
        sheet.open_page(page)
        if name == "detour":
            window.training.step(200)               # the page's task: train, watch the ceiling
        wait(3.0)
        path = Path(args.out) / f"lesson-{args.tag}-{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], check=True)
        print(f"saved {path}", file=sys.stderr)
    sheet.leave()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
