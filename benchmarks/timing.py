"""The benchmarks' time measurement, shared by every script: the median (or
the minimum) of `repeats` timed calls, optionally after one untimed warm-up
call (where the first call would compile or fault in memory)."""

from __future__ import annotations

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
