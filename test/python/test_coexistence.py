"""mlir_rev has its own MLIR core under its own package prefix: it imports and
runs in one process beside the upstream `mlir` Python bindings
(xtc-mlir-python-bindings, pinned in requirements.txt), in either import
order, and the two do not share dialect registrations."""
import pytest

SCRIPT = r"""
order = {order!r}
if order == "upstream-first":
    import mlir.ir as up
    import mlir_rev.ir as rv
else:
    import mlir_rev.ir as rv
    import mlir.ir as up
from mlir_rev.jit import Program, RevError

assert up.__file__ != rv.__file__
assert "mlir_rev" in rv.__file__ and "mlir_rev" not in up.__file__

REV = "rev.func @g(%x: f64, %y: f64) -> (f64, f64) {{ %s = math.sin %x : f64  %y1 = rev.add %y, %s : f64  rev.return %x, %y1 : f64, f64 }}"
with up.Context():
    m = up.Module.parse("func.func @f(%x: f64) -> f64 {{ return %x : f64 }}")
    assert m.body.operations[0].operation.name == "func.func"
    try:
        up.Module.parse(REV)
        raise SystemExit("the upstream context knows the rev dialect")
    except up.MLIRError:
        pass
with rv.Context():
    assert "rev.func" in str(rv.Module.parse(REV))
p = Program(REV, grad=["g"])
x, y = p.call("g", 0.5, 1.0)
assert abs(y - 1.479425538604203) < 1e-15, y
print("coexist ok")
"""


@pytest.mark.parametrize("order", ["upstream-first", "rev-first"])
def test_imports_beside_upstream_mlir(order, run_python):
    res = run_python(SCRIPT.format(order=order))
    assert res.returncode == 0, res.stderr
    assert "coexist ok" in res.stdout
