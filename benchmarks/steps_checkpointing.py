"""Checkpointed out-of-place steps (rev.steps, issue 13): gradient time and
memory against the number of snapshots, beside an ancilla-per-step rev
version and JAX.

    y <- y + sin(y) * x[t]      t = 0 .. T-1,  L = y_T

The step is not injective in place, so rev runs it out of place
(examples/steps.mlir: `rev.steps`, one working state, nothing kept per step);
its gradient (`--rev-ad`) reverses the steps by binomial checkpointing
(Griewank's revolve) with c snapshots of the state (`Program(memory_budget=
8 * c)`: the state is one f64). For T = 1e5 and 1e6 this measures, in the same
run, each in a fresh child process:
  * rev.steps for c = 1, 10, 30, 100, 300, 1000 and the default rule (the
    least c with C(c+3, 3) >= T: at most 3 recomputations of a step): the
    objective and gradient times (medians), the gradient's peak extra memory,
    and the steps it recomputed to reach its snapshots (`advances`, from
    `Program.steps_counts()`) beside revolve's minimum r*T - C(c+r, c+1)
    (r = the least with C(c+r, c) >= T). c = 1 is quadratic in T (T(T-1)/2
    advances): it is skipped where its time, estimated from the c = 10 row's
    time per step evaluation, would exceed --c1-max-s seconds, and the table
    says so;
  * rev.steps with schedule = "bennett" (Bennett's pebble game, reversed:
    docs/memory.md) for k = 1..4 levels (b = ceil(T^(1/k)) chunks a level):
    gradient time, peak extra memory, its compute and uncompute moves beside
    the game's count (a recursive reference here, (2b-1)^k where T = b^k)
    and its peak pebble count beside k (b-1) + 1;
  * the ancilla-per-step rev version (examples/steps_ancilla.mlir: a state
    array ys of length T+1 in a rev.for, `ys[t+1] += ys[t] + sin(ys[t]) *
    x[t]`; no checkpointing, memory linear in T: ys and its adjoint);
  * JAX (`jax.jit`, CPU, float64) of `jax.grad` over `lax.scan`: plain (a
    tape of the step's residuals), with `jax.checkpoint` on the scan body
    (the carry kept per step, the body recomputed), and a two-level
    scan-of-scans with `jax.checkpoint` on the inner scan (K ~ sqrt(T) steps
    a chunk: T/K carries kept, one chunk's tape at a time).
Peak extra memory is the method of benchmarks/coupled_recurrence.py: the
rise of the child's resident-set high-water mark during the first gradient
call (reset through /proc/self/clear_refs just before it) over its resident
set just before; inputs and compiled code are already resident. Every
gradient call allocates its outputs (dL/dxs, 8T bytes, for every method;
the ancilla version also its state array ys and its adjoint, 2 x 8(T+1)
bytes), so they are in the extra memory as JAX's output is in JAX's.
The gradients dyT/dy0 and dyT/dxs of every rev run, of the ancilla version
and of the JAX variants are compared with plain JAX's: a relative difference
(max |a - b| / max |b|) above 1e-10, or a measured advance count different
from revolve's formula, is printed loudly and makes the script exit with
status 1 (after it has saved the table). The table is printed and saved to
benchmarks/results/steps_checkpointing.{md,json}; the time-vs-memory plot to
benchmarks/results/steps_checkpointing.png (matplotlib, pinned in
benchmarks/requirements.txt; without it the script says so and saves the
tables only).

Run: bash benchmarks/run.sh   (or, set up: python benchmarks/steps_checkpointing.py)
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import subprocess
import sys
import tempfile

from timing import machine_line, median_time
from memory_probe import first_call_memory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
SIZES = (100_000, 1_000_000)
SNAPSHOTS = (10, 30, 100, 300, 1000, "default", 1)  # c = 1 last: estimated from c = 10
LEVELS = (1, 2, 3, 4)                               # Bennett's k
JAX_VARIANTS = ("scan", "checkpoint", "sqrt")
TOLERANCE = 1e-10
Y0 = 0.7


def inputs(T):
    """x[t] small enough that y_T depends on every x[t] and on y0 with
    derivatives of order one (each step's factor 1 + cos(y) x[t] is 1 +- 1e-3)."""
    import numpy as np
    rng = np.random.default_rng(0)
    return rng.uniform(-1e-3, 1e-3, T)


def revolve_advances(T, c):
    """Revolve's minimal number of advancing steps to reverse T steps with c
    snapshots (Griewank): r*T - C(c+r, c+1), r the least with C(c+r, c) >= T."""
    r = 0
    while math.comb(c + r, c) < T:
        r += 1
    return r * T - math.comb(c + r, c + 1)


def default_snapshots(T):
    """The default rule of rev-ad's memory budget: the least c with C(c+3, 3) >= T."""
    c = 1
    while math.comb(c + 3, 3) < T:
        c += 1
    return c


def chunk_count(T, k):
    """Bennett's b = ceil(T^(1/k)): the least b >= 1 with b^k >= T."""
    b = max(1, round(T ** (1 / k)) - 1)
    while b ** k < T:
        b += 1
    return b


def chunk_sizes(n, b):
    bp = min(b, n)
    q, r = divmod(n, bp)
    return [q] * (bp - r) + [q + 1] * r


@functools.lru_cache(maxsize=None)
def bennett_forward_moves(n, b):
    """(computes, uncomputes) of the forward pebble program over n steps:
    its chunks computed one after another, all but the last uncomputed in
    reverse (the reverse of a program swaps its computes and uncomputes)."""
    if n == 1:
        return 1, 0
    c = u = 0
    sizes = chunk_sizes(n, b)
    for i, m in enumerate(sizes):
        fc, fu = bennett_forward_moves(m, b)
        c, u = c + fc, u + fu
        if i < len(sizes) - 1:
            c, u = c + fu, u + fc
    return c, u


@functools.lru_cache(maxsize=None)
def bennett_gradient_moves(n, b):
    """(computes, uncomputes) of the reversed program the gradient runs: the
    chunk ends but the last computed, then each chunk reversed from the last
    (a one-step reverse is the uncompute at which the step adjoint runs)."""
    if n == 1:
        return 0, 1
    c = u = 0
    sizes = chunk_sizes(n, b)
    for i, m in enumerate(sizes):
        if i < len(sizes) - 1:
            fc, fu = bennett_forward_moves(m, b)
            c, u = c + fc, u + fu
        gc, gu = bennett_gradient_moves(m, b)
        c, u = c + gc, u + gu
    return c, u


def rev_program(path, **kw):
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    from mlir_rev.jit import Program
    with open(os.path.join(ROOT, "examples", path)) as f:
        return Program(f.read(), opt_level=3, **kw)


def child_steps(T, repeats, param, out):
    import numpy as np
    c = None if param == "default" else int(param)
    prog = rev_program("steps.mlir", grad=["recurrence"],
                       memory_budget=None if c is None else 8 * c)
    xs = inputs(T)
    y0 = np.array([Y0])

    def objective():
        yT = np.zeros(1)
        prog.call("recurrence", T, y0, yT, xs)
        return yT

    def gradient():
        yT, y0b, yTb, xsb = np.zeros(1), np.zeros(1), np.ones(1), np.zeros(T)
        prog.call("recurrence_grad", T, y0, yT, xs, y0b, yTb, xsb)
        return y0b, xsb

    # The JIT materialises code on the first call of each symbol: do that on
    # one step, so that the measured call only runs.
    prog.call("recurrence", 1, y0, np.zeros(1), xs[:1].copy())
    # (one element: no T-sized buffer is freed before the measured call for
    # it to reuse)
    one = xs[:1].copy()
    prog.call("recurrence_grad", 1, y0, np.zeros(1), one, np.zeros(1), np.ones(1), np.zeros(1))
    prog.steps_counts(reset=True)
    extra, peak, (y0b, xsb) = first_call_memory(gradient)
    counts = prog.steps_counts(reset=True)
    t_grad = median_time(gradient, repeats)
    t_obj = median_time(objective, repeats)
    np.save(out, np.concatenate([y0b, xsb]))
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                counts=counts, yT=float(objective()[0]))


def child_bennett(T, repeats, param, out):
    import numpy as np
    k = int(param)
    with open(os.path.join(ROOT, "examples", "steps.mlir")) as f:
        src = f.read()
    anchor = "(%xs) : memref"
    assert src.count(anchor) == 1
    src = src.replace(anchor, '(%%xs) {schedule = "bennett", levels = %d} : memref' % k)
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    from mlir_rev.jit import Program
    prog = Program(src, opt_level=3, grad=["recurrence"])
    xs = inputs(T)
    y0 = np.array([Y0])

    def objective():
        yT = np.zeros(1)
        prog.call("recurrence", T, y0, yT, xs)
        return yT

    def gradient():
        yT, y0b, yTb, xsb = np.zeros(1), np.zeros(1), np.ones(1), np.zeros(T)
        prog.call("recurrence_grad", T, y0, yT, xs, y0b, yTb, xsb)
        return y0b, xsb

    one = xs[:1].copy()
    prog.call("recurrence", 1, y0, np.zeros(1), one)
    prog.call("recurrence_grad", 1, y0, np.zeros(1), one, np.zeros(1), np.ones(1), np.zeros(1))
    prog.steps_counts(reset=True)
    extra, peak, (y0b, xsb) = first_call_memory(gradient)
    counts = prog.steps_counts(reset=True)
    t_grad = median_time(gradient, repeats)
    t_obj = median_time(objective, repeats)
    np.save(out, np.concatenate([y0b, xsb]))
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                counts=counts, yT=float(objective()[0]))


def child_ancilla(T, repeats, param, out):
    import numpy as np
    prog = rev_program("steps_ancilla.mlir", grad=["recurrence_ancilla"])
    xs = inputs(T)

    def states():
        ys = np.zeros(T + 1)
        ys[0] = Y0
        return ys

    def objective():
        ys = states()
        prog.call("recurrence_ancilla", T, ys, xs)
        return ys[T]

    def gradient():
        ys, ysb, xsb = states(), np.zeros(T + 1), np.zeros(T)
        ysb[T] = 1.0
        prog.call("recurrence_ancilla_grad", T, ys, xs, ysb, xsb)
        return ysb[:1].copy(), xsb

    one = xs[:1].copy()
    prog.call("recurrence_ancilla", 1, np.zeros(2), one)
    prog.call("recurrence_ancilla_grad", 1, np.zeros(2), one, np.zeros(2), np.zeros(1))
    extra, peak, (y0b, xsb) = first_call_memory(gradient)
    t_grad = median_time(gradient, repeats)
    t_obj = median_time(objective, repeats)
    np.save(out, np.concatenate([y0b, xsb]))
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                yT=float(objective()))


def chunk_size(T):
    """The divisor of T nearest sqrt(T) (the inner scan's length)."""
    best = 1
    for k in range(1, math.isqrt(T) + 1):
        if T % k == 0:
            best = k
    other = T // best
    return best if math.isqrt(T) - best <= other - math.isqrt(T) else other


def child_jax(T, repeats, variant, out):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    def step(y, x):
        return y + jnp.sin(y) * x, None

    K = chunk_size(T)

    def f(y0, xs):
        if variant == "scan":
            y, _ = jax.lax.scan(step, y0, xs)
        elif variant == "checkpoint":
            y, _ = jax.lax.scan(jax.checkpoint(step), y0, xs)
        else:  # sqrt: T/K checkpointed chunks of K steps
            @jax.checkpoint
            def chunk(y, xc):
                return jax.lax.scan(step, y, xc)[0], None
            y, _ = jax.lax.scan(chunk, y0, xs.reshape(T // K, K))
        return y

    xs = jnp.asarray(inputs(T))
    y0 = jnp.float64(Y0)
    # compiled ahead of time, so that the first gradient call only runs
    fj = jax.jit(f).lower(y0, xs).compile()
    gj = jax.jit(jax.grad(f, argnums=(0, 1))).lower(y0, xs).compile()
    objective = lambda: fj(y0, xs).block_until_ready()
    gradient = lambda: jax.block_until_ready(gj(y0, xs))
    extra, peak, (dy0, dxs) = first_call_memory(gradient)
    t_grad = median_time(gradient, repeats)
    t_obj = median_time(objective, repeats)
    np.save(out, np.concatenate([[float(dy0)], np.asarray(dxs)]))
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                yT=float(objective()), chunk=K if variant == "sqrt" else None,
                version=jax.__version__)


CHILDREN = {"steps": child_steps, "bennett": child_bennett, "ancilla": child_ancilla,
            "jax": child_jax}


def run_child(impl, T, repeats, param, tmp):
    out = os.path.join(tmp, f"{impl}-{param}-{T}.npy")
    proc = subprocess.run([sys.executable, __file__, "--child", impl, str(T), str(repeats),
                           str(param), out], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"steps_checkpointing.py: child {impl} {param} T={T} failed "
                         f"(exit {proc.returncode})")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["grad_file"] = out
    return res


class Failures:
    def __init__(self):
        self.items = []

    def add(self, msg):
        print("!" * 78 + "\n" + "steps_checkpointing.py: " + msg + "\n" + "!" * 78,
              file=sys.stderr, flush=True)
        self.items.append(msg)


def rel_diff(a, b):
    """max |a - b| / max |b| (NaN when either has a NaN)."""
    import numpy as np
    a, b = np.asarray(a), np.asarray(b)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("nan")
    return float(np.max(np.abs(a - b)) / max(1e-300, float(np.max(np.abs(b)))))


def measure(T, repeats, c1_max_s, tmp, fails, bennett_max_s):
    """The rows of one size: every method, the gradients compared with plain JAX's."""
    import numpy as np
    rows = []
    for v in JAX_VARIANTS:
        rows.append(dict(T=T, method="jax", variant=v, **run_child("jax", T, repeats, v, tmp)))
    ref = np.load(rows[0]["grad_file"])
    rows.append(dict(T=T, method="ancilla", **run_child("ancilla", T, repeats, "-", tmp)))
    c10 = None
    for c in SNAPSHOTS:
        if c == 1 and c1_max_s is not None:
            # c = 1: T(T-1)/2 advances; estimated from the c = 10 row's time
            # per step evaluation (forward, inverse, advances, 2 per adjoint)
            evals = lambda adv: adv + 4 * T
            per = c10["t_grad"] / evals(c10["counts"]["advances"])
            est = per * evals(revolve_advances(T, 1))
            if est > c1_max_s:
                rows.append(dict(T=T, method="steps", snapshots=1, skipped=(
                    f"skipped: {revolve_advances(T, 1):.3g} advances, ~{est:.0f} s estimated "
                    f"(> {c1_max_s:.0f} s)"), formula=revolve_advances(T, 1)))
                continue
        r = run_child("steps", T, 1 if c == 1 else repeats, c, tmp)
        cs = r["counts"]["snapshots"]
        want = default_snapshots(T) if c == "default" else min(c, T)
        if cs != want:
            fails.add(f"T={T} c={c}: the gradient used {cs} snapshots, expected {want}")
        r["formula"] = revolve_advances(T, cs)
        if r["counts"]["advances"] != r["formula"]:
            fails.add(f"ADVANCES ABOVE REVOLVE'S MINIMUM T={T} c={c}: "
                      f"{r['counts']['advances']} advances, revolve's r*T - C(c+r, c+1) = "
                      f"{r['formula']}")
        if r["counts"]["step_adjoints"] != T or r["counts"]["runs"] != 1:
            fails.add(f"T={T} c={c}: counts {r['counts']}, expected {T} step adjoints, 1 run")
        row = dict(T=T, method="steps", snapshots=c, **r)
        rows.append(row)
        if c == 10:
            c10 = row
        print(f"  T={T} c={c}: {r['t_grad'] * 1e3:.1f} ms", file=sys.stderr)
    for k in LEVELS:
        b = chunk_count(T, k)
        c, u = bennett_gradient_moves(T, b)
        theory = dict(compute=c, uncompute=u, pebbles=k * (b - 1) + 1, b=b)
        # estimated from the c = 10 row's time per step evaluation
        est = c10["t_grad"] / evaluations(c10) * (c + u + 3 * T) if c10 else 0
        if est > bennett_max_s:
            rows.append(dict(T=T, method="bennett", levels=k, theory=theory, skipped=(
                f"skipped: {c + u:.3g} moves, ~{est:.0f} s estimated (> {bennett_max_s:.0f} s)")))
            continue
        r = run_child("bennett", T, repeats, k, tmp)
        got = r["counts"]
        if (got["compute_moves"], got["uncompute_moves"]) != (c, u):
            fails.add(f"BENNETT MOVES T={T} k={k}: {got['compute_moves']} computes, "
                      f"{got['uncompute_moves']} uncomputes; the game: {c}, {u}")
        if got["pebbles"] > theory["pebbles"] or got["levels"] != k:
            fails.add(f"BENNETT T={T} k={k}: {got['pebbles']} pebbles > k (b-1) + 1 = "
                      f"{theory['pebbles']}, or levels {got['levels']}")
        if got["step_adjoints"] != T or got["runs"] != 1:
            fails.add(f"T={T} k={k}: counts {got}, expected {T} step adjoints, 1 run")
        rows.append(dict(T=T, method="bennett", levels=k, theory=theory, **r))
        print(f"  T={T} bennett k={k}: {r['t_grad'] * 1e3:.1f} ms", file=sys.stderr)
    for row in rows:
        if "grad_file" not in row:
            continue
        g = np.load(row.pop("grad_file"))
        row["y0_bar"] = float(g[0])
        row["rel_y0_bar"] = rel_diff(g[:1], ref[:1])
        row["rel_xs_bar"] = rel_diff(g[1:], ref[1:])
        row["rel_yT"] = rel_diff([row["yT"]], [rows[0]["yT"]])
        worst = max(row["rel_y0_bar"], row["rel_xs_bar"])
        if not worst <= TOLERANCE:  # NaN fails too
            fails.add(f"GRADIENT MISMATCH T={T} {label(row)}: relative difference to JAX "
                      f"(plain scan) dyT/dy0 {row['rel_y0_bar']:.3e}, dyT/dxs "
                      f"{row['rel_xs_bar']:.3e} > {TOLERANCE:.0e}")
    return rows


def label(row):
    if row["method"] == "jax":
        return {"scan": "JAX lax.scan", "checkpoint": "JAX scan, jax.checkpoint(step)",
                "sqrt": f"JAX scan of {row['T'] // (row.get('chunk') or 1)} checkpointed "
                        f"scans of {row.get('chunk')}"}[row["variant"]]
    if row["method"] == "ancilla":
        return "rev, ancilla per step (rev.for)"
    if row["method"] == "bennett":
        th = row["theory"]
        held = row["counts"]["pebbles"] if "counts" in row else th["pebbles"]
        return (f"rev.steps, Bennett k = {row['levels']} (b = {th['b']}, {held} pebbles"
                f"{'' if 'counts' in row else ' by the formula'})")
    c = row["snapshots"]
    if c == "default":
        return f"rev.steps, default rule (c = {row['counts']['snapshots']})"
    return f"rev.steps, c = {c}"


def beyond_output(r):
    """Bytes per step of the gradient's extra memory beyond its 8T-byte
    output dL/dxs (a negative rounding of a page or two shows as 0)."""
    return max(0.0, (r["extra_kib"] * 1024 - 8 * r["T"]) / r["T"])


def moves(r):
    """Revolve: advances; Bennett: compute + uncompute moves."""
    c = r["counts"]
    return c["advances"] + c["compute_moves"] + c["uncompute_moves"]


def theory_moves(r):
    if r["method"] == "bennett":
        return r["theory"]["compute"] + r["theory"]["uncompute"]
    return r["formula"]


def evaluations(r):
    """Step evaluations of a rev.steps gradient: T forward, the advances, and
    2 per step adjoint (the step's backward function uncomputes the new state,
    then recomputes the step for its partials), plus one for the first step
    adjoint, which recomputes the final state for the uncompute of the
    output (the other step adjoints skip that: this step only adds to its new
    state, docs/memory.md)."""
    if r["method"] == "bennett":
        # T forward; every move evaluates the step (the gradient's step
        # adjoints are uncomputes, the final state's into `out`); 2 per
        # step adjoint in the backward function
        return moves(r) + 3 * r["T"]
    return r["counts"]["advances"] + 3 * r["T"] + 1


def table(rows):
    ms = lambda s: f"{s * 1e3:.2f}"
    mib = lambda k: f"{k / 1024:.2f}"
    header = ("| T | method | objective (ms) | gradient (ms) | gradient / objective | "
              "gradient / JAX scan gradient | gradient ns per step | ns per step evaluation "
              "(advances or moves + 3T) | gradient extra memory (MiB) | beyond the 8T-byte "
              "output (bytes per step) | advances / Bennett moves (measured) | revolve r*T - "
              "C(c+r, c+1) / Bennett's game | measured / theory | rel. diff. dyT/dy0 vs JAX scan | rel. diff. dyT/dxs vs "
              "JAX scan |")
    lines = [header, "|" + "|".join(["---"] * (header.count("|") - 1)) + "|"]
    jax_grad = {r["T"]: r["t_grad"] for r in rows if r.get("variant") == "scan"}
    for r in rows:
        T = r["T"]
        if "skipped" in r:
            lines.append(f"| {T:.0e} | {label(r)} | | {r['skipped']} | | | | | | | | "
                         f"{theory_moves(r)} | | | |")
            continue
        steps = r["method"] in ("steps", "bennett")
        adv = (f"{moves(r)} | {theory_moves(r)} | "
               f"{moves(r) / max(1, theory_moves(r)):.3f}" if steps else "- | - | -")
        per_eval = f"{r['t_grad'] / evaluations(r) * 1e9:.1f}" if steps else "-"
        lines.append(
            f"| {T:.0e} | {label(r)} | {ms(r['t_obj'])} | {ms(r['t_grad'])} | "
            f"{r['t_grad'] / r['t_obj']:.1f} | {r['t_grad'] / jax_grad[T]:.2f} | "
            f"{r['t_grad'] / T * 1e9:.0f} | {per_eval} | {mib(r['extra_kib'])} | "
            f"{beyond_output(r):.1f} | {adv} | {r['rel_y0_bar']:.1e} | "
            f"{r['rel_xs_bar']:.1e} |")
    return "\n".join(lines)


def plot(rows, path):
    """Gradient time against the snapshots (rev.steps; the others as lines)
    and against the measured extra memory (every method), one colour a size."""
    try:
        import matplotlib
    except ImportError:
        print("steps_checkpointing.py: matplotlib is not installed (pip install -r "
              "benchmarks/requirements.txt): no plot, the tables only", file=sys.stderr)
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 7.5))
    colours = {100_000: "tab:blue", 1_000_000: "tab:red"}
    marks = {"scan": "s", "checkpoint": "^", "sqrt": "v"}
    for T in sorted({r["T"] for r in rows}):
        col = colours.get(T, "k")
        done = [r for r in rows if r["T"] == T and "skipped" not in r]
        steps = sorted((r for r in done if r["method"] == "steps"),
                       key=lambda r: r["counts"]["snapshots"])
        ax1.plot([r["counts"]["snapshots"] for r in steps], [r["t_grad"] for r in steps],
                 "o-", color=col, label=f"rev.steps revolve (x: snapshots c), T={T:.0e}")
        # what the same time per step evaluation gives at revolve's minimum
        ax1.plot([r["counts"]["snapshots"] for r in steps],
                 [r["t_grad"] * (r["formula"] + 3 * T + 1) / evaluations(r) for r in steps],
                 "x:", color=col, lw=1,
                 label=f"rev.steps at revolve's minimum advances (estimated), T={T:.0e}")
        ben = sorted((r for r in done if r["method"] == "bennett"), key=lambda r: r["levels"])
        ax1.plot([r["counts"]["pebbles"] for r in ben], [r["t_grad"] for r in ben], "P--",
                 color=col, label=f"rev.steps Bennett k = 1..4 (x: peak pebbles), T={T:.0e}")
        for r in ben:
            ax1.annotate(f"k={r['levels']}", (r["counts"]["pebbles"], r["t_grad"]), color=col,
                         textcoords="offset points", xytext=(4, -10), fontsize=8)
        for r in done:
            if r["method"] == "steps" and r["snapshots"] == "default":
                ax1.annotate("default", (r["counts"]["snapshots"], r["t_grad"]), color=col,
                             textcoords="offset points", xytext=(4, 6), fontsize=8)
        for r in done:
            if r["method"] in ("steps", "bennett"):
                continue
            style = ":" if r["method"] == "ancilla" else "--"
            mark = "D" if r["method"] == "ancilla" else marks[r["variant"]]
            ax1.axhline(r["t_grad"], color=col, ls=style, lw=1, marker=mark, mfc="none",
                        markevery=[0], label=f"{label(r)}, T={T:.0e}")
        # memory panel
        mem = lambda r: max(r["extra_kib"], 1) / 1024
        ax2.plot([mem(r) for r in steps], [r["t_grad"] for r in steps], "o", color=col,
                 label=f"rev.steps c = {', '.join(str(r['counts']['snapshots']) for r in steps)}"
                       f", T={T:.0e}")
        ax2.plot([mem(r) for r in ben], [r["t_grad"] for r in ben], "P", color=col,
                 label=f"rev.steps Bennett k = {', '.join(str(r['levels']) for r in ben)}, T={T:.0e}")
        for r in ben:
            ax2.annotate(f"k={r['levels']}", (mem(r), r["t_grad"]), color=col,
                         textcoords="offset points", xytext=(4, -10), fontsize=8)
        for r in done:
            if r["method"] == "ancilla":
                ax2.plot(mem(r), r["t_grad"], "D", color=col, label=f"{label(r)}, T={T:.0e}")
            elif r["method"] == "jax":
                ax2.plot(mem(r), r["t_grad"], marks[r["variant"]], color=col, mfc="none",
                         label=f"{label(r)}, T={T:.0e}")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("states kept (revolve: snapshots c; Bennett: peak pebbles; 8 bytes each)")
    ax1.set_ylabel("gradient time (s)")
    ax1.set_title("gradient time vs states kept (rev.steps: revolve, Bennett)\n"
                  "dotted: ancilla per step, dashed: JAX (no snapshots)")
    ax1.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("gradient's peak extra memory (MiB, resident set; includes the "
                   "8T-byte dL/dxs)")
    ax2.set_ylabel("gradient time (s)")
    ax2.set_title("time vs memory")
    ax2.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    fig.suptitle("y <- y + sin(y) x[t]: gradient of y_T (float64, CPU)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=5, metavar=("IMPL", "T", "REPEATS", "PARAM", "OUT"))
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--c1-max-s", type=float, default=30.0,
                    help="skip c = 1 at a size whose gradient would take longer (s)")
    ap.add_argument("--bennett-max-s", type=float, default=60.0,
                    help="skip a Bennett k at a size whose gradient would take longer (s)")
    ap.add_argument("--replot", action="store_true",
                    help="only redraw the plot from benchmarks/results/steps_checkpointing.json")
    args = ap.parse_args()
    if args.replot:
        with open(os.path.join(RESULTS, "steps_checkpointing.json")) as f:
            plot(json.load(f)["rows"], os.path.join(RESULTS, "steps_checkpointing.png"))
        return
    if args.child:
        impl, T, repeats, param, out = args.child
        res = CHILDREN[impl](int(T), int(repeats), param, out)
        print(json.dumps(res))
        return

    fails = Failures()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for T in sorted(args.sizes):
            repeats = 11 if T <= 100_000 else 5
            rows += measure(T, repeats, args.c1_max_s, tmp, fails, args.bennett_max_s)
            print(f"T={T}: done", file=sys.stderr)
    text = table(rows)
    version = next((r["version"] for r in rows if "version" in r), "?")
    machine = machine_line(version, stamp_suffix=" UTC")
    print(text)
    print(machine)
    os.makedirs(RESULTS, exist_ok=True)
    png = os.path.join(RESULTS, "steps_checkpointing.png")
    plotted = plot(rows, png)
    with open(os.path.join(RESULTS, "steps_checkpointing.md"), "w") as f:
        f.write("# Checkpointed out-of-place steps: gradient time and memory against "
                "snapshots, beside an ancilla per step and JAX\n\n")
        f.write("Produced by `bash benchmarks/run.sh` (benchmarks/steps_checkpointing.py): "
                "y <- y + sin(y) x[t], gradient of y_T with respect to y0 and x. Times are "
                "medians (11 repeats at T = 1e5, 5 at 1e6; c = 1 once); extra memory is the "
                "rise of the resident-set high-water mark during the first gradient call "
                "over the resident set just before it (inputs and compiled code already "
                "resident, the heap's free pages handed back by malloc_trim first); it "
                "includes the call's output, 8T bytes of dyT/dxs, for every method, and the "
                "ancilla version's state array and its adjoint, 16(T+1) bytes; the next "
                "column is what lies beyond that output, per step. A rev.steps snapshot is "
                "8 bytes (the state is one f64): c = 1000 keeps 8 KB, below what the "
                "resident set resolves. Advances: the steps the checkpointed adjoint "
                "recomputed to reach its snapshots (`Program.steps_counts()`), beside "
                "revolve's minimum; besides them a rev.steps gradient evaluates the step 3T "
                "times (T forward, 2 per step adjoint: the uncomputation of the new state "
                "in the step's backward function and that function's recomputation for "
                "its partials; the first step adjoint also recomputes the final state for "
                "the uncompute of the output), hence the column ns per step evaluation. "
                "Bennett rows (schedule = \"bennett\", k levels of b = ceil(T^(1/k)) "
                "chunks): the compute and uncompute moves of the reversed pebble game "
                "(each a step evaluation; the step adjoints are among the uncomputes), "
                "beside the game's count, and the peak pebbles (at most k (b-1) + 1 "
                "states, 8 bytes each); their step evaluations are moves + 3T. "
                "Gradients "
                "compared with plain JAX's (max |a-b| / max |b|; tolerance "
                f"{TOLERANCE:.0e}). Machine: {machine}\n\n")
        f.write(text + "\n")
        if plotted:
            f.write("\n![gradient time vs snapshots and vs memory](steps_checkpointing.png)\n")
    with open(os.path.join(RESULTS, "steps_checkpointing.json"), "w") as f:
        json.dump(dict(machine=machine, tolerance=TOLERANCE, rows=rows), f, indent=1)
    if fails.items:
        print(f"steps_checkpointing.py: {len(fails.items)} failed check(s):", file=sys.stderr)
        for m in fails.items:
            print("  " + m, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
