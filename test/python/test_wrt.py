"""`wrt=`: the differentiated inputs picked by argument position, like JAX's
argnums (mlir_rev.ad, the front end's `.grad`).

References: closed forms (1e-12 relative error) and the full gradient of the
unmarked program (the selected entries agree to 1e-12 relative error: the
same arithmetic minus the dropped adjoint sums)."""
import math

import numpy as np
import pytest

from mlir_rev import frontend as rev
from mlir_rev.ad import Derivatives, _mark_constants, grad, hvp, jacobian, vjp
from mlir_rev.jit import RevError
from test_ad import example, rel_err

# y += k sin(x); A[0] += k y. Scalar results (x, y, k, n); outputs y and A.
SRC = """
rev.func @f(%x: f64, %y: f64, %k: f64, %A: memref<?xf64>, %n: index)
    -> (f64, f64, f64, index) {
  %c0 = arith.constant 0 : index
  %s = math.sin %x : f64
  %d = arith.mulf %k, %s : f64
  %y1 = rev.add %y, %d : f64
  %e = arith.mulf %k, %y1 : f64
  rev.add_at %A[%c0], %e : memref<?xf64>
  rev.return %x, %y1, %k, %n : f64, f64, f64, index
}
"""
X, Y, K = 0.7, -0.4, 1.9


def a0():
    return np.array([0.5, 2.0, -1.0])


def test_one_input_comes_back_alone_and_the_rest_is_marked_constant():
    d = Derivatives(SRC, "f", wrt=0)
    assert d.marked == [2]  # k is returned unchanged; y is updated, x selected
    g = d.gradient(X, Y, K, a0(), 3, output=1)
    assert isinstance(g, float)
    assert abs(g - K * math.cos(X)) < 1e-12
    g = grad(SRC, "f", output=1, wrt=2)(X, Y, K, a0(), 3)
    assert abs(g - math.sin(X)) < 1e-12


def test_a_sequence_gives_a_tuple_in_its_order():
    g = grad(SRC, "f", output=1, wrt=(2, 0, 1))(X, Y, K, a0(), 3)
    assert isinstance(g, tuple) and len(g) == 3
    np.testing.assert_allclose(g, [math.sin(X), K * math.cos(X), 1.0], rtol=1e-12)
    # memref output A[0] = A0[0] + k (y + k sin x): d/dA, d/dx, d/dk
    out = (3, 0)
    gA, gx, gk = grad(SRC, "f", output=out, wrt=[3, 0, 2])(X, Y, K, a0(), 3)
    np.testing.assert_array_equal(gA, [1.0, 0.0, 0.0])
    assert abs(gx - K * K * math.cos(X)) < 1e-12
    assert abs(gk - (Y + 2 * K * math.sin(X))) < 1e-12


def test_selected_entries_equal_the_full_gradient():
    full = grad(SRC, "f", output=(3, 0))(X, Y, K, a0(), 3)  # (x, y, k, A)
    for wrt in (0, 1, 2, 3, (1, 3), (3, 2, 1, 0)):
        g = grad(SRC, "f", output=(3, 0), wrt=wrt)(X, Y, K, a0(), 3)
        idx = [wrt] if isinstance(wrt, int) else list(wrt)
        want = [full[i] for i in idx]
        got = [g] if isinstance(wrt, int) else list(g)
        for a, b in zip(got, want):
            assert rel_err(a, b) < 1e-12


def test_vjp_and_jacobian_select_too():
    seeds = ([0.3, -1.1, 0.7], [np.array([1.0, 2.0, 3.0])])
    outs, full = vjp(SRC, "f")((X, Y, K, a0(), 3), *seeds)
    outs2, part = vjp(SRC, "f", wrt=(1, 3))((X, Y, K, a0(), 3), *seeds)
    assert rel_err(part[0], full[1]) < 1e-12 and rel_err(part[1], full[3]) < 1e-12
    J = jacobian(SRC, "f")(X, Y, K, a0(), 3)  # columns x, y, k, A[0..2]
    Jw = jacobian(SRC, "f", wrt=(3, 0))(X, Y, K, a0(), 3)
    np.testing.assert_array_equal(Jw, J[:, [3, 4, 5, 0]])


def test_leapfrog_positions_only():
    """examples/leapfrog.mlir: wrt the memrefs X, V marks k and dt constant."""
    src = example("leapfrog.mlir")
    rng = np.random.default_rng(3)
    n = 40
    Xs, Vs = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    wX, wV = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    args = (Xs, Vs, 1.3, 0.01, 100)
    _, full = vjp(src, "leapfrog")(args, [0.0, 0.0], [wX, wV])
    d = Derivatives(src, "leapfrog", wrt=(0, 1))
    assert d.marked == [2, 3]
    marked, _, _ = _mark_constants(src, "leapfrog", (0, 1))
    assert "%arg2: f64 {rev.const}, %arg3: f64 {rev.const}, %arg4: index" in str(marked)
    assert "rev.const" not in src
    _, (dX, dV) = d.vjp(args, [0.0, 0.0], [wX, wV])
    assert rel_err(dX, full[2]) < 1e-12 and rel_err(dV, full[3]) < 1e-12


def test_a_function_called_inside_the_module_is_not_marked():
    src = SRC + """
rev.func @g(%x: f64, %y: f64, %k: f64, %A: memref<?xf64>, %n: index)
    -> (f64, f64, f64, index) {
  %r:4 = rev.call @f(%x, %y, %k, %A, %n)
      : (f64, f64, f64, memref<?xf64>, index) -> (f64, f64, f64, index)
  rev.return %r#0, %r#1, %r#2, %r#3 : f64, f64, f64, index
}
"""
    d = Derivatives(src, "f", wrt=0)
    assert d.marked == []
    assert abs(d.gradient(X, Y, K, a0(), 3, output=1) - K * math.cos(X)) < 1e-12


@pytest.mark.parametrize("wrt, msg", [
    (5, "out of range"), (-1, "out of range"), (4, "not a float scalar or float memref"),
    ((), "empty"), ((0, 0), "twice"), ("x", "integers"), (1.5, "argument position"),
    ([0, 1.0], "integers")])
def test_bad_wrt_is_a_rev_error(wrt, msg):
    with pytest.raises(RevError, match=msg):
        grad(SRC, "f", wrt=wrt)


def test_wrt_with_hessian_vector_products_is_a_rev_error():
    with pytest.raises(RevError, match="second_order"):
        hvp(SRC, "f", wrt=0)


@rev.reversible
def sweep(x: float, y: float, k: float):
    y += k * x * x


def test_front_end_grad_takes_wrt():
    assert sweep.grad(1.5, 2.0, 3.0, output=1, wrt=0) == pytest.approx(2 * 3.0 * 1.5,
                                                                       rel=1e-12)
    assert sweep.grad(1.5, 2.0, 3.0, output=1, wrt=[2, 1]) == pytest.approx((2.25, 1.0),
                                                                            rel=1e-12)
    assert rev.grad(sweep, output=1, wrt=2)(1.5, 2.0, 3.0) == pytest.approx(2.25, rel=1e-12)
    assert sweep.derivatives(wrt=0).marked == [2]


READS = """
rev.func @weighted(%y: f64, %X: memref<?xf64>, %W: memref<?xf64>, %Out: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%a = %y) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %w = memref.load %W[%i] : memref<?xf64>
    %s = math.sin %x : f64
    %t = arith.mulf %s, %w : f64
    %a1 = rev.add %a, %t : f64
    rev.add_at %Out[%i], %t : memref<?xf64>
    rev.yield %a1 : f64
  }
  rev.return %r : f64
}
"""


def test_read_only_memrefs_outside_wrt_are_marked_constant():
    """A float memref outside wrt that the function only reads is marked
    rev.const (no adjoint into its shadow); one it writes (Out) is not; the
    selected gradients equal the unmarked program's (1e-12)."""
    rng = np.random.default_rng(8)
    n = 30
    args = (0.4, rng.uniform(-1, 1, n), rng.uniform(-1, 1, n), np.zeros(n))
    seeds = ([1.0], [np.zeros(n), np.zeros(n), rng.uniform(-1, 1, n)])
    _, full = vjp(READS, "weighted")(args, *seeds)
    d = Derivatives(READS, "weighted", wrt=(0, 2))
    assert d.marked == [1]
    marked, _, _ = _mark_constants(READS, "weighted", (0, 2))
    assert "%arg1: memref<?xf64> {rev.const}, %arg2: memref<?xf64>, %arg3: memref<?xf64>)" in \
        str(marked)
    _, (dy, dW) = d.vjp(args, *seeds)
    assert abs(dy - full[0]) <= 1e-12 * abs(full[0])
    assert rel_err(dW, full[2]) < 1e-12
    d = Derivatives(READS, "weighted", wrt=1)
    assert d.marked == [2]  # y is updated (stays active), Out is written
    _, dX = d.vjp(args, *seeds)
    assert rel_err(dX, full[1]) < 1e-12
