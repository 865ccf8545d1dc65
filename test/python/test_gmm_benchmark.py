"""benchmarks/gmm.mlir (the reversible GMM objective of the benchmark suite):
its value against NumPy's formula (1e-12 relative), its gradient with
respect to alpha, mu and icf (`wrt=(0, 1, 2)`) against central finite
differences of the objective (1e-6 relative to the largest entry), and its
scratch memrefs back at zero (within 1e-12: add-then-subtract rounding)."""
import os

import numpy as np

from mlir_rev.ad import Derivatives

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def reference(A, MU, ICF, X, gamma, wm):
    n, d = X.shape
    K = A.shape[0]
    q, ls = ICF[:, :d], ICF[:, d:]
    L = 0.0
    Q = np.zeros((K, d, d))
    for k in range(K):
        Q[k] = np.diag(np.exp(q[k]))
        idx = 0
        for c in range(d):
            for r in range(c + 1, d):
                Q[k, r, c] = ls[k, idx]
                idx += 1
    for i in range(n):
        beta = np.array([A[k] + q[k].sum() - 0.5 * np.sum((Q[k] @ (X[i] - MU[k])) ** 2)
                         for k in range(K)])
        m = beta.max()
        L += m + np.log(np.sum(np.exp(beta - m)))
    L -= n * np.log(np.sum(np.exp(A)))
    return L + 0.5 * gamma ** 2 * (np.sum(np.exp(q) ** 2) + np.sum(ls ** 2)) - wm * np.sum(q)


def test_gmm_objective_and_gradient():
    with open(os.path.join(ROOT, "benchmarks", "gmm.mlir")) as f:
        src = f.read()
    rng = np.random.default_rng(5)
    n, d, K = 7, 3, 2
    A, MU = rng.normal(size=K), rng.normal(size=(K, d))
    ICF, X = 0.3 * rng.normal(size=(K, d * (d + 1) // 2)), rng.normal(size=(n, d))
    gamma, wm = 1.1, 0.4
    dr = Derivatives(src, "gmm", wrt=(0, 1, 2))
    # gamma, wm (returned unchanged) and X (only read) are constants; the
    # scratch arrays B, MX, Z, EQ are written, so they stay active
    assert dr.marked == [3, 8, 9]
    scratch = [np.zeros(K), np.zeros(K), np.zeros(d), np.zeros((K, d))]
    L = dr.program.call("gmm", A, MU, ICF, X, *scratch, gamma, wm, 0.0)[2]
    ref = reference(A, MU, ICF, X, gamma, wm)
    assert abs(L - ref) <= 1e-12 * abs(ref)
    assert max(np.max(np.abs(s)) for s in scratch) < 1e-12
    g = dr.gradient(A, MU, ICF, X, np.zeros(K), np.zeros(K), np.zeros(d), np.zeros((K, d)),
                    gamma, wm, 0.0,
                    output=2)
    for which, (arr, grad) in enumerate(zip((A, MU, ICF), g)):
        fd = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            h = 1e-6 * max(1.0, abs(arr[idx]))
            plus, minus = [x.copy() for x in (A, MU, ICF)], [x.copy() for x in (A, MU, ICF)]
            plus[which][idx] += h
            minus[which][idx] -= h
            fd[idx] = (reference(*plus, X, gamma, wm) - reference(*minus, X, gamma, wm)) / (2 * h)
        assert np.max(np.abs(grad - fd)) <= 1e-6 * max(1.0, np.max(np.abs(fd))), which
