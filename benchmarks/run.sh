#!/usr/bin/env bash
# Sets up the project (scripts/setup.sh), installs the pinned benchmark peers
# (benchmarks/requirements.txt: JAX) into the project venv, runs the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
pip install -q -r benchmarks/requirements.txt
python benchmarks/coupled_recurrence.py "$@"
python benchmarks/besselj2_batched.py --repeats 21 --trips 16 48
python benchmarks/pendulum_ring.py --repeats 21
python benchmarks/gmm.py --repeats 11
python benchmarks/leapfrog.py
