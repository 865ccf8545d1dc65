#!/usr/bin/env bash
# Sets up the project (scripts/setup.sh), installs the pinned benchmark peers
# (benchmarks/requirements.txt: JAX, and matplotlib for steps_checkpointing's
# plot; PyTorch's CPU build is pinned in the project's requirements.txt) into
# the project venv, runs the benchmarks.
# Each script saves its table in benchmarks/results/ and exits non-zero when
# a PyTorch gradient differs from rev's by more than 1e-8 (relative), or
# (steps_checkpointing.py, loop_budget.py, loop_budget_nested.py) a gradient from JAX's by more than 1e-10 or an
# advance count from revolve's minimum, or (ba.py) rev's Jacobian from JAX's by more
# than 1e-8; all
# scripts still run, and this script then exits 1 naming the failed ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
pip install -q -r benchmarks/requirements.txt
failed=()
run() { python "$@" || failed+=("$*"); }
run benchmarks/coupled_recurrence.py "$@"
run benchmarks/besselj2_batched.py --repeats 21 --trips 16 48
run benchmarks/division_bound.py --repeats 11
run benchmarks/compile_time.py
run benchmarks/pendulum_ring.py --repeats 21
run benchmarks/gmm.py --repeats 11
run benchmarks/ba.py --repeats 11
run benchmarks/leapfrog.py
run benchmarks/parallel_gradients.py --repeats 7
run benchmarks/steps_checkpointing.py
run benchmarks/loop_budget.py
run benchmarks/loop_budget_nested.py
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: python %s\n' "${failed[@]}" >&2
  exit 1
fi
