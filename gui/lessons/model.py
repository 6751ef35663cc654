"""Lesson files: TOML under assets/lessons/, read and checked here (one clear line per problem).

A lesson is a title, an ``order``, an optional ``setup`` (the network it needs, Settings fields)
and pages. A page has a title, Markdown ``text`` (with ``$$…$$`` LaTeX formulas and ``{live}``
values from gui.lessons.values), the ``panel`` to bring forward, and an optional task (a kind from
gui.lessons.checks). See the README's "For teachers" section for the format.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import Settings, SettingsError
from gui.lessons import values
from gui.lessons.checks import CHECKS, COMMON

LESSON_DIR = Path(__file__).resolve().parents[2] / "assets" / "lessons"
MAX_BYTES = 200_000            # a lesson file is a few KB; refuse anything absurd before parsing
MAX_PAGES = 40
FORMULA = re.compile(r"\$\$(.+?)\$\$", re.S)
PANELS = ("Network", "Weights", "Neuron", "Draw", "Evaluate", "Cost", "Compare", "Gradients", "Timeline",
          "Activations", "Backprop", "Settings")
FIGURES = ("activation",)      # the selected neuron's (z, a) on its activation function's curve
SETUP_KEYS = ("hidden", "activation", "cost", "seed", "lr", "momentum", "l2", "batch_size")


class LessonError(ValueError):
    """A lesson file that cannot be used; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class Page:
    title: str
    text: str
    panel: str | None = None
    task: dict | None = None
    figure: str | None = None     # a small live plot under the text (FIGURES)

    def blocks(self) -> list:
        """The text cut into ("text", markdown) and ("formula", latex) blocks, in order."""
        out, at = [], 0
        for m in FORMULA.finditer(self.text):
            if self.text[at:m.start()].strip():
                out.append(("text", self.text[at:m.start()].strip()))
            out.append(("formula", m.group(1).strip()))
            at = m.end()
        if self.text[at:].strip():
            out.append(("text", self.text[at:].strip()))
        return out


@dataclass(frozen=True)
class Lesson:
    key: str                   # the file's stem: what progress is remembered under
    title: str
    order: int
    summary: str
    pages: tuple
    setup: dict = field(default_factory=dict)

    def settings(self, base: Settings) -> Settings:
        """``base`` with this lesson's setup on top (the network the lesson needs)."""
        return base.replace(**self.setup) if self.setup else base


def _str(table: dict, key: str, where: str, required=True) -> str | None:
    v = table.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip():
        raise LessonError(f"{where}: {key} must be a non-empty string")
    return v


def _task(spec, where: str) -> dict:
    if not isinstance(spec, dict):
        raise LessonError(f"{where}: task must be a table")
    kind = spec.get("kind")
    if kind not in CHECKS:
        raise LessonError(f"{where}: task kind {kind!r} is not one of {', '.join(CHECKS)}")
    allowed = {**COMMON, **CHECKS[kind].needs}
    for key, v in spec.items():
        if key not in allowed:
            raise LessonError(f"{where}: task {kind} takes no {key!r} (it takes {', '.join(sorted(allowed))})")
        want = allowed[key]
        if want is float and isinstance(v, int) and not isinstance(v, bool):
            continue
        if not isinstance(v, want) or (want is int and isinstance(v, bool)):
            raise LessonError(f"{where}: task {key} must be a {want.__name__}")
    problem = CHECKS[kind].validate(spec)
    for key in ("prompt", "answer"):
        problem = problem or values.check_names(spec.get(key, ""))
    if "watch" in spec:
        found = values.placeholders("{" + spec["watch"] + "}")
        problem = problem or ("" if found else f"watch {spec['watch']!r} is not a live value")
        problem = problem or values.check_names("{" + spec["watch"] + "}")
    if problem:
        raise LessonError(f"{where}: {problem}")
    return dict(spec)


def parse(text: str, key: str) -> Lesson:
    """A Lesson from TOML ``text``; LessonError with one line for anything wrong."""
    where = f"{key}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LessonError(f"{where}: not valid TOML ({e})") from None
    title = _str(data, "title", where)
    order = data.get("order", 999)
    if not isinstance(order, int) or isinstance(order, bool):
        raise LessonError(f"{where}: order must be a whole number")
    summary = _str(data, "summary", where, required=False) or ""
    setup = data.get("setup", {})
    if not isinstance(setup, dict) or set(setup) - set(SETUP_KEYS):
        raise LessonError(f"{where}: setup may only set {', '.join(SETUP_KEYS)}")
    try:
        Settings().replace(**setup)
    except (SettingsError, TypeError) as e:
        raise LessonError(f"{where}: setup: {e}") from None
    raw_pages = data.get("page")
    if not isinstance(raw_pages, list) or not raw_pages:
        raise LessonError(f"{where}: a lesson needs at least one [[page]]")
    if len(raw_pages) > MAX_PAGES:
        raise LessonError(f"{where}: {len(raw_pages)} pages; at most {MAX_PAGES}")
    pages = []
    for n, p in enumerate(raw_pages, 1):
        pw = f"{where} page {n}"
        if not isinstance(p, dict):
            raise LessonError(f"{pw}: must be a table")
        extra = set(p) - {"title", "text", "panel", "task", "figure"}
        if extra:
            raise LessonError(f"{pw}: unknown key {sorted(extra)[0]!r} (a page has title, text, panel, task, figure)")
        figure = p.get("figure")
        if figure is not None and figure not in FIGURES:
            raise LessonError(f"{pw}: figure {figure!r} is not one of {', '.join(FIGURES)}")
        text = _str(p, "text", pw)
        if text.count("$$") % 2:
            raise LessonError(f"{pw}: a $$ formula is not closed")
        problem = values.check_names(text)
        if problem:
            raise LessonError(f"{pw}: {problem}")
        panel = p.get("panel")
        if panel is not None and panel not in PANELS:
            raise LessonError(f"{pw}: panel {panel!r} is not one of {', '.join(PANELS)}")
        task = _task(p["task"], pw) if "task" in p else None
        pages.append(Page(_str(p, "title", pw), text, panel, task, figure))
    return Lesson(key, title, order, summary, tuple(pages), dict(setup))


def load_lesson(path: Path) -> Lesson:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise LessonError(f"{path.name}: {size:,} bytes; a lesson file may have at most {MAX_BYTES:,}")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise LessonError(f"{path.name}: not UTF-8 text") from None
    except OSError as e:
        raise LessonError(f"{path.name}: cannot read it ({e.strerror})") from None
    return parse(text, path.stem)


def load_all(folder: Path = LESSON_DIR) -> tuple:
    """(lessons in order, problems): every *.toml in ``folder``; a broken file is skipped and reported."""
    lessons, problems = [], []
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            lessons.append(load_lesson(path))
        except LessonError as e:
            problems.append(str(e))
    lessons.sort(key=lambda l: (l.order, l.key))
    return lessons, problems
