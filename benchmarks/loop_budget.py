"""The time-memory curve of a rev gradient under a loop budget, beside JAX.

The coupled recurrence (examples/coupled.mlir)

    y += sin(z) * x[t];  z += cos(y) * x[t]      t = 0 .. T-1,  L = y_T

differentiated by rev with `Program(..., loop_budget=B)` (rev-ad's
loop-budget: B bytes per iteration that the gradient may store for the
backward sweep instead of recomputing; --rev-tape-loops picks the values,
docs/memory.md "Loops") for B = 0 (pure reverse computing) .. 48, and by JAX
(`jax.grad` of `lax.scan`, jit, CPU, float64), with and without
`jax.checkpoint` on the scan body, in the same run. Per point: the gradient
time (median), the gradient's extra memory (the resident-set high-water mark
of the first gradient call over the resident set before it, in a fresh child
process: benchmarks/memory_probe.py) divided by T, the bytes per step the
compiler chose to store (the pass's remark), and the largest relative
difference of the gradient (dL/dy0, dL/dz0, dL/dx) from JAX's. A difference
above 1e-10 makes the script exit 1.

Saves benchmarks/results/loop_budget.{md,json,png} (the plot: gradient time
against bytes per step).

Run: bash benchmarks/run.sh   (or, set up: python benchmarks/loop_budget.py)
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
SOURCE = os.path.join(ROOT, "examples", "coupled.mlir")
BUDGETS = (0, 8, 16, 24, 32, 48)
SIZES = (100_000, 1_000_000)
TOLERANCE = 1e-10


def inputs(T):
    import numpy as np
    rng = np.random.default_rng(0)
    return 0.3, -0.2, rng.uniform(-1e-3, 1e-3, T)


def stored_bytes(budget):
    """Bytes per iteration that --rev-tape-loops stores at this budget."""
    rev_opt = os.path.join(ROOT, "build", "bin", "rev-opt")
    r = subprocess.run([rev_opt, SOURCE, f"--rev-ad=loop-budget={budget}", "--lower-rev",
                        "--canonicalize", "--cse", "--rev-tape-loops=remarks=1",
                        "-o", os.devnull], capture_output=True, text=True, check=True)
    m = re.search(r"stores ([0-9]+) bytes per iteration", r.stderr)
    return int(m.group(1)) if m else 0


def memory_plans():
    """The plans (bytes per iteration, largest first) --rev-tape-loops builds
    under a budget in bytes in all (memory-budget): at run time the loop
    takes the first whose T x bytes fits."""
    rev_opt = os.path.join(ROOT, "build", "bin", "rev-opt")
    r = subprocess.run([rev_opt, SOURCE, "--rev-ad=memory-budget=1", "--lower-rev",
                        "--canonicalize", "--cse", "--rev-tape-loops=remarks=1",
                        "-o", os.devnull], capture_output=True, text=True, check=True)
    m = re.search(r"stores ([0-9|]+) bytes per iteration", r.stderr)
    return [int(x) for x in m.group(1).split("|")] if m else []


def child_rev(T, repeats, budget, memory_budget=None):
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    from mlir_rev.jit import Program
    with open(SOURCE) as f:
        prog = Program(f.read(), grad=["coupled"], opt_level=3, loop_budget=budget,
                       memory_budget=memory_budget)
    g = prog.gradient_names["coupled"]
    y, z, xs = inputs(T)
    xbar = np.zeros_like(xs)

    def gradient():
        xbar[...] = 0.0
        return prog.call(g, y, z, xs, 1.0, 0.0, xbar)
    # materialise the JIT's code on a one-element input first
    prog.call(g, y, z, xs[:1].copy(), 1.0, 0.0, np.zeros(1))
    extra, peak, _ = first_call_memory(gradient)
    t_grad = median_time(gradient, repeats)
    res = gradient()
    return dict(t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                grad=[res[2], res[3], *xbar.tolist()])


def child_jax(T, repeats, remat):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    def step(c, x):
        y, z = c
        y = y + jnp.sin(z) * x
        z = z + jnp.cos(y) * x
        return (y, z), None
    body = jax.checkpoint(step) if remat else step

    def f(y, z, xs):
        (y, z), _ = jax.lax.scan(body, (y, z), xs)
        return y

    y, z, xs = inputs(T)
    xs = jnp.asarray(xs)
    gj = jax.jit(jax.grad(f, argnums=(0, 1, 2))).lower(y, z, xs).compile()
    gradient = lambda: jax.block_until_ready(gj(y, z, xs))
    extra, peak, _ = first_call_memory(gradient)
    t_grad = median_time(gradient, repeats)
    dy, dz, dx = gradient()
    return dict(t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                grad=[float(dy), float(dz), *np.asarray(dx).tolist()], version=jax.__version__)


def run_child(*args):
    return run_json_child(__file__, *args)


def rel_diff(a, b):
    import numpy as np
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def plot(rows, path):
    try:
        import matplotlib
    except ImportError:
        print("loop_budget.py: matplotlib is not installed (pip install -r "
              "benchmarks/requirements.txt): no plot", file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(rows), figsize=(7 * len(rows), 5.5), squeeze=False)
    for ax, row in zip(axes[0], rows):
        T = row["T"]
        xs = [p["stored"] for p in row["rev"]]
        ys = [p["t_grad"] / T * 1e9 for p in row["rev"]]
        ax.plot(xs, ys, "o-", label="rev, loop_budget = 0 .. 48 (bytes stored per step)")
        for key, marker, label in (("jax", "s", "JAX scan"),
                                   ("jax_remat", "^", "JAX scan + jax.checkpoint")):
            j = row[key]
            ax.plot([j["extra_kib"] * 1024 / T], [j["t_grad"] / T * 1e9], marker,
                    markersize=9, label=label + " (measured extra memory per step)")
        ax.set_xlabel("bytes per step kept for the backward sweep")
        ax.set_ylabel("gradient time per step (ns)")
        ax.set_title(f"coupled recurrence, T = {T:.0e}")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    if args.child:
        impl, T, repeats, extra = args.child[0], int(args.child[1]), int(args.child[2]), \
            int(args.child[3])
        if impl == "rev":
            res = child_rev(T, repeats, extra)
        elif impl == "rev_memory":
            res = child_rev(T, repeats, 0, memory_budget=extra)
        else:
            res = child_jax(T, repeats, extra)
        print(json.dumps(res))
        return

    stored = {b: stored_bytes(b) for b in BUDGETS}
    plans = memory_plans()
    rows, failures = [], []
    for T in args.sizes:
        jax_plain = run_child("jax", T, args.repeats, 0)
        jax_remat = run_child("jax", T, args.repeats, 1)
        row = dict(T=T, jax=jax_plain, jax_remat=jax_remat, rev=[])
        row["jax_remat"]["rel_diff"] = rel_diff(jax_remat["grad"], jax_plain["grad"])
        for b in BUDGETS:
            r = run_child("rev", T, args.repeats, b)
            r.update(budget=b, stored=stored[b], rel_diff=rel_diff(r["grad"], jax_plain["grad"]))
            if r["rel_diff"] > TOLERANCE:
                failures.append(f"T={T}, budget {b}: gradient differs from JAX's by "
                                f"{r['rel_diff']:.1e}")
            row["rev"].append(r)
        # One budget in bytes in all (memory_budget): JAX's measured extra
        # memory, and half of it; the loop takes the largest plan that fits.
        jax_total = int(jax_plain["extra_kib"] * 1024)
        row["rev_memory"] = []
        for total in (jax_total, jax_total // 2):
            r = run_child("rev_memory", T, args.repeats, total)
            fits = [b for b in plans if T * b <= total]
            r.update(memory_budget=total, stored=fits[0] if fits else 0,
                     rel_diff=rel_diff(r["grad"], jax_plain["grad"]))
            if r["rel_diff"] > TOLERANCE:
                failures.append(f"T={T}, memory_budget {total}: gradient differs from JAX's by "
                                f"{r['rel_diff']:.1e}")
            row["rev_memory"].append(r)
        for d in (row["jax"], row["jax_remat"], *row["rev"], *row["rev_memory"]):
            d.pop("grad")
        rows.append(row)
        print(f"T={T}: done", file=sys.stderr)

    ns = lambda s, T: f"{s / T * 1e9:.1f}"
    per_step = lambda kib, T: f"{kib * 1024 / T:.1f}"
    header = ("| T | gradient | loop_budget (B/step) | stored (B/step) | gradient time (ms) | "
              "ns/step | extra memory (B/step, measured) | time / JAX scan | max rel. difference "
              "from JAX |")
    lines = [header, "|" + "|".join(["---"] * (header.count("|") - 1)) + "|"]
    summary = []
    for row in rows:
        T, j = row["T"], row["jax"]
        for name, d in (("JAX scan", row["jax"]), ("JAX scan + jax.checkpoint", row["jax_remat"])):
            lines.append(f"| {T:.0e} | {name} | | | {d['t_grad'] * 1e3:.2f} | "
                         f"{ns(d['t_grad'], T)} | {per_step(d['extra_kib'], T)} | "
                         f"{d['t_grad'] / j['t_grad']:.3f} | "
                         + ("(reference) |" if d is j else f"{d['rel_diff']:.1e} |"))
        for r in row["rev"]:
            lines.append(f"| {T:.0e} | rev | {r['budget']} | {r['stored']} | "
                         f"{r['t_grad'] * 1e3:.2f} | {ns(r['t_grad'], T)} | "
                         f"{per_step(r['extra_kib'], T)} | {r['t_grad'] / j['t_grad']:.3f} | "
                         f"{r['rel_diff']:.1e} |")
        for r in row["rev_memory"]:
            lines.append(f"| {T:.0e} | rev, memory_budget = {r['memory_budget'] / T:.1f} B x T "
                         f"(bytes in all) | | {r['stored']} | "
                         f"{r['t_grad'] * 1e3:.2f} | {ns(r['t_grad'], T)} | "
                         f"{per_step(r['extra_kib'], T)} | {r['t_grad'] / j['t_grad']:.3f} | "
                         f"{r['rel_diff']:.1e} |")
        jax_bytes = j["extra_kib"] * 1024 / T
        within = [r for r in row["rev"] if r["stored"] <= jax_bytes]
        most = max(r["stored"] for r in within)
        same = [r for r in within if r["stored"] == most]  # the same code
        first = same[0]
        ratios = [r["t_grad"] / j["t_grad"] for r in same]
        summary.append(f"T = {T:.0e}: JAX keeps {jax_bytes:.1f} B/step; rev storing at most "
                       f"that: loop_budget = {first['budget']} stores {most} B/step and takes "
                       f"{ratios[0]:.2f}x JAX's time (goal <= 0.9x; the same code at the larger "
                       f"budgets: {min(ratios):.2f}-{max(ratios):.2f}x); budget 0 (no storage) "
                       f"{row['rev'][0]['t_grad'] / j['t_grad']:.2f}x. With one budget in "
                       f"bytes in all, memory_budget = JAX's bytes: {row['rev_memory'][0]['stored']}"
                       f" B/step chosen at run time, "
                       f"{row['rev_memory'][0]['t_grad'] / j['t_grad']:.2f}x JAX's time; half "
                       f"of them: {row['rev_memory'][1]['stored']} B/step, "
                       f"{row['rev_memory'][1]['t_grad'] / j['t_grad']:.2f}x.")
    machine = machine_line(rows[0]['jax'].get('version', '?'))
    table = "\n".join(lines)
    print(table)
    print("\n".join(summary))
    print(machine)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "loop_budget.md"), "w") as f:
        f.write("# Loop budget: gradient time against bytes stored per step (coupled "
                "recurrence)\n\n")
        f.write("Produced by `bash benchmarks/run.sh` (benchmarks/loop_budget.py). Medians of "
                f"{args.repeats} calls, each configuration in a fresh process; extra memory: the "
                "resident-set high-water mark of the first gradient call over the resident set "
                "before it (benchmarks/memory_probe.py), per step. `stored`: the bytes per step "
                "--rev-tape-loops chose within the budget. Machine: " + machine + "\n\n")
        f.write(table + "\n\n" + "\n".join(f"* {s}" for s in summary) + "\n")
    with open(os.path.join(RESULTS, "loop_budget.json"), "w") as f:
        json.dump(dict(machine=machine, rows=rows, summary=summary), f, indent=1)
    plot(rows, os.path.join(RESULTS, "loop_budget.png"))
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
