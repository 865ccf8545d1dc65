"""Gradients from --rev-ad / --rev-fwd against independent references.

Tolerances: central finite differences agree to 1e-6 relative error (step
1e-6 scaled by the input, on smooth functions); closed forms and second
implementations agree to 1e-10 relative error.
"""
import math
import os
import re

import numpy as np
import pytest

from mlir_rev.ad import Derivatives, grad, hvp, jacobian, vjp
from mlir_rev.jit import Program, RevError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FD_RTOL = 1e-6
EXACT_RTOL = 1e-10


def example(name):
    with open(os.path.join(ROOT, "examples", name)) as f:
        return f.read()


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


# -- an independent reference: central finite differences of the primal -------
def outputs(d, args):
    """f's outputs in the Jacobian's order: float scalar results, float memrefs."""
    args = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    res = d.program.call(d.name, *args)
    res = res if isinstance(res, tuple) else (res,) if res is not None else ()
    scal = [res[d.scalar_pos.index(p)] for p in d.active_scalars]
    return np.concatenate([np.asarray(scal, dtype=np.float64)] +
                          [args[i].ravel() for i in d.active_memrefs])


def inputs(d, args):
    return np.concatenate([np.asarray([args[i] for i in d.active_scalars], dtype=np.float64)] +
                          [np.asarray(args[i], dtype=np.float64).ravel()
                           for i in d.active_memrefs])


def with_inputs(d, args, vec):
    args = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    k = 0
    for i in d.active_scalars:
        args[i] = float(vec[k])
        k += 1
    for i in d.active_memrefs:
        n = args[i].size
        args[i][...] = vec[k:k + n].reshape(args[i].shape)
        k += n
    return args


def fd_jacobian(d, args, h=1e-6):
    x0 = inputs(d, args)
    cols = []
    for j in range(x0.size):
        step = h * max(1.0, abs(x0[j]))
        xp, xm = x0.copy(), x0.copy()
        xp[j] += step
        xm[j] -= step
        cols.append((outputs(d, with_inputs(d, args, xp)) -
                     outputs(d, with_inputs(d, args, xm))) / (2 * step))
    return np.array(cols).T


def check_fd(src, name, args, rtol=FD_RTOL):
    d = Derivatives(src, name)
    J = d.jacobian(*args)
    J_fd = fd_jacobian(d, args)
    assert J.shape == J_fd.shape
    assert rel_err(J, J_fd) < rtol, (J, J_fd)
    return d, J


# -- programs ------------------------------------------------------------------
POLY = """
rev.func @poly(%x: f64, %y: f64) -> (f64, f64) {
  %c0 = arith.constant 1.5 : f64
  %c1 = arith.constant -2.0 : f64
  %c2 = arith.constant 0.5 : f64
  %c3 = arith.constant 3.0 : f64
  %h3 = arith.mulf %c3, %x : f64
  %h2 = arith.addf %h3, %c2 : f64
  %h2x = arith.mulf %h2, %x : f64
  %h1 = arith.addf %h2x, %c1 : f64
  %h1x = arith.mulf %h1, %x : f64
  %p = arith.addf %h1x, %c0 : f64
  %y1 = rev.add %y, %p : f64
  rev.return %x, %y1 : f64, f64
}
"""


def test_polynomial_closed_form():
    g = grad(POLY, "poly", output=1)
    for x in (-1.3, 0.0, 0.4, 2.5):
        dx, dy = g(x, 0.7)
        exact = 9 * x * x + 2 * 0.5 * x - 2.0
        assert abs(dx - exact) <= EXACT_RTOL * max(1, abs(exact))
        assert dy == 1.0
    check_fd(POLY, "poly", [0.8, 0.3])


CHAIN = """
rev.func @chain(%y: f64, %a: f64, %b: f64, %c: f64) -> (f64, f64, f64, f64) {
  %y1 = rev.mul %y, %a : f64
  %y2 = rev.div %y1, %b : f64
  %c2 = arith.mulf %c, %c : f64
  %y3 = rev.mul %y2, %c2 : f64
  %e = math.exp %a : f64
  %y4 = rev.div %y3, %e : f64
  rev.return %y4, %a, %b, %c : f64, f64, f64, f64
}
"""


def test_mul_div_chain_closed_form():
    y, a, b, c = 1.7, 0.9, -1.4, 0.6
    dy, da, db, dc = grad(CHAIN, "chain", output=0)(y, a, b, c)
    f = y * a * c * c / (b * math.exp(a))
    exact = [f / y, f / a - f, -f / b, 2 * f / c]
    assert rel_err([dy, da, db, dc], exact) < EXACT_RTOL
    check_fd(CHAIN, "chain", [y, a, b, c])


ROTATIONS = """
rev.func @rots(%a: f64, %b: f64, %t1: f64, %t2: f64) -> (f64, f64, f64, f64) {
  %a1, %b1 = rev.rot %a, %b, %t1 : f64
  %a2, %b2 = rev.irot %a1, %b1, %t2 : f64
  %t3 = arith.mulf %t1, %t2 : f64
  %a3, %b3 = rev.rot %a2, %b2, %t3 : f64
  %a4, %b4 = rev.swap %a3, %b3 : f64
  %b5 = rev.neg %b4 : f64
  rev.return %a4, %b5, %t1, %t2 : f64, f64, f64, f64
}
"""


def test_rotation_sequence_closed_form():
    a, b, t1, t2 = 0.8, -0.3, 0.7, 1.9
    d = Derivatives(ROTATIONS, "rots")
    J = d.jacobian(a, b, t1, t2)
    # (a, b) is rotated by phi = t1 - t2 + t1 t2, then (b', -a') after swap and neg.
    phi = t1 - t2 + t1 * t2
    c, s = math.cos(phi), math.sin(phi)
    ra, rb = a * c - b * s, a * s + b * c
    dphi = np.array([1 + t2, -1 + t1])
    exact = np.zeros((4, 4))
    exact[0, :2] = [s, c]                    # out0 = rb
    exact[0, 2:] = ra * dphi                 # d rb / d phi = ra
    exact[1, :2] = [-c, s]                   # out1 = -ra
    exact[1, 2:] = rb * dphi                 # d(-ra)/d phi = rb
    exact[2, 2] = exact[3, 3] = 1
    assert rel_err(J, exact) < EXACT_RTOL
    check_fd(ROTATIONS, "rots", [a, b, t1, t2])


EXPRESSIONS = """
rev.func @expr(%x: f64, %y: f64, %z: f64) -> (f64, f64, f64) {
  %e = math.exp %x : f64
  %l = math.log %y : f64
  %t = math.tan %x : f64
  %h = math.tanh %y : f64
  %q = math.sqrt %y : f64
  %p = math.powf %y, %x : f64
  %n = arith.negf %x : f64
  %a = math.absf %n : f64
  %mn = arith.minimumf %x, %y : f64
  %mx = arith.maximumf %x, %y : f64
  %at = math.atan2 %x, %y : f64
  %s = math.sin %x : f64
  %c = math.cos %y : f64
  %cmp = arith.cmpf ogt, %x, %y : f64
  %sel = arith.select %cmp, %s, %c : f64
  %d1 = arith.divf %e, %q : f64
  %d2 = arith.subf %l, %t : f64
  %d3 = arith.mulf %h, %p : f64
  %d4 = arith.addf %a, %mn : f64
  %d5 = arith.mulf %mx, %at : f64
  %s1 = arith.addf %d1, %d2 : f64
  %s2 = arith.addf %d3, %d4 : f64
  %s3 = arith.addf %d5, %sel : f64
  %s4 = arith.addf %s1, %s2 : f64
  %sum = arith.addf %s4, %s3 : f64
  %z1 = rev.add %z, %sum : f64
  %z2 = rev.sub %z1, %h : f64
  rev.return %x, %y, %z2 : f64, f64, f64
}
"""


@pytest.mark.parametrize("x,y", [(0.3, 1.2), (-0.4, 0.6), (1.1, 0.9)])
def test_expression_dag_rules(x, y):
    # every rule of the issue: + - * / neg exp log sin cos tan tanh sqrt pow abs
    # min max atan2 select, through one delta
    check_fd(EXPRESSIONS, "expr", [x, y, 0.5])


AT_FORMS = """
rev.func @at(%t: f64, %A: memref<4xf64>, %B: memref<4xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %one = arith.constant 1.5 : f64
  %two = arith.constant 2.0 : f64
  %a1 = memref.load %A[%c1] : memref<4xf64>
  %sa = math.sin %a1 : f64
  %d0 = arith.mulf %sa, %t : f64
  rev.add_at %A[%c0], %d0 : memref<4xf64>
  %b0 = memref.load %B[%c0] : memref<4xf64>
  %b00 = arith.mulf %b0, %b0 : f64
  %m = arith.addf %one, %b00 : f64
  rev.mul_at %A[%c2], %m : memref<4xf64>
  %a3 = memref.load %A[%c3] : memref<4xf64>
  %ca = math.cos %a3 : f64
  %dv = arith.addf %two, %ca : f64
  rev.div_at %B[%c1], %dv : memref<4xf64>
  %a0 = memref.load %A[%c0] : memref<4xf64>
  %st = arith.mulf %a0, %t : f64
  rev.sub_at %B[%c2], %st : memref<4xf64>
  rev.neg_at %A[%c3] : memref<4xf64>
  rev.swap_at %A[%c1], %B[%c3] : memref<4xf64>, memref<4xf64>
  %a2 = memref.load %A[%c2] : memref<4xf64>
  %k = arith.constant 0.3 : f64
  %th0 = arith.mulf %t, %k : f64
  %th = arith.addf %th0, %a2 : f64
  rev.rot_at %A[%c0], %B[%c0], %th : memref<4xf64>, memref<4xf64>, f64
  rev.irot_at %A[%c2], %B[%c1], %t : memref<4xf64>, memref<4xf64>, f64
  rev.return %t : f64
}
"""


def test_memref_element_forms():
    A = np.array([0.3, -0.7, 1.1, 0.4])
    B = np.array([0.9, 0.2, -0.5, 1.3])
    check_fd(AT_FORMS, "at", [0.6, A, B])


def besselj_series(nu, x, terms=60):
    return sum((-1) ** k / (math.factorial(k) * math.gamma(k + nu + 1)) * (x / 2) ** (2 * k + nu)
               for k in range(terms))


def test_bessel_j2_series():
    src = example("besselj2.mlir")
    g = grad(src, "besselj2", output=1)
    for x in (0.5, 1.7, 4.2):
        dx, dy = g(x, 0.0)
        # J_2' = (J_1 - J_3) / 2, evaluated by an independent series
        exact = 0.5 * (besselj_series(1, x) - besselj_series(3, x))
        assert abs(dx - exact) < EXACT_RTOL * max(1, abs(exact)), (x, dx, exact)
        assert dy == 1.0
        y = Program(src).call("besselj2", x, 0.0)[1]
        assert abs(y - besselj_series(2, x)) < 1e-13
    check_fd(src, "besselj2", [2.3, 0.1])


def leapfrog_matrix(k, dt, steps):
    kh = 0.5 * k * dt
    # one step on (x, v): v -= kh x; x += dt v; v -= kh x
    m1 = np.array([[1, 0], [-kh, 1]])
    m2 = np.array([[1, dt], [0, 1]])
    return np.linalg.matrix_power(m1 @ m2 @ m1, steps)


def test_leapfrog_1000_steps():
    src = example("leapfrog.mlir")
    d = Derivatives(src, "leapfrog")
    X = np.array([1.0, -0.5, 0.25])
    V = np.array([0.0, 0.3, -0.1])
    k, dt, steps = 1.3, 0.01, 1000
    J = d.jacobian(X, V, k, dt, steps)
    # inputs: k, dt, X[0..2], V[0..2]; outputs: k, dt, X, V (final)
    M = leapfrog_matrix(k, dt, steps)
    for i in range(3):
        xi, vi = 2 + i, 5 + i
        block = J[np.ix_([xi, vi], [xi, vi])]
        assert rel_err(block, M) < EXACT_RTOL
    # d/dk and d/ddt against finite differences
    J_fd = fd_jacobian(d, [X, V, k, dt, steps])
    assert rel_err(J[:, :2], J_fd[:, :2]) < FD_RTOL


def coupled_reference(y, z, xs):
    """Forward sweep storing the trajectory, then a hand-written backward sweep."""
    ys, zs = [], []
    for x in xs:
        ys.append(y)
        zs.append(z)
        y = y + math.sin(z) * x
        z = z + math.cos(y) * x
    yb, zb = 1.0, 0.0  # d y_T
    xb = np.zeros(len(xs))
    for t in range(len(xs) - 1, -1, -1):
        x = xs[t]
        y1 = ys[t] + math.sin(zs[t]) * x  # y after the first update
        # z1 = z + cos(y1) x
        yb += zb * (-math.sin(y1) * x)
        xb[t] += zb * math.cos(y1)
        # y1 = y + sin(z) x
        zb += yb * math.cos(zs[t]) * x
        xb[t] += yb * math.sin(zs[t])
    return yb, zb, xb


def test_coupled_recurrence_10000_steps():
    src = example("coupled.mlir")
    rng = np.random.default_rng(7)
    xs = rng.uniform(-0.01, 0.01, 10_000)
    dy, dz, dX = grad(src, "coupled", output=0)(0.3, -0.2, xs)
    ry, rz, rX = coupled_reference(0.3, -0.2, xs)
    assert rel_err([dy, dz], [ry, rz]) < EXACT_RTOL
    assert rel_err(dX, rX) < EXACT_RTOL
    # and central differences on a few inputs
    d = Derivatives(src, "coupled")
    for j in (0, 1, 2, 5000, 10_001):
        vec = inputs(d, [0.3, -0.2, xs])
        h = 1e-6 * max(1.0, abs(vec[j]))
        vp, vm = vec.copy(), vec.copy()
        vp[j] += h
        vm[j] -= h
        fd = (outputs(d, with_inputs(d, [0.3, -0.2, xs], vp))[0] -
              outputs(d, with_inputs(d, [0.3, -0.2, xs], vm))[0]) / (2 * h)
        got = [dy, dz, *dX][j]
        assert abs(got - fd) < FD_RTOL * max(1.0, abs(fd))


SPMV = """
rev.func @spmv(%rowptr: memref<?xindex>, %col: memref<?xindex>, %vals: memref<?xf64>,
               %x: memref<?xf64>, %y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = memref.dim %y, %c0 : memref<?xf64>
  rev.for %r = %c0 to %m step %c1 {
    %lo = memref.load %rowptr[%r] : memref<?xindex>
    %r1 = arith.addi %r, %c1 : index
    %hi = memref.load %rowptr[%r1] : memref<?xindex>
    rev.for %j = %lo to %hi step %c1 {
      %c = memref.load %col[%j] : memref<?xindex>
      %v = memref.load %vals[%j] : memref<?xf64>
      %xv = memref.load %x[%c] : memref<?xf64>
      %p = arith.mulf %v, %xv : f64
      rev.add_at %y[%r], %p : memref<?xf64>
    }
  }
  rev.return
}
"""


def test_csr_spmv():
    rng = np.random.default_rng(3)
    dense = rng.uniform(-1, 1, (5, 6)) * (rng.uniform(0, 1, (5, 6)) < 0.5)
    rowptr = [0]
    col, vals = [], []
    for r in range(5):
        for c in range(6):
            if dense[r, c] != 0:
                col.append(c)
                vals.append(dense[r, c])
        rowptr.append(len(col))
    rowptr, col, vals = (np.array(rowptr, dtype=np.int64), np.array(col, dtype=np.int64),
                         np.array(vals))
    x = rng.uniform(-1, 1, 6)
    y = rng.uniform(-1, 1, 5)
    w = rng.uniform(-1, 1, 5)  # objective sum(w * y_final)
    f = vjp(SPMV, "spmv")
    _, (dvals, dx, dy) = f([rowptr, col, vals, x, y], [],
                           [np.zeros_like(vals), np.zeros_like(x), w])
    rows = np.repeat(np.arange(5), np.diff(rowptr))
    assert rel_err(dvals, w[rows] * x[col]) < EXACT_RTOL
    assert rel_err(dx, dense.T @ w) < EXACT_RTOL
    assert rel_err(dy, w) < EXACT_RTOL
    check_fd(SPMV, "spmv", [rowptr, col, vals, x, y])


BRANCHY = """
rev.func @branchy(%x: f64, %y: f64, %k: i64) -> (f64, f64, i64) {
  %r:2 = rev.if %x, %y : f64, f64 pre {
  ^bb0(%a: f64, %b: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64, %b: f64):
    %a2 = arith.mulf %a, %a : f64
    %a3 = arith.mulf %a2, %a : f64
    %b1 = rev.add %b, %a3 : f64
    rev.yield %a, %b1 : f64, f64
  } else {
  ^bb0(%a: f64, %b: f64):
    %s = math.sin %a : f64
    %b1 = rev.sub %b, %s : f64
    rev.yield %a, %b1 : f64, f64
  }
  %w:3 = rev.while %r#0, %r#1, %k : f64, f64, i64 pre {
  ^bb0(%a: f64, %b: f64, %n: i64):
    %lim = arith.constant 10.0 : f64
    %c = arith.cmpf olt, %b, %lim : f64
    rev.cond %c
  } do {
  ^bb0(%a: f64, %b: f64, %n: i64):
    %g0 = arith.constant 1.5 : f64
    %a2 = arith.mulf %a, %a : f64
    %g = arith.addf %g0, %a2 : f64
    %b1 = rev.mul %b, %g : f64
    %one = arith.constant 1 : i64
    %n1 = rev.add %n, %one : i64
    rev.yield %a, %b1, %n1 : f64, f64, i64
  } post {
  ^bb0(%a: f64, %b: f64, %n: i64):
    %zero = arith.constant 0 : i64
    %c = arith.cmpi sgt, %n, %zero : i64
    rev.cond %c
  }
  rev.return %w#0, %w#1, %w#2 : f64, f64, i64
}
"""


@pytest.mark.parametrize("x,y", [(0.7, 0.9), (-0.8, 2.0), (1.2, 0.05)])
def test_data_dependent_if_and_while(x, y):
    g = grad(BRANCHY, "branchy", output=1)
    dx, dy = g(x, y, 0)
    b = y + x ** 3 if x > 0 else y - math.sin(x)
    db_dx = 3 * x * x if x > 0 else -math.cos(x)
    gfac, n = 1.5 + x * x, 0
    while b * gfac ** n < 10:
        n += 1
    # y_final = b * g^n with n fixed near the point
    exact_dx = db_dx * gfac ** n + b * n * gfac ** (n - 1) * 2 * x
    exact_dy = gfac ** n
    assert rel_err([dx, dy], [exact_dx, exact_dy]) < EXACT_RTOL
    check_fd(BRANCHY, "branchy", [x, y, 0])


CALLS = """
rev.func @inner(%a: f64, %b: f64, %V: memref<3xf64>) -> (f64, f64) {
  %c1 = arith.constant 1 : index
  %v = memref.load %V[%c1] : memref<3xf64>
  %s = math.sin %b : f64
  %d = arith.mulf %s, %v : f64
  %a1 = rev.add %a, %d : f64
  %e = math.exp %a1 : f64
  rev.add_at %V[%c1], %e : memref<3xf64>
  rev.return %a1, %b : f64, f64
}
rev.func @outer(%x: f64, %y: f64, %V: memref<3xf64>) -> (f64, f64) {
  %r:2 = rev.call @inner(%x, %y, %V) : (f64, f64, memref<3xf64>) -> (f64, f64)
  %y1 = rev.mul %r#1, %r#0 : f64
  %s:2 = rev.uncall @inner(%y1, %r#0, %V) : (f64, f64, memref<3xf64>) -> (f64, f64)
  rev.return %s#1, %s#0 : f64, f64
}
"""


def test_call_and_uncall():
    check_fd(CALLS, "outer", [0.4, 0.9, np.array([0.2, -0.3, 0.5])])


ROUTINE = """
rev.func @r(%x: f64, %y: f64) -> (f64, f64) {
  %o:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %t0 = rev.alloc : f64
    %s = math.sin %a : f64
    %t1 = rev.add %t0, %s : f64
    %u0 = rev.alloc init 1.0 : f64
    %u1 = rev.mul %u0, %t1 : f64
    rev.yield %a, %b, %t1, %u1 : f64, f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64, %u: f64):
    %p = arith.mulf %t, %u : f64
    %b1 = rev.add %b, %p : f64
    rev.yield %a, %b1, %t, %u : f64, f64, f64, f64
  }
  rev.return %o#0, %o#1 : f64, f64
}
"""


def test_routine_with_ancillas():
    dx, dy = grad(ROUTINE, "r", output=1)(0.8, 0.1)
    assert rel_err(dx, 2 * math.sin(0.8) * math.cos(0.8)) < EXACT_RTOL
    assert dy == 1.0
    check_fd(ROUTINE, "r", [0.8, 0.1])


def test_jacobian_and_vjp_agree():
    d = Derivatives(CHAIN, "chain")
    args = [1.1, 0.5, 2.0, -0.7]
    J = d.jacobian(*args)
    seeds = [0.3, -1.0, 0.25, 2.0]
    outs, bars = d.vjp(args, seeds, [])
    assert rel_err(bars, np.array(seeds) @ J) < EXACT_RTOL
    assert rel_err(outs, d.program.call("chain", *args)) == 0


def fd_of_gradient(d, args, v, output, h=1e-5):
    x0 = inputs(d, args)
    vec = np.concatenate([np.atleast_1d(np.asarray(a, dtype=np.float64)).ravel() for a in v])
    def gvec(x):
        g = d.gradient(*with_inputs(d, args, x), output=output)
        return np.concatenate([np.atleast_1d(np.asarray(a, dtype=np.float64)).ravel()
                               for a in g])
    return (gvec(x0 + h * vec) - gvec(x0 - h * vec)) / (2 * h)


@pytest.mark.parametrize("src,name,args,v,output", [
    (POLY, "poly", [0.8, 0.3], [1.0, 0.0], 1),
    (EXPRESSIONS, "expr", [0.3, 1.2, 0.5], [0.4, -0.7, 0.2], 2),
    (AT_FORMS, "at", [0.6, np.array([0.3, -0.7, 1.1, 0.4]), np.array([0.9, 0.2, -0.5, 1.3])],
     [0.5, np.array([0.1, 0.2, -0.3, 0.4]), np.array([-0.2, 0.3, 0.1, 0.5])], (1, 0)),
    (ROUTINE, "r", [0.8, 0.1], [1.0, 0.5], 1),
])
def test_hessian_vector_product_forward_over_reverse(src, name, args, v, output):
    d = Derivatives(src, name, second_order=True)
    hv = d.hvp(*args, v=v, output=output)
    flat = np.concatenate([np.atleast_1d(np.asarray(a, dtype=np.float64)).ravel() for a in hv])
    assert rel_err(flat, fd_of_gradient(d, args, v, output)) < FD_RTOL


def test_hvp_closed_form():
    f = hvp(POLY, "poly", output=1)
    for x in (-0.5, 1.5):
        hx, hy = f(x, 0.3, v=[1.0, 0.0])
        assert rel_err([hx, hy], [18 * x + 1.0, 0.0]) < EXACT_RTOL


def test_inverse_of_gradient_runs_back():
    p = Program(CHAIN, grad=["chain"])
    g = p.gradient_names["chain"]
    args = (1.7, 0.9, -1.4, 0.6, 1.0, 0.0, 0.0, 0.0)
    out = p.call(g, *args)
    back = p.uncall(g, *out)
    assert rel_err(back, args) < 1e-12


def test_inverse_of_gradient_runs_back_with_memrefs_and_loops():
    p = Program(example("leapfrog.mlir"), grad=["leapfrog"])
    g = p.gradient_names["leapfrog"]
    X, V = np.array([1.0, -0.5]), np.array([0.2, 0.1])
    Xb, Vb = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    X0, V0, Xb0, Vb0 = X.copy(), V.copy(), Xb.copy(), Vb.copy()
    # layout: f's arguments, the adjoints of k and dt, the shadows of X and V
    out = p.call(g, X, V, 1.3, 0.01, 100, 0.0, 0.0, Xb, Vb)
    assert not np.allclose(Xb, Xb0)
    back = p.uncall(g, X, V, *out, Xb, Vb)
    assert rel_err(back, (1.3, 0.01, 100, 0.0, 0.0)) < 1e-12
    for a, b in ((X, X0), (V, V0), (Xb, Xb0), (Vb, Vb0)):
        assert rel_err(a, b) < 1e-12


@pytest.mark.parametrize("src,name,args,output", [
    (POLY, "poly", [0.8, 0.3], 1),
    (CHAIN, "chain", [1.7, 0.9, -1.4, 0.6], 0),
    (EXPRESSIONS, "expr", [0.3, 1.2, 0.5], 2),
    (ROUTINE, "r", [0.8, 0.1], 1),
    (BRANCHY, "branchy", [0.7, 0.9, 0], 1),
    (AT_FORMS, "at", [0.6, np.array([0.3, -0.7, 1.1, 0.4]), np.array([0.9, 0.2, -0.5, 1.3])],
     (1, 2)),
])
def test_ad_twice_gives_second_derivatives(src, name, args, output):
    """--rev-ad applied to @f_grad: seeding the adjoint of f_grad's output
    `adjoint of input i` gives row i of the Hessian of one output of f."""
    d = Derivatives(src, name)
    gname = d.grad_name
    p = Program(src, grad=[name, gname])
    gg = p.gradient_names[gname]
    n_s, na, nm = len(d.scalar_pos), len(d.active_scalars), len(d.active_memrefs)
    sbar, shadows = d._output_seed(args, output)
    sizes = [args[i].size for i in d.active_memrefs]
    for j in range(na + sum(sizes)):
        e = np.zeros(na + sum(sizes))
        e[j] = 1.0
        # adjoints of f_grad's float scalars (f's, then f's adjoints) and
        # shadows of its float memrefs (f's, then f's shadows)
        seed_scalars = [0.0] * na + list(e[:na])
        f_memref_shadows = [np.zeros_like(args[i]) for i in d.active_memrefs]
        shadow_shadows, k = [], na
        for i, n in zip(d.active_memrefs, sizes):
            shadow_shadows.append(e[k:k + n].reshape(args[i].shape).copy())
            k += n
        v = list(e[:na]) + [x.copy() for x in shadow_shadows]  # the call updates them
        call_args = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        res = p.call(gg, *call_args, *sbar, *[x.copy() for x in shadows], *seed_scalars,
                     *f_memref_shadows, *shadow_shadows)
        res = res if isinstance(res, tuple) else (res,)
        row = np.concatenate([np.asarray(res[n_s + na:n_s + 2 * na], dtype=np.float64)] +
                             [x.ravel() for x in f_memref_shadows])
        fd = fd_of_gradient(d, args, v, output)
        assert rel_err(row, fd) < FD_RTOL, (j, row, fd)


def test_vjp_rejects_inconsistent_shadows():
    f = vjp(SPMV, "spmv")
    rowptr, col = np.array([0, 1], dtype=np.int64), np.array([0], dtype=np.int64)
    with pytest.raises(RevError, match="shadow"):
        f([rowptr, col, np.ones(1), np.ones(1), np.ones(1)], [],
          [np.zeros(2), np.zeros(1), np.zeros(1)])


RECURSIVE = """
rev.func @power(%y: f64, %x: f64, %k: i64) -> (f64, f64, i64) {
  %r:3 = rev.if %y, %x, %k : f64, f64, i64 pre {
  ^bb0(%a: f64, %b: f64, %n: i64):
    %z = arith.constant 0 : i64
    %c = arith.cmpi sgt, %n, %z : i64
    rev.cond %c
  } then {
  ^bb0(%a: f64, %b: f64, %n: i64):
    %one = arith.constant 1 : i64
    %n1 = rev.sub %n, %one : i64
    %a1 = rev.mul %a, %b : f64
    %s:3 = rev.call @power(%a1, %b, %n1) : (f64, f64, i64) -> (f64, f64, i64)
    %n2 = rev.add %s#2, %one : i64
    rev.yield %s#0, %s#1, %n2 : f64, f64, i64
  } post {
  ^bb0(%a: f64, %b: f64, %n: i64):
    %z = arith.constant 0 : i64
    %c = arith.cmpi sgt, %n, %z : i64
    rev.cond %c
  }
  rev.return %r#0, %r#1, %r#2 : f64, f64, i64
}
"""


def test_recursive_call_graph():
    """The backward function of a recursive function calls itself."""
    dy, dx = grad(RECURSIVE, "power", output=0)(1.5, 0.9, 7)
    assert rel_err([dy, dx], [0.9 ** 7, 7 * 1.5 * 0.9 ** 6]) < EXACT_RTOL
    check_fd(RECURSIVE, "power", [1.5, 0.9, 7])


def test_derivatives_pass_every_runtime_check():
    """Checked mode (ancillas restored, conditions, aliasing, nonzero factors)
    holds in every generated derivative function (a failed check would raise
    RevError)."""
    cases = [
        (AT_FORMS, "at", [0.6, np.array([0.3, -0.7, 1.1, 0.4]),
                          np.array([0.9, 0.2, -0.5, 1.3])], (1, 2)),
        (ROUTINE, "r", [0.8, 0.1], 1),
        (example("besselj2.mlir"), "besselj2", [1.3, 0.0], 1),
        (BRANCHY, "branchy", [0.7, 0.9, 0], 1),
        (CALLS, "outer", [0.4, 0.9, np.array([0.2, -0.3, 0.5])], 0),
        (SPMV, "spmv", [np.array([0, 2, 3]), np.array([0, 1, 1]), np.array([1.0, 2.0, 3.0]),
                        np.array([1.0, 1.0]), np.array([0.0, 0.0])], (4, 0)),
        (RECURSIVE, "power", [1.5, 0.9, 4], 0),
    ]
    for src, name, args, out in cases:
        plain = Derivatives(src, name, second_order=True)
        checked = Derivatives(src, name, second_order=True, checks=True)
        v = [0.1] * len(plain.active_scalars) + [np.full(args[i].shape, 0.1)
                                                 for i in plain.active_memrefs]
        for d_a, d_b in ((plain.jacobian(*args), checked.jacobian(*args)),
                         (plain.hvp(*args, v=v, output=out),
                          checked.hvp(*args, v=v, output=out))):
            for a, b in zip(d_a, d_b):
                assert np.allclose(a, b, rtol=1e-14, atol=0), (name, a, b)


@pytest.mark.parametrize("checks", [False, True])
def test_inconsistent_shadow_is_a_run_time_error(checks):
    """A shadow of the wrong size is caught by the derivative function's entry
    check (also without checks=True): RevError, in the same process."""
    p = Program(example("coupled.mlir"), grad=["coupled"], checks=checks)
    X, short = np.ones(8), np.full(4, 0.5)
    rule = "the shadow of memref argument #2 has a different size in dimension 0"
    with pytest.raises(RevError, match=re.escape(f"rev: {rule} (rev.func at ")) as e:
        p.call("coupled_grad", 0.1, 0.2, X, 1.0, 0.0, short)
    assert (e.value.rule, e.value.op, e.value.location) == (rule, "rev.func", 'loc("-":6:1)')
    assert np.all(X == 1.0) and np.all(short == 0.5)
    # The interpreter keeps running: the same call with a right-sized shadow.
    X_bar = np.zeros(8)
    y, z, y_bar, z_bar = p.call("coupled_grad", 0.1, 0.2, X, 1.0, 0.0, X_bar)
    ref = grad(example("coupled.mlir"), "coupled", output=0)(0.1, 0.2, np.ones(8))
    assert rel_err([y_bar, z_bar], ref[:2]) < EXACT_RTOL
    assert rel_err(X_bar, ref[2]) < EXACT_RTOL


def test_grad_of_a_module_built_with_the_python_builders():
    """f(x, s, A): A[i] += x i; s += 2 sin(x); s *= 1.5 (built, not parsed)."""
    from mlir_rev import ir
    from test_jit import build_series_module
    with ir.Context(), ir.Location.unknown():
        module = build_series_module()
        g = grad(module, "f", output=1)
    A = np.arange(5, dtype=np.float64)
    dx, ds, dA = g(0.7, 1.25, A)
    assert rel_err([dx, ds], [1.5 * 2 * math.cos(0.7), 1.5]) < EXACT_RTOL
    assert np.all(dA == 0.0)  # A does not influence s
    dx, ds, dA = grad(str(module), "f", output=(2, 3))(0.7, 1.25, A)  # d A_out[3]
    assert rel_err([dx, ds], [3.0, 0.0]) < EXACT_RTOL
    assert np.array_equal(dA, np.eye(5)[3])


def test_grad_errors_are_exceptions_with_locations():
    with pytest.raises(RevError, match=r"(?s)rev-ad failed:\nloc\(\"-\":3:8\): 'math.floor' op "
                                       r"has no derivative rule.*loc\(\"-\":4:9\): needed by "
                                       r"the adjoint of this op"):
        grad("rev.func @f(%y: f64, %x: f64) -> (f64, f64) {\n"
             "  %c = arith.constant 1.0 : f64\n"
             "  %f = math.floor %x : f64\n"
             "  %y1 = rev.add %y, %f : f64\n"
             "  rev.return %y1, %x : f64, f64\n}", "f")
    with pytest.raises(RevError, match="reads the variable that this op updates|delta is "
                                       "computed from the variable it updates"):
        grad("rev.func @f(%y: f64) -> f64 {\n  %s = math.sin %y : f64\n"
             "  %y1 = rev.add %y, %s : f64\n  rev.return %y1 : f64\n}", "f")
    with pytest.raises(RevError, match="no rev.func named @g"):
        grad(POLY, "g")
    d = Derivatives(POLY, "poly")
    with pytest.raises(RevError, match="out of range"):
        d.gradient(0.1, 0.2, output=5)
    with pytest.raises(RevError, match="takes 2 arguments"):
        d.gradient(0.1)


MIXED_PRECISION = """
rev.func @mixed(%y: f32, %x: f64, %A: memref<3xf32>) -> (f32, f64) {
  %c1 = arith.constant 1 : index
  %a = memref.load %A[%c1] : memref<3xf32>
  %ae = arith.extf %a : f32 to f64
  %p = arith.mulf %ae, %x : f64
  %s = math.sin %p : f64
  %t = arith.truncf %s : f64 to f32
  %y1 = rev.add %y, %t : f32
  %c0 = arith.constant 0 : index
  %y2 = rev.mul %y1, %a : f32
  rev.add_at %A[%c0], %y2 : memref<3xf32>
  rev.return %y2, %x : f32, f64
}
"""


def test_f32_and_mixed_precision():
    A = np.array([0.5, 1.25, -2.0], dtype=np.float32)
    dy, dx, dA = grad(MIXED_PRECISION, "mixed", output=0)(0.3, 0.7, A)
    a, x, y = 1.25, 0.7, 0.3
    # y2 = (y + sin(a x)) a
    exact = [a, a * a * math.cos(a * x), [0.0, y + math.sin(a * x) + a * x * math.cos(a * x), 0.0]]
    assert abs(dy - exact[0]) < 1e-6 and abs(dx - exact[1]) < 1e-6
    assert dA.dtype == np.float32 and np.allclose(dA, exact[2], rtol=1e-6, atol=1e-6)


TOP_LEVEL_ANCILLA = """
rev.func @anc(%x: f64, %y: f64) -> (f64, f64) {
  %t0 = rev.alloc : f64
  %s = math.sin %x : f64
  %t1 = rev.add %t0, %s : f64
  %p = arith.mulf %t1, %t1 : f64
  %y1 = rev.add %y, %p : f64
  %t2 = rev.sub %t1, %s : f64
  rev.free %t2 : f64
  rev.return %x, %y1 : f64, f64
}
"""


def test_ancilla_outside_a_routine():
    """First derivatives work; the backward function drops the ancilla's
    adjoint (rev.discard), so it has no inverse and cannot be differentiated
    again: both are clear errors, not wrong answers."""
    dx, dy = grad(TOP_LEVEL_ANCILLA, "anc", output=1)(0.8, 0.1)
    assert rel_err([dx, dy], [2 * math.sin(0.8) * math.cos(0.8), 1.0]) < EXACT_RTOL
    check_fd(TOP_LEVEL_ANCILLA, "anc", [0.8, 0.1])
    p = Program(TOP_LEVEL_ANCILLA, grad=["anc"])
    assert "anc" in p.inverse_names and "anc_grad" not in p.inverse_names
    with pytest.raises(RevError, match="@anc_grad has no inverse"):
        p.uncall("anc_grad", 0.8, 0.1, 0.0, 1.0)
    with pytest.raises(RevError, match=r"rev.discard' op cannot be differentiated: rev.discard "
                                       r"dropped an ancilla's adjoint"):
        Program(TOP_LEVEL_ANCILLA, grad=["anc", "anc_grad"])
    # the tangent (forward mode) of the gradient is fine: Hessian-vector products
    hx, hy = hvp(TOP_LEVEL_ANCILLA, "anc", output=1)(0.8, 0.1, v=[1.0, 0.0])
    assert rel_err([hx, hy], [2 * math.cos(1.6), 0.0]) < EXACT_RTOL


COMPUTE_TEMPORARY = """
rev.func @ct(%x: f64, %y: f64) -> (f64, f64) {
  %o:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%p: f64, %q: f64):
    %w0 = rev.alloc : f64
    %s = math.sin %p : f64
    %w1 = rev.add %w0, %s : f64
    %t0 = rev.alloc : f64
    %ww = arith.mulf %w1, %w1 : f64
    %t1 = rev.add %t0, %ww : f64
    %w2 = rev.sub %w1, %s : f64
    rev.free %w2 : f64
    rev.yield %p, %q, %t1 : f64, f64, f64
  } body {
  ^bb0(%p: f64, %q: f64, %t: f64):
    %q1 = rev.add %q, %t : f64
    rev.yield %p, %q1, %t : f64, f64, f64
  }
  rev.return %o#0, %o#1 : f64, f64
}
"""


def test_routine_whose_compute_frees_a_temporary():
    """The backward routine's compute (the inverse of a backward sweep) then
    holds a discard; the lowering inverts it back exactly."""
    dx, dy = grad(COMPUTE_TEMPORARY, "ct", output=1)(0.4, 0.2)
    assert rel_err([dx, dy], [math.sin(0.8), 1.0]) < EXACT_RTOL
    hx, _ = hvp(COMPUTE_TEMPORARY, "ct", output=1)(0.4, 0.2, v=[1.0, 0.0])
    assert rel_err(hx, 2 * math.cos(0.8)) < EXACT_RTOL
    p = Program(COMPUTE_TEMPORARY, grad=["ct"])
    out = p.call("ct_grad", 0.4, 0.2, 0.0, 1.0)
    assert rel_err(p.uncall("ct_grad", *out), (0.4, 0.2, 0.0, 1.0)) < 1e-12


NESTED = """
rev.func @nest(%x: f64, %y: f64, %A: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  %r:2 = rev.for %i = %c0 to %n step %c1 iter_args(%a = %x, %b = %y) -> (f64, f64) {
    %o:2 = rev.routine %a, %b : f64, f64 compute {
    ^bb0(%p: f64, %q: f64):
      %t0 = rev.alloc : f64
      %e = memref.load %A[%i] : memref<?xf64>
      %pe = arith.mulf %p, %e : f64
      %s = math.sin %pe : f64
      %t1 = rev.add %t0, %s : f64
      %u0 = rev.alloc init 1.0 : f64
      %u1 = rev.mul %u0, %t1 : f64
      rev.yield %p, %q, %t1, %u1 : f64, f64, f64, f64
    } body {
    ^bb0(%p: f64, %q: f64, %t: f64, %u: f64):
      %tu = arith.mulf %t, %u : f64
      %q1 = rev.add %q, %tu : f64
      rev.yield %p, %q1, %t, %u : f64, f64, f64, f64
    }
    %ct = math.cos %o#1 : f64
    %p1 = rev.add %o#0, %ct : f64
    %c = math.tanh %o#1 : f64
    rev.add_at %A[%i], %c : memref<?xf64>
    rev.yield %p1, %o#1 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
"""


def test_loop_of_routines_over_a_memref_to_second_order():
    A = np.array([0.3, -0.2, 0.5, 0.1])
    args = [0.4, 0.2, A]
    check_fd(NESTED, "nest", args)
    for output in (0, 1):
        d = Derivatives(NESTED, "nest", second_order=True)
        v = [0.3, -0.1, np.array([0.1, 0.0, -0.2, 0.05])]
        hv = d.hvp(*args, v=v, output=output)
        flat = np.concatenate([np.atleast_1d(np.asarray(a, dtype=np.float64)).ravel()
                               for a in hv])
        assert rel_err(flat, fd_of_gradient(d, args, v, output)) < FD_RTOL
    # reverse over reverse and the inverse of the gradient
    p = Program(NESTED, grad=["nest", "nest_grad"])
    A2, Ab = A.copy(), np.array([0.1, 0.2, 0.3, 0.4])
    Ab0 = Ab.copy()
    out = p.call("nest_grad", 0.4, 0.2, A2, 1.0, 0.5, Ab)
    back = p.uncall("nest_grad", *out[:2], A2, *out[2:], Ab)
    assert rel_err(back, (0.4, 0.2, 1.0, 0.5)) < 1e-12
    assert rel_err(A2, A) < 1e-12 and rel_err(Ab, Ab0) < 1e-12


CAPTURED = """
rev.func @h(%a: f64, %w: f64) -> (f64, f64) {
  %e = math.exp %w : f64
  %a1 = rev.mul %a, %e : f64
  rev.return %a1, %w : f64, f64
}
rev.func @cap(%x: f64, %y: f64, %z: f64, %k: i64) -> (f64, f64, f64, i64) {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c1 = arith.constant 1 : index
  %r:2 = rev.for %i = %c0 to %c3 step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %c:2 = rev.call @h(%a, %b) : (f64, f64) -> (f64, f64)
    %q:2 = rev.if %c#0, %c#1 : f64, f64 pre {
    ^bb0(%u: f64, %v: f64):
      %zero = arith.constant 0.0 : f64
      %cmp = arith.cmpf ogt, %x, %zero : f64
      rev.cond %cmp
    } then {
    ^bb0(%u: f64, %v: f64):
      %xx = arith.mulf %x, %u : f64
      %v1 = rev.add %v, %xx : f64
      rev.yield %u, %v1 : f64, f64
    } else {
    ^bb0(%u: f64, %v: f64):
      %xx = math.cos %x : f64
      %v1 = rev.sub %v, %xx : f64
      rev.yield %u, %v1 : f64, f64
    }
    rev.yield %q#0, %q#1 : f64, f64
  }
  %w:3 = rev.while %r#0, %r#1, %k : f64, f64, i64 pre {
  ^bb0(%a: f64, %b: f64, %n: i64):
    %lim = arith.constant 3 : i64
    %cmp = arith.cmpi slt, %n, %lim : i64
    rev.cond %cmp
  } do {
  ^bb0(%a: f64, %b: f64, %n: i64):
    %xs = arith.mulf %x, %x : f64
    %b1 = rev.add %b, %xs : f64
    %one = arith.constant 1 : i64
    %n1 = rev.add %n, %one : i64
    rev.yield %a, %b1, %n1 : f64, f64, i64
  } post {
  ^bb0(%a: f64, %b: f64, %n: i64):
    %zero = arith.constant 0 : i64
    %cmp = arith.cmpi sgt, %n, %zero : i64
    rev.cond %cmp
  }
  rev.return %x, %w#0, %w#1, %w#2 : f64, f64, f64, i64
}
"""


@pytest.mark.parametrize("x", [0.6, -0.5])
def test_regions_reading_outer_variables_and_calls_in_loops(x):
    """x is read (never threaded) inside a for, both branches of an if and a
    while: its adjoint is threaded through the backward region ops."""
    args = [x, 0.3, 0.2, 0]
    check_fd(CAPTURED, "cap", args)
    d = Derivatives(CAPTURED, "cap", second_order=True)
    for output in (1, 2):
        v = [0.3, -0.2, 0.5]
        assert rel_err(d.hvp(*args, v=v, output=output),
                       fd_of_gradient(d, args, v, output)) < FD_RTOL
    p = Program(CAPTURED, grad=["cap"])
    out = p.call("cap_grad", *args, 0.0, 1.0, 0.5)
    assert rel_err(p.uncall("cap_grad", *out), (*args, 0.0, 1.0, 0.5)) < 1e-12


# -- opt_level: O3 by default, passed through to the ExecutionEngine -----------
def _recording_engine(monkeypatch):
    """Replaces mlir_rev.jit.ExecutionEngine by a wrapper recording opt_level."""
    import mlir_rev.jit as jit
    seen = []
    real = jit.ExecutionEngine

    def engine(module, *, opt_level, shared_libs):
        seen.append(opt_level)
        return real(module, opt_level=opt_level, shared_libs=shared_libs)

    monkeypatch.setattr(jit, "ExecutionEngine", engine)
    return seen


@pytest.mark.parametrize("make", [
    lambda src, **kw: Program(src, grad=["besselj2"], **kw),
    lambda src, **kw: Derivatives(src, "besselj2", **kw),
    lambda src, **kw: grad(src, "besselj2", **kw),
    lambda src, **kw: vjp(src, "besselj2", **kw),
    lambda src, **kw: jacobian(src, "besselj2", **kw),
    lambda src, **kw: hvp(src, "besselj2", **kw),
])
def test_opt_level_default_3_and_passed_to_engine(monkeypatch, make):
    seen = _recording_engine(monkeypatch)
    src = example("besselj2.mlir")
    make(src)
    make(src, opt_level=0)
    make(src, opt_level=1)
    assert seen == [3, 0, 1]


@pytest.mark.parametrize("level", [-1, 4, 2.0, "3", None])
def test_ad_opt_level_validated(level):
    with pytest.raises(RevError, match="opt_level must be an integer in 0..3"):
        grad(example("besselj2.mlir"), "besselj2", opt_level=level)


def test_opt_level_0_and_3_same_derivatives():
    src = example("besselj2.mlir")
    x = 1.3
    res = {}
    for level in (0, 3):
        g = grad(src, "besselj2", output=1, opt_level=level)(x, 0.0)
        j = jacobian(src, "besselj2", opt_level=level)(x, 0.0)
        h = hvp(src, "besselj2", output=1, opt_level=level)(x, 0.0, v=[1.0, 0.0])
        res[level] = (np.asarray(g), np.asarray(j), np.asarray(h))
    for a, b in zip(res[0], res[3]):
        assert rel_err(a, b) <= EXACT_RTOL


def test_unroll_small_loops_and_noalias_keep_gradients():
    """The batched Bessel gradient (constant 29-term loops in its backward
    sweep) with and without --rev-unroll-small-loops and memref noalias."""
    with open(os.path.join(ROOT, "benchmarks", "besselj2_batched.mlir")) as f:
        src = f.read()
    xs = np.linspace(0.1, 5.0, 37)
    out = {}
    for trips, noalias in ((0, False), (None, True), (64, True), (None, False)):
        prog = Program(src, grad=["besselj2_batched"], unroll_max_trip_count=trips,
                       memref_noalias=noalias)
        g = prog.gradient_names["besselj2_batched"]
        X, Y = xs.copy(), np.zeros_like(xs)
        Xb, Yb = np.zeros_like(xs), np.ones_like(xs)
        prog.call(g, X, Y, Xb, Yb)
        Yp = np.zeros_like(xs)
        prog.call("besselj2_batched", xs.copy(), Yp)
        out[trips, noalias] = (Xb, Yp)
    for key in out:
        for a, b in zip(out[key], out[0, False]):
            assert rel_err(a, b) <= EXACT_RTOL
    # and the values against central differences of the primal
    h = 1e-6
    Yh, Yl = np.zeros_like(xs), np.zeros_like(xs)
    prog.call("besselj2_batched", xs + h, Yh)
    prog.call("besselj2_batched", xs - h, Yl)
    assert rel_err(out[0, False][0], (Yh - Yl) / (2 * h)) <= FD_RTOL


@pytest.mark.parametrize("trips", [-1, 2**31, 1.5, "8"])
def test_unroll_max_trip_count_validated(trips):
    with pytest.raises(RevError, match="unroll_max_trip_count must be None or an integer"):
        Program("", unroll_max_trip_count=trips)


@pytest.mark.parametrize("value", [2, "yes", None])
def test_memref_noalias_validated(value):
    with pytest.raises(RevError, match="memref_noalias must be True or False"):
        Program("", memref_noalias=value)

