"""Compile time of the benchmark programs: `Program(...)` from source text to
JIT-compiled code, as the benchmarks build them, and the size of the IR that
the lowering gets (after --rev-ad, --rev-seeds where used, and the inverses
of every function that `Program` generates up front so that `uncall` works).

Each program is compiled `--repeats` times in this process (the median is
reported) with its gradient (`grad=`; BA with seeds=2, as benchmarks/ba.py
builds it), opt_level=3 and the default pipeline.
IR size: the characters of the module printed right before the lowering
pipeline (caught there in one more, untimed compile).
Printed and saved to benchmarks/results/compile_time.{md,json}.

Run: python benchmarks/compile_time.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def ir_chars_before_lowering(Program, src, kw):
    """Characters of the module that `Program(src, **kw)` hands to its
    lowering pipeline, printed at that step (an extra, untimed compile)."""
    seen = []
    run = Program._run

    def spy(self, pipeline, what):
        if what == "lowering":
            seen.append(len(str(self.module)))
        return run(self, pipeline, what)
    Program._run = spy
    try:
        Program(src, opt_level=3, **kw)
    finally:
        Program._run = run
    return seen[0]


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
                          source_chars=len(src),
                          ir_chars=ir_chars_before_lowering(Program, src, kw))
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
