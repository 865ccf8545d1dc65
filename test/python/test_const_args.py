"""`rev.const` arguments: reverse mode leaves them undifferentiated.

The gradients with respect to everything else are those of the unmarked
program (1e-12 relative: the same arithmetic minus the constant's adjoint
sums), and the constant's adjoint comes back as it was seeded.
"""
import os

import numpy as np

from mlir_rev.ad import vjp
from test_ad import rel_err

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def leapfrog(marked: bool) -> str:
    with open(os.path.join(ROOT, "examples", "leapfrog.mlir")) as f:
        src = f.read()
    if marked:
        src = src.replace("%k: f64, %dt: f64", "%k: f64 {rev.const}, %dt: f64 {rev.const}")
        assert "rev.const" in src
    return src


def test_leapfrog_constants_keep_the_other_gradients():
    rng = np.random.default_rng(7)
    n = 50
    X, V = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    wX, wV = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    args = [X, V, 1.3, 0.01, 200]
    res = {}
    for marked in (False, True):
        f = vjp(leapfrog(marked), "leapfrog")
        a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        res[marked] = f(a, [0.25, -0.5], [wX.copy(), wV.copy()])
    (_, (dk0, ddt0, dX0, dV0)), (_, (dk1, ddt1, dX1, dV1)) = res[False], res[True]
    assert rel_err(dX1, dX0) < 1e-12 and rel_err(dV1, dV0) < 1e-12
    # Unmarked: real derivatives (non-zero here); marked: the seeds come back.
    assert abs(dk0 - 0.25) > 1e-3 and abs(ddt0 + 0.5) > 1e-3
    assert dk1 == 0.25 and ddt1 == -0.5
