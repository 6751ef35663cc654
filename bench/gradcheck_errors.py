"""How far apart are backprop and finite differences on correct networks, and on broken ones?

Trains each activation × output/cost pair on the real MNIST for 0, 30, 300 and 3000 steps (the
app's default hyper-parameters for the pair) and runs core.gradcheck.check_neuron, as the Backprop
panel's button does, on every fourth neuron of every layer for several probe digits. Prints the
distribution of relative errors of the correct network, then the smallest relative error when
backprop is broken on purpose (δ 1 % too large; the σ' factor of the hidden layer left out): the
share of checks that catch it. A 1 % error is caught wherever the gradient is large enough for
finite differences to resolve 1 %; a wrong formula is caught everywhere.
These figures set core.gradcheck.TOLERANCE (README, "See backpropagation itself").

    PYTHONPATH=. python bench/gradcheck_errors.py [--quick]
"""
from __future__ import annotations

import argparse
import itertools

import numpy as np

from bench._common import load_mnist
from core.activations import ACTIVATIONS
from core.costs import COSTS, get_cost
from core.gradcheck import TOLERANCE, check_neuron
from core.network import Network, one_hot
from core.trainer import Trainer

STEPS = (0, 30, 300, 3000)
PROBES = range(0, 50, 10)


def trained_states(activation, cost, train, test, steps):
    """The network after each number of steps in ``steps`` (one run)."""
    hyper = get_cost(cost).suggested
    trainer = Trainer(Network((784, 100, 10), activation, cost, seed=0), train, test, seed=0, **hyper)
    done = 0
    for n in steps:
        while done < n:
            trainer.step()
            done += 1
        yield n, trainer.net


def checks(net, test, stride=4):
    """Every ``stride``-th neuron of every layer, on every probe digit."""
    for p in PROBES:
        X, Y = test.images[p:p + 1], one_hot(test.labels[p:p + 1], 10)
        for l in range(net.n_layers):
            for j in range(0, net.sizes[l + 1], stride):
                yield check_neuron(net, X, Y, l, j)


def broken(kind):
    """A Network.backward that is wrong in one way, for monkey-patching."""
    right = Network.backward

    def backward(self, trace, Y, scale=1.0):
        if kind == "1% off":
            grads = right(self, trace, Y, scale)
            for dW, db in zip(grads.dW, grads.db):
                dW *= 1.01
                db *= 1.01
            return grads
        # "no σ'": δl = δ(l+1) W(l+1) without ⊙ σ'(zl)
        original = self.activation.prime_from_a
        self.activation.prime_from_a = lambda a: np.ones_like(a)
        try:
            return right(self, trace, Y, scale)
        finally:
            self.activation.prime_from_a = original
    return backward


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sigmoid + cross-entropy only, up to 300 steps")
    args = parser.parse_args()
    train, test, _ = load_mnist()
    pairs = [("sigmoid", "cross-entropy")] if args.quick else list(itertools.product(ACTIVATIONS, COSTS))
    steps = STEPS[:3] if args.quick else STEPS
    print(f"{'activation':10s} {'cost':16s} {'steps':>5s} {'checks':>6s} {'median':>9s} {'99%':>9s} "
          f"{'max':>9s} {'fail':>4s} {'skipped':>7s} | caught: {'1% off':>6s} {'no σ':>6s}")
    worst = 0.0
    for activation, cost in pairs:
        for n, net in trained_states(activation, cost, train, test, steps):
            results = list(checks(net, test))
            errors = np.array([r.relative_error for r in results])
            worst = max(worst, errors.max())
            skipped = sum(int(r.skipped.sum()) for r in results)
            bugs = []
            for kind in ("1% off", "no σ'"):
                right, Network.backward = Network.backward, broken(kind)
                try:
                    bad = [r for r in checks(net, test, stride=10) if np.abs(r.backprop).max() > 0]
                finally:
                    Network.backward = right
                hidden = [r.relative_error for r in bad if kind == "1% off" or r.layer < net.n_layers - 1]
                bugs.append(np.mean(np.array(hidden) >= TOLERANCE) if hidden else float("nan"))
            print(f"{activation:10s} {cost:16s} {n:5d} {len(errors):6d} {np.median(errors):9.2e} "
                  f"{np.quantile(errors, 0.99):9.2e} {errors.max():9.2e} {int((errors >= TOLERANCE).sum()):4d} "
                  f"{skipped:7d} |         {bugs[0]:6.0%} {bugs[1]:6.0%}", flush=True)
    print(f"largest relative error of a correct network: {worst:.2e} (TOLERANCE {TOLERANCE:g})")


if __name__ == "__main__":
    main()
