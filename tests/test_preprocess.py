"""Drawings become MNIST-like digits: 20-pixel box, centre of mass at (14, 14), anti-aliased."""
import numpy as np
import pytest

from core.evaluate import network_from_snapshot, network_from_weights
from core.network import Network, one_hot
from core.preprocess import (area_resample, area_weights, bounding_box, centre_of_mass, drawn_probe,
                             forward_digit, prepare_drawing)
from tests.snapshots import make_snapshot

SEVEN = [(60, 50), (220, 50), (150, 250)]   # a "7": the bar, then the long diagonal


def thick_polyline(points, width, side=280) -> np.ndarray:
    """Ink 0–1 on a side×side canvas: every pixel within width/2 of the polyline (a round pen)."""
    rows, cols = np.indices((side, side)) + 0.5
    near = np.zeros((side, side), dtype=bool)
    points = np.asarray(points, dtype=float)
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]) if len(points) > 1 else [(points[0], points[0])]:
        d = np.array([x1 - x0, y1 - y0])
        t = np.clip(((cols - x0) * d[0] + (rows - y0) * d[1]) / max(d @ d, 1e-12), 0, 1)
        near |= np.hypot(cols - (x0 + t * d[0]), rows - (y0 + t * d[1])) <= width / 2
    return near.astype(np.float32)


def box_size(image28) -> tuple:
    r0, r1, c0, c1 = bounding_box(image28.reshape(28, 28))
    return r1 - r0, c1 - c0


def test_a_stroke_is_centred_and_scaled_like_mnist():
    digit = prepare_drawing(thick_polyline(SEVEN, 22))
    assert digit.shape == (784,) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() == pytest.approx(1.0)
    com = centre_of_mass(digit.reshape(28, 28))
    np.testing.assert_allclose(com, (14, 14), atol=0.5)
    height, width = box_size(digit)
    assert max(height, width) in (19, 20, 21) and height <= 20 and width <= 20


def test_a_small_off_centre_drawing_is_centred_and_enlarged():
    canvas = thick_polyline([(230, 20), (230, 60)], 6)     # a short "1" in the top right corner
    digit = prepare_drawing(canvas).reshape(28, 28)
    np.testing.assert_allclose(centre_of_mass(digit), (14, 14), atol=0.5)
    height, width = box_size(digit)
    assert height == 20 and 2 <= width <= 5               # 46 × 6 px: the aspect ratio is kept


def test_aspect_ratio_is_kept():
    canvas = np.zeros((280, 280), np.float32)
    canvas[40:240, 100:200] = 1.0                            # 200 tall, 100 wide
    digit = prepare_drawing(canvas).reshape(28, 28)
    assert box_size(digit) == (20, 10)
    np.testing.assert_allclose(digit[digit > 0], 1.0)        # whole pixels: nothing is grey


def test_empty_or_faint_canvas_gives_zeros():
    assert not prepare_drawing(np.zeros((280, 280))).any()
    assert not prepare_drawing(np.full((50, 50), 0.001)).any()   # below half an 8-bit grey level
    assert prepare_drawing(np.zeros((280, 280))).dtype == np.float32


def test_uint8_and_float_canvases_agree():
    ink = thick_polyline(SEVEN, 18)
    np.testing.assert_allclose(prepare_drawing((ink * 255).astype(np.uint8)), prepare_drawing(ink), atol=1e-6)


def test_canvas_must_be_two_dimensional():
    with pytest.raises(ValueError):
        prepare_drawing(np.zeros(784))


def test_area_weights_average_whole_and_partial_pixels():
    np.testing.assert_allclose(area_weights(280, 20).sum(axis=1), 1.0)
    np.testing.assert_allclose(area_weights(3, 2), [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]])
    image = np.random.default_rng(0).random((40, 60))
    blocks = image.reshape(20, 2, 20, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(area_resample(image, (20, 20)), blocks)


def test_area_resampling_keeps_the_mean_ink():
    image = np.random.default_rng(1).random((137, 91))
    for shape in ((20, 13), (7, 200)):
        assert area_resample(image, shape).mean() == pytest.approx(image.mean())


def test_a_thin_stroke_turns_grey_instead_of_vanishing():
    canvas = np.zeros((280, 280), np.float32)
    canvas[40:240, 138:141] = 1.0                            # 3 px wide, 200 tall: 0.3 px after scaling
    canvas[40:43, 100:180] = 1.0                             # a 3 px cross bar
    digit = prepare_drawing(canvas).reshape(28, 28)
    grey = digit[(digit > 0) & (digit < 1)]
    assert grey.size > 0 and digit.max() == pytest.approx(1.0)


def test_real_mnist_digits_survive_the_round_trip(mnist):
    """MNIST digits enlarged ×10 onto a 280×280 canvas come back as themselves: MNIST's own recipe."""
    exact = 0
    for original in mnist.test.images[:20]:
        canvas = np.kron(original.reshape(28, 28), np.ones((10, 10), np.float32))
        prepared = prepare_drawing(canvas)
        assert np.corrcoef(prepared, original)[0, 1] > 0.8
        exact += np.allclose(prepared, original, atol=1.5 / 255)
    assert exact >= 19


def test_forward_digit_is_the_networks_forward_pass():
    snap = make_snapshot(steps=10, sizes=(784, 12, 10), activation="tanh")
    image = prepare_drawing(thick_polyline(SEVEN, 22))
    activations = forward_digit(snap.W, snap.b, "tanh", "cross-entropy", image)
    net = Network((784, 12, 10), "tanh", "cross-entropy")
    net.W, net.b = [np.array(w) for w in snap.W], [np.array(b) for b in snap.b]
    expected = net.forward(image[None]).a
    assert [a.shape for a in activations] == [(784,), (12,), (10,)]
    for got, want in zip(activations, expected):
        np.testing.assert_array_equal(got, want[0])


def test_network_from_snapshot_shares_the_frozen_weights_and_reuses_a_network():
    snap = make_snapshot(steps=3)
    net = network_from_snapshot(snap)
    assert net.sizes == snap.sizes and net.cost.name == snap.config["cost"]
    assert all(w is s for w, s in zip(net.W, snap.W))
    assert net.config() == {k: snap.config[k] for k in net.config()}
    assert network_from_snapshot(make_snapshot(steps=4), reuse=net) is net
    other = network_from_weights(snap.W, snap.b, "relu", "quadratic", reuse=net)
    assert other is not net and other.activation.name == "relu"


def test_drawn_probe_matches_forward_and_backward():
    snap = make_snapshot(steps=5)
    net = network_from_snapshot(snap)
    image = prepare_drawing(thick_polyline(SEVEN, 22))
    fields = drawn_probe(net, image, label=7)
    trace = net.forward(image[None])
    grads = net.backward(trace, one_hot([7]))
    assert fields["probe_label"] == 7 and fields["probe_index"] == -1
    np.testing.assert_array_equal(fields["probe_a"][-1], trace.output[0])
    np.testing.assert_array_equal(fields["probe_delta"][0], grads.delta[0][0])
    assert drawn_probe(net, image)["probe_label"] == int(np.argmax(trace.output))
    assert not fields["probe_a"][1].flags.writeable
