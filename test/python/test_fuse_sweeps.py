"""Fused sweeps (rev-ad's fuse-sweeps, the default; Program(fuse_sweeps=)):
where a function ends with a loop whose iterations are independent, @f_grad
runs each iteration's backward sweep right after its forward one, and a
routine without inits at the end of such a body (or of the function) runs
its compute twice instead of four times (transforms/FusedGradient.cpp,
docs/ad.md "How often the compute runs").

Every fused gradient must equal the plain one (@f then @f_bwd) within 1e-12
relative (the same operations on the same values, so they differ by the
rounding of the cancelled uncompute/recompute at most), restore the primal
inputs, and agree with central finite differences (1e-6 relative); the
fused form must actually be used (the rev.fused_sweeps mark, seen through
rev-opt), and functions that do not qualify keep the plain form."""
import os
import subprocess

import numpy as np
import pytest

from mlir_rev import ad
from mlir_rev.jit import Program, RevError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REV_OPT = os.path.join(ROOT, "build", "bin", "rev-opt")

LOOP_ROUTINE = """
rev.func @f(%X: memref<?xf64>, %Y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    rev.routine compute {
      %t0 = rev.alloc : f64
      %s = math.sin %x : f64
      %t1 = rev.add %t0, %s : f64
      %u0 = rev.alloc : f64
      %e = math.exp %t1 : f64
      %u1 = rev.add %u0, %e : f64
      rev.yield %t1, %u1 : f64, f64
    } body {
    ^bb0(%t: f64, %u: f64):
      %q = arith.mulf %t, %u : f64
      rev.add_at %Y[%i], %q : memref<?xf64>
      %c = math.cos %x : f64
      rev.add_at %Y[%i], %c : memref<?xf64>
      rev.yield %t, %u : f64, f64
    }
  }
  rev.return
}
"""

SCALE = """
rev.func @f(%X: memref<?xf64>, %Y: memref<?xf64>, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %x : f64
    %p = arith.mulf %a, %s : f64
    %q = arith.mulf %p, %a : f64
    rev.add_at %Y[%i], %q : memref<?xf64>
  }
  rev.return %a : f64
}
"""

PARALLEL_SCALE = """
rev.func @f(%X: memref<?xf64>, %Y: memref<?xf64>, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    rev.routine compute {
      %t0 = rev.alloc : f64
      %s = math.sin %x : f64
      %t1 = rev.add %t0, %s : f64
      rev.yield %t1 : f64
    } body {
    ^bb0(%t: f64):
      %p = arith.mulf %a, %t : f64
      %q = arith.mulf %p, %t : f64
      rev.add_at %Y[%i], %q : memref<?xf64>
      rev.yield %t : f64
    }
    rev.yield
  }
  rev.return %a : f64
}
"""

# A 2-d loop nest: the inner loop is the tail of the outer body, fused too.
NEST = """
rev.func @f(%X: memref<?x4xf64>, %Y: memref<?x4xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %X, %c0 : memref<?x4xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x0 = memref.load %X[%i, %c0] : memref<?x4xf64>
    rev.for %j = %c0 to %c4 step %c1 {
      %x = memref.load %X[%i, %j] : memref<?x4xf64>
      %p = arith.mulf %x, %x0 : f64
      %s = math.sin %p : f64
      rev.add_at %Y[%i, %j], %s : memref<?x4xf64>
    }
  }
  rev.return
}
"""

# A routine at the end of the function whose body ends with an independent
# loop: the compute's ancilla (from a scalar) is read by every iteration.
ROUTINE_LOOP = """
rev.func @f(%X: memref<?xf64>, %Y: memref<?xf64>, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.routine compute {
    %t0 = rev.alloc : f64
    %e = math.exp %a : f64
    %t1 = rev.add %t0, %e : f64
    rev.yield %t1 : f64
  } body {
  ^bb0(%t: f64):
    rev.for %i = %c0 to %n step %c1 {
      %x = memref.load %X[%i] : memref<?xf64>
      %p = arith.mulf %t, %x : f64
      %q = math.tanh %p : f64
      rev.add_at %Y[%i], %q : memref<?xf64>
    }
    rev.yield %t : f64
  }
  rev.return %a : f64
}
"""

# A shared accumulation (a histogram: only added to, at any index), a
# reversed loop with step 3.
HIST = """
rev.func @f(%X: memref<?xf64>, %B: memref<?xindex>, %H: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for reverse %i = %c0 to %n step %c3 {
    %x = memref.load %X[%i] : memref<?xf64>
    %k = memref.load %B[%i] : memref<?xindex>
    %s = arith.mulf %x, %x : f64
    %e = math.exp %s : f64
    rev.add_at %H[%k], %e : memref<?xf64>
  }
  rev.return
}
"""


# A loss summed over independent terms: the iter_arg is an accumulator.
SUM = """
rev.func @f(%X: memref<?xf64>, %L: f64, %a: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%l = %L) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %x : f64
    %q = arith.mulf %s, %a : f64
    %l1 = rev.add %l, %q : f64
    %e = math.exp %x : f64
    %l2 = rev.sub %l1, %e : f64
    rev.yield %l2 : f64
  }
  rev.return %r, %a : f64, f64
}
"""

# The accumulator goes through a routine (the compute passes it through, the
# body adds to it) and through an inner loop; the series of batched Bessel
# summed into one scalar.
SUM_ROUTINE = """
rev.func @f(%X: memref<?xf64>, %L: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%l = %L) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %m = rev.for %j = %c0 to %c3 step %c1 iter_args(%lj = %l) -> (f64) {
      %jf = arith.index_cast %j : index to i64
      %jd = arith.sitofp %jf : i64 to f64
      %p = arith.mulf %jd, %x : f64
      %c = math.cos %p : f64
      %lj1 = rev.add %lj, %c : f64
      rev.yield %lj1 : f64
    }
    %o:1 = rev.routine %m : f64 compute {
    ^bb0(%u: f64):
      %t0 = rev.alloc : f64
      %s = math.sin %x : f64
      %t1 = rev.add %t0, %s : f64
      %w = math.tanh %t1 : f64
      %v0 = rev.alloc : f64
      %v1 = rev.add %v0, %w : f64
      rev.yield %u, %t1, %v1 : f64, f64, f64
    } body {
    ^bb0(%u: f64, %t: f64, %v: f64):
      %q = arith.mulf %t, %v : f64
      %u1 = rev.add %u, %q : f64
      rev.yield %u1, %t, %v : f64, f64, f64
    }
    rev.yield %o#0 : f64
  }
  rev.return %r : f64
}
"""


def fused(src):
    """Whether rev-ad fuses f's gradient (the mark in @f_grad)."""
    r = subprocess.run([REV_OPT, "--rev-ad=funcs=f"], input=src, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    grad = r.stdout[r.stdout.index("@f_grad("):]
    grad = grad[:grad.index("rev.func", 1)] if "rev.func" in grad[1:] else grad
    return "rev.fused_sweeps" in grad


# Scratch that every iteration restores (written only in the compute of a
# routine that undoes it; GMM's per-point B, MX, Z): fused.
SCRATCH = """
rev.func @f(%X: memref<?xf64>, %Y: memref<?xf64>, %S: memref<2xf64>, %l: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%a = %l) -> (f64) {
    %o:1 = rev.routine %a : f64 compute {
    ^bb0(%aa: f64):
      %x = memref.load %X[%i] : memref<?xf64>
      %s = math.sin %x : f64
      rev.add_at %S[%c0], %s : memref<2xf64>
      %p = memref.load %S[%c0] : memref<2xf64>
      %e = math.exp %p : f64
      rev.add_at %S[%c1], %e : memref<2xf64>
      rev.yield %aa : f64
    } body {
    ^bb0(%aa: f64):
      %q = memref.load %S[%c1] : memref<2xf64>
      %lg = math.log %q : f64
      %a1 = rev.add %aa, %lg : f64
      %s0 = memref.load %S[%c0] : memref<2xf64>
      %m = arith.mulf %s0, %q : f64
      rev.add_at %Y[%i], %m : memref<?xf64>
      rev.yield %a1 : f64
    }
    rev.yield %o#0 : f64
  }
  rev.return %r : f64
}"""


# A fusable loop followed by ops that commute with it (they run forward
# before the fused loop, backward after it), and the cases left plain: the
# functions of test/transforms/ad-fuse-sweeps-commuting.mlir.
COMMUTING = os.path.join(ROOT, "test", "transforms", "ad-fuse-sweeps-commuting.mlir")


def commuting(name, *callees):
    """rev.func @name of COMMUTING renamed @f, after the functions it calls."""
    with open(COMMUTING) as fh:
        text = fh.read()

    def function(n):
        start = text.index(f"rev.func @{n}(")
        return text[start:text.index("\n}\n", start) + 3]
    return "".join(map(function, callees)) + function(name).replace(f"@{name}(", "@f(", 1)


LATER_SCALAR = commuting("later_scalar")
LATER_RECURRENCE = commuting("later_recurrence")


def cases():
    rng = np.random.default_rng(11)
    n = 37
    X = rng.uniform(-1.0, 1.0, n)
    Y = rng.uniform(-1.0, 1.0, n)
    X2, Y2 = rng.uniform(-1, 1, (n, 4)), rng.uniform(-1, 1, (n, 4))
    B = rng.integers(0, 5, n).astype(np.intp)
    H = rng.uniform(-1, 1, 5)
    # (name, source, arguments; the float inputs are differentiated)
    return [
        ("loop_routine", LOOP_ROUTINE, [X, Y]),
        ("scale", SCALE, [X, Y, 0.7]),
        ("parallel_scale", PARALLEL_SCALE, [X, Y, 0.7]),
        ("nest", NEST, [X2, Y2]),
        ("routine_loop", ROUTINE_LOOP, [X, Y, 0.3]),
        ("hist", HIST, [X, B, H]),
        ("sum", SUM, [X, 0.25, 0.7]),
        ("sum_routine", SUM_ROUTINE, [X, -0.5]),
        ("scratch", SCRATCH, [X, Y, rng.uniform(0.5, 1.0, 2), 0.3]),
        ("later_scalar", LATER_SCALAR, [X, Y, rng.uniform(-1, 1, 3), 0.7, 0.3]),
        ("later_recurrence", LATER_RECURRENCE, [X, Y, rng.uniform(-1, 1, 9), 0.2, 0.4]),
        ("zero_trips", SCALE, [X[:0], Y[:0], 0.7]),
    ]


CASES = cases()
IDS = [c[0] for c in CASES]


def copy(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


@pytest.fixture(scope="module")
def programs():
    out = {}
    for name, src, _ in CASES:
        out[name] = {f: ad.Derivatives(src, "f", fuse_sweeps=f) for f in (True, False)}
    return out


def seeds(args, rng):
    """An output adjoint per float scalar result and float memref."""
    s = [rng.uniform(-1, 1) for a in args if isinstance(a, float)]
    m = [rng.uniform(-1, 1, a.shape) for a in args
         if isinstance(a, np.ndarray) and a.dtype == np.float64]
    return s, m


def full_grad(d, args, sbar, mbar):
    """@f_grad with the given seeds: (f's returned scalars, restored arrays,
    input adjoints), the arrays' shadows as the seeds."""
    a = copy(args)
    shadows = [m.copy() for m in mbar]
    res = d.program.call(d.grad_name, *d._derivative_args(a, sbar, shadows))
    res = () if res is None else (res if isinstance(res, tuple) else (res,))
    return res, a, shadows


@pytest.mark.parametrize("name", IDS)
def test_fused_form_is_used(name):
    src = dict((c[0], c[1]) for c in CASES)[name]
    assert fused(src)


@pytest.mark.parametrize("name,src,args", CASES, ids=IDS)
def test_fused_gradient_equals_the_plain_one(programs, name, src, args):
    rng = np.random.default_rng(5)
    sbar, mbar = seeds(args, rng)
    rf, af, gf = full_grad(programs[name][True], args, sbar, mbar)
    rp, ap, gp = full_grad(programs[name][False], args, sbar, mbar)
    np.testing.assert_allclose(rf, rp, rtol=1e-12, atol=1e-14)
    for x, y in zip(gf, gp):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(y).max(initial=0)))
    # the primal inputs come back (arrays restored, scalars returned)
    for x, y in zip(af, args):
        if isinstance(y, np.ndarray):
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name,src,args", CASES[:-1], ids=IDS[:-1])
def test_fused_gradient_matches_finite_differences(programs, name, src, args):
    rng = np.random.default_rng(6)
    d = programs[name][True]
    sbar, mbar = seeds(args, rng)
    res, _, shadows = full_grad(d, args, sbar, mbar)
    n_scalars = len(sbar)
    scalar_bars = list(res[n_scalars:])
    floats = [k for k, a in enumerate(args)
              if isinstance(a, float) or (isinstance(a, np.ndarray) and a.dtype == np.float64)]

    def phi(a):
        a = copy(a)  # f updates its arrays in place: they hold its outputs
        outs = d.program.call("f", *a)
        outs = () if outs is None else (outs if isinstance(outs, tuple) else (outs,))
        arrays = [x for x in a if isinstance(x, np.ndarray) and x.dtype == np.float64]
        return (sum(s * o for s, o in zip(sbar, outs)) +
                sum(float(np.sum(m * x)) for m, x in zip(mbar, arrays)))

    # one random direction over every float input
    v = [rng.uniform(-1, 1) if isinstance(args[k], float) else rng.uniform(-1, 1, args[k].shape)
         for k in floats]
    # the adjoints in argument order (scalars' from the results, arrays' shadows)
    sb, sh = iter(scalar_bars), iter(shadows)
    grads = [next(sb) if isinstance(args[k], float) else next(sh) for k in floats]
    predicted = sum(float(np.sum(g * w)) for g, w in zip(grads, v))
    h = 1e-6

    def shifted(sign):
        a = copy(args)
        for k, w in zip(floats, v):
            a[k] = a[k] + sign * h * w
            if isinstance(args[k], float):
                a[k] = float(a[k])
        return phi(a)

    fd = (shifted(1) - shifted(-1)) / (2 * h)
    assert abs(fd - predicted) <= 1e-6 * max(1.0, abs(predicted)), (fd, predicted)


NOT_FUSED = {
    "later_reads_written": commuting("later_reads_written"),
    "later_updates_read": commuting("later_updates_read"),
    "later_uses_result": commuting("later_uses_result"),
    "later_call": commuting("later_call", "sq"),
    "accumulator_multiplied": """
rev.func @f(%X: memref<?xf64>, %y: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%v = %y) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %e = math.exp %x : f64
    %v1 = rev.mul %v, %e : f64
    rev.yield %v1 : f64
  }
  rev.return %r : f64
}""",
    "body_changes_what_compute_reads": """
rev.func @f(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %t0 = rev.alloc : f64
    %e = math.exp %a : f64
    %t1 = rev.add %t0, %e : f64
    rev.yield %a, %b, %t1 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64):
    %a1 = rev.add %a, %b : f64
    %b1 = rev.add %b, %t : f64
    rev.yield %a1, %b1, %t : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}""",
    "recurrence": """
rev.func @f(%X: memref<?xf64>, %y: f64, %z: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.for %i = %c0 to %n step %c1 iter_args(%v = %y, %w = %z) -> (f64, f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %w : f64
    %d = arith.mulf %s, %x : f64
    %v1 = rev.add %v, %d : f64
    rev.yield %v1, %w : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}""",
    "reads_previous_iteration": """
rev.func @f(%X: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c1 to %n step %c1 {
    %j = arith.subi %i, %c1 : index
    %x = memref.load %X[%j] : memref<?xf64>
    %s = math.sin %x : f64
    rev.add_at %X[%i], %s : memref<?xf64>
  }
  rev.return
}""",
    "scratch_written_in_body": """
rev.func @f(%X: memref<?xf64>, %S: memref<2xf64>, %l: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%a = %l) -> (f64) {
    %o:1 = rev.routine %a : f64 compute {
    ^bb0(%aa: f64):
      %x = memref.load %X[%i] : memref<?xf64>
      %s = math.sin %x : f64
      rev.add_at %S[%c0], %s : memref<2xf64>
      rev.yield %aa : f64
    } body {
    ^bb0(%aa: f64):
      %q = memref.load %S[%c0] : memref<2xf64>
      %a1 = rev.add %aa, %q : f64
      %e = math.exp %q : f64
      rev.add_at %S[%c1], %e : memref<2xf64>
      rev.yield %a1 : f64
    }
    rev.yield %o#0 : f64
  }
  rev.return %r : f64
}""",
    # the scratch K is also written through a select that may be it (found
    # by review: fused, iteration i's K[i] += 1 was undone before iteration
    # i + 1 read K)
    "scratch_written_through_a_select": """
rev.func @f(%X: memref<?xf64>, %Y: memref<?xf64>, %K: memref<?xi64>, %L: memref<?xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i64
  %true = arith.constant true
  %n = memref.dim %X, %c0 : memref<?xf64>
  %V = arith.select %true, %K, %L : memref<?xi64>
  rev.for %i = %c0 to %n step %c1 {
    rev.add_at %V[%i], %one : memref<?xi64>
    rev.routine compute {
      %k1 = memref.load %K[%c1] : memref<?xi64>
      rev.add_at %K[%c0], %k1 : memref<?xi64>
      rev.yield
    } body {
      %k0 = memref.load %K[%c0] : memref<?xi64>
      %kf = arith.sitofp %k0 : i64 to f64
      %x = memref.load %X[%i] : memref<?xf64>
      %p = arith.mulf %x, %kf : f64
      %s = math.sin %p : f64
      rev.add_at %Y[%i], %s : memref<?xf64>
      rev.yield
    }
  }
  rev.return
}""",
    "compute_reads_what_body_writes": """
rev.func @f(%Y: memref<2xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  rev.routine compute {
    %y = memref.load %Y[%c0] : memref<2xf64>
    %t0 = rev.alloc : f64
    %e = math.exp %y : f64
    %t1 = rev.add %t0, %e : f64
    rev.yield %t1 : f64
  } body {
  ^bb0(%t: f64):
    rev.add_at %Y[%c1], %t : memref<2xf64>
    rev.yield %t : f64
  }
  rev.return
}""",
}


@pytest.mark.parametrize("name", sorted(NOT_FUSED))
def test_functions_that_do_not_qualify_keep_the_plain_gradient(name):
    assert not fused(NOT_FUSED[name])


def test_reads_previous_iteration_gradient_is_right():
    """The loop that may not be fused still differentiates (finite differences)."""
    d = ad.Derivatives(NOT_FUSED["reads_previous_iteration"], "f")
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, 9)
    g = d.gradient(X, output=(0, (8,)))
    h = 1e-6
    for k in range(9):
        e = np.zeros(9)
        e[k] = h
        fp, fm = X + e, X - e
        d.program.call("f", fp)
        d.program.call("f", fm)
        np.testing.assert_allclose(g[k] if not isinstance(g, tuple) else g[0][k],
                                   (fp[8] - fm[8]) / (2 * h), rtol=1e-6, atol=1e-9)


def test_scratch_written_through_a_select_gradient_is_right():
    """The loop that shares K with a select stays plain, and its gradient
    follows K's history (iteration i adds 1 to K[i]; the routine reads K[0] +
    K[1] after it): d/dX[i] sum_i sin(X[i] k_i) = cos(X[i] k_i) k_i."""
    X = np.array([0.1, 0.2, 0.3, 0.4])
    K0, L0 = np.array([1, 2, 0, 0], dtype=np.int64), np.zeros(4, dtype=np.int64)
    d = ad.Derivatives(NOT_FUSED["scratch_written_through_a_select"], "f")
    a = [X.copy(), np.zeros(4), K0.copy(), L0.copy()]
    shadows = [np.zeros(4), np.ones(4)]
    d.program.call(d.grad_name, *d._derivative_args(a, [], shadows))
    K, expected = K0.copy(), []
    for i in range(4):
        K[i] += 1
        k = K[0] + K[1]
        expected.append(np.cos(X[i] * k) * k)
    np.testing.assert_allclose(shadows[0], expected, rtol=1e-12)


def test_batched_bessel_fused_equals_plain():
    """benchmarks/besselj2_batched.mlir: a routine per element (2 passes over
    each element's series instead of 4), Y restored, dX the same bits."""
    src = open(os.path.join(ROOT, "benchmarks", "besselj2_batched.mlir")).read()
    assert fused(src.replace("@besselj2_batched(", "@f("))
    rng = np.random.default_rng(8)
    X, dY = rng.uniform(0.5, 5.0, 1000), rng.uniform(-1, 1, 1000)
    out = {}
    for f in (True, False):
        p = Program(src, grad=["besselj2_batched"], fuse_sweeps=f)
        Y, dX = np.zeros(1000), np.zeros(1000)
        p.call(p.gradient_names["besselj2_batched"], X, Y, dX, dY.copy())
        assert np.all(Y == 0.0)
        out[f] = dX
    np.testing.assert_allclose(out[True], out[False], rtol=1e-12, atol=1e-14)


def test_scalar_bessel_routine_with_inits_fused_equals_plain():
    """examples/besselj2.mlir: one routine whose inits (x, y) the compute
    passes through or only reads and whose body adds to y: fused."""
    src = open(os.path.join(ROOT, "examples", "besselj2.mlir")).read()
    assert fused(src.replace("@besselj2(", "@f("))
    res = {f: ad.Derivatives(src, "besselj2", fuse_sweeps=f).gradient(2.1, 0.3, output=1)
           for f in (True, False)}
    np.testing.assert_allclose(res[True], res[False], rtol=1e-12, atol=1e-14)
    # J2'(x) = (J1(x) - J3(x)) / 2 by the same series, by central differences
    d = ad.Derivatives(src, "besselj2")
    h = 1e-6
    fd = (d.program.call("besselj2", 2.1 + h, 0.3)[1] -
          d.program.call("besselj2", 2.1 - h, 0.3)[1]) / (2 * h)
    np.testing.assert_allclose(res[True][0], fd, rtol=1e-6)
    assert res[True][1] == 1.0


def test_hessian_vector_product_through_a_fused_gradient():
    """Forward over reverse: the tangent of the fused @f_grad."""
    rng = np.random.default_rng(9)
    X, Y = rng.uniform(-1, 1, 12), rng.uniform(-1, 1, 12)
    v = [rng.uniform(-1, 1, 12), rng.uniform(-1, 1, 12)]
    out = {}
    for f in (True, False):
        d = ad.Derivatives(LOOP_ROUTINE, "f", second_order=True, fuse_sweeps=f)
        out[f] = d.hvp(X, Y, v=v, output=(1, (3,)))
    for a, b in zip(out[True], out[False]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_checked_mode_and_openmp_run_the_fused_gradient():
    rng = np.random.default_rng(10)
    X, Y = rng.uniform(-1, 1, 64), rng.uniform(-1, 1, 64)
    seed = rng.uniform(-1, 1, 64)
    ref = None
    for kw in ({}, {"checks": True}, {"target": "openmp", "num_threads": 2}):
        p = Program(PARALLEL_SCALE, grad=["f"], **kw)
        Xb = np.zeros(64)
        r = p.call(p.gradient_names["f"], X.copy(), Y.copy(), 0.7, 0.25, Xb, seed.copy())
        got = (np.asarray(r), Xb)
        if ref is None:
            ref = got
        else:
            np.testing.assert_allclose(got[0], ref[0], rtol=1e-12)
            np.testing.assert_allclose(got[1], ref[1], rtol=1e-12, atol=1e-15)


def test_bad_flag_is_a_rev_error():
    with pytest.raises(RevError, match="fuse_sweeps"):
        Program(SCALE, grad=["f"], fuse_sweeps="yes")


# A view taken inside the body (memref.cast) aliases the outer memref, and a
# global is shared by the iterations: neither is iteration-local (review of
# the fused sweeps). K[i] += K[i - 1] through the cast is a recurrence: not
# fused, and the backward loop runs in reverse (it used to be fused, and the
# plain backward ran in the forward order and did not restore K).
VIEW_IN_BODY = """
rev.func @f(%X: memref<?xf64>, %Y: memref<?xf64>, %K: memref<?xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c1 to %n step %c1 {
    %Kc = memref.cast %K : memref<?xi64> to memref<4xi64>
    %j = arith.subi %i, %c1 : index
    %kp = memref.load %Kc[%j] : memref<4xi64>
    rev.add_at %K[%i], %kp : memref<?xi64>
    %kk = memref.load %K[%i] : memref<?xi64>
    %kf = arith.sitofp %kk : i64 to f64
    %x = memref.load %X[%i] : memref<?xf64>
    %p = arith.mulf %x, %kf : f64
    %s = math.sin %p : f64
    rev.add_at %Y[%i], %s : memref<?xf64>
  }
  rev.return
}
"""

GLOBAL_IN_BODY = """
memref.global "private" @G : memref<1xi64> = dense<0>
rev.func @f(%X: memref<?xf64>, %Y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i64
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %G = memref.get_global @G : memref<1xi64>
    %x = memref.load %X[%i] : memref<?xf64>
    %g = memref.load %G[%c0] : memref<1xi64>
    %gf = arith.sitofp %g : i64 to f64
    %p = arith.mulf %x, %gf : f64
    %s = math.sin %p : f64
    rev.add_at %Y[%i], %s : memref<?xf64>
    rev.add_at %G[%c0], %one : memref<1xi64>
  }
  rev.return
}
"""


@pytest.mark.parametrize("fuse", [True, False])
def test_view_or_global_in_the_body_is_not_iteration_local(fuse):
    assert not fused(VIEW_IN_BODY) and not fused(GLOBAL_IN_BODY)
    X = np.array([0.1, 0.2, 0.3, 0.4])
    K0 = np.ones(4, dtype=np.int64)
    Kf = np.cumsum(K0)  # the forward: K[i] += K[i - 1] in order
    p = Program(VIEW_IN_BODY, grad=["f"], fuse_sweeps=fuse)
    K, Xb = K0.copy(), np.zeros(4)
    p.call("f_grad", X.copy(), np.zeros(4), K, Xb, np.ones(4))
    expected = np.array([0.0] + [np.cos(X[i] * Kf[i]) * Kf[i] for i in range(1, 4)])
    np.testing.assert_allclose(Xb, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(K, K0)
    # G counts the iterations before this one (a fresh program: G = 0)
    p = Program(GLOBAL_IN_BODY, grad=["f"], fuse_sweeps=fuse)
    Xb = np.zeros(4)
    p.call("f_grad", X.copy(), np.zeros(4), Xb, np.ones(4))
    k = np.arange(4)
    np.testing.assert_allclose(Xb, np.cos(X * k) * k, rtol=1e-12, atol=1e-14)
