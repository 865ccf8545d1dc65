"""Gradient of a ring of nonlinear pendulums (benchmarks/pendulum_ring.mlir):
rev beside JAX and PyTorch.

N pendulums, neighbours coupled by springs (stiffness k), T velocity-Verlet
steps; objective L = sum(x_T) + sum(v_T). Measured in the same run, each
configuration in a fresh child process (median of repeats, after one warm-up):
  * rev, every float input differentiated (x0, v0, k, dt: the adjoints of
    k and dt are summed over all N*T element-steps);
  * rev, `wrt=(0, 1)` (mlir_rev.ad: x0 and v0 only; k and dt are marked
    `rev.const` on a copy of the module);
  * rev with a loop budget (docs/memory.md, "Array state"): @ring_grad (both
    sweeps in one call) with `loop_budget=16` (sin and cos of X[i] stored in
    both kicks: 32 bytes per element-step) and with `memory_budget` = 16 bytes
    per element-step, JAX's tape (one kick's plan fits);
  * JAX: `jax.jit(jax.grad(..., argnums=(0, 1)))` of the same loop as a
    `lax.fori_loop` over steps, vectorised over pendulums (`jnp.roll`);
  * PyTorch: eager, a Python loop over the steps, vectorised over pendulums
    (`torch.roll`), `torch.autograd.grad` w.r.t. x0 and v0; CPU, float64,
    threads as benchmarks/torch_peer.py says.
Columns: objective time, gradient time (objective and backward sweep, as
`vjp` runs them), their ratio, the gradient against JAX's, the gradient's extra
memory on its first call (MiB and bytes per element-step,
benchmarks/memory_probe.py). The gradients with
respect to x0 and v0 are compared with JAX's, PyTorch's also with rev's (the
first row): above 1e-8 (relative) the script exits with status 1. Saved to
benchmarks/results/pendulum_ring.{md,json}.

Run: python benchmarks/pendulum_ring.py [--n 1000] [--steps 2000] [--repeats 5]
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
K, DT = 0.7, 1e-3


def inputs(n):
    import numpy as np
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)


def child_rev(n, steps, repeats, wrt):
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    from mlir_rev.ad import Derivatives
    with open(os.path.join(ROOT, "benchmarks", "pendulum_ring.mlir")) as f:
        src = f.read()
    d = Derivatives(src, "ring", wrt=(0, 1) if wrt else None)
    X0, V0 = inputs(n)

    def objective():
        X, V = X0.copy(), V0.copy()
        d.program.call("ring", X, V, K, DT, steps)

    def gradient():
        X, V = X0.copy(), V0.copy()
        return d.vjp([X, V, K, DT, steps], [0.0, 0.0], [np.ones(n), np.ones(n)])

    # the JIT materialises code on the first call of each symbol: do that on
    # one step of a small input, so that the measured call only runs
    d.vjp([X0[:3].copy(), V0[:3].copy(), K, DT, 1], [0.0, 0.0], [np.ones(3), np.ones(3)])
    d.program.call("ring", X0[:3].copy(), V0[:3].copy(), K, DT, 1)
    extra, peak, _ = first_call_memory(gradient)
    t_obj = median_time(objective, repeats, warmup=True)
    t_grad = median_time(gradient, repeats, warmup=True)
    _, adj = gradient()
    dx, dv = (adj[0], adj[1]) if wrt else (adj[2], adj[3])
    return {"objective_s": t_obj, "gradient_s": t_grad, "extra_kib": extra,
            "peak_kib": peak, "dx0": list(dx), "dv0": list(dv)}


def child_rev_budget(n, steps, repeats, kind):
    """@ring_grad (both sweeps in one call) with a loop budget: kind
    "rev_lb16" stores up to 16 bytes per kick iteration (both kicks: 32 bytes
    per element-step), "rev_mem" has a memory budget of 16 bytes per
    element-step in all (JAX's tape), which one kick's 16-byte plan takes."""
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    from mlir_rev.jit import Program
    with open(os.path.join(ROOT, "benchmarks", "pendulum_ring.mlir")) as f:
        src = f.read()
    kw = dict(loop_budget=16) if kind == "rev_lb16" else dict(memory_budget=16 * n * steps)
    p = Program(src, grad=["ring"], opt_level=3, **kw)
    g = p.gradient_names["ring"]
    X0, V0 = inputs(n)

    def objective():
        X, V = X0.copy(), V0.copy()
        p.call("ring", X, V, K, DT, steps)

    def gradient():
        X, V = X0.copy(), V0.copy()
        xb, vb = np.ones(n), np.ones(n)
        p.call(g, X, V, K, DT, steps, 0.0, 0.0, xb, vb)
        return xb, vb

    p.call(g, X0[:3].copy(), V0[:3].copy(), K, DT, 1, 0.0, 0.0, np.ones(3), np.ones(3))
    p.call("ring", X0[:3].copy(), V0[:3].copy(), K, DT, 1)
    extra, peak, _ = first_call_memory(gradient)
    t_obj = median_time(objective, repeats, warmup=True)
    t_grad = median_time(gradient, repeats, warmup=True)
    dx, dv = gradient()
    return {"objective_s": t_obj, "gradient_s": t_grad, "extra_kib": extra,
            "peak_kib": peak, "dx0": list(dx), "dv0": list(dv)}


def child_jax(n, steps, repeats):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    X0, V0 = inputs(n)
    h = DT * 0.5

    def accel(x):
        return K * (jnp.roll(x, -1) - 2.0 * x + jnp.roll(x, 1)) - jnp.sin(x)

    def run(x, v):
        def step(_, s):
            x, v = s
            v = v + h * accel(x)
            x = x + v * DT
            v = v + h * accel(x)
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
            "peak_kib": peak, "dx0": [float(v) for v in gx],
            "dv0": [float(v) for v in gv], "version": jax.__version__}


def ring_torch(x, v, k, dt, steps):
    """The pendulum ring in eager PyTorch; returns sum(x_T) + sum(v_T)."""
    import torch
    h = dt * 0.5

    def accel(x):
        return k * (torch.roll(x, -1) - 2.0 * x + torch.roll(x, 1)) - torch.sin(x)

    for _ in range(steps):
        v = v + h * accel(x)
        x = x + v * dt
        v = v + h * accel(x)
    return x.sum() + v.sum()


def child_torch(n, steps, repeats):
    from torch_peer import import_torch
    torch = import_torch()
    X0, V0 = (torch.from_numpy(a) for a in inputs(n))
    xg, vg = X0.clone().requires_grad_(), V0.clone().requires_grad_()
    objective = lambda: ring_torch(X0, V0, K, DT, steps)
    gradient = lambda: torch.autograd.grad(ring_torch(xg, vg, K, DT, steps), (xg, vg))
    # autograd's and the allocator's one-time set-up, on a small input
    one = [a[:3].clone().requires_grad_() for a in (X0, V0)]
    torch.autograd.grad(ring_torch(*one, K, DT, 2), one)
    extra, peak, _ = first_call_memory(gradient)
    t_obj = median_time(objective, repeats, warmup=True)
    t_grad = median_time(gradient, repeats, warmup=True)
    gx, gv = gradient()
    return {"objective_s": t_obj, "gradient_s": t_grad, "extra_kib": extra,
            "peak_kib": peak, "dx0": gx.tolist(),
            "dv0": gv.tolist(), "threads": torch.get_num_threads()}


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
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--note", default="", help="a line for the table's header (e.g. load)")
    p.add_argument("--child")
    args = p.parse_args()
    if args.child:
        if args.child == "jax":
            res = child_jax(args.n, args.steps, args.repeats)
        elif args.child == "torch":
            res = child_torch(args.n, args.steps, args.repeats)
        elif args.child in ("rev_lb16", "rev_mem"):
            res = child_rev_budget(args.n, args.steps, args.repeats, args.child)
        else:
            res = child_rev(args.n, args.steps, args.repeats, args.child == "rev_wrt")
        print(json.dumps(res))
        return
    from torch_peer import Checks, describe
    checks = Checks("pendulum_ring.py")
    rows = {}
    for kind in ("rev", "rev_wrt", "rev_lb16", "rev_mem", "jax", "torch"):
        try:
            rows[kind] = run_child(kind, args)
        except subprocess.CalledProcessError as e:
            print(f"{kind}: failed\n{e.stderr[-2000:]}", file=sys.stderr)
            if kind == "torch":  # PyTorch's gradient cannot be checked: fail loudly
                checks.check("the PyTorch child (it failed)", float("nan"))
    import numpy as np
    names = {"rev": "rev (x0, v0, k, dt active)", "rev_wrt": "rev, wrt=(0, 1) (x0, v0)",
             "rev_lb16": "rev (x0, v0, k, dt active), loop_budget=16: sin, cos of X[i] "
                         "stored in both kicks",
             "rev_mem": "rev (x0, v0, k, dt active), memory_budget=16 B x N x T (JAX's): "
                        "one kick stores",
             "jax": "JAX jit(grad(argnums=(0, 1))), fori_loop",
             "torch": "PyTorch eager, Python loop over steps, autograd.grad"}
    machine = (f"{platform.node()} ({os.cpu_count()} cores), Python "
               f"{platform.python_version()}, JAX {rows.get('jax', {}).get('version', '?')}, "
               f"{describe()}, "
               f"{time.strftime('%Y-%m-%d %H:%M')}" + (f"; {args.note}" if args.note else ""))
    lines = [f"# Pendulum ring gradient, N = {args.n}, T = {args.steps}", "",
             f"Produced by `python benchmarks/pendulum_ring.py --n {args.n} --steps "
             f"{args.steps} --repeats {args.repeats}` (medians; rev JIT at O3, one thread; "
             f"JAX jit on CPU, float64; PyTorch eager, CPU, float64). Machine: {machine}", "",
             "| configuration | objective (ms) | gradient (ms) | gradient / objective | "
             "gradient vs JAX gradient | max rel. diff. of d/dx0, d/dv0 to JAX | "
             "max rel. diff. of d/dx0, d/dv0 to rev (first row) | gradient extra memory (MiB) | "
             "gradient extra memory (bytes per element-step) |",
             "|---|---|---|---|---|---|---|---|---|"]
    jg = rows.get("jax", {}).get("gradient_s")
    for kind, r in rows.items():
        vs = f"{r['gradient_s'] / jg:.2f}x" if jg else "n/a"
        err = "(reference)" if kind == "jax" else "n/a"
        if kind != "jax" and "jax" in rows:
            err = f"{max(np.max(np.abs(np.subtract(r[k], rows['jax'][k])) / np.maximum(np.abs(rows['jax'][k]), 1e-300)) for k in ('dx0', 'dv0')):.1e}"
        err_rev = "(reference)" if kind == "rev" else ""
        if kind == "torch" and "rev" in rows:
            err_rev = checks.check("d/dx0, d/dv0", float(max(
                np.max(np.abs(np.subtract(r[k], rows["rev"][k]))
                       / np.maximum(np.abs(rows["rev"][k]), 1e-300)) for k in ("dx0", "dv0"))))
            r["grad_rel_diff_rev"] = err_rev
            err_rev = f"{err_rev:.1e}"
        lines.append(f"| {names[kind]} | {1e3 * r['objective_s']:.1f} | "
                     f"{1e3 * r['gradient_s']:.1f} | "
                     f"{r['gradient_s'] / r['objective_s']:.1f} | {vs} | {err} | {err_rev} | "
                     f"{mib(r.get('extra_kib'))} | {per(r.get('extra_kib'), args.n * args.steps)} |")
    lines += ["", MEMORY_NOTE]
    table = "\n".join(lines)
    print(table)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "pendulum_ring.md"), "w") as f:
        f.write(table + "\n")
    for r in rows.values():  # keep the heads of the gradients only
        r["dx0"], r["dv0"] = r["dx0"][:8], r["dv0"][:8]
    with open(os.path.join(RESULTS, "pendulum_ring.json"), "w") as f:
        json.dump({"n": args.n, "steps": args.steps, "machine": machine, "rows": rows}, f,
                  indent=1)
    checks.finish()


if __name__ == "__main__":
    main()
