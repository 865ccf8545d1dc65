#!/usr/bin/env python3
"""Device check of rev's NVIDIA GPU target (for a machine with a GPU).

Runs every kernel kind through the CUDA path of mlir_rev (cuda.Module on the
standard IR that --lower-rev produces for parallel loops, and
Program(target="cuda") for rev source) and compares with NumPy:
  * elementwise forward (axpy2; a 20-term series per element, J2-like),
  * a shared scalar adjoint (scf.reduce: block reduction + one atomic per
    block; also an empty range: the init value),
  * an indirectly indexed adjoint (atomic scatter, COO SpMV transpose),
  * data kept on the device across calls (DeviceArray),
  * PTX for sm_80 JIT-compiled by the driver, and a cubin (format=bin) when
    ptxas is there,
  * rev host code on managed memory (Program(target="cuda")),
  * a failed check in a kernel, and in a function a kernel calls (a device
    assert: RevError; each in a subprocess, because the CUDA context is lost
    after it).
Prints a timing table (best of N, after one warm-up call) and ends with the
line `N passed, N failed`. Run from the project root:

    . .venv/bin/activate && PYTHONPATH=build/python_packages/rev python scripts/device_check.py

On a machine without a driver it stops with `RevError: no CUDA driver`.
"""
import os
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))

from mlir_rev import cuda  # noqa: E402
from mlir_rev.jit import Program, RevError  # noqa: E402

KERNELS = open(os.path.join(ROOT, "test", "conversion", "Inputs", "gpu-kernels.mlir")).read()

# y[i] = sum_{k<20} (-1)^k (x/2)^(2k+2) / (k! (k+2)!) (the J2 series), and the
# adjoint-shaped reduction sum_i J2(x[i]) * w[i].
SERIES = """
func.func @j2(%x: memref<?xf64>, %y: memref<?xf64>) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c20 = arith.constant 20 : index
  %half = arith.constant 0.5 : f64
  %one = arith.constant 1.0 : f64
  %zero = arith.constant 0.0 : f64
  %n = memref.dim %x, %c0 : memref<?xf64>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %xi = memref.load %x[%i] : memref<?xf64>
    %h = arith.mulf %xi, %half : f64
    %r = arith.mulf %h, %h : f64
    %t0 = arith.mulf %r, %half : f64
    %res:2 = scf.for %k = %c0 to %c20 step %c1 iter_args(%s = %zero, %t = %t0) -> (f64, f64) {
      %s1 = arith.addf %s, %t : f64
      %k64 = arith.index_cast %k : index to i64
      %kf = arith.sitofp %k64 : i64 to f64
      %a = arith.addf %kf, %one : f64
      %two = arith.addf %one, %one : f64
      %b = arith.addf %kf, %two : f64
      %b1 = arith.addf %b, %one : f64
      %den = arith.mulf %a, %b1 : f64
      %q = arith.divf %r, %den : f64
      %nq = arith.negf %q : f64
      %t1 = arith.mulf %t, %nq : f64
      scf.yield %s1, %t1 : f64, f64
    }
    memref.store %res#0, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
"""

RESULTS = []  # (name, ok, detail)
TIMES = []  # (kernel, n, ms)


def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok), detail))
    print(f"{'PASS' if ok else 'FAIL'} {name} {detail}", flush=True)


def best_ms(fn, repeats=5):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1e3


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def j2_ref(x):
    h = x / 2
    r = h * h
    t, s = r / 2, np.zeros_like(x)
    for k in range(20):
        s = s + t
        t = -t * r / ((k + 1) * (k + 3))
    return s


def run_checks():
    rng = np.random.default_rng(0)
    m = cuda.Module(KERNELS + SERIES, chip="sm_90")
    for n in (1, 1000, 1_000_003):
        x = rng.standard_normal(n)
        y = rng.standard_normal(n)
        ref = y + 2.5 * x * x
        m.call("axpy2", 2.5, x, y)
        check(f"axpy2 n={n}", rel(y, ref) <= 1e-15, f"rel {rel(y, ref):.1e}")
        b = rng.standard_normal(n)
        got = m.call("axpy2_abar", 0.25, x, b)
        want = 0.25 + float(np.dot(x * x, b))
        check(f"axpy2_abar n={n}", abs(got - want) <= 1e-12 * max(1.0, np.abs(x * x * b).sum()),
              f"got {got:.15g} want {want:.15g}")
    got = m.call("axpy2_abar", 1.75, np.zeros(0), np.zeros(0))
    check("axpy2_abar empty range gives init", got == 1.75, f"got {got}")

    n, nnz = 10_000, 1_000_000
    val = rng.standard_normal(nnz)
    row = rng.integers(0, n, nnz)
    col = rng.integers(0, n, nnz)
    ybar = rng.standard_normal(n)
    xbar = np.zeros(n)
    m.call("spmv_t", val, row, col, ybar, xbar)
    ref = np.zeros(n)
    np.add.at(ref, col, val * ybar[row])
    check(f"spmv_t atomic scatter nnz={nnz}", rel(xbar, ref) <= 1e-12, f"rel {rel(xbar, ref):.1e}")

    x = rng.uniform(-3, 3, 1_000_000)
    y = np.zeros_like(x)
    m.call("j2", x, y)
    check("j2 series n=1e6", rel(y, j2_ref(x)) <= 1e-13, f"rel {rel(y, j2_ref(x)):.1e}")

    # Device arrays: no copies between calls.
    N = 10_000_000
    xh = rng.standard_normal(N)
    dx, dy = cuda.to_device(xh), cuda.to_device(np.zeros(N))
    m.call("axpy2", 1.0, dx, dy)
    m.call("axpy2", 1.0, dx, dy)
    check("DeviceArray two calls", rel(dy.to_numpy(), 2 * xh * xh) <= 1e-15)
    db = cuda.to_device(np.ones(N))
    got = m.call("axpy2_abar", 0.0, dx, db)
    want = float(np.sum(xh * xh))
    check("DeviceArray reduction n=1e7", abs(got - want) <= 1e-12 * want,
          f"got {got:.15g} want {want:.15g}")

    # Timings (device arrays: kernel + launch + sync; NumPy: + copies).
    xs, ys = rng.standard_normal(N), np.zeros(N)
    TIMES.append(("axpy2 (NumPy arrays, copies in/out)", N,
                  best_ms(lambda: m.call("axpy2", 1.0, xs, ys))))
    TIMES.append(("axpy2 (DeviceArray)", N, best_ms(lambda: m.call("axpy2", 1.0, dx, dy))))
    TIMES.append(("axpy2_abar reduction (DeviceArray)", N,
                  best_ms(lambda: m.call("axpy2_abar", 0.0, dx, db))))
    dval, drow, dcol = (cuda.to_device(a) for a in (val, row, col))
    dyb, dxb = cuda.to_device(ybar), cuda.to_device(np.zeros(n))
    TIMES.append(("spmv_t atomic scatter (DeviceArray)", nnz,
                  best_ms(lambda: m.call("spmv_t", dval, drow, dcol, dyb, dxb))))
    dj = cuda.to_device(np.zeros(N))
    TIMES.append(("j2 series (DeviceArray)", N, best_ms(lambda: m.call("j2", dx, dj))))
    TIMES.append(("NumPy axpy2 on the host", N, best_ms(lambda: ys + 1.0 * xs * xs)))

    # sm_80 PTX, JIT-compiled by the driver for this GPU; a cubin if ptxas is here.
    m80 = cuda.Module(KERNELS, chip="sm_80", features="+ptx70", block_size=128)
    x, b = rng.standard_normal(5000), rng.standard_normal(5000)
    got = m80.call("axpy2_abar", 0.0, x, b)
    check("sm_80 PTX on this GPU, block 128", abs(got - np.dot(x * x, b)) <= 1e-10)
    if shutil.which("ptxas"):
        mbin = cuda.Module(KERNELS, chip="sm_90", format="bin")
        got = mbin.call("axpy2_abar", 0.0, x, b)
        check("format=bin (cubin)", abs(got - np.dot(x * x, b)) <= 1e-10)

    # rev host code on managed memory.
    prog = Program(REV_SAXPY, target="cuda", grad=["saxpy"])
    x, y = rng.standard_normal(1000), rng.standard_normal(1000)
    y0 = y.copy()
    prog.call("saxpy", 0.5, x, y)
    check("Program(target='cuda') host rev.for", rel(y, y0 + 0.5 * x) <= 1e-15)
    prog.uncall("saxpy", 0.5, x, y)
    check("Program(target='cuda') uncall", rel(y, y0) <= 1e-15)

    # rev.parallel_for programs and their gradients (test/python/test_parallel.py):
    # batched Bessel J2 with a shared scale (its adjoint: a block reduction),
    # COO SpMV (shared scatters: atomics), forward and gradient vs NumPy.
    sys.path.insert(0, os.path.join(ROOT, "test", "python"))
    from test_parallel import BESSEL, COO
    prog = Program(BESSEL, target="cuda", grad=["bessel"])
    g = prog.gradient_names["bessel"]
    n = 1_000_000
    X, Y, w = rng.uniform(0.5, 4.0, n), rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    Yf = Y.copy()
    prog.call("bessel", 1.3, X, Yf)
    check("rev.parallel_for Bessel forward n=1e6", rel(Yf, Y + 1.3 * j2_ref(X)) <= 1e-12,
          f"rel {rel(Yf, Y + 1.3 * j2_ref(X)):.1e}")
    Xb = np.zeros(n)
    _, abar = prog.call(g, 1.3, X, Y.copy(), 0.0, Xb, w.copy())
    want = float(np.sum(w * j2_ref(X)))
    check("rev.parallel_for Bessel gradient d/da (reduction)",
          abs(abar - want) <= 1e-10 * max(1.0, abs(want)), f"got {abar:.15g} want {want:.15g}")
    h = 1e-5
    dj2 = (j2_ref(X + h) - j2_ref(X - h)) / (2 * h)
    check("rev.parallel_for Bessel gradient d/dX", rel(Xb, 1.3 * w * dj2) <= 1e-7,
          f"rel {rel(Xb, 1.3 * w * dj2):.1e}")
    for N in (1_000_000, 10_000_000):
        dX = cuda.to_device(rng.uniform(0.5, 4.0, N))
        dY, dXb, dYb = (cuda.to_device(np.zeros(N)) for _ in range(3))
        t = best_ms(lambda: prog.call(g, 1.3, dX, dY, 0.0, dXb, dYb))
        TIMES.append((f"Bessel J2 gradient, rev.parallel_for (DeviceArray; "
                      f"{N / (t * 1e-3):.2e} elements/s)", N, t))
    coo = Program(COO, target="cuda", grad=["coo"])
    m_, n_, nnz = 2000, 3000, 200_000
    row, col = rng.integers(0, m_, nnz), rng.integers(0, n_, nnz)
    vals, x, y, wy = (rng.standard_normal(nnz), rng.standard_normal(n_),
                      rng.standard_normal(m_), rng.standard_normal(m_))
    yy = y.copy()
    coo.call("coo", row, col, vals, x, yy)
    ref = y.copy()
    np.add.at(ref, row, vals * x[col])
    check("rev.parallel_for COO SpMV forward (atomic scatter)", rel(yy, ref) <= 1e-12)
    vb, xb = np.zeros(nnz), np.zeros(n_)
    coo.call(coo.gradient_names["coo"], row, col, vals, x, y.copy(), vb, xb, wy.copy())
    xref = np.zeros(n_)
    np.add.at(xref, col, vals * wy[row])
    check("rev.parallel_for COO SpMV gradient (x: atomic scatter, vals)",
          rel(xb, xref) <= 1e-12 and rel(vb, wy[row] * x[col]) <= 1e-12)


REV_SAXPY = """
rev.func @saxpy(%a: f64, %x: memref<?xf64>, %y: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %xi = memref.load %x[%i] : memref<?xf64>
    %t = arith.mulf %a, %xi : f64
    rev.add_at %y[%i], %t : memref<?xf64>
  }
  rev.return %a : f64
}
"""

ASSERT_CHILD = r"""
import sys, numpy as np
sys.path.insert(0, %r)
from mlir_rev import cuda
from mlir_rev.jit import RevError
src = open(%r).read()
m = cuda.Module(src)
x = np.ones(1000); x[517] = 0.0
try:
    m.call(%r, x, 2.0)
    print("NO ERROR")
except RevError as e:
    print("REVERROR", str(e).splitlines()[0])
"""


def check_assert_in_kernel(test_file, function, what):
    src = os.path.join(ROOT, "test", "conversion", test_file)
    p = subprocess.run([sys.executable, "-c", ASSERT_CHILD % (
        os.path.join(ROOT, "build", "python_packages", "rev"), src, function)],
        capture_output=True, text=True, timeout=120)
    out = p.stdout.strip().splitlines()
    ok = p.returncode == 0 and out and out[-1].startswith("REVERROR") and "ASSERT" in out[-1]
    check(f"failed check {what} -> RevError (device assert)", ok,
          (out[-1] if out else "") + (" | stderr: " + p.stderr.strip()[-300:] if not ok else ""))


def main():
    t0 = time.time()
    try:
        cuda.probe_driver()
    except RevError as e:
        print(f"RevError: {e}")
        print("0 passed, 1 failed")
        return 1
    try:
        run_checks()
    except Exception as e:  # report, and count it
        import traceback
        traceback.print_exc()
        check("run_checks completed", False, f"{type(e).__name__}: {e}")
    check_assert_in_kernel("gpu-checks.mlir", "scale", "in a kernel")
    check_assert_in_kernel("gpu-checks-calls.mlir", "run", "in a function a kernel calls")
    print()
    print(f"{'kernel':44s} {'n':>10s} {'best ms':>10s}")
    for name, n, ms in TIMES:
        print(f"{name:44s} {n:>10d} {ms:>10.3f}")
    passed = sum(ok for _, ok, _ in RESULTS)
    failed = len(RESULTS) - passed
    print(f"\n(total {time.time() - t0:.1f} s)")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
