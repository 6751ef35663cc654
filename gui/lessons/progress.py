"""Which lesson pages the learner has done and where they were: a small JSON in the user's config
folder, written atomically. A broken or hostile file is replaced by an empty record and reported
in one line, never a traceback."""
from __future__ import annotations

import json
from pathlib import Path

import platformdirs

from core.atomic import atomic_write

MAX_BYTES = 100_000    # a few hundred page numbers; anything larger is not ours
VERSION = 1


def default_path() -> Path:
    return Path(platformdirs.user_config_dir("backprop-lens")) / "lessons-progress.json"


class Progress:
    """``done[lesson key]`` = set of page indices whose task was done; ``page[key]`` = last page open."""

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else default_path()
        self.done: dict = {}
        self.page: dict = {}
        self.problem = self._load()

    def _load(self) -> str:
        try:
            if not self.path.exists():
                return ""
            if self.path.stat().st_size > MAX_BYTES:
                raise ValueError(f"{self.path.stat().st_size:,} bytes, more than {MAX_BYTES:,}")
            data = json.loads(self.path.read_text("utf-8"))
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError("not a lessons progress file of this version")
            done, page = data.get("done", {}), data.get("page", {})
            if not (isinstance(done, dict) and isinstance(page, dict)):
                raise ValueError("its done/page entries are not tables")
            for k, v in done.items():
                if not (isinstance(k, str) and isinstance(v, list) and all(type(i) is int and 0 <= i < 1000 for i in v)):
                    raise ValueError(f"lesson {k!r}: done must list page numbers")
                self.done[k] = set(v)
            for k, v in page.items():
                if not (isinstance(k, str) and type(v) is int and 0 <= v < 1000):
                    raise ValueError(f"lesson {k!r}: page must be a page number")
                self.page[k] = v
            return ""
        except (OSError, ValueError, UnicodeDecodeError) as e:   # json.JSONDecodeError is a ValueError
            self.done, self.page = {}, {}
            return f"Lesson progress in {self.path} could not be read ({e}); starting afresh."

    def mark(self, key: str, page: int) -> None:
        self.done.setdefault(key, set()).add(int(page))
        self.save()

    def open_page(self, key: str, page: int) -> None:
        self.page[key] = int(page)
        self.save()

    def finished(self, key: str, tasks: int) -> bool:
        return len(self.done.get(key, ())) >= tasks

    def save(self) -> str:
        """Write the file; '' or the one-line reason it could not be written."""
        data = {"version": VERSION, "done": {k: sorted(v) for k, v in self.done.items()}, "page": self.page}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(self.path, "w", encoding="utf-8") as f:
                json.dump(data, f)
        except OSError as e:
            return f"could not save lesson progress: {e}"
        return ""
