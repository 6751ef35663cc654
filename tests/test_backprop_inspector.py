"""The Backprop inspector: core.inspect reads the core's own numbers, and the panel writes them out."""
import copy
import dataclasses
import itertools
import os
import re
from pathlib import Path

import numpy as np
import pytest

from core.activations import ACTIVATIONS
from core.costs import COSTS, DETOUR_MAX, get_cost
from core.gradcheck import check_neuron
from core.inspect import TOP, explain_neuron
from core.network import Network, one_hot
from core.trainer import Trainer
from gui.panels.backprop import BackpropPanel, formulas, num, plain, term
from tests.snapshots import make_snapshot, make_snapshots, open_panel, synthetic_digits

PNG_DIR = Path(os.environ.get("PANEL_PNG_DIR", "/tmp/panels"))
PAIRS = list(itertools.product(ACTIVATIONS, COSTS))
SIZES = (784, 12, 8, 10)


def float64_trainer(activation, cost, batch_size=16, steps=5, **hyper):
    net = Network(SIZES, activation, cost, seed=4, dtype=np.float64)
    trainer = Trainer(net, synthetic_digits(300, 0), synthetic_digits(100, 1), lr=0.3,
                      batch_size=batch_size, seed=4, **hyper)
    for _ in range(steps):
        trainer.step()
    return trainer


@pytest.fixture(scope="module", params=PAIRS, ids=["-".join(p) for p in PAIRS])
def run(request):
    """(trainer, snapshot, core's own forward/backward of the probe digit) for one pair."""
    trainer = float64_trainer(*request.param)
    snap = trainer.snapshot("paused")
    X = trainer.probe_set.images[snap.probe_index:snap.probe_index + 1]
    Y = one_hot([snap.probe_label], 10, np.float64)
    trace = trainer.net.forward(X)
    return trainer, snap, trace, trainer.net.backward(trace, Y), Y


def every_neuron(snap):
    return [(l, j) for l in range(len(snap.W)) for j in range(snap.W[l].shape[0])]


# --- core.inspect against the core ----------------------------------------------------------------
def test_forward_numbers_are_the_cores(run):
    trainer, snap, trace, _, _ = run
    for l, j in every_neuron(snap):
        e = explain_neuron(snap, l, j)
        assert e.z == trace.z[l][0][j] and e.a == trace.a[l + 1][0][j]
        assert e.weighted_sum + e.bias == pytest.approx(trace.z[l][0][j], rel=1e-12, abs=1e-12)
        np.testing.assert_array_equal(e.a_in, trace.a[l][0])
        np.testing.assert_array_equal(e.w, trainer.net.W[l][j])


def test_delta_and_gradients_are_the_cores(run):
    trainer, snap, trace, probe_grads, Y = run
    cost = float(trainer.net.costs(trace.output, Y)[0])
    for l, j in every_neuron(snap):
        e = explain_neuron(snap, l, j)
        assert e.delta == snap.probe_delta[l][j] == probe_grads.delta[l][0][j]
        assert e.dC0_db == e.delta
        # a batch of one: the core's averaged dW is this digit's ∂C0/∂w_jk = a_k δ_j
        np.testing.assert_allclose(e.dC0_dw, probe_grads.dW[l][j], rtol=1e-14, atol=0)
        # the mini-batch average is the gradient the next step will apply: the core's on that batch
        np.testing.assert_array_equal(e.batch_dw, snap.next_batch.dW[l][j])
        assert e.batch_db == snap.next_batch.db[l][j]
        assert e.cost_value == pytest.approx(cost, rel=1e-14)


def test_a_digit_of_the_next_mini_batch_is_explained_from_the_cores_trace(run):
    trainer, snap, _, _, _ = run
    batch = snap.next_batch
    np.testing.assert_array_equal(batch.indices, trainer.peek_batch())
    X = trainer.train.images[batch.indices]
    Y = one_hot(batch.labels, 10, np.float64)
    trace = trainer.net.forward(X)
    grads = trainer.net.backward(trace, Y)
    for l, j in every_neuron(snap):
        np.testing.assert_array_equal(batch.dW[l], grads.dW[l])
        for k in (0, len(batch) - 1):
            e = explain_neuron(snap, l, j, digit=k)
            assert e.train_index == batch.indices[k] and e.probe_label == batch.labels[k]
            assert e.delta == grads.delta[l][k][j] and e.z == trace.z[l][k][j]
            assert e.delta_from_parts == pytest.approx(e.delta, rel=1e-10, abs=1e-15)
            np.testing.assert_allclose(e.dC0_dw, trace.a[l][k] * grads.delta[l][k][j], rtol=1e-14)
    # the step then applies exactly −η times that average (plain SGD)
    other = copy.deepcopy(trainer)  # the fixture is shared: step a copy
    if other.optimizer.momentum == 0 and other.optimizer.l2 == 0:
        other.step()
        for l in range(len(other.net.W)):
            np.testing.assert_allclose(other.net.W[l] - trainer.net.W[l], -other.optimizer.lr * batch.dW[l],
                                       rtol=1e-10, atol=1e-15)


def test_delta_is_sigma_prime_times_dC_da(run):
    trainer, snap, trace, probe_grads, Y = run
    net = trainer.net
    for l, j in every_neuron(snap):
        e = explain_neuron(snap, l, j)
        assert e.delta_from_parts == pytest.approx(e.delta, rel=1e-10, abs=1e-15), (l, j)
        if e.shortcut:
            assert e.delta == pytest.approx(e.a - Y[0, j], abs=1e-15)
            continue
        sigma_prime = get_cost(e.cost).output_prime if e.is_output else net.activation.prime
        assert e.sigma_prime == sigma_prime(trace.z[l][0])[j]
        assert e.delta == pytest.approx(e.sigma_prime * e.dC_da, rel=1e-10, abs=1e-15)


def test_output_error_follows_the_cost(run):
    trainer, snap, trace, _, Y = run
    L = len(snap.W) - 1
    for j in range(10):
        e = explain_neuron(snap, L, j)
        assert e.is_output and e.y == Y[0, j]
        u = 1 / (1 + np.exp(-trace.z[L][0][j]))
        if e.cost == "quadratic":
            assert e.dC_da == pytest.approx(2 * (e.a - e.y), rel=1e-14)
            assert not e.shortcut and e.activation == "sigmoid" and e.sigma_z == e.a
        elif e.cost == "cross-entropy":
            assert e.shortcut and e.activation == "softmax" and np.isnan(e.sigma_prime) and np.isnan(e.sigma_z)
        else:  # the notes' detour: δ = (s − y) σ'(z), softmax of the sigmoids
            assert e.dC_da == pytest.approx(e.a - e.y, rel=1e-14)
            assert e.sigma_z == pytest.approx(u, rel=1e-12) and e.sigma_prime == pytest.approx(u * (1 - u), rel=1e-12)
            assert not e.shortcut and e.activation == "sigmoid-softmax" and e.a <= DETOUR_MAX


def test_hidden_dC_da_sums_the_next_layers_deltas(run):
    trainer, snap, _, probe_grads, _ = run
    for l in range(len(snap.W) - 1):
        for j in range(snap.W[l].shape[0]):
            e = explain_neuron(snap, l, j)
            terms = trainer.net.W[l + 1][:, j] * probe_grads.delta[l + 1][0]
            assert e.dC_da == pytest.approx(terms.sum(), rel=1e-12, abs=1e-15)
            biggest = np.sort(np.abs(terms))[::-1][:TOP]
            np.testing.assert_allclose([abs(t.product) for t in e.back_terms], biggest, rtol=1e-15)
            assert all(t.product == pytest.approx(t.left * t.right) for t in e.back_terms)


def test_forward_terms_are_the_largest_products(run):
    _, snap, trace, _, _ = run
    for l, j in ((0, 3), (1, 2), (2, 5)):
        e = explain_neuron(snap, l, j)
        products = snap.W[l][j] * trace.a[l][0]
        assert [t.index for t in e.z_terms] == list(np.argsort(-np.abs(products), kind="stable")[:TOP])
        assert [t.product for t in e.z_terms] == [products[t.index] for t in e.z_terms]


def test_update_is_minus_lr_times_the_batch_gradient(run):
    trainer, snap, _, _, _ = run
    e = explain_neuron(snap, 1, 4)
    assert e.lr == 0.3 == snap.config["lr"]
    np.testing.assert_array_equal(e.update_w, -0.3 * snap.next_batch.dW[1][4])
    assert e.update_b == -0.3 * snap.next_batch.db[1][4]


def test_gradient_check_is_tight_and_matches_the_explanation(run):
    trainer, snap, _, _, _ = run
    X = trainer.probe_set.images[snap.probe_index:snap.probe_index + 1]
    Y = one_hot([snap.probe_label], 10, np.float64)
    for l in range(len(snap.W)):
        j = int(np.argmax(np.abs(snap.probe_delta[l])))  # a live neuron, even for ReLU
        result = check_neuron(trainer.net, X, Y, l, j)
        assert result.relative_error < 1e-6
        e = explain_neuron(snap, l, j)
        np.testing.assert_allclose(result.backprop, np.append(e.dC0_dw[result.weights], e.dC0_db), rtol=1e-12)


def test_per_sample_gradient_with_batches_of_one():
    trainer = float64_trainer("tanh", "quadratic", batch_size=1, steps=3)
    idx = trainer.peek_batch()[:1]  # the digit the next step trains on
    trainer.step()
    snap = trainer.snapshot()
    X, Y = trainer.train.images[idx], one_hot(trainer.train.labels[idx], 10, np.float64)
    before = trainer.net.copy()
    for p, g in zip(before.params(), [g for pair in zip(snap.dW, snap.db) for g in pair]):
        p += 0.3 * g  # undo the plain-SGD step to get the weights that step saw
    trace = before.forward(X)
    grads = before.backward(trace, Y)
    for l in range(len(snap.W)):
        np.testing.assert_allclose(snap.dW[l], np.outer(grads.delta[l][0], trace.a[l][0]), rtol=1e-12, atol=1e-15)


def test_parts_may_be_a_mapping_and_bad_neurons_raise():
    snap = make_snapshot(steps=2, sizes=(784, 6, 10))
    parts = {f.name: getattr(snap, f.name) for f in dataclasses.fields(snap)}
    assert explain_neuron(parts, 1, 3).delta == explain_neuron(snap, 1, 3).delta
    assert explain_neuron(snap, 0, 2).gradient_image.shape == (28, 28)
    assert explain_neuron(snap, 1, 2).gradient_image is None
    with pytest.raises(IndexError):
        explain_neuron(snap, 2, 0)
    with pytest.raises(IndexError):
        explain_neuron(snap, 0, 6)


# --- number formatting ------------------------------------------------------------------------------
def test_numbers_have_four_significant_digits_and_real_minus_signs():
    assert num(1.23456) == "1.235" and num(-0.05) == "−0.05000" and num(1.03) == "1.030"
    assert num(0.0001234567) == "0.0001235"
    assert num(-1.5e-7) == "−1.500×10⁻⁷" and num(2e12) == "2.000×10¹²"
    assert num(0.0) == "0" and num(float("nan")) == "NaN" and num(-np.inf) == "−∞"
    assert plain(0.1) == "0.1" and plain(1e-6) == "10⁻⁶" and plain(1.0) == "1"


# --- the panel ---------------------------------------------------------------------------------------
@pytest.fixture
def panel(qtbot):
    return open_panel(qtbot, BackpropPanel, size=(1000, 800))


def text(label) -> str:
    """A label's visible text: tags dropped, entities decoded."""
    return re.sub(r"<[^>]+>", "", label.text()).replace("&nbsp;", " ").replace("&gt;", ">")


def test_panel_writes_the_hidden_neurons_numbers(panel, run):
    _, snap, _, _, _ = run
    panel.set_neuron(1, 5)
    panel.show_snapshot(snap)
    e = explain_neuron(snap, 1, 5)
    f = {key: text(label) for key, label in panel.formula_labels.items()}
    assert f"z5 = Σk w5k ak + b5 = {num(e.weighted_sum)} + " in f["z"] and f["z"].endswith(f"= {num(e.z)}")
    assert num(e.a) in f["a"] and num(e.cost_value) in f["cost"]
    assert f"∂C0/∂a5 = " in f["dC_da"] and f"= {num(e.dC_da)}" in f["dC_da"]
    assert f"σ'(z5) = " in f["sigma_prime"] and num(e.sigma_prime) in f["sigma_prime"]
    assert f"✓ the same as the core's δ from Network.backward: {num(e.delta)}" in f["delta"]
    assert f"= {num(e.delta)}" in f["db0"] and num(e.batch_db) in f["batch_db"]
    assert f"= {num(e.update_b)}" in f["update_b"]
    assert panel.z_table.texts()[0] == [str(e.z_terms[0].index), num(e.z_terms[0].left),
                                        num(e.z_terms[0].right), num(e.z_terms[0].product)]
    assert panel.back_table.isVisible() and panel.back_table.texts()[0][3] == num(e.back_terms[0].product)
    k = int(np.argmax(np.abs(snap.next_batch.dW[1][5])))
    assert panel.update_table.texts()[0] == [str(k), num(e.dC0_dw[k]), num(snap.next_batch.dW[1][5][k]), num(e.update_w[k])]
    assert "Hidden neuron 5 of hidden layer 2" in text(panel.heading)
    assert panel.layer_box.count() == 3 and panel.layer_box.currentIndex() == 1
    assert panel.neuron_box.maximum() == 7 and panel.neuron_box.value() == 5


def test_panel_writes_the_output_neurons_numbers(panel, run):
    _, snap, _, _, Y = run
    j = snap.probe_label
    panel.set_neuron(2, j)
    panel.show_snapshot(snap)
    e = explain_neuron(snap, 2, j)
    f = {key: text(label) for key, label in panel.formula_labels.items()}
    if e.cost == "quadratic":
        assert f"∂C0/∂a{j} = 2(a{j} − y{j}) = 2({num(e.a)} − 1) = {num(e.dC_da)}" in f["dC_da"]
        assert f"σ'(z{j}) = a{j}(1 − a{j}) = {num(e.a)}(1 − {num(e.a)}) = {num(e.sigma_prime)}" in f["sigma_prime"]
        assert f"= {term(e.sigma_prime)} × {term(e.dC_da)} = {num(e.delta_from_parts)}" in f["delta"]
    elif e.cost == "cross-entropy":
        assert f"∂C0/∂z{j} = s{j} − y{j} = {num(e.a)} − 1 = {num(e.a - 1)}" in f["dC_da"]
        assert f"a{j} = s{j} = exp(z{j}) / Σi exp(zi) = {num(e.a)}" in f["a"]
        assert f"no σ'(z{j}) here" in f["sigma_prime"]
    else:
        assert f"a{j} = s{j} = exp(σ(z{j})) / Σi exp(σ(zi)) = {num(e.a)}  (σ(z{j}) = {num(e.sigma_z)})" in f["a"]
        assert f"∂C0/∂σ(z{j}) = s{j} − y{j} = {num(e.a)} − 1 = {num(e.dC_da)}" in f["dC_da"]
        s_ = num(e.sigma_z)
        assert f"σ'(z{j}) = σ(z{j})(1 − σ(z{j})) = {s_}(1 − {s_}) = {num(e.sigma_prime)}" in f["sigma_prime"]
        assert (f"δ{j} = ∂C0/∂z{j} = σ'(z{j}) · ∂C0/∂σ(z{j}) = {term(e.sigma_prime)} × {term(e.dC_da)} = "
                f"{num(e.delta_from_parts)}") in f["delta"]
    assert get_cost(e.cost).title in text(panel.heading)
    assert "✓" in f["delta"] and num(e.delta) in f["delta"]
    assert not panel.back_table.isVisible()
    assert f"Output neuron {j}" in text(panel.heading)


def test_gradient_image_for_a_first_layer_neuron_and_bars_deeper(panel):
    snap = make_snapshot(steps=3, sizes=(784, 6, 10))
    panel.set_neuron(0, 2)
    panel.show_snapshot(snap)
    e = explain_neuron(snap, 0, 2)
    plot = panel.plot
    assert plot.currentWidget() is plot.image_widget
    np.testing.assert_allclose(plot.image.image, e.dC0_dw.reshape(28, 28))
    low, high = plot.image.getLevels()
    assert low == -high and high == pytest.approx(np.abs(e.dC0_dw).max())
    panel.set_neuron(1, 4)
    assert plot.currentWidget() is plot.bars_widget
    heights = plot.positive.opts["height"] + plot.negative.opts["height"]
    np.testing.assert_allclose(heights, explain_neuron(snap, 1, 4).dC0_dw)


def test_layer_and_neuron_controls_pick_the_neuron(panel):
    snap = make_snapshot(steps=2, sizes=(784, 6, 10))
    panel.show_snapshot(snap)
    panel.layer_box.setCurrentIndex(1)
    assert panel.neuron == (1, 0) and "Output neuron 0" in text(panel.heading)
    panel.neuron_box.setValue(7)
    assert panel.neuron == (1, 7) and panel.explanation.j == 7
    assert [panel.layer_box.itemText(i) for i in range(2)] == ["Hidden 1", "Output"]
    assert panel.digit_box.currentText() == "probe digit"


def test_running_snapshots_redraw_at_most_every_interval_and_pauses_always(panel):
    first, second, third = make_snapshots(count=3, steps_between=2, sizes=(784, 6, 10))
    panel.redraw_interval = 60.0
    panel.show_snapshot(first)
    panel.show_snapshot(second)  # running, too soon: kept but not drawn
    assert f"step {first.step}" in text(panel.heading) and panel.explanation.delta == first.probe_delta[0][0]
    panel.set_neuron(0, 1)  # the user's choice draws at once, from the newest snapshot
    assert f"step {second.step}" in text(panel.heading)
    panel.show_snapshot(dataclasses.replace(third, status="paused"))
    assert f"step {third.step}" in text(panel.heading)
    panel.redraw_interval = 0.0
    panel.show_snapshot(first)
    assert f"step {first.step}" in text(panel.heading)


def test_a_neuron_outside_a_smaller_network_is_clamped(panel):
    panel.set_neuron(1, 15)
    panel.show_snapshot(make_snapshot(steps=1, sizes=(784, 6, 10)))
    assert panel.neuron == (1, 9)
    panel.show_snapshot(make_snapshot(steps=1, sizes=(784, 6, 4, 10)))
    assert panel.neuron == (1, 3) and panel.layer_box.count() == 3


def test_gradient_check_button_and_result(panel, qtbot, run):
    trainer, snap, _, _, _ = run
    panel.set_neuron(0, 4)
    panel.show_snapshot(snap)
    with qtbot.waitSignal(panel.gradient_check_requested) as blocker:
        panel.check_button.click()
    assert blocker.args == [0, 4]
    assert "Checking" in text(panel.check_summary)
    X = trainer.probe_set.images[snap.probe_index:snap.probe_index + 1]
    result = check_neuron(trainer.net, X, one_hot([snap.probe_label], 10, np.float64), 0, 4)
    panel.show_gradient_check(result)
    summary = text(panel.check_summary)
    assert f"= {num(result.relative_error)}" in summary
    assert ("✓ agree" in summary) == (result.relative_error < 1e-6)
    rows = panel.check_table.texts()
    assert text_of(rows[0][0]) == "b4" and rows[0][1] == num(result.backprop[-1], 8)
    assert rows[0][2] == num(result.numeric[-1], 8)
    panel.set_neuron(0, 5)  # another neuron: the old result no longer applies
    assert "Press" in text(panel.check_summary) and panel.check_table.texts()[0] == ["", "", ""]
    panel.set_neuron(0, 4)
    wrong = dataclasses.replace(result, numeric=result.numeric * 1.01, relative_error=5e-3)
    panel.show_gradient_check(wrong)
    assert "✗ disagree" in text(panel.check_summary)
    panel.show_gradient_check("no network yet")
    assert "no network yet" in text(panel.check_summary) and panel.check is None


def test_a_gradient_under_the_floor_says_so(panel, run):
    trainer, snap, _, _, _ = run
    panel.show_snapshot(snap)
    X = trainer.probe_set.images[snap.probe_index:snap.probe_index + 1]
    result = check_neuron(trainer.net, X, one_hot([snap.probe_label], 10, np.float64), 0, 4)
    tiny = dataclasses.replace(result, backprop=result.backprop * 1e-12, numeric=result.numeric * 1e-12)
    panel.show_gradient_check(tiny)
    assert "is under the floor" in text(panel.check_summary)
    assert f"max(‖gbackprop‖ + ‖gnumeric‖, {num(result.floor, 2)})" in text(panel.check_summary)


def test_an_old_gradient_check_is_marked_stale(panel, run):
    """Issue 12 item 9: a check stays up after the network moves on; now it is marked stale, and
    fresh again when the weights it checked come back (Timeline)."""
    trainer, snap, _, _, _ = run
    panel.set_neuron(0, 4)
    panel.show_snapshot(snap)
    X = trainer.probe_set.images[snap.probe_index:snap.probe_index + 1]
    panel.show_gradient_check(check_neuron(trainer.net, X, one_hot([snap.probe_label], 10, np.float64), 0, 4))
    assert not panel.check_stale and "Stale" not in text(panel.check_summary)
    other = copy.deepcopy(trainer)
    other.step()
    panel.show_snapshot(other.snapshot("paused"))
    assert panel.check_stale and "⟲ Stale" in text(panel.check_summary) and "agree" in text(panel.check_summary)
    panel.show_snapshot(snap)
    assert not panel.check_stale and "Stale" not in text(panel.check_summary)
    another_digit = dataclasses.replace(snap, probe_a=(np.asarray(snap.probe_a[0])[::-1].copy(), *snap.probe_a[1:]))
    panel.show_snapshot(another_digit)
    assert panel.check_stale


def test_step_one_digit_explains_the_digit_the_next_step_trains_on(panel):
    """Issue 12 item 9: with Step one digit on, sections 1–4 explained the probe while section 5
    averaged the next training digit; now every section explains the digit the next step trains on."""
    trainer = float64_trainer("sigmoid", "cross-entropy", batch_size=1, steps=3)
    snap = trainer.snapshot("paused")
    panel.set_neuron(0, 2)
    panel.show_snapshot(snap)
    assert panel.explanation.train_index == -1            # the probe, until asked
    panel.one_digit_box.setChecked(True)
    trained_on = int(trainer.peek_batch()[0])
    assert panel.explanation.train_index == trained_on == snap.next_batch.indices[0]
    assert f"training digit #{trained_on}" in text(panel.heading)
    e = explain_neuron(snap, 0, 2, digit=0)
    assert f"= {num(e.delta)}" in text(panel.formula_labels["db0"])
    np.testing.assert_array_equal(panel.explanation.dC0_dw * 1.0, e.batch_dw)  # one digit: its own gradient
    trainer.step()
    panel.show_snapshot(trainer.snapshot("paused"))
    assert panel.explanation.train_index == int(trainer.peek_batch()[0]) != trained_on
    panel.one_digit_box.setChecked(False)
    assert panel.explanation.train_index == -1 and panel.digit_box.currentText() == "probe digit"


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_step_one_digit_checkbox_emits(panel, qtbot):
    with qtbot.waitSignal(panel.step_one_digit_toggled) as blocker:
        panel.one_digit_box.setChecked(True)
    assert blocker.args == [True]
    with qtbot.waitSignal(panel.step_one_digit_toggled) as blocker:
        panel.one_digit_box.setChecked(False)
    assert blocker.args == [False]


def nan_snapshot():
    s = make_snapshot(steps=2, sizes=(784, 6, 10))
    nan = lambda arrays: tuple(np.full_like(a, np.nan) for a in arrays)  # noqa: E731
    return dataclasses.replace(s, W=nan(s.W), dW=nan(s.dW), probe_z=nan(s.probe_z),
                               probe_a=(s.probe_a[0], *nan(s.probe_a[1:])), probe_delta=nan(s.probe_delta))


@pytest.mark.parametrize("l", [0, 1])
def test_nan_snapshot_draws_nan_and_no_exception(panel, l):
    panel.set_neuron(l, 1)
    panel.show_snapshot(nan_snapshot())
    f = {key: text(label) for key, label in panel.formula_labels.items()}
    assert "NaN" in f["z"] and "NaN" in f["delta"] and "✗" in f["delta"]
    assert "NaN" in panel.z_table.texts()[0][1]
    if l == 0:
        assert np.isfinite(panel.plot.image.image).all()


def test_momentum_and_l2_are_mentioned():
    trainer = float64_trainer("sigmoid", "quadratic", momentum=0.9, l2=1e-3, steps=2)
    e = explain_neuron(trainer.snapshot(), 1, 0)
    notes = formulas(e)["notes"]
    assert "μ = 0.9" in notes and "λ = 0.001" in notes
    np.testing.assert_allclose(e.update_w, -e.lr * (e.batch_dw + 1e-3 * e.w))


def render(qtbot, trainer, suffix=""):
    """Screenshots of the probe's most affected hidden neuron and of its label's output neuron."""
    snap = trainer.snapshot("paused")
    X = trainer.probe_set.images[snap.probe_index:snap.probe_index + 1]
    Y = one_hot([snap.probe_label], 10, np.float64)
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    panel = BackpropPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 800)
    panel.show()
    for name, (l, j) in (("hidden", (0, int(np.argmax(np.abs(snap.probe_delta[0]))))),
                         ("output", (len(snap.W) - 1, snap.probe_label))):
        panel.set_neuron(l, j)
        panel.show_snapshot(snap)
        panel.show_gradient_check(check_neuron(trainer.net, X, Y, l, j))
        qtbot.wait(10)
        path = PNG_DIR / f"backprop-{name}{suffix}.png"
        assert panel.grab().save(str(path))
        assert path.stat().st_size > 10_000


def test_render_pngs(qtbot):
    render(qtbot, float64_trainer("sigmoid", "cross-entropy", batch_size=32, steps=20, momentum=0.9))


def test_render_pngs_on_mnist(qtbot, mnist):
    """The app's default network after 30 steps on the real MNIST (docs/backprop-*.png)."""
    trainer = Trainer(Network((784, 100, 10), "sigmoid", "cross-entropy", seed=0), mnist.train, mnist.test,
                      lr=0.1, momentum=0.9, batch_size=32, seed=0)
    for _ in range(30):
        trainer.step()
    render(qtbot, trainer, "-mnist")


def test_window_runs_the_gradient_check_and_steps_one_digit(qtbot):
    """The window's wiring: selecting a neuron, the gradient check, step one digit."""
    from types import SimpleNamespace
    from gui.main_window import MainWindow
    data = SimpleNamespace(train=synthetic_digits(600, 0), test=synthetic_digits(200, 1),
                           source="synthetic test digits", kind="synthetic")
    w = MainWindow({"hidden": [16], "batch_size": 10}, data=data)
    qtbot.addWidget(w)
    w.show()
    w.bring_forward("Backprop") if hasattr(w, "bring_forward") else w.docks["Backprop"].raise_()
    panel = w.panels["Backprop"]
    qtbot.waitUntil(lambda: panel.explanation is not None, timeout=5000)
    w.view.select_neuron(0, 3)
    assert panel.neuron == (0, 3)
    with qtbot.waitSignal(w.worker.gradient_checked, timeout=5000) as blocker:
        panel.check_button.click()
    assert (blocker.args[0].layer, blocker.args[0].j) == (0, 3)
    qtbot.waitUntil(lambda: "agree" in panel.check_summary.text(), timeout=3000)
    panel.one_digit_box.setChecked(True)
    qtbot.waitUntil(lambda: w.worker.trainer.batch_size == 1, timeout=3000)
    # every section explains the one digit the next step trains on (the worker is paused)
    qtbot.waitUntil(lambda: panel.digit_box.count() == 2 and panel.explanation.train_index
                    == int(w.worker.trainer.peek_batch()[0]), timeout=3000)
    w.control.step(1)
    qtbot.waitUntil(lambda: panel.check_stale, timeout=3000)     # the check was of the weights before
    qtbot.waitUntil(lambda: panel.explanation.train_index == int(w.worker.trainer.peek_batch()[0]), timeout=3000)
    panel.one_digit_box.setChecked(False)
    qtbot.waitUntil(lambda: w.worker.trainer.batch_size == 10, timeout=3000)
    w.close()


def test_panel_explains_a_digit_of_the_next_mini_batch(panel, run):
    _, snap, _, _, _ = run
    panel.set_neuron(0, 3)
    panel.show_snapshot(snap)
    assert panel.digit_box.count() == len(snap.next_batch) + 1
    panel.digit_box.setCurrentIndex(3)                 # mini-batch digit 3 → row 2
    e = explain_neuron(snap, 0, 3, digit=2)
    assert panel.explanation.train_index == snap.next_batch.indices[2] == e.train_index
    assert f"training digit #{e.train_index} of the next mini-batch" in text(panel.heading)
    assert f"= {num(e.delta)}" in text(panel.formula_labels["db0"])


def test_a_drawing_nobody_labelled_is_not_given_a_label(panel):
    """Issue 12 item 7 in the Backprop panel: y for δ is the network's answer, and the heading says so."""
    from core.evaluate import network_from_snapshot
    from core.preprocess import drawn_probe
    snap = make_snapshot(steps=2)
    image = np.zeros(784, np.float32)
    image[300:320] = 1.0
    drawn = dataclasses.replace(snap, **drawn_probe(network_from_snapshot(snap), image), probe_label_known=False)
    panel.set_neuron(0, 2)
    panel.show_snapshot(drawn)
    assert "your drawing, label ?" in text(panel.heading) and "test #" not in text(panel.heading)
    labelled = dataclasses.replace(drawn, probe_label=4, probe_label_known=True)
    panel.show_snapshot(labelled)
    assert "your drawing, a 4 (yours)" in text(panel.heading)
