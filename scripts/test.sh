#!/usr/bin/env bash
# Set everything up (idempotent), then run the whole test suite: lit (.mlir
# tests, incl. executed programs) and pytest (Python package). The last line
# is the combined count: "tests: N passed, N failed".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh || { echo "setup failed"; echo "tests: 0 passed, 1 failed"; exit 1; }
. .venv/bin/activate
export PYTHONPATH="$ROOT/build/python_packages/rev${PYTHONPATH:+:$PYTHONPATH}"

lit_log=$(mktemp)
lit -sv build/test 2>&1 | tee "$lit_log"
lit_pass=$(sed -n 's/^ *Passed *: *\([0-9]*\).*/\1/p' "$lit_log" | tail -1)
lit_fail=$(sed -n 's/^ *Failed *: *\([0-9]*\).*/\1/p' "$lit_log" | tail -1)
lit_pass=${lit_pass:-0}; lit_fail=${lit_fail:-0}
if [ "$lit_pass" = 0 ] && [ "$lit_fail" = 0 ]; then lit_fail=1; fi  # lit did not run

py_log=$(mktemp)
python -m pytest -q test/python 2>&1 | tee "$py_log"
py_pass=$(grep -Eo '[0-9]+ passed' "$py_log" | tail -1 | grep -Eo '[0-9]+')
py_fail=$(grep -Eo '[0-9]+ (failed|error|errors)' "$py_log" | awk '{s+=$1} END {print s+0}')
py_pass=${py_pass:-0}
if [ "$py_pass" = 0 ] && [ "$py_fail" = 0 ]; then py_fail=1; fi  # pytest did not run

passed=$((lit_pass + py_pass))
failed=$((lit_fail + py_fail))
echo "lit: $lit_pass passed, $lit_fail failed; pytest: $py_pass passed, $py_fail failed"
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
