"""Compiling the benchmarks' hand-written C peers (benchmarks/*.c) with the
system's C compiler ($CC, else cc)."""

from __future__ import annotations

import os
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def compile_c(source, output, flags, shared=False):
    """Compiles benchmarks/<source> into `output` (an executable, or with
    shared=True a shared library) with `flags`; returns `output`. Exits with a
    message where there is no C compiler; a failed compile raises."""
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        raise SystemExit(f"{source} needs a C compiler ($CC or cc)")
    extra = ["-shared", "-fPIC"] if shared else []
    subprocess.run([cc, *flags, *extra, "-o", output,
                    os.path.join(ROOT, "benchmarks", source), "-lm"], check=True)
    return output
