"""target="openmp" (rev-to-openmp): scf.parallel loops on OpenMP threads.

The kernels are hand-written func.func functions holding the standard IR that
`--lower-rev` gives a parallel rev loop (scf.parallel, scf.reduce with an
addf combiner, memref.atomic_rmw addf). Each runs with the sequential target
("cpu": rev-to-llvm, where scf.parallel becomes an ordinary loop) and with
OpenMP on 1 and 2 threads, and is compared with NumPy.

Tolerances: loops without reductions or atomics compute each element the same
way on every target: bit-identical. A reduction or an atomic/privatised
scatter adds the same terms in another order: relative error (max |diff| over
max(1, max |reference|)) within 1e-12 for the sizes here (n * eps ~ 1e-10 is
the worst-case bound of a sum of 1e5..1e6 terms; the measured differences are
around 1e-14), against NumPy and against the sequential result.
"""
import ctypes
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from mlir_rev.ad import Derivatives
from mlir_rev.jit import Program, RevError, _mlir_lib_dir, openmp_library

RTOL = 1e-12

KERNELS = r"""
// y[i] = sin(x[i]) / (1 + x[i]^2): no reduction, no atomics.
func.func @elementwise(%X: memref<?xf64>, %Y: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %x : f64
    %x2 = arith.mulf %x, %x : f64
    %d = arith.addf %one, %x2 : f64
    %y = arith.divf %s, %d : f64
    memref.store %y, %Y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// a0 + sum_i x[i] * w[i] (a shared scalar adjoint: scf.reduce, addf).
func.func @dot(%X: memref<?xf64>, %W: memref<?xf64>, %n: index, %a0: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%a0) -> f64 {
    %x = memref.load %X[%i] : memref<?xf64>
    %w = memref.load %W[%i] : memref<?xf64>
    %p = arith.mulf %x, %w : f64
    scf.reduce(%p : f64) {
    ^bb0(%l: f64, %r: f64):
      %t = arith.addf %l, %r : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}

// COO SpMV transposed: xbar[col[k]] += val[k] * ybar[row[k]].
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

// A histogram: integer atomic adds (exact on every target).
func.func @histogram(%Bin: memref<?xindex>, %H: memref<?xi64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i64
  scf.parallel (%k) = (%c0) to (%n) step (%c1) {
    %b = memref.load %Bin[%k] : memref<?xindex>
    %o = memref.atomic_rmw addi %one, %H[%b] : (i64, memref<?xi64>) -> i64
    scf.reduce
  }
  return
}

// Both in one loop: a scatter into Xbar and two sums, sum v[k]^2 (f64) and
// the count (i64) (privatised with the sums carried by the chunks).
func.func @scatter_and_sums(%V: memref<?xf64>, %Col: memref<?xindex>, %Xbar: memref<?xf64>,
                            %n: index, %a0: f64, %i0: i64) -> (f64, i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i64
  %r:2 = scf.parallel (%k) = (%c0) to (%n) step (%c1) init (%a0, %i0) -> (f64, i64) {
    %v = memref.load %V[%k] : memref<?xf64>
    %j = memref.load %Col[%k] : memref<?xindex>
    %o = memref.atomic_rmw addf %v, %Xbar[%j] : (f64, memref<?xf64>) -> f64
    %sq = arith.mulf %v, %v : f64
    scf.reduce(%sq, %one : f64, i64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.addf %l, %rr : f64
      scf.reduce.return %t : f64
    }, {
    ^bb0(%l: i64, %rr: i64):
      %t = arith.addi %l, %rr : i64
      scf.reduce.return %t : i64
    }
  }
  return %r#0, %r#1 : f64, i64
}

// T[i] = the OpenMP thread that ran iteration i.
func.func private @omp_get_thread_num() -> i32
func.func @who(%T: memref<?xi32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %t = func.call @omp_get_thread_num() : () -> i32
    memref.store %t, %T[%i] : memref<?xi32>
    scf.reduce
  }
  return
}
"""

# Every OpenMP configuration: (num_threads, privatize_atomics).
OMP_CONFIGS = [(1, True), (2, True), (2, False), (None, True)]


def rel_err(got, ref):
    got, ref = np.asarray(got, dtype=float), np.asarray(ref, dtype=float)
    return float(np.max(np.abs(got - ref)) / max(1.0, float(np.max(np.abs(ref)))))


@pytest.fixture(scope="module")
def spmv_t_noalias():
    """spmv_t with its memref arguments marked as not sharing memory (the
    positions of their pointers in the LLVM signature, as --lower-rev sets
    them on a rev.func), on one thread, privatised."""
    start = KERNELS.index("func.func @spmv_t")
    src = KERNELS[start:KERNELS.index("\n}\n", start) + 3].replace(
        "%nnz: index) {", "%nnz: index) attributes {rev.noalias_ptr_args = "
        "array<i64: 0, 1, 5, 6, 10, 11, 15, 16, 20, 21>, rev.noalias_arg_count = 26 : i64} {")
    return Program(src, target="openmp", num_threads=1)


@pytest.fixture(scope="module")
def programs():
    progs = {"cpu": Program(KERNELS)}
    for nt, priv in OMP_CONFIGS:
        progs[(nt, priv)] = Program(KERNELS, target="openmp", num_threads=nt,
                                    privatize_atomics=priv)
    return progs


def coo(n, m, nnz, seed):
    rng = np.random.default_rng(seed)
    row = rng.integers(0, n, nnz).astype(np.int64)
    col = rng.integers(0, m, nnz).astype(np.int64)
    val = rng.standard_normal(nnz)
    return val, row, col


def test_openmp_runtime_found():
    path = openmp_library()
    lib = ctypes.CDLL(path)
    assert hasattr(lib, "__kmpc_fork_call")


def test_elementwise_bit_identical(programs):
    n = 100_003
    x = np.random.default_rng(0).uniform(-4, 4, n)
    ref = np.empty(n)
    programs["cpu"].call("elementwise", x, ref, n)
    # An independent reference (libm's sin may differ from NumPy's by 1 ulp).
    assert rel_err(ref, np.sin(x) / (1 + x * x)) < 1e-15
    for cfg in OMP_CONFIGS:
        y = np.full(n, np.nan)
        programs[cfg].call("elementwise", x, y, n)
        assert np.array_equal(y, ref), cfg


def test_empty_and_tiny_ranges(programs):
    x = np.linspace(0.5, 1.5, 3)
    for n in (0, 1, 3):
        ref = np.full(3, -7.0)
        programs["cpu"].call("elementwise", x, ref, n)
        assert rel_err(ref[:n], np.sin(x[:n]) / (1 + x[:n] ** 2)) < 1e-15 if n else True
        for key, p in programs.items():
            y = np.full(3, -7.0)
            p.call("elementwise", x, y, n)
            assert np.array_equal(y, ref), key
            assert np.all(y[n:] == -7.0), key
            assert p.call("dot", x, x.copy(), n, 0.25) == pytest.approx(0.25 + float(x[:n] @ x[:n]),
                                                                  rel=1e-15)


def test_reduction(programs):
    n = 1_000_001
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(n), rng.standard_normal(n)
    a0 = 3.25
    exact = a0 + math.fsum(x * w)  # each product is exact in fsum's input
    seq = programs["cpu"].call("dot", x, w, n, a0)
    assert abs(seq - exact) / max(1, abs(exact)) < RTOL
    for cfg in OMP_CONFIGS:
        got = programs[cfg].call("dot", x, w, n, a0)
        assert abs(got - exact) / max(1, abs(exact)) < RTOL, cfg
        assert abs(got - seq) / max(1, abs(seq)) < RTOL, cfg
    # One thread adds the terms in the sequential order into a private 0.0,
    # then the init value: a0 + (the sequential sum from 0), exactly.
    assert programs[(1, True)].call("dot", x, w, n, a0) == \
        a0 + programs["cpu"].call("dot", x, w, n, 0.0)


# nnz >= m: privatised (with privatize_atomics); nnz < m: the run-time test
# of --rev-privatize-atomics (min-trips-per-element=1) keeps the atomics.
@pytest.mark.parametrize("m, nnz", [(1, 400_000), (7, 400_000), (5000, 400_000),
                                    (300_000, 50_000)])
def test_spmv_transpose_scatter(programs, spmv_t_noalias, m, nnz):
    n = 3000
    val, row, col = coo(n, m, nnz, seed=m)
    ybar = np.random.default_rng(2).standard_normal(n)
    ref = np.zeros(m)
    np.add.at(ref, col, val * ybar[row])
    seq = np.zeros(m)
    programs["cpu"].call("spmv_t", val, row, col, ybar, seq, nnz)
    assert rel_err(seq, ref) < RTOL
    seq1 = np.ones(m)
    programs["cpu"].call("spmv_t", val, row, col, ybar, seq1, nnz)
    for cfg in OMP_CONFIGS:
        xbar = np.ones(m)  # added to, not overwritten
        programs[cfg].call("spmv_t", val, row, col, ybar, xbar, nnz)
        assert rel_err(xbar - 1.0, ref) < RTOL, cfg
        assert rel_err(xbar - 1.0, seq) < RTOL, cfg
    # One thread, privatised, where Xbar has no other name (a function whose
    # memref arguments do not share memory, as --lower-rev marks a rev.func):
    # the one chunk adds into xbar itself in the sequential order (no copy):
    # bit for bit the sequential result. (A plain func.func's arguments may
    # share memory: there chunk 0 adds into a copy too.)
    xbar = np.ones(m)
    spmv_t_noalias.call("spmv_t", val, row, col, ybar, xbar, nnz)
    assert np.array_equal(xbar, seq1)


@pytest.mark.parametrize("m, nnz", [(50, 300_001), (100_000, 1000), (10, 0)])
def test_scatter_and_sums(programs, m, nnz):
    rng = np.random.default_rng(m)
    val = rng.standard_normal(nnz)
    col = rng.integers(0, m, nnz).astype(np.int64)
    ref = np.full(m, 0.5)
    np.add.at(ref, col, val)
    s_ref = -1.0 + math.fsum(val * val)
    for key, p in programs.items():
        xbar = np.full(m, 0.5)
        s, cnt = p.call("scatter_and_sums", val, col, xbar, nnz, -1.0, 7)
        assert cnt == 7 + nnz, key
        assert abs(s - s_ref) / max(1.0, abs(s_ref)) < RTOL, key
        assert rel_err(xbar, ref) < RTOL, key


def test_histogram_exact(programs):
    n, m = 500_000, 37
    bins = np.random.default_rng(3).integers(0, m, n).astype(np.int64)
    ref = np.bincount(bins, minlength=m).astype(np.int64)
    for key, p in programs.items():
        h = np.full(m, 5, dtype=np.int64)
        p.call("histogram", bins, h, n)
        assert np.array_equal(h, ref + 5), key


def test_num_threads_per_program():
    # In a fresh process: `who` asks omp_get_thread_num, and when another
    # OpenMP runtime is already loaded (PyTorch's libgomp, imported by
    # test_interop_torch at collection) that name may bind to it (0 outside
    # its own regions). The loops themselves go through libomp's __kmpc_*
    # entry points, which only libomp has.
    script = """
import json
import numpy as np
from mlir_rev.jit import Program
from test_openmp import KERNELS
n = 10_000
programs = {nt: Program(KERNELS, target="openmp", num_threads=nt) for nt in (1, 2)}
ids = {}
# Interleaved calls: each Program keeps its own thread count.
for _ in range(2):
    for nt in (1, 2, 1):
        t = np.full(n, -1, dtype=np.int32)
        programs[nt].call("who", t, n)
        ids[nt] = t
        assert t.min() >= 0
print(json.dumps({k: v.tolist() for k, v in ids.items()}))
"""
    here = os.path.dirname(os.path.abspath(__file__))
    pkg = os.path.join(os.path.dirname(os.path.dirname(here)), "build", "python_packages", "rev")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([pkg, here]))
    env.pop("OMP_NUM_THREADS", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    ids = {int(k): np.array(v) for k, v in json.loads(out.stdout.splitlines()[-1]).items()}
    assert set(ids[1].tolist()) == {0}
    # Static schedule: two contiguous halves.
    assert set(ids[2].tolist()) == {0, 1}
    assert np.all(np.diff(ids[2]) >= 0)


def test_gradient_through_openmp():
    # A rev function (no parallel loop): the OpenMP target compiles it like
    # the sequential one, and mlir_rev.ad passes target/num_threads through.
    src = """
    rev.func @f(%x: f64, %A: memref<?xf64>, %B: memref<?xf64>, %n: index) -> (f64, index) {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      rev.for %i = %c0 to %n step %c1 {
        %b = memref.load %B[%i] : memref<?xf64>
        %s = math.sin %b : f64
        %d = arith.mulf %x, %s : f64
        rev.add_at %A[%i], %d : memref<?xf64>
      }
      rev.return %x, %n : f64, index
    }
    """
    n = 9
    a, b = np.linspace(0, 1, n), np.linspace(1, 2, n)
    g_cpu = Derivatives(src, "f").gradient(0.5, a, b, n, output=(1, 3))
    g_omp = Derivatives(src, "f", target="openmp", num_threads=2).gradient(
        0.5, a, b, n, output=(1, 3))
    assert g_cpu[0] == pytest.approx(math.sin(b[3]), rel=1e-15)
    for u, v in zip(g_cpu, g_omp):
        assert np.array_equal(np.asarray(u), np.asarray(v))


@pytest.mark.parametrize("kw, match", [
    (dict(target="gpu"), "target must be one of 'cpu', 'openmp', 'cuda'"),
    (dict(target=None), "target must be one of"),
    (dict(target="cuda", num_threads=2), "num_threads is an option of target='openmp'"),
    (dict(num_threads=2), "num_threads is an option of target='openmp'"),
    (dict(target="openmp", num_threads=0), "num_threads must be None or an integer"),
    (dict(target="openmp", num_threads=2.0), "num_threads must be None or an integer"),
    (dict(target="openmp", num_threads=True), "num_threads must be None or an integer"),
    (dict(target="openmp", privatize_atomics="yes"), "privatize_atomics must be True or False"),
    (dict(privatize_atomics=False), "privatize_atomics is an option of target='openmp'"),
])
def test_bad_options(kw, match):
    with pytest.raises(RevError, match=match):
        Program(KERNELS, **kw)
    with pytest.raises(RevError, match=match):
        Derivatives("rev.func @f(%x: f64) -> f64 { rev.return %x : f64 }", "f", **kw)


def test_missing_runtime(monkeypatch):
    monkeypatch.setenv("REV_OPENMP_LIB", "/nonexistent/libomp.so.5")
    with pytest.raises(RevError, match=r"no OpenMP runtime .*no such file.*apt-get install "
                                       r"libomp5-19"):
        Program(KERNELS, target="openmp")
    # The sequential target needs no OpenMP runtime.
    Program(KERNELS).call("elementwise", np.zeros(1), np.zeros(1), 1)


def test_wrong_runtime(monkeypatch):
    # A library that loads but is not the LLVM OpenMP runtime (MLIR's runner
    # utils here; GCC's libgomp, which lacks the __kmpc_* entry points, is
    # refused alike).
    monkeypatch.setenv("REV_OPENMP_LIB", os.path.join(_mlir_lib_dir(), "libmlir_c_runner_utils.so"))
    with pytest.raises(RevError, match="not the LLVM OpenMP runtime"):
        Program(KERNELS, target="openmp")


def test_num_threads_none_follows_the_runtime():
    # A fresh process (the runtime reads OMP_NUM_THREADS once): None takes
    # OMP_NUM_THREADS=1 and then omp_set_num_threads(2), process-wide; a
    # Program with num_threads=2 runs 2 threads whatever the runtime says.
    script = """
import ctypes, os
import numpy as np
from mlir_rev.jit import Program, openmp_library
from test_openmp import KERNELS
n = 1000
def who(p):
    t = np.full(n, -1, dtype=np.int32)
    p.call("who", t, n)
    return sorted(set(t.tolist()))
default, two = Program(KERNELS, target="openmp"), Program(KERNELS, target="openmp", num_threads=2)
print(who(default), who(two))
ctypes.CDLL(openmp_library()).omp_set_num_threads(2)
print(who(default), who(two))
"""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    here = os.path.dirname(os.path.abspath(__file__))
    pkg = os.path.join(os.path.dirname(os.path.dirname(here)), "build", "python_packages", "rev")
    env["PYTHONPATH"] = os.pathsep.join([pkg, here])
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[0] [0, 1]", "[0, 1] [0, 1]"]
