"""Peak memory of a JAX training step whose inner loop is the coupled
recurrence, as a rev op (mlir_rev.interop) vs plain JAX.

    y += sin(z) * x[t];  z += cos(y) * x[t]      t = 0 .. T-1
    step(w) = value_and_grad(L)(w),  L(w) = (y_T - 0.1)^2 + z_T^2,
    with y_0 = 0.3 w, z_0 = w, x = w * data        (data: T numbers)

Methods, each jitted (float64, CPU):
  rev         the rev op (`jax_function(examples/coupled.mlir)`): its
              backward is rev's tape-free @coupled_bwd, run from the final
              state;
  scan        `lax.scan` (JAX saves the step's residuals: O(T));
  checkpoint  `lax.scan` over a `jax.checkpoint`ed step (saves the carries
              only: still O(T), smaller);
  sqrt-ckpt   two-level checkpointing: an outer scan over sqrt(T) segments,
              each a `jax.checkpoint`ed inner scan (O(sqrt T) carries, one
              more forward sweep).
For T = 1e4, 1e5, 1e6 each configuration runs in a fresh child process,
which compiles the step ahead of time and then measures
  * xla_temp: the temporary buffers XLA allocates for the compiled step
    (`compiled.memory_analysis().temp_size_in_bytes`): the step's working
    memory beside its inputs and outputs (the data, T doubles, is an input);
  * beyond x, dx: xla_temp less the two T-element arrays every method needs
    (x = w * data and its cotangent, 16 T bytes): the recurrence's own
    memory;
  * rss_extra: the rise of the resident-set high-water mark over the resident
    set during the first call of the compiled step (benchmarks/memory_probe.py:
    malloc_trim first, then the mark reset through /proc/self/clear_refs;
    compiled code, inputs and libraries are resident by then);
  * the step's time (median of repeats), and the gradient, compared with the
    scan method's (relative difference).
The table is printed and saved to benchmarks/results/interop_memory.{md,json}.

Run: python benchmarks/interop_memory.py [--sizes 10000 100000 1000000]
(with the project set up: scripts/setup.sh installs jax and builds rev).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
SIZES = (10_000, 100_000, 1_000_000)
METHODS = ("rev", "scan", "checkpoint", "sqrt-ckpt")


sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
from memory_probe import first_call_memory  # noqa: E402  (malloc_trim first, then VmHWM)
from child import run_json_child  # noqa: E402


def child(method, T, repeats):
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)

    def step_body(c, x):
        a, b = c
        a = a + jnp.sin(b) * x
        b = b + jnp.cos(a) * x
        return (a, b), None

    if method == "rev":
        from mlir_rev.interop import jax_function
        op = jax_function(open(os.path.join(ROOT, "examples", "coupled.mlir")).read(),
                          "coupled")

        def recur(y, z, X):
            return op(y, z, X)[:2]
    elif method == "scan":
        def recur(y, z, X):
            return jax.lax.scan(step_body, (y, z), X)[0]
    elif method == "checkpoint":
        def recur(y, z, X):
            return jax.lax.scan(jax.checkpoint(step_body), (y, z), X)[0]
    elif method == "sqrt-ckpt":
        def recur(y, z, X):
            seg = max(1, int(math.isqrt(X.shape[0])))
            while X.shape[0] % seg:
                seg -= 1

            @jax.checkpoint
            def segment(c, xs):
                return jax.lax.scan(step_body, c, xs)[0], None
            return jax.lax.scan(segment, (y, z), X.reshape(-1, seg))[0]
    else:
        raise SystemExit(f"unknown method {method}")

    def loss(w, data):
        y, z = recur(0.3 * w, w, w * data)
        return (y - 0.1) ** 2 + z ** 2

    data = jnp.asarray(np.random.default_rng(0).uniform(-1e-3, 1e-3, T))
    w = jnp.float64(0.7)
    compiled = jax.jit(jax.value_and_grad(loss)).lower(w, data).compile()
    mem = compiled.memory_analysis()
    temp = getattr(mem, "temp_size_in_bytes", None) if mem is not None else None
    extra, _, (value, grad) = first_call_memory(
        lambda: jax.block_until_ready(compiled(w, data)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(w, data))
        times.append(time.perf_counter() - t0)
    return dict(method=method, T=T, xla_temp_bytes=temp, rss_extra_kib=extra,
                step_s=statistics.median(times), value=float(value), grad=float(grad))


def run_child(method, T, repeats):
    return run_json_child(__file__, method, T, repeats)


def mib(b):
    return "n/a" if b is None else f"{b / 2**20:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=3, metavar=("METHOD", "T", "REPEATS"))
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), int(args.child[2]))))
        return
    rows = []
    for T in args.sizes:
        ref = None
        for m in METHODS:
            r = run_child(m, T, args.repeats)
            if m == "scan":
                ref = r
            rows.append(r)
        for r in rows[-len(METHODS):]:
            r["grad_rel_diff_vs_scan"] = abs(r["grad"] - ref["grad"]) / abs(ref["grad"])
    import jax
    machine = dict(platform=platform.platform(), processor=platform.processor(),
                   cpus=os.cpu_count(), python=platform.python_version(), jax=jax.__version__)
    lines = ["| T | method | XLA temp (MiB) | beyond x, dx (MiB) | peak RSS rise (MiB) | "
             "step (ms) | grad rel. diff vs scan |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        temp = r["xla_temp_bytes"]
        beyond = None if temp is None else temp - 16 * r["T"]
        lines.append(f"| {r['T']:,} | {r['method']} | {mib(temp)} | {mib(beyond)} | "
                     f"{r['rss_extra_kib'] / 1024:.2f} | {r['step_s'] * 1e3:.2f} | "
                     f"{r['grad_rel_diff_vs_scan']:.1e} |")
    table = "\n".join(lines)
    print(table)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "interop_memory.md"), "w") as f:
        f.write("# Peak memory of a JAX training step: rev op vs lax.scan vs jax.checkpoint\n\n"
                "Produced by benchmarks/interop_memory.py (see its docstring for the method: "
                "each row is a fresh process; XLA temp = "
                "`compiled.memory_analysis().temp_size_in_bytes`; peak RSS rise = VmHWM - "
                "VmRSS around the first call of the compiled step).\n\n"
                f"Machine: {machine}\n\n{table}\n")
    with open(os.path.join(RESULTS, "interop_memory.json"), "w") as f:
        json.dump(dict(machine=machine, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
