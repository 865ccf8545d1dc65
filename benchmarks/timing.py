"""The benchmarks' time measurement, shared by every script: the median (or
the minimum) of `repeats` timed calls, optionally after one untimed warm-up
call (where the first call would compile or fault in memory); and the machine
line of a results table (where and when it was measured)."""

from __future__ import annotations

import os
import platform
import statistics
import time


def call_times(fn, repeats: int, warmup: bool = False) -> list:
    """Seconds of `repeats` calls of `fn` (perf_counter), after one untimed
    call when `warmup`."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def median_time(fn, repeats: int, warmup: bool = False) -> float:
    return statistics.median(call_times(fn, repeats, warmup))


def min_time(fn, repeats: int, warmup: bool = False) -> float:
    return min(call_times(fn, repeats, warmup))


def machine_line(jax_version, *extra, load: bool = True, stamp_suffix: str = "") -> str:
    """A results table's machine line: node (cores, architecture), Python,
    JAX, then `extra` (e.g. the PyTorch peer's description), the time (with
    `stamp_suffix`) and, with `load`, the load average now (at the end)."""
    parts = [f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()})",
             f"Python {platform.python_version()}", f"JAX {jax_version}", *extra,
             time.strftime('%Y-%m-%d %H:%M') + stamp_suffix]
    if load:
        parts.append(f"load average {os.getloadavg()[0]:.2f} at the end")
    return ", ".join(parts)
