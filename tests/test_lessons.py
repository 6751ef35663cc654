"""Lessons: every lesson walked through the real window (each task fails before the learner does it
and passes after), every number shown equal to the core's own value, and the file/progress readers."""
import json
import re

import numpy as np
import pytest
from PyQt6.QtCore import Qt

pytest.importorskip("ziamath")
from core.costs import DETOUR_MAX, get_cost  # noqa: E402
from core.inspect import explain_neuron  # noqa: E402
from core.network import one_hot  # noqa: E402
from gui.lessons import progress as progress_mod  # noqa: E402
from gui.lessons.model import LessonError, load_all, parse  # noqa: E402
from gui.lessons.progress import Progress  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from test_window import small_data  # noqa: E402

LESSONS, PROBLEMS = load_all()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(progress_mod, "default_path", lambda: tmp_path / "progress.json")
    w = MainWindow({"hidden": [16], "batch_size": 10}, data=small_data())
    qtbot.addWidget(w)
    w.show()
    w.batch_costs = {}     # run → the newest mini-batch cost the trainer reported, for the oracle
    w.view.live_changed.connect(lambda s: w.batch_costs.update({s.run_id: s.cost_values[-1]})
                                if len(s.cost_values) else None)
    qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
    yield w
    w.close()


def core_value(name: str, idx: tuple, w, task: dict):
    """The number the core holds for a lesson's placeholder, computed here independently of the sheet."""
    s = w.view.live
    if name.startswith("neuron."):
        e = explain_neuron(s, *w.view.neuron)
        field = name.split(".", 1)[1]
        terms = {"term_k": ("z_terms", "index"), "term_w": ("z_terms", "left"), "term_a": ("z_terms", "right"),
                 "back_i": ("back_terms", "index"), "back_w": ("back_terms", "left"),
                 "back_delta": ("back_terms", "right"), "back_product": ("back_terms", "product")}
        if field in terms:
            return getattr(getattr(e, terms[field][0])[idx[0]], terms[field][1])
        if field == "term_grad":
            return e.dC0_dw[e.z_terms[idx[0]].index]
        attr = {"l": "layer", "b": "bias", "cost": "cost_value", "inputs": None}.get(field, field)
        v = e.w.size if attr is None else getattr(e, attr)
        return v[idx[0]] if idx else v
    a_out = np.asarray(s.probe_a[-1], np.float64)
    table = {
        "probe.label": lambda: s.probe_label,
        "probe.pixel": lambda: s.probe_a[0][idx[0] * 28 + idx[1]],
        "probe.pixel_max": lambda: s.probe_a[0].max(),
        "probe.pixels_lit": lambda: int((s.probe_a[0] > 0.5).sum()),
        "probe.z": lambda: s.probe_z[idx[0]][idx[1]], "probe.a": lambda: s.probe_a[idx[0]][idx[1]],
        "probe.y": lambda: float(idx[0] == s.probe_label),
        "probe.cost": lambda: get_cost(s.config["cost"]).fn(a_out, one_hot([s.probe_label], 10, np.float64)[0]),
        "out.a": lambda: a_out[idx[0]], "out.z": lambda: s.probe_z[-1][idx[0]], "out.max": lambda: a_out.max(),
        "out.sum": lambda: a_out.sum(), "out.guess": lambda: int(a_out.argmax()),
        "net.W": lambda: s.W[idx[0]][idx[1], idx[2]], "net.b": lambda: s.b[idx[0]][idx[1]],
        "net.dW": lambda: s.dW[idx[0]][idx[1], idx[2]],
        "settings.lr": lambda: s.config["lr"], "settings.batch_size": lambda: s.config["batch_size"],
        "cost.batch": lambda: w.batch_costs[s.run_id], "detour.max": lambda: DETOUR_MAX,
    }
    if name.startswith("task."):
        return task[name.split(".")[1]]
    return table[name]()


def assert_numbers_match(w):
    sheet = w.panels["Lessons"]
    sheet.render_page()
    assert sheet.shown or not re.search(r"\{[a-z]+\.", str(sheet.lesson.pages[sheet.page_index])), "nothing recorded"
    for written, shown in sheet.shown.items():
        m = re.fullmatch(r"\{([a-z]+\.[A-Za-z0-9_.]+)((?:\[-?\d+\])*)(?:\|[^{}]*)?\}", written)
        idx = tuple(int(i) for i in re.findall(r"-?\d+", m.group(2)))
        expected = core_value(m.group(1), idx, w, sheet.task)
        if isinstance(expected, str) or isinstance(shown, str):
            assert shown == expected, written
        else:
            np.testing.assert_allclose(float(shown), float(expected), rtol=1e-6, atol=1e-12, err_msg=written)


def paused_at(qtbot, w, step):
    qtbot.waitUntil(lambda: w.view.live.step >= step and w.view.live.status == "paused"
                    and not w.control.running, timeout=20000)
    qtbot.wait(20)


def do_task(qtbot, w, spec):
    """Do a page's task in the window the way a learner would, checking it fails first."""
    sheet = w.panels["Lessons"]
    assert not sheet.evaluate(), "passes before the learner did anything"
    kind = spec["kind"]
    L = len(w.view.live.W)
    if kind in ("steps", "predict"):
        if kind == "predict":
            w.training.step(1)                      # a step without a guess does not pass
            paused_at(qtbot, w, w.view.live.step + 1)
            assert not sheet.evaluate()
            sheet.option_buttons[1].click()
            assert not sheet.evaluate()             # a guess without the step after it does not pass
            e = explain_neuron(w.view.live, *w.view.neuron)
            predicted = e.update_b                  # what the page says the step will do: −η ∂C/∂b
        start = w.view.live.step
        n = spec.get("n", 1)
        if n > 1:
            w.training.step(n - 1)
            paused_at(qtbot, w, start + n - 1)
            assert not sheet.evaluate(), "passes one step short"
        w.training.step(1)
        paused_at(qtbot, w, start + n)
        if kind == "predict" and spec.get("watch") == "neuron.b" and w.view.live.config["momentum"] == 0:
            qtbot.waitUntil(sheet.evaluate, timeout=5000)
            np.testing.assert_allclose(sheet.task["change"], predicted, rtol=1e-4, atol=1e-9)
    elif kind == "select_neuron":
        want = spec.get("layer", "any")
        wrong = (L - 1, 0) if want == "hidden" else (0, 0) if want == "output" else None
        if wrong is not None:
            w.view.select_neuron(*wrong)
            assert not sheet.evaluate(), "the wrong layer passed"
        target = (L - 1, 3) if want == "output" else (L - 2, 2)
        if w.view.neuron == target:      # the page asks for a click: the same neuron again is no click
            target = (target[0], 5)
        w.view.select_neuron(*target)
    elif kind == "draw":
        image = np.zeros(784, np.float32)
        image.reshape(28, 28)[6:22, 12:16] = 1.0
        w.panels["Draw"].digit_drawn.emit(image)      # what the paper emits when a stroke ends
        qtbot.waitUntil(lambda: w.view.drawing is not None, timeout=3000)
        qtbot.waitUntil(lambda: w.view.live.probe_index == -1, timeout=5000)
    elif kind == "set_lr":
        w.training.change_live(lr=spec["above"] / 2)
        assert not sheet.evaluate()
        w.training.change_live(lr=spec["above"] + 1)
        qtbot.waitUntil(lambda: w.view.live.config["lr"] == spec["above"] + 1, timeout=5000)
    elif kind == "choose":
        wrong = (spec["correct"] + 1) % len(spec["options"])
        sheet.option_buttons[wrong].click()
        assert not sheet.evaluate(), "a wrong answer passed"
        sheet.option_buttons[spec["correct"]].click()
    qtbot.waitUntil(sheet.evaluate, timeout=5000)
    assert sheet.done and sheet.answer_label.isVisible()


def test_lesson_files_all_load():
    assert PROBLEMS == []
    assert [l.order for l in LESSONS] == list(range(1, 11))


@pytest.mark.parametrize("number", range(1, len(LESSONS) + 1))
def test_walk_lesson(qtbot, window, number):
    w = window
    w.show_lessons()
    sheet = w.panels["Lessons"]
    sheet.open_lesson(number - 1, 0)
    lesson = sheet.lesson
    assert lesson.order == number
    if lesson.setup:   # the lesson's own network arrives
        want = (784, *lesson.setup["hidden"], 10)
        qtbot.waitUntil(lambda: tuple(w.view.live.config["sizes"]) == want
                        and w.view.live.config["cost"] == lesson.setup["cost"], timeout=10000)
        qtbot.wait(50)
        sheet.evaluate()
    for n, page in enumerate(lesson.pages):
        if n:
            sheet.next_page()
        assert sheet.page_index == n
        if page.panel is not None and page.panel in w.docks:
            assert w.docks[page.panel].isVisible()
            assert "ffd54a" in w.docks[page.panel].styleSheet()   # highlighted
        if page.task is not None:
            do_task(qtbot, w, page.task)
            assert n in sheet.progress.done[lesson.key]
        elif "{neuron." in page.text and w.view.neuron is None:
            w.view.select_neuron(len(w.view.live.W) - 1, 3)
        assert_numbers_match(w)
        if page.figure == "activation":     # the point on the σ curve is the core's (z, a)
            e = explain_neuron(w.view.live, *w.view.neuron)
            assert sheet.figure.isVisible() and sheet.figure_point == (e.z, e.a)
            x, y = sheet.figure.curve.getData()
            np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)), rtol=1e-12)
        assert "_missing" not in sheet.shown
        assert not sheet.missing_label.isVisible(), sheet.missing_label.text()
    saved = json.loads((sheet.progress.path).read_text())
    assert saved["done"][lesson.key] == [n for n, p in enumerate(lesson.pages) if p.task]


def test_leaving_puts_the_learners_settings_back(qtbot, window):
    w = window
    before = w.training.settings
    w.show_lessons()
    sheet = w.panels["Lessons"]
    qtbot.waitUntil(lambda: tuple(w.view.live.config["sizes"]) == (784, 16, 16, 10), timeout=10000)
    assert w.training.settings.cost == "quadratic"
    sheet.leave_button.click()
    assert w.training.settings == before
    qtbot.waitUntil(lambda: tuple(w.view.live.config["sizes"]) == (784, 16, 10), timeout=10000)


def test_help_menu_and_hint_offer_the_lessons(qtbot, window):
    w = window
    w.hint.lessons_button.click()
    assert w.current_workspace == "Lessons" and w.docks["Lessons"].isVisible()
    assert w.panels["Lessons"].lesson is LESSONS[0] or w.panels["Lessons"].lesson.key == LESSONS[0].key
    w.show_workspace("Overview")
    w.lessons_action.trigger()
    assert w.current_workspace == "Lessons"


@pytest.mark.parametrize("text, words", [
    ("title = 'x'", "at least one [[page]]"),
    ("title = 'x'\n[[page]]\ntitle='p'\ntext='{neuron.zz}'", "unknown live value {neuron.zz}"),
    ("title = 'x'\n[[page]]\ntitle='p'\ntext='$$a'", "not closed"),
    ("title = 'x'\n[[page]]\ntitle='p'\ntext='t'\npanel='Nope'", "panel 'Nope'"),
    ("title = 'x'\n[[page]]\ntitle='p'\ntext='t'\ntask={kind='fly'}", "task kind 'fly'"),
    ("title = 'x'\n[[page]]\ntitle='p'\ntext='t'\ntask={kind='choose', options=['a','b'], correct=5}", "correct"),
    ("title = 'x'\nsetup={lr=-1}\n[[page]]\ntitle='p'\ntext='t'", "setup"),
    ("title = 'x'\nsetup={delay_ms=3}\n[[page]]\ntitle='p'\ntext='t'", "setup may only"),
    ("title = = 'x'", "not valid TOML"),
    ("title = 'x'\n[[page]]\ntitle='p'\ntext='{out.a}'", "takes 1 index"),
])
def test_broken_lesson_files_give_one_line(text, words):
    with pytest.raises(LessonError) as e:
        parse(text, "bad")
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_broken_file_is_skipped_and_reported(tmp_path):
    (tmp_path / "good.toml").write_text("title='g'\n[[page]]\ntitle='p'\ntext='fine'\n")
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe garbage")
    lessons, problems = load_all(tmp_path)
    assert [l.key for l in lessons] == ["good"] and len(problems) == 1 and "bad.toml" in problems[0]


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"version": 1, "done": {"a": ["x"]}}',
                                     b'{"version": 1, "page": {"a": -4}}', b"\xff" * 10, b" " * 200_000])
def test_hostile_progress_file_resets_with_a_message(tmp_path, content):
    path = tmp_path / "progress.json"
    path.write_bytes(content)
    p = Progress(path)
    assert p.done == {} and p.page == {} and "starting afresh" in p.problem
    p.mark("01-digit", 1)
    assert json.loads(path.read_text())["done"] == {"01-digit": [1]}
    assert Progress(path).done == {"01-digit": {1}}


def test_the_readme_example_lesson_is_valid():
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"### For teachers.*?```toml\n(.*?)```", readme, re.S).group(1)
    lesson = parse(block, "readme")
    assert lesson.pages[0].task["kind"] == "select_neuron"
    assert [kind for kind, _ in lesson.pages[0].blocks()] == ["text", "formula", "text"]


def test_a_vector_value_without_an_index_shows_a_question_mark():
    from types import SimpleNamespace
    from gui.lessons import values
    from snapshots import make_snapshot
    ctx = values.Context(make_snapshot(), neuron=(0, 1))
    shown = {}
    assert values.fill("w = {neuron.w}", ctx, shown) == "w = ?"
    assert "vector" in shown["_missing"]
    assert values.fill("{neuron.w[3]|.3f}", ctx, {}) == format(float(ctx.explained().w[3]), ".3f").replace("-", "−")
