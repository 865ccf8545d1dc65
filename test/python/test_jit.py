"""The Python runtime: build or parse rev programs, run them both ways."""
import os

import numpy as np
import pytest

from mlir_rev import ir
from mlir_rev.dialects import arith, math, memref, rev
from mlir_rev.jit import Program, RevError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "examples", "leapfrog.mlir")) as f:
    LEAPFROG = f.read()


def leapfrog_numpy(x, v, k, dt, steps):
    x, v = x.copy(), v.copy()
    for _ in range(steps):
        v -= 0.5 * k * dt * x
        x += v * dt
        v -= 0.5 * k * dt * x
    return x, v


def test_parsed_program_forward_matches_numpy_and_inverse_restores():
    prog = Program(LEAPFROG)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(5)
    v0 = rng.standard_normal(5)
    X, V = x0.copy(), v0.copy()
    out = prog.call("leapfrog", X, V, 2.0, 0.01, 500)
    assert out == (2.0, 0.01, 500)
    xr, vr = leapfrog_numpy(x0, v0, 2.0, 0.01, 500)
    np.testing.assert_allclose(X, xr, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(V, vr, rtol=1e-12, atol=1e-12)
    back = prog.uncall("leapfrog", X, V, *out)
    assert back == (2.0, 0.01, 500)
    np.testing.assert_allclose(X, x0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(V, v0, rtol=0, atol=1e-12)
    # Compiled once, called many times.
    for _ in range(3):
        prog.call("leapfrog", X, V, 2.0, 0.01, 10)


def build_series_module():
    """f(x, s, A): for i in [0, n): A[i] += x * i; s += sin(x) * 2; s *= 1.5.

    Built with the generated Python op builders.
    """
    f64 = ir.F64Type.get()
    index = ir.IndexType.get()
    dyn = ir.ShapedType.get_dynamic_size()
    mem = ir.MemRefType.get([dyn], f64)
    module = ir.Module.create()
    with ir.InsertionPoint(module.body):
        ftype = ir.FunctionType.get([f64, f64, mem], [f64, f64])
        func = rev.FuncOp("f", ir.TypeAttr.get(ftype))
        entry = ir.Block.create_at_start(func.body, [f64, f64, mem])
        x, s, A = entry.arguments
        with ir.InsertionPoint(entry):
            c0 = arith.ConstantOp(index, 0).result
            c1 = arith.ConstantOp(index, 1).result
            n = memref.DimOp(A, c0).result
            loop = rev.ForOp([], c0, n, c1, [])
            body = ir.Block.create_at_start(loop.body, [index])
            with ir.InsertionPoint(body):
                i = body.arguments[0]
                ii = arith.IndexCastOp(ir.IntegerType.get_signless(64), i).result
                fi = arith.SIToFPOp(f64, ii).result
                d = arith.MulFOp(x, fi).result
                rev.AddAtOp(A, [i], d)
                rev.YieldOp([])
            sx = math.SinOp(x).result
            two = arith.ConstantOp(f64, 2.0).result
            d2 = arith.MulFOp(sx, two).result
            s1 = rev.AddOp(s, d2).result
            k = arith.ConstantOp(f64, 1.5).result
            s2 = rev.MulOp(s1, k).result
            rev.ReturnOp([x, s2])
    return module


def test_python_builders_build_a_program_that_runs_both_ways():
    with ir.Context(), ir.Location.unknown():
        module = build_series_module()
        assert module.operation.verify()
        text = str(module)
    assert "rev.for" in text and "rev.add_at" in text
    prog = Program(text)
    A = np.arange(6, dtype=np.float64)
    A0 = A.copy()
    x, s = prog.call("f", 0.7, 1.25, A)
    np.testing.assert_allclose(A, A0 + 0.7 * np.arange(6), rtol=1e-15)
    assert s == pytest.approx((1.25 + 2 * np.sin(0.7)) * 1.5, rel=1e-15)
    x0, s0 = prog.uncall("f", x, s, A)
    assert x0 == 0.7 and s0 == pytest.approx(1.25, rel=1e-15)
    np.testing.assert_allclose(A, A0, rtol=0, atol=1e-15)


def test_invalid_ir_raises_with_location():
    with pytest.raises(RevError, match=r"invalid rev program:\n.*\"-\":2:18.*expected"):
        Program("rev.func @f(%x: f64) -> f64 {\n  %y = rev.add %x\n  rev.return %y : f64\n}")


def test_unknown_op_raises():
    with pytest.raises(RevError, match="rev.frobnicate"):
        Program("rev.func @f(%x: f64) -> f64 {\n  %y = rev.frobnicate %x : f64\n  rev.return %y : f64\n}")


def test_verifier_failure_raises_with_the_diagnostic():
    src = """rev.func @f(%y: f64) -> f64 {
  %s = math.sin %y : f64
  %y1 = rev.add %y, %s : f64
  rev.return %y1 : f64
}"""
    with pytest.raises(RevError, match="not reversible in place"):
        Program(src)


def test_irreversible_program_raises():
    src = """rev.func @f(%A: memref<2xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  memref.store %x, %A[%c0] : memref<2xf64>
  rev.return %x : f64
}"""
    with pytest.raises(RevError, match="is not reversible"):
        Program(src)


def test_wrong_arguments_raise():
    prog = Program(LEAPFROG)
    X = np.zeros(3)
    with pytest.raises(RevError, match="takes 5 arguments"):
        prog.call("leapfrog", X, X, 1.0)
    with pytest.raises(RevError, match="dtype float64"):
        prog.call("leapfrog", X.astype(np.float32), X, 1.0, 0.1, 3)
    with pytest.raises(RevError, match="shape"):
        prog.call("leapfrog", np.zeros((2, 2)), X, 1.0, 0.1, 3)
    with pytest.raises(RevError, match="must be a NumPy array"):
        prog.call("leapfrog", [1.0, 2.0], X, 1.0, 0.1, 3)
    with pytest.raises(RevError, match="must be an integer"):
        prog.call("leapfrog", X, X.copy(), 1.0, 0.1, 2.5)
    with pytest.raises(RevError, match="must be a number"):
        prog.call("leapfrog", X, X.copy(), "one", 0.1, 2)
    with pytest.raises(RevError, match="no rev.func named @nope"):
        prog.call("nope")
