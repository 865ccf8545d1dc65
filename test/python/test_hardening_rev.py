"""Regression tests for ../shared/repro (issue 9) that need running code."""

import os

import numpy as np
import pytest

from mlir_rev.ad import grad, hvp
from mlir_rev.jit import Program, RevError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPRO = os.path.join(os.path.dirname(ROOT), "shared", "repro")

# ../shared/repro/grad_routine_calls_ancilla_fn.mlir (a copy: the test must
# not depend on shared/ being there).
ROUTINE_CALLS_ANCILLA_FN = """
rev.func @h(%a: f64, %b: f64) -> (f64, f64) {
  %t0 = rev.alloc : f64
  %s = math.sin %a : f64
  %t1 = rev.add %t0, %s : f64
  %d = arith.mulf %t1, %t1 : f64
  %b1 = rev.add %b, %d : f64
  %s2 = math.sin %a : f64
  %t2 = rev.sub %t1, %s2 : f64
  rev.free %t2 : f64
  rev.return %a, %b1 : f64, f64
}
rev.func @f(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %u0 = rev.alloc : f64
    %c:2 = rev.call @h(%a, %u0) : (f64, f64) -> (f64, f64)
    rev.yield %c#0, %b, %c#1 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %u: f64):
    %b1 = rev.add %b, %u : f64
    rev.yield %a, %b1, %u : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
"""


@pytest.mark.parametrize("checks", [False, True])
def test_gradient_of_routine_calling_a_function_with_a_loose_ancilla(checks):
    """f: y += sin(x)^2. Its first-order gradient compiles (the backward
    routine falls back to three sweeps) and is right: closed form and
    central differences."""
    g = grad(ROUTINE_CALLS_ANCILLA_FN, "f", output=1, checks=checks)
    for x in (0.7, -1.3, 2.9):
        dx, dy = g(x, 0.25)
        assert dx == pytest.approx(np.sin(2 * x), rel=1e-13)
        assert dy == 1.0
        p = Program(ROUTINE_CALLS_ANCILLA_FN)
        h = 1e-6
        fd = (p.call("f", x + h, 0.25)[1] - p.call("f", x - h, 0.25)[1]) / (2 * h)
        assert dx == pytest.approx(fd, rel=1e-8)


def test_second_order_there_is_forward_over_reverse():
    """Reverse over reverse is refused there (the backward function cannot be
    inverted), forward over reverse works: d2/dx2 sin(x)^2 = 2 cos(2x)."""
    hv = hvp(ROUTINE_CALLS_ANCILLA_FN, "f", output=1)
    x = 0.4
    dx2, _ = hv(x, 0.0, v=[1.0, 0.0])
    assert dx2 == pytest.approx(2 * np.cos(2 * x), rel=1e-12)


def test_existing_f_inv_symbol_does_not_block_the_inverse():
    """../shared/repro/11: a user @f_inv of another type; f's inverse is
    @f_inv_0, found by its marker."""
    p = Program("""
      rev.func @f(%x: f64) -> f64 {
        %c = arith.constant 2.0 : f64
        %y = rev.mul %x, %c : f64
        rev.return %y : f64
      }
      rev.func @f_inv(%x: i64) -> i64 {
        rev.return %x : i64
      }""", grad=["f"])
    assert p.inverse_names["f"] == "f_inv_0"
    assert p.uncall("f", p.call("f", 1.5)) == 1.5
    assert p.call("f_inv", 7) == 7


@pytest.mark.parametrize("repro", sorted(n for n in os.listdir(REPRO) if n[:2] in
                                         ("01", "02", "03", "04", "05", "06", "07", "08"))
                         if os.path.isdir(REPRO) else [])
def test_user_markers_are_verified(repro):
    """The marker reproducers are rejected with a located error, not run."""
    with open(os.path.join(REPRO, repro)) as f:
        src = f.read()
    with pytest.raises(RevError, match=r"rev\.(inverse_of|backward_of|tangent_of|gradient_of)|"
                                       r"adjoint|generated backward or tangent functions"):
        Program(src, grad=["f"] if "rev.func @f(" in src else [])


# The parser-abort pattern (../shared/repro/09-*): a forward reference that a
# region argument resolves, then the op fails. Copies, so that the tests do not
# need ../shared: upstream's smt.check and rev.if.
PARSER_ABORT_INPUTS = {
    "smt.check": """func.func @g() {
  %u = arith.addf %n, %n : f32
  smt.check sat {
  ^bb0(%n: f32):
    smt.yield
  } junk
  return
}""",
    "tensor.generate": """func.func @g(%n: index, %x: f64) {
  %u = arith.addi %i, %i : index
  %t = tensor.generate %n {
  ^bb0(%i: index):
    tensor.yield %x : f64
  } junk
  return
}""",
}

_ABORT_SCRIPT = """
import sys
from mlir_rev.jit import Program, RevError
from mlir_rev.ad import grad
from mlir_rev import cuda
src = sys.stdin.read()
for name, make in (("Program", lambda: Program(src)), ("grad", lambda: grad(src, "g")),
                   ("cuda.Module", lambda: cuda.Module(src))):
    try:
        make()
        print(name, "ACCEPTED")
    except RevError as e:
        kind = ("parser" if "parser cannot recover from the error above" in str(e) else
                "verifier" if "verifier crashes on this input" in str(e) else "other")
        print(name, "RevError", kind, repr(str(e).splitlines()[1][:80]))
print("alive")
"""

# An upstream verifier that aborts (scf.reduce.return on a reduction region
# written without its block arguments; scripts/fuzz.py --seed 22).
VERIFIER_ABORT_INPUT = """func.func @g(%x: memref<?xf64>, %init: f64, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%init) -> f64 {
    %a = memref.load %x[%i] : memref<?xf64>
    scf.reduce(%a : f64) {
      %t = arith.addf %a, %a : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}"""


def _run_abort_script(src):
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-c", _ABORT_SCRIPT], input=src,
                       capture_output=True, text=True, timeout=120)
    lines = p.stdout.splitlines()
    assert p.returncode == 0 and lines[-1] == "alive", (p.returncode, p.stdout, p.stderr[-2000:])
    return lines[:-1]


@pytest.mark.parametrize("which", sorted(PARSER_ABORT_INPUTS))
def test_parser_abort_is_a_rev_error(which):
    """Program, grad and cuda.Module probe-parse the text in a child process
    first: the parser abort becomes a RevError with the parser's located
    error, and the interpreter keeps running (run in a subprocess so that a
    regression cannot take the test session down)."""
    for line in _run_abort_script(PARSER_ABORT_INPUTS[which]):
        assert " RevError parser " in line, line
        assert "<source>:" in line and "error:" in line, line


def test_verifier_abort_is_a_rev_error():
    """The probe verifies the parsed text in its child too: an upstream
    verifier that aborts becomes a RevError with the first op that does not
    verify, located (checked one op at a time, enclosing ops first, in a
    second child), and the interpreter keeps running."""
    for line in _run_abort_script(VERIFIER_ABORT_INPUT):
        assert " RevError verifier " in line, line
        assert "<source>:6:5: error: 'scf.reduce' op expected two block arguments" in line, line


def test_parse_probe_accepts_valid_and_reports_plain_errors():
    """Valid text parses as before; an ordinary parse error is the parser's
    own RevError (no abort involved)."""
    p = Program("func.func @f(%x: f64) -> f64 { return %x : f64 }")
    assert p.call("f", 2.5) == 2.5
    with pytest.raises(RevError, match=r"invalid rev program:\n.*use of undeclared SSA value") as e:
        Program("func.func @f(%x: f64) -> f64 { return %y : f64 }")
    assert "cannot recover" not in str(e.value)


def _fuzz_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("rev_fuzz", os.path.join(ROOT, "scripts", "fuzz.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not os.path.isdir(REPRO), reason="../shared/repro is not beside the checkout")
def test_no_reproducer_crashes_rev_opt():
    """Every reproducer in ../shared/repro through rev-opt alone and through
    every pipeline of the fuzzer: no crash (signal, assertion, stack dump), no
    timeout, and every failure says `error:`."""
    fuzz = _fuzz_module()
    rev_opt = os.path.join(ROOT, "build", "bin", "rev-opt")
    if not os.access(rev_opt, os.X_OK):
        pytest.skip("no build/bin/rev-opt")
    bad = []
    runs = 0
    for name in sorted(os.listdir(REPRO)):
        path = os.path.join(REPRO, name)
        for args in [[]] + fuzz.PIPELINES:
            rc, _, err = fuzz.run_rev_opt(rev_opt, path, args, 60)
            runs += 1
            if rc == "timeout" or fuzz.is_crash(rc, err) or (rc != 0 and "error:" not in err):
                bad.append(f"{name} {' '.join(args) or '(parse)'}: rc={rc} {err[-300:]!r}")
    assert runs >= 8 * len(fuzz.PIPELINES)
    assert not bad, "\n".join(bad)
