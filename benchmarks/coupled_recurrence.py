"""Gradient of the coupled reversible recurrence: rev (no tape) beside JAX.

    y += sin(z) * x[t];  z += cos(y) * x[t]      t = 0 .. T-1,  L = y_T

For T = 1e4, 1e5, 1e6 this measures, for rev (`--rev-ad`, reverse computing,
JIT-compiled with the MLIR ExecutionEngine) and for JAX (`jax.jit` of
`jax.grad` over `lax.scan`, CPU, float64), in the same run:
  * the objective time and the gradient time (median of repeats) and their
    ratio;
  * the gradient's peak extra memory: the child process's resident-set high
    water mark during the first gradient call (reset through
    /proc/self/clear_refs just before it) minus its resident set just
    before; inputs, compiled code and libraries are already resident then
    (both are compiled ahead of the call), so this is the memory the
    gradient itself needs (rev: O(1), a tape: O(T)).
Every measurement runs in a fresh child process. The gradients of the two are
compared (relative difference printed). The table is printed and saved to
benchmarks/results/coupled_recurrence.{md,json}.

Run: bash benchmarks/run.sh   (or, set up: python benchmarks/coupled_recurrence.py)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
SIZES = (10_000, 100_000, 1_000_000)


def inputs(T):
    import numpy as np
    rng = np.random.default_rng(0)
    return 0.3, -0.2, rng.uniform(-1e-3, 1e-3, T)


def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def first_call_memory(fn):
    """(extra KiB, peak KiB) of the first call of `fn`: the rise of the
    resident-set high-water mark over the resident set just before it."""
    before = rss_kib("VmRSS")
    reset_peak()
    fn()
    peak = rss_kib("VmHWM")
    return max(0, peak - before), peak


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def child_rev(T, repeats):
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    from mlir_rev.jit import Program
    with open(os.path.join(ROOT, "examples", "coupled.mlir")) as f:
        prog = Program(f.read(), grad=["coupled"], opt_level=3)
    g = prog.gradient_names["coupled"]
    y, z, xs = inputs(T)
    xbar = np.zeros_like(xs)
    objective = lambda: prog.call("coupled", y, z, xs)
    def gradient():
        xbar[...] = 0.0
        return prog.call(g, y, z, xs, 1.0, 0.0, xbar)
    # The JIT materialises code on the first call of each symbol: do that on a
    # one-element input, so that the measured call only runs.
    one = xs[:1].copy()
    prog.call("coupled", y, z, one), prog.call(g, y, z, one, 1.0, 0.0, np.zeros(1))
    extra, peak = first_call_memory(gradient)
    objective()  # warm up
    t_obj = timed(objective, repeats)
    t_grad = timed(gradient, repeats)
    res = gradient()
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra,
                peak_kib=peak, grad=[res[2], res[3], *xbar[:3].tolist()],
                grad_norm=float(np.linalg.norm(xbar)))


def child_jax(T, repeats):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    def f(y, z, xs):
        def step(c, x):
            y, z = c
            y = y + jnp.sin(z) * x
            z = z + jnp.cos(y) * x
            return (y, z), None
        (y, z), _ = jax.lax.scan(step, (y, z), xs)
        return y

    y, z, xs = inputs(T)
    xs = jnp.asarray(xs)
    # compiled ahead of time, so that the first gradient call only runs
    fj = jax.jit(f).lower(y, z, xs).compile()
    gj = jax.jit(jax.grad(f, argnums=(0, 1, 2))).lower(y, z, xs).compile()
    objective = lambda: fj(y, z, xs).block_until_ready()
    gradient = lambda: jax.block_until_ready(gj(y, z, xs))
    extra, peak = first_call_memory(gradient)
    objective()  # warm up
    t_obj = timed(objective, repeats)
    t_grad = timed(gradient, repeats)
    dy, dz, dx = gradient()
    dx = np.asarray(dx)
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra,
                peak_kib=peak, grad=[float(dy), float(dz), *dx[:3].tolist()],
                grad_norm=float(np.linalg.norm(dx)), version=jax.__version__)


def run_child(impl, T, repeats):
    out = subprocess.run([sys.executable, __file__, "--child", impl, str(T), str(repeats)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=3, metavar=("IMPL", "T", "REPEATS"))
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = ap.parse_args()
    if args.child:
        impl, T, repeats = args.child[0], int(args.child[1]), int(args.child[2])
        res = (child_rev if impl == "rev" else child_jax)(T, repeats)
        print(json.dumps(res))
        return

    rows = []
    for T in args.sizes:
        repeats = 7 if T <= 100_000 else 3
        r = run_child("rev", T, repeats)
        j = run_child("jax", T, repeats)
        diff = max(abs(a - b) / max(1e-300, abs(b)) for a, b in zip(r["grad"], j["grad"]))
        rows.append(dict(T=T, rev=r, jax=j, grad_rel_diff=diff))
        print(f"T={T}: done", file=sys.stderr)

    ms = lambda s: f"{s * 1e3:.2f}"
    mib = lambda k: f"{k / 1024:.1f}"
    header = ("| T | rev objective (ms) | rev gradient (ms) | rev ratio | rev gradient extra "
              "memory (MiB) | rev peak RSS (MiB) | JAX objective (ms) | JAX gradient (ms) | "
              "JAX ratio | JAX gradient extra memory (MiB) | JAX peak RSS (MiB) | rev gradient "
              "/ JAX gradient time | max rel. difference of the gradients |")
    lines = [header, "|" + "|".join(["---"] * (header.count("|") - 1)) + "|"]
    for row in rows:
        r, j = row["rev"], row["jax"]
        lines.append(
            f"| {row['T']:.0e} | {ms(r['t_obj'])} | {ms(r['t_grad'])} | "
            f"{r['t_grad'] / r['t_obj']:.2f} | {mib(r['extra_kib'])} | {mib(r['peak_kib'])} | "
            f"{ms(j['t_obj'])} | {ms(j['t_grad'])} | {j['t_grad'] / j['t_obj']:.2f} | "
            f"{mib(j['extra_kib'])} | {mib(j['peak_kib'])} | {r['t_grad'] / j['t_grad']:.3f} | "
            f"{row['grad_rel_diff']:.1e} |")
    machine = (f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()}), "
               f"Python {platform.python_version()}, JAX {rows[0]['jax'].get('version', '?')}, "
               f"{time.strftime('%Y-%m-%d')}")
    table = "\n".join(lines)
    print(table)
    print(machine)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "coupled_recurrence.md"), "w") as f:
        f.write("# Coupled recurrence: gradient time and memory, rev beside JAX\n\n")
        f.write("Produced by `bash benchmarks/run.sh` (benchmarks/coupled_recurrence.py). "
                "Times are medians; extra memory is the rise of the resident-set high-water "
                "mark during the first gradient call over the resident set just before it "
                "(inputs and compiled code already resident); peak RSS is the child process's "
                "high-water mark during that call (libraries, compiled code and inputs "
                "included). Machine: " + machine + "\n\n")
        f.write(table + "\n")
    with open(os.path.join(RESULTS, "coupled_recurrence.json"), "w") as f:
        json.dump(dict(machine=machine, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
