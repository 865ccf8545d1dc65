"""The PyTorch peer of the benchmark scripts (issue 10): shared set-up and the
gradient cross-check.

Every benchmark measures, beside rev and JAX, the same program written as a
PyTorch user writes it: eager mode (no torch.compile), CPU build, float64,
vectorised where the JAX version is, a Python loop over time steps for the
recurrences, the gradient by `torch.autograd.grad`. PyTorch runs with
`torch.set_num_threads(n)`, n = the cores this process may use
(`os.sched_getaffinity`): the size XLA gives its CPU thread pool, so both
peers have the same threads (rev's code runs on one).

Each PyTorch gradient is compared with rev's; a relative difference above
TOLERANCE is printed loudly and makes the script exit with status 1 (after
it has saved its table, so that the numbers can be looked at).
"""

from __future__ import annotations

import os
import sys

TOLERANCE = 1e-8


def threads() -> int:
    """The intra-op threads PyTorch gets: the cores this process may use."""
    return len(os.sched_getaffinity(0))


def import_torch():
    """torch, with its intra-op threads set to threads()."""
    import torch
    torch.set_num_threads(threads())
    return torch


def version() -> str:
    """PyTorch's installed version, without importing it (for a table's header)."""
    try:
        from importlib.metadata import version as v
        return v("torch")
    except Exception:  # noqa: BLE001 - only for a header line
        return "?"


def sci(n: int) -> str:
    """1e5 for 100000 (a power of ten), else the number."""
    e = len(str(n)) - 1
    return f"1e{e}" if n == 10 ** e else str(n)


def describe() -> str:
    return (f"PyTorch {version()} (CPU build, eager, float64, torch.set_num_threads"
            f"({threads()}) as XLA's CPU thread pool)")


class Checks:
    """Collects the PyTorch-vs-rev gradient comparisons of one script."""

    def __init__(self, script: str):
        self.script = script
        self.failures: list[str] = []

    def check(self, label: str, rel_diff: float) -> float:
        if not rel_diff <= TOLERANCE:  # NaN fails too
            msg = (f"{self.script}: PyTorch gradient MISMATCH for {label}: relative "
                   f"difference to rev {rel_diff:.3e} > {TOLERANCE:.0e}")
            print("!" * 78 + "\n" + msg + "\n" + "!" * 78, file=sys.stderr, flush=True)
            self.failures.append(msg)
        return rel_diff

    def finish(self) -> None:
        """Exit with status 1 if any comparison failed (call last)."""
        if self.failures:
            print(f"{self.script}: {len(self.failures)} PyTorch gradient mismatch(es):",
                  file=sys.stderr)
            for m in self.failures:
                print("  " + m, file=sys.stderr)
            sys.exit(1)
