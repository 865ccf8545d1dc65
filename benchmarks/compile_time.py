"""Compile time of the benchmark programs: `Program(...)` from source text to
JIT-compiled code, as the benchmarks build them, and the size of the IR that
the lowering gets (after --rev-ad, --rev-seeds where used, and the inverses
of every function that `Program` generates up front so that `uncall` works).

Each program is compiled `--repeats` times in this process (the median is
reported) with its gradient (`grad=`; BA with seeds=2, as benchmarks/ba.py
builds it), opt_level=3 and the default pipeline.
IR size: the characters of the module printed right before the lowering
pipeline (`Program` keeps the lowered module; the size is measured on a
second run of the same steps with rev-opt: build/bin/rev-opt).
Printed and saved to benchmarks/results/compile_time.{md,json}.

Run: python benchmarks/compile_time.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from timing import machine_line, save_results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")

# name -> (source file, Program keywords as the benchmarks use them)
PROGRAMS = {
    "ba": ("benchmarks/ba.mlir", dict(grad=["ba_reproj", "ba_werr"], seeds=2)),
    "gmm": ("benchmarks/gmm.mlir", dict(grad=["gmm"])),
    "besselj2_batched": ("benchmarks/besselj2_batched.mlir",
                         dict(grad=["besselj2_batched"])),
    "pendulum_ring": ("benchmarks/pendulum_ring.mlir", dict(grad=["ring"])),
    "leapfrog": ("examples/leapfrog.mlir", dict(grad=["leapfrog"])),
    "coupled": ("examples/coupled.mlir", dict(grad=["coupled"])),
}


def ir_before_lowering(path, kw):
    """Characters of the module after the steps Program runs before its
    lowering pipeline (rev-ad per name, rev-ad for grad_calls, rev-seeds,
    rev-invert{skip-uninvertible=1}), run with rev-opt."""
    rev_opt = os.path.join(ROOT, "build", "bin", "rev-opt")
    with open(os.path.join(ROOT, path)) as f:
        text = f.read()

    def run(pipeline):
        return subprocess.run([rev_opt, f"--pass-pipeline=builtin.module({pipeline})"],
                              input=text, capture_output=True, text=True, check=True).stdout
    for name in kw["grad"]:
        text = run(f"rev-ad{{funcs={name}}}")
    if "rev.grad_call" in text:
        text = run("rev-ad{only-grad-calls=1}")
    if kw.get("seeds", 1) > 1:
        names = ",".join(f"{n}_{s}" for n in kw["grad"] for s in ("grad", "bwd"))
        text = run(f"rev-seeds{{count={kw['seeds']} funcs={names}}}")
    text = run("rev-invert{skip-uninvertible=1}")
    return len(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    from mlir_rev.jit import Program
    rows = {}
    for name, (path, kw) in PROGRAMS.items():
        with open(os.path.join(ROOT, path)) as f:
            src = f.read()
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            Program(src, opt_level=3, **kw)
            times.append(time.perf_counter() - t0)
        rows[name] = dict(source=path, options=kw, program_s=statistics.median(times),
                          source_chars=len(src), ir_chars=ir_before_lowering(path, kw))
        print(f"{name}: {rows[name]['program_s']:.2f} s", flush=True)
    machine = machine_line("not used", load=True)
    lines = [f"# Compile time of the benchmark programs ({machine})", "",
             f"`Program(source, opt_level=3, grad=..., ...)`, median of "
             f"{args.repeats} in one process; IR: the module that the lowering gets "
             "(after rev-ad, rev-seeds where used, and the inverses of every function).", "",
             "| program | Program options | Program() (s) | source (KiB) | IR before lowering (KiB) |",
             "|---|---|---|---|---|"]
    for name, r in rows.items():
        opts = ", ".join(f"{k}={v!r}" for k, v in r["options"].items())
        lines.append(f"| {name} (`{r['source']}`) | {opts} | {r['program_s']:.2f} | "
                     f"{r['source_chars'] / 1024:.1f} | {r['ir_chars'] / 1024:.0f} |")
    save_results(RESULTS, "compile_time", "\n".join(lines) + "\n",
                 dict(rows=rows, machine=machine, repeats=args.repeats))


if __name__ == "__main__":
    main()
