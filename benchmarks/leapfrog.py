"""Gradient of the leapfrog integrator (examples/leapfrog.mlir): rev beside JAX
and PyTorch.

N particles in a harmonic potential, T velocity-Verlet steps; objective
L = sum(x_T) + sum(v_T). Measured in the same run, each configuration in a
fresh child process (median of repeats, after one warm-up call):
  * rev, `k` and `dt` active (the default: every float scalar argument gets
    an adjoint, summed over all N*T element-steps: an ordered float
    reduction that keeps LLVM from vectorising the backward inner loop);
  * rev, `k` and `dt` marked `rev.const` (no adjoint for them);
  * rev, `mlir_rev.ad`'s `wrt=(0, 1)` (x0 and v0 only: it marks k and dt
    `rev.const` on a copy of the module, so it should match the row above);
    with k and dt constant the program is linear and its adjoints read no
    state, so @leapfrog_grad is adjoint-only (docs/ad.md); the same without
    it (`adjoint_only=False`: the forward sweep and the uncomputation run);
  * JAX: `jax.jit(jax.grad)` of the same loop as `lax.fori_loop` over steps,
    vectorised over particles, gradient w.r.t. x0 and v0 only (JAX's
    natural form: k and dt are closed-over constants);
  * PyTorch: eager, a Python loop over the steps, vectorised over particles,
    `torch.autograd.grad` w.r.t. x0 and v0 (k and dt Python floats); CPU,
    float64, threads as benchmarks/torch_peer.py says.
rev's gradient time is a call of @leapfrog_grad (the gradient without the
value, as jax.grad; the shadows allocated in the call); the value and the
gradient (`Derivatives.vjp`: @leapfrog, then @leapfrog_bwd, or @leapfrog_grad
where it is adjoint-only) in a column of its own.
Columns: objective time, gradient time, their ratio, the gradient's extra
memory on its first call (MiB and bytes per element-step,
benchmarks/memory_probe.py). The gradients w.r.t. x0 and v0 are compared
between rev and JAX, and PyTorch's with rev's (the default row, relative):
above 1e-8 the script exits with status 1. Saved to
benchmarks/results/leapfrog.{md,json}.

Run: python benchmarks/leapfrog.py [--n 1000] [--steps 10000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from timing import median_time
from memory_probe import first_call_memory, mib, per

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
K, DT = 1.3, 1e-3


def inputs(n):
    import numpy as np
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)


def child_rev(n, steps, repeats, const, wrt=False, adjoint_only=True):
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    from mlir_rev.ad import Derivatives
    with open(os.path.join(ROOT, "examples", "leapfrog.mlir")) as f:
        src = f.read()
    if const:
        src = src.replace("%k: f64, %dt: f64", "%k: f64 {rev.const}, %dt: f64 {rev.const}")
    d = Derivatives(src, "leapfrog", wrt=(0, 1) if wrt else None, adjoint_only=adjoint_only)
    X0, V0 = inputs(n)

    def objective():
        X, V = X0.copy(), V0.copy()
        d.program.call("leapfrog", X, V, K, DT, steps)

    def gradient():
        # @leapfrog_grad alone, as jax.grad: the gradient without the value
        # (the seeds, dL/dx_T = dL/dv_T = 1, are the shadows' initial values).
        X, V = X0.copy(), V0.copy()
        XB, VB = np.ones(n), np.ones(n)
        d.program.call(d.grad_name, X, V, K, DT, steps, 0.0, 0.0, XB, VB)
        return XB, VB

    def value_and_gradient():
        X, V = X0.copy(), V0.copy()
        return d.vjp([X, V, K, DT, steps], [0.0, 0.0], [np.ones(n), np.ones(n)])

    # the JIT materialises code on the first call of each symbol: do that on
    # one step of a small input, so that the measured call only runs
    d.vjp([X0[:3].copy(), V0[:3].copy(), K, DT, 1], [0.0, 0.0], [np.ones(3), np.ones(3)])
    d.program.call(d.grad_name, X0[:3].copy(), V0[:3].copy(), K, DT, 1, 0.0, 0.0,
                   np.ones(3), np.ones(3))
    d.program.call("leapfrog", X0[:3].copy(), V0[:3].copy(), K, DT, 1)
    extra, peak, _ = first_call_memory(gradient)
    t_obj = median_time(objective, repeats, warmup=True)
    t_grad = median_time(gradient, repeats, warmup=True)
    t_vjp = median_time(value_and_gradient, repeats, warmup=True)
    dx, dv = gradient()
    _, adj = value_and_gradient()
    vx, vv = (adj[0], adj[1]) if wrt else (adj[2], adj[3])
    assert np.array_equal(vx, dx) and np.array_equal(vv, dv), "vjp and @leapfrog_grad differ"
    return {"objective_s": t_obj, "gradient_s": t_grad, "vjp_s": t_vjp, "extra_kib": extra,
            "peak_kib": peak, "adjoint_only": d.grad_name in d.program.adjoint_only,
            "dx0": list(dx[:8]), "dv0": list(dv[:8])}


def child_jax(n, steps, repeats):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    X0, V0 = inputs(n)
    kh = K * DT * 0.5

    def run(x, v):
        def step(_, s):
            x, v = s
            v = v - kh * x
            x = x + v * DT
            v = v - kh * x
            return x, v
        x, v = jax.lax.fori_loop(0, steps, step, (x, v))
        return jnp.sum(x) + jnp.sum(v)

    x0, v0 = jnp.asarray(X0), jnp.asarray(V0)
    # compiled ahead of time, so that the first gradient call only runs
    obj = jax.jit(run).lower(x0, v0).compile()
    grad = jax.jit(jax.grad(run, argnums=(0, 1))).lower(x0, v0).compile()
    extra, peak, _ = first_call_memory(lambda: jax.block_until_ready(grad(x0, v0)))
    t_obj = median_time(lambda: obj(x0, v0).block_until_ready(), repeats, warmup=True)
    t_grad = median_time(lambda: jax.block_until_ready(grad(x0, v0)), repeats, warmup=True)
    gx, gv = grad(x0, v0)
    return {"objective_s": t_obj, "gradient_s": t_grad, "extra_kib": extra,
            "peak_kib": peak,
            "dx0": [float(v) for v in gx[:8]], "dv0": [float(v) for v in gv[:8]]}


def leapfrog_torch(x, v, k, dt, steps):
    """The integrator in eager PyTorch; returns sum(x_T) + sum(v_T)."""
    kh = k * dt * 0.5
    for _ in range(steps):
        v = v - kh * x
        x = x + v * dt
        v = v - kh * x
    return x.sum() + v.sum()


def child_torch(n, steps, repeats):
    from torch_peer import import_torch
    torch = import_torch()
    X0, V0 = (torch.from_numpy(a) for a in inputs(n))
    xg, vg = X0.clone().requires_grad_(), V0.clone().requires_grad_()
    objective = lambda: leapfrog_torch(X0, V0, K, DT, steps)
    gradient = lambda: torch.autograd.grad(leapfrog_torch(xg, vg, K, DT, steps), (xg, vg))
    # autograd's and the allocator's one-time set-up, on a small input
    one = [a[:3].clone().requires_grad_() for a in (X0, V0)]
    torch.autograd.grad(leapfrog_torch(*one, K, DT, 2), one)
    extra, peak, _ = first_call_memory(gradient)
    t_obj = median_time(objective, repeats, warmup=True)
    t_grad = median_time(gradient, repeats, warmup=True)
    gx, gv = gradient()
    return {"objective_s": t_obj, "gradient_s": t_grad, "extra_kib": extra,
            "peak_kib": peak, "dx0": gx[:8].tolist(),
            "dv0": gv[:8].tolist(), "threads": torch.get_num_threads()}


def run_child(kind, args):
    cmd = [sys.executable, __file__, "--child", kind, "--n", str(args.n), "--steps",
           str(args.steps), "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])

MEMORY_NOTE = ("Extra memory: the rise of the resident-set high-water mark during the first "
               "gradient call in the child process over the resident set just before it "
               "(compiled code and inputs resident, the heap's free pages handed back by "
               "malloc_trim(0) first; benchmarks/memory_probe.py); per element-step: divided "
               "by N*T. The gradient arrays (2N doubles) are allocated in the call by every "
               "method and count.")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--child")
    args = p.parse_args()
    if args.child:
        if args.child == "jax":
            res = child_jax(args.n, args.steps, args.repeats)
        elif args.child == "torch":
            res = child_torch(args.n, args.steps, args.repeats)
        else:
            res = child_rev(args.n, args.steps, args.repeats, args.child == "rev_const",
                            args.child.startswith("rev_wrt"),
                            adjoint_only=args.child != "rev_wrt_plain")
        print(json.dumps(res))
        return
    from torch_peer import Checks, describe
    checks = Checks("leapfrog.py")
    rows = {}
    for kind in ("rev", "rev_const", "rev_wrt", "rev_wrt_plain", "jax", "torch"):
        try:
            rows[kind] = run_child(kind, args)
        except subprocess.CalledProcessError as e:
            print(f"{kind}: failed\n{e.stderr[-2000:]}", file=sys.stderr)
            if kind == "torch":  # PyTorch's gradient cannot be checked: fail loudly
                checks.check("the PyTorch child (it failed)", float("nan"))
    import numpy as np
    names = {"rev": "rev (k, dt active)", "rev_const": "rev (k, dt rev.const)",
             "rev_wrt": "rev, wrt=(0, 1)",
             "rev_wrt_plain": "rev, wrt=(0, 1), adjoint_only=False (both sweeps)",
             "jax": "JAX jit(grad), fori_loop",
             "torch": "PyTorch eager, Python loop over steps, autograd.grad"}
    lines = [f"# Leapfrog gradient, N = {args.n}, T = {args.steps} "
             f"({platform.node()}, {os.cpu_count()} cores, median of {args.repeats})", "",
             f"JAX {_jax_version()}, {describe()}; "
             f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.2f} at the "
             "end.", "",
             "| configuration | adjoint-only | objective (ms) | gradient (ms) | "
             "gradient / objective | gradient vs JAX gradient | value and gradient (vjp, ms) | "
             "gradient extra memory (MiB) | gradient extra memory "
             "(bytes per element-step) |", "|---|---|---|---|---|---|---|---|---|"]
    jg = rows.get("jax", {}).get("gradient_s")
    for kind, r in rows.items():
        vs = f"{r['gradient_s'] / jg:.2f}x" if jg else "n/a"
        ao = {True: "yes", False: "no"}.get(r.get("adjoint_only"), "")
        vjp = f"{1e3 * r['vjp_s']:.1f}" if "vjp_s" in r else ""
        lines.append(f"| {names[kind]} | {ao} | {1e3 * r['objective_s']:.1f} | "
                     f"{1e3 * r['gradient_s']:.1f} | "
                     f"{r['gradient_s'] / r['objective_s']:.1f} | {vs} | {vjp} | "
                     f"{mib(r.get('extra_kib'))} | {per(r.get('extra_kib'), args.n * args.steps)} |")
    if "jax" in rows:
        for kind in ("rev", "rev_const", "rev_wrt", "rev_wrt_plain"):
            if kind in rows:
                err = max(np.max(np.abs(np.subtract(rows[kind][k], rows["jax"][k])))
                          for k in ("dx0", "dv0"))
                lines.append(f"\n{names[kind]}: max |grad - JAX grad| on 8 entries = {err:.1e}")
    if "torch" in rows and "rev" in rows:
        err = max(np.max(np.abs(np.subtract(rows["torch"][k], rows["rev"][k]))
                         / np.maximum(np.abs(rows["rev"][k]), 1e-300)) for k in ("dx0", "dv0"))
        rows["torch"]["grad_rel_diff_rev"] = checks.check("d/dx0, d/dv0", float(err))
        lines.append(f"\n{names['torch']}: max rel. diff. to {names['rev']} on 8 entries = "
                     f"{err:.1e}")
    lines += ["", MEMORY_NOTE]
    table = "\n".join(lines)
    print(table)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "leapfrog.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(RESULTS, "leapfrog.json"), "w") as f:
        json.dump({"n": args.n, "steps": args.steps, "rows": rows}, f, indent=1)
    checks.finish()


def _jax_version():
    try:
        from importlib.metadata import version
        return version("jax")
    except Exception:  # noqa: BLE001 - only for a header line
        return "?"


if __name__ == "__main__":
    main()
