"""Values read from above (rev-ad, transforms/ReverseMode.cpp accumulate):
an update inside a region whose delta uses a float computed by a pure op
outside the region (h2 = (x/2)^2 before the term loop, 3 a^2 before a
parallel loop) adds d root/d v * d v/d leaf to the leaves' adjoints, the
second factor built from v's own expression alone (the same in every
iteration: hoisted by LLVM, one copy after unrolling). The gradients are
checked against central finite differences (1e-6 relative to the largest
entry) and against forward mode (@f_fwd, another engine: <seeds, J dot> =
<gradient, dot> within 1e-12); the gradient functions stay invertible (uncall restores
their inputs); test/transforms/ad-captured-pure.mlir has the forms."""
import os
import subprocess

import numpy as np
import pytest

from mlir_rev.ad import Derivatives
from mlir_rev.jit import Program

from test_ad import check_fd, rel_err

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REV_OPT = os.path.join(ROOT, "build", "bin", "rev-opt")


def lit_functions():
    with open(os.path.join(ROOT, "test", "transforms", "ad-captured-pure.mlir")) as f:
        lines = [l for l in f.read().splitlines() if not l.startswith("//")]
    return "\n".join(lines)


@pytest.mark.parametrize("name,args", [
    ("loop", [0.7, 1.3]),
    ("parallel", [0.8, np.array([0.3, -1.2, 2.0]), np.array([0.5, 0.1, -0.4])]),
    ("same_block", [1.1, -0.3]),
])
def test_lit_functions_against_finite_differences(name, args):
    check_fd(lit_functions(), name, args)


# Values read from above at three depths: v (sin a exp b / 2) in the element
# loop, the routine's compute and body, its term loop and a branch; w (v x)
# in the routine.
NESTED = """
rev.func @f(%X: memref<?xf64>, %Y: memref<?xf64>, %a: f64, %b: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %half = arith.constant 0.5 : f64
  %s = math.sin %a : f64
  %e = math.exp %b : f64
  %se = arith.mulf %s, %e : f64
  %v = arith.mulf %se, %half : f64
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %w = arith.mulf %v, %x : f64
    rev.routine compute {
      %t0 = rev.alloc : f64
      %t1 = rev.add %t0, %w : f64
      %r = rev.for %k = %c0 to %c3 step %c1 iter_args(%t = %t1) -> (f64) {
        %ki = arith.index_cast %k : index to i64
        %kf = arith.sitofp %ki : i64 to f64
        %q = arith.mulf %v, %kf : f64
        %q1 = arith.addf %q, %half : f64
        %tn = rev.mul %t, %q1 : f64
        rev.yield %tn : f64
      }
      rev.yield %r : f64
    } body {
    ^bb0(%t: f64):
      rev.if pre {
        %z = arith.constant 0.0 : f64
        %p = arith.cmpf ogt, %x, %z : f64
        rev.cond %p
      } then {
        %u = arith.mulf %t, %v : f64
        rev.add_at %Y[%i], %u : memref<?xf64>
        rev.yield
      } else {
        %u = math.cos %w : f64
        rev.add_at %Y[%i], %u : memref<?xf64>
        rev.yield
      }
      rev.yield %t : f64
    }
  }
  rev.return %a, %b : f64, f64
}
"""


@pytest.mark.parametrize("seed", range(4))
def test_nested_regions_against_tangents_and_finite_differences(seed):
    """<seeds, J dot> from @f_fwd (forward mode, another engine) equals
    <gradient(seeds), dot> from @f_grad, within 1e-12."""
    rng = np.random.default_rng(seed)
    n = 9
    X, Y = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    a, b = rng.uniform(-1, 1), rng.uniform(-0.5, 0.5)
    p = Program(NESTED, grad=["f"], fwd=["f"])
    sa, sb, SX, SY = rng.standard_normal(), rng.standard_normal(), rng.standard_normal(n), \
        rng.standard_normal(n)
    da, db, dX, dY = rng.standard_normal(), rng.standard_normal(), rng.standard_normal(n), \
        rng.standard_normal(n)
    gX, gY = SX.copy(), SY.copy()
    out = p.call(p.gradient_names["f"], X.copy(), Y.copy(), a, b, sa, sb, gX, gY)
    ga, gb = out[-2:]
    tX, tY = dX.copy(), dY.copy()
    tout = p.call(p.tangent_names["f"], X.copy(), Y.copy(), a, b, da, db, tX, tY)
    ta, tb = tout[-2:]
    lhs = sa * ta + sb * tb + SX @ tX + SY @ tY
    rhs = ga * da + gb * db + gX @ dX + gY @ dY
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))
    check_fd(NESTED, "f", [X, Y, a, b])


def test_gradient_stays_invertible():
    rng = np.random.default_rng(3)
    X, Y = rng.uniform(-1, 1, 6), rng.uniform(-1, 1, 6)
    Xb, Yb = rng.standard_normal(6), rng.standard_normal(6)
    p = Program(NESTED, grad=["f"])
    g = p.gradient_names["f"]
    assert g in p.inverse_names  # no adjoint dropped outside a routine
    X1, Y1, Xb1, Yb1 = X.copy(), Y.copy(), Xb.copy(), Yb.copy()
    out = p.call(g, X1, Y1, 0.4, -0.2, 0.0, 0.0, Xb1, Yb1)
    back = p.uncall(g, X1, Y1, *out, Xb1, Yb1)
    assert rel_err(back, (0.4, -0.2, 0.0, 0.0)) < 1e-12
    for u, v in ((X1, X), (Y1, Y), (Xb1, Xb), (Yb1, Yb)):
        assert rel_err(u, v) < 1e-12


def test_openmp_parallel_loop_equals_sequential():
    src = lit_functions()
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal(1000), rng.standard_normal(1000)
    res = []
    for kw in (dict(), dict(target="openmp", num_threads=2)):
        d = Derivatives(src, "parallel", **kw)
        res.append(d.jacobian(0.7, X, Y))
    assert rel_err(res[0], res[1]) < 1e-12


def chain_program(k):
    """p_j = p_{j-1} x + 1/2 above a loop whose update adds every p_j: each
    p_j is read from above and lies in the expression of the next."""
    L = ["rev.func @f(%x: f64, %y: f64) -> (f64, f64) {",
         "  %c0 = arith.constant 0 : index", "  %c1 = arith.constant 1 : index",
         "  %n = arith.constant 3 : index", "  %h = arith.constant 0.5 : f64",
         "  %p0 = arith.mulf %x, %h : f64"]
    for j in range(1, k + 1):
        L += [f"  %q{j} = arith.mulf %p{j - 1}, %x : f64", f"  %p{j} = arith.addf %q{j}, %h : f64"]
    L.append("  %r = rev.for %i = %c0 to %n step %c1 iter_args(%t = %y) -> (f64) {")
    prev = "%p0"
    for j in range(1, k + 1):
        L.append(f"    %s{j} = arith.addf {prev}, %p{j} : f64")
        prev = f"%s{j}"
    L += [f"    %t1 = rev.add %t, {prev} : f64", "    rev.yield %t1 : f64", "  }",
          "  rev.return %x, %r : f64, f64", "}"]
    return "\n".join(L)


def test_chained_values_read_from_above_cost_linear_code():
    """Each value read from above is swept once (cuts below cuts, in
    topological order): the backward code grows linearly with the chain (a
    sweep per cut over its whole expression grew as k^2: 166 -> 556 ops at
    k = 10, 7006 at k = 40)."""
    def ops(k):
        out = subprocess.run([REV_OPT, "-", "--rev-ad"], input=chain_program(k),
                             capture_output=True, text=True, check=True).stdout
        body = out[out.index("rev.func @f_bwd("):]
        return body[:body.index("\n  }\n")].count("arith.")
    n10, n40 = ops(10), ops(40)
    assert n40 < 5 * n10, (n10, n40)
    assert n10 < 300, n10
    check_fd(chain_program(6), "f", [0.7, 0.2])
