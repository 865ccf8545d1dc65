"""benchmarks/memory_probe.py, the benchmarks' extra-memory measurement:
it must see memory a call touches, also where the call reuses freed heap
pages (which is why it runs malloc_trim first: without it this test's
`touch` reads about 0), and report about nothing for a call that allocates
nothing. Each probe runs in a
fresh interpreter, as the benchmarks do."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = """
import sys
sys.path.insert(0, {bench!r})
import numpy as np
import memory_probe as mp
# Freed heap left behind, as a compiler leaves it: 64 MiB in many small blocks.
# A live block above them keeps free() from trimming them off the heap's top.
junk = [bytearray(4096) for _ in range(16384)]
sentinel = bytearray(4096)
del junk
def touch():
    # 64 MiB in the same small heap blocks: without malloc_trim they would
    # reuse the freed pages above and the resident set would not rise.
    keep = [bytearray(4096) for _ in range(16384)]
    return len(keep)
def nothing():
    return 1.0
extra, peak, res = mp.first_call_memory({which})
print(extra)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="Linux /proc only")
@pytest.mark.parametrize("which, low, high", [("touch", 60 * 1024, 80 * 1024), ("nothing", 0, 4 * 1024)])
def test_first_call_memory(which, low, high):
    src = SCRIPT.format(bench=os.path.join(ROOT, "benchmarks"), which=which)
    p = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    extra_kib = int(p.stdout.split()[-1])
    assert low <= extra_kib <= high, extra_kib
