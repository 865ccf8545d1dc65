"""fold_recoveries= (rev-to-llvm's fold-recoveries, --rev-fold-recoveries, on
by default): where the backward sweep recovers a value by undoing a forward
update while the forward's value is at hand, it reads that value instead.
Forward results never change; gradients change at the rounding level only
(they read the forward's exact values instead of recomputed ones), and the
recovering divisions are gone from the compiled code."""
import os
import re

import numpy as np
import pytest

from mlir_rev.ad import grad
from mlir_rev.jit import Program, RevError

from test_ad import besselj_series, rel_err

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# rel_err (max abs difference over max(1, max |reference|)) between the
# folded and the unfolded gradient: both are exact IEEE code, they differ by
# the rounding of the recomputed values the folded one does not recompute.
FOLD_RTOL = 1e-12
FD_RTOL = 1e-6  # central differences, h = 1e-6


def batched_bessel():
    with open(os.path.join(ROOT, "benchmarks", "besselj2_batched.mlir")) as f:
        return f.read()


def bessel_run(xs, **kw):
    p = Program(batched_bessel(), grad=["besselj2_batched"], **kw)
    g = p.gradient_names["besselj2_batched"]
    ys, xbar = np.zeros_like(xs), np.zeros_like(xs)
    p.call(g, xs, np.zeros_like(xs), xbar, np.ones_like(xs))
    p.call("besselj2_batched", xs, ys)
    return p, ys, xbar


def gradient_divisions(p, name):
    """The llvm.fdiv ops of the lowered function @name."""
    text = str(p.module)
    body = text[text.index(f"llvm.func @{name}("):]
    body = body[:body.index("\n  }\n")]
    return len(re.findall(r"llvm\.fdiv", body))


def test_batched_bessel_same_forward_close_gradient_fewer_divisions():
    xs = np.random.default_rng(5).uniform(0.5, 12.0, 2000)
    p1, y1, g1 = bessel_run(xs)
    p0, y0, g0 = bessel_run(xs, fold_recoveries=False)
    assert np.array_equal(y1, y0)  # the primal has no recoveries
    assert rel_err(g1, g0) < FOLD_RTOL
    # against the independent series J_2' = (J_1 - J_3) / 2
    for i in range(0, len(xs), 97):
        exact = 0.5 * (besselj_series(1, xs[i]) - besselj_series(3, xs[i]))
        assert abs(g1[i] - exact) < 1e-12 * max(1.0, abs(exact))
    # 29 recovering divisions per element (t / d after t * d) are gone; the
    # forward's 29 divisions h2 / (k (k + 2)) stay.
    name = p1.gradient_names["besselj2_batched"]
    n1, n0 = gradient_divisions(p1, name), gradient_divisions(p0, name)
    assert n0 - n1 >= 29, (n0, n1)
    assert "rev.recovery" not in str(p1.module) and "fastmath" not in str(p1.module)


def test_checked_mode_recomputes_and_agrees():
    xs = np.random.default_rng(6).uniform(0.5, 12.0, 300)
    p1, _, g1 = bessel_run(xs)
    pc, _, gc = bessel_run(xs, checks=True)
    # (checked mode computes every recovery as written and compares the
    # ancillas it frees with zero: test/conversion/fold-recoveries.mlir)
    assert rel_err(gc, g1) < FOLD_RTOL


def test_flag_validated_and_passed_through_by_grad():
    with pytest.raises(RevError, match="fold_recoveries"):
        Program(batched_bessel(), grad=["besselj2_batched"], fold_recoveries="yes")
    src = open(os.path.join(ROOT, "examples", "besselj2.mlir")).read()
    a = grad(src, "besselj2", output=1)(1.7, 0.0)
    b = grad(src, "besselj2", output=1, fold_recoveries=False)(1.7, 0.0)
    assert rel_err(np.asarray(a), np.asarray(b)) < FOLD_RTOL


def random_routine_function(rng, nops):
    """@f(%x: f64, %w: f64, %y: f64): a routine whose compute runs `nops`
    random updates (add, sub, mul, div by non-zero deltas of x and w) on two
    ancillas and whose body adds them to y; then the same per element of
    memrefs in a loop (@g(%X, %Y, %w))."""
    body = []
    cur = ["%t1", "%u1"]
    for n in range(nops):
        k = int(rng.integers(2))
        kind = str(rng.choice(["add", "sub", "mul", "div"]))
        src = str(rng.choice(["%a", "%v", cur[1 - k]]))
        fn = str(rng.choice(["math.sin", "math.cos", "math.tanh"]))
        body.append(f"    %f{n} = {fn} {src} : f64")
        if kind in ("mul", "div"):  # 1.25 + f^2 > 0
            body.append(f"    %q{n} = arith.mulf %f{n}, %f{n} : f64")
            body.append(f"    %d{n} = arith.addf %q{n}, %c125 : f64")
        else:
            body.append(f"    %d{n} = arith.mulf %f{n}, %c07 : f64")
        body.append(f"    %n{n} = rev.{kind} {cur[k]}, %d{n} : f64")
        cur[k] = f"%n{n}"
    compute = "\n".join(body)

    def routine(x, w, y):
        return f"""
  %r:3 = rev.routine {x}, {w}, {y} : f64, f64, f64 compute {{
  ^bb0(%a: f64, %v: f64, %b: f64):
    %c125 = arith.constant 1.25 : f64
    %c07 = arith.constant 0.7 : f64
    %t0 = rev.alloc : f64
    %t1 = rev.add %t0, %a : f64
    %u0 = rev.alloc : f64
    %u1 = rev.add %u0, %v : f64
{compute}
    rev.yield %a, %v, %b, {cur[0]}, {cur[1]} : f64, f64, f64, f64, f64
  }} body {{
  ^bb0(%a: f64, %v: f64, %b: f64, %t: f64, %u: f64):
    %b1 = rev.add %b, %t : f64
    %p = arith.mulf %u, %a : f64
    %b2 = rev.add %b1, %p : f64
    rev.yield %a, %v, %b2, %t, %u : f64, f64, f64, f64, f64
  }}"""
    scalar = f"""rev.func @f(%x: f64, %w: f64, %y: f64) -> (f64, f64, f64) {{{routine('%x', '%w', '%y')}
  rev.return %r#0, %r#1, %r#2 : f64, f64, f64
}}"""
    batched = f"""rev.func @g(%X: memref<?xf64>, %Y: memref<?xf64>, %w: f64) -> f64 {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {{
    %xl = memref.load %X[%i] : memref<?xf64>
    %x0 = rev.alloc : f64
    %x = rev.add %x0, %xl : f64
    %w0 = rev.alloc : f64
    %wc = rev.add %w0, %w : f64
    %y0 = rev.alloc : f64{routine('%x', '%wc', '%y0')}
    rev.add_at %Y[%i], %r#2 : memref<?xf64>
    %e = memref.load %Y[%i] : memref<?xf64>
    %y1 = rev.sub %r#2, %e : f64
    rev.free %y1 : f64
    %x1 = rev.sub %r#0, %xl : f64
    rev.free %x1 : f64
    %w1 = rev.sub %r#1, %w : f64
    rev.free %w1 : f64
    rev.yield
  }}
  rev.return %w : f64
}}"""
    return scalar, batched


@pytest.mark.parametrize("seed", range(6))
def test_random_routines_fold_and_agree(seed):
    rng = np.random.default_rng(seed)
    scalar, batched = random_routine_function(rng, int(rng.integers(4, 12)))
    p1 = Program(scalar, grad=["f"])
    p0 = Program(scalar, grad=["f"], fold_recoveries=False)
    x, w = rng.uniform(-1.5, 1.5, 2)
    args = (x, w, 0.25)
    g1 = np.asarray(p1.call(p1.gradient_names["f"], *args, 0.0, 0.0, 1.0)[3:])
    g0 = np.asarray(p0.call(p0.gradient_names["f"], *args, 0.0, 0.0, 1.0)[3:])
    assert rel_err(g1, g0) < FOLD_RTOL
    # central differences of y with respect to x and w
    h = 1e-6
    fd = []
    for j in range(2):
        up, dn = list(args), list(args)
        up[j] += h
        dn[j] -= h
        fd.append((p1.call("f", *up)[2] - p1.call("f", *dn)[2]) / (2 * h))
    assert rel_err(g1[:2], np.asarray(fd)) < FD_RTOL
    # the forward is the same either way
    assert p1.call("f", *args) == p0.call("f", *args)

    # per element of a fused loop: the same gradient element by element
    q1 = Program(batched, grad=["g"])
    q0 = Program(batched, grad=["g"], fold_recoveries=False)
    xs = rng.uniform(-1.5, 1.5, 16)
    outs = []
    for q in (q1, q0):
        ys, xbar, ybar = np.zeros(16), np.zeros(16), np.ones(16)
        wbar = q.call(q.gradient_names["g"], xs, ys, w, 0.0, xbar, ybar)[-1]
        outs.append((xbar, wbar))
    assert rel_err(outs[0][0], outs[1][0]) < FOLD_RTOL
    assert abs(outs[0][1] - outs[1][1]) < FOLD_RTOL * max(1.0, abs(outs[1][1]))
    for i in range(0, 16, 5):
        ref = p1.call(p1.gradient_names["f"], xs[i], w, 0.0, 0.0, 0.0, 1.0)[3]
        assert abs(outs[0][0][i] - ref) < FOLD_RTOL * max(1.0, abs(ref))


# A func.func of the user's with `reassoc` ops: the pass folds them too (the
# flag allows it), and a loop that folding leaves dead around a folded op of
# its own is removed once (it crashed the pass: use after free).
DEAD_LOOP = """
func.func @f(%a: f64, %b: f64, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%x = %b) -> (f64) {
    %m2 = arith.mulf %x, %a : f64
    %q2 = arith.divf %m2, %a fastmath<reassoc> : f64
    %y = arith.addf %q2, %a : f64
    scf.yield %y : f64
  }
  %m = arith.mulf %a, %r : f64
  %q = arith.divf %m, %r fastmath<reassoc> : f64
  return %q : f64
}
"""


@pytest.mark.parametrize("fold", [True, False])
def test_reassoc_func_with_a_loop_left_dead(fold):
    p = Program(DEAD_LOOP, fold_recoveries=fold)
    assert p.call("f", 1.5, 0.25, 3) == 1.5
