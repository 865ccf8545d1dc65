"""`rev.prange`: the front end's parallel loop (rev.parallel_for).

References: NumPy for the forwards (1e-12 relative: sums in another order),
the same function with `range` (a sequential rev.for) for the gradients
(1e-12), and the inverse back to the inputs.
"""
import numpy as np
import pytest

from mlir_rev import frontend as rev
from mlir_rev.jit import Program, RevError


@rev.reversible
def saxpy_sum(a: rev.f64, X: rev.Array[rev.f64], Y: rev.Array[rev.f64], s: rev.f64):
    for i in rev.prange(len(X)):
        Y[i] += a * rev.sin(X[i])
        s += a * X[i] * X[i]


@rev.reversible
def saxpy_sum_seq(a: rev.f64, X: rev.Array[rev.f64], Y: rev.Array[rev.f64], s: rev.f64):
    for i in range(len(X)):
        Y[i] += a * rev.sin(X[i])
        s += a * X[i] * X[i]


@rev.reversible
def histogram(w: rev.Array[rev.f64], b: rev.Array[rev.i64], H: rev.Array[rev.f64]):
    for i in rev.prange(len(w), accumulate="privatize"):
        H[b[i]] += w[i] * w[i]


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def test_prange_builds_a_parallel_loop_with_a_sum():
    text = saxpy_sum.mlir
    assert "rev.parallel_for" in text and "reduce(" in text
    assert 'accumulate = "privatize"' in histogram.mlir


def test_prange_forward_inverse_and_gradient():
    rng = np.random.default_rng(3)
    X, Y = rng.uniform(-1, 1, 500), rng.uniform(-1, 1, 500)
    a, s = 0.8, 0.25
    Yf = Y.copy()
    a1, s1 = saxpy_sum(a, X, Yf, s)
    assert rel(Yf, Y + a * np.sin(X)) < 1e-12
    assert abs(s1 - (s + a * np.sum(X * X))) < 1e-12
    a0, s0 = saxpy_sum.inverse(a1, X, Yf, s1)
    assert rel(Yf, Y) < 1e-12 and abs(s0 - s) < 1e-12
    g = saxpy_sum.grad(a, X.copy(), Y.copy(), s, output=1)
    g_seq = saxpy_sum_seq.grad(a, X.copy(), Y.copy(), s, output=1)
    for u, v in zip(g, g_seq):
        assert rel(u, v) < 1e-12
    # d s_final / d a = sum X^2, d s_final / d X = 2 a X.
    assert abs(g[0] - np.sum(X * X)) < 1e-10
    assert rel(g[2], 2 * a * X) < 1e-12


def test_prange_histogram_with_openmp():
    rng = np.random.default_rng(4)
    w, b = rng.uniform(-1, 1, 10000), rng.integers(0, 16, 10000).astype(np.int64)
    ref = np.zeros(16)
    np.add.at(ref, b, w * w)
    H = np.zeros(16)
    histogram(w, b, H)
    assert rel(H, ref) < 1e-12
    H2 = np.zeros(16)
    Program(histogram.module, target="openmp", num_threads=2).call("histogram", w, b, H2)
    assert rel(H2, ref) < 1e-12


def test_prange_errors_point_at_the_python_line():
    @rev.reversible
    def reads_sum(X: rev.Array[rev.f64], Y: rev.Array[rev.f64], s: rev.f64):
        for i in rev.prange(len(X)):
            s += X[i]
            Y[i] += s

    with pytest.raises(RevError, match="reads a reduce accumulator") as e:
        reads_sum(np.ones(3), np.ones(3), 0.0)
    assert "Y[i] += s" in str(e.value)

    @rev.reversible
    def races(X: rev.Array[rev.f64]):
        for i in rev.prange(1, len(X)):
            X[i] += X[i - 1]

    with pytest.raises(RevError, match="iterations may race"):
        races(np.ones(4))

    with pytest.raises(RevError, match="a parallel loop has no direction"):
        @rev.reversible
        def backwards(X: rev.Array[rev.f64]):
            for i in reversed(rev.prange(len(X))):
                X[i] += 1.0
        backwards.mlir

    with pytest.raises(RevError, match='accumulate="atomic" or accumulate="privatize"'):
        @rev.reversible
        def bad_kw(X: rev.Array[rev.f64]):
            for i in rev.prange(len(X), accumulate="locks"):
                X[i] += 1.0
        bad_kw.mlir
