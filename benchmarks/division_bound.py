"""How much of the batched Bessel J2 primal and gradient is the divider's
time: the bound that exact IEEE division puts under rev's default build.

The series' term `t *= -(h2 / (k (k + 2)))` divides by a constant per term;
rev's default keeps those divisions exact (XLA turns them into
multiplications by reciprocals, docs: README "Batched Bessel J2"). This
script measures, in the same run:
  * the divider's throughput on this machine (benchmarks/div_throughput.c,
    cc -O2 -march=native): ns per float64 division issued back to back in
    8 independent chains, scalar, 4 lanes (ymm) and, with AVX-512, 8 lanes
    (zmm);
  * the divisions in rev's object code for benchmarks/besselj2_batched.mlir
    (the defaults, JIT at O3; the ExecutionEngine's object file, objdump):
    per function, the vdivpd on ymm / zmm registers and the scalar vdivsd.
    Every vdivpd divides one value of each of its lanes' elements; the
    counts are a multiple of the series' 28 divisions per element, one set
    per copy of the loop (LLVM's vector body, its interleaved and remainder
    copies, the pipelined loop's prologue: how many depends on the width
    LLVM picks for this CPU), and the scalar ones are in scalar remainder
    loops and constant set-up; with --rev-divide-by-constants the vector
    divisions left are in the guard's fallback branches;
  * rev's primal and gradient (n = 1e6, ns per element, medians of
    interleaved calls in this process): the defaults (the pipelined loop's
    divisions by constants done by multiplications and FMA corrections,
    --rev-divide-by-constants: exact, and off the divider), the defaults with
    the divisions (divide_by_constants=False), the defaults without
    pipelining (pipeline_sweeps=False: the primal's and this build's loops
    are LLVM's, with the divisions) and the series written as XLA
    evaluates JAX's (`xla_arithmetic`: no division left), and JAX's gradient
    pinned to one core (a child process, besselj2_batched.py's);
  * the same exact gradient written by hand in C with 4-lane vectors
    (benchmarks/bessel_schedule.c), in the order without pipelining (each 4
    elements' forward sweep, then their backward sweep) and software-pipelined
    (the next 4 elements' divisions interleaved with the current 4's
    backward chain): what the order of the work is worth, with the same
    divisions.
The bound: (divisions per element: the series' 28) x (ns per lane-division
on the register width LLVM vectorises with here: ymm, or zmm where the CPU's
tuning prefers 512 bits). Printed
and saved to benchmarks/results/division_bound.{md,json}.

Run: python benchmarks/division_bound.py [--repeats 11] [--no-jax]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from besselj2_batched import inputs, run_child, xla_arithmetic
from c_build import compile_c
from timing import interleaved_medians, machine_line, save_results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
N = 1_000_000


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "CPU model unknown"


def divider_throughput(directory, rounds=5):
    """{"scalar"|"ymm"|"zmm": ns per lane-division} from div_throughput.c."""
    exe = compile_c("div_throughput.c", os.path.join(directory, "div_throughput"),
                    ["-O2", "-march=native"])
    out = subprocess.run([exe, str(rounds)], capture_output=True, text=True,
                         check=True).stdout
    return {k: float(v) for k, v in (line.split() for line in out.splitlines())}


def schedule_kernels(directory):
    """benchmarks/bessel_schedule.c as a shared library: {"plain"|"pipelined":
    f(X, Yb, Xb)} adding the gradient into Xb (n a multiple of 4, >= 8)."""
    import ctypes
    import numpy as np
    so = ctypes.CDLL(compile_c("bessel_schedule.c", os.path.join(directory, "bessel_schedule.so"),
                               ["-O3", "-march=native", "-ffp-contract=off"], shared=True))
    arr = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
    out = {}
    for name in ("plain", "pipelined"):
        fn = getattr(so, "bessel_grad_" + name)
        fn.argtypes, fn.restype = [ctypes.c_long, arr, arr, arr], None
        out[name] = (lambda fn: lambda X, Yb, Xb: fn(len(X), X, Yb, Xb))(fn)
    return out


def division_counts(objdump_text, functions):
    """{function: {"ymm": n, "zmm": n, "xmm": n, "scalar": n}}: the vdivpd on
    each register width and the vdivsd in each function's disassembly."""
    counts = {}
    current = None
    for line in objdump_text.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            current = m.group(1) if m.group(1) in functions else None
            if current:
                counts[current] = dict(ymm=0, zmm=0, xmm=0, scalar=0)
            continue
        if current is None:
            continue
        ins = line.split("\t")[-1].strip()
        if ins.startswith("vdivpd"):
            width = "zmm" if "%zmm" in ins else "ymm" if "%ymm" in ins else "xmm"
            counts[current][width] += 1
        elif ins.startswith(("vdivsd", "divsd")):
            counts[current]["scalar"] += 1
    return counts


def rev_program(variant):
    from mlir_rev.jit import Program
    with open(os.path.join(ROOT, "benchmarks", "besselj2_batched.mlir")) as f:
        src = f.read()
    if variant == "xla":
        src = xla_arithmetic(src)
    return Program(src, grad=["besselj2_batched"], opt_level=3,
                   pipeline_sweeps=variant != "nopipe",
                   divide_by_constants=variant != "divide")


def object_divisions(prog, directory):
    """The division counts of the primal and gradient in the object code the
    JIT makes of `prog`'s module (a second ExecutionEngine with object dump,
    the same module and optimisation level)."""
    from mlir_rev.execution_engine import ExecutionEngine
    from mlir_rev import jit
    jit._load_runtime()
    engine = ExecutionEngine(prog.module, opt_level=3, shared_libs=[jit._RUNTIME_LIB],
                             enable_object_dump=True)
    obj = os.path.join(directory, "bessel.o")
    engine.dump_to_object_file(obj)
    objdump = shutil.which("objdump") or shutil.which("llvm-objdump")
    if objdump is None:
        raise SystemExit("division_bound.py needs objdump (binutils) or llvm-objdump")
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", obj], capture_output=True,
                          text=True, check=True).stdout
    grad = prog.gradient_names["besselj2_batched"]
    return division_counts(text, {"besselj2_batched", grad}), grad


def schedule_times(kernels, prog, repeats):
    """ns per element of the hand-written C gradients (bessel_schedule.c) and
    their max difference to rev's exact gradient over its largest entry (the
    gradient has zeros in the inputs' range), and whether the two C orders
    agree bit for bit."""
    import numpy as np
    xs = inputs(N)
    ybar = np.ones_like(xs)
    ref = np.zeros_like(xs)
    prog.call(prog.gradient_names["besselj2_batched"], xs, np.zeros_like(xs), ref, ybar.copy())
    out, fns = {}, []
    for name, kernel in kernels.items():
        xbar = np.zeros_like(xs)
        kernel(xs, ybar, xbar)
        out[name] = dict(rel_diff=float(np.max(np.abs(xbar - ref)) / np.max(np.abs(ref))),
                         xbar=xbar)
        fns.append((lambda k, xb: lambda: k(xs, ybar, xb))(kernel, xbar))
    for name, t in zip(kernels, interleaved_medians(fns, repeats, warmup=True)):
        out[name]["grad_ns"] = t / N * 1e9
    same = np.array_equal(out["plain"].pop("xbar"), out["pipelined"].pop("xbar"))
    return out, bool(same)


def times(prog, repeats):
    """ns per element of the primal and the gradient (seeds dY = 1), medians
    of interleaved calls."""
    import numpy as np
    xs = inputs(N)
    ys, xbar, ybar = np.zeros_like(xs), np.zeros_like(xs), np.ones_like(xs)
    g = prog.gradient_names["besselj2_batched"]

    def primal():
        prog.call("besselj2_batched", xs, ys)

    def gradient():
        prog.call(g, xs, ys, xbar, ybar)

    tp, tg = interleaved_medians([primal, gradient], repeats, warmup=True)
    return tp / N * 1e9, tg / N * 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--no-jax", action="store_true",
                    help="leave out JAX's one-core gradient (the child process)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        div = divider_throughput(d)
        rows = {}
        for variant in ("exact", "divide", "nopipe", "xla"):
            prog = rev_program(variant)
            counts, grad = object_divisions(prog, d)
            tp, tg = times(prog, args.repeats)
            rows[variant] = dict(primal_ns=tp, grad_ns=tg,
                                 primal_div=counts["besselj2_batched"],
                                 grad_div=counts[grad])
            if variant == "exact":
                hand, hand_same = schedule_times(schedule_kernels(d), prog, args.repeats)
    jax_ns, jax_version = None, "not run"
    if not args.no_jax:
        j = run_child("jax", N, args.repeats, "python/1core")
        jax_ns, jax_version = j["t_grad"] / N * 1e9, j["version"]
    machine = machine_line(jax_version, cpu_model())

    # The vector width LLVM gives the element loops: 512-bit (zmm) where the
    # CPU's tuning prefers it (AMD Zen 4/5), else 256-bit (ymm); the bound
    # uses that width's ns per lane-division.
    width = "zmm" if rows["nopipe"]["primal_div"]["zmm"] else "ymm"
    lane = div[width]
    lines = [f"# Batched Bessel J2 (n = 1e6): the divider's share ({machine})", "",
             "Divider throughput (benchmarks/div_throughput.c, cc -O2 -march=native; 8 "
             "independent chains, best of 5): ns per float64 division, per lane: "
             + ", ".join(f"{k} {v:.3f}" for k, v in div.items()) + f". LLVM vectorises "
             f"the element loops on {width} registers here.", "",
             "| rev build | primal (ns/element) | gradient (ns/element) | vdivpd ymm / zmm in the "
             "primal (every copy of the loop: vector body, LLVM's interleaved and remainder "
             "copies, the pipelined prologue) | vdivpd ymm / zmm in the gradient | "
             "vdivsd (primal / gradient) | divider bound (ns/element: divisions per element x ns per "
             f"lane-division on {width}) |",
             "|---|---|---|---|---|---|---|"]
    names = {"exact": "the defaults (exact: pipelined sweeps, their divisions by constants "
                      "as multiplications with FMA corrections, --rev-divide-by-constants; "
                      "the vdivpd counted are in the guarded fallback branches, not run here)",
             "divide": "the defaults without divide_by_constants (exact IEEE divisions on "
                       "the divider; software-pipelined sweeps)",
             "nopipe": "the defaults without pipelining (pipeline_sweeps=False)",
             "xla": "the series written as XLA evaluates JAX's (`1 / den`, exact)"}
    # divisions per element, from the series itself: the term k (1..29)
    # divides by k (k + 2), except k = 2's 8, a power of two that LLVM
    # multiplies by (x / 2 and h2 / 2 likewise); the XLA form divides only
    # to make its constants. The object code's counts are a multiple of
    # this (one per copy of the loop).
    series = sum(1 for k in range(1, 30) if (k * (k + 2)) & (k * (k + 2) - 1))
    per_element = {"exact": 0, "divide": series, "nopipe": series, "xla": 0}
    for v, r in rows.items():
        bound = per_element[v] * lane
        r["bound_ns"] = bound
        r["divisions_per_element"] = per_element[v]
        lines.append(f"| {names[v]} | {r['primal_ns']:.1f} | {r['grad_ns']:.1f} | "
                     f"{r['primal_div']['ymm']} / {r['primal_div']['zmm']} | "
                     f"{r['grad_div']['ymm']} / {r['grad_div']['zmm']} | "
                     f"{r['primal_div']['scalar']} / {r['grad_div']['scalar']} | {bound:.1f} |")
    lines += ["", "The same exact gradient written by hand in C with 4-lane vectors "
              "(benchmarks/bessel_schedule.c, cc -O3 -march=native -ffp-contract=off; "
              f"{series} divisions per element, as rev's), the order of the work the only "
              "difference:", "",
              "| hand-written gradient | ns/element | max diff. to rev's / its largest entry |",
              "|---|---|---|"]
    hand_names = {"plain": "forward sweep, then backward sweep, per 4 elements "
                           "(rev's order without pipelining)",
                  "pipelined": "software-pipelined: the next 4 elements' forward "
                               "interleaved with the current 4's backward"}
    for k, r in hand.items():
        lines.append(f"| {hand_names[k]} | {r['grad_ns']:.1f} | {r['rel_diff']:.1e} |")
    lines += ["", "The two C orders agree bit for bit: " + ("yes" if hand_same else "NO") + ".", ""]
    if jax_ns is not None:
        lines.append(f"JAX `jit(vmap(grad))`, pinned to one core (its child process): "
                     f"{jax_ns:.1f} ns/element; 1.5x that is {1.5 * jax_ns:.1f}, against "
                     f"the divider bound of {rows['divide']['bound_ns']:.1f} of the build that "
                     f"divides ({series} divisions per element: the gradient runs the "
                     "primal's divisions once, in its forward sweep); rev's exact gradient / JAX's: the defaults "
                     f"{rows['exact']['grad_ns'] / jax_ns:.2f}, dividing "
                     f"{rows['divide']['grad_ns'] / jax_ns:.2f}, without pipelining "
                     f"{rows['nopipe']['grad_ns'] / jax_ns:.2f}.")
    save_results(RESULTS, "division_bound", "\n".join(lines) + "\n",
                 dict(divider_ns_per_lane=div, rows=rows, hand_written=hand,
                      hand_written_bitwise_equal=hand_same, jax_grad_1core_ns=jax_ns,
                      machine=machine))


if __name__ == "__main__":
    main()
