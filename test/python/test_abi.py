"""The ABI of generated functions comes from the compiler (mlir_rev.abi), and a
built module compiles without a text round trip (its locations are kept)."""

import numpy as np
import pytest

from mlir_rev import abi, ir
from mlir_rev.dialects import arith, math, rev
from mlir_rev.jit import Program, RevError


def test_marker_names_come_from_the_compiler():
    assert abi.MARKERS == {"inverse": "rev.inverse_of", "backward": "rev.backward_of",
                           "gradient": "rev.gradient_of", "tangent": "rev.tangent_of"}
    # ... and they are the attributes the passes put on generated functions.
    p = Program("""
      rev.func @f(%x: f64) -> f64 {
        %c = arith.constant 2.0 : f64
        %x1 = rev.mul %x, %c : f64
        rev.return %x1 : f64
      }""", grad=["f"], fwd=["f"])
    assert p.gradient_names == {"f": "f_grad"}
    assert p.backward_names == {"f": "f_bwd"}
    assert p.tangent_names == {"f": "f_fwd"}
    assert p.inverse_names["f"] == "f_inv"


def test_derivative_layout_comes_from_the_compiler():
    with ir.Context(), ir.Location.unknown():
        f64, i64 = ir.F64Type.get(), ir.IntegerType.get_signless(64)
        dyn = ir.ShapedType.get_dynamic_size()
        mem = ir.MemRefType.get([dyn], f64)
        imem = ir.MemRefType.get([dyn], i64)
        ftype = ir.FunctionType.get([mem, f64, i64, imem, f64], [f64, i64, f64])
        # adjoints of the float scalars first, then the float memref's shadow
        assert abi.derivative_arg_positions(ftype) == [7, 5, -1, -1, 6]
    assert abi.with_derivatives([7, 5, -1, -1, 6], ["A", 1.0, 2, "N", 3.0],
                                {0: "Abar", 1: "xbar", 4: "ybar"}) == \
        ["A", 1.0, 2, "N", 3.0, "xbar", "ybar", "Abar"]


def test_gradients_use_the_layout_with_memrefs_first():
    """A float memref before the scalars: the adjoints still land where the
    compiler's layout puts them (checked against the closed form)."""
    src = """
      rev.func @f(%A: memref<3xf64>, %x: f64, %k: i64) -> (f64, i64) {
        %c0 = arith.constant 0 : index
        %a = memref.load %A[%c0] : memref<3xf64>
        %s = math.sin %a : f64
        %x1 = rev.add %x, %s : f64
        rev.return %x1, %k : f64, i64
      }"""
    from mlir_rev.ad import grad
    g = grad(src, "f", output=0)
    A = np.array([0.3, 1.0, 2.0])
    dx, dA = g(A, 0.5, 7)  # scalars first, then memrefs (docs/ad.md)
    assert dx == pytest.approx(1.0)
    np.testing.assert_allclose(dA, [np.cos(0.3), 0.0, 0.0], rtol=1e-14)


def _module_with_floor(loc):
    """f(x, y): y += floor(x), the floor at `loc` (no derivative rule)."""
    f64 = ir.F64Type.get()
    module = ir.Module.create()
    with ir.InsertionPoint(module.body):
        ftype = ir.FunctionType.get([f64, f64], [f64, f64])
        func = rev.FuncOp("f", ir.TypeAttr.get(ftype))
        entry = ir.Block.create_at_start(func.body, [f64, f64])
        x, y = entry.arguments
        with ir.InsertionPoint(entry):
            fl = math.FloorOp(x, loc=loc).result
            y1 = rev.AddOp(y, fl).result
            rev.ReturnOp([x, y1])
    return module


def test_a_built_module_keeps_its_locations():
    with ir.Context(), ir.Location.unknown():
        loc = ir.Location.file("user_model.py", 42, 7)
        module = _module_with_floor(loc)
        # Forwards it compiles and runs (in the module's own context).
        p = Program(module)
        assert p.call("f", 2.5, 1.0) == (2.5, 3.0)
        # The error from differentiating points at the builder's location.
        with pytest.raises(RevError, match=r"user_model.py.*:42:7.*no derivative rule"):
            Program(module, grad=["f"])
        # The source module is not modified.
        assert "rev.gradient_of" not in str(module)


def test_a_built_invalid_module_is_a_rev_error():
    with ir.Context(), ir.Location.unknown():
        f64 = ir.F64Type.get()
        module = ir.Module.create()
        with ir.InsertionPoint(module.body):
            ftype = ir.FunctionType.get([f64], [f64])
            func = rev.FuncOp("f", ir.TypeAttr.get(ftype))
            entry = ir.Block.create_at_start(func.body, [f64])
            with ir.InsertionPoint(entry):
                c = arith.ConstantOp(f64, 1.0).result
                x1 = rev.AddOp(entry.arguments[0], entry.arguments[0]).result
                rev.ReturnOp([x1])
        with pytest.raises(RevError, match="delta is computed from the variable it updates"):
            Program(module)


def test_source_of_a_wrong_type_is_a_rev_error():
    with pytest.raises(RevError, match="source must be MLIR text or an mlir_rev.ir.Module"):
        Program(42)
