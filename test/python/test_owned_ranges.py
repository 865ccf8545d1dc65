"""--rev-owned-ranges (rev-to-openmp): the CSR SpMV gradient's adds into
valsbar[k], k over row r's range [rowptr[r], rowptr[r + 1]), run as plain
adds when rowptr is non-decreasing (a run-time test), atomically otherwise.

Compared on 2 OpenMP threads with the sequential build and with a NumPy
reference (loops over the rows): valsbar is bit-identical to the sequential
one where each element receives one add, xbar (atomic or privatised: another
order of the same terms) within 1e-12 of the largest entry. A rowptr whose
rows share ranges (row r and row r + h + 1 cover the same nonzeros, so the
two OpenMP threads add to the same valsbar elements at once) must take the
atomic loop: with plain adds the lost updates would show as wrong sums."""
import numpy as np
import pytest

from mlir_rev.jit import Program
from test_parallel import CSR

RTOL = 1e-12


def reference(rowptr, col, vals, x, w):
    vb, xb = np.zeros_like(vals), np.zeros_like(x)
    for r in range(len(rowptr) - 1):
        for k in range(rowptr[r], rowptr[r + 1]):
            vb[k] += x[col[k]] * w[r]
            xb[col[k]] += vals[k] * w[r]
    return vb, xb


def gradient(prog, rowptr, col, vals, x, w):
    vb, xb = np.zeros_like(vals), np.zeros_like(x)
    prog.call(prog.gradient_names["csr"], rowptr, col, vals, x, np.zeros(len(w)),
              vb, xb, w.copy())
    return vb, xb


def close(a, b):
    return np.max(np.abs(a - b)) <= RTOL * max(1.0, np.max(np.abs(b)))


@pytest.fixture(scope="module")
def programs():
    return (Program(CSR, grad=["csr"], target="openmp", num_threads=2),
            Program(CSR, grad=["csr"], target="cpu"))


def test_monotone_rowptr(programs):
    omp, seq = programs
    rng = np.random.default_rng(0)
    m, n = 5000, 3000
    counts = rng.integers(0, 12, m)
    rowptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    nnz = int(rowptr[-1])
    col = rng.integers(0, n, nnz).astype(np.int64)
    vals, x, w = rng.uniform(-1, 1, nnz), rng.uniform(-1, 1, n), rng.uniform(-1, 1, m)
    vb, xb = gradient(omp, rowptr, col, vals, x, w)
    svb, sxb = gradient(seq, rowptr, col, vals, x, w)
    rvb, rxb = reference(rowptr, col, vals, x, w)
    assert np.array_equal(vb, svb)
    assert close(vb, rvb) and close(xb, rxb) and close(xb, sxb)


def test_shared_ranges_take_the_atomic_loop(programs):
    omp, seq = programs
    rng = np.random.default_rng(1)
    h, per, n = 20000, 10, 500
    # rowptr[r] = per * (r mod (h + 1)): row h is empty ([per*h, 0)), rows r
    # and r + h + 1 cover the same range, one in each thread's half.
    rowptr = (per * (np.arange(2 * h + 2) % (h + 1))).astype(np.int64)
    nnz = per * h
    col = rng.integers(0, n, nnz).astype(np.int64)
    vals, x = rng.uniform(-1, 1, nnz), rng.uniform(-1, 1, n)
    w = rng.uniform(-1, 1, 2 * h + 1)
    rvb, rxb = reference(rowptr, col, vals, x, w)
    svb, sxb = gradient(seq, rowptr, col, vals, x, w)
    assert close(svb, rvb) and close(sxb, rxb)
    for _ in range(3):
        vb, xb = gradient(omp, rowptr, col, vals, x, w)
        assert close(vb, rvb) and close(xb, rxb)
