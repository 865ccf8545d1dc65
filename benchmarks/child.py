"""Each benchmark measurement runs in a fresh child process (its memory high
water mark and its JIT state are its own): the script runs itself with
`--child ARGS...`, and the child prints its result as JSON on its last line
of output. Shared by every benchmark script that does so."""

from __future__ import annotations

import json
import subprocess
import sys


def run_json_child(script: str, *args):
    """`python script --child args...`: the JSON of the child's last output
    line (a failing child raises CalledProcessError)."""
    out = subprocess.run([sys.executable, script, "--child", *map(str, args)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
