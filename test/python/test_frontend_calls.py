"""The Python front end, second part: keyword and default arguments,
expressions and loop indices passed to calls (automatic ancillas), ancillas
initialised from expressions, scalar <-> element swaps, i32, Python's `//`
and `%`, and the bounds checks that are on by default. Numbers are checked
against NumPy, Python itself, closed forms or finite differences; each error
class against its file:line and message."""
import importlib.util
import itertools
import math

import numpy as np
import pytest

from mlir_rev import frontend as rev
from mlir_rev.frontend import RevError, RevSyntaxError
from mlir_rev.jit import Program


def load(tmp_path, source, name="user_code"):
    """Imports `source` from a file (as a user's module would be)."""
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\nfrom mlir_rev import frontend as rev\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, str(path)


def located(e, path, line, message):
    text = str(e.value)
    assert message in text, text
    assert e.value.line == line, text
    assert text.startswith(f"{path}:{line}:"), text
    assert e.value.source_line.strip() in text


# -- keyword and default arguments ------------------------------------------------------
@rev.reversible
def axpy(y: float, A: rev.Array[rev.f64], i: rev.index, a: float = 2.0, shift: rev.i64 = 0):
    A[i] += a * y + float(shift)


def test_keywords_and_defaults_at_the_call_of_a_decorated_function():
    A = np.zeros(3)
    assert axpy(1.5, A, 1) == (1.5, 1, 2.0, 0)            # defaults a = 2.0, shift = 0
    np.testing.assert_array_equal(A, [0.0, 3.0, 0.0])
    assert axpy(1.5, A=A, i=2, a=-1.0) == (1.5, 2, -1.0, 0)
    np.testing.assert_array_equal(A, [0.0, 3.0, -1.5])
    assert axpy(y=1.0, A=A, i=0, shift=4) == (1.0, 0, 2.0, 4)
    np.testing.assert_array_equal(A, [6.0, 3.0, -1.5])
    assert axpy.inverse(1.0, A, i=0, shift=4) == (1.0, 0, 2.0, 4)
    (~axpy)(1.5, A, 2, a=-1.0)
    axpy.inverse(1.5, A, 1)
    np.testing.assert_array_equal(A, 0.0)
    # the gradient takes keywords too: d A[1] / d (y, a) = (a, y)
    g = axpy.grad(1.5, np.zeros(3), i=1, a=3.0, output=(1, 1))
    assert g[0] == 3.0 and g[1] == 1.5
    J = rev.jacobian(axpy)(0.5, np.zeros(2), 0, a=2.0)
    assert J.shape[0] >= 4 and J.shape[1] >= 3
    with pytest.raises(RevError, match="has no parameter `b`"):
        axpy(1.0, A, 0, b=1.0)
    with pytest.raises(RevError, match="`i` is given twice"):
        axpy(1.0, A, 0, i=1)
    with pytest.raises(RevError, match=r"takes 5 arguments \(y, A, i, a, shift\), got 2 in a "
                                       r"call: missing i"):
        axpy(1.0, A)
    with pytest.raises(RevError, match="takes 5 arguments, got 6"):
        axpy(1.0, A, 0, 1.0, 1, 2)


@rev.reversible
def weighted(y: float, X: rev.Array[rev.f64], w: float = 0.5, k: rev.index = 1):
    for i in range(len(X)):
        y += w * X[i] * float(k)


@rev.reversible
def calls_with_keywords(y: float, z: float, X: rev.Array[rev.f64]):
    weighted(y, X)                      # both defaults
    weighted(X=X, y=z, k=3)             # keywords, w by default
    weighted(z, X, w=y * 2.0)           # an expression for w


def test_keywords_defaults_and_expressions_in_calls_between_decorated_functions():
    X = np.array([0.5, -1.25, 2.0])
    y, z = calls_with_keywords(0.25, -1.0, X)
    s = X.sum()
    z_ref = -1.0 + 0.5 * s * 3
    z_ref += 2.0 * (0.25 + 0.5 * s) * s
    assert y == pytest.approx(0.25 + 0.5 * s, rel=1e-15)
    assert z == pytest.approx(z_ref, rel=1e-15)
    assert calls_with_keywords.inverse(y, z, X) == pytest.approx((0.25, -1.0), rel=1e-15)
    g = calls_with_keywords.grad(0.25, -1.0, X.copy(), output=1)
    h = 1e-6

    def z_of(Xp):
        return calls_with_keywords(0.25, -1.0, Xp)[1]
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        fd = (z_of(X + e) - z_of(X - e)) / (2 * h)
        assert g[2][i] == pytest.approx(fd, rel=1e-7)


@rev.reversible
def bump(A: rev.Array[rev.f64], i: rev.index, by: float):
    A[i] += by


@rev.reversible
def loop_indices_and_elements(A: rev.Array[rev.f64], B: rev.Array[rev.f64], c: float):
    for i in range(len(A)):
        bump(A, i, c * B[i] + float(i))                 # a loop index, an expression
    for i in reversed(range(1, len(A))):
        bump(A, i - 1, B[i])                            # an element of another array
    bump(B, 0, 1.0)                                     # a constant


def test_loop_indices_elements_and_constants_as_arguments_match_numpy():
    rng = np.random.default_rng(7)
    A0, B0 = rng.standard_normal(6), rng.standard_normal(6)
    A, B = A0.copy(), B0.copy()
    assert loop_indices_and_elements(A, B, 0.75) == 0.75
    ref = A0 + 0.75 * B0 + np.arange(6)
    ref[:-1] += B0[1:]
    np.testing.assert_allclose(A, ref, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(B, B0 + np.eye(6)[0])
    loop_indices_and_elements.inverse(A, B, 0.75)
    np.testing.assert_allclose(A, A0, atol=1e-14)
    np.testing.assert_allclose(B, B0, rtol=0, atol=1e-15)   # (b + 1) - 1: one rounding
    # d sum(A) / d c = sum(B)
    g = loop_indices_and_elements.grad(A0.copy(), B0.copy(), 0.75, output=(0, 3))
    assert g[0] == pytest.approx(B0[3], rel=1e-14)   # scalars first, then arrays
    # the automatic ancillas are in the IR: allocated, added, subtracted, freed (two per
    # call: the index and the amount; `A` is passed as itself)
    text = loop_indices_and_elements.module.operation.get_asm()
    assert text.count("rev.alloc") == 6 and text.count("rev.free") == 6


def test_an_automatic_ancilla_is_exactly_zero_again_in_checked_mode():
    A, B = np.zeros(4), np.arange(4.0)
    loop_indices_and_elements(A, B, 0.5, checks=True)
    loop_indices_and_elements.inverse(A, B, 0.5, checks=True)
    np.testing.assert_array_equal(A, 0.0)


@pytest.mark.parametrize("body, line, message", [
    # an expression for a parameter the callee changes (line 2 of the body)
    ("    bump(A, 0, y)\n    g(y * 2.0, A)\n", 2, "`g` may change its parameter `x`, so "
     "`y * 2.0` cannot be passed to it"),
    # a default for a parameter the callee changes
    ("    g2(A)\n", 1, "`g2` may change its parameter `x`, so its default cannot be passed"),
    # the expression reads what the call changes
    ("    bump(A, 0, A[1])\n", 1, "`A[1]` reads `A`, which this call may change"),
    ("    g(y, A, y)\n", 1, "`y` is passed twice"),
    ("    bump(A, 0, by=1.0, i=0)\n", 1, "`i` is given twice"),
    ("    bump(A, 0, b=1.0)\n", 1, "`bump` has no parameter `b`"),
    ("    bump(A, 0)\n", 1, "`bump` is missing argument(s) by"),
    ("    bump(A, 0, **{'by': 1.0})\n", 1, "`**kwargs` in a call"),
    ("    bump(y, 0, 1.0)\n", 1, "argument `y` must be an array"),
])
def test_errors_of_calls(tmp_path, body, line, message):
    src = ("from test_frontend_calls import bump\n"                                 # 3
           "@rev.reversible\ndef g(x: float, A: rev.Array[rev.f64], r: float = 0.0):\n"
           "    x += r * A[0]\n"                                                    # 6
           "@rev.reversible\ndef g2(A: rev.Array[rev.f64], x: float = 1.0):\n"
           "    A[0] += 1.0\n    x += A[1]\n"                                      # 10
           "@rev.reversible\ndef f(y: float, A: rev.Array[rev.f64]):\n" + body)   # 12
    mod, path = load(tmp_path, src)
    with pytest.raises(RevSyntaxError) as e:
        mod.f.module
    located(e, path, 12 + line, message)


# -- ancillas from expressions ----------------------------------------------------------
@rev.reversible
def ancilla_from_expression(x: float, y: float, A: rev.Array[rev.f64], B: rev.Array[rev.f64],
                            n: rev.i64):
    with rev.ancilla(x * 2.0 + B[0]) as t:      # t = 0; t += x * 2 + B[0]
        y += t * t
        A[1] += t
    with rev.ancilla(n * 3) as k:               # an integer ancilla
        A[2] += float(k)
    with rev.compute(s=rev.sin(x)):             # a compute ancilla from an expression
        s *= 2.0
    y += s
    rev.uncompute()


def test_ancillas_from_expressions_forward_backward_and_gradient():
    A, B = np.zeros(3), np.array([0.25])
    x, y = ancilla_from_expression(1.5, 0.0, A, B, 4)[:2]
    t = 1.5 * 2 + 0.25
    assert y == pytest.approx(t * t + 2 * math.sin(1.5), rel=1e-15)
    np.testing.assert_array_equal(A, [0.0, t, 12.0])
    assert ancilla_from_expression.inverse(x, y, A, B, 4) == pytest.approx((1.5, 0.0, 4),
                                                                             abs=1e-14)
    np.testing.assert_allclose(A, 0.0, atol=1e-15)
    # d y / d x = 2 t * 2 + 2 cos x, d y / d B[0] = 2 t
    g = ancilla_from_expression.grad(1.5, 0.0, np.zeros(3), B, 4, output=1)
    assert g[0] == pytest.approx(4 * t + 2 * math.cos(1.5), rel=1e-13)
    assert g[3][0] == pytest.approx(2 * t, rel=1e-13)
    ancilla_from_expression(1.5, 0.0, np.zeros(3), B, 4, checks=True)
    text = ancilla_from_expression.mlir
    assert "rev.alloc" in text and "rev.free" in text


def test_error_ancilla_expression_changed_inside_its_block(tmp_path):
    mod, path = load(tmp_path, "@rev.reversible\ndef f(x: float, y: float, "
                               "A: rev.Array[rev.f64]):\n"
                               "    with rev.ancilla(x + A[0]) as t:\n"
                               "        y += t\n"
                               "        A[0] += 1.0\n")
    with pytest.raises(RevSyntaxError) as e:
        mod.f.module
    located(e, path, 5, "the ancilla's initial value reads `A`, which the block may change")
    mod, path = load(tmp_path, "@rev.reversible\ndef g(x: float):\n    x += 1.0\n"
                               "@rev.reversible\ndef f(x: float, y: float):\n"
                               "    with rev.ancilla(x) as t:\n"
                               "        g(x)\n", name="user2")
    with pytest.raises(RevSyntaxError) as e:
        mod.f.module
    located(e, path, 8, "reads `x`, which the block may change")


# -- swaps of a variable and an element, i32, // and % -----------------------------------
@rev.reversible
def swaps(a: float, k: rev.i64, A: rev.Array[rev.f64], K: rev.Array[rev.i64], i: rev.index):
    a, A[i] = A[i], a
    K[0], k = k, K[0]


def test_swap_of_a_variable_and_an_element():
    A, K = np.array([1.0, -2.5]), np.array([7, -8])
    assert swaps(5.0, -3, A, K, 1) == (-2.5, 7, 1)
    np.testing.assert_array_equal(A, [1.0, 5.0])
    np.testing.assert_array_equal(K, [-3, -8])
    assert swaps.inverse(-2.5, 7, A, K, 1) == (5.0, -3, 1)
    np.testing.assert_array_equal(A, [1.0, -2.5])
    np.testing.assert_array_equal(K, [7, -8])
    # the Jacobian of a swap is a permutation: d a_out / d A[1]_in = 1, d a_out / d a_in = 0
    g = swaps.grad(5.0, -3, np.array([1.0, -2.5]), np.array([7, -8]), 1, output=0)
    assert g[0] == 0.0 and list(g[1]) == [0.0, 1.0]
    swaps(5.0, -3, A, K, 0, checks=True)     # the float swap's ancilla is freed exactly
    np.testing.assert_array_equal(A, [5.0, -2.5])


@rev.reversible
def int32(x: rev.i32, X: rev.Array[rev.i32], Y: rev.Array[rev.f32]):
    for i in range(len(X)):
        X[i] += x * 2 - i
        Y[i] += float(X[i]) * 0.5
    x ^= 5


def test_i32_scalars_and_arrays_match_numpy():
    X, Y = np.arange(4, dtype=np.int32), np.zeros(4, dtype=np.float32)
    assert int32(3, X, Y) == 3 ^ 5
    np.testing.assert_array_equal(X, np.arange(4) + 6 - np.arange(4))
    np.testing.assert_array_equal(Y, np.float32(0.5) * X.astype(np.float32))
    assert int32.inverse(6, X, Y) == 3
    np.testing.assert_array_equal(X, np.arange(4))
    np.testing.assert_array_equal(Y, 0.0)
    assert "memref<?xi32>" in int32.mlir and "i32" in int32.mlir


@rev.reversible
def small_ints(a: rev.i16, b: rev.i8, A: rev.Array[rev.i16], B: rev.Array[rev.i8]):
    for i in range(len(A)):
        A[i] += a * 3 + i
        B[i] ^= b
    a += 30000      # wraps in 16 bits, as NumPy's int16 does


def test_i16_i8_scalars_and_arrays_match_numpy():
    A, B = np.arange(3, dtype=np.int16), np.array([1, -2, 127], dtype=np.int8)
    a, b = small_ints(1000, -7, A, B)
    with np.errstate(over="ignore"):
        assert a == np.int16(1000) + np.int16(30000) and b == -7
    np.testing.assert_array_equal(A, np.arange(3) * 2 + 3000)
    np.testing.assert_array_equal(B, np.array([1, -2, 127], dtype=np.int8) ^ np.int8(-7))
    assert small_ints.inverse(a, b, A, B) == (1000, -7)
    np.testing.assert_array_equal(A, np.arange(3))
    np.testing.assert_array_equal(B, [1, -2, 127])


def test_error_i32_literal_out_of_range(tmp_path):
    mod, path = load(tmp_path, "@rev.reversible\ndef f(x: rev.i32):\n    x += 1099511627776\n")
    with pytest.raises(RevSyntaxError) as e:
        mod.f.module
    located(e, path, 5, "does not fit in i32")


@rev.reversible
def int_division(q: rev.i64, r: rev.i64, a: rev.i64, b: rev.i64):
    q += a // b
    r += a % b


@rev.reversible
def float_division(q: float, r: float, a: float, b: float):
    q += a // b
    r += a % b


@rev.reversible
def division_by_literal(q: rev.i64, r: rev.i64, a: rev.i64):
    q += a // -3
    r += a % 4


def test_floor_division_and_modulo_have_pythons_semantics():
    ints = [7, -7, 0, 6, -6, 1, -1, 2 ** 63 - 1, -2 ** 63]
    for a, b in itertools.product(ints, [3, -3, 1, -1, 7, 2 ** 63 - 1, -2 ** 63]):
        q = (a // b + 2 ** 63) % 2 ** 64 - 2 ** 63    # -2**63 // -1 wraps in 64 bits
        assert int_division(0, 0, a, b)[:2] == (q, a % b), (a, b)
    for a in ints:
        assert division_by_literal(0, 0, a)[:2] == (a // -3, a % 4), a
    floats = [7.5, -7.5, 0.0, -0.0, 6.0, -6.0, 1e300, 0.1, -1e-300]
    for a, b in itertools.product(floats, [3.0, -3.0, 0.1, -0.1, 1e300, 2.5, -0.7]):
        # q = r = -0.0 at the start: -0.0 + x is x, zeros keep their signs
        q, r = float_division(-0.0, -0.0, a, b)[:2]
        assert (q, math.copysign(1, q)) == (a // b, math.copysign(1, a // b)), (a, b)
        assert (r, math.copysign(1, r)) == (a % b, math.copysign(1, a % b)), (a, b)


def test_integer_division_by_zero_is_a_located_error_not_a_crash():
    with pytest.raises(RevError) as e:
        int_division(0, 0, 7, 0)
    assert e.value.rule == "integer division by zero"
    assert f'"{__file__}":{int_division.first_line + 2}:' in e.value.location
    with pytest.raises(RevError, match="integer division by zero"):
        int_division(0, 0, 7, 0, checks=True)
    with pytest.raises(RevError, match="integer division by zero"):
        int_division.inverse(0, 0, 7, 0)


# -- bounds checks (on by default) --------------------------------------------------------
@rev.reversible
def stencil(Y: rev.Array[rev.f64], X: rev.Array[rev.f64], lo: rev.index, hi: rev.index,
            step: rev.index):
    for i in range(lo, hi, step):
        Y[i] += X[i + 1] - X[i - 1]


@rev.reversible
def gather(y: float, X: rev.Array[rev.f64], k: rev.index):
    y += X[k] * X[k]


def stencil_ref(X, lo, hi, step):
    Y = np.zeros_like(X)
    for i in range(lo, hi, step):
        Y[i] += X[i + 1] - X[i - 1]
    return Y


def test_bounds_checks_are_on_by_default_and_exact_for_hoisted_loop_indices():
    X = np.arange(10.0) ** 2
    # in bounds, also where hi - 1 + 1 would not be: iterates 1, 8 with step 7
    for lo, hi, step in [(1, 9, 1), (1, 8, 3), (5, 5, 1), (1, 11, 7), (3, 1, 1)]:
        Y = np.zeros(10)
        stencil(Y, X, lo, hi, step)
        np.testing.assert_array_equal(Y, stencil_ref(X, lo, hi, step))
    for lo, hi, step, col in [(1, 10, 1, 17), (0, 9, 1, 28), (1, 10, 4, 17)]:
        Y = np.zeros(10)
        with pytest.raises(RevError, match="index out of bounds in dimension 0 of `X`") as e:
            stencil(Y, X, lo, hi, step)
        assert e.value.location.endswith(f'"{__file__}":{LINE_STENCIL}:{col})')
        # checked before the loop: nothing was written
        np.testing.assert_array_equal(Y, 0.0)
        with pytest.raises(RevError, match="index out of bounds"):
            stencil.inverse(Y, X, lo, hi, step)
        np.testing.assert_array_equal(Y, 0.0)
    # not hoistable: checked at the access, forwards, backwards and in the gradient
    for run in (lambda: gather(0.0, X, 10), lambda: gather.inverse(0.0, X, 10),
                lambda: gather.grad(0.0, X, 10, output=0), lambda: gather(0.0, X, -1)):
        with pytest.raises(RevError, match="index out of bounds in dimension 0 of `X`"):
            run()
    assert gather.grad(0.0, X, 3, output=0)[1][3] == 2 * X[3]
    # checked mode reports its own check
    with pytest.raises(RevError, match="index out of bounds in dimension 0 of the memref"):
        gather(0.0, X, 10, checks=True)


LINE_STENCIL = stencil.first_line + 4


def test_bounds_false_compiles_without_the_checks():
    assert "rev.check" in stencil.module_for(True).operation.get_asm()
    assert "rev.check" not in stencil.module_for(False).operation.get_asm()
    assert "rev.check" not in stencil.mlir      # .mlir: the IR as written (for rev-opt)
    X, Y1, Y2 = np.arange(10.0), np.zeros(10), np.zeros(10)
    stencil(Y1, X, 1, 9, 2, bounds=False)
    stencil(Y2, X, 1, 9, 2)
    np.testing.assert_array_equal(Y1, Y2)
    # the hoisted check is outside the loop: the body of the rev.for has none
    text = stencil.module_for(True).operation.get_asm()
    body = text[text.index("rev.for"):]
    body = body[:body.index("}")]
    assert "memref.load" in body
    assert "rev.check" not in body
    assert Program(stencil.module_for(True)).call("stencil", Y1, X, 1, 9, 1) == (1, 9, 1)
    with pytest.raises(RevError, match="bounds must be True or False"):
        stencil(Y1, X, 1, 9, 1, bounds="yes")


def test_error_reserved_and_default_parameters(tmp_path):
    mod, path = load(tmp_path, "@rev.reversible\ndef f(x: float, checks: float):\n"
                               "    x += checks\n")
    with pytest.raises(RevSyntaxError) as e:
        mod.f(1.0, 2.0)
    located(e, path, 4, "the parameter name `checks` is reserved")
    mod, path = load(tmp_path, "@rev.reversible\ndef f(x: float, "
                               "A: rev.Array[rev.f64] = np.zeros(2)):\n    x += A[0]\n",
                     name="user2")
    with pytest.raises(RevSyntaxError) as e:
        mod.f.module
    located(e, path, 4, "the array parameter `A` cannot have a default")
    mod, path = load(tmp_path, "@rev.reversible\ndef f(x: float, n: int = 2.5):\n"
                               "    x += float(n)\n", name="user3")
    with pytest.raises(RevSyntaxError) as e:
        mod.f.module
    located(e, path, 4, "the default of the integer parameter `n` is a float")
    mod, path = load(tmp_path, "@rev.reversible\ndef f(x: float, *rest):\n"
                               "    x += 1.0\n", name="user4")
    with pytest.raises(RevSyntaxError) as e:
        mod.f.module
    located(e, path, 4, "plain parameters only")


def test_error_return_of_a_value_stays_located(tmp_path):
    mod, path = load(tmp_path, "@rev.reversible\ndef f(x: float, y: float):\n"
                               "    y += x\n    return y\n")
    with pytest.raises(RevSyntaxError) as e:
        mod.f.module
    located(e, path, 6, "`return` is not supported")
