"""Gradient of the coupled reversible recurrence: rev (no tape) beside JAX and
PyTorch.

    y += sin(z) * x[t];  z += cos(y) * x[t]      t = 0 .. T-1,  L = y_T

For T = 1e4, 1e5, 1e6 this measures, for rev (`--rev-ad`, reverse computing,
JIT-compiled with the MLIR ExecutionEngine), for the reverse-computing limit
(the same algorithm written by hand in C, benchmarks/coupled_limit.c: the
gradient time only) and for JAX (`jax.jit` of
`jax.grad` over `lax.scan`, CPU, float64) and for PyTorch (eager, CPU,
float64, a Python loop over the steps, `torch.autograd.grad`; see
benchmarks/torch_peer.py for its threads), in the same run:
  * the objective time and the gradient time (median of repeats) and their
    ratio;
  * the gradient's peak extra memory: the child process's resident-set high
    water mark during the first gradient call (reset through
    /proc/self/clear_refs just before it) minus its resident set just
    before, the heap's free pages handed back by malloc_trim(0) first
    (benchmarks/memory_probe.py); inputs, compiled code and libraries are already resident then
    (both are compiled ahead of the call), so this is the memory the
    gradient itself needs (rev: O(1), a tape: O(T)). PyTorch's first call
    of the gradient on a one-element input comes before (autograd's and the
    allocator's one-time set-up), so this is its graph and saved tensors.
Every measurement runs in a fresh child process. The gradients are compared
(relative difference printed): rev's with JAX's and PyTorch's with rev's; a
PyTorch gradient more than 1e-8 (relative) from rev's makes the script exit
with status 1. PyTorch's eager Python loop costs tens of microseconds a step:
a size whose gradient would take more than --torch-max-s seconds (estimated
from the previous size, linearly) is skipped and the table says so. The table
is printed and saved to benchmarks/results/coupled_recurrence.{md,json}.

Run: bash benchmarks/run.sh   (or, set up: python benchmarks/coupled_recurrence.py)
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from child import run_json_child
from timing import machine_line, median_time
from memory_probe import first_call_memory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
SIZES = (10_000, 100_000, 1_000_000)
TORCH_REPEATS = 3  # at most, for PyTorch's slow eager loop


def inputs(T):
    import numpy as np
    rng = np.random.default_rng(0)
    return 0.3, -0.2, rng.uniform(-1e-3, 1e-3, T)


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
    extra, peak, _ = first_call_memory(gradient)
    objective()  # warm up
    t_obj = median_time(objective, repeats)
    t_grad = median_time(gradient, repeats)
    res = gradient()
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra,
                peak_kib=peak, grad=[res[2], res[3], *xbar[:3].tolist()],
                grad_norm=float(np.linalg.norm(xbar)))


def child_limit(T, repeats):
    """The reverse-computing limit: rev's algorithm written by hand in C
    (benchmarks/coupled_limit.c; $CC or cc, gcc on Debian; -O3
    -march=native -ffp-contract=off, as rev's code has no contraction),
    called through ctypes, x_bar zeroed in the call as rev's."""
    import ctypes
    import tempfile
    import numpy as np
    from c_build import compile_c
    with tempfile.TemporaryDirectory() as d:
        so = ctypes.CDLL(compile_c("coupled_limit.c", os.path.join(d, "coupled_limit.so"),
                                   ["-O3", "-march=native", "-ffp-contract=off"], shared=True))
    arr = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
    so.coupled_grad.argtypes = [ctypes.c_long, ctypes.c_double, ctypes.c_double, arr,
                                ctypes.c_double, ctypes.c_double, arr, arr]
    so.coupled_grad.restype = None
    y, z, xs = inputs(T)
    xbar, out = np.zeros_like(xs), np.zeros(2)

    def gradient():
        xbar[...] = 0.0
        so.coupled_grad(len(xs), y, z, xs, 1.0, 0.0, xbar, out)
    gradient()  # warm up
    t_grad = median_time(gradient, repeats)
    gradient()
    return dict(t_grad=t_grad, compiler=os.path.basename(os.environ.get("CC", "cc")),
                grad=[float(out[0]), float(out[1]), *xbar[:3].tolist()],
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
    extra, peak, _ = first_call_memory(gradient)
    objective()  # warm up
    t_obj = median_time(objective, repeats)
    t_grad = median_time(gradient, repeats)
    dy, dz, dx = gradient()
    dx = np.asarray(dx)
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra,
                peak_kib=peak, grad=[float(dy), float(dz), *dx[:3].tolist()],
                grad_norm=float(np.linalg.norm(dx)), version=jax.__version__)


def coupled_torch(y, z, xs):
    """The recurrence in eager PyTorch: a Python loop over the elements of xs
    (iterating a tensor unbinds it: one graph node, not T index copies)."""
    import torch
    for x in xs:
        y = y + torch.sin(z) * x
        z = z + torch.cos(y) * x
    return y


def child_torch(T, repeats):
    from torch_peer import import_torch
    torch = import_torch()
    import numpy as np
    y, z, xs = inputs(T)
    f64 = torch.float64
    # the objective on tensors that need no gradient (no graph is built)
    y0, z0, x0 = torch.tensor(y, dtype=f64), torch.tensor(z, dtype=f64), torch.from_numpy(xs)
    yg, zg, xg = (t.clone().requires_grad_() for t in (y0, z0, x0))
    objective = lambda: coupled_torch(y0, z0, x0)
    gradient = lambda: torch.autograd.grad(coupled_torch(yg, zg, xg), (yg, zg, xg))
    # autograd's and the allocator's one-time set-up, on one element
    one = [t.clone().requires_grad_() for t in (y0, z0, x0[:1])]
    torch.autograd.grad(coupled_torch(*one), one)
    extra, peak, _ = first_call_memory(gradient)
    objective()  # warm up
    t_obj = median_time(objective, repeats)
    t_grad = median_time(gradient, repeats)
    dy, dz, dx = (g.numpy() for g in gradient())
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                grad=[float(dy), float(dz), *dx[:3].tolist()],
                grad_norm=float(np.linalg.norm(dx)), threads=torch.get_num_threads(),
                repeats=repeats, version=torch.__version__)


def run_child(impl, T, repeats):
    return run_json_child(__file__, impl, T, repeats)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=3, metavar=("IMPL", "T", "REPEATS"))
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--torch-max-s", type=float, default=60.0,
                    help="skip PyTorch at a size whose gradient would take longer (s)")
    args = ap.parse_args()
    if args.child:
        impl, T, repeats = args.child[0], int(args.child[1]), int(args.child[2])
        res = {"rev": child_rev, "jax": child_jax, "torch": child_torch,
               "limit": child_limit}[impl](T, repeats)
        print(json.dumps(res))
        return

    from torch_peer import Checks, describe, sci
    checks = Checks("coupled_recurrence.py")
    rel = lambda a, b: max(abs(x - y) / max(1e-300, abs(y)) for x, y in zip(a, b))
    rows = []
    last = None  # (T, PyTorch gradient seconds) of the last size PyTorch ran
    for T in sorted(args.sizes):
        repeats = 7 if T <= 100_000 else 3
        r = run_child("rev", T, repeats)
        j = run_child("jax", T, repeats)
        lim = run_child("limit", T, repeats)
        row = dict(T=T, rev=r, jax=j, limit=lim, grad_rel_diff=rel(r["grad"], j["grad"]),
                   limit_grad_rel_diff=rel(lim["grad"], r["grad"]))
        estimate = last[1] * T / last[0] if last else 0.0
        if estimate > args.torch_max_s:
            row["torch_skipped"] = (f"skipped (eager Python loop: {last[1]:.1f} s per "
                                    f"gradient at T={sci(last[0])})")
        else:
            t = run_child("torch", T, min(repeats, TORCH_REPEATS) if T >= 100_000 else repeats)
            row["torch"] = t
            row["torch_grad_rel_diff"] = checks.check(f"T={T}", rel(t["grad"], r["grad"]))
            last = (T, t["t_grad"])
        rows.append(row)
        print(f"T={T}: done", file=sys.stderr)

    ms = lambda s: f"{s * 1e3:.2f}"
    mib = lambda k: f"{k / 1024:.1f}"
    header = ("| T | rev objective (ms) | rev gradient (ms) | rev ratio | reverse-computing "
              "limit, by hand in C (ms) | rev gradient / limit | max rel. difference of the "
              "gradients (limit vs rev) | rev gradient extra "
              "memory (MiB) | rev peak RSS (MiB) | JAX objective (ms) | JAX gradient (ms) | "
              "JAX ratio | JAX gradient extra memory (MiB) | JAX peak RSS (MiB) | rev gradient "
              "/ JAX gradient time | max rel. difference of the gradients (rev vs JAX) | "
              "PyTorch objective (ms) | PyTorch gradient (ms) | PyTorch ratio | PyTorch "
              "gradient extra memory (MiB) | PyTorch peak RSS (MiB) | rev gradient / PyTorch "
              "gradient time | max rel. difference of the gradients (PyTorch vs rev) |")
    lines = [header, "|" + "|".join(["---"] * (header.count("|") - 1)) + "|"]
    for row in rows:
        r, j, t = row["rev"], row["jax"], row.get("torch")
        lines.append(
            f"| {row['T']:.0e} | {ms(r['t_obj'])} | {ms(r['t_grad'])} | "
            f"{r['t_grad'] / r['t_obj']:.2f} | {ms(row['limit']['t_grad'])} | "
            f"{r['t_grad'] / row['limit']['t_grad']:.3f} | {row['limit_grad_rel_diff']:.1e} | "
            f"{mib(r['extra_kib'])} | {mib(r['peak_kib'])} | "
            f"{ms(j['t_obj'])} | {ms(j['t_grad'])} | {j['t_grad'] / j['t_obj']:.2f} | "
            f"{mib(j['extra_kib'])} | {mib(j['peak_kib'])} | {r['t_grad'] / j['t_grad']:.3f} | "
            f"{row['grad_rel_diff']:.1e} | " + (
                f"{ms(t['t_obj'])} | {ms(t['t_grad'])} | {t['t_grad'] / t['t_obj']:.2f} | "
                f"{mib(t['extra_kib'])} | {mib(t['peak_kib'])} | "
                f"{r['t_grad'] / t['t_grad']:.4f} | {row['torch_grad_rel_diff']:.1e} |"
                if "torch" in row else f"{row['torch_skipped']} |" + " |" * 6))
    machine = machine_line(rows[0]['jax'].get('version', '?'), describe())
    table = "\n".join(lines)
    print(table)
    print(machine)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "coupled_recurrence.md"), "w") as f:
        f.write("# Coupled recurrence: gradient time and memory, rev beside JAX and "
                "PyTorch\n\n")
        f.write("Produced by `bash benchmarks/run.sh` (benchmarks/coupled_recurrence.py). "
                "Times are medians; extra memory is the rise of the resident-set high-water "
                "mark during the first gradient call over the resident set just before it "
                "(inputs and compiled code already resident, the heap's free pages handed back by "
                "malloc_trim(0) first: benchmarks/memory_probe.py); peak RSS is the child process's "
                "high-water mark during that call (libraries, compiled code and inputs "
                "included). The reverse-computing limit: rev's algorithm (forward sweep, then "
                "a backward sweep that undoes each step) written by hand in C, "
                "benchmarks/coupled_limit.c, compiled by " + rows[0]["limit"]["compiler"] +
                " -O3 -march=native -ffp-contract=off. PyTorch: eager, a Python loop over the steps, "
                f"`torch.autograd.grad`; at most {TORCH_REPEATS} repeats from T = 1e5 on; "
                "a size whose gradient would take more than "
                f"{args.torch_max_s:.0f} s is skipped (estimated from the previous size). "
                "Machine: " + machine + "\n\n")
        f.write(table + "\n")
    with open(os.path.join(RESULTS, "coupled_recurrence.json"), "w") as f:
        json.dump(dict(machine=machine, rows=rows), f, indent=1)
    checks.finish()


if __name__ == "__main__":
    main()
