"""Turn a drawing into an MNIST digit, the way MNIST's own digits were made, in plain NumPy.

MNIST's recipe (LeCun et al.): take the ink's bounding box, scale it with anti-aliasing so that
its longer side is 20 pixels (aspect ratio kept), then place it in a 28×28 field so that the ink's
centre of mass lies at the centre. We follow it step by step:

* anti-aliasing is exact area averaging (a box filter): every output pixel is the mean of the
  canvas area it covers, fractional pixels included, so thin strokes turn grey rather than vanish;
* the centre of mass uses pixel indices (pixel (r, c) sits at (r, c)) and goes to (14, 14): the
  real MNIST test digits average (13.99, 14.01) in that convention;
* the shift is rounded to whole pixels, as MNIST's was (its centres of mass scatter with a standard
  deviation of 0.29 px, that of a uniform ±0.5 px rounding error). Whole-pixel shifts keep the
  strokes as sharp as the resampling left them; a sub-pixel shift would blur them a second time.
  The centre of mass is therefore within half a pixel of (14, 14);
* one departure: a shift that would push ink out of the field is reduced to keep every stroke
  (a lopsided digit may then sit up to a few pixels off centre instead of losing a piece);
* the darkest pixel is scaled to 1, as MNIST's strokes are saturated, whatever the pen's grey.

Check: a real MNIST test digit enlarged ×10 onto a 280×280 canvas comes back pixel for pixel (each
of the first 3,000 test digits does, to within 1/255): this is MNIST's recipe, not a likeness of it.
"""
from __future__ import annotations

import numpy as np

from core.evaluate import network_from_weights
from core.network import one_hot
from core.snapshot import frozen

SIDE = 28          # the MNIST field
BOX = 20           # the longer side of the ink's bounding box after scaling
CENTRE = 14.0      # where the centre of mass goes, in pixel indices
INK_FLOOR = 1 / 512  # fainter values count as paper: below half a grey level of an 8-bit image


def ink_from_canvas(canvas) -> np.ndarray:
    """The canvas as float64 ink 0–1 (0 paper): integers are divided by their type's maximum."""
    canvas = np.asarray(canvas)
    if canvas.ndim != 2:
        raise ValueError(f"a canvas is a 2-D array of ink, got shape {canvas.shape}")
    if np.issubdtype(canvas.dtype, np.integer):
        ink = canvas / float(np.iinfo(canvas.dtype).max)
    else:
        ink = np.nan_to_num(canvas.astype(np.float64), nan=0.0)
    ink = np.clip(ink, 0.0, 1.0)
    ink[ink < INK_FLOOR] = 0.0
    return ink


def bounding_box(ink) -> tuple | None:
    """(row0, row1, col0, col1), end-exclusive, of the non-zero pixels; None for an empty image."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) box-filter weights: row i is how much of output pixel i each input pixel covers.

    Output pixel i spans input coordinates [i·n_in/n_out, (i+1)·n_in/n_out); each row sums to 1.
    Works both ways: shrinking averages several pixels, enlarging spreads one pixel over several.
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)
    j = np.arange(n_in)
    overlap = np.minimum(edges[1:, None], j + 1) - np.maximum(edges[:-1, None], j)
    return np.clip(overlap, 0.0, None) / (n_in / n_out)


def area_resample(image, shape) -> np.ndarray:
    """``image`` resampled to ``shape`` (rows, cols) by area averaging, one axis after the other."""
    rows, cols = shape
    return area_weights(image.shape[0], rows) @ image @ area_weights(image.shape[1], cols).T


def centre_of_mass(image) -> tuple:
    """(row, col) of the ink's centre of mass, in pixel indices."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def fitted_shape(height: int, width: int, box: int = BOX) -> tuple:
    """(rows, cols) of a height × width box scaled so that its longer side is ``box``."""
    scale = box / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def placement(com: float, length: int, side: int = SIDE) -> int:
    """Where a box of ``length`` starts so that ``com`` (within the box) lands near CENTRE."""
    return int(np.clip(round(CENTRE - com), 0, side - length))


def prepare_drawing(canvas) -> np.ndarray:
    """A drawing as an MNIST digit: (784,) float32 in 0–1, ink 1, paper 0 (see the module notes).

    ``canvas`` is a 2-D array of ink (0 = paper): floats in 0–1 or integers such as uint8 0–255.
    An empty canvas gives 784 zeros.
    """
    ink = ink_from_canvas(canvas)
    box = bounding_box(ink)
    out = np.zeros((SIDE, SIDE), dtype=np.float64)
    if box is None:
        return out.ravel().astype(np.float32)
    r0, r1, c0, c1 = box
    digit = area_resample(ink[r0:r1, c0:c1], fitted_shape(r1 - r0, c1 - c0))
    digit /= digit.max()
    com_r, com_c = centre_of_mass(digit)
    top, left = placement(com_r, digit.shape[0]), placement(com_c, digit.shape[1])
    out[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return out.ravel().astype(np.float32)


def forward_digit(W, b, activation, cost, image784) -> list:
    """Every layer's activations for one image: [a0 (784,), a1, ..., output (10,)], by Network.forward."""
    net = network_from_weights(W, b, activation, cost)
    return [a[0] for a in net.forward(np.asarray(image784).reshape(1, -1)).a]


def drawn_probe(net, image784, label: int | None = None) -> dict:
    """Snapshot probe fields for a drawn digit: ``dataclasses.replace(snapshot, **drawn_probe(...))``.

    Runs Network.forward and Network.backward on the image; δ needs a target, so ``label`` defaults
    to the network's own answer (δ then shows what would make it surer). ``probe_index`` is −1.
    """
    trace = net.forward(np.asarray(image784, dtype=net.dtype).reshape(1, -1))
    label = int(np.argmax(trace.output[0])) if label is None else int(label)
    grads = net.backward(trace, one_hot([label], net.sizes[-1], net.dtype))
    return {"probe_index": -1, "probe_label": label,
            "probe_z": tuple(frozen(z[0]) for z in trace.z), "probe_a": tuple(frozen(a[0]) for a in trace.a),
            "probe_delta": tuple(frozen(d[0]) for d in grads.delta)}
