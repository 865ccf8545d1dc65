"""The Python front end (`mlir_rev.frontend`): @reversible functions against
closed forms, NumPy, the hand-written .mlir programs of examples/, their
inverses and gradients; and the located errors of unsupported Python."""
import math
import os

import numpy as np
import pytest

from mlir_rev import frontend as rev
from mlir_rev.frontend import RevError, RevSyntaxError
from mlir_rev.jit import Program
from mlir_rev import ad

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.abspath(__file__)


def example(name):
    with open(os.path.join(ROOT, "examples", name)) as f:
        return f.read()


# -- the examples, written in Python ----------------------------------------------
@rev.reversible
def exp_series(x: rev.f64, s: rev.f64, term: rev.f64, n: rev.index):
    for i in range(1, n + 1):
        term *= x / i
        s += term


@rev.reversible
def leapfrog(X: rev.Array[rev.f64], V: rev.Array[rev.f64], k: float, dt: float,
             steps: rev.index):
    for s in range(steps):
        for i in range(len(X)):
            V[i] -= k * dt * 0.5 * X[i]
            X[i] += V[i] * dt
            V[i] -= k * dt * 0.5 * X[i]


def test_exp_series_matches_the_mlir_example_forward_backward_and_gradient():
    out = exp_series(0.7, 1.0, 1.0, 25)
    assert out[1] == pytest.approx(math.exp(0.7), rel=1e-15)
    ref = Program(example("exp_series.mlir"))
    assert ref.call("exp_series", 0.7, 1.0, 1.0, 25) == out  # same IR: bit-identical
    back = exp_series.inverse(*out)
    assert back[0] == 0.7 and back[3] == 25
    assert back[1] == pytest.approx(1.0, rel=1e-12) and back[2] == pytest.approx(1.0, rel=1e-12)
    assert (~exp_series)(*out) == back
    g = exp_series.grad(0.7, 1.0, 1.0, 25, output=1)
    gref = ad.grad(example("exp_series.mlir"), "exp_series", output=1)(0.7, 1.0, 1.0, 25)
    assert g == gref
    assert g[0] == pytest.approx(math.exp(0.7), rel=1e-12)   # d s / d x
    assert g[1] == 1.0


def test_leapfrog_matches_the_mlir_example_and_runs_back():
    X0 = np.linspace(-1, 1, 7)
    V0 = np.cos(X0)
    X, V = X0.copy(), V0.copy()
    out = leapfrog(X, V, 1.3, 0.01, 200)
    Xr, Vr = X0.copy(), V0.copy()
    Program(example("leapfrog.mlir")).call("leapfrog", Xr, Vr, 1.3, 0.01, 200)
    np.testing.assert_array_equal(X, Xr)
    np.testing.assert_array_equal(V, Vr)
    # harmonic oscillator: x(t) ~ x0 cos(wt) + v0/w sin(wt)
    w, t = math.sqrt(1.3), 2.0
    np.testing.assert_allclose(X, X0 * np.cos(w * t) + V0 / w * np.sin(w * t), atol=1e-4)
    leapfrog.inverse(X, V, *out)
    np.testing.assert_allclose(X, X0, atol=1e-12)
    np.testing.assert_allclose(V, V0, atol=1e-12)


def test_leapfrog_gradient_matches_finite_differences():
    X0, V0 = np.array([0.5, -0.2]), np.array([0.1, 0.3])
    gX = leapfrog.grad(X0.copy(), V0.copy(), 1.3, 0.01, 50, output=(0, 0))

    def xfinal(k):
        X, V = X0.copy(), V0.copy()
        leapfrog(X, V, k, 0.01, 50)
        return X[0]
    h = 1e-6
    assert gX[0] == pytest.approx((xfinal(1.3 + h) - xfinal(1.3 - h)) / (2 * h), rel=1e-6)


@rev.reversible
def besselj2(x: float, y: float):
    with rev.compute(t=0.0, s=0.0):
        t += (x / 2.0) * (x / 2.0) / 2.0
        s += t
        for k in range(1, 30):
            t *= -((x / 2.0) * (x / 2.0) / (k * (k + 2.0)))
            s += t
    y += s
    rev.uncompute()


@rev.reversible
def coupled(y: float, z: float, X: rev.Array[rev.f64]):
    for t in range(len(X)):
        y += rev.sin(z) * X[t]
        z += rev.cos(y) * X[t]


def test_besselj2_matches_the_mlir_example():
    ref = Program(example("besselj2.mlir"))
    for x in (0.5, 2.3, -4.0):
        out = besselj2(x, 0.1)
        assert out == ref.call("besselj2", x, 0.1)
        assert besselj2.inverse(*out) == ref.uncall("besselj2", *out)
        assert besselj2.inverse(*out)[1] == pytest.approx(0.1, rel=1e-12)
        g = besselj2.grad(x, 0.0, output=1)
        assert g == ad.grad(example("besselj2.mlir"), "besselj2", output=1)(x, 0.0)
    # J_2(2.3) and J_2'(x) = (J_1 - J_3) / 2
    assert besselj2(2.3, 0.0)[1] == pytest.approx(0.41391459173, rel=1e-9)


def test_coupled_matches_the_mlir_example_forward_backward_and_gradient():
    rng = np.random.default_rng(3)
    xs = rng.normal(size=500) * 0.1
    out = coupled(0.3, -0.2, xs.copy())
    ref = Program(example("coupled.mlir"))
    assert out == ref.call("coupled", 0.3, -0.2, xs.copy())
    back = coupled.inverse(*out, xs.copy())
    assert back[0] == pytest.approx(0.3, rel=1e-12) and back[1] == pytest.approx(-0.2, rel=1e-12)
    g = coupled.grad(0.3, -0.2, xs.copy(), output=0)
    gr = ad.grad(example("coupled.mlir"), "coupled", output=0)(0.3, -0.2, xs.copy())
    assert g[:2] == gr[:2]
    np.testing.assert_array_equal(g[2], gr[2])


# -- statements -------------------------------------------------------------------
@rev.reversible
def updates(x: float, y: float, k: int, A: rev.Array[rev.f64], B: rev.Array[rev.i64, 2]):
    y += rev.sin(x) * A[0] + max(x, 0.5) - abs(x) + (2.0 if x > 0 else 3.0)
    y -= rev.exp(x) / 4 + rev.sqrt(x * x + 1.0) + rev.tanh(x) + min(x, 1.0) ** 2
    y *= 1.5 + rev.cos(x) ** 2
    y /= 2.0
    A[1] += y * x
    A[2] -= rev.log(1.0 + x * x)
    A[len(A) - 1] *= 3.0
    k ^= 5
    k += B.shape[0] * B.shape[1] + B[1, 2] // 2
    B[0, 1] ^= k
    B[1, 0] += 7 % 4
    x, y = y, x
    A[0], A[1] = A[1], A[0]
    rev.neg(x)
    rev.neg(A[2])
    rev.rot(x, y, 0.3)
    rev.irot(A[0], A[3], 0.2)


def updates_numpy(x, y, k, A, B):
    y += np.sin(x) * A[0] + max(x, 0.5) - abs(x) + (2.0 if x > 0 else 3.0)
    y -= np.exp(x) / 4 + np.sqrt(x * x + 1.0) + np.tanh(x) + min(x, 1.0) ** 2
    y *= 1.5 + np.cos(x) ** 2
    y /= 2.0
    A[1] += y * x
    A[2] -= np.log(1.0 + x * x)
    A[-1] *= 3.0
    k ^= 5
    k += B.shape[0] * B.shape[1] + B[1, 2] // 2
    B[0, 1] ^= k
    B[1, 0] += 7 % 4
    x, y = y, x
    A[0], A[1] = A[1], A[0]
    x = -x
    A[2] = -A[2]
    c, s = math.cos(0.3), math.sin(0.3)
    x, y = c * x - s * y, s * x + c * y
    c, s = math.cos(0.2), math.sin(0.2)
    A[0], A[3] = c * A[0] + s * A[3], -s * A[0] + c * A[3]
    return x, y, int(k)


@pytest.mark.parametrize("x", [0.8, -0.4])
def test_updates_on_scalars_and_elements_forward_and_back(x):
    A0 = np.array([0.5, 1.5, -2.0, 4.0])
    B0 = np.arange(12, dtype=np.int64).reshape(3, 4)
    A, B = A0.copy(), B0.copy()
    out = updates(x, 0.25, 3, A, B)
    An, Bn = A0.copy(), B0.copy()
    ref = updates_numpy(x, 0.25, 3, An, Bn)
    np.testing.assert_allclose(out[:2], ref[:2], rtol=1e-13)
    assert out[2] == ref[2]
    np.testing.assert_allclose(A, An, rtol=1e-13)
    np.testing.assert_array_equal(B, Bn)
    back = updates.inverse(*out[:3], A, B)
    assert back[0] == pytest.approx(x, rel=1e-13) and back[1] == pytest.approx(0.25, rel=1e-12)
    assert back[2] == 3
    np.testing.assert_allclose(A, A0, rtol=1e-12)
    np.testing.assert_array_equal(B, B0)


def test_gradient_of_updates_matches_finite_differences():
    A0 = np.array([0.5, 1.5, -2.0, 4.0])
    B0 = np.arange(12, dtype=np.int64).reshape(3, 4)
    g = updates.grad(0.8, 0.25, 3, A0.copy(), B0.copy(), output=1)

    def f(x, y, a0):
        A = A0.copy()
        A[0] = a0
        return updates(x, y, 3, A, B0.copy())[1]
    h = 1e-6
    assert g[0] == pytest.approx((f(0.8 + h, 0.25, 0.5) - f(0.8 - h, 0.25, 0.5)) / (2 * h),
                                 rel=1e-6)
    assert g[1] == pytest.approx((f(0.8, 0.25 + h, 0.5) - f(0.8, 0.25 - h, 0.5)) / (2 * h),
                                 rel=1e-6)
    assert g[2][0] == pytest.approx((f(0.8, 0.25, 0.5 + h) - f(0.8, 0.25, 0.5 - h)) / (2 * h),
                                    rel=1e-6)


@rev.reversible
def loops(s: float, A: rev.Array[rev.f64], n: rev.index):
    for i in reversed(range(1, n, 2)):
        s *= 1.0 + 0.1 * i
        A[i] += s
    for j in range(0, n, 3):
        A[j] -= s * j


def test_for_with_step_and_reversed_threads_variables():
    A = np.zeros(8)
    s, _ = loops(1.0, A, 8)
    ref, sr = np.zeros(8), 1.0
    for i in reversed(range(1, 8, 2)):
        sr *= 1.0 + 0.1 * i
        ref[i] += sr
    for j in range(0, 8, 3):
        ref[j] -= sr * j
    assert s == pytest.approx(sr, rel=1e-15)
    np.testing.assert_allclose(A, ref, rtol=1e-15)
    s0, _ = loops.inverse(s, A, 8)
    assert s0 == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(A, 0, atol=1e-14)
    assert "reverse" in loops.mlir


# -- if / while / ancillas / routines / calls ---------------------------------------
@rev.reversible
def branch(x: float, n: int):
    if rev.cond(x > 0, post=x > 100):
        x += 100.0
        n += 1
    elif rev.cond(x > -10, post=x > -10):
        n -= 2
    else:
        rev.neg(x)
        rev.neg(x)


HAND_IF = """
rev.func @branch(%x: f64, %n: i64) -> (f64, i64) {
  %r:2 = rev.if %x, %n : f64, i64 pre {
  ^bb0(%a: f64, %k: i64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64, %k: i64):
    %h = arith.constant 100.0 : f64
    %a1 = rev.add %a, %h : f64
    %one = arith.constant 1 : i64
    %k1 = rev.add %k, %one : i64
    rev.yield %a1, %k1 : f64, i64
  } else {
  ^bb0(%a: f64, %k: i64):
    %two = arith.constant 2 : i64
    %k1 = rev.sub %k, %two : i64
    rev.yield %a, %k1 : f64, i64
  } post {
  ^bb0(%a: f64, %k: i64):
    %h = arith.constant 100.0 : f64
    %c = arith.cmpf ogt, %a, %h : f64
    rev.cond %c
  }
  rev.return %r#0, %r#1 : f64, i64
}
"""


@pytest.mark.parametrize("x, expect", [(2.5, (102.5, 11)), (-3.0, (-3.0, 8)),
                                       (-20.0, (-20.0, 10))])
def test_if_elif_else_with_post_conditions(x, expect):
    assert branch(x, 10) == expect
    assert branch.inverse(*expect) == (x, 10)
    assert branch(x, 10, checks=True) == expect
    if x > -10:
        assert Program(HAND_IF).call("branch", x, 10) == expect


@rev.reversible
def counted(x: float, n: int):
    with rev.ancilla(0) as k:
        while rev.cond(k < n, post=k > 0):
            k += 1
            x *= 1.5
            x += float(k)
        k -= n


def test_while_with_counter_ancilla_matches_the_run_test():
    assert counted(1.0, 4) == (21.4375, 4)
    assert counted.inverse(21.4375, 4) == (1.0, 4)
    assert counted(1.0, 4, checks=True) == (21.4375, 4)
    g = counted.grad(1.0, 4, output=0)
    assert g[0] == pytest.approx(1.5 ** 4)


@rev.reversible
def routine(x: float, y: float, A: rev.Array[rev.f64, (2,)]):
    with rev.compute(t=0.0):
        t += x * x
        t += A[0]
    y += t
    A[1] += rev.sin(t)
    rev.uncompute()


def test_routine_compute_use_uncompute():
    A = np.array([1.0, 0.0])
    assert routine(2.0, 0.5, A) == (2.0, 5.5)
    assert A[1] == pytest.approx(math.sin(5.0), rel=1e-15)
    assert routine.inverse(2.0, 5.5, A) == (2.0, 0.5)
    np.testing.assert_allclose(A, [1.0, 0.0], atol=1e-15)
    assert "rev.routine" in routine.mlir
    g = routine.grad(2.0, 0.5, np.array([1.0, 0.0]), output=1)
    assert g[0] == pytest.approx(4.0) and g[1] == 1.0
    np.testing.assert_allclose(g[2], [1.0, 0.0])


@rev.reversible
def inner(a: float, b: float):
    a += b * 2.0
    a, b = b, a


@rev.reversible
def outer(a: float, b: float, c: float):
    inner(a, b)
    c += a * b
    inner.inverse(a, b)
    (~inner)(b, c)


def test_calls_and_uncalls_of_decorated_functions():
    assert outer(1.0, 2.0, 3.0) == (1.0, 9.0, 2.0)
    assert outer.inverse(1.0, 9.0, 2.0) == (1.0, 2.0, 3.0)
    assert "rev.call @inner" in outer.mlir and "rev.uncall @inner" in outer.mlir
    assert outer.grad(1.0, 2.0, 3.0, output=2) == (0.0, 1.0, 0.0)


@rev.reversible
def typed(x: rev.f32, k: rev.i64, m: rev.index, A: rev.Array[rev.f32, (None, 2)]):
    x += 1.5 * A[m, 1]
    k += m * 3
    A[0, 0] += x


def test_f32_i64_index_and_mixed_static_dynamic_shapes():
    A = np.ones((3, 2), dtype=np.float32)
    x, k, m = typed(np.float32(0.5), 4, 2, A)
    assert x == pytest.approx(2.0) and k == 10 and m == 2
    assert A[0, 0] == pytest.approx(3.0)
    assert "memref<?x2xf32>" in typed.mlir
    typed.inverse(x, k, m, A)
    np.testing.assert_array_equal(A, np.ones((3, 2), dtype=np.float32))


def test_every_op_carries_the_python_location():
    asm = exp_series.module.operation.get_asm(enable_debug_info=True)
    line = exp_series.first_line
    for off in (2, 3, 4):   # def, for, term *= ...
        assert f'"{HERE}":{line + off}:' in asm


# -- errors -------------------------------------------------------------------------
def _error_of(f):
    with pytest.raises(RevError) as e:
        f.module
    return e.value


def _line_of(text):
    with open(HERE) as f:
        for i, line in enumerate(f, 1):
            if text in line:
                return i
    raise AssertionError(text)


def test_error_self_update():
    @rev.reversible
    def f(y: float):
        y += rev.sin(y)  # ERR-self
    e = _error_of(f)
    assert isinstance(e, RevSyntaxError)
    assert f"{HERE}:{_line_of('# ERR-self')}:" in str(e)
    assert "read by its own update" in str(e) and "y += rev.sin(y)" in str(e)


def test_error_plain_assignment():
    @rev.reversible
    def f(y: float):
        y = 2.0  # ERR-assign
    e = _error_of(f)
    assert f"{HERE}:{_line_of('# ERR-assign')}:" in str(e) and "not reversible" in str(e)


def test_error_unsupported_syntax():
    @rev.reversible
    def f(y: float):
        try:  # ERR-try
            y += 1.0
        except Exception:
            pass
    e = _error_of(f)
    assert f"{HERE}:{_line_of('# ERR-try')}:" in str(e) and "unsupported statement" in str(e)


def plain_python(y):
    return y


def test_error_undecorated_call():
    @rev.reversible
    def f(y: float):
        plain_python(y)  # ERR-call
    e = _error_of(f)
    assert f"{HERE}:{_line_of('# ERR-call')}:" in str(e)
    assert "not a @reversible function" in str(e)


def test_error_wrong_types():
    @rev.reversible
    def f(y: str):  # ERR-type
        y += 1.0
    e = _error_of(f)
    assert f"{HERE}:{_line_of('# ERR-type')}:" in str(e) and "unsupported type" in str(e)

    @rev.reversible
    def g(k: int):
        k *= 2  # ERR-intmul
    e = _error_of(g)
    assert f"{HERE}:{_line_of('# ERR-intmul')}:" in str(e) and "float target" in str(e)

    @rev.reversible
    def h(y):  # ERR-unannotated
        y += 1.0
    e = _error_of(h)
    assert f"{HERE}:{_line_of('# ERR-unannotated')}:" in str(e) and "annotation" in str(e)


def test_error_while_without_post_condition():
    @rev.reversible
    def f(y: float, n: int):
        while n > 0:  # ERR-while
            n -= 1
    e = _error_of(f)
    assert f"{HERE}:{_line_of('# ERR-while')}:" in str(e) and "post condition" in str(e)


def test_if_without_post_that_changes_its_condition_is_reported_at_the_if():
    @rev.reversible
    def f(x: float):
        if x > 0:  # ERR-post
            x -= 1.0
    e = _error_of(f)
    assert f'"{HERE}":{_line_of("# ERR-post")}:' in str(e) and "add a post condition" in str(e)
    assert "see current operation" not in str(e) and "if x > 0:  # ERR-post" in str(e)


def test_verifier_error_points_at_the_python_line():
    @rev.reversible
    def f(A: rev.Array[rev.f64]):
        for i in range(len(A)):
            A[i] += A[i] * 2.0  # ERR-alias
    e = _error_of(f)
    assert not isinstance(e, RevSyntaxError)
    assert f'"{HERE}":{_line_of("# ERR-alias")}:' in str(e)
    assert "A[i] += A[i] * 2.0" in str(e)


def test_checked_mode_failure_points_at_the_python_line():
    @rev.reversible
    def f(x: float, n: int):
        with rev.ancilla(0.0) as t:  # ERR-check-ancilla
            t += x
            x += t * 0.0
        # t != 0 at the free: checked mode reports the ancilla's line
    with pytest.raises(RevError) as e:
        f(1.0, 0, checks=True)
    assert e.value.rule == "ancilla not restored to its initial value"
    assert f'"{HERE}":{_line_of("# ERR-check-ancilla")}:' in str(e.value.location)

    @rev.reversible
    def g(x: float, A: rev.Array[rev.f64]):
        A[5] += x  # ERR-check-bounds
    A = np.zeros(3)
    with pytest.raises(RevError) as e:
        g(1.0, A, checks=True)
    assert "out of bounds" in e.value.rule
    assert f'"{HERE}":{_line_of("# ERR-check-bounds")}:' in str(e.value.location)
    np.testing.assert_array_equal(A, 0.0)


# -- property test: random reversible Python functions, as source text ----------------
def _random_function(rng, name):
    X, K = ["x0", "x1", "x2"], ["k0", "k1"]

    def other(v):
        return rng.choice([u for u in X if u != v])

    def fexpr(v):
        a, b = other(v), other(v)
        return rng.choice([
            f"0.3 * {a}", f"rev.sin({a}) * {b}", f"rev.tanh({a}) - 0.5 * {b}",
            f"max({a}, {b}) * 0.25", f"A[{rng.randrange(4)}] * 0.5",
            f"(0.2 if {a} > {b} else -0.1) * {a}", f"rev.exp(-{a} * {a}) + float(k0)",
        ])

    def stmt(depth, ints=True):
        r = rng.random()
        if not ints and 0.52 <= r < 0.6:
            r = 0.1
        v = rng.choice(X)
        if r < 0.25:
            return [f"{v} {rng.choice(['+=', '-='])} {fexpr(v)}"]
        if r < 0.35:
            return [f"{v} *= 1.5 + 0.5 * rev.sin({other(v)})"]
        if r < 0.42:
            return [f"{v} /= 2.0 + rev.cos({other(v)})"]
        if r < 0.52:
            c = rng.randrange(4)
            return [f"A[{c}] += {other('A')} * 0.5 - {rng.choice(X)} * A[{(c + 1) % 4}]"]
        if r < 0.6:
            k = rng.choice(K)
            return [f"{k} {rng.choice(['+=', '^=', '-='])} {rng.choice([u for u in K if u != k])}"
                    f" * {rng.randrange(1, 4)} + {rng.randrange(5)}"]
        if r < 0.68:
            a, b = rng.sample(X, 2)
            return [f"{a}, {b} = {b}, {a}"]
        if r < 0.72:
            a, b = rng.randrange(2), rng.randrange(2, 4)
            return [f"A[{a}], A[{b}] = A[{b}], A[{a}]"]
        if r < 0.76:
            return [f"rev.rot({v}, {other(v)}, 0.{rng.randrange(1, 9)})"]
        if r < 0.84:
            e, o = fexpr(v), other(v)
            return rng.choice([
                ["with rev.ancilla(0.0) as t:", f"    t += {e}", f"    {v} += t * 0.5",
                 f"    t -= {e}"],
                ["with rev.compute(t=0.0):", f"    t += {e}", f"{v} += rev.sin(t) * 0.3",
                 "rev.uncompute()"],
                ["with rev.ancilla(0) as c:", "    while rev.cond(c < 3, post=c > 0):",
                 "        c += 1", f"        {v} += 0.1 * {o} * float(c)", "    c -= 3"],
                [f"helper({v}, {o})"],
                [f"helper.inverse({v}, {o})"],
            ])
        if depth < 2 and r < 0.9:
            body = [s for _ in range(rng.randrange(1, 3)) for s in stmt(depth + 1, ints)]
            rng_ = rng.choice(["range(3)", "reversed(range(1, 4))", "range(0, len(A), 2)"])
            return [f"for i{depth} in {rng_}:"] + ["    " + s for s in body]
        if depth < 2:
            body = [s for _ in range(rng.randrange(1, 3)) for s in stmt(2, ints=False)]
            orelse = [f"{v} -= 0.25"]
            return ([f"if k0 > {rng.randrange(-2, 3)}:"] + ["    " + s for s in body]
                    + ["else:", "    " + orelse[0]])
        return [f"{v} += 0.1"]

    body = [s for _ in range(rng.randrange(3, 8)) for s in stmt(0)]
    lines = ["@rev.reversible",
             f"def {name}(x0: float, x1: float, x2: float, k0: int, k1: int, "
             f"A: rev.Array[rev.f64]):"] + ["    " + s for s in body]
    return "\n".join(lines) + "\n"


def test_random_python_functions_run_back_and_match_finite_differences(tmp_path):
    import importlib.util
    import random
    rng = random.Random(12)
    n = 24
    src = ("from mlir_rev import frontend as rev\n\n\n@rev.reversible\n"
           "def helper(a: float, b: float):\n    a += rev.cos(b) * 0.5\n"
           "    b *= 1.25\n\n\n") + "\n\n".join(
        _random_function(rng, f"f{i}") for i in range(n))
    path = tmp_path / "random_rev_functions.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("random_rev_functions", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    A0 = np.array([0.3, -0.7, 1.1, 0.4])
    args = (0.4, -0.3, 0.9, 2, 5)
    for i in range(n):
        f = getattr(mod, f"f{i}")
        A = A0.copy()
        out = f(*args, A)
        back = f.inverse(*out, A)
        np.testing.assert_allclose(back[:3], args[:3], rtol=1e-12, atol=1e-12,
                                   err_msg=f.mlir)
        assert back[3:] == args[3:], f.mlir
        np.testing.assert_allclose(A, A0, rtol=1e-12, atol=1e-12, err_msg=f.mlir)
        g = f.grad(*args, A0.copy(), output=0)
        h = 1e-6
        for j in range(3):
            p, m = list(args), list(args)
            p[j] += h
            m[j] -= h
            fd = (f(*p, A0.copy())[0] - f(*m, A0.copy())[0]) / (2 * h)
            assert g[j] == pytest.approx(fd, rel=1e-5, abs=1e-6), (j, f.mlir)


@rev.reversible
def countdown(x: float, n: int):
    if rev.cond(n > 0, post=n > 0):
        n -= 1
        x += 1.0 + float(n)
        countdown(x, n)
        n += 1


def test_recursion_and_the_mlir_text_round_trip():
    assert countdown(0.0, 5) == (15.0, 5)
    assert countdown.inverse(15.0, 5) == (0.0, 5)
    # .mlir is text for rev-opt and bug reports; compiled from text it agrees
    assert Program(countdown.mlir).call("countdown", 0.0, 5) == (15.0, 5)
    assert f'loc("{HERE}":' in countdown.mlir


@pytest.mark.parametrize("body, message", [
    ("    def g():\n        pass\n", "unsupported statement `FunctionDef`"),
    ("    class K:\n        pass\n", "unsupported statement `ClassDef`"),
    ("    y += [i for i in range(3)][0]\n", "only elements of array parameters"),
    ("    yield y\n", "unsupported statement `Expr`"),
    ("    y += float(3 ** 70)\n", "constant exponent"),
    ("    y += sum(i for i in range(3))\n", "`sum` is not supported"),
    ("    y += (lambda: 1.0)()\n", "is not supported"),
    ("    y += 12345678901234567890123\n", "does not fit in 64 bits"),
    ("    y %= 2.0\n", "not a reversible update"),
    ("    y, y = y, y\n", "with itself"),
    ("    for i in range(5, 0, -1):\n        y += 1.0\n", "reversed(range"),
    ("    for i in [1, 2]:\n        y += 1.0\n", "range"),
    ("    for i in range(3):\n        i += 1\n", "loop index"),
    ("    y += undefined_name\n", "unknown name"),
    ("    y ^= 3\n", "integer target"),
    ("    return y\n", "`return` is not supported"),
    ("    with open('x') as t:\n        pass\n", "unsupported `with`"),
    ("    with rev.compute(t=0.0):\n        t += y\n", "rev.uncompute()"),
    ("    A[0] += countdown(y, y)\n", "as a statement"),
    ("    countdown(y, 3)\n", "may change its parameter `n`"),
    ("    y += OUTSIDE[0]\n", "`OUTSIDE` is a Python ndarray from outside the function"),
    ("    A[0] = 1.0\n", "plain assignment `=` is not reversible"),
])
def test_errors_are_located_python_exceptions(tmp_path, body, message):
    """Each unsupported construct: a RevSyntaxError naming file:line and
    showing the line (the source is written to a file, as a user's would be)."""
    import importlib.util
    path = tmp_path / "user_code.py"
    path.write_text("from mlir_rev import frontend as rev\n"
                    "import numpy\nfrom test_frontend import countdown\n"
                    "OUTSIDE = numpy.zeros(3)\n"
                    "@rev.reversible\ndef f(y: float, A: rev.Array[rev.f64]):\n" + body)
    spec = importlib.util.spec_from_file_location("user_code", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(RevSyntaxError) as e:
        mod.f.module
    text = str(e.value)
    assert message in text
    assert f"{path}:{e.value.line}:" in text and 7 <= e.value.line <= 9
    assert e.value.source_line.strip() in text


@rev.reversible
def cubic(x: float, y: float):
    y += x * x * x + 2.0 * x * x


def test_jacobian_vjp_hvp_of_a_decorated_function():
    J = cubic.jacobian(0.5, 1.0)
    np.testing.assert_allclose(np.asarray(J, dtype=float), [[1.0, 0.0], [3 * 0.25 + 2.0, 1.0]])
    hv = cubic.hvp(0.5, 1.0, v=[1.0, 0.0], output=1)
    assert hv[0] == pytest.approx(6 * 0.5 + 4.0) and hv[1] == 0.0
    outs, adj = cubic.vjp((0.5, 1.0), (0.0, 1.0), ())
    assert outs[1] == pytest.approx(1.0 + 0.125 + 0.5)
    assert adj[0] == pytest.approx(2.75)


def test_jacobian_with_several_seeds_per_sweep():
    """jacobian(seeds=N): N outputs per backward sweep (@f_bwd_xN), the same
    matrix bit for bit; the closed form for cubic."""
    J1 = cubic.jacobian(0.5, 1.0)
    J2 = cubic.jacobian(0.5, 1.0, seeds=2)
    np.testing.assert_array_equal(np.asarray(J1, dtype=float), np.asarray(J2, dtype=float))
    np.testing.assert_allclose(np.asarray(J2, dtype=float), [[1.0, 0.0], [2.75, 1.0]])
    X = np.linspace(-1.0, 1.0, 5)
    Jc = coupled.jacobian(0.3, -0.2, X)
    for n in (2, 3):
        np.testing.assert_array_equal(Jc, rev.jacobian(coupled, seeds=n)(0.3, -0.2, X))
    assert coupled.derivatives(seeds=3).bwd_seeded is not None


def test_calling_with_wrong_arguments_raises_rev_error():
    with pytest.raises(RevError, match="takes 4 arguments"):
        exp_series(1.0, 2.0)
    with pytest.raises(RevError, match="must be a number"):
        exp_series("a", 1.0, 1.0, 3)
    with pytest.raises(RevError):
        leapfrog(np.zeros(3, dtype=np.int64), np.zeros(3), 1.0, 0.1, 1)


SCALE = 2.0


@rev.reversible
def scaled(y: float, k: int):
    y += SCALE * float(k)


def test_numbers_from_globals_and_closures_follow_their_current_values():
    global SCALE
    assert scaled(0.0, 3) == (6.0, 3)
    SCALE = 5.0
    try:
        assert scaled(0.0, 3) == (15.0, 3)    # rebuilt, not a stale program
        assert scaled.inverse(15.0, 3) == (0.0, 3)
    finally:
        SCALE = 2.0
    step = 1

    @rev.reversible
    def inc(k: int):
        k += step
    assert inc(1) == 2
    step = 10
    assert inc(1) == 11

    @rev.reversible
    def user(k: int, y: float):
        inc(k)          # a callee's frozen number counts too
        y += float(k)
    assert user(1, 0.0) == (11, 11.0)
    step = 3
    assert user(1, 0.0) == (4, 4.0)


def test_module_level_derivative_functions_take_a_decorated_function():
    assert rev.grad(cubic, output=1)(0.5, 1.0) == cubic.grad(0.5, 1.0, output=1)
    np.testing.assert_array_equal(np.asarray(rev.jacobian(cubic)(0.5, 1.0), dtype=float),
                                  np.asarray(cubic.jacobian(0.5, 1.0), dtype=float))
    assert rev.hvp(cubic, output=1)(0.5, 1.0, v=[1.0, 0.0])[0] == pytest.approx(7.0)
    assert rev.vjp(cubic)((0.5, 1.0), (0.0, 1.0), ())[1][0] == pytest.approx(2.75)
    with pytest.raises(RevError, match="@reversible"):
        rev.grad("rev.func @f() {}")


def test_mlir_rev_ad_takes_a_decorated_function():
    """mlir_rev.ad.grad/jacobian/hvp accept a @reversible function (its module
    and name): same numbers as the front end's own .grad."""
    @rev.reversible
    def sq_sin(x: rev.f64, y: rev.f64):
        y += x * x
        y += math.sin(x)

    g = ad.grad(sq_sin, output=1)
    dx, dy = g(0.5, 0.0)
    assert dx == pytest.approx(2 * 0.5 + np.cos(0.5), rel=1e-14)
    assert dy == 1.0
    assert ad.jacobian(sq_sin)(0.5, 0.0).shape == (2, 2)
    with pytest.raises(RevError, match="leave it out"):
        ad.grad(sq_sin, "other")
    with pytest.raises(RevError, match="name of the function to differentiate is missing"):
        ad.grad("rev.func @f(%x: f64) -> f64 { rev.return %x : f64 }")


def test_the_readme_example_runs():
    """The README's first example (decorated Python) runs and says the truth."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "README.md")) as f:
        text = f.read()
    start = text.index("```python", text.index("Most users write rev in Python"))
    block = text[start + len("```python"):text.index("```", start + 3)]
    path = os.path.join(root, "build", "readme_example.py")
    with open(path, "w") as f:  # @reversible reads the source of the function
        f.write(block)
    scope = {"__name__": "readme_example"}
    exec(compile(block, path, "exec"), scope)
    out = scope["out"]
    assert out[1] == pytest.approx(math.exp(0.7), rel=1e-14)
    back = scope["exp_series"].inverse(*out)
    assert back == pytest.approx((0.7, 1.0, 1.0, 25), rel=1e-14)
    dx, ds, dterm = scope["exp_series"].grad(0.7, 1.0, 1.0, 25, output=1)
    assert dx == pytest.approx(math.exp(0.7), rel=1e-13) and ds == 1.0


def test_gradient_with_a_loop_budget():
    # Program's loop_budget through the front end: the same gradient as
    # without it (and as the MLIR example's with it).
    xs = np.random.default_rng(12).uniform(-0.1, 0.1, 300)
    g0 = coupled.grad(0.3, -0.2, xs.copy(), output=0)
    g16 = coupled.grad(0.3, -0.2, xs.copy(), output=0, loop_budget=16)
    gf = rev.grad(coupled, loop_budget=16)(0.3, -0.2, xs.copy())
    gr = ad.grad(example("coupled.mlir"), "coupled", loop_budget=16)(0.3, -0.2, xs.copy())
    for got in (g16, gf, gr):
        for a, b in zip(got, g0):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    assert coupled.derivatives(loop_budget=16) is not coupled.derivatives()
    with pytest.raises(RevError, match="loop_budget"):
        coupled.grad(0.3, -0.2, xs.copy(), loop_budget=-8)
