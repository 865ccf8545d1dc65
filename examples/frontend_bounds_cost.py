"""The cost of the Python front end's bounds checks (on by default; `bounds=False`
turns them off). Prints a table: the best of 21 calls of each program with and
without the checks (the checks of an index `i + c` of a loop's own index are
hoisted before the loop; other indices are checked at each access).

    python examples/frontend_bounds_cost.py
"""
import time

import numpy as np

from mlir_rev import frontend as rev


@rev.reversible
def axpy(Y: rev.Array[rev.f64], X: rev.Array[rev.f64], a: float):
    for i in range(len(X)):
        Y[i] += a * X[i]


@rev.reversible
def stencil(Y: rev.Array[rev.f64], X: rev.Array[rev.f64]):
    for i in range(1, len(X) - 1):
        Y[i] += 0.25 * X[i - 1] + 0.5 * X[i] + 0.25 * X[i + 1]


@rev.reversible
def leapfrog(X: rev.Array[rev.f64], V: rev.Array[rev.f64], k: float, dt: float,
             steps: rev.index):
    for s in range(steps):
        for i in range(len(X)):
            V[i] -= k * dt * 0.5 * X[i]
            X[i] += V[i] * dt
            V[i] -= k * dt * 0.5 * X[i]


@rev.reversible
def scale2d(C: rev.Array[rev.f64, 2], A: rev.Array[rev.f64, 2], b: float):
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            C[i, j] += A[i, j] * b   # i: checked at each access of the inner loop


@rev.reversible
def gather(Y: rev.Array[rev.f64], X: rev.Array[rev.f64], P: rev.Array[rev.i64]):
    for i in range(len(Y)):
        Y[i] += X[P[i]]          # P[i]: checked at each access


def best(f, reps=21):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    n = 1_000_000
    rng = np.random.default_rng(0)
    X, Y, V = rng.random(n), np.zeros(n), np.zeros(n)
    P = rng.permutation(n).astype(np.int64)
    Xs, Ys = X[:100_000].copy(), Y[:100_000].copy()
    A2, C2 = rng.random((1000, 1000)), np.zeros((1000, 1000))
    rows = [
        ("axpy, n=1e6", lambda b: axpy(Y, X, 0.5, bounds=b)),
        ("stencil, n=1e6", lambda b: stencil(Y, X, bounds=b)),
        ("leapfrog, n=1e6, 5 steps", lambda b: leapfrog(X, V, 1.3, 0.01, 5, bounds=b)),
        ("2-d C[i, j] += A[i, j] * b, 1e3^2", lambda b: scale2d(C2, A2, 0.5, bounds=b)),
        ("gather Y[i] += X[P[i]], n=1e6", lambda b: gather(Y, X, P, bounds=b)),
        ("axpy gradient, n=1e5", lambda b: axpy.grad(Ys, Xs, 0.5, output=(0, 0), bounds=b)),
    ]
    print(f"{'program':34s} {'bounds=False':>13s} {'bounds=True':>12s} {'ratio':>6s}")
    for name, call in rows:
        call(True)
        call(False)
        off, on = best(lambda: call(False)), best(lambda: call(True))
        print(f"{name:34s} {off * 1e3:10.3f} ms {on * 1e3:9.3f} ms {on / off:6.2f}")


if __name__ == "__main__":
    main()
