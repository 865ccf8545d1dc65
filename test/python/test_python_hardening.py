"""The Python boundary refuses bad input with RevError (never a silent wrong
value, never a process abort) and does not grow per call (issue 9)."""
import ctypes
import math
import os

import numpy as np
import pytest

from mlir_rev import jit
from mlir_rev.ad import Derivatives, grad, hvp
from mlir_rev.jit import Program, RevError

SRC = """
rev.func @ints(%a: i8, %b: i16, %c: i32, %d: i64, %e: index)
    -> (i8, i16, i32, i64, index) {
  rev.return %a, %b, %c, %d, %e : i8, i16, i32, i64, index
}
rev.func @floats(%x: f64, %y: f32) -> (f64, f32) {
  rev.return %x, %y : f64, f32
}
rev.func @two(%x: f64, %y: f64) -> (f64, f64) {
  %y1 = rev.add %y, %x : f64
  rev.return %x, %y1 : f64, f64
}
rev.func @acc(%A: memref<?xf64>, %B: memref<?xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %a = memref.load %A[%c0] : memref<?xf64>
  %s = arith.mulf %a, %x : f64
  rev.add_at %B[%c0], %s : memref<?xf64>
  rev.return %x : f64
}
"""

# For the derivatives: A[0] += x*x (a dynamic memref, so that a wrongly sized
# direction would only be caught by the generated code's shadow-size check).
SQ = """
rev.func @sq(%x: f64, %A: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %s = arith.mulf %x, %x : f64
  rev.add_at %A[%c0], %s : memref<?xf64>
  rev.return %x : f64
}
"""


@pytest.fixture(scope="module")
def prog():
    return Program(SRC)


@pytest.fixture(scope="module")
def checked_prog():
    return Program(SRC, checks=True)


@pytest.fixture(scope="module")
def sq2():
    return Derivatives(SQ, "sq", second_order=True)


# -- 1. integers out of range --------------------------------------------------
INT_TYPES = [("i8", 0, 8), ("i16", 1, 16), ("i32", 2, 32), ("i64", 3, 64), ("index", 4, 64)]


@pytest.mark.parametrize("ty,pos,bits", INT_TYPES)
def test_integer_arguments_out_of_range_raise(prog, ty, pos, bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    ok = [0, 0, 0, 0, 0]
    for bad in (hi + 1, lo - 1, 2**64 + 5, -(2**70)):
        args = list(ok)
        args[pos] = bad
        with pytest.raises(RevError, match=rf"argument #{pos} of @ints is out of range "
                                           rf"for {ty} .*got {bad}"):
            prog.call("ints", *args)
        with pytest.raises(RevError, match="out of range"):
            prog.uncall("ints", *args)
    # The bounds themselves go through unchanged.
    for good in (lo, hi):
        args = list(ok)
        args[pos] = good
        assert prog.call("ints", *args)[pos] == good


@pytest.mark.parametrize("ty,pos,bits", INT_TYPES)
def test_numpy_integer_scalars_are_range_checked(prog, ty, pos, bits):
    hi = (1 << (bits - 1)) - 1
    args = [0, 0, 0, 0, 0]
    args[pos] = np.uint64(2**64 - 1)
    with pytest.raises(RevError, match=f"argument #{pos} of @ints is out of range"):
        prog.call("ints", *args)
    if bits < 64:
        args[pos] = np.int64(hi + 1)
        with pytest.raises(RevError, match=f"out of range for {ty}"):
            prog.call("ints", *args)
    args[pos] = np.int8(-7)
    assert prog.call("ints", *args)[pos] == -7


def test_bools_stay_rejected_for_integers(prog):
    for b in (True, np.bool_(False)):
        with pytest.raises(RevError, match=r"argument #3 of @ints must be an integer \(i64\)"):
            prog.call("ints", 0, 0, 0, b, 0)


def test_floats_out_of_range_raise(prog):
    with pytest.raises(RevError, match="argument #0 of @floats .*too large"):
        prog.call("floats", 10**400, 1.0)
    with pytest.raises(RevError, match="argument #1 of @floats .*out of range for f32"):
        prog.call("floats", 1.0, 1e300)
    # inf and NaN are values, not overflows
    x, y = prog.call("floats", math.inf, math.inf)
    assert x == math.inf and y == math.inf


# -- 2. invalid options and names ------------------------------------------------
@pytest.mark.parametrize("level", [-1, 4, 5, 2.5, "2", None, True])
def test_opt_level_out_of_range_raises(level):
    with pytest.raises(RevError, match="opt_level must be an integer in 0..3"):
        Program(SRC, opt_level=level)


def test_opt_level_bounds_and_numpy_ints_accepted():
    assert Program(SQ, opt_level=0).call("sq", 2.0, np.zeros(1)) == 2.0
    assert Program(SQ, opt_level=np.int64(3)).call("sq", 2.0, np.zeros(1)) == 2.0


@pytest.mark.parametrize("atol", [math.nan, math.inf, -math.inf, -1e-8, "1e-8", None,
                                  True, 10**400, [1e-8]])
def test_bad_atol_raises(atol):
    with pytest.raises(RevError, match="atol must be a finite number >= 0"):
        Program(SRC, checks=True, atol=atol)


def test_numpy_float_atol_and_zero_accepted():
    # (the pipeline string used repr(atol): 'np.float64(1e-06)' failed to parse)
    Program(SQ, checks=True, atol=np.float64(1e-6))
    Program(SQ, checks=True, atol=0)


@pytest.mark.parametrize("checks", ["yes", 2, None])
def test_bad_checks_raises(checks):
    with pytest.raises(RevError, match="checks must be True or False"):
        Program(SRC, checks=checks)


BAD_NAMES = ["f}", "f,g", "{f", "f x", 'f"', "f'", "", "1f", "f}),builtin.module(",
             "f=1", "@f"]


@pytest.mark.parametrize("option", ["grad", "fwd", "hvp"])
@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_that_are_not_bare_identifiers_raise(option, name):
    with pytest.raises(RevError, match=rf"{option}: .* is not a valid function name"):
        Program(SQ, **{option: [name]})


@pytest.mark.parametrize("option", ["grad", "fwd", "hvp"])
def test_non_string_names_raise(option):
    with pytest.raises(RevError, match=f"{option}: a function name must be a string, got int"):
        Program(SQ, **{option: [3]})
    with pytest.raises(RevError, match=f"{option} must be a list of function names"):
        Program(SQ, **{option: 3})


@pytest.mark.parametrize("option", ["grad", "fwd", "hvp"])
def test_unknown_function_names_raise_clearly(option):
    with pytest.raises(RevError, match=rf"{option}: no rev.func named @nope "
                                       rf"\(the module has @sq\)"):
        Program(SQ, **{option: ["nope"]})


def test_bare_identifiers_with_dot_and_dollar_work():
    src = SQ.replace("@sq", "@s.q$1")
    p = Program(src, grad="s.q$1")  # one string is one name
    assert p.gradient_names == {"s.q$1": "s.q$1_grad"}


def test_call_with_unknown_or_bad_names_raises(prog):
    with pytest.raises(RevError, match=r"no rev.func named @nope \(the program has @ints, "):
        prog.call("nope")
    with pytest.raises(RevError, match="no rev.func named @f}"):
        prog.uncall("f}")
    with pytest.raises(RevError, match="a function name must be a string, got list"):
        prog.call(["two"], 1.0, 2.0)


def test_derivatives_of_bad_or_unknown_names_raise():
    with pytest.raises(RevError, match="not a valid function name"):
        Derivatives(SQ, "sq}")
    with pytest.raises(RevError, match="no rev.func named @nope"):
        grad(SQ, "nope")


def test_hvp_with_wrongly_shaped_v_raises(sq2):
    A = np.zeros(4)
    with pytest.raises(RevError, match=r"v\[1\] \(the direction of argument #1 of @sq\) "
                                       r"must have the argument's shape \(4,\), got \(3,\)"):
        sq2.hvp(0.5, A, v=[1.0, np.zeros(3)])
    with pytest.raises(RevError, match=r"got \(4, 1\)"):
        sq2.hvp(0.5, A, v=[1.0, np.zeros((4, 1))])
    with pytest.raises(RevError, match="got a ragged sequence"):
        sq2.hvp(0.5, A, v=[1.0, [1.0, [2.0, 3.0], 4.0, 5.0]])
    with pytest.raises(RevError, match=r"v must have 2 entries .* got 1"):
        sq2.hvp(0.5, A, v=[1.0])
    with pytest.raises(RevError, match=r"v must have 2 entries .* got 3"):
        sq2.hvp(0.5, A, v=[1.0, np.zeros(4), 0.0])
    with pytest.raises(RevError, match="v must be a sequence of 2 entries .* got float"):
        sq2.hvp(0.5, A, v=1.0)
    with pytest.raises(RevError, match=r"v\[0\] \(the direction of scalar argument #0 of @sq\) "
                                       r"must be a number, got ndarray"):
        sq2.hvp(0.5, A, v=[np.zeros(4), np.zeros(4)])
    # and the right shape works: d2(A[0])/dx2 = 2
    hx, hA = sq2.hvp(0.5, A, v=[1.0, np.zeros(4)], output=(1, 0))
    assert hx == pytest.approx(2.0)
    assert np.all(A == 0)


@pytest.mark.parametrize("output,msg", [
    (1, r"@sq has 1 scalar results, output=1 is out of range"),
    (-1, r"output=-1 is out of range"),
    ((1, 4), r"output=\(1, 4\): element index out of range for argument #1 of @sq "
             r"of shape \(4,\)"),
    ((1, -1), r"element index out of range"),
    ((1, (0, 0)), r"element index out of range"),
    ((1, 1.5), r"the element index must be integers"),
    ((0, 0), r"argument #0 of @sq is not a float memref"),
    ((7, 0), r"argument #7 of @sq is not a float memref"),
    ("x", r"output must be the index of a scalar result of @sq"),
    ((1, 0, 0), r"output must be the index"),
])
def test_output_out_of_range_raises(sq2, output, msg):
    A = np.zeros(4)
    with pytest.raises(RevError, match=msg):
        sq2.gradient(0.5, A, output=output)
    with pytest.raises(RevError, match=msg):
        sq2.hvp(0.5, A, v=[1.0, np.zeros(4)], output=output)


def test_output_checked_when_the_callable_is_made():
    with pytest.raises(RevError, match="output=3 is out of range"):
        grad(SQ, "sq", output=3)
    with pytest.raises(RevError, match="is not a float memref"):
        hvp(SQ, "sq", output=(0, 0))
    g = grad(SQ, "sq", output=(1, np.int64(0)))  # NumPy integers are indices too
    dx, dA = g(0.5, np.zeros(2))
    assert dx == pytest.approx(1.0) and list(dA) == [1.0, 0.0]


# -- 3. no memory growth per call ------------------------------------------------
def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_ctypes_classes_are_reused(prog):
    t = jit._results_type(("f64", "f64"))
    assert jit._results_type(("f64", "f64")) is t
    assert jit._memref_type(1, ctypes.c_double) is jit._memref_type(1, ctypes.c_double)
    A, B = np.zeros(2), np.zeros(2)
    prog.call("two", 1.0, 2.0)
    prog.call("acc", A, B, 1.0)
    n_res, n_mem = len(jit._RESULT_TYPES), len(jit._MEMREF_TYPES)
    ptr_cache = getattr(ctypes, "_pointer_type_cache", None)
    n_ptr = len(ptr_cache) if ptr_cache is not None else None
    for _ in range(50):
        assert prog.call("two", 1.0, 2.0) == (1.0, 3.0)
        prog.call("acc", A, B, 1.0)
        prog.uncall("two", 1.0, 3.0)
    assert (len(jit._RESULT_TYPES), len(jit._MEMREF_TYPES)) == (n_res, n_mem)
    if ptr_cache is not None:  # ctypes keeps every POINTER(T) for good
        assert len(ptr_cache) == n_ptr


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
@pytest.mark.parametrize("name", ["two", "acc"])
def test_no_memory_growth_per_call(prog, name):
    # Before: ~8.6 KB per call (a new ctypes Structure class, and its cached
    # POINTER type, per call): 20,000 calls grew RSS by ~170 MB.
    A, B = np.zeros(3), np.zeros(3)
    args = (1.0, 2.0) if name == "two" else (A, B, 1.0)
    for _ in range(500):
        prog.call(name, *args)
    before = _rss_bytes()
    for _ in range(20000):
        prog.call(name, *args)
    grown = _rss_bytes() - before
    assert grown < 32 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 20,000 calls"


# -- 4. memref arguments that share a buffer --------------------------------------
@pytest.mark.parametrize("checked", [False, True])
def test_memref_arguments_sharing_memory_raise(prog, checked_prog, checked):
    p = checked_prog if checked else prog
    buf = np.arange(6.0)
    cases = [(buf, buf), (buf[0:4], buf[2:6]), (buf[1:3], buf), (buf[:], buf[2:3])]
    for A, B in cases:
        for op in (p.call, p.uncall):
            with pytest.raises(RevError, match=r"arguments #0 and #1 of @acc share memory"):
                op("acc", A, B, 1.0)
    assert list(buf) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # nothing ran
    # Disjoint views of one buffer are fine.
    A, B = buf[0:3], buf[3:6]
    assert p.call("acc", A, B, 2.0) == 2.0
    assert list(buf) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    p.uncall("acc", A, B, 2.0)
    assert list(buf) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


# -- 5. missing or broken runtime libraries ------------------------------------------
LIB_SCRIPT = """
from mlir_rev.jit import Program, RevError
try:
    Program('''rev.func @f(%x: f64) -> f64 {\\n  rev.return %x : f64\\n}''')
    print("NO ERROR")
except RevError as e:
    print("RevError:", e)
print("still running")
"""


@pytest.mark.parametrize("content,msg", [
    (None, "runtime library not found: .*libmlir_c_runner_utils.so"),
    (b"", "cannot load runtime library .*libmlir_c_runner_utils.so"),
    (b"not an ELF file" * 100, "cannot load runtime library"),
])
def test_missing_or_broken_shared_library_raises(run_python, tmp_path, monkeypatch,
                                                 content, msg):
    import re
    if content is not None:
        for n in ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so"):
            (tmp_path / n).write_bytes(content)
    monkeypatch.setenv("REV_MLIR_LIB_DIR", str(tmp_path))
    r = run_python(LIB_SCRIPT)
    assert r.returncode == 0, r.stderr
    assert "still running" in r.stdout
    assert re.search("RevError: " + msg, r.stdout), r.stdout
