"""Running a script that opens the window in a fresh process, on a virtual screen of a chosen size
and scale (Qt's offscreen platform reads the screen from a JSON file), and reading back the one JSON
line it prints last."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What every such script starts with: the project on the path, an application, a pump for events.
PREAMBLE = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/tests")
from PyQt6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from test_window import small_data
from gui.main_window import MainWindow
def pump(seconds):
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents(); time.sleep(0.005)
'''

# And ends with: the window is closed; skip Python's teardown of the Qt objects the script still
# holds, which could crash at the very end (as the GUI bench and the screenshot tool do).
ENDING = r'''
from gui.app import exit_without_teardown
exit_without_teardown(0)
'''


def run_on_screen(tmp_path, script: str, width: int, height: int, dpr: float = 1.0, *args) -> dict:
    """Run PREAMBLE + ``script`` (argv: the project root, then ``args``) on a ``width``×``height``
    logical-pixel screen at device pixel ratio ``dpr``; the JSON object it printed last."""
    config = {"synchronousWindowSystem": False, "windowFrameMargins": False,
              "screens": [{"name": "s", "x": 0, "y": 0, "width": int(width * dpr), "height": int(height * dpr),
                           "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": dpr}]}
    path = tmp_path / "screen.json"
    path.write_text(json.dumps(config))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={path}"}
    done = subprocess.run([sys.executable, "-c", PREAMBLE + script + ENDING, str(ROOT), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
