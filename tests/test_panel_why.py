"""The Why workspace in the real window: saliency numbers against the core and finite differences,
clicks (select a neuron, silence, restore, a scan cell), the training choice, attacks, dreams, and
the Timeline's past network."""
from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from core import explain
from core.network import Network
from gui.panels.why.common import TEST
from test_window import small_data, wait_paused, window  # noqa: F401  (the fixture)

TIMEOUT = 20000   # ms: the first job starts the analysis process


def why(qtbot, w, steps=30):
    """The window in the Why workspace after ``steps`` training steps, paused."""
    w.show_workspace("Why")
    w.control.step(steps)
    qtbot.waitUntil(lambda: w.last_snapshot.step >= steps, timeout=TIMEOUT)
    wait_paused(qtbot, w, steps)
    return w.last_snapshot


def result_for(qtbot, panel, snapshot, attr="result"):
    """Wait until ``panel`` shows a result computed for ``snapshot``."""
    qtbot.waitUntil(lambda: getattr(panel, attr) is not None and panel.shown_snapshot is snapshot
                    and not panel._job.busy, timeout=TIMEOUT)
    qtbot.wait(50)
    return getattr(panel, attr)


def float64_net(snapshot) -> Network:
    net = Network(snapshot.sizes, snapshot.config["activation"], snapshot.config["cost"], dtype=np.float64)
    net.W = [np.asarray(w, np.float64) for w in snapshot.W]
    net.b = [np.asarray(b, np.float64) for b in snapshot.b]
    return net


def test_saliency_panel_shows_the_input_gradient(qtbot, window):
    w = window
    snap = why(qtbot, w)
    panel = w.panels["Saliency"]
    s = result_for(qtbot, panel, snap)
    x = np.asarray(snap.probe_a[0], np.float64)
    net = float64_net(snap)
    p = int(np.argmax(net.output(x[None])))
    assert s.predicted == p and f"answers {p}" in panel.heading.text()
    # the drawn map is ∂z_p/∂x: against the core in float64, and against finite differences
    drawn = panel.maps.map_values(0).ravel()
    np.testing.assert_allclose(drawn, explain.output_input_gradient(net, x[None], p)[0], rtol=2e-4, atol=1e-6)
    h = 1e-5
    for i in np.flatnonzero(x > 0.5)[:5].tolist() + [0, 400]:
        e = np.zeros(784)
        e[i] = h
        numeric = (net.forward((x + e)[None]).z[-1][0, p] - net.forward((x - e)[None]).z[-1][0, p]) / (2 * h)
        assert drawn[i] == pytest.approx(numeric, rel=1e-3, abs=1e-6)
    np.testing.assert_allclose(panel.maps.map_values(2).ravel(), x * drawn, rtol=1e-6, atol=1e-9)
    # the top tile is the largest w·a term of z_p
    terms = net.W[1][p] * net.forward(x[None]).a[1][0]
    assert panel.up[0].neuron == (0, int(np.argmax(terms))) and panel.up[0].isVisible()
    assert f"{terms.max():+.2f}" in panel.up[0].text()


def test_clicking_a_saliency_neuron_selects_it_everywhere(qtbot, window):
    w = window
    snap = why(qtbot, w)
    panel = w.panels["Saliency"]
    result_for(qtbot, panel, snap)
    tile = panel.down[0] if panel.down[0].neuron is not None else panel.up[0]
    with qtbot.waitSignal(w.view.neuron_selected, timeout=2000) as blocker:
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    assert tuple(blocker.args) == tile.neuron and w.view.neuron == tile.neuron


def test_saliency_of_a_chosen_test_digit(qtbot, window):
    w = window
    snap = why(qtbot, w)
    panel = w.panels["Saliency"]
    result_for(qtbot, panel, snap)
    panel.choice.choose(TEST, 17)
    test = w.training.data.test
    qtbot.waitUntil(lambda: np.array_equal(panel.result.image, test.images[17]), timeout=TIMEOUT)
    assert panel.result.label == int(test.labels[17])
    assert "test #17" in panel.heading.text()


def click_tile(qtbot, grid, j):
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.tile_rect(j).center())


def test_knockout_clicks_silence_and_restore(qtbot, window):
    w = window
    snap = why(qtbot, w, steps=60)
    panel = w.panels["Knock-out"]
    result_for(qtbot, panel, snap)
    test = w.training.data.test
    intact = panel.result.intact_accuracy
    assert intact == pytest.approx(explain.explained_network(snap).evaluate(test.images, test.labels)[1])
    for j in (3, 7, 11):
        click_tile(qtbot, panel.grid, j)
    assert panel.knockouts.pairs == ((0, 3), (0, 7), (0, 11))
    assert panel.grid.silenced == {3, 7, 11}
    qtbot.waitUntil(lambda: panel.result.silenced == ((0, 3), (0, 7), (0, 11)), timeout=TIMEOUT)
    # the same as a network whose outgoing weights for them are zero
    zeroed = explain.explained_network(snap).copy()
    zeroed.W[1][:, [3, 7, 11]] = 0
    acc = zeroed.evaluate(test.images, test.labels)[1]
    assert panel.result.accuracy == pytest.approx(acc)
    np.testing.assert_allclose(panel.result.probe_output, zeroed.output(np.asarray(snap.probe_a[0])[None])[0],
                               rtol=1e-5)
    assert f"{100 * acc:.2f}%" in panel.summary.text()
    np.testing.assert_allclose(panel.per_class_bars[1].opts["height"], 100 * np.nan_to_num(panel.result.per_class))
    click_tile(qtbot, panel.grid, 7)         # a second click brings it back
    assert panel.knockouts.pairs == ((0, 3), (0, 11))
    qtbot.mouseClick(panel.restore, Qt.MouseButton.LeftButton)
    assert panel.knockouts.pairs == ()
    qtbot.waitUntil(lambda: panel.result.silenced == (), timeout=TIMEOUT)
    assert panel.result.accuracy == pytest.approx(intact)
    # training was never touched
    assert w.last_snapshot.silenced == () and w.worker.trainer.net.silenced == {}


def test_knockout_in_training_reaches_the_trainer(qtbot, window):
    w = window
    snap = why(qtbot, w)
    panel = w.panels["Knock-out"]
    result_for(qtbot, panel, snap)
    click_tile(qtbot, panel.grid, 2)
    panel.in_training.setChecked(True)
    qtbot.waitUntil(lambda: w.last_snapshot.silenced == ((0, 2),), timeout=TIMEOUT)
    assert "in training" in panel.where.text()
    before = w.last_snapshot
    w.control.step(5)
    qtbot.waitUntil(lambda: w.last_snapshot.step == before.step + 5, timeout=TIMEOUT)
    after = w.last_snapshot
    # silenced in training: no gradient for its weights in or out (momentum may still carry them)
    assert np.all(after.dW[0][2] == 0) and np.all(after.dW[1][:, 2] == 0) and after.db[0][2] == 0
    assert np.any(after.dW[0][0] != 0)
    assert np.all(after.probe_a[1][2] == 0)     # the trainer's probe pass holds it at 0 too
    panel.in_training.setChecked(False)
    qtbot.waitUntil(lambda: w.last_snapshot.silenced == (), timeout=TIMEOUT)
    assert panel.knockouts.pairs == ((0, 2),)     # still silenced in the evaluation


def test_ablation_scan_cell_click_lists_the_flips(qtbot, window):
    w = window
    snap = why(qtbot, w, steps=40)
    panel = w.panels["Ablation scan"]
    panel.bring_forward()
    scan = result_for(qtbot, panel, snap)
    test = w.training.data.test
    expected = explain.ablation_scan(explain.explained_network(snap), test)
    np.testing.assert_array_equal(scan.order, expected.order)
    np.testing.assert_allclose(scan.change, expected.change)
    # a cell with flips if there is one, else the worst neuron's whole-set cell
    j, digit = int(scan.order[0]), -1
    for jj in scan.order:
        broken, _ = scan.flips(int(jj))
        if len(broken):
            j, digit = int(jj), int(test.labels[broken[0]])
            break
    with qtbot.waitSignal(w.view.neuron_selected, timeout=2000):
        qtbot.mouseClick(panel.matrix, Qt.MouseButton.LeftButton, pos=panel.matrix.cell_rect(j, digit).center())
    assert w.view.neuron == (0, j)
    broken, mended = scan.flips(j, None if digit < 0 else digit)
    np.testing.assert_array_equal(panel.flipped[0], broken)
    assert f"Silencing neuron {j}: {len(broken)} test" in panel.flip_text.text()
    assert len(panel.flips.items) == min(30, len(broken))


def test_adversarial_panel(qtbot, window):
    w = window
    snap = why(qtbot, w, steps=60)
    panel = w.panels["Adversarial"]
    panel.bring_forward()          # a tab behind Knock-out: hidden panels wait until shown
    result_for(qtbot, panel, snap)
    x = np.asarray(snap.probe_a[0], np.float64)
    panel.set_epsilon(0.0)
    qtbot.waitUntil(lambda: panel.result.fgsm.epsilon == 0.0, timeout=TIMEOUT)
    np.testing.assert_array_equal(panel.result.fgsm.perturbed, x)
    assert "held" in panel.summary.text()
    panel.set_epsilon(0.2)
    qtbot.waitUntil(lambda: panel.result.fgsm.epsilon == pytest.approx(0.2), timeout=TIMEOUT)
    a = panel.result.fgsm
    g = explain.input_gradient(explain.explained_network(snap), x[None], snap.probe_label)[0]
    np.testing.assert_allclose(a.perturbed, np.clip(x + 0.2 * np.sign(g), 0, 1), atol=1e-6)
    np.testing.assert_allclose(panel.perturbed.image.ravel(), a.perturbed)
    smallest = panel.result.smallest
    assert np.isnan(smallest) or explain.fgsm(explain.explained_network(snap), x, snap.probe_label, smallest).flipped
    target = (a.predicted + 1) % 10
    panel.target.setCurrentIndex(target + 1)
    qtbot.waitUntil(lambda: panel.result.targeted is not None and panel.result.targeted.target == target,
                    timeout=TIMEOUT)
    assert f"target {target}" in panel.detail.text()
    qtbot.waitUntil(lambda: panel.curve_result is not None, timeout=TIMEOUT)
    eps, acc = panel.curve_result
    assert len(eps) == 10 and acc[0] == pytest.approx(
        explain.explained_network(snap).evaluate(w.training.data.test.images, w.training.data.test.labels)[1])


def test_dreams_panel_and_a_neuron_dream(qtbot, window):
    w = window
    snap = why(qtbot, w, steps=60)
    panel = w.panels["Dreams"]
    panel.bring_forward()
    d = result_for(qtbot, panel, snap)
    assert d.images.shape == (10, 784) and np.all(d.scores > d.start_scores)
    assert len(panel.strip.items) == 10 and panel.strip.items[3][1].startswith("3: ")
    w.view.select_neuron(0, 5)
    panel.bring_forward()
    qtbot.mouseClick(panel.neuron_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.neuron_result is not None, timeout=TIMEOUT)
    n = panel.neuron_result
    assert n.layer == 0 and n.neurons == (5,) and n.scores[0] > n.start_scores[0]
    assert panel.neuron_strip.isVisible()


def test_following_the_timeline_shows_the_past_network(qtbot, window):
    w = window
    old = why(qtbot, w, steps=5)
    saliency = w.panels["Saliency"]
    knock = w.panels["Knock-out"]
    result_for(qtbot, saliency, old)
    w.control.step(80)
    qtbot.waitUntil(lambda: w.last_snapshot.step >= 85, timeout=TIMEOUT)
    wait_paused(qtbot, w, 85)
    new = w.last_snapshot
    s_new = result_for(qtbot, saliency, new)
    w.view.set_past(old)
    s_old = result_for(qtbot, saliency, old)
    expected = explain.saliency(explain.explained_network(old), old.probe_a[0], old.probe_label)
    np.testing.assert_allclose(s_old.output, expected.output, rtol=1e-6)
    np.testing.assert_allclose(s_old.grad_predicted, expected.grad_predicted, rtol=1e-6)
    assert not np.allclose(s_old.output, s_new.output)
    assert f"step {old.step}" in saliency.heading.text()
    assert saliency.past_badge is not None and saliency.past_badge.isVisible()
    k_old = result_for(qtbot, knock, old)
    test = w.training.data.test
    assert k_old.intact_accuracy == pytest.approx(explain.explained_network(old).evaluate(test.images, test.labels)[1])
    w.view.set_past(None)
    result_for(qtbot, saliency, new)
    np.testing.assert_allclose(saliency.result.output, s_new.output)


def test_a_mistake_in_evaluates_gallery_is_explained_on_double_click(qtbot, window):
    w = window
    w.show_workspace("Evaluate")
    gallery = w.panels["Evaluate"].cells
    qtbot.waitUntil(lambda: gallery[0].isVisible() and gallery[0].index is not None, timeout=TIMEOUT)
    cell = gallery[0]
    qtbot.mouseDClick(cell, Qt.MouseButton.LeftButton)
    assert w.current_workspace == "Why"
    panel = w.panels["Saliency"]
    test = w.training.data.test
    qtbot.waitUntil(lambda: panel.result is not None and np.array_equal(panel.result.image, test.images[cell.index]),
                    timeout=TIMEOUT)
    assert f"test #{cell.index}" in panel.heading.text()
    assert panel.result.predicted != panel.result.label == int(test.labels[cell.index])   # it was a mistake
    assert w.panels["Adversarial"].choice.index.value() == cell.index


def test_a_deeper_network_in_the_why_workspace(qtbot):
    from gui.main_window import MainWindow
    w = MainWindow({"hidden": [12, 8], "batch_size": 10}, data=small_data())
    qtbot.addWidget(w)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=TIMEOUT)
        snap = why(qtbot, w, steps=20)
        s = result_for(qtbot, w.panels["Saliency"], snap)
        assert all(c.layer == 1 for c in (*s.up, *s.down))          # the last hidden layer's terms
        knock = w.panels["Knock-out"]
        result_for(qtbot, knock, snap)
        assert knock.layer_choice.isVisible() and knock.layer_choice.count() == 2
        knock.layer_choice.setCurrentIndex(1)
        assert knock.grid.n == 8
        click_tile(qtbot, knock.grid, 4)
        assert knock.knockouts.pairs == ((1, 4),)
        qtbot.waitUntil(lambda: knock.result.silenced == ((1, 4),), timeout=TIMEOUT)
        zeroed = explain.explained_network(snap).copy()
        zeroed.W[2][:, 4] = 0
        test = w.training.data.test
        assert knock.result.accuracy == pytest.approx(zeroed.evaluate(test.images, test.labels)[1])
        scan_panel = w.panels["Ablation scan"]
        scan_panel.bring_forward()
        scan = result_for(qtbot, scan_panel, snap)
        assert scan.layer == 1 and scan.change.shape == (8, 10)
        assert scan_panel.layer_choice.isVisible()
        scan_panel.layer_choice.setCurrentIndex(0)           # the first hidden layer: the rest runs forward
        qtbot.waitUntil(lambda: scan_panel.result.layer == 0 and not scan_panel._job.busy, timeout=TIMEOUT)
        cut = explain.explained_network(snap).copy()
        cut.silence({0: [5]})
        np.testing.assert_array_equal(scan_panel.result.predicted[5], cut.predict(test.images))
    finally:
        w.close()


def test_knockout_updates_while_training_runs(qtbot, window):
    w = window
    snap = why(qtbot, w, steps=10)
    panel = w.panels["Knock-out"]
    result_for(qtbot, panel, snap)
    qtbot.keyClick(w, Qt.Key.Key_Space)                       # run
    try:
        qtbot.waitUntil(lambda: w.last_snapshot.running, timeout=TIMEOUT)
        click_tile(qtbot, panel.grid, 5)
        qtbot.waitUntil(lambda: panel.result.silenced == ((0, 5),) and panel.shown_snapshot.running, timeout=TIMEOUT)
        shown = panel.shown_snapshot
        qtbot.waitUntil(lambda: panel.shown_snapshot.step > shown.step + 20, timeout=TIMEOUT)   # still following
    finally:
        qtbot.keyClick(w, Qt.Key.Key_Space)                   # pause
    wait_paused(qtbot, w)
    assert w.last_snapshot.silenced == ()                     # evaluation only: training untouched


def test_a_new_network_lifts_knockouts_quietly(qtbot, window):
    w = window
    snap = why(qtbot, w, steps=10)
    panel = w.panels["Knock-out"]
    result_for(qtbot, panel, snap)
    click_tile(qtbot, panel.grid, 1)
    panel.in_training.setChecked(True)
    qtbot.waitUntil(lambda: w.last_snapshot.silenced == ((0, 1),), timeout=TIMEOUT)
    old_run = w.last_snapshot.run_id
    w.training.reset(w.training.settings)
    qtbot.waitUntil(lambda: w.last_snapshot.run_id != old_run, timeout=TIMEOUT)
    qtbot.wait(300)
    assert panel.knockouts.pairs == () and w.last_snapshot.silenced == ()
    assert "Knock-out ignored" not in w.last_snapshot.message
    assert panel.grid.silenced == set()


def test_ctrl_6_opens_the_why_workspace_and_hidden_panels_ask_for_nothing(qtbot, window):
    w = window
    w.control.step(10)
    wait_paused(qtbot, w, 10)
    w.view.set_drawing(np.zeros(784))                  # a drawing made elsewhere (the Draw panel)
    qtbot.wait(200)
    why_panels = [w.panels[t] for t in ("Saliency", "Knock-out", "Ablation scan", "Adversarial", "Dreams")]
    assert all(p.result is None and not p._job.busy for p in why_panels)   # off screen: no work asked
    qtbot.keyClick(w, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert w.current_workspace == "Why"
    shown = [p for p in why_panels if p.on_screen()]
    assert {p.title for p in shown} == {"Saliency", "Knock-out", "Dreams"}
    for panel in shown:
        result_for(qtbot, panel, w.last_snapshot)
    assert w.panels["Ablation scan"].result is None            # a tab behind: still nothing


def test_saliency_of_the_drawn_digit(qtbot, window):
    from gui.panels.why.common import DRAWN
    w = window
    snap = why(qtbot, w)
    panel = w.panels["Saliency"]
    result_for(qtbot, panel, snap)
    panel.choice.choose(DRAWN)
    assert "nothing drawn" in panel.heading.text()
    drawing = np.zeros(784)
    drawing[28 * 10 + 5: 28 * 10 + 23] = 1.0                   # a bar, as the synthetic digits have
    w.view.set_drawing(drawing)
    qtbot.waitUntil(lambda: np.array_equal(panel.result.image, drawing), timeout=TIMEOUT)
    assert panel.result.label == -1 and "true digit not known" in panel.heading.text()
    np.testing.assert_allclose(panel.result.grad_true, panel.result.grad_predicted)   # t = p


def test_neuron_mosaic_places_every_tile_on_one_scale():
    from gui import theme
    from gui.panels.why.common import signed_rgba
    from gui.panels.why.knockout import neuron_mosaic
    W = np.random.default_rng(0).standard_normal((10, 784))
    mosaic = neuron_mosaic(W, 4)                         # 3 rows of 4, two places empty
    assert mosaic.shape == (3 * 29 - 1, 4 * 29 - 1, 4)
    level = theme.symmetric_level(W)
    for k in range(10):
        r, c = divmod(k, 4)
        np.testing.assert_array_equal(mosaic[r * 29:r * 29 + 28, c * 29:c * 29 + 28], signed_rgba(W[k], level))
    assert (mosaic[2 * 29:, 2 * 29:] == 120).all()       # the empty places are the grey between tiles
    # the lookup table is the diverging colour map, to within one step of its 256
    v = np.linspace(-1, 1, 784)
    exact = theme.diverging_cmap().map(v * 0.5 + 0.5, mode="byte").astype(int)
    assert np.abs(signed_rgba(v, 1.0).reshape(-1, 4).astype(int) - exact).max() <= 4


def test_a_loaded_network_with_knocked_out_neurons_shows_them_and_restore_lifts_them(qtbot, window):
    w = window
    net = Network((784, 16, 10), seed=1)
    net.silence({0: [3, 9]})
    w.training.load_network(net, step=0)
    qtbot.waitUntil(lambda: w.last_snapshot.silenced == ((0, 3), (0, 9)), timeout=TIMEOUT)
    w.show_workspace("Why")
    panel = w.panels["Knock-out"]
    qtbot.waitUntil(lambda: panel.knockouts.pairs == ((0, 3), (0, 9)), timeout=TIMEOUT)
    assert panel.in_training.isChecked() and "in training" in panel.where.text()
    qtbot.mouseClick(panel.restore, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.last_snapshot.silenced == (), timeout=TIMEOUT)
    assert panel.knockouts.pairs == ()
