"""The benchmarks' time measurement, shared by every script: the median (or
the minimum) of `repeats` timed calls, optionally after one untimed warm-up
call (where the first call would compile or fault in memory), or the medians
of several functions called in interleaved rounds (for ratios); and the
machine line of a results table (where and when it was measured)."""

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


def interleaved_medians(fns, repeats: int, warmup: bool = False) -> list:
    """The median seconds of each of `fns`, measured in `repeats` rounds that
    call every function once in turn (after one untimed round when
    `warmup`): a ratio of two of them then compares calls made in the same
    state of the machine, which on a shared VM drifts from one second to
    the next."""
    times = [[] for _ in fns]
    for rnd in range(repeats + int(warmup)):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            if rnd or not warmup:
                ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) for ts in times]


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


def save_results(results_dir: str, name: str, markdown: str, data: dict) -> None:
    """Prints the table and saves it as `name`.md, with `data` as `name`.json,
    in `results_dir`."""
    import json
    print(markdown)
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, name + ".md"), "w") as f:
        f.write(markdown)
    with open(os.path.join(results_dir, name + ".json"), "w") as f:
        json.dump(data, f, indent=1)
