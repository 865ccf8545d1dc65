"""scf.parallel kernels on OpenMP threads (target="openmp") beside the
sequential target (target="cpu", rev-to-llvm: the same loops run in order).

Kernels (func.func with the standard IR that a parallel rev loop lowers to):
  * forward: y[i] = a 24-term series of exp(x[i]) (independent iterations);
  * reduction: a0 + sum_i sin(x[i]) * w[i] (scf.reduce, addf);
  * spmv_t: COO SpMV transposed, xbar[col[k]] += val[k] * ybar[row[k]]
    (memref.atomic_rmw addf), with the atomics kept (privatize_atomics=False)
    and privatised (--rev-privatize-atomics, the default), with many more
    updates than elements of xbar and with fewer (where the pass's run-time
    test keeps the atomics).
Configurations: "seq" (target="cpu"), "omp1"/"omp2" (num_threads=1/2), and
"omp1 atomic"/"omp2 atomic" for the scatter. Each configuration's result is
checked against NumPy first. Timing: best of --repeats, the configurations
interleaved within each repeat, OpenMP threads pinned (OMP_PLACES=cores
OMP_PROC_BIND=close KMP_BLOCKTIME=0, set before the runtime loads) and, where
allowed, this process's autogroup niced to -15 (docs/parallel.md).
The table is printed and saved to benchmarks/results/openmp_kernels.{md,json}.

To add a row: append a Kernel to KERNELS (its MLIR source, the function, a
function making the arguments, a NumPy reference, the configurations).

Run: python benchmarks/openmp_kernels.py [--repeats 15] [--quick]
"""

from __future__ import annotations

import os

# Before libomp is loaded (it reads them once).
os.environ.setdefault("OMP_PLACES", "cores")
os.environ.setdefault("OMP_PROC_BIND", "close")
os.environ.setdefault("KMP_BLOCKTIME", "0")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))

from mlir_rev.jit import Program  # noqa: E402

FORWARD = r"""
func.func @forward(%X: memref<?xf64>, %Y: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c24 = arith.constant 24 : index
  %one = arith.constant 1.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %x = memref.load %X[%i] : memref<?xf64>
    %r:2 = scf.for %k = %c1 to %c24 step %c1 iter_args(%s = %one, %t = %one) -> (f64, f64) {
      %ki = arith.index_cast %k : index to i64
      %kf = arith.sitofp %ki : i64 to f64
      %q = arith.divf %x, %kf : f64
      %t1 = arith.mulf %t, %q : f64
      %s1 = arith.addf %s, %t1 : f64
      scf.yield %s1, %t1 : f64, f64
    }
    memref.store %r#0, %Y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
"""

REDUCTION = r"""
func.func @reduction(%X: memref<?xf64>, %W: memref<?xf64>, %n: index, %a0: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%a0) -> f64 {
    %x = memref.load %X[%i] : memref<?xf64>
    %w = memref.load %W[%i] : memref<?xf64>
    %s = math.sin %x : f64
    %p = arith.mulf %s, %w : f64
    scf.reduce(%p : f64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.addf %l, %rr : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}
"""

SPMV_T = r"""
func.func @spmv_t(%Val: memref<?xf64>, %Row: memref<?xindex>, %Col: memref<?xindex>,
                  %Ybar: memref<?xf64>, %Xbar: memref<?xf64>, %nnz: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%k) = (%c0) to (%nnz) step (%c1) {
    %v = memref.load %Val[%k] : memref<?xf64>
    %r = memref.load %Row[%k] : memref<?xindex>
    %j = memref.load %Col[%k] : memref<?xindex>
    %yb = memref.load %Ybar[%r] : memref<?xf64>
    %p = arith.mulf %v, %yb : f64
    %o = memref.atomic_rmw addf %p, %Xbar[%j] : (f64, memref<?xf64>) -> f64
    scf.reduce
  }
  return
}
"""

# name -> Program keywords
CONFIGS = {
    "seq": dict(target="cpu"),
    "omp1": dict(target="openmp", num_threads=1),
    "omp2": dict(target="openmp", num_threads=2),
    "omp1 atomic": dict(target="openmp", num_threads=1, privatize_atomics=False),
    "omp2 atomic": dict(target="openmp", num_threads=2, privatize_atomics=False),
}


@dataclass
class Kernel:
    name: str        # the row's name
    source: str      # MLIR
    func: str        # the function to call
    size: str        # the problem size, as printed
    make: object     # () -> (args, check): check(result, args) -> relative error
    configs: list = field(default_factory=lambda: ["seq", "omp1", "omp2"])


def rel(got, ref):
    got, ref = np.asarray(got, dtype=float), np.asarray(ref, dtype=float)
    return float(np.max(np.abs(got - ref)) / max(1.0, float(np.max(np.abs(ref)))))


def forward_case(n):
    def make():
        x = np.random.default_rng(0).uniform(-2, 2, n)
        y = np.zeros(n)
        return (x, y, n), lambda res, a: rel(a[1], np.exp(a[0]))
    return make


def reduction_case(n):
    def make():
        rng = np.random.default_rng(1)
        x, w = rng.uniform(-3, 3, n), rng.standard_normal(n)
        return (x, w, n, 0.5), lambda res, a: rel(res, 0.5 + float(np.sin(a[0]) @ a[1]))
    return make


def spmv_case(n, nnz, m=None):
    def make():
        rng = np.random.default_rng(2)
        cols = n if m is None else m
        row = rng.integers(0, n, nnz).astype(np.int64)
        col = rng.integers(0, cols, nnz).astype(np.int64)
        val, ybar = rng.standard_normal(nnz), rng.standard_normal(n)
        xbar = np.zeros(cols)

        def check(res, a):
            ref = np.zeros(cols)
            np.add.at(ref, a[2], a[0] * a[3][a[1]])
            return rel(a[4], ref)
        return (val, row, col, ybar, xbar, nnz), check
    return make


def kernels(quick):
    n = 200_000 if quick else 1_000_000
    nnz = 2_000_000 if quick else 10_000_000
    return [
        Kernel("forward (exp series, 24 terms)", FORWARD, "forward", f"n={n:.3g}",
               forward_case(n)),
        Kernel("reduction (sum sin(x)*w, scf.reduce)", REDUCTION, "reduction", f"n={n:.3g}",
               reduction_case(n)),
        Kernel("SpMV^T scatter (xbar[col] += val*ybar[row])", SPMV_T, "spmv_t",
               f"n={n:.3g}, nnz={nnz:.3g}", spmv_case(n, nnz),
               ["seq", "omp1 atomic", "omp2 atomic", "omp1", "omp2"]),
        # Fewer updates than elements of xbar: the run-time test of
        # --rev-privatize-atomics (min-trips-per-element=1) keeps the atomics.
        Kernel("SpMV^T scatter, nnz < len(xbar)", SPMV_T, "spmv_t",
               f"n={n:.3g}, len(xbar)={4 * n:.3g}, nnz={n // 4:.3g}",
               spmv_case(n, n // 4, m=4 * n), ["seq", "omp2 atomic", "omp2"]),
    ]


def nice_autogroup():
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write("-15")
        return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    niced = nice_autogroup()
    rows = []
    for k in kernels(args.quick):
        progs = {c: Program(k.source, **CONFIGS[c]) for c in k.configs}
        cases = {}
        for c, p in progs.items():
            a, check = k.make()
            res = p.call(k.func, *a)
            err = check(res, a)
            if not err < 1e-10:
                raise SystemExit(f"{k.name}, {c}: relative error {err:.3g} against NumPy")
            cases[c] = (a, err)
        best = {c: float("inf") for c in k.configs}
        for _ in range(args.repeats):
            for c in k.configs:  # interleaved
                a = cases[c][0]
                t0 = time.perf_counter()
                progs[c].call(k.func, *a)
                best[c] = min(best[c], time.perf_counter() - t0)
        row = dict(kernel=k.name, size=k.size,
                   ms={c: round(best[c] * 1e3, 3) for c in k.configs},
                   speedup_vs_seq={c: round(best["seq"] / best[c], 2) for c in k.configs},
                   max_rel_err={c: float(f"{cases[c][1]:.3g}") for c in k.configs})
        rows.append(row)
        print(f"{k.name} [{k.size}]: " + ", ".join(
            f"{c} {row['ms'][c]:.2f} ms ({row['speedup_vs_seq'][c]:.2f}x)" for c in k.configs),
            flush=True)

    env = {v: os.environ.get(v) for v in ("OMP_PLACES", "OMP_PROC_BIND", "KMP_BLOCKTIME")}
    meta = dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                machine=f"{platform.machine()}, {os.cpu_count()} CPUs", env=env,
                autogroup_niced=niced, repeats=args.repeats, quick=args.quick)
    lines = [f"# OpenMP kernels ({meta['date']}, {meta['machine']}, best of {args.repeats}, "
             f"interleaved; {' '.join(f'{k}={v}' for k, v in env.items())}; "
             f"autogroup nice -15: {'yes' if niced else 'no'})", "",
             "| kernel | size | config | time (ms) | speedup vs seq | max rel. error vs NumPy |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        for c in r["ms"]:
            lines.append(f"| {r['kernel']} | {r['size']} | {c} | {r['ms'][c]:.2f} | "
                         f"{r['speedup_vs_seq'][c]:.2f}x | {r['max_rel_err'][c]:.2g} |")
    lines += ["", "seq: target=\"cpu\" (rev-to-llvm, scf.parallel run in order); ompN: "
              "target=\"openmp\", num_threads=N (rev-to-openmp; the scatter privatised, "
              "one copy per thread, when the loop runs at least one iteration per element of "
              "xbar, else atomic); ompN atomic: privatize_atomics=False "
              "(memref.atomic_rmw: a lock cmpxchg loop on x86)."]
    text = "\n".join(lines)
    print(text)
    if not args.no_save:
        os.makedirs(RESULTS, exist_ok=True)
        name = "openmp_kernels_quick" if args.quick else "openmp_kernels"
        with open(os.path.join(RESULTS, name + ".md"), "w") as f:
            f.write(text + "\n")
        with open(os.path.join(RESULTS, name + ".json"), "w") as f:
            json.dump(dict(meta=meta, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
