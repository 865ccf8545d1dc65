"""A failed run-time check raises RevError in the calling interpreter.

The compiled code reports through librev_runtime.so (check-lowering=runtime)
back to the guarded call in mlir_rev.jit: RevError carries the rule, the op
and its source location, the interpreter keeps running, and in checked mode
every memref argument holds its value from before the call. The programs are
test/run/checked_failures.mlir's, where mlir-runner exits with the same
message (lit).
"""
import os
import re
import threading

import numpy as np
import pytest

from mlir_rev.jit import Program, RevError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "test", "run", "checked_failures.mlir")) as f:
    FAILURES = f.read()
with open(os.path.join(ROOT, "examples", "coupled.mlir")) as f:
    COUPLED = f.read()


def loc_of(src, text):
    """loc("-":L:C) of the first occurrence of `text` in src (parsed from a string)."""
    for n, line in enumerate(src.splitlines(), 1):
        if text in line:
            return f'loc("-":{n}:{line.index(text) + 1})'
    raise AssertionError(text)


# function, arguments, rule, op, where the op starts (its text in the source)
CASES = [
    ("forgets", lambda: [3.0], "ancilla not restored to its initial value", "rev.free",
     "rev.free %t1"),
    ("wrong_post", lambda: [0.5], "post-condition disagrees with pre-condition", "rev.if",
     "rev.if %x"),
    ("divide", lambda: [3.0, 0.0], "zero divisor", "rev.div", "rev.div %x"),
    ("accumulate", lambda: [np.array([1.0, 2.0]), 1, 1],
     "element aliasing: the delta reads the element being updated", "rev.add_at",
     "rev.add_at %A[%i]"),
    ("count", lambda: [1], "post-condition holds on entry", "rev.while", "rev.while %k"),
]


@pytest.fixture(scope="module")
def checked():
    return Program(FAILURES, checks=True)


@pytest.mark.parametrize("name,args,rule,op,at", CASES, ids=[c[0] for c in CASES])
def test_failed_check_raises_with_rule_op_and_location(checked, name, args, rule, op, at):
    loc = loc_of(FAILURES, at)
    with pytest.raises(RevError) as e:
        checked.call(name, *args())
    err = e.value
    assert (err.rule, err.op, err.location, err.function) == (rule, op, loc, name)
    assert err.message == f"rev: {rule} ({op} at {loc})"
    assert str(err).startswith(err.message + "\n  in a call of @" + name)
    # The same failure again: the guard was disarmed and re-armed.
    with pytest.raises(RevError, match=re.escape(err.message)):
        checked.call(name, *args())


def test_the_interpreter_keeps_running(checked):
    for name, args, *_ in CASES:
        with pytest.raises(RevError):
            checked.call(name, *args())
    # Later calls of the same functions, on inputs that pass every check.
    assert checked.call("forgets", 0.0) == 0.0
    assert checked.call("wrong_post", 2.0) == 2.0
    assert checked.call("divide", 3.0, 2.0) == (1.5, 2.0)
    A = np.array([1.0, 2.0])
    assert checked.call("accumulate", A, 0, 1) == (0, 1)
    assert A.tolist() == [3.0, 2.0]
    assert checked.call("count", 0) == 3
    assert checked.uncall("divide", 1.5, 2.0) == (3.0, 2.0)


def test_uncall_checks_raise_too(checked):
    with pytest.raises(RevError) as e:
        checked.uncall("divide", 3.0, 0.0)
    assert e.value.function == "divide_inv"
    assert e.value.op == "rev.mul" and e.value.rule
    assert e.value.location == loc_of(FAILURES, "rev.div %x")


# Writes both arrays, then fails (an ancilla that keeps x) unless x == 0.
SPOIL = """
rev.func @spoil(%A: memref<3xf64>, %B: memref<?xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  rev.for %i = %c0 to %c3 step %c1 {
    rev.add_at %A[%i], %x : memref<3xf64>
    rev.sub_at %B[%i], %x : memref<?xf64>
    rev.yield
  }
  %t = rev.alloc : f64
  %t1 = rev.add %t, %x : f64
  rev.free %t1 : f64
  rev.return %x : f64
}
"""


def test_arrays_hold_their_values_from_before_the_call():
    prog = Program(SPOIL, checks=True)
    A, B = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0, 7.0])
    with pytest.raises(RevError, match="ancilla not restored") as e:
        prog.call("spoil", A, B, 0.25)
    assert "memref arguments restored" in str(e.value)
    assert A.tolist() == [1.0, 2.0, 3.0] and B.tolist() == [4.0, 5.0, 6.0, 7.0]
    with pytest.raises(RevError, match="ancilla not restored"):  # and backwards
        prog.uncall("spoil", A, B, 0.25)
    assert A.tolist() == [1.0, 2.0, 3.0] and B.tolist() == [4.0, 5.0, 6.0, 7.0]
    assert prog.call("spoil", A, B, 0.0) == 0.0
    # Unchecked, the same call runs and leaves what it wrote.
    Program(SPOIL).call("spoil", A, B, 0.25)
    assert A.tolist() == [1.25, 2.25, 3.25] and B.tolist() == [3.75, 4.75, 5.75, 7.0]


def test_a_failed_check_in_another_thread(checked):
    """The guard is per thread."""
    errors = []

    def run():
        try:
            checked.call("divide", 1.0, 0.0)
        except RevError as e:
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.rule for e in errors] == ["zero divisor"] * 4
    assert checked.call("divide", 1.0, 4.0) == (0.25, 4.0)


def test_unchecked_calls_are_not_guarded():
    """Without checks only functions that reach a check (the derivative
    functions' shadow-size check) go through the guard; the rest are plain
    calls, and the same programs run (computing garbage)."""
    plain = Program(FAILURES)
    assert plain._guarded == set()
    assert plain.call("divide", 3.0, 0.0) == (float("inf"), 0.0)
    assert plain.call("forgets", 3.0) == 3.0
    g = Program(COUPLED, grad=["coupled"])
    assert {n for n in g._guarded if not n.startswith("_mlir_ciface_")} == {
        "coupled_grad", "coupled_bwd"}
    assert "coupled" not in g._guarded


def test_other_errors_have_no_check_attributes():
    with pytest.raises(RevError) as e:
        Program("rev.func @f(")
    assert (e.value.rule, e.value.op, e.value.location, e.value.function) == (None,) * 4
