"""--rev-fold-zero-adjoints (on by default in Program's pipeline): gradients
with and without it, and against independent references.

The pass removes only updates by structural zeros, so on inputs where no
partial derivative overflows the gradients are bit-for-bit those of the
unfolded code (compared with np.array_equal); the reference is SciPy's
Bessel functions (J2'(x) = (J1(x) - J3(x)) / 2, 1e-12 error relative to the largest
entry (test_ad.rel_err) for the 30-term series on 0.5 <= x <= 8).
"""
import os

import numpy as np
import pytest
from scipy import special

from mlir_rev.ad import Derivatives
from mlir_rev.jit import Program, RevError
from test_ad import example, rel_err

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def batched_source():
    with open(os.path.join(ROOT, "benchmarks", "besselj2_batched.mlir")) as f:
        return f.read()


def batched_gradient(fold, xs):
    prog = Program(batched_source(), grad=["besselj2_batched"], fold_zero_adjoints=fold)
    g = prog.gradient_names["besselj2_batched"]
    ys, xbar, ybar = np.zeros_like(xs), np.zeros_like(xs), np.ones_like(xs)
    prog.call(g, xs.copy(), ys, xbar, ybar)
    return xbar


def test_batched_bessel_gradient_is_unchanged_and_right():
    xs = np.random.default_rng(1).uniform(0.5, 8.0, 257)
    folded, unfolded = batched_gradient(True, xs), batched_gradient(False, xs)
    assert np.array_equal(folded, unfolded)
    ref = (special.jv(1, xs) - special.jv(3, xs)) / 2
    assert rel_err(folded, ref) < 1e-12


@pytest.mark.parametrize("name, fn, args", [
    ("besselj2.mlir", "besselj2", (2.5, 0.0)),
    ("exp_series.mlir", "exp_series", None),
    ("coupled.mlir", "coupled", None),
])
def test_examples_gradients_are_bit_for_bit_unchanged(name, fn, args):
    src = example(name)
    full = Derivatives(src, fn)
    if args is None:
        # The examples' own argument kinds: floats 0.3, 0.7, ..., arrays of
        # length 8, integers/indices 5.
        rng = np.random.default_rng(2)
        args = []
        for a in full.sig.args:
            if a.kind == "memref":
                args.append(rng.uniform(0.1, 0.9, 8))
            elif a.type.startswith("f"):
                args.append(float(rng.uniform(0.3, 0.9)))
            else:
                args.append(5)
    outs = {fold: Derivatives(src, fn, fold_zero_adjoints=fold).jacobian(*args)
            for fold in (True, False)}
    assert np.array_equal(outs[True], outs[False])
    assert np.all(np.isfinite(outs[True]))


def test_the_option_is_checked():
    with pytest.raises(RevError, match="fold_zero_adjoints"):
        Program(batched_source(), fold_zero_adjoints="yes")
