"""Why did the network answer that: gradients down to the pixels, knock-outs, adversarial digits, dreams.

Everything here is the backward pass of core.network taken one layer further. The network's own
backward stops at δ^(0) = ∂C0/∂z^(0), the first hidden layer; the input a^(0) = x has no activation
of its own, so one more step of the chain rule gives the pixels' gradient

    ∂C0/∂x = δ^(0) W^(0)          (a row per digit, 784 columns)

and seeding δ at the output with e_k instead of the cost's δ^L gives ∂z_k/∂x for any output k.

Every function takes a core Network (or a Snapshot, for the GUI's jobs: ``*_job`` functions), works
on a batch, and never changes the network it is given. ``silenced`` arguments are knock-outs as
``{weight layer l: neuron indices j}`` (see ``Network.silence``): those hidden activations are held
at 0 in the forward pass and pass no δ back.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.evaluate import confusion_matrix, network_from_snapshot, per_class_accuracy
from core.network import Network, Trace, one_hot, silenced_layers

TILE = 28


# --- the network to explain ----------------------------------------------------------------------
def explained_network(snapshot, silenced=()) -> Network:
    """A Network with ``snapshot``'s weights (shared, read-only) and the neurons the trainer holds
    at 0 plus ``silenced`` ((l, j) pairs) knocked out."""
    net = network_from_snapshot(snapshot)
    net.silence(silenced_layers((*snapshot.silenced, *silenced)))
    return net


# --- gradients down to the pixels ----------------------------------------------------------------
def backprop_to_input(net: Network, trace: Trace, delta_top: np.ndarray, top: int | None = None) -> np.ndarray:
    """∂(·)/∂x for every row of the batch, given ``delta_top`` = ∂(·)/∂z^(top) at weight layer ``top``
    (the output layer by default): δ^(l) = (δ^(l+1) W^(l+1)) ⊙ σ'(z^(l)) down to the first hidden
    layer, exactly as Network.backward (silenced neurons pass no δ), then one step further,
    ∂(·)/∂x = δ^(0) W^(0)."""
    top = net.n_layers - 1 if top is None else int(top)
    d = np.asarray(delta_top, dtype=np.float64)
    silenced = net.silenced
    for l in range(top - 1, -1, -1):
        d = d @ net.W[l + 1]
        d = d * net.activation.prime_from_a(trace.a[l + 1])
        if l in silenced:
            d[:, silenced[l]] = 0
    return d @ net.W[0]


def input_gradient(net: Network, X, labels) -> np.ndarray:
    """∂C0/∂x (n, 784): how each pixel of each digit changes that digit's cost C0 for target ``labels``."""
    X = np.atleast_2d(np.asarray(X, dtype=net.dtype))
    trace = net.forward(X)
    Y = one_hot(np.broadcast_to(labels, (len(X),)), net.sizes[-1], net.dtype)
    delta_L = net.cost.delta(trace.z[-1], trace.a[-1], Y)
    return backprop_to_input(net, trace, delta_L)


def output_input_gradient(net: Network, X, k) -> np.ndarray:
    """∂z_k/∂x (n, 784): how each pixel moves output k's weighted input z_k (before softmax/σ), for
    one output k or one per row."""
    X = np.atleast_2d(np.asarray(X, dtype=net.dtype))
    trace = net.forward(X)
    seed = one_hot(np.broadcast_to(k, (len(X),)), net.sizes[-1], np.float64)
    return backprop_to_input(net, trace, seed)


def neuron_input_gradient(net: Network, X, layer: int, j: int) -> np.ndarray:
    """∂z_j^(layer)/∂x (n, 784) for neuron j of weight layer ``layer`` (hidden or output)."""
    X = np.atleast_2d(np.asarray(X, dtype=net.dtype))
    trace = net.forward(X)
    seed = np.zeros((len(X), net.sizes[layer + 1]))
    seed[:, j] = 1.0
    return backprop_to_input(net, trace, seed, top=layer)


# --- saliency ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Contribution:
    """One term w_kj·a_j of an output's z_k: neuron j of the last hidden layer (weight layer ``layer``)."""

    layer: int
    neuron: int
    term: float          # w_kj · a_j
    activation: float    # a_j on this digit
    image: np.ndarray    # (784,): its incoming weights (first hidden layer) or ∂z_j/∂x on this digit


@dataclass(frozen=True)
class Saliency:
    """Why one digit got its answer. Maps are (784,): ``grad_predicted`` = ∂z_p/∂x for the predicted
    digit p, ``grad_true`` = ∂z_t/∂x for the true digit t, ``grad_x_input`` = x ⊙ ∂z_p/∂x (each
    pixel's share of z_p to first order), ``grad_cost`` = ∂C0/∂x for target t. ``up``: the hidden
    neurons whose terms w·a raised z_p most; ``down``: those that lowered z_t most."""

    image: np.ndarray
    label: int                # t: the true digit (-1: not known; then t = p)
    predicted: int
    output: np.ndarray        # the network's 10 outputs
    z: np.ndarray             # the 10 weighted inputs z^(L)
    grad_predicted: np.ndarray
    grad_true: np.ndarray
    grad_x_input: np.ndarray
    grad_cost: np.ndarray
    up: tuple
    down: tuple

    @property
    def target(self) -> int:
        return self.label if self.label >= 0 else self.predicted


def saliency(net: Network, x, label: int = -1, top: int = 6) -> Saliency:
    """The saliency maps and the top ``top`` neurons pushing the answer up / the truth down, for one
    digit ``x`` (784,) with true digit ``label`` (-1: unknown)."""
    x = np.asarray(x, dtype=net.dtype).reshape(1, -1)
    trace = net.forward(x)
    output = trace.output[0]
    p = int(np.argmax(output))
    t = int(label) if label is not None and label >= 0 else p
    seeds = np.zeros((2, net.sizes[-1]))
    seeds[0, p] = seeds[1, t] = 1.0
    both = Trace(z=[np.repeat(z, 2, axis=0) for z in trace.z], a=[np.repeat(a, 2, axis=0) for a in trace.a])
    grads = backprop_to_input(net, both, seeds)
    delta_L = net.cost.delta(trace.z[-1], trace.a[-1], one_hot([t], net.sizes[-1], net.dtype))
    grad_cost = backprop_to_input(net, trace, delta_L)[0]
    L = net.n_layers
    up = down = ()
    if L > 1:      # the last hidden layer's terms (a network without hidden layers has none)
        a_last = np.asarray(trace.a[L - 1][0], dtype=np.float64)
        terms = net.W[L - 1].astype(np.float64) * a_last        # (10, H): w_kj · a_j
        up = _ranked(net, x, trace, terms[p], L - 2, top, largest=True)
        down = _ranked(net, x, trace, terms[t], L - 2, top, largest=False)
    g_p = grads[0]
    return Saliency(image=x[0].copy(), label=int(label if label is not None else -1), predicted=p,
                    output=np.asarray(output, np.float64), z=np.asarray(trace.z[-1][0], np.float64),
                    grad_predicted=g_p, grad_true=grads[1], grad_x_input=g_p * x[0], grad_cost=grad_cost,
                    up=up, down=down)


def _ranked(net, x, trace, terms, layer, top, largest) -> tuple:
    """The ``top`` terms of one z_k, largest (or most negative) first, as Contributions; only those
    of the right sign."""
    order = np.argsort(-terms if largest else terms, kind="stable")[:top]
    order = [j for j in order if (terms[j] > 0 if largest else terms[j] < 0)]
    return tuple(Contribution(layer, int(j), float(terms[j]), float(trace.a[layer + 1][0, j]),
                              neuron_image(net, x, layer, int(j))) for j in order)


def neuron_image(net: Network, x, layer: int, j: int) -> np.ndarray:
    """A 784-pixel picture of neuron j of weight layer ``layer``: its incoming weights for the first
    hidden layer; deeper, ∂z_j/∂x on digit ``x`` (its weights see neurons, not pixels)."""
    if layer == 0:
        return np.asarray(net.W[0][j], dtype=np.float64)
    return neuron_input_gradient(net, x, layer, j)[0]


def saliency_job(snapshot, image, label, silenced=()) -> Saliency:
    """Saliency of ``image`` under ``snapshot``'s network with ``silenced`` knocked out (a LatestJob fn)."""
    return saliency(explained_network(snapshot, silenced), image, label)


# --- knock-outs ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Knockout:
    """The test set with and without the knocked-out neurons: accuracy 0–1, per-digit accuracy,
    and the probe's outputs."""

    silenced: tuple              # (l, j) pairs, sorted: the window's choice and the trainer's
    accuracy: float
    per_class: np.ndarray
    intact_accuracy: float
    intact_per_class: np.ndarray
    probe_output: np.ndarray     # the probe's 10 outputs with them knocked out
    intact_probe_output: np.ndarray
    n: int


def accuracy_by_class(net: Network, dataset) -> tuple:
    """(accuracy, per-digit accuracy, predicted digits) of ``net`` on ``dataset``."""
    predicted = net.predict(dataset.images)
    labels = np.asarray(dataset.labels, dtype=np.int64)
    cm = confusion_matrix(labels, predicted, net.sizes[-1])
    accuracy = float(np.trace(cm) / len(labels)) if len(labels) else float("nan")
    return accuracy, per_class_accuracy(cm), predicted


def knockout(snapshot, dataset, silenced, probe) -> Knockout:
    """Evaluate ``snapshot``'s network on ``dataset`` with hidden neurons ``silenced`` ((l, j) pairs)
    and those the trainer silences held at 0, and intact (every neuron working); a LatestJob fn."""
    intact = network_from_snapshot(snapshot)
    intact.silence({})
    cut = explained_network(snapshot, silenced)
    intact_acc, intact_per, _ = accuracy_by_class(intact, dataset)
    acc, per = (intact_acc, intact_per) if not cut.silenced else accuracy_by_class(cut, dataset)[:2]
    x = np.asarray(probe, dtype=intact.dtype).reshape(1, -1)
    pairs = tuple(sorted({(int(l), int(j)) for l, j in (*silenced, *snapshot.silenced)}))
    return Knockout(pairs, acc, per, intact_acc, intact_per, np.asarray(cut.output(x)[0], np.float64),
                    np.asarray(intact.output(x)[0], np.float64), len(dataset.labels))


@dataclass(frozen=True)
class AblationScan:
    """Each neuron of hidden layer ``layer`` silenced alone, over a whole data set.

    ``change[j, d]`` is the change of digit d's accuracy (0–1, negative = worse) with neuron j
    silenced; ``total[j]`` the change of the whole accuracy; ``order`` the neurons, most harmful
    to lose first; ``predicted[j]`` every sample's answer with j silenced (int8), for the flips."""

    layer: int
    accuracy: float
    per_class: np.ndarray
    change: np.ndarray
    total: np.ndarray
    order: np.ndarray
    predicted: np.ndarray
    intact_predicted: np.ndarray
    labels: np.ndarray

    def flips(self, j: int, digit: int | None = None) -> tuple:
        """(broken, mended): indices of samples (of true digit ``digit``, or all) that neuron j's
        silence turns from right to wrong, and from wrong to right."""
        right = self.intact_predicted == self.labels
        right_now = self.predicted[j] == self.labels
        mask = np.ones_like(right) if digit is None else self.labels == digit
        return np.flatnonzero(mask & right & ~right_now), np.flatnonzero(mask & ~right & right_now)


def ablation_scan(net: Network, dataset, layer: int | None = None, chunk: int = 8) -> AblationScan:
    """Silence each neuron of hidden layer ``layer`` (the last by default) alone and measure the test
    set. One forward pass to that layer; silencing neuron j then changes z^(layer+1) by the rank-1
    term −a_j W[:, j], so for the last hidden layer each neuron costs one (n, 10) subtraction
    (float64, vectorised ``chunk`` neurons at a time); a deeper layer runs the rest of the forward."""
    L = net.n_layers
    layer = L - 2 if layer is None else int(layer)
    if not 0 <= layer < L - 1:
        raise ValueError(f"weight layer {layer} is not a hidden layer of {net.sizes}")
    labels = np.asarray(dataset.labels, dtype=np.int64)
    X = dataset.images
    n, H, K = len(labels), net.sizes[layer + 1], net.sizes[-1]
    a = _activation(net, X, layer + 1).astype(np.float64)            # (n, H)
    W = np.asarray(net.W[layer + 1], dtype=np.float64)               # (next, H)
    z = a @ W.T + net.b[layer + 1]                                   # (n, next)
    intact = _answer_from(net, z, layer + 1)
    predicted = np.empty((H, n), dtype=np.int8)
    for start in range(0, H, chunk):
        js = np.arange(start, min(start + chunk, H))
        # z with neuron j silenced, for each j of the chunk: (c, n, next)
        cut = z[None, :, :] - a.T[js][:, :, None] * W.T[js][:, None, :]
        predicted[js] = np.stack([_answer_from(net, c, layer + 1) for c in cut]) \
            if layer + 1 < L - 1 else np.argmax(cut, axis=2)
    cm_base = confusion_matrix(labels, intact, K)
    base_per = per_class_accuracy(cm_base)
    counts = np.bincount(labels, minlength=K).astype(np.float64)
    right = predicted == labels[None, :]                             # (H, n)
    per = np.stack([np.bincount(labels[r], minlength=K) for r in right]) / np.maximum(counts, 1)
    change = per - base_per[None, :]
    accuracy = float(np.mean(intact == labels))
    total = right.mean(axis=1) - accuracy
    order = np.argsort(total, kind="stable")
    return AblationScan(layer, accuracy, base_per, change, total, order, predicted,
                        intact.astype(np.int8), labels)


def _activation(net: Network, X, upto: int, chunk: int = 10000) -> np.ndarray:
    """a^(upto) for every row of X, from the network's own forward pass (with its knock-outs), in
    chunks of ``chunk`` rows to bound memory."""
    parts = [net.forward(X[i:i + chunk]).a[upto] for i in range(0, len(X), chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, net.sizes[upto]), net.dtype)


def _answer_from(net: Network, z: np.ndarray, l: int) -> np.ndarray:
    """The predicted digits given z of weight layer l (the output: argmax z, as every output
    function is increasing; deeper, the rest of the forward pass)."""
    if l == net.n_layers - 1:
        return np.argmax(z, axis=1)
    a = net.sigma(l)(z.astype(net.dtype))
    if l in net.silenced:
        a = a.copy() if a is z else a
        a[:, net.silenced[l]] = 0
    z_next = a.astype(np.float64) @ np.asarray(net.W[l + 1], np.float64).T + net.b[l + 1]
    return _answer_from(net, z_next, l + 1)


def ablation_job(snapshot, dataset, layer=None, silenced=()) -> AblationScan:
    """The ablation scan of ``snapshot``'s hidden weight layer ``layer`` (the last by default) on
    ``dataset`` (a LatestJob fn)."""
    return ablation_scan(explained_network(snapshot, silenced), dataset, layer)


# --- adversarial digits --------------------------------------------------------------------------
@dataclass(frozen=True)
class Attack:
    """A digit before and after an attack: ``perturbed`` = clip(image + perturbation) in [0, 1]."""

    image: np.ndarray
    perturbed: np.ndarray
    epsilon: float
    label: int                  # the digit the attack pushes away from (-1 if targeted)
    target: int                 # the digit a targeted attack pushes towards (-1: untargeted)
    output: np.ndarray          # the 10 outputs before
    perturbed_output: np.ndarray
    steps: int = 1

    @property
    def perturbation(self) -> np.ndarray:
        return self.perturbed - self.image

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.output))

    @property
    def perturbed_predicted(self) -> int:
        return int(np.argmax(self.perturbed_output))

    @property
    def flipped(self) -> bool:
        return self.perturbed_predicted != self.predicted


def fgsm(net: Network, x, label: int, epsilon: float) -> Attack:
    """The fast gradient sign method: x' = clip(x + ε·sign(∂C0/∂x), 0, 1), one step up the cost of
    the digit's true ``label`` (or the network's answer, when the label is -1)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    output = np.asarray(net.output(x[None].astype(net.dtype))[0], np.float64)
    y = int(label) if label >= 0 else int(np.argmax(output))
    g = input_gradient(net, x[None], y)[0]
    perturbed = np.clip(x + float(epsilon) * np.sign(g), 0.0, 1.0)
    return Attack(x, perturbed, float(epsilon), y, -1, output,
                  np.asarray(net.output(perturbed[None].astype(net.dtype))[0], np.float64))


def targeted_attack(net: Network, x, target: int, epsilon: float, steps: int = 40,
                    step_size: float | None = None) -> Attack:
    """Iterative targeted FGSM: ``steps`` steps of x ← x − α·sign(∂C0/∂x) for C0 of target digit
    ``target``, each kept within ε of the original (max norm) and in [0, 1]; stops once the network
    answers ``target``."""
    x0 = np.asarray(x, dtype=np.float64).reshape(-1)
    epsilon = float(epsilon)
    alpha = step_size if step_size is not None else max(epsilon / 10, 1e-3)
    output = np.asarray(net.output(x0[None].astype(net.dtype))[0], np.float64)
    xs, taken = x0.copy(), 0
    for taken in range(1, steps + 1):
        g = input_gradient(net, xs[None], int(target))[0]
        xs = np.clip(np.clip(xs - alpha * np.sign(g), x0 - epsilon, x0 + epsilon), 0.0, 1.0)
        if np.argmax(net.output(xs[None].astype(net.dtype))[0]) == target:
            break
    return Attack(x0, xs, epsilon, -1, int(target), output,
                  np.asarray(net.output(xs[None].astype(net.dtype))[0], np.float64), taken)


def smallest_flip(net: Network, x, label: int, top: float = 0.5, grid: int = 100, refine: int = 12) -> float:
    """The smallest ε at which FGSM changes the network's answer for ``x`` (NaN if none up to ``top``):
    every ε of a ``grid`` in one batch, then bisection between the last that held and the first that
    flipped. The sign of the gradient at x does not depend on ε, so x'(ε) = clip(x + ε s)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    answer = int(np.argmax(net.output(x[None].astype(net.dtype))[0]))
    y = int(label) if label >= 0 else answer
    s = np.sign(input_gradient(net, x[None], y)[0])

    def answers(eps):
        X = np.clip(x[None] + np.asarray(eps)[:, None] * s[None], 0.0, 1.0).astype(net.dtype)
        return net.predict(X)
    eps = np.linspace(0, top, grid + 1)[1:]
    flipped = np.flatnonzero(answers(eps) != answer)
    if flipped.size == 0:
        return float("nan")
    hi = eps[flipped[0]]
    lo = eps[flipped[0] - 1] if flipped[0] > 0 else 0.0
    for _ in range(refine):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if answers([mid])[0] != answer else (mid, hi)
    return float(hi)


def accuracy_vs_epsilon(net: Network, dataset, epsilons, chunk: int = 2500) -> np.ndarray:
    """Test accuracy (0–1) under FGSM at each ε: one gradient per digit (its true label), then a
    forward pass of clip(x + ε·sign(∇), 0, 1) per ε; in chunks of ``chunk`` digits to bound memory."""
    epsilons = np.asarray(epsilons, dtype=np.float64)
    labels = np.asarray(dataset.labels, dtype=np.int64)
    right = np.zeros(len(epsilons))
    for i in range(0, len(labels), chunk):
        X = np.asarray(dataset.images[i:i + chunk], dtype=net.dtype)
        y = labels[i:i + chunk]
        s = np.sign(input_gradient(net, X, y)).astype(net.dtype)
        for e, eps in enumerate(epsilons):
            Xe = np.clip(X + net.dtype.type(eps) * s, 0.0, 1.0)
            right[e] += np.count_nonzero(net.predict(Xe) == y)
    return right / max(len(labels), 1)


@dataclass(frozen=True)
class Adversary:
    """What the Adversarial panel shows for one digit: FGSM at ε, the targeted attack, the smallest
    flipping ε."""

    fgsm: Attack
    targeted: Attack | None
    smallest: float


def adversary_job(snapshot, image, label, epsilon, target, silenced=()) -> Adversary:
    """FGSM at ``epsilon`` on ``image``, the targeted attack towards ``target`` (-1: none) and the
    smallest flipping ε, under ``snapshot``'s network (a LatestJob fn)."""
    net = explained_network(snapshot, silenced)
    targeted = targeted_attack(net, image, target, epsilon) if target >= 0 else None
    return Adversary(fgsm(net, image, label, epsilon), targeted, smallest_flip(net, image, label))


EPSILONS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3)


def robustness_job(snapshot, dataset, epsilons=EPSILONS, silenced=()) -> tuple:
    """(ε values, test accuracy under FGSM at each) for ``snapshot``'s network (a LatestJob fn)."""
    net = explained_network(snapshot, silenced)
    return np.asarray(epsilons, np.float64), accuracy_vs_epsilon(net, dataset, epsilons)


# --- dreams --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dreams:
    """Inputs that the network finds most like each target: ``images`` (k, 784) in [0, 1],
    ``scores`` the objective at the end (probability for output digits, z for a hidden neuron),
    ``start_scores`` the same for the starting picture."""

    images: np.ndarray
    scores: np.ndarray
    start_scores: np.ndarray
    layer: int
    neurons: tuple


def _blur(X: np.ndarray) -> np.ndarray:
    """Each 28×28 picture smoothed by the kernel ½ centre + ⅛ each of the 4 neighbours (edges replicated)."""
    P = np.pad(X.reshape(-1, TILE, TILE), ((0, 0), (1, 1), (1, 1)), mode="edge")
    near = P[:, :-2, 1:-1] + P[:, 2:, 1:-1] + P[:, 1:-1, :-2] + P[:, 1:-1, 2:]
    return (0.125 * near + 0.5 * P[:, 1:-1, 1:-1]).reshape(len(X), -1)


def dream(net: Network, layer: int, neurons, start: np.ndarray, steps: int = 150, rate: float = 0.05,
          ink: float = 1.0, smooth: float = 0.4) -> Dreams:
    """Gradient ascent on the input for each neuron of weight layer ``layer`` (output digits: its log
    probability, via −∂C0/∂x with that digit as target; hidden: its z), from ``start`` (784,).

    Each step is x ← clip(x + rate·(g/RMS(g) − ink·x), 0, 1): the gradient g normalised, so an
    untrained and a saturated trained network both move, and a penalty ``ink`` × ½‖x‖² (ink
    costs, so only pixels that matter get dark); then a blend of ``smooth`` of a blurred copy (no
    speckle). Pixels stay in [0, 1]."""
    neurons = tuple(int(j) for j in neurons)
    k = len(neurons)
    X = np.broadcast_to(np.asarray(start, np.float64).reshape(1, -1), (k, start.size)).copy()
    output_layer = layer == net.n_layers - 1

    def ascent(X):
        if output_layer:
            return -input_gradient(net, X, np.asarray(neurons))     # ∇ log p_k for softmax + CE
        trace = net.forward(X.astype(net.dtype))
        seed = np.zeros((k, net.sizes[layer + 1]))
        seed[np.arange(k), neurons] = 1.0
        return backprop_to_input(net, trace, seed, top=layer)
    start_scores = _dream_scores(net, layer, neurons, X)
    for _ in range(steps):
        g = ascent(X)
        g /= np.sqrt(np.mean(g * g, axis=1, keepdims=True)) + 1e-12    # the penalty then weighs the same
        X = np.clip(X + rate * (g - ink * X), 0.0, 1.0)                # at every stage of training
        X = (1 - smooth) * X + smooth * _blur(X)
    return Dreams(X, _dream_scores(net, layer, neurons, X), start_scores, layer, neurons)


def _dream_scores(net, layer, neurons, X) -> np.ndarray:
    trace = net.forward(X.astype(net.dtype))
    values = trace.a[-1] if layer == net.n_layers - 1 else trace.z[layer]
    return np.asarray(values[np.arange(len(neurons)), list(neurons)], np.float64)


def dream_start(kind: str, dataset=None) -> np.ndarray:
    """The picture a dream starts from: ``"blank"`` (white paper, no ink) or ``"mean"`` (the data
    set's mean digit)."""
    if kind == "mean":
        if dataset is None:
            raise ValueError("a dream from the mean digit needs the data set")
        return np.asarray(dataset.images, np.float64).mean(axis=0)
    if kind == "blank":
        return np.zeros(TILE * TILE)
    raise ValueError(f"a dream starts from 'blank' or 'mean', not {kind!r}")


def dreams_job(snapshot, dataset, start="blank", layer=None, neurons=None, silenced=()) -> Dreams:
    """Dreams of ``snapshot``'s network: every output digit (``layer`` None), or ``neurons`` of
    hidden weight layer ``layer`` (a LatestJob fn)."""
    net = explained_network(snapshot, silenced)
    layer = net.n_layers - 1 if layer is None else int(layer)
    neurons = range(net.sizes[layer + 1]) if neurons is None else neurons
    return dream(net, layer, neurons, dream_start(start, dataset if start == "mean" else None))
