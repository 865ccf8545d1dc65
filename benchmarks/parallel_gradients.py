"""rev.parallel_for programs, forward and gradient: sequential vs OpenMP vs JAX
vs PyTorch.

Programs (the rev sources of test/python/test_parallel.py):
  * bessel: Y[i] += a * J_2(X[i]) (30-term series per element, a routine with
    two ancillas) in a rev.parallel_for, a shared scale `a` (its adjoint is a
    sum over the elements: scf.reduce); n = 1e6 and 1e7;
  * csr: y[r] += sum_k vals[k] * x[col[k]] over rows (parallel over rows);
    its gradient scatters into xbar[col[k]] (shared: atomic, or privatised by
    rev-to-openmp) and valsbar (shared too: k runs over the row's range,
    which the verifier cannot prove disjoint); 1e6 rows, 10 nonzeros per row;
  * coo: the same matrix as y[row[k]] += vals[k] * x[col[k]], parallel over
    the nonzeros (y shared in the forward; valsbar private in the gradient).
Configurations, in the same run: rev target="cpu" (rev-to-llvm: the loops run
in order), rev target="openmp" with 1 and 2 threads (threads pinned:
OMP_PLACES=cores OMP_PROC_BIND=close KMP_BLOCKTIME=0), and JAX (float64,
CPU, XLA's own threads): for bessel `jit(vmap(grad(J2)))` per element (as
benchmarks/besselj2_batched.py) and a jitted weighted sum of J2 for d/da,
for the sparse products `jit(grad)` of the objective with `segment_sum`; and
PyTorch (eager, CPU, float64, threads as benchmarks/torch_peer.py says): the
same programs vectorised, `index_add` for the sparse products,
`torch.autograd.grad` of the objective; and, for the sparse products, the same
loops written by hand in C (benchmarks/spmv_peer.c, gcc -O3 -march=native
-fopenmp, the privatisation rev-to-openmp generates) on 1 thread and on one
per core: what this machine gives a hand-written version of the algorithm.
JAX, PyTorch and C each run in a fresh child process with the CPU affinity
this process had at its start (libomp's binding pins the parent's thread, and
a child inherits that mask).
The gradient is rev's compiled `@f_grad` (forward, then the tape-free backward
sweep) called directly, for the objective sum(w * Y_final). Times: best of
--repeats rounds, each running every configuration's forward and gradient
once (interleaved); the caller's zeroing of the shadow arrays before each
gradient call is not timed (its median is printed under the table). Every configuration's gradient is
compared with the sequential one (max relative difference printed); a PyTorch
gradient more than 1e-8 from it makes the script exit with status 1.
For the sparse products, each configuration's gradient extra memory on its
first call in a fresh child process (MiB and bytes per nonzero,
benchmarks/memory_probe.py). Saved to
benchmarks/results/parallel_gradients.{md,json}.

Run: python benchmarks/parallel_gradients.py [--repeats 5] [--quick]
"""

from __future__ import annotations

import os

# before libomp binds this thread: the cores the JAX and PyTorch children get
START_CPUS = sorted(os.sched_getaffinity(0))
os.environ.setdefault("OMP_PLACES", "cores")
os.environ.setdefault("OMP_PROC_BIND", "close")
os.environ.setdefault("KMP_BLOCKTIME", "0")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
sys.path.insert(0, os.path.join(ROOT, "test", "python"))

from mlir_rev.jit import Program  # noqa: E402
from memory_probe import first_call_memory, mib, per  # noqa: E402
from timing import min_time  # noqa: E402
from test_parallel import BESSEL, COO, CSR  # noqa: E402

CONFIGS = {"rev seq": dict(target="cpu"),
           "rev omp 1": dict(target="openmp", num_threads=1),
           "rev omp 2": dict(target="openmp", num_threads=2)}


def nice_autogroup():
    """This process's autogroup at nice -15 (GPU.md pitfall 8: on the shared
    VM, `nice` alone has no effect across session autogroups)."""
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write("-15")
        return True
    except OSError:
        return False


def bessel_case(n):
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 4.0, n)
    Y = rng.uniform(-1, 1, n)
    w = rng.uniform(-1, 1, n)
    return X, Y, w


def interleaved(cases, repeats):
    """Times of each case's forward and gradient, the cases interleaved: one
    untimed warm-up round, then `repeats` rounds, each running every case's
    forward and then its gradient once (so that a change in the machine's
    state, frequent on this shared VM, hits every case alike). `cases`: name
    -> (forward, reset, gradient); `reset` (untimed, before each gradient
    call) zeroes the caller's shadow arrays, into which the gradient
    accumulates. Returns name -> (best forward s, best gradient s) and the
    median seconds of a reset."""
    fwd = {name: [] for name in cases}
    grad = {name: [] for name in cases}
    resets = []
    for rnd in range(repeats + 1):
        for name, (f, reset, g) in cases.items():
            t0 = time.perf_counter()
            f()
            t1 = time.perf_counter()
            reset()
            t2 = time.perf_counter()
            g()
            t3 = time.perf_counter()
            if rnd:
                fwd[name].append(t1 - t0)
                grad[name].append(t3 - t2)
                resets.append(t2 - t1)
    return {name: (min(fwd[name]), min(grad[name])) for name in cases}, statistics.median(resets)


# the median seconds the caller spends zeroing the shadows before a gradient
# call (program, size) -> s; not in the gradient times (see interleaved)
RESETS = {}


def run_bessel(n, repeats):
    X, Y, w = bessel_case(n)
    a = 1.3
    grads = {}
    cases = {}
    for name, kw in CONFIGS.items():
        p = Program(BESSEL, grad=["bessel"], **kw)
        g = p.gradient_names["bessel"]
        Yf = Y.copy()
        Xb, Yb = np.zeros(n), w.copy()

        def reset(Xb=Xb):
            Xb[...] = 0

        def grad(p=p, g=g, Xb=Xb, Yb=Yb, name=name):
            grads[name] = p.call(g, a, X, Y, 0.0, Xb, Yb)[1], Xb
        cases[name] = (lambda p=p, Yf=Yf: p.call("bessel", a, X, Yf), reset, grad)
    rows, RESETS[("bessel", n)] = interleaved(cases, repeats)
    grads = {name: (ga, Xb.copy()) for name, (ga, Xb) in grads.items()}
    rows["JAX jit"] = in_child("jax", "bessel", n, repeats, grads)
    rows["PyTorch eager"] = in_child("torch", "bessel", n, repeats, grads)
    return rows, grads


def jax_bessel(X, Y, w, a, repeats, grads):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def j2(x):
        h2 = (x / 2) ** 2
        t = h2 / 2
        s = t
        for k in range(1, 30):
            t = t * (-h2 / (k * (k + 2)))
            s = s + t
        return s

    def fwd(a, X, Y):
        return Y + a * jax.vmap(j2)(X)

    # The gradient of sum(w * (Y + a * J2(X))): the fastest JAX form found
    # (measured on this machine, n = 1e6): two jitted functions, jit(vmap(grad
    # (J2))) per element (7 ms, as in besselj2_batched.py) and the weighted
    # sum of J2 for d/da. One jit holding both, jax.grad of the array
    # program, or vmap(value_and_grad) all run 110-160 ms: XLA then keeps
    # every term's array for the backward pass instead of one fused loop.
    dj2 = jax.jit(jax.vmap(jax.grad(j2)))
    sum_j2 = jax.jit(lambda X, w: jnp.sum(w * jax.vmap(j2)(X)))

    def g(a, X, Y, w):
        return sum_j2(X, w), a * w * dj2(X)

    f = jax.jit(fwd)
    Xj, Yj, wj = map(jnp.asarray, (X, Y, w))
    t_fwd = min_time(lambda: f(a, Xj, Yj).block_until_ready(), repeats, warmup=True)
    t_grad = min_time(lambda: jax.block_until_ready(g(a, Xj, Yj, wj)), repeats, warmup=True)
    ga, gX = g(a, Xj, Yj, wj)
    grads["JAX jit"] = (float(ga), np.asarray(gX))
    return t_fwd, t_grad


def csr_case(m, per_row):
    rng = np.random.default_rng(1)
    n = m
    col = rng.integers(0, n, m * per_row).astype(np.int64)
    vals = rng.uniform(-1, 1, m * per_row)
    rowptr = (np.arange(m + 1) * per_row).astype(np.int64)
    x, y, w = rng.uniform(-1, 1, n), rng.uniform(-1, 1, m), rng.uniform(-1, 1, m)
    return rowptr, col, vals, x, y, w


def run_csr(m, per_row, repeats, fmt="csr"):
    rowptr, col, vals, x, y, w = csr_case(m, per_row)
    first = rowptr if fmt == "csr" else np.repeat(np.arange(m), per_row).astype(np.int64)
    src = CSR if fmt == "csr" else COO
    cases, shadows = {}, {}
    for name, kw in CONFIGS.items():
        p = Program(src, grad=[fmt], **kw)
        g = p.gradient_names[fmt]
        yf = y.copy()
        vb, xb, yb = np.zeros_like(vals), np.zeros_like(x), w.copy()
        shadows[name] = (vb, xb)

        def reset(vb=vb, xb=xb):
            vb[...] = 0
            xb[...] = 0
        cases[name] = (lambda p=p, yf=yf: p.call(fmt, first, col, vals, x, yf), reset,
                       lambda p=p, g=g, vb=vb, xb=xb, yb=yb:
                       p.call(g, first, col, vals, x, y, vb, xb, yb))
    rows, RESETS[(fmt, m)] = interleaved(cases, repeats)
    # the shadows after the last call: one gradient's worth
    grads = {name: (vb.copy(), xb.copy()) for name, (vb, xb) in shadows.items()}
    rows.update(c_peer(fmt, m, repeats, grads))
    rows["JAX jit"] = in_child("jax", fmt, m, repeats, grads)
    rows["PyTorch eager"] = in_child("torch", fmt, m, repeats, grads)
    return rows, grads


def jax_csr(rowptr, col, vals, x, y, w, repeats, grads):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    m = len(y)
    row = np.repeat(np.arange(m), np.diff(rowptr))
    rowj, colj = jnp.asarray(row), jnp.asarray(col)

    def fwd(vals, x, y):
        return y + jax.ops.segment_sum(vals * x[colj], rowj, num_segments=m)

    def loss(vals, x, y, w):
        return jnp.sum(w * fwd(vals, x, y))

    vj, xj, yj, wj = map(jnp.asarray, (vals, x, y, w))
    # compiled ahead of time, so that the first gradient call only runs
    f = jax.jit(fwd).lower(vj, xj, yj).compile()
    g = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(vj, xj, yj, wj).compile()
    grads["extra_kib"] = first_call_memory(
        lambda: jax.block_until_ready(g(vj, xj, yj, wj)))[0]
    t_fwd = min_time(lambda: f(vj, xj, yj).block_until_ready(), repeats, warmup=True)
    t_grad = min_time(lambda: jax.block_until_ready(g(vj, xj, yj, wj)), repeats, warmup=True)
    gv, gx = g(vj, xj, yj, wj)
    grads["JAX jit"] = (np.asarray(gv), np.asarray(gx))
    return t_fwd, t_grad


def j2_torch(x):
    """J_2 of every element of x: the series in eager PyTorch (as jax_bessel's)."""
    h2 = (x / 2) ** 2
    t = h2 / 2
    s = t
    for k in range(1, 30):
        t = t * (-h2 / (k * (k + 2)))
        s = s + t
    return s


def torch_bessel(X, Y, w, a, repeats, grads):
    from torch_peer import import_torch
    torch = import_torch()
    Xt, Yt, wt = map(torch.from_numpy, (X, Y, w))
    at = torch.tensor(a, dtype=torch.float64)
    ag, Xg = at.clone().requires_grad_(), Xt.clone().requires_grad_()

    def fwd(a, X, Y):
        return Y + a * j2_torch(X)

    def g():  # the gradient of sum(w * Y_final) w.r.t. a and X
        return torch.autograd.grad(torch.sum(wt * fwd(ag, Xg, Yt)), (ag, Xg))
    t_fwd = min_time(lambda: fwd(at, Xt, Yt), repeats, warmup=True)
    t_grad = min_time(g, repeats, warmup=True)
    ga, gX = g()
    grads["PyTorch eager"] = (float(ga), gX.numpy())
    return t_fwd, t_grad


def torch_csr(rowptr, col, vals, x, y, w, repeats, grads):
    """y + A x with A's rows as an index_add over the nonzeros (the
    segment_sum of jax_csr); the gradient w.r.t. the values and x."""
    from torch_peer import import_torch
    torch = import_torch()
    m = len(y)
    per_row = int(rowptr[1] - rowptr[0])
    row = torch.from_numpy(np.repeat(np.arange(m), np.diff(rowptr)))
    colt = torch.from_numpy(col)
    vt, xt, yt, wt = map(torch.from_numpy, (vals, x, y, w))
    vg, xg = vt.clone().requires_grad_(), xt.clone().requires_grad_()

    def fwd(vals, x, y):
        return y.index_add(0, row, vals * x[colt])

    def g():
        return torch.autograd.grad(torch.sum(wt * fwd(vg, xg, yt)), (vg, xg))
    # autograd's and the allocator's one-time set-up, on one row
    one = [a[:per_row].clone().requires_grad_() for a in (vt, xt)]
    torch.autograd.grad(torch.sum(wt[:1] * yt[:1].index_add(0, row[:per_row] * 0,
                                                            one[0] * one[1])), one)
    grads["extra_kib"] = first_call_memory(g)[0]
    t_fwd = min_time(lambda: fwd(vt, xt, yt), repeats, warmup=True)
    t_grad = min_time(g, repeats, warmup=True)
    gv, gx = g()
    grads["PyTorch eager"] = (gv.numpy(), gx.numpy())
    return t_fwd, t_grad


PEERS = {"jax": ("JAX jit", jax_bessel, jax_csr),
         "torch": ("PyTorch eager", torch_bessel, torch_csr)}


def in_child(peer, kind, n, repeats, grads):
    """JAX's or PyTorch's row, measured in a fresh process with the OpenMP
    variables removed and the CPUs this process had at its start: here libomp
    (OMP_PROC_BIND) has pinned the main thread to one core, which a child
    inherits. The child rebuilds the same inputs from the same seeds."""
    import subprocess
    import tempfile
    label = PEERS[peer][0]
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "peer.npz")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "KMP_"))}
        env["REV_BENCH_CPUS"] = ",".join(map(str, START_CPUS))
        subprocess.run([sys.executable, os.path.abspath(__file__), "--peer-child", peer, kind,
                        "--n", str(n), "--repeats", str(repeats), "--out", out],
                       check=True, env=env)
        r = np.load(out)
        grads[label] = (r["g0"], r["g1"])
        if "extra_kib" in r:
            MEMORY[(kind, n, label)] = int(r["extra_kib"])
        return float(r["t_fwd"]), float(r["t_grad"])


def peer_child(peer, kind, n, repeats, out):
    cpus = os.environ.get("REV_BENCH_CPUS")
    if cpus:
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    grads = {}
    label, bessel, csr = PEERS[peer]
    if kind == "bessel":
        X, Y, w = bessel_case(n)
        t = bessel(X, Y, w, 1.3, repeats, grads)
    else:
        rowptr, col, vals, x, y, w = csr_case(n, 10)
        t = csr(rowptr, col, vals, x, y, w, repeats, grads)
    g0, g1 = grads[label]
    mem = {"extra_kib": grads["extra_kib"]} if "extra_kib" in grads else {}
    np.savez(out, t_fwd=t[0], t_grad=t[1], g0=np.asarray(g0), g1=np.asarray(g1), **mem)


def build_c_peer(directory):
    """benchmarks/spmv_peer.c as a shared library in `directory` (cc -O3
    -march=native -fopenmp); None, with a message, where that fails."""
    import shutil
    import subprocess
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        print("no C compiler (cc): the hand-written C rows are skipped", flush=True)
        return None
    lib = os.path.join(directory, "libspmv_peer.so")
    cmd = [cc, "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-o", lib,
           os.path.join(ROOT, "benchmarks", "spmv_peer.c")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        print(f"{' '.join(cmd)} failed: the hand-written C rows are skipped\n{r.stderr}",
              flush=True)
        return None
    return lib


# one thread per core this process had at its start (a child is told them)
C_THREADS = len(os.environ["REV_BENCH_CPUS"].split(",") if "REV_BENCH_CPUS" in os.environ
                else START_CPUS)
C_LABELS = {1: "C by hand (gcc -O3 -fopenmp), 1 thread",
            C_THREADS: f"C by hand (gcc -O3 -fopenmp), {C_THREADS} threads"}
C_DESCRIPTION = None  # the compiler's version line, once built
C_FORWARDS = {}  # label -> y + A x from the last c_peer call (for the tests)


def c_peer(kind, m, repeats, grads):
    """The hand-written C peer's rows (1 thread and one per core), measured
    in a fresh child process (its OpenMP runtime, libgomp, is not the one
    rev's code calls, libomp); their gradients go into `grads`."""
    import subprocess
    import tempfile
    global C_DESCRIPTION
    with tempfile.TemporaryDirectory() as d:
        lib = build_c_peer(d)
        if lib is None:
            return {}
        if C_DESCRIPTION is None:
            cc = os.environ.get("CC", "cc")
            C_DESCRIPTION = subprocess.run([cc, "--version"], capture_output=True,
                                           text=True).stdout.splitlines()[0]
        out = os.path.join(d, "c.npz")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "KMP_"))}
        env.update(REV_BENCH_CPUS=",".join(map(str, START_CPUS)), OMP_PROC_BIND="close",
                   OMP_PLACES="cores")
        subprocess.run([sys.executable, os.path.abspath(__file__), "--c-child", kind, lib,
                        "--n", str(m), "--repeats", str(repeats), "--out", out],
                       check=True, env=env)
        r = np.load(out)
        for t, label in C_LABELS.items():
            grads[label] = (r[f"vb_{t}"], r[f"xb_{t}"])
            C_FORWARDS[label] = r[f"y_{t}"]
        return {C_LABELS[t]: (float(r[f"t_fwd_{t}"]), float(r[f"t_grad_{t}"]))
                for t in sorted(C_LABELS)}


def c_child(kind, lib, m, repeats, out):
    import ctypes
    cpus = os.environ.get("REV_BENCH_CPUS")
    if cpus:
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    so = ctypes.CDLL(lib)
    rowptr, col, vals, x, y, w = csr_case(m, 10)
    row = np.repeat(np.arange(m), 10).astype(np.int64)

    def ptr(a):
        return a.ctypes.data_as(ctypes.c_void_p)
    i64 = ctypes.c_int64
    cases = {}
    shadows = {}
    for t in sorted(C_LABELS):
        yf = y.copy()
        vb, xb = np.zeros_like(vals), np.zeros_like(x)
        shadows[t] = (vb, xb)

        def reset(vb=vb, xb=xb):
            vb[...] = 0
            xb[...] = 0
        if kind == "csr":
            fwd = (lambda t=t, yf=yf: so.csr_forward(i64(m), ptr(rowptr), ptr(col), ptr(vals),
                                                     ptr(x), ptr(yf), t))
            grad = (lambda t=t, vb=vb, xb=xb: so.csr_gradient(
                i64(m), i64(len(x)), ptr(rowptr), ptr(col), ptr(vals), ptr(x), ptr(w), ptr(vb),
                ptr(xb), t))
        else:
            fwd = (lambda t=t, yf=yf: so.coo_forward(i64(len(vals)), i64(m), ptr(row), ptr(col),
                                                     ptr(vals), ptr(x), ptr(yf), t))
            grad = (lambda t=t, vb=vb, xb=xb: so.coo_gradient(
                i64(len(vals)), i64(len(x)), ptr(row), ptr(col), ptr(vals), ptr(x), ptr(w),
                ptr(vb), ptr(xb), t))
        cases[t] = (fwd, reset, grad)
    rows, _ = interleaved(cases, repeats)
    # one forward from y (the timed ones accumulated into their copies)
    forwards = {}
    for t in C_LABELS:
        yf = y.copy()
        if kind == "csr":
            so.csr_forward(i64(m), ptr(rowptr), ptr(col), ptr(vals), ptr(x), ptr(yf), t)
        else:
            so.coo_forward(i64(len(vals)), i64(m), ptr(row), ptr(col), ptr(vals), ptr(x),
                           ptr(yf), t)
        forwards[f"y_{t}"] = yf
    np.savez(out, **forwards, **{f"vb_{t}": vb for t, (vb, xb) in shadows.items()},
             **{f"xb_{t}": xb for t, (vb, xb) in shadows.items()},
             **{f"t_fwd_{t}": rows[t][0] for t in rows},
             **{f"t_grad_{t}": rows[t][1] for t in rows})


# (program, size, configuration) -> the gradient's extra memory (KiB) on its
# first call in a fresh child process (the sparse products only)
MEMORY = {}


def rev_memory_child(config, kind, m, out):
    """rev's sparse-product gradient in a fresh process: its extra memory on
    the first call (benchmarks/memory_probe.py), the caller's shadow arrays
    resident before it (they do not count)."""
    cpus = os.environ.get("REV_BENCH_CPUS")
    if cpus:
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    rowptr, col, vals, x, y, w = csr_case(m, 10)
    first = rowptr if kind == "csr" else np.repeat(np.arange(m), 10).astype(np.int64)
    p = Program(CSR if kind == "csr" else COO, grad=[kind], **CONFIGS[config])
    g = p.gradient_names[kind]
    # the JIT materialises code on the first call of each symbol: one row first
    p.call(g, first[:2] if kind == "csr" else first[:10], col[:10], vals[:10], x, y[:1].copy(),
           np.zeros(10), np.zeros_like(x), w[:1].copy())
    vb, xb, yb = np.zeros_like(vals), np.zeros_like(x), w.copy()
    vb.fill(0.0), xb.fill(0.0)
    extra = first_call_memory(lambda: p.call(g, first, col, vals, x, y, vb, xb, yb))[0]
    with open(out, "w") as f:
        json.dump({"extra_kib": extra}, f)


def rev_memory(kind, m):
    """Run rev_memory_child for every rev configuration; fills MEMORY."""
    import subprocess
    import tempfile
    for config in CONFIGS:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "mem.json")
            env = dict(os.environ, REV_BENCH_CPUS=",".join(map(str, START_CPUS)))
            subprocess.run([sys.executable, os.path.abspath(__file__), "--mem-child", config,
                            kind, "--n", str(m), "--out", out], check=True, env=env)
            with open(out) as f:
                MEMORY[(kind, m, config)] = json.load(f)["extra_kib"]


def max_rel(a, b):
    out = 0.0
    for u, v in zip(a, b):
        u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
        out = max(out, float(np.max(np.abs(u - v)) / max(1.0, float(np.max(np.abs(v))))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--peer-child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--mem-child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--c-child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer_child:
        peer_child(*args.peer_child, args.n, args.repeats, args.out)
        return
    if args.mem_child:
        rev_memory_child(*args.mem_child, args.n, args.out)
        return
    if args.c_child:
        c_child(*args.c_child, args.n, args.repeats, args.out)
        return
    from torch_peer import Checks, describe
    checks = Checks("parallel_gradients.py")
    niced = nice_autogroup()
    cases = ([("bessel", 10_000), ("csr", 10_000), ("coo", 10_000)] if args.quick else
             [("bessel", 1_000_000), ("bessel", 10_000_000), ("csr", 1_000_000),
              ("coo", 1_000_000)])
    lines = [f"# rev.parallel_for: forward and gradient, sequential / OpenMP / JAX / PyTorch "
             f"({platform.node()}, {os.cpu_count()} cores, best of {args.repeats} interleaved "
             f"rounds, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average before "
             f"{os.getloadavg()[0]:.2f}, autogroup nice -15: {'yes' if niced else 'no'}; "
             f"{describe()}; JAX and PyTorch in child processes on CPUs "
             f"{','.join(map(str, START_CPUS))})", "",
             "| program | size | configuration | forward (ms) | gradient (ms) | "
             "speed-up vs rev seq (fwd / grad) | grad max rel. diff vs rev seq | gradient extra "
             "memory (MiB) | gradient extra memory (bytes per nonzero) |",
             "|---|---|---|---|---|---|---|---|---|"]
    data = []
    for kind, n in cases:
        if kind == "bessel":
            rows, grads = run_bessel(n, args.repeats)
            size = f"n = {n:.0e}"
        else:
            rows, grads = run_csr(n, 10, args.repeats, kind)
            rev_memory(kind, n)
            size = f"{n:.0e} rows x 10"
        f0, g0 = rows["rev seq"]
        for name, (tf, tg) in rows.items():
            diff = max_rel(grads[name], grads["rev seq"])
            if name == "PyTorch eager":
                checks.check(f"{kind} {size}", diff)
            kib = MEMORY.get((kind, n, name))
            lines.append(f"| {kind} | {size} | {name} | {1e3 * tf:.1f} | {1e3 * tg:.1f} | "
                         f"{f0 / tf:.2f} / {g0 / tg:.2f} | {diff:.1e} | "
                         + (f"{mib(kib)} | {per(kib, 10 * n)} |" if kib is not None
                            else "not measured | |"))
            data.append(dict(program=kind, size=n, config=name, forward_s=tf, gradient_s=tg,
                             grad_rel_diff=diff, extra_kib=kib))
        print("\n".join(lines[-len(rows):]), flush=True)
    lines += ["", "Gradient extra memory (csr and coo rows): the rise of the resident-set "
              "high-water mark during the first gradient call in a fresh child process over "
              "the resident set just before it (compiled code and inputs resident, the heap's "
              "free pages handed back by malloc_trim(0) first; benchmarks/memory_probe.py); "
              "rev writes the gradients into caller-provided shadow arrays (not counted), JAX "
              "and PyTorch allocate theirs in the call (counted: 8 bytes per nonzero and 8 per "
              "row of x). Not measured for the Bessel rows (benchmarks/besselj2_batched.py "
              "has that column).", "",
              "Times: in each round every rev configuration (and, in its own child process, "
              "every C configuration) runs its forward and then its gradient once; a "
              "configuration's time is its best round. rev's and C's gradient times leave out "
              "the caller's zeroing of the shadow arrays before each call (the gradient "
              "accumulates into them; NumPy, one thread: median "
              + ", ".join(f"{k} {n:.0e} {1e3 * t:.1f} ms" for (k, n), t in RESETS.items())
              + "); JAX and PyTorch allocate and fill their gradients in the call."]
    if C_DESCRIPTION:
        lines += ["", f"C by hand: benchmarks/spmv_peer.c ({C_DESCRIPTION}; -O3 -march=native "
                  "-fopenmp, libgomp, threads bound to cores), the same loops and the same "
                  "privatisation (thread 0 into xbar itself, every other thread into a "
                  "private copy it zeroes, a parallel loop adding the copies in; COO's "
                  "forward likewise for y) as rev-to-openmp generates: the speed-up this "
                  "machine gives a hand-written version of the same algorithm."]
    table = "\n".join(lines)
    print(table)
    if not args.quick:
        os.makedirs(RESULTS, exist_ok=True)
        with open(os.path.join(RESULTS, "parallel_gradients.md"), "w") as f:
            f.write(table + "\n")
        with open(os.path.join(RESULTS, "parallel_gradients.json"), "w") as f:
            json.dump(data, f, indent=1)
    checks.finish()


if __name__ == "__main__":
    main()
