"""Issue 12: the Evaluate, Compare, Timeline, Gradients, Draw, Activations and Cost panels after real
training, rendered at a small dock (300×220), a medium one (520×400) and a large one (900×600).

The PNGs go to $PANEL_PNG_DIR (default /tmp/panels) as fit-<panel>-<width>x<height>.png, to be looked
at; the tests check what can be checked from the pixels: the panel is drawn at the size asked for
(it does not insist on being wider or taller) and the picture is not empty.
"""
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.evaluate import evaluate, network_from_snapshot
from core.network import Network
from core.trainer import Trainer
from gui.panels.activations import ActivationsPanel
from gui.panels.compare import ComparePanel
from gui.panels.curves import CurvesPanel
from gui.panels.draw import DrawPanel
from gui.panels.evaluate import EvaluatePanel
from gui.panels.gradients import GradientsPanel
from gui.panels.timeline import TimelinePanel
from tests.snapshots import synthetic_digits

PNG_DIR = Path(os.environ.get("PANEL_PNG_DIR", "/tmp/panels"))
SIZES = ((300, 220), (520, 400), (900, 600))
NET = (784, 32, 16, 10)


def subset(data, n):
    return SimpleNamespace(images=data.images[:n], labels=data.labels[:n])


@pytest.fixture(scope="module")
def trained(request):
    """Snapshots of a 784-32-16-10 sigmoid network trained for three short epochs (6,000 MNIST
    training digits, tested on all 10,000; synthetic digits without MNIST), and a second run B."""
    try:
        mnist = request.getfixturevalue("mnist")
        train, test = subset(mnist.train, 6000), mnist.test
    except pytest.skip.Exception:
        train, test = synthetic_digits(600, 0), synthetic_digits(300, 1)

    def run(lr):
        trainer = Trainer(Network(NET, "sigmoid", "cross-entropy", seed=0), train, test, lr=lr,
                          momentum=0.9, batch_size=32)
        trainer.record_epoch()
        snaps = []
        for k in range(3 * trainer.steps_per_epoch):
            trainer.step()
            if k % 25 == 24:
                trainer.check_test()
                snaps.append(trainer.snapshot("running"))
        snaps.append(trainer.snapshot("paused"))
        return trainer, snaps

    trainer, snaps = run(0.1)
    _, b = run(0.5)
    return SimpleNamespace(trainer=trainer, snaps=snaps, b=b, test=test,
                           evaluation=evaluate(network_from_snapshot(snaps[-1]), test))


def render(qtbot, panel, name):
    """Grab ``panel`` at every size of SIZES into PNG_DIR; the sizes it was drawn at."""
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    drawn = []
    for w, h in SIZES:
        panel.resize(w, h)
        qtbot.wait(60)
        if hasattr(panel, "draw_if_dirty"):
            panel.draw_if_dirty()
        qtbot.wait(30)
        image = panel.grab().toImage()
        assert image.save(str(PNG_DIR / f"fit-{name}-{w}x{h}.png"))
        colours = {image.pixel(x, y) for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)}
        assert len(colours) > 8, f"{name} at {w}×{h} is nearly blank"
        drawn.append((image.width(), image.height()))
    return drawn


def opened(qtbot, cls):
    panel = cls()
    qtbot.addWidget(panel)
    panel.resize(*SIZES[-1])
    if panel._pacer is not None:
        panel.redraw_interval = 0
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def fed(qtbot, cls, snaps):
    panel = opened(qtbot, cls)
    for s in snaps:
        panel.show_snapshot(s)
    return panel


def check_sizes(drawn, name):
    """Every size asked for is the size drawn: no panel insists on being larger."""
    assert drawn == [tuple(s) for s in SIZES], f"{name} drawn at {drawn}, asked for {SIZES}"


def test_render_evaluate(qtbot, trained):
    panel = opened(qtbot, EvaluatePanel)
    panel.show_snapshot(trained.snaps[-1])
    panel.show_evaluation(trained.evaluation, trained.test.images, note="epoch 3",
                          step=trained.snaps[-1].step)
    check_sizes(render(qtbot, panel, "evaluate"), "Evaluate")


def test_render_compare(qtbot, trained):
    panel = fed(qtbot, ComparePanel, trained.snaps)
    assert panel.request({"lr": 0.5})
    for s in trained.b:
        panel.show_snapshot_b(s)
    check_sizes(render(qtbot, panel, "compare"), "Compare")


def test_render_timeline(qtbot, trained):
    panel = opened(qtbot, TimelinePanel)
    panel.set_test_set(trained.test)
    for s in trained.snaps:
        panel.show_snapshot(s)
    qtbot.waitUntil(lambda: set(panel.quick_accuracy) == set(panel.timeline.steps), timeout=20000)
    with qtbot.waitSignal(panel.scrubbed, timeout=10000):
        panel.show_step(trained.snaps[len(trained.snaps) // 2].step)
    check_sizes(render(qtbot, panel, "timeline"), "Timeline")


def test_render_gradients(qtbot, trained):
    panel = fed(qtbot, GradientsPanel, trained.snaps)
    check_sizes(render(qtbot, panel, "gradients"), "Gradients")


def test_render_curves(qtbot, trained):
    panel = fed(qtbot, CurvesPanel, trained.snaps)
    check_sizes(render(qtbot, panel, "curves"), "Cost")


def test_render_activations(qtbot, trained):
    panel = fed(qtbot, ActivationsPanel, trained.snaps[-1:])
    check_sizes(render(qtbot, panel, "activations"), "Activations")


def test_render_draw(qtbot, trained):
    from core.preprocess import drawn_probe
    panel = opened(qtbot, DrawPanel)
    panel.draw_stroke([(140, 40), (140, 240)], 22)             # a "1"
    snap = trained.snaps[-1]
    net = network_from_snapshot(snap)
    import dataclasses
    panel.show_snapshot(dataclasses.replace(snap, **drawn_probe(net, panel.image)))
    check_sizes(render(qtbot, panel, "draw"), "Draw")
