"""Code generation options that keep results exact or within the op's own
semantics: vector_width= (rev-to-llvm's prefer-vector-width: the same
operations in wider vector lanes, results bit for bit the same) and
reassociate_reductions= (a parallel loop's sum in no particular order: the
shared scalar's adjoint within rounding of the in-order sum, 1e-12;
test/conversion/parallel-for.mlir, test/conversion/prefer-vector-width.mlir
show the IR)."""
import os

import numpy as np
import pytest

from mlir_rev.ad import grad
from mlir_rev.jit import Program, RevError

from test_parallel import BESSEL

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def batched_bessel():
    with open(os.path.join(ROOT, "benchmarks", "besselj2_batched.mlir")) as f:
        return f.read()


@pytest.mark.parametrize("width", [128, 256, 512])
def test_vector_width_is_bit_for_bit(width):
    xs = np.random.default_rng(1).uniform(0.5, 8.0, 1003)  # not a multiple of 8
    out = {}
    for vw in (None, width):
        p = Program(batched_bessel(), grad=["besselj2_batched"], vector_width=vw)
        ys, xb = np.zeros_like(xs), np.zeros_like(xs)
        p.call("besselj2_batched", xs, ys)
        p.call(p.gradient_names["besselj2_batched"], xs, np.zeros_like(xs), xb,
               np.ones_like(xs))
        assert ("prefer-vector-width" in str(p.module)) == (vw is not None)
        out[vw] = (ys, xb)
    assert np.array_equal(out[None][0], out[width][0])
    assert np.array_equal(out[None][1], out[width][1])


def test_vector_width_validated_and_passed_through():
    for bad in (100, 0, "512", 1024, 512.0):
        with pytest.raises(RevError, match="vector_width"):
            Program(batched_bessel(), vector_width=bad)
    src = open(os.path.join(ROOT, "examples", "besselj2.mlir")).read()
    a = grad(src, "besselj2", output=1)(1.7, 0.0)
    b = grad(src, "besselj2", output=1, vector_width=512)(1.7, 0.0)
    assert a == b


@pytest.mark.parametrize("target", ["cpu", "openmp"])
def test_reassociated_reduction_within_rounding(target):
    kw = dict(target=target, num_threads=2) if target == "openmp" else {}
    rng = np.random.default_rng(2)
    n = 10007
    X, Y, w = rng.uniform(0.5, 4.0, n), rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    res = {}
    for ra in (False, True):
        p = Program(BESSEL, grad=["bessel"], reassociate_reductions=ra, **kw)
        Xb = np.zeros(n)
        r = p.call(p.gradient_names["bessel"], 1.3, X, Y.copy(), 0.0, Xb, w.copy())
        res[ra] = (r[1], Xb)
        assert ("reassoc" in str(p.module)) == ra
    # the scale's adjoint: a sum over the elements, in another order
    assert abs(res[True][0] - res[False][0]) <= 1e-12 * abs(res[False][0])
    # the elements' adjoints: per element, the same operations
    assert np.array_equal(res[True][1], res[False][1])
    # an independent reference: d/da of sum(w * (Y + a J2(X))) = w . J2(X),
    # J2 from the primal with a = 1 and Y = 0
    p = Program(BESSEL, grad=[])
    Yf = np.zeros(n)
    p.call("bessel", 1.0, X, Yf)
    assert abs(res[True][0] - np.dot(w, Yf)) <= 1e-12 * abs(np.dot(w, Yf))


def test_reassociate_flag_validated():
    with pytest.raises(RevError, match="reassociate_reductions"):
        Program(BESSEL, reassociate_reductions="yes")


SUM = """
rev.func @sumsq(%X: memref<?xf64>, %s: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.parallel_for %i = %c0 to %n step %c1 reduce(%acc = %s) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %x2 = arith.mulf %x, %x : f64
    %a1 = rev.add %acc, %x2 : f64
    rev.yield %a1 : f64
  }
  rev.return %r : f64
}
"""


def test_vector_width_and_ordered_sums_bit_for_bit():
    """With reassociate_reductions=False every width gives the in-order sum
    (1e8^2 plus ones: each 1 is lost against 1e16, in order); a reassociated
    sum may differ at the rounding level (its partial sums follow the width),
    within 1e-12 of it."""
    X = np.ones(1001)
    X[0] = 1e8
    ordered = {vw: Program(SUM, vector_width=vw, reassociate_reductions=False).call(
        "sumsq", X.copy(), 0.0) for vw in (None, 128, 256, 512)}
    assert len(set(ordered.values())) == 1 and ordered[None] == 1e16
    for vw in (None, 128, 512):
        r = Program(SUM, vector_width=vw).call("sumsq", X.copy(), 0.0)
        assert abs(r - 1e16) <= 1e-12 * 1e16
