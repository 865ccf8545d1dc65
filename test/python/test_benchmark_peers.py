"""The PyTorch programs of the benchmark suite (benchmarks/*.py, the peer rows
beside rev and JAX) compute the same gradients as rev, at tiny sizes: the
coupled recurrence, batched Bessel J2, leapfrog, the pendulum ring, GMM and
CSR SpMV, each against rev's gradient of the benchmark's own rev program
(relative difference <= 1e-10; the benchmarks fail above 1e-8). Also: the
benchmarks' check exits with status 1 on a mismatch. No timing here."""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (requirements.txt pins "
                            "the CPU build); the PyTorch benchmark rows need it")

from mlir_rev.ad import Derivatives  # noqa: E402
from mlir_rev.jit import Program  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "benchmarks")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import besselj2_batched  # noqa: E402
import coupled_recurrence  # noqa: E402
import gmm  # noqa: E402
import leapfrog  # noqa: E402
import pendulum_ring  # noqa: E402
import torch_peer  # noqa: E402

TOL = 1e-10  # rev at opt_level=0 (fast to compile): the same IEEE arithmetic as O3


def source(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return f.read()


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def leaves(*arrays):
    return [torch.tensor(a, dtype=torch.float64).requires_grad_() for a in arrays]


def test_coupled_recurrence():
    T = 50
    y, z, xs = coupled_recurrence.inputs(T)
    xs = xs * 300  # larger steps than the benchmark's, so the gradient is not ~constant
    prog = Program(source("examples", "coupled.mlir"), grad=["coupled"], opt_level=0)
    xbar = np.zeros(T)
    res = prog.call(prog.gradient_names["coupled"], y, z, xs, 1.0, 0.0, xbar)
    ts = leaves(y, z, xs)
    dy, dz, dx = torch.autograd.grad(coupled_recurrence.coupled_torch(*ts), ts)
    assert rel([float(dy), float(dz)], [res[2], res[3]]) < TOL
    assert rel(dx.numpy(), xbar) < TOL


def test_besselj2_batched():
    xs = besselj2_batched.inputs(16)
    prog = Program(source("benchmarks", "besselj2_batched.mlir"), grad=["besselj2_batched"],
                   opt_level=0)
    xbar = np.zeros_like(xs)
    prog.call(prog.gradient_names["besselj2_batched"], xs, np.zeros_like(xs), xbar,
              np.ones_like(xs))
    (x,) = leaves(xs)
    y = besselj2_batched.j2_torch(x)
    (dx,) = torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y))
    assert rel(dx.numpy(), xbar) < TOL


@pytest.mark.parametrize("bench,path,name", [
    (leapfrog, ("examples", "leapfrog.mlir"), "leapfrog"),
    (pendulum_ring, ("benchmarks", "pendulum_ring.mlir"), "ring")])
def test_time_steppers(bench, path, name):
    n, steps = 6, 30
    X0, V0 = bench.inputs(n)
    d = Derivatives(source(*path), name, wrt=(0, 1), opt_level=0)
    _, adj = d.vjp([X0.copy(), V0.copy(), bench.K, bench.DT, steps], [0.0, 0.0],
                   [np.ones(n), np.ones(n)])
    program = bench.leapfrog_torch if name == "leapfrog" else bench.ring_torch
    x, v = leaves(X0, V0)
    dx, dv = torch.autograd.grad(program(x, v, bench.K, bench.DT, steps), (x, v))
    assert rel(dx.numpy(), adj[0]) < TOL
    assert rel(dv.numpy(), adj[1]) < TOL


def test_gmm():
    n, d, K = 12, 3, 4
    A, MU, ICF, X = gmm.inputs(n, d, K)
    dr = Derivatives(source("benchmarks", "gmm.mlir"), "gmm", wrt=(0, 1, 2), opt_level=0)
    args = [A, MU, ICF, X, np.zeros(K), np.zeros(K), np.zeros(d), np.zeros((K, d)),
            gmm.GAMMA, gmm.WM, 0.0]
    want = dr.gradient(*args, output=2)
    wrt = leaves(A, MU, ICF)
    L = gmm.gmm_torch(*wrt, torch.from_numpy(X))
    got = torch.autograd.grad(L, wrt)
    for g, w in zip(got, want):
        assert rel(g.numpy().ravel(), np.asarray(w).ravel()) < TOL


def import_parallel_gradients():
    # parallel_gradients sets OpenMP variables when imported: keep them out of
    # this process (the OpenMP tests set their own)
    saved = dict(os.environ)
    try:
        import parallel_gradients as pg
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return pg


def test_csr_spmv():
    pg = import_parallel_gradients()
    rowptr, col, vals, x, y, w = pg.csr_case(20, 3)
    p = Program(pg.CSR, grad=["csr"], opt_level=0)
    vb, xb = np.zeros_like(vals), np.zeros_like(x)
    p.call(p.gradient_names["csr"], rowptr, col, vals, x, y, vb, xb, w.copy())
    grads = {}
    pg.torch_csr(rowptr, col, vals, x, y, w, 1, grads)
    gv, gx = grads["PyTorch eager"]
    assert rel(gv, vb) < TOL
    assert rel(gx, xb) < TOL


@pytest.mark.parametrize("kind", ["csr", "coo"])
def test_c_spmv_peer(kind, tmp_path):
    """The hand-written C peer (benchmarks/spmv_peer.c) computes what rev's
    program does, on one thread and on one per core (privatised scatters)."""
    pg = import_parallel_gradients()
    if pg.build_c_peer(str(tmp_path)) is None:
        pytest.skip("no C compiler")
    m = 300
    rowptr, col, vals, x, y, w = pg.csr_case(m, 10)
    first = rowptr if kind == "csr" else np.repeat(np.arange(m), 10).astype(np.int64)
    p = Program(pg.CSR if kind == "csr" else pg.COO, grad=[kind], opt_level=0)
    vb, xb = np.zeros_like(vals), np.zeros_like(x)
    p.call(p.gradient_names[kind], first, col, vals, x, y, vb, xb, w.copy())
    yf = y.copy()
    p.call(kind, first, col, vals, x, yf)
    grads = {}
    rows = pg.c_peer(kind, m, 1, grads)
    assert set(rows) == set(pg.C_LABELS.values())
    for label in pg.C_LABELS.values():
        gv, gx = grads[label]
        assert rel(gv, vb) < TOL
        assert rel(gx, xb) < TOL
        assert rel(pg.C_FORWARDS[label], yf) < TOL


def test_check_fails_loudly(capsys):
    checks = torch_peer.Checks("demo.py")
    checks.check("close", 1e-12)
    checks.finish()  # no mismatch: returns
    checks.check("far", 1e-6)
    checks.check("nan", float("nan"))
    with pytest.raises(SystemExit) as e:
        checks.finish()
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "MISMATCH for far" in err and "MISMATCH for nan" in err
    assert "2 PyTorch gradient mismatch(es)" in err
