"""Adjoint-only gradients (rev-ad's adjoint-only, the default;
Program(adjoint_only=)): where no adjoint update reads a value that the
function changes (a linear program whose coefficients are inactive),
@f_grad runs the adjoint updates alone, with neither the forward sweep nor
the uncomputation (transforms/AdjointOnly.cpp, docs/ad.md "Adjoint-only
gradients").

Every adjoint-only gradient must be bit-for-bit the plain one (the same
adjoint operations on the same values: the inputs), agree with an
independent reference (the Jacobian of a NumPy model, built column by
column from unit vectors, transposed: 1e-12 relative), leave the primal
arguments exactly as they came (the plain gradient restores them up to
rounding), and actually be used (Program.adjoint_only, the rev.adjoint_only
mark); programs whose adjoints read changed state keep both sweeps."""
import os
import subprocess

import numpy as np
import pytest

from mlir_rev import ad
from mlir_rev.jit import Program, RevError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REV_OPT = os.path.join(ROOT, "build", "bin", "rev-opt")
with open(os.path.join(ROOT, "examples", "leapfrog.mlir")) as f:
    LEAPFROG = f.read()
LEAPFROG_CONST = LEAPFROG.replace("%k: f64, %dt: f64", "%k: f64 {rev.const}, %dt: f64 {rev.const}")

# Two-array heat-equation stencil: V += c * laplacian(U), U += c * laplacian(V)
# on the interior, T times (linear in U, V; c constant).
STENCIL = """
rev.func @heat(%U: memref<?xf64>, %V: memref<?xf64>, %c: f64 {rev.const}, %T: index)
    -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %U, %c0 : memref<?xf64>
  %m = arith.subi %n, %c1 : index
  %two = arith.constant 2.0 : f64
  rev.for %t = %c0 to %T step %c1 {
    rev.for %i = %c1 to %m step %c1 {
      %im = arith.subi %i, %c1 : index
      %ip = arith.addi %i, %c1 : index
      %a = memref.load %U[%im] : memref<?xf64>
      %b = memref.load %U[%i] : memref<?xf64>
      %d = memref.load %U[%ip] : memref<?xf64>
      %s = arith.addf %a, %d : f64
      %b2 = arith.mulf %two, %b : f64
      %l = arith.subf %s, %b2 : f64
      %q = arith.mulf %c, %l : f64
      rev.add_at %V[%i], %q : memref<?xf64>
    }
    rev.for %i = %c1 to %m step %c1 {
      %im = arith.subi %i, %c1 : index
      %ip = arith.addi %i, %c1 : index
      %a = memref.load %V[%im] : memref<?xf64>
      %b = memref.load %V[%i] : memref<?xf64>
      %d = memref.load %V[%ip] : memref<?xf64>
      %s = arith.addf %a, %d : f64
      %b2 = arith.mulf %two, %b : f64
      %l = arith.subf %s, %b2 : f64
      %q = arith.mulf %c, %l : f64
      rev.sub_at %U[%i], %q : memref<?xf64>
    }
  }
  rev.return %c, %T : f64, index
}
"""


def heat_numpy(u, v, c, T):
    u, v = u.copy(), v.copy()
    for _ in range(T):
        v[1:-1] += c * ((u[:-2] + u[2:]) - 2.0 * u[1:-1])
        u[1:-1] -= c * ((v[:-2] + v[2:]) - 2.0 * v[1:-1])
    return u, v


def leapfrog_numpy(x, v, k, dt, T):
    x, v = x.copy(), v.copy()
    kh = k * dt * 0.5
    for _ in range(T):
        v -= kh * x
        x += v * dt
        v -= kh * x
    return x, v


def jacobian_t_seed(model, x, v, wx, wv):
    """(J^T [wx; wv]) of the linear map (x, v) -> model(x, v), column by column."""
    n = len(x)
    gx, gv = np.zeros(n), np.zeros(n)
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1.0
        a, b = model(e, np.zeros(n))
        gx[j] = a @ wx + b @ wv
        a, b = model(np.zeros(n), e)
        gv[j] = a @ wx + b @ wv
    return gx, gv


def rev_opt(src, *flags):
    return subprocess.run([REV_OPT, *flags], input=src, capture_output=True, text=True,
                          check=True).stdout


def call_grad(p, name, x, v, scalars, wx, wv):
    """@name_grad on copies of x, v with shadows seeded wx, wv; returns
    (x after, v after, xbar, vbar, scalar results)."""
    g = p.gradient_names[name]
    X, V, XB, VB = x.copy(), v.copy(), wx.copy(), wv.copy()
    nadj = sum(isinstance(s, float) for s in scalars)
    res = p.call(g, X, V, *scalars, *([0.0] * nadj), XB, VB)
    return X, V, XB, VB, res


CASES = {
    "leapfrog": (LEAPFROG_CONST, "leapfrog", lambda T: [0.7, 0.05, T], leapfrog_numpy),
    "heat": (STENCIL, "heat", lambda T: [0.2, T], heat_numpy),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("T", [0, 1, 7])
def test_equals_plain_and_reference(case, T):
    src, name, scalars, model = CASES[case]
    rng = np.random.default_rng(3)
    n = 9
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    wx, wv = rng.standard_normal(n), rng.standard_normal(n)
    only = Program(src, grad=[name])
    plain = Program(src, grad=[name], adjoint_only=False)
    assert only.gradient_names[name] in only.adjoint_only
    assert plain.gradient_names[name] not in plain.adjoint_only
    a = call_grad(only, name, x, v, scalars(T), wx, wv)
    b = call_grad(plain, name, x, v, scalars(T), wx, wv)
    # bit-for-bit the plain gradient
    assert np.array_equal(a[2], b[2]) and np.array_equal(a[3], b[3])
    # the primal arguments untouched (the plain gradient: restored up to rounding)
    assert np.array_equal(a[0], x) and np.array_equal(a[1], v)
    np.testing.assert_allclose(b[0], x, rtol=1e-12, atol=1e-12)
    # the scalar results are the inputs
    assert list(a[4][:len(scalars(T))]) == scalars(T)
    # an independent reference: J^T w of the NumPy model
    s = scalars(T)
    rx, rv = jacobian_t_seed(lambda p, q: model(p, q, *s), x, v, wx, wv)
    scale = max(1.0, np.max(np.abs(np.concatenate([rx, rv]))))
    np.testing.assert_allclose(a[2], rx, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(a[3], rv, rtol=0, atol=1e-12 * scale)


def test_leapfrog_wrt_uses_it_and_vjp_returns_outputs():
    """wrt=(0, 1) marks k and dt rev.const: the gradient is adjoint-only;
    vjp still returns f's outputs (its final arrays), and both agree with
    the plain gradient bit for bit."""
    rng = np.random.default_rng(5)
    n, T = 16, 25
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    wx, wv = rng.standard_normal(n), rng.standard_normal(n)
    d = ad.Derivatives(LEAPFROG, "leapfrog", wrt=(0, 1))
    dp = ad.Derivatives(LEAPFROG, "leapfrog", wrt=(0, 1), adjoint_only=False)
    assert d.grad_name in d.program.adjoint_only
    outs, (gx, gv) = d.vjp([x, v, 0.9, 0.02, T], [0.0, 0.0], [wx, wv])
    outs_p, (px, pv) = dp.vjp([x, v, 0.9, 0.02, T], [0.0, 0.0], [wx, wv])
    assert np.array_equal(gx, px) and np.array_equal(gv, pv)
    fx, fv = leapfrog_numpy(x, v, 0.9, 0.02, T)
    np.testing.assert_allclose(outs[3], fx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(outs[4], fv, rtol=1e-12, atol=1e-12)
    for o, q in zip(outs, outs_p):
        assert np.array_equal(np.asarray(o), np.asarray(q))
    rx, rv = jacobian_t_seed(lambda p, q: leapfrog_numpy(p, q, 0.9, 0.02, T), x, v, wx, wv)
    np.testing.assert_allclose(gx, rx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gv, rv, rtol=1e-12, atol=1e-12)


def test_active_coefficients_keep_both_sweeps():
    """k and dt active: their adjoints read X and V, so both sweeps stay; the
    gradient still matches central differences."""
    d = ad.Derivatives(LEAPFROG, "leapfrog")
    assert d.grad_name not in d.program.adjoint_only
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    T, k, dt = 6, 0.8, 0.1
    _, grads = d.vjp([x, v, k, dt, T], [0.0, 0.0], [np.ones(5), np.ones(5)])
    f = lambda kk: sum(np.sum(a) for a in leapfrog_numpy(x, v, kk, dt, T))
    h = 1e-6
    np.testing.assert_allclose(grads[0], (f(k + h) - f(k - h)) / (2 * h), rtol=1e-6)


def test_checked_mode_runs_both_sweeps():
    """checks=True keeps the forward run (f's own checks run); same gradient."""
    rng = np.random.default_rng(2)
    x, v = rng.standard_normal(6), rng.standard_normal(6)
    wx, wv = np.ones(6), np.ones(6)
    checked = Program(LEAPFROG_CONST, grad=["leapfrog"], checks=True)
    only = Program(LEAPFROG_CONST, grad=["leapfrog"])
    assert not checked.adjoint_only
    a = call_grad(checked, "leapfrog", x, v, [0.7, 0.05, 4], wx, wv)
    b = call_grad(only, "leapfrog", x, v, [0.7, 0.05, 4], wx, wv)
    np.testing.assert_allclose(a[2], b[2], rtol=1e-14)
    np.testing.assert_allclose(a[3], b[3], rtol=1e-14)


def test_rev_opt_forms():
    """The mark and the absence of primal updates, through rev-opt; the
    option switches it off."""
    out = rev_opt(STENCIL, "--rev-ad")
    grad = out[out.index("@heat_grad("):out.index("@heat_bwd(")]
    assert "rev.adjoint_only" in grad and "rev.call" not in grad
    assert "rev.sub_at %arg0" not in grad and "rev.add_at %arg1" not in grad
    off = rev_opt(STENCIL, "--rev-ad=adjoint-only=0")
    grad = off[off.index("@heat_grad("):off.index("@heat_bwd(")]
    assert "rev.adjoint_only" not in grad and "rev.call @heat(" in grad


@pytest.mark.parametrize("seed", range(6))
def test_random_linear_programs(seed):
    """Random sequences of shifted, scaled updates between two arrays (the
    coefficients constant arguments), in a time loop: adjoint-only == plain
    bit for bit, == the NumPy model's J^T w."""
    rng = np.random.default_rng(100 + seed)
    n, T = 11, 3
    steps = []
    body = []
    for s in range(int(rng.integers(2, 6))):
        tgt = int(rng.integers(0, 2))
        shift = int(rng.integers(-2, 3))
        sign = "add" if rng.random() < 0.5 else "sub"
        steps.append((tgt, shift, sign))
        T_, S_ = ("%A", "%B") if tgt == 0 else ("%B", "%A")
        body.append(f"""
    rev.for %i{s} = %c2 to %m step %c1 {{
      %j{s} = arith.addi %i{s}, %sh{s} : index
      %x{s} = memref.load {S_}[%j{s}] : memref<?xf64>
      %q{s} = arith.mulf %a, %x{s} : f64
      rev.{sign}_at {T_}[%i{s}], %q{s} : memref<?xf64>
    }}""")
    shifts = "\n".join(f"  %sh{s} = arith.constant {sh} : index" if sh >= 0 else
                       f"  %shn{s} = arith.constant {-sh} : index\n"
                       f"  %sh{s} = arith.subi %c0, %shn{s} : index"
                       for s, (_, sh, _) in enumerate(steps))
    src = f"""
rev.func @lin(%A: memref<?xf64>, %B: memref<?xf64>, %a: f64 {{rev.const}}, %T: index)
    -> (f64, index) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  %m = arith.subi %n, %c2 : index
{shifts}
  rev.for %t = %c0 to %T step %c1 {{{''.join(body)}
  }}
  rev.return %a, %T : f64, index
}}
"""

    def model(A, B, a, T):
        A, B = A.copy(), B.copy()
        for _ in range(T):
            for tgt, shift, sign in steps:
                t, s = (A, B) if tgt == 0 else (B, A)
                for i in range(2, n - 2):
                    t[i] += (1 if sign == "add" else -1) * (a * s[i + shift])
        return A, B

    x, v = rng.standard_normal(n), rng.standard_normal(n)
    wx, wv = rng.standard_normal(n), rng.standard_normal(n)
    only = Program(src, grad=["lin"])
    plain = Program(src, grad=["lin"], adjoint_only=False)
    assert only.gradient_names["lin"] in only.adjoint_only
    a = call_grad(only, "lin", x, v, [0.3, T], wx, wv)
    b = call_grad(plain, "lin", x, v, [0.3, T], wx, wv)
    assert np.array_equal(a[2], b[2]) and np.array_equal(a[3], b[3])
    assert np.array_equal(a[0], x) and np.array_equal(a[1], v)
    rx, rv = jacobian_t_seed(lambda p, q: model(p, q, 0.3, T), x, v, wx, wv)
    np.testing.assert_allclose(a[2], rx, rtol=0, atol=1e-12 * max(1, np.abs(rx).max()))
    np.testing.assert_allclose(a[3], rv, rtol=0, atol=1e-12 * max(1, np.abs(rv).max()))


def test_bad_flag():
    with pytest.raises(RevError, match="adjoint_only"):
        Program(STENCIL, grad=["heat"], adjoint_only="yes")


SELECT_ALIAS = open(os.path.join(ROOT, "test", "transforms", "ad-adjoint-only.mlir")).read()


def test_memref_through_select_keeps_both_sweeps():
    """f adds 1 to A[0], then branches on A[0] read through select(true, A, C):
    the branch is taken, so dC[2] = c. The select may name a written argument,
    so the gradient is not adjoint-only (it was, wrongly, before the review),
    and both settings agree with f's branch."""
    src = SELECT_ALIAS[SELECT_ALIAS.index("rev.func @through_select("):]
    for ao in (True, False):
        p = Program(src, grad=["through_select"], adjoint_only=ao)
        assert not p.adjoint_only
        A, B, C = np.zeros(3), np.zeros(3), np.array([0.0, 0.0, 3.0])
        Ab, Bb, Cb = np.zeros(3), np.ones(3), np.zeros(3)
        p.call(p.gradient_names["through_select"], A, B, C, 2.0, 0.0, Ab, Bb, Cb)
        assert Cb.tolist() == [0.0, 0.0, 2.0]
