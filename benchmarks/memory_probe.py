"""The benchmarks' "extra memory" measurement, shared by every script (issue 10).

A gradient's extra memory is measured on its first call in a fresh child
process, after its code is compiled and its inputs are resident: the rise of
the process's resident-set high-water mark (VmHWM, reset through
/proc/self/clear_refs just before the call) over its resident set (VmRSS)
just before the call. malloc_trim(0) first hands the heap's free pages back
to the system: compilers leave tens of MiB of freed heap behind, which
malloc would otherwise reuse for the call's buffers without the resident
set rising (the measured memory would then be too small). What the call
allocates and touches counts: tapes, saved intermediates, autograd graphs,
XLA's temporaries and the gradient's output arrays where the method
allocates them in the call; arrays the caller passes in (rev's shadow
arguments) are touched before and do not count. Linux only (/proc); the
granularity is a page (4 KiB).
"""

from __future__ import annotations

import ctypes


def rss_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> None:
    """Reset VmHWM to the current resident set (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def first_call_memory(fn):
    """(extra KiB, peak KiB, result) of a call of `fn` (call it on the first
    gradient call, compiled code and inputs already resident): the rise of
    the resident-set high-water mark over the resident set just before it."""
    ctypes.CDLL(None).malloc_trim(0)
    before = rss_kib("VmRSS")
    reset_peak()
    res = fn()
    peak = rss_kib("VmHWM")
    return max(0, peak - before), peak, res


def mib(kib) -> str:
    """KiB as MiB for a table cell ("n/a" for None)."""
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def per(kib, count) -> str:
    """KiB as bytes per element/step for a table cell, e.g. "41" ("n/a" for None)."""
    if kib is None:
        return "n/a"
    b = kib * 1024 / count
    return f"{b:.0f}" if b >= 10 else f"{b:.1f}"
