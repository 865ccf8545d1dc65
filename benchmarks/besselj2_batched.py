"""Batched Bessel J_2 and its gradient: rev (no tape) beside JAX vmap(grad) and
PyTorch.

    Y[i] += J_2(X[i]),  i = 0 .. n-1     (30-term series per element)

benchmarks/besselj2_batched.mlir is the routine of examples/besselj2.mlir
inside a rev.for over the elements. For n = 1e5 and 1e6 this measures, in
the same run, each in a fresh child process (median of repeats, ns per
element):
  * rev primal (`@besselj2_batched`, JIT at O3);
  * rev gradient (`@besselj2_batched_grad`, seeds dY = 1, so dX[i] =
    J_2'(X[i])): without --rev-unroll-small-loops and memref noalias (the
    state before issue 10: `unroll_max_trip_count=0, memref_noalias=False`),
    with unrolling only, with both (the defaults), with the defaults and the
    opt-in fast-math flags (`fast_math="arcp"`: divisions may become
    multiplications by reciprocals; `"fast"`: all flags, reassociation
    included), with the defaults but without rev-ad's fused sweeps
    (`fuse_sweeps=False`: @f then @f_bwd, 4 passes over each element's
    series instead of 2), also without --rev-fold-zero-adjoints
    (`fold_zero_adjoints=False`: the state before that pass), with the
    defaults but without recovered values (`fold_recoveries=False`: the
    backward recovers each term by a division instead of reading the
    forward's) and, with --trips, other trip-count limits;
  * JAX: `jit(vmap(f))` and `jit(vmap(grad(f)))` of the same series, CPU,
    float64: the terms as a Python loop (unrolled when traced, as one writes
    it in JAX: the reference of the ratios) and, on a row of its own, as a
    `lax.fori_loop`;
  * each method's gradient extra memory (MiB and bytes per element) on its
    first call (benchmarks/memory_probe.py);
  * PyTorch: the same series in eager mode, vectorised over the elements
    (the terms a Python loop), the gradient `torch.autograd.grad` with
    dY = 1; CPU, float64, threads as benchmarks/torch_peer.py says.
The gradients are compared with JAX's (max relative difference), PyTorch's
also with rev's (the defaults): above 1e-8 the script exits with status 1.
The table is printed and saved to benchmarks/results/besselj2_batched.{md,json}.

Run: bash benchmarks/run.sh   (or, set up: python benchmarks/besselj2_batched.py)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from child import run_json_child
from timing import machine_line, median_time
from memory_probe import first_call_memory, mib, per

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
SIZES = (100_000, 1_000_000)
TERMS = 30


def inputs(n):
    import numpy as np
    rng = np.random.default_rng(0)
    return rng.uniform(0.5, 8.0, n)


def xla_arithmetic(src):
    """The series as XLA compiles JAX's `h2 / (k * (k + 2.0))`: XLA's algebraic
    simplifier turns a division by a constant into a multiplication by its
    reciprocal (JAX's primal equals that NumPy evaluation bit for bit, not
    the division's), an approximation rev's exact default does not make.
    Written so in rev (`1 / den` folds to a constant once the term loop is
    unrolled), the primal computes what JAX's does."""
    old = "        %q = arith.divf %h2, %den : f64\n"
    assert old in src
    return src.replace(old, "        %one = arith.constant 1.0 : f64\n"
                            "        %rden = arith.divf %one, %den : f64\n"
                            "        %q = arith.mulf %h2, %rden : f64\n")


def parallel_elements(src):
    """The element loop as a rev.parallel_for (each iteration adds into its
    own Y[i]: the verifier proves the iterations independent), for
    target="openmp"."""
    old = "  rev.for %i = %c0 to %n step %c1 {\n"
    assert old in src
    return src.replace(old, "  rev.parallel_for %i = %c0 to %n step %c1 {\n")


def child_rev(n, repeats, config):
    """config: "T" (unroll-max-trip-count T; "default": the pipeline's),
    "T/nonoalias" (the same without memref noalias, without
    --rev-fold-zero-adjoints and without fused sweeps), "T/nofold" (without
    the latter two), "T/nofuse" (without fused sweeps and recovered values),
    "T/norec" (without recovered values only: fold_recoveries=False),
    "T/arcp", "T/fast" (the same with that fast_math), "T/xla" (the defaults,
    the series written as XLA evaluates JAX's: `h2 * (1 / (k (k + 2)))`, see
    xla_arithmetic); "T/omp", "T/xla+omp": the element loop a rev.parallel_for
    on one OpenMP thread per core (target="openmp", as XLA uses every core);
    "+w512" added: vector_width=512 (opt-in; exact, the same operations in
    AVX-512 lanes); "+nopipe" added: pipeline_sweeps=False (the element
    loop not software-pipelined); "+nodiv" added: divide_by_constants=False
    (the pipelined loop's divisions by constants stay divisions)."""
    trips, _, variant = config.partition("/")
    trips = -1 if trips == "default" else int(trips)
    # "+omp": the element loop a rev.parallel_for, on OpenMP threads (one per
    # core this process may use); "xla+omp": with xla_arithmetic too.
    parts = variant.split("+")
    omp = "omp" in parts
    wide = "w512" in parts  # vector_width=512 (opt-in, exact)
    pipe = "nopipe" not in parts  # pipeline_sweeps (the default)
    divide = "nodiv" not in parts  # divide_by_constants (the default)
    parts = [p for p in parts if p not in ("omp", "w512", "nopipe", "nodiv")]
    variant = parts[0] if parts else ""
    if omp:
        os.environ.setdefault("OMP_PLACES", "cores")
        os.environ.setdefault("OMP_PROC_BIND", "close")
        os.environ.setdefault("KMP_BLOCKTIME", "0")
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    from mlir_rev.jit import Program
    with open(os.path.join(ROOT, "benchmarks", "besselj2_batched.mlir")) as f:
        src = f.read()
    if variant == "xla":
        src = xla_arithmetic(src)
    target = {}
    if omp:
        src = parallel_elements(src)
        target = dict(target="openmp", num_threads=len(os.sched_getaffinity(0)))
    t0 = time.perf_counter()
    prog = Program(src, grad=["besselj2_batched"], opt_level=3, **target,
                   vector_width=512 if wide else None, pipeline_sweeps=pipe,
                   divide_by_constants=divide,
                   unroll_max_trip_count=None if trips < 0 else trips,
                   memref_noalias=variant != "nonoalias",
                   fold_zero_adjoints=variant not in ("nonoalias", "nofold"),
                   fuse_sweeps=variant not in ("nonoalias", "nofold", "nofuse"),
                   fold_recoveries=variant not in ("nonoalias", "nofold", "nofuse", "norec"),
                   fast_math=variant if variant in ("arcp", "contract", "fast") else "none")
    t_compile = time.perf_counter() - t0
    g = prog.gradient_names["besselj2_batched"]
    xs = inputs(n)
    ys, xbar, ybar = np.zeros_like(xs), np.zeros_like(xs), np.ones_like(xs)

    def primal():
        ys[...] = 0.0
        prog.call("besselj2_batched", xs, ys)

    def gradient():
        # rev adds dX into the caller's array: zeroing it is part of the
        # price (JAX returns a fresh one); dY comes back as it went in
        # (checked below), so it is set once
        xbar[...] = 0.0
        prog.call(g, xs, ys, xbar, ybar)

    # materialise the JIT's code on one element first
    one = xs[:1].copy()
    prog.call("besselj2_batched", one, np.zeros(1))
    prog.call(g, one, np.zeros(1), np.zeros(1), np.ones(1))
    # the caller's arrays resident (np.zeros leaves its pages untouched)
    ys.fill(0.0), xbar.fill(0.0)
    extra, peak, _ = first_call_memory(gradient)
    primal(), gradient()  # warm up
    t_obj = median_time(primal, repeats)
    t_grad = median_time(gradient, repeats)
    primal(), gradient()
    assert np.all(ybar == 1.0), "the gradient changed dY"
    return dict(t_obj=t_obj, t_grad=t_grad, t_compile=t_compile, extra_kib=extra,
                peak_kib=peak, y=ys[:3].tolist(),
                grad=xbar.tolist() if n <= 10 else None, grad_head=xbar[:1000].tolist())


def child_jax(n, repeats, loop):
    """loop: "python" (the terms unrolled when traced, as one writes it in
    JAX) or "fori" (lax.fori_loop over the terms); "python/1core": the
    Python loop with the process pinned to one core (rev's code runs on one
    thread, XLA's on every core it has)."""
    loop, _, pin = loop.partition("/")
    if pin == "1core":
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def j2(x):
        h2 = (x / 2.0) * (x / 2.0)
        t = h2 / 2.0
        s = t
        if loop == "python":
            for k in range(1, TERMS):
                t = t * -(h2 / (k * (k + 2.0)))
                s = s + t
            return s

        def term(k, c):
            t, s = c
            kf = k.astype(jnp.float64)
            t = t * -(h2 / (kf * (kf + 2.0)))
            return t, s + t
        _, s = jax.lax.fori_loop(1, TERMS, term, (t, s))
        return s

    xs = jnp.asarray(inputs(n))
    fj = jax.jit(jax.vmap(j2)).lower(xs).compile()
    gj = jax.jit(jax.vmap(jax.grad(j2))).lower(xs).compile()
    primal = lambda: fj(xs).block_until_ready()
    gradient = lambda: gj(xs).block_until_ready()
    extra, peak, _ = first_call_memory(gradient)
    primal(), gradient()
    t_obj = median_time(primal, repeats)
    t_grad = median_time(gradient, repeats)
    import numpy as np
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                y=np.asarray(primal()[:3]).tolist(),
                grad_head=np.asarray(gradient()[:1000]).tolist(), version=jax.__version__)


def j2_torch(x):
    """J_2 of every element of the tensor x: the series in eager PyTorch."""
    h2 = (x / 2.0) * (x / 2.0)
    t = h2 / 2.0
    s = t
    for k in range(1, TERMS):
        t = t * -(h2 / (k * (k + 2.0)))
        s = s + t
    return s


def child_torch(n, repeats):
    from torch_peer import import_torch
    torch = import_torch()
    x0 = torch.from_numpy(inputs(n))
    xg = x0.clone().requires_grad_()
    seed = torch.ones_like(x0)
    primal = lambda: j2_torch(x0)
    gradient = lambda: torch.autograd.grad(j2_torch(xg), xg, grad_outputs=seed)[0]
    # autograd's and the allocator's one-time set-up, on one element
    one = xg[:1].detach().clone().requires_grad_()
    torch.autograd.grad(j2_torch(one), one, grad_outputs=seed[:1])
    extra, peak, _ = first_call_memory(gradient)
    primal(), gradient()  # warm up
    t_obj = median_time(primal, repeats)
    t_grad = median_time(gradient, repeats)
    return dict(t_obj=t_obj, t_grad=t_grad, extra_kib=extra, peak_kib=peak,
                y=primal()[:3].tolist(),
                grad_head=gradient()[:1000].tolist(), threads=torch.get_num_threads(),
                version=torch.__version__)


def run_child(*args):
    return run_json_child(__file__, *args)


def rel_diff(a, b):
    import numpy as np
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--trips", type=int, nargs="*", default=[],
                    help="extra unroll-max-trip-count limits to measure")
    ap.add_argument("--note", default="", help="a line for the table's header (e.g. load)")
    ap.add_argument("--configs", nargs="*", default=None,
                    help="only these rev configurations (default: all)")
    args = ap.parse_args()
    if args.child:
        impl, n, repeats = args.child[0], int(args.child[1]), int(args.child[2])
        res = (child_rev(n, repeats, args.child[3]) if impl == "rev"
               else child_torch(n, repeats) if impl == "torch"
               else child_jax(n, repeats, args.child[3]))
        print(json.dumps(res))
        return

    # rev configurations: before issue 10's work (no unrolling, no noalias),
    # unrolling alone, then the defaults (unrolling and noalias), the defaults
    # with fast-math flags (opt-in), extra limits
    configs = ["0/nonoalias+nopipe", "default/nonoalias+nopipe", "default/nofold+nopipe",
               "default/nofuse+nopipe", "default/norec+nopipe", "default/nopipe",
               "default/nodiv", "default", "default/xla", "default/arcp",
               "default/fast", "default/omp+nopipe", "default/omp+nodiv", "default/omp",
               "default/xla+omp",
               "default/w512+nopipe", "default/w512",
               "default/xla+w512", "default/omp+w512", "default/xla+omp+w512",
               *map(str, args.trips)]
    if args.configs is not None:
        configs = args.configs
    from torch_peer import Checks, describe
    checks = Checks("besselj2_batched.py")
    ref = "default" if "default" in configs else configs[0]  # PyTorch is checked against it
    rows = []
    for n in args.sizes:
        t = run_child("torch", n, args.repeats, "eager")
        j = run_child("jax", n, args.repeats, "python")
        jf = run_child("jax", n, args.repeats, "fori")
        j1 = run_child("jax", n, args.repeats, "python/1core")
        revs = {c: run_child("rev", n, args.repeats, c) for c in configs}
        revs[ref]["grad_head_kept"] = revs[ref]["grad_head"]
        for r in revs.values():
            r["grad_rel_diff"] = rel_diff(r["grad_head"], j["grad_head"])
            r["y_rel_diff"] = rel_diff(r["y"], j["y"])
            del r["grad_head"]
        t["grad_rel_diff"] = rel_diff(t["grad_head"], j["grad_head"])
        t["grad_rel_diff_rev"] = checks.check(
            f"n={n}", rel_diff(t["grad_head"], revs[ref].pop("grad_head_kept")))
        jf["grad_rel_diff"] = rel_diff(jf["grad_head"], j["grad_head"])
        j1["grad_rel_diff"] = rel_diff(j1["grad_head"], j["grad_head"])
        del j["grad_head"], jf["grad_head"], j1["grad_head"], t["grad_head"]
        rows.append(dict(n=n, jax=j, jax_fori=jf, jax_1core=j1, torch=t, torch_ref=ref,
                         rev={str(c): r for c, r in revs.items()}))
        print(f"n={n}: done", file=sys.stderr)

    ns = lambda s, n: f"{s / n * 1e9:.1f}"
    name = lambda c: {"0/nonoalias+nopipe": "no unrolling, no noalias, no zero folding, no "
                                            "fused sweeps, no recovered values, no pipelining "
                                            "(before)",
                      "default/nonoalias+nopipe": "unrolling (default limits), no noalias, no "
                                                  "zero folding, no fused sweeps, no recovered "
                                                  "values, no pipelining",
                      "default/nofold+nopipe": "unrolling and noalias, no zero folding, no "
                                               "fused sweeps, no recovered values, no "
                                               "pipelining",
                      "default/nofuse+nopipe": "unrolling, noalias, zero folding, no fused "
                                               "sweeps, no recovered values, no pipelining",
                      "default/norec+nopipe": "unrolling, noalias, zero folding, fused sweeps, "
                                              "no recovered values, no pipelining",
                      "default/nopipe": "unrolling, noalias, zero folding, fused sweeps, "
                                        "recovered values, no pipelining",
                      "default/nodiv": "unrolling, noalias, zero folding, fused sweeps, "
                                       "recovered values, software-pipelined sweeps, their "
                                       "divisions on the divider (divide_by_constants=False)",
                      "default": "unrolling, noalias, zero folding, fused sweeps, recovered "
                                 "values, software-pipelined sweeps, their divisions by "
                                 "constants as multiplications with FMA corrections "
                                 "(exact; the defaults)",
                      "default/omp+nodiv": "the defaults without divide_by_constants, the "
                                           "element loop a rev.parallel_for on every core "
                                           "(target=\"openmp\", exact)",
                      "default/omp+nopipe": "the defaults without pipelining, the element "
                                            "loop a rev.parallel_for on every core "
                                            "(target=\"openmp\", exact)",
                      "default/w512+nopipe": "the defaults without pipelining + "
                                             "vector_width=512 (exact)",
                      "default/omp+w512": "the defaults, the element loop a rev.parallel_for "
                                          "on every core + vector_width=512 (exact)",
                      "default/xla": "the defaults, the series written as XLA evaluates "
                                     "JAX's (h2 * (1 / (k (k + 2))): exact, the same arithmetic)",
                      "default/arcp": "the defaults + fast_math=\"arcp\"",
                      "default/fast": "the defaults + fast_math=\"fast\"",
                      "default/omp": "the defaults, the element loop a rev.parallel_for on "
                                     "every core (target=\"openmp\", exact)",
                      "default/xla+omp": "the series as XLA evaluates it, the element loop a "
                                         "rev.parallel_for on every core (target=\"openmp\", "
                                         "exact)",
                      "default/w512": "the defaults + vector_width=512 (exact)",
                      "default/xla+w512": "the series as XLA evaluates it + vector_width=512 "
                                          "(exact)",
                      "default/xla+omp+w512": "the series as XLA evaluates it, the element loop "
                                              "a rev.parallel_for on every core + "
                                              "vector_width=512 (exact)"}.get(
                          c, f"unroll-max-trip-count={c}, noalias")
    header = ("| n | rev configuration | rev primal (ns/elem) | rev gradient (ns/elem) | rev gradient "
              "/ rev primal | JAX primal (ns/elem) | JAX vmap(grad) (ns/elem) | rev gradient / "
              "JAX gradient | max rel. diff. of gradients to JAX (first 1000) | rev gradient extra "
              "memory (MiB) | rev gradient extra memory (bytes/elem) | JAX gradient extra "
              "memory (MiB) | JAX gradient extra memory (bytes/elem) |")
    lines = [header, "|" + "|".join(["---"] * (header.count("|") - 1)) + "|"]
    for row in rows:
        n, j, jf, j1 = row["n"], row["jax"], row["jax_fori"], row["jax_1core"]
        for c, r in row["rev"].items():
            lines.append(
                f"| {n:.0e} | {name(c)} | {ns(r['t_obj'], n)} | {ns(r['t_grad'], n)} | "
                f"{r['t_grad'] / r['t_obj']:.1f} | {ns(j['t_obj'], n)} | {ns(j['t_grad'], n)} | "
                f"{r['t_grad'] / j['t_grad']:.2f} | {r['grad_rel_diff']:.1e} | "
                f"{mib(r['extra_kib'])} | {per(r['extra_kib'], n)} | {mib(j['extra_kib'])} | "
                f"{per(j['extra_kib'], n)} |")
        lines.append(
            f"| {n:.0e} | (JAX with lax.fori_loop over the terms) | | | | {ns(jf['t_obj'], n)} | "
            f"{ns(jf['t_grad'], n)} | | {jf['grad_rel_diff']:.1e} | | | {mib(jf['extra_kib'])} | "
            f"{per(jf['extra_kib'], n)} |")
        ratios = ", ".join(f"{label}: {row['rev'][c]['t_grad'] / j1['t_grad']:.2f}"
                           for label, c in (("rev fast gradient / this", "default/fast"),
                                            ("exact", "default")) if c in row["rev"])
        lines.append(
            f"| {n:.0e} | (JAX pinned to one core, as rev runs; {ratios}) | | | | "
            f"{ns(j1['t_obj'], n)} | {ns(j1['t_grad'], n)} | | {j1['grad_rel_diff']:.1e} | | | "
            f"{mib(j1['extra_kib'])} | {per(j1['extra_kib'], n)} |")
        t, r = row["torch"], row["rev"][row["torch_ref"]]
        lines.append(
            f"| {n:.0e} | (PyTorch eager, vectorised, {t['threads']} threads, "
            f"`autograd.grad`; rev ({row['torch_ref']}) gradient / this: "
            f"{r['t_grad'] / t['t_grad']:.2f}; gradient vs rev's: max rel. diff. "
            f"{t['grad_rel_diff_rev']:.1e}) | | | | {ns(t['t_obj'], n)} | {ns(t['t_grad'], n)} | "
            f"| {t['grad_rel_diff']:.1e} | | | {mib(t['extra_kib'])} | {per(t['extra_kib'], n)} |")
    machine = machine_line(rows[0]['jax'].get('version', '?'), describe(), load=False)
    if args.note:
        machine += "; " + args.note
    table = "\n".join(lines)
    print(table)
    print(machine)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "besselj2_batched.md"), "w") as f:
        f.write("# Batched Bessel J2: primal and gradient per element, rev beside JAX and "
                "PyTorch\n\n")
        f.write("Produced by `bash benchmarks/run.sh` (benchmarks/besselj2_batched.py, "
                f"{args.repeats} repeats). Times are medians, each configuration in a fresh "
                "child process; rev JIT-compiled at O3 (the primal is affected by noalias only), "
                "with --rev-unroll-small-loops, memref noalias, --rev-fold-zero-adjoints and "
                "rev-ad's fused sweeps (`fuse_sweeps`) and recovered values "
                "(`fold_recoveries`, --rev-fold-recoveries) and software-pipelined sweeps "
                "(`pipeline_sweeps`, --rev-pipeline-sweeps) off and on, and with the "
                "opt-in fast-math flags (arcp, fast); rev's timed calls include NumPy's "
                "zeroing of the array rev adds into (Y for the primal, dX for the gradient; "
                "dY is set once: the gradient leaves it as it came, checked); JAX `jit(vmap(f))` and "
                "`jit(vmap(grad(f)))`, CPU, float64, the series' terms a Python loop (the "
                "ratios' reference; XLA uses every core, rev one thread except in the OpenMP "
                "rows, which run the element loop as a rev.parallel_for on every core) or a "
                "`lax.fori_loop` (own "
                "row), and the Python loop pinned to one core (own row); PyTorch eager, "
                "vectorised over the elements, the terms a Python loop, "
                "`torch.autograd.grad` with dY = 1 (own row, in the JAX columns; its "
                "gradient is also compared with rev's). Extra memory: the rise of the "
                "resident-set high-water mark during the first gradient call in the child "
                "process over the resident set just before it (compiled code and inputs "
                "resident, the heap's free pages handed back by malloc_trim(0) first; "
                "benchmarks/memory_probe.py); rev writes dX into a caller-provided array (not "
                "counted), JAX and PyTorch allocate theirs in the call (counted: 8 bytes/elem). "
                "Machine: " + machine + "\n\n")
        f.write(table + "\n")
    with open(os.path.join(RESULTS, "besselj2_batched.json"), "w") as f:
        json.dump(dict(machine=machine, repeats=args.repeats, rows=rows), f, indent=1)
    checks.finish()


if __name__ == "__main__":
    main()
