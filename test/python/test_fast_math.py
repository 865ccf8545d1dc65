"""fast_math= (rev-to-llvm's fast-math, --rev-fast-math): off by default,
validated, passed through by Program and every mlir_rev.ad function; the
derivatives with fast-math flags agree with the exact ones within stated
tolerances, and the default is exact (no flag reaches the compiled code)."""
import os

import numpy as np
import pytest

from mlir_rev.ad import Derivatives, grad, hvp, jacobian, vjp
from mlir_rev.jit import Program, RevError

from test_ad import besselj_series, coupled_reference, example, rel_err

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Tolerances (rel_err: max abs difference over max(1, max |reference|)).
# arcp changes the rounding of each division it turns into a multiplication by
# a reciprocal (about 1 ulp each); fast also reassociates and contracts.
ARCP_RTOL = 1e-12
FAST_RTOL = 1e-10


def batched_bessel():
    with open(os.path.join(ROOT, "benchmarks", "besselj2_batched.mlir")) as f:
        return f.read()


def batched_gradient(fast_math, xs, **kw):
    p = Program(batched_bessel(), grad=["besselj2_batched"], **kw) if fast_math is None else \
        Program(batched_bessel(), grad=["besselj2_batched"], fast_math=fast_math, **kw)
    g = p.gradient_names["besselj2_batched"]
    ys, xbar = np.zeros_like(xs), np.zeros_like(xs)
    p.call(g, xs, ys, xbar, np.ones_like(xs))
    return p, ys, xbar


def test_default_is_exact_and_the_same_as_none():
    xs = np.random.default_rng(3).uniform(0.1, 12.0, 1000)
    p_default, y_default, g_default = batched_gradient(None, xs)
    p_none, y_none, g_none = batched_gradient("none", xs)
    # no fast-math flag anywhere in the lowered module, and bit-identical results
    assert "fastmath" not in str(p_default.module)
    assert str(p_default.module) == str(p_none.module)
    assert np.array_equal(y_default, y_none) and np.array_equal(g_default, g_none)


@pytest.mark.parametrize("fm,flag", [("arcp", "arcp"), ("contract", "contract"),
                                     ("fast", "fast")])
def test_flags_reach_the_lowered_module(fm, flag):
    p, _, _ = batched_gradient(fm, np.array([1.0]))
    text = str(p.module)
    assert f"llvm.fdiv" in text
    assert f"#llvm.fastmath<{flag}>" in text


@pytest.mark.parametrize("fm,tol", [("arcp", ARCP_RTOL), ("contract", FAST_RTOL),
                                    ("fast", FAST_RTOL)])
def test_batched_bessel_gradient_close_to_exact(fm, tol):
    xs = np.random.default_rng(0).uniform(0.1, 12.0, 10_000)
    _, y0, g0 = batched_gradient("none", xs)
    _, y1, g1 = batched_gradient(fm, xs)
    assert rel_err(y1, y0) < tol
    assert rel_err(g1, g0) < tol
    # and against the independent series for J_2' = (J_1 - J_3) / 2
    for i in range(0, 10_000, 997):
        x = xs[i]
        exact = 0.5 * (besselj_series(1, x) - besselj_series(3, x))
        assert abs(g1[i] - exact) < 1e-10 * max(1.0, abs(exact)), (fm, x, g1[i], exact)


@pytest.mark.parametrize("fm,tol", [("arcp", ARCP_RTOL), ("contract", FAST_RTOL),
                                    ("fast", FAST_RTOL)])
def test_bessel_example_and_coupled_recurrence_close_to_exact(fm, tol):
    b = example("besselj2.mlir")
    g0, g1 = grad(b, "besselj2", output=1), grad(b, "besselj2", output=1, fast_math=fm)
    for x in (0.5, 1.7, 4.2):
        assert rel_err(g1(x, 0.0), g0(x, 0.0)) < tol
    c = example("coupled.mlir")
    xs = np.random.default_rng(7).uniform(-0.01, 0.01, 10_000)
    e = grad(c, "coupled", output=0)(0.3, -0.2, xs)
    f = grad(c, "coupled", output=0, fast_math=fm)(0.3, -0.2, xs)
    for a, r in zip(f, e):
        assert rel_err(a, r) < tol
    ry, rz, rX = coupled_reference(0.3, -0.2, xs)
    assert rel_err([f[0], f[1]], [ry, rz]) < tol and rel_err(f[2], rX) < tol


@pytest.mark.parametrize("make", [
    lambda src, **kw: Program(src, grad=["besselj2"], **kw),
    lambda src, **kw: Derivatives(src, "besselj2", **kw),
    lambda src, **kw: grad(src, "besselj2", **kw),
    lambda src, **kw: vjp(src, "besselj2", **kw),
    lambda src, **kw: jacobian(src, "besselj2", **kw),
    lambda src, **kw: hvp(src, "besselj2", **kw),
])
@pytest.mark.parametrize("bad", ["ARCP", "bogus", "arcp,contract", "arcp memref-noalias=0",
                                 "", None, 1, True, ("arcp",)])
def test_bad_fast_math_is_rev_error(make, bad):
    with pytest.raises(RevError, match="fast_math must be one of"):
        make(example("besselj2.mlir"), fast_math=bad)


def test_fast_math_passed_through_by_ad_functions():
    src = example("besselj2.mlir")
    assert "#llvm.fastmath<arcp>" in str(Derivatives(src, "besselj2", fast_math="arcp")
                                         .program.module)
    assert "fastmath" not in str(Derivatives(src, "besselj2").program.module)
    h0 = hvp(src, "besselj2", output=1)(1.3, 0.0, v=[1.0, 0.0])
    h1 = hvp(src, "besselj2", output=1, fast_math="fast")(1.3, 0.0, v=[1.0, 0.0])
    assert rel_err(h1, h0) < FAST_RTOL


@pytest.mark.parametrize("fm", ["arcp", "fast"])
def test_checked_mode_with_fast_math(fm):
    src = example("besselj2.mlir")
    g0 = grad(src, "besselj2", output=1)(1.7, 0.0)
    g1 = grad(src, "besselj2", output=1, checks=True, fast_math=fm)(1.7, 0.0)
    assert rel_err(g1, g0) < FAST_RTOL
