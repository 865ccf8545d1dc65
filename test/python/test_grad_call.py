"""rev.grad_call: a func.func driver calls the gradient of a rev.func, which
--rev-ad generates and inlines (docs/ad.md, "Calling a gradient from a
driver").

References: a closed form for a small function; for bundle adjustment the
earlier whole-array method (gather, zeroed shadows, one two-seed sweep), bit
for bit, and central differences of the objective within 1e-6 relative.
"""

import math
import os

import numpy as np
import pytest

from mlir_rev.jit import Program, RevError
from test_seeds import ba_data, ba_worst_central_difference

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "benchmarks", "ba.mlir")) as f:
    BA = f.read()

# e0 += s sin(p0) p1, e1 += p0^2 for each row of P; the driver writes the
# 2 x 3 block (columns p0, p1, s) of every row into J through one two-seed
# gradient call per row, with stack shadows.
OBS = """
rev.func @obs(%s: f64, %p: memref<2xf64>, %e: memref<2xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %p0 = memref.load %p[%c0] : memref<2xf64>
  %p1 = memref.load %p[%c1] : memref<2xf64>
  %sn = math.sin %p0 : f64
  %a = arith.mulf %sn, %p1 : f64
  %b = arith.mulf %s, %a : f64
  rev.add_at %e[%c0], %b : memref<2xf64>
  %q = arith.mulf %p0, %p0 : f64
  rev.add_at %e[%c1], %q : memref<2xf64>
  rev.return %s : f64
}

func.func @jac(%s: f64, %P: memref<?x2xf64>, %J: memref<?x2x3xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %p = memref.alloca() : memref<2xf64>
  %e = memref.alloca() : memref<2xf64>
  %dp0 = memref.alloca() : memref<2xf64>
  %dp1 = memref.alloca() : memref<2xf64>
  %de0 = memref.alloca() : memref<2xf64>
  %de1 = memref.alloca() : memref<2xf64>
  %n = memref.dim %P, %c0 : memref<?x2xf64>
  scf.for %i = %c0 to %n step %c1 {
    scf.for %k = %c0 to %c2 step %c1 {
      %x = memref.load %P[%i, %k] : memref<?x2xf64>
      memref.store %x, %p[%k] : memref<2xf64>
      memref.store %zero, %e[%k] : memref<2xf64>
      memref.store %zero, %dp0[%k] : memref<2xf64>
      memref.store %zero, %dp1[%k] : memref<2xf64>
      memref.store %zero, %de0[%k] : memref<2xf64>
      memref.store %zero, %de1[%k] : memref<2xf64>
    }
    memref.store %one, %de0[%c0] : memref<2xf64>
    memref.store %one, %de1[%c1] : memref<2xf64>
    %r:3 = rev.grad_call @obs(%s, %p, %e, %zero, %dp0, %de0, %zero, %dp1, %de1) seeds 2
        : (f64, memref<2xf64>, memref<2xf64>, f64, memref<2xf64>, memref<2xf64>, f64,
           memref<2xf64>, memref<2xf64>) -> (f64, f64, f64)
    scf.for %k = %c0 to %c2 step %c1 {
      %a = memref.load %dp0[%k] : memref<2xf64>
      %b = memref.load %dp1[%k] : memref<2xf64>
      memref.store %a, %J[%i, %c0, %k] : memref<?x2x3xf64>
      memref.store %b, %J[%i, %c1, %k] : memref<?x2x3xf64>
    }
    memref.store %r#1, %J[%i, %c0, %c2] : memref<?x2x3xf64>
    memref.store %r#2, %J[%i, %c1, %c2] : memref<?x2x3xf64>
  }
  return
}
"""


def closed_form(s, P):
    J = np.zeros((len(P), 2, 3))
    for i, (p0, p1) in enumerate(P):
        J[i, 0] = [s * math.cos(p0) * p1, s * math.sin(p0), math.sin(p0) * p1]
        J[i, 1] = [2 * p0, 0.0, 0.0]
    return J


@pytest.mark.parametrize("options", [{}, {"fuse_sweeps": False, "adjoint_only": False}])
def test_driver_jacobian_matches_closed_form(options):
    """Program(src) with no grad= resolves the grad_call itself; every row's
    block matches the closed form within 1e-15 relative (rev's sin/cos are
    libm's, as math's), with and without fused sweeps / adjoint-only."""
    prog = Program(OBS, **options)
    assert "obs_grad_x2" in prog.seeded_names.values()
    rng = np.random.default_rng(0)
    P = rng.uniform(-2, 2, (17, 2))
    J = np.full((17, 2, 3), np.nan)
    prog.call("jac", 1.25, P, J)
    ref = closed_form(1.25, P)
    assert np.max(np.abs(J - ref)) <= 1e-15 * np.max(np.abs(ref))


def test_driver_equals_separate_gradient_calls():
    """The inlined gradient computes what calls of @obs_grad from Python give,
    bit for bit (the same operations)."""
    prog = Program(OBS, grad=["obs"])
    rng = np.random.default_rng(1)
    P = rng.uniform(-2, 2, (5, 2))
    J = np.empty((5, 2, 3))
    prog.call("jac", -0.5, P, J)
    for i in range(5):
        for k in range(2):
            dp, de = np.zeros(2), np.zeros(2)
            de[k] = 1.0
            res = prog.call("obs_grad", -0.5, P[i].copy(), np.zeros(2), 0.0, dp, de)
            ds = res[-1] if isinstance(res, tuple) else res
            assert np.array_equal(J[i, k, :2], dp)
            assert J[i, k, 2] == ds


def test_ba_one_pass_equals_gathered_sweep():
    """benchmarks/ba.mlir's @ba_jacobian (per observation a grad_call on
    one-row stack copies) gives the earlier whole-array method's blocks bit
    for bit, with cameras and points shared by several observations, and
    central differences of the objective within 1e-6 relative."""
    prog = Program(BA, grad=["ba_reproj"], seeds=2)
    rng = np.random.default_rng(7)
    n, m, p = 6, 9, 40
    cams, pts, _, _ = ba_data(max(n, m), rng)
    cams, pts = cams[:n].copy(), pts[:m].copy()
    w = rng.uniform(0.5, 1.5, p)
    feat = rng.uniform(-50, 50, (p, 2))
    cidx = rng.integers(0, n, p).astype(np.int64)
    pidx = rng.integers(0, m, p).astype(np.int64)
    J, DW = np.full((p, 2, 15), np.nan), np.full(p, np.nan)
    prog.call("ba_jacobian", cams, pts, w, feat, cidx, pidx, J, DW)
    assert np.array_equal(DW, -2.0 * w)  # d(1 - w^2)/dw, exact in binary

    GC, GP = np.empty((p, 11)), np.empty((p, 3))
    prog.call("ba_gather", cams, pts, cidx, pidx, GC, GP)
    sets = []
    for k in range(2):
        s = [np.zeros((p, 11)), np.zeros((p, 3)), np.zeros(p), np.zeros((p, 2)),
             np.zeros((p, 2))]
        s[4][:, k] = 1.0
        sets.append(s)
    ident = np.arange(p, dtype=np.int64)
    prog.call("ba_reproj_grad_x2", GC, GP, w, feat, ident, ident.copy(), np.zeros((p, 2)),
              *sets[0], *sets[1])
    for k in range(2):
        ref = np.concatenate([sets[k][0], sets[k][1], sets[k][2][:, None]], axis=1)
        assert np.array_equal(J[:, k, :], ref)

    worst = ba_worst_central_difference(prog, GC, GP, w, feat, lambda col, k: J[:, k, col])
    assert worst < 1e-6, worst


def test_wrong_layout_is_an_error():
    """An operand list that is not the gradient's layout is a RevError that
    names the expected types, before anything is generated."""
    bad = OBS.replace("%zero, %dp1, %de1) seeds 2", "%zero, %dp1, %de1) seeds 3")
    with pytest.raises(RevError, match=r"do not match the 3-seed gradient of @obs"):
        Program(bad)


def test_grad_call_inside_rev_func_is_an_error():
    src = OBS[:OBS.index("func.func @jac")] + """
rev.func @inner(%s: f64, %p: memref<2xf64>, %e: memref<2xf64>, %d: f64, %dp: memref<2xf64>,
                %de: memref<2xf64>) -> (f64, f64) {
  %r:2 = rev.grad_call @obs(%s, %p, %e, %d, %dp, %de)
      : (f64, memref<2xf64>, memref<2xf64>, f64, memref<2xf64>, memref<2xf64>) -> (f64, f64)
  rev.return %r#0, %r#1 : f64, f64
}
"""
    with pytest.raises(RevError, match=r"may not appear in a rev.func \(here @inner\)"):
        Program(src)


def test_python_builders():
    """The generated builder (mlir_rev.dialects.rev.grad_call) builds a
    driver in a func.func; it computes d(y + x^3)/dx = 3 x^2 and passes the
    seed through for y."""
    from mlir_rev import ir
    from mlir_rev.dialects import func, rev

    with ir.Context(), ir.Location.unknown():
        module = ir.Module.parse("""
rev.func @cube(%x: f64, %y: f64) -> (f64, f64) {
  %x2 = arith.mulf %x, %x : f64
  %x3 = arith.mulf %x2, %x : f64
  %y1 = rev.add %y, %x3 : f64
  rev.return %x, %y1 : f64, f64
}""")
        f64 = ir.F64Type.get()
        with ir.InsertionPoint(module.body):
            ftype = ir.FunctionType.get([f64, f64], [f64, f64, f64, f64])
            drv = func.FuncOp("drv", ftype)
            entry = drv.add_entry_block()
            with ir.InsertionPoint(entry):
                x, y = entry.arguments
                zero = ir.Operation.create("arith.constant", results=[f64],
                                           attributes={"value": ir.FloatAttr.get(f64, 0.0)})
                one = ir.Operation.create("arith.constant", results=[f64],
                                          attributes={"value": ir.FloatAttr.get(f64, 1.0)})
                r = rev.grad_call([f64] * 4, "cube", [x, y, zero.result, one.result])
                func.ReturnOp(list(r))
        assert module.operation.verify()
        assert "rev.grad_call @cube" in str(module)
        prog = Program(module)
    out = prog.call("drv", 0.5, 2.0)
    assert out[:2] == (0.5, 2.0)  # the gradient runs f forwards and back
    assert out[2] == 3 * 0.5 ** 2 and out[3] == 1.0
