#!/usr/bin/env bash
# Set everything up (idempotent), then run the demo: a reversible program run
# forwards and backwards, from rev-opt and from Python.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
. .venv/bin/activate
export PYTHONPATH="$ROOT/build/python_packages/rev${PYTHONPATH:+:$PYTHONPATH}"
python scripts/demo.py
