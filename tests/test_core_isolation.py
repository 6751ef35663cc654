"""core/ is plain NumPy: it must import and run without Qt."""
import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core"


def test_no_core_module_imports_qt():
    for path in CORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("PyQt", "pyqtgraph", "PySide", "gui")), f"{path.name} imports {name}"


def test_importing_core_loads_no_qt():
    code = ("import sys, core, core.trainer, core.control, core.checkpoint, core.data;"
            "bad=[m for m in sys.modules if m.startswith(('PyQt6','pyqtgraph'))]; print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], cwd=CORE.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
