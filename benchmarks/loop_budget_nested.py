"""Loop budgets on a loop nest, beside JAX.

examples/coupled_nested.mlir: the coupled recurrence run K times per element
of X (n elements), between two updates of the outer level,

    a += 0.1 tanh(b) x[t];  K times { a += sin(b) x[t] w[k]; b += cos(a) x[t] };
    b += 0.1 sin(a)                                  L = a_n + 0.5 b_n

differentiated by rev with `Program(..., loop_budget=B)` (each loop of the
nest may store B bytes per iteration; the inner loop's tapes hold one value
per inner iteration of the whole nest, docs/memory.md "Nested loops") and
with `memory_budget` (bytes in all, chosen at run time), and by JAX
(`jax.grad` of a `lax.scan` over t of a `lax.scan` over k, jit, CPU,
float64), with and without `jax.checkpoint` on the inner scan's body, in the
same run. Per point: gradient time (median), extra memory of the first
gradient call in a fresh child process (benchmarks/memory_probe.py) per
inner step, the bytes per iteration the compiler chose (the pass's remark:
inner loop, outer loop), and the largest relative difference of the gradient
(dL/dy, dL/dz, dL/dX, dL/dW) from JAX's. A difference above 1e-10 makes the
script exit 1.

Saves benchmarks/results/loop_budget_nested.{md,json}.

Run: bash benchmarks/run.sh   (or, set up: python benchmarks/loop_budget_nested.py)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

from child import run_json_child
from timing import machine_line, median_time
from memory_probe import first_call_memory
from loop_budget import rel_diff  # max |a - b| / max |b|, as for the single loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
SOURCE = os.path.join(ROOT, "examples", "coupled_nested.mlir")
BUDGETS = (0, 8, 16, 32)
SHAPES = ((1000, 1000), (100, 10000))
TOLERANCE = 1e-10


def inputs(n, K):
    import numpy as np
    rng = np.random.default_rng(0)
    # (x as small as in benchmarks/loop_budget.py: over a million steps larger
    # ones make the recurrence ill-conditioned, and reverse computing with it)
    return 0.3, -0.2, rng.uniform(-1e-3, 1e-3, n), rng.uniform(-1, 1, K)


def stored_bytes(option):
    """The remark's per-loop bytes, e.g. '32 (depth 1), 16'."""
    rev_opt = os.path.join(ROOT, "build", "bin", "rev-opt")
    r = subprocess.run([rev_opt, SOURCE, f"--rev-ad={option}", "--lower-rev",
                        "--canonicalize", "--cse", "--rev-tape-loops=remarks=1",
                        "-o", os.devnull], capture_output=True, text=True, check=True)
    m = re.search(r"stores (.*) bytes per iteration", r.stderr)
    return m.group(1) if m else "0"


def chosen_plans(remark, n, K, total):
    """What the run-time choice takes under `total` bytes in all: the inner
    loop draws first (its first plan with n K bytes <= total), the outer
    loop gets what is left (n bytes). `remark` e.g. '32|24|16|8 (depth 1), 16'."""
    parts = remark.split(", ")
    inner = [int(x) for x in parts[0].split()[0].split("|")]
    outer = [int(x) for x in parts[1].split("|")] if len(parts) > 1 else []
    a = next((b for b in inner if n * K * b <= total), 0)
    left = total - n * K * a
    c = next((b for b in outer if n * b <= left), 0)
    return f"{a} (depth 1), {c} (chosen at run time)"


def child_rev(n, K, repeats, budget, memory_budget=None):
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    from mlir_rev.jit import Program
    with open(SOURCE) as f:
        prog = Program(f.read(), grad=["nested"], opt_level=3, loop_budget=budget,
                       memory_budget=memory_budget)
    g = prog.gradient_names["nested"]
    y, z, X, W = inputs(n, K)
    xb, wb = np.zeros_like(X), np.zeros_like(W)

    def gradient():
        xb[...] = 0.0
        wb[...] = 0.0
        return prog.call(g, y, z, X, W, 1.0, 0.5, xb, wb)
    prog.call(g, y, z, X[:1].copy(), W[:1].copy(), 1.0, 0.5, np.zeros(1), np.zeros(1))
    extra, peak, _ = first_call_memory(gradient)
    t_grad = median_time(gradient, repeats)
    res = gradient()
    return dict(t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                grad=[res[2], res[3], *xb.tolist(), *wb.tolist()])


def child_jax(n, K, repeats, remat):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    def inner(c, w, x):
        a, b = c
        a = a + jnp.sin(b) * x * w
        b = b + jnp.cos(a) * x
        return (a, b), None

    def outer(c, x, W):
        a, b = c
        a = a + 0.1 * jnp.tanh(b) * x
        body = lambda c, w: inner(c, w, x)
        if remat:
            body = jax.checkpoint(body)
        (a, b), _ = jax.lax.scan(body, (a, b), W)
        b = b + 0.1 * jnp.sin(a)
        return (a, b), None

    def f(y, z, X, W):
        (a, b), _ = jax.lax.scan(lambda c, x: outer(c, x, W), (y, z), X)
        return a + 0.5 * b

    y, z, X, W = inputs(n, K)
    X, W = jnp.asarray(X), jnp.asarray(W)
    gj = jax.jit(jax.grad(f, argnums=(0, 1, 2, 3))).lower(y, z, X, W).compile()
    gradient = lambda: jax.block_until_ready(gj(y, z, X, W))
    extra, peak, _ = first_call_memory(gradient)
    t_grad = median_time(gradient, repeats)
    dy, dz, dx, dw = gradient()
    return dict(t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                grad=[float(dy), float(dz), *np.asarray(dx).tolist(), *np.asarray(dw).tolist()],
                version=jax.__version__)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--shapes", type=str, nargs="*", default=[f"{n}x{K}" for n, K in SHAPES],
                    help="n x K: outer and inner trip counts")
    ap.add_argument("--repeats", type=int, default=11)
    args = ap.parse_args()
    if args.child:
        impl, n, K, repeats, extra = (args.child[0], *map(int, args.child[1:5]))
        if impl == "rev":
            res = child_rev(n, K, repeats, extra)
        elif impl == "rev_memory":
            res = child_rev(n, K, repeats, 0, memory_budget=extra)
        else:
            res = child_jax(n, K, repeats, extra)
        print(json.dumps(res))
        return

    run = lambda *a: run_json_child(__file__, *a)
    stored = {b: stored_bytes(f"loop-budget={b}") for b in BUDGETS}
    plans = stored_bytes("memory-budget=1")
    rows, failures = [], []
    for shape in args.shapes:
        n, K = map(int, shape.split("x"))
        steps = n * K
        jax_plain = run("jax", n, K, args.repeats, 0)
        jax_remat = run("jax", n, K, args.repeats, 1)
        jax_remat["rel_diff"] = rel_diff(jax_remat["grad"], jax_plain["grad"])
        points = [("JAX scan of scans", "", "", jax_plain),
                  ("JAX, jax.checkpoint on the inner body", "", "", jax_remat)]
        for b in BUDGETS:
            points.append(("rev", f"loop_budget = {b}", stored[b], run("rev", n, K, args.repeats, b)))
        total = int(jax_plain["extra_kib"] * 1024)
        for t in (total, total // 2):
            points.append(("rev", f"memory_budget = {t / steps:.1f} B x nK",
                           chosen_plans(plans, n, K, t), run("rev_memory", n, K, args.repeats, t)))
        for name, option, chosen, d in points[2:]:
            d["rel_diff"] = rel_diff(d["grad"], jax_plain["grad"])
            if d["rel_diff"] > TOLERANCE:
                failures.append(f"{shape} {option}: gradient differs from JAX's by "
                                f"{d['rel_diff']:.1e}")
        for p in points:
            p[3].pop("grad")
        rows.append(dict(n=n, K=K, points=[dict(name=a, option=b, stored=c, **d)
                                           for a, b, c, d in points]))
        print(f"{shape}: done", file=sys.stderr)

    header = ("| n x K | gradient | option | stored (B per iteration: inner, outer) | "
              "gradient time (ms) | ns per inner step | extra memory (B per inner step, "
              "measured) | time / JAX | max rel. difference from JAX |")
    lines = [header, "|" + "|".join(["---"] * (header.count("|") - 1)) + "|"]
    for row in rows:
        steps = row["n"] * row["K"]
        j = row["points"][0]
        for p in row["points"]:
            diff = "(reference)" if p is j else f"{p['rel_diff']:.1e}"
            lines.append(f"| {row['n']} x {row['K']} | {p['name']} | {p['option']} | "
                         f"{p['stored']} | {p['t_grad'] * 1e3:.2f} | "
                         f"{p['t_grad'] / steps * 1e9:.1f} | "
                         f"{p['extra_kib'] * 1024 / steps:.1f} | "
                         f"{p['t_grad'] / j['t_grad']:.3f} | {diff} |")
    machine = machine_line(rows[0]["points"][0].get("version", "?"))
    table = "\n".join(lines)
    text = (f"# Loop budgets on a loop nest (examples/coupled_nested.mlir)\n\n{machine}\n\n"
            f"{table}\n")
    print(text)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "loop_budget_nested.md"), "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, "loop_budget_nested.json"), "w") as f:
        json.dump(dict(machine=machine, rows=rows), f, indent=1)
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
