import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKG = os.path.join(ROOT, "build", "python_packages", "rev")
if PKG not in sys.path:
    sys.path.insert(0, PKG)


@pytest.fixture
def run_python():
    """Runs a Python script in a fresh interpreter that can import mlir_rev and
    the test modules (for what exits the process, e.g. a failed checked-mode
    assertion, or must start from a clean import state)."""
    here = os.path.dirname(os.path.abspath(__file__))

    def run(script, timeout=300):
        path = os.pathsep.join(p for p in (PKG, here, os.environ.get("PYTHONPATH")) if p)
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=timeout, env=dict(os.environ, PYTHONPATH=path))
    return run
