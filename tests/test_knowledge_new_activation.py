"""Adding an activation is one class in core/activations.py: softplus was added that way, and here
it runs through everything: the gradient check, the whole window, the Backprop inspector, the
window's own gradient check and the panels' formula texts.

Softplus was chosen over leaky ReLU because it is smooth: finite differences never straddle a
corner, so its gradient check is as tight as the sigmoid's; and it shows a unit that saturates on
one side without ever quite dying, between the sigmoid and ReLU.
"""
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.activations import ACTIVATIONS, get_activation
from core.costs import COSTS
from core.gradcheck import TOLERANCE, check_neuron
from core.network import Network, one_hot
from core.trainer import Trainer
from tests.snapshots import synthetic_digits

NEW = "softplus"
ROOT = Path(__file__).resolve().parents[1]


def test_it_is_in_the_registry_and_knows_itself():
    act = get_activation(NEW)
    assert NEW in ACTIVATIONS and act.symbol == "softplus" and act.y_range is None
    z = np.array([-800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0])
    np.testing.assert_allclose(act(z), [0.0, math.log1p(math.exp(-30)), math.log1p(math.exp(-1)), math.log(2),
                                        1 + math.log1p(math.exp(-1)), 30 + math.log1p(math.exp(-30)), 800.0],
                               rtol=1e-15, atol=0)
    np.testing.assert_allclose(act.prime(z), np.exp(-np.logaddexp(0.0, -z)), rtol=1e-12, atol=1e-300)  # 1/(1+e^−z)
    a = np.array([1e-3, 0.019, 0.5, 10.0, np.nan, np.inf])
    assert act.saturated(a).tolist() == [True, True, False, False, False, False]
    assert not act.dead(a).any()                      # never exactly dead


def test_no_other_file_names_it():
    """The proof that adding it touched only core/activations.py."""
    hits = [p.relative_to(ROOT) for folder in ("core", "gui") for p in (ROOT / folder).rglob("*.py")
            if NEW in p.read_text(encoding="utf-8")]
    hits += [Path("main.py")] if NEW in (ROOT / "main.py").read_text(encoding="utf-8") else []
    assert hits == [Path("core/activations.py")]


@pytest.mark.parametrize("cost", COSTS)
def test_gradient_check_in_float64(cost):
    net = Network((784, 12, 8, 10), NEW, cost, seed=3, dtype=np.float64)
    trainer = Trainer(net, synthetic_digits(300, 0), synthetic_digits(100, 1), seed=3,
                      **{**dict(lr=0.3, momentum=0.0, batch_size=16)})
    for _ in range(5):
        trainer.step()
    X, Y = trainer.test.images[:2], one_hot(trainer.test.labels[:2], 10, np.float64)
    for l in range(net.n_layers):
        for j in range(net.sizes[l + 1]):
            result = check_neuron(net, X, Y, l, j)
            assert result.relative_error < TOLERANCE and result.agrees, (l, j, result)


def show(window, title: str) -> None:
    """Bring panel ``title`` to the front (panels nobody sees do not draw)."""
    window.bring_forward(title) if hasattr(window, "bring_forward") else window.docks[title].raise_()


def test_the_whole_window_with_it(qtbot):
    pytest.importorskip("pyqtgraph")
    from gui.main_window import MainWindow
    data = SimpleNamespace(train=synthetic_digits(600, 0), test=synthetic_digits(200, 1),
                           source="synthetic test digits", kind="synthetic")
    w = MainWindow({"hidden": [16], "batch_size": 10, "activation": NEW}, data=data)
    qtbot.addWidget(w)
    w.show()
    act = get_activation(NEW)
    try:
        qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
        assert w.worker.trainer.net.activation.name == NEW and w.last_snapshot.config["activation"] == NEW
        w.control.step(4)
        qtbot.waitUntil(lambda: w.last_snapshot.step == 4 and not w.control.running, timeout=5000)

        # the Backprop inspector on the hidden neuron the probe moves most
        show(w, "Backprop")
        panel = w.panels["Backprop"]
        j = int(np.argmax(np.abs(w.last_snapshot.probe_delta[0])))
        w.view.select_neuron(0, j)
        qtbot.waitUntil(lambda: panel.explanation is not None and panel.explanation.j == j, timeout=5000)
        texts = {key: label.text() for key, label in panel.formula_labels.items()}
        assert "softplus" in texts["a"] and "ln(1 + exp(" in texts["a"]          # σ's own formula
        assert "σ'(<i>z</i><sub>" in texts["sigma_prime"] and "1 / (1 + exp(−" in texts["sigma_prime"]
        assert "✓ the same as the core's δ" in texts["delta"]

        # the window's gradient check (in the worker) agrees
        with qtbot.waitSignal(w.worker.gradient_checked, timeout=5000) as blocker:
            panel.check_button.click()
        result = blocker.args[0]
        assert (result.layer, result.j) == (0, j) and result.agrees and result.relative_error < TOLERANCE
        qtbot.waitUntil(lambda: "✓ agree" in panel.check_summary.text(), timeout=3000)
        qtbot.wait(200)                                # the paused worker's next snapshot: same weights
        assert not panel.check_stale and "Stale" not in panel.check_summary.text()
        w.control.step(1)                              # one more step: the check no longer applies
        qtbot.waitUntil(lambda: panel.check_stale and "Stale" in panel.check_summary.text(), timeout=5000)

        # the Activations panel says what it counts and shows the formulas
        show(w, "Activations")
        activations = w.panels["Activations"]
        qtbot.waitUntil(lambda: activations.hidden_texts() and NEW in activations.hidden_texts()[0][0],
                        timeout=5000)
        title, tip = activations.hidden_texts()[0]
        assert "saturated" in title and act.saturation_rule in tip
        assert act.formula in tip and act.prime_formula in tip
    finally:
        w.close()
