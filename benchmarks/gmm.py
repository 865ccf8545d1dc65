"""GMM objective and gradient (ADBench's Gaussian mixture model), rev beside JAX
and PyTorch.

benchmarks/gmm.mlir is the objective written reversibly (see its header:
per point, a routine computes the K log-likelihood terms with an inner
compute-uncompute of Q_k (x_i - mu_k), their running maximum and the
shifted sum of exponentials in scratch memrefs and an ancilla (exp(q)
computed once for all points by a routine around them), adds the
logsumexp to L and uncomputes everything), without the constant terms.
For each (d, K, n): the objective and the gradient with respect to alpha,
mu and icf (rev: `Derivatives(..., wrt=(0, 1, 2))`, gamma and m marked
`rev.const`; JAX: `jit(grad(f, argnums=(0, 1, 2)))` of the same formula,
vectorised, `jax.nn.logsumexp`; PyTorch: the same formula in eager mode,
`torch.logsumexp`, `torch.autograd.grad` w.r.t. alpha, mu and icf, CPU,
float64, threads as benchmarks/torch_peer.py says), medians of repeats, each
in a fresh child process, and the gradient's extra memory on its first call
(MiB and bytes per point, benchmarks/memory_probe.py); the gradients are
compared with JAX's, PyTorch's also with rev's (above 1e-8 relative to the
largest entry the script exits with status 1). Saved to benchmarks/results/gmm.{md,json}.

Run: python benchmarks/gmm.py [--repeats 11]
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
CASES = ((2, 5), (10, 5), (10, 25))  # (d, K), from the ADBench set
SIZES = (1000, 10000)
GAMMA, WM = 1.0, 0.0  # ADBench's Wishart parameters


def inputs(n, d, K):
    import numpy as np
    rng = np.random.default_rng(0)
    T = d * (d + 1) // 2
    return (rng.normal(size=K), rng.normal(size=(K, d)), 0.3 * rng.normal(size=(K, T)),
            rng.normal(size=(n, d)))


def child_rev(n, d, K, repeats):
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    from mlir_rev.ad import Derivatives
    with open(os.path.join(ROOT, "benchmarks", "gmm.mlir")) as f:
        src = f.read()
    dr = Derivatives(src, "gmm", wrt=(0, 1, 2))
    A, MU, ICF, X = inputs(n, d, K)
    B, MX, Z, EQ = np.zeros(K), np.zeros(K), np.zeros(d), np.zeros((K, d))
    args = [A, MU, ICF, X, B, MX, Z, EQ, GAMMA, WM, 0.0]

    def objective():
        B[...], MX[...], Z[...], EQ[...] = 0.0, 0.0, 0.0, 0.0
        return dr.program.call("gmm", *args)[2]

    gradient = lambda: dr.gradient(*args, output=2)
    # the JIT materialises code on the first call of each symbol: do that on
    # two points, so that the measured call only runs
    small = list(args)
    small[3] = X[:2].copy()
    dr.program.call("gmm", *small)
    B[...], MX[...], Z[...], EQ[...] = 0.0, 0.0, 0.0, 0.0
    dr.gradient(*small, output=2)
    extra, peak, _ = first_call_memory(gradient)
    t_obj, t_grad = median_time(objective, repeats, warmup=True), median_time(gradient, repeats, warmup=True)
    # The scratch comes back zero up to the rounding of add-then-subtract.
    residual = float(max(np.max(np.abs(x)) for x in (B, MX, Z, EQ)))
    assert residual < 1e-9, residual
    g = gradient()
    return {"objective_s": t_obj, "gradient_s": t_grad, "extra_kib": extra, "peak_kib": peak,
            "L": objective(), "residual": residual,
            "grad": [np.asarray(x).ravel().tolist() for x in g]}


def child_jax(n, d, K, repeats):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    rows, cols = zip(*[(r, c) for c in range(d) for r in range(c + 1, d)]) if d > 1 else ((), ())
    rows, cols = np.array(rows, dtype=int), np.array(cols, dtype=int)

    def f(A, MU, ICF, X):
        q, ls = ICF[:, :d], ICF[:, d:]
        Q = jnp.zeros((K, d, d)).at[:, rows, cols].set(ls) + jax.vmap(jnp.diag)(jnp.exp(q))
        xc = X[:, None, :] - MU[None]
        qx = jnp.einsum("kij,nkj->nki", Q, xc)
        beta = A + q.sum(1) - 0.5 * jnp.sum(qx ** 2, -1)
        L = jnp.sum(jax.nn.logsumexp(beta, axis=1)) - n * jax.nn.logsumexp(A)
        return (L + 0.5 * GAMMA ** 2 * (jnp.sum(jnp.exp(q) ** 2) + jnp.sum(ls ** 2))
                - WM * jnp.sum(q))

    xs = [jnp.asarray(v) for v in inputs(n, d, K)]
    # compiled ahead of time, so that the first gradient call only runs
    obj = jax.jit(f).lower(*xs).compile()
    grad = jax.jit(jax.grad(f, argnums=(0, 1, 2))).lower(*xs).compile()
    extra, peak, _ = first_call_memory(lambda: jax.block_until_ready(grad(*xs)))
    t_obj = median_time(lambda: obj(*xs).block_until_ready(), repeats, warmup=True)
    t_grad = median_time(lambda: jax.block_until_ready(grad(*xs)), repeats, warmup=True)
    return {"objective_s": t_obj, "gradient_s": t_grad, "extra_kib": extra, "peak_kib": peak,
            "L": float(obj(*xs)),
            "grad": [np.asarray(g).ravel().tolist() for g in grad(*xs)],
            "version": jax.__version__}


def tril_indices(d):
    """Row and column of each entry of ICF[:, d:] in Q's strict lower triangle
    (ADBench's order: column by column)."""
    pairs = [(r, c) for c in range(d) for r in range(c + 1, d)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def gmm_torch(A, MU, ICF, X):
    """The objective in eager PyTorch (the JAX version's formula)."""
    import torch
    n, d = X.shape
    K = A.shape[0]
    rows, cols = tril_indices(d)
    q, ls = ICF[:, :d], ICF[:, d:]
    Q = torch.diag_embed(torch.exp(q))
    if d > 1:
        lower = torch.zeros(K, d, d, dtype=ICF.dtype)
        lower[:, rows, cols] = ls
        Q = Q + lower
    xc = X[:, None, :] - MU[None]
    qx = torch.einsum("kij,nkj->nki", Q, xc)
    beta = A + q.sum(1) - 0.5 * torch.sum(qx ** 2, -1)
    L = torch.sum(torch.logsumexp(beta, 1)) - n * torch.logsumexp(A, 0)
    return (L + 0.5 * GAMMA ** 2 * (torch.sum(torch.exp(q) ** 2) + torch.sum(ls ** 2))
            - WM * torch.sum(q))


def child_torch(n, d, K, repeats):
    from torch_peer import import_torch
    torch = import_torch()
    xs = [torch.from_numpy(v) for v in inputs(n, d, K)]
    wrt = [v.clone().requires_grad_() for v in xs[:3]]
    objective = lambda: gmm_torch(*xs)
    gradient = lambda: torch.autograd.grad(gmm_torch(*wrt, xs[3]), wrt)
    # autograd's and the allocator's one-time set-up, on two points
    torch.autograd.grad(gmm_torch(*wrt, xs[3][:2]), wrt)
    extra, peak, _ = first_call_memory(gradient)
    t_obj, t_grad = median_time(objective, repeats, warmup=True), median_time(gradient, repeats, warmup=True)
    return {"objective_s": t_obj, "gradient_s": t_grad, "extra_kib": extra, "peak_kib": peak,
            "L": float(objective()),
            "grad": [g.numpy().ravel().tolist() for g in gradient()],
            "threads": torch.get_num_threads()}


def run_child(kind, n, d, K, repeats):
    cmd = [sys.executable, __file__, "--child", kind, str(n), str(d), str(K), str(repeats)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=11)
    p.add_argument("--note", default="", help="a line for the table's header (e.g. load)")
    p.add_argument("--child", nargs=5)
    args = p.parse_args()
    if args.child:
        kind, n, d, K, repeats = args.child[0], *map(int, args.child[1:])
        fn = {"rev": child_rev, "jax": child_jax, "torch": child_torch}[kind]
        print(json.dumps(fn(n, d, K, repeats)))
        return
    import numpy as np
    from torch_peer import Checks, describe
    checks = Checks("gmm.py")
    rows = []
    for d, K in CASES:
        for n in SIZES:
            r = run_child("rev", n, d, K, args.repeats)
            j = run_child("jax", n, d, K, args.repeats)
            t = run_child("torch", n, d, K, args.repeats)
            gr, gj = np.concatenate(r.pop("grad")), np.concatenate(j.pop("grad"))
            gt = np.concatenate(t.pop("grad"))
            rows.append(dict(d=d, K=K, n=n, rev=r, jax=j, torch=t,
                             grad_rel_diff=float(np.max(np.abs(gr - gj)) / np.max(np.abs(gj))),
                             L_rel_diff=abs(r["L"] - j["L"]) / abs(j["L"]),
                             torch_grad_rel_diff=checks.check(
                                 f"d={d} K={K} n={n}",
                                 float(np.max(np.abs(gt - gr)) / np.max(np.abs(gr)))),
                             torch_L_rel_diff=abs(t["L"] - r["L"]) / abs(r["L"])))
            print(f"d={d} K={K} n={n}: done", file=sys.stderr)
    ms = lambda s: f"{1e3 * s:.2f}"
    header = ("| d | K | n | rev objective (ms) | rev gradient (ms) | rev gradient / objective | "
              "JAX objective (ms) | JAX gradient (ms) | JAX gradient / objective | "
              "rev / JAX gradient | gradient rel. diff. to JAX | PyTorch objective (ms) | "
              "PyTorch gradient (ms) | PyTorch gradient / objective | rev / PyTorch gradient | "
              "PyTorch gradient rel. diff. to rev | rev gradient extra memory (MiB) | "
              "rev (bytes/point) | JAX gradient extra memory (MiB) | JAX (bytes/point) | "
              "PyTorch gradient extra memory (MiB) | PyTorch (bytes/point) |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for w in rows:
        r, j, t = w["rev"], w["jax"], w["torch"]
        lines.append(f"| {w['d']} | {w['K']} | {w['n']} | {ms(r['objective_s'])} | "
                     f"{ms(r['gradient_s'])} | {r['gradient_s'] / r['objective_s']:.1f} | "
                     f"{ms(j['objective_s'])} | {ms(j['gradient_s'])} | "
                     f"{j['gradient_s'] / j['objective_s']:.1f} | "
                     f"{r['gradient_s'] / j['gradient_s']:.2f} | {w['grad_rel_diff']:.1e} | "
                     f"{ms(t['objective_s'])} | {ms(t['gradient_s'])} | "
                     f"{t['gradient_s'] / t['objective_s']:.1f} | "
                     f"{r['gradient_s'] / t['gradient_s']:.2f} | {w['torch_grad_rel_diff']:.1e} | "
                     + " | ".join(f"{mib(x['extra_kib'])} | {per(x['extra_kib'], w['n'])}"
                                  for x in (r, j, t)) + " |")
    machine = (f"{platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}, "
               f"JAX {rows[0]['jax'].get('version', '?')}, {describe()}, "
               f"{time.strftime('%Y-%m-%d %H:%M')}"
               + (f"; {args.note}" if args.note else ""))
    table = "\n".join(lines)
    print(table)
    print(machine)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "gmm.md"), "w") as f:
        f.write("# GMM objective and gradient (ADBench shape), rev beside JAX and PyTorch\n\n"
                f"Produced by `python benchmarks/gmm.py --repeats {args.repeats}` (medians, "
                "each in a fresh child process; rev JIT at O3 on one thread, gradient with "
                "respect to alpha, mu, icf via `wrt=(0, 1, 2)`, forward and backward sweep; "
                "JAX jit on CPU, float64, vectorised; PyTorch eager, CPU, float64, "
                "vectorised, `torch.autograd.grad`). Extra memory: the rise of the resident-set "
                "high-water mark during the first gradient call in the child process over the "
                "resident set just before it (compiled code and inputs resident, the heap's "
                "free pages handed back by malloc_trim(0) first; benchmarks/memory_probe.py); "
                "every method allocates its gradient arrays in the call (they count). "
                "Machine: " + machine + "\n\n")
        f.write(table + "\n")
    with open(os.path.join(RESULTS, "gmm.json"), "w") as f:
        json.dump(dict(machine=machine, repeats=args.repeats, rows=rows), f, indent=1)
    checks.finish()


if __name__ == "__main__":
    main()
