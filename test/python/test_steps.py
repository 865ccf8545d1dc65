"""rev.steps (out-of-place steps) and its checkpointed gradient (issue 13).

References: a NumPy forward loop, a hand-written NumPy reverse sweep that
stores every state (an independent implementation of the gradient), central
finite differences, and revolve's optimal recomputation count, both as the
closed form r*l - C(c+r, c+1) and as the dynamic programme over every split."""
import functools
from math import comb

import numpy as np
import pytest

from mlir_rev.jit import Program, RevError

# y <- y + k * sin(y) * x[t] on a vector state: not injective in place.
# Component i also reads component i-1 (mod n), so the Jacobian is not
# diagonal.
SRC = """
rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %k: f64,
               %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %old, %c0 : memref<?xf64>
  %x = memref.load %xs[%t] : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %ip = arith.addi %i, %n : index
    %im = arith.subi %ip, %c1 : index
    %j = arith.remui %im, %n : index
    %y = memref.load %old[%i] : memref<?xf64>
    %z = memref.load %old[%j] : memref<?xf64>
    %s = math.sin %z : f64
    %ks = arith.mulf %k, %s : f64
    %d = arith.mulf %ks, %x : f64
    %v = arith.addf %y, %d : f64
    rev.add_at %new[%i], %v : memref<?xf64>
    rev.yield
  }
  rev.return %t, %k : index, f64
}

rev.func @run(%T: index, %k: f64, %y0: memref<?xf64>, %yT: memref<?xf64>,
              %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %y0 into %yT (%k, %xs) : memref<?xf64>, f64, memref<?xf64>
  rev.return %T, %k : index, f64
}
"""


def forward(T, k, y0, xs):
    ys = [np.array(y0, dtype=float)]
    for t in range(T):
        y = ys[-1]
        ys.append(y + k * np.sin(np.roll(y, 1)) * xs[t])
    return ys


def reverse_reference(T, k, y0, xs, ybar):
    """Stores every state, then the textbook reverse sweep."""
    ys = forward(T, k, y0, xs)
    ybar = np.array(ybar, dtype=float)
    kbar = 0.0
    xsbar = np.zeros_like(xs)
    for t in reversed(range(T)):
        z = np.roll(ys[t], 1)
        kbar += np.sum(ybar * np.sin(z) * xs[t])
        xsbar[t] += np.sum(ybar * k * np.sin(z))
        ybar = ybar + np.roll(ybar * k * np.cos(z) * xs[t], -1)
    return ybar, kbar, xsbar


def inputs(T, n=3, seed=0):
    rng = np.random.default_rng(seed)
    return 0.9, rng.uniform(-1, 1, n), rng.uniform(-0.8, 0.8, T)


@functools.lru_cache(maxsize=None)
def program(budget=None):
    return Program(SRC, grad=["run"], memory_budget=budget)


def gradient(p, T, k, y0, xs, yTbar):
    yT = np.zeros_like(y0)      # out: the gradient adds the state and takes it away again
    y0bar = np.zeros_like(y0)
    xsbar = np.zeros_like(xs)
    _, _, kbar = p.call("run_grad", T, k, y0.copy(), yT, xs, 0.0, y0bar, np.array(yTbar), xsbar)
    return y0bar, kbar, xsbar, yT


def test_forward_and_inverse():
    p = program()
    for T in (0, 1, 7, 100):
        k, y0, xs = inputs(max(T, 1))
        out = np.full(3, 0.25)
        p.call("run", T, k, y0, out, xs)
        np.testing.assert_allclose(out, 0.25 + forward(T, k, y0, xs)[-1], rtol=1e-14, atol=1e-15)
        p.uncall("run", T, k, y0, out, xs)          # subtracts the same state
        np.testing.assert_allclose(out, 0.25, rtol=0, atol=1e-14)


@pytest.mark.parametrize("budget", [0, 48, 240, None, 10**9])
def test_gradient_matches_reference_at_every_budget(budget):
    """The same gradient (against a reverse sweep that stores every state, to
    1e-12 relative) whatever the snapshot count; budgets in bytes of
    24-byte states: 1 (the minimum), 2, 10 snapshots, the default rule,
    every state."""
    T = 60
    k, y0, xs = inputs(T)
    ybar = np.array([0.3, -1.1, 0.7])
    y0bar, kbar, xsbar, yT = gradient(program(budget), T, k, y0, xs, ybar)
    ry0, rk, rxs = reverse_reference(T, k, y0, xs, ybar)
    np.testing.assert_allclose(y0bar, ry0, rtol=1e-12)
    np.testing.assert_allclose(kbar, rk, rtol=1e-12)
    np.testing.assert_allclose(xsbar, rxs, rtol=1e-12, atol=1e-15)
    # The backward sweep uncomputed out: the gradient leaves it as it was.
    assert not yT.any()


def test_budgets_give_bitwise_equal_gradients():
    """Every schedule recomputes the same states with the same operations."""
    T = 45
    k, y0, xs = inputs(T, seed=3)
    ybar = np.array([1.0, 0.5, -0.25])
    results = [gradient(program(b), T, k, y0, xs, ybar)[:3] for b in (0, 48, None, 10**9)]
    for r in results[1:]:
        for a, b in zip(results[0], r):
            assert np.array_equal(a, b)


def test_gradient_matches_finite_differences():
    T = 25
    k, y0, xs = inputs(T, seed=5)
    w = np.array([0.2, -0.4, 1.0])

    def objective(k_, y0_, xs_):
        return float(w @ forward(T, k_, y0_, xs_)[-1])

    y0bar, kbar, xsbar, _ = gradient(program(48), T, k, y0, xs, w)
    h = 1e-6
    fd_k = (objective(k + h, y0, xs) - objective(k - h, y0, xs)) / (2 * h)
    assert abs(kbar - fd_k) <= 1e-7 * max(1, abs(fd_k))
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        fd = (objective(k, y0 + e, xs) - objective(k, y0 - e, xs)) / (2 * h)
        assert abs(y0bar[i] - fd) <= 1e-7 * max(1, abs(fd))
    for t in (0, 11, T - 1):
        e = np.zeros(T)
        e[t] = h
        fd = (objective(k, y0, xs + e) - objective(k, y0, xs - e)) / (2 * h)
        assert abs(xsbar[t] - fd) <= 1e-7 * max(1, abs(fd))


def test_zero_steps():
    """T = 0: out += init, so init's adjoint gets out's."""
    k, y0, xs = inputs(1)
    ybar = np.array([0.5, 1.5, -2.0])
    y0bar, kbar, xsbar, _ = gradient(program(), 0, k, y0, xs, ybar)
    np.testing.assert_array_equal(y0bar, ybar)
    assert kbar == 0.0 and not xsbar.any()


@functools.lru_cache(maxsize=None)
def optimal_advances(l, c):
    """The least number of advancing steps that reverses l steps with c
    snapshot slots (the start state occupies one while it is needed), over
    every split: the dynamic programme."""
    if l == 1:
        return 0
    if c == 0:
        return float("inf")
    return min(j + optimal_advances(l - j, c - 1) + optimal_advances(j, c) for j in range(1, l))


def revolve_formula(l, c):
    r = 0
    while comb(c + r, c) < l:
        r += 1
    return r * l - comb(c + r, c + 1) if r else 0


@pytest.mark.parametrize("c", range(1, 7))
def test_schedule_counts_are_optimal(c):
    """For every T in 1..40 with c snapshots (memory_budget = c states), the
    compiled schedule advances exactly as often as the optimum: the dynamic
    programme over all splits and revolve's closed form; each step is
    reversed once."""
    p = Program(SRC, grad=["run"], memory_budget=24 * c)
    for T in range(1, 41):
        k, y0, xs = inputs(T, seed=T)
        p.steps_counts(reset=True)
        gradient(p, T, k, y0, xs, np.ones(3))
        counts = p.steps_counts()
        assert counts["snapshots"] == min(c, T)
        assert counts["step_adjoints"] == T and counts["runs"] == 1
        assert counts["advances"] == optimal_advances(T, min(c, T)) == revolve_formula(T, min(c, T)), (T, c)


def test_default_rule_recomputes_at_most_three_times():
    p = program()
    T = 2000
    k, y0, xs = inputs(T)
    p.steps_counts(reset=True)
    gradient(p, T, k, y0, xs, np.ones(3))
    counts = p.steps_counts()
    c = counts["snapshots"]
    assert comb(c + 3, 3) >= T > comb(c + 2, 3)        # the least such c
    assert counts["advances"] == revolve_formula(T, c) <= 3 * T


def test_snapshots_attribute_wins_over_the_budget():
    src = SRC.replace("(%k, %xs) : memref", "(%k, %xs) {snapshots = 2} : memref")
    p = Program(src, grad=["run"], memory_budget=10**9)
    T = 30
    k, y0, xs = inputs(T)
    gradient(p, T, k, y0, xs, np.ones(3))
    counts = p.steps_counts()
    assert counts["snapshots"] == 2 and counts["advances"] == revolve_formula(T, 2)


@pytest.mark.parametrize("bad", [-1, 1.5, "1k", True])
def test_memory_budget_is_validated(bad):
    with pytest.raises(RevError, match="memory_budget must be None or a number of bytes"):
        Program(SRC, grad=["run"], memory_budget=bad)


def test_forward_mode_matches_finite_differences():
    """--rev-fwd: rev.steps_tangent runs the steps with their tangents;
    out and its tangent against central differences along a random
    direction (init, k and xs all perturbed), and the inverse of the tangent
    function takes both away again."""
    T = 30
    k, y0, xs = inputs(T, seed=21)
    rng = np.random.default_rng(4)
    dy0, dk, dxs = rng.uniform(-1, 1, 3), 0.37, rng.uniform(-1, 1, T)
    p = Program(SRC, fwd=["run"])
    out, outdot = np.zeros(3), np.zeros(3)
    res = p.call("run_fwd", T, k, y0.copy(), out, xs, dk, dy0.copy(), outdot, dxs.copy())
    assert res[0] == T and res[1] == k and res[2] == dk      # scalars and their tangents unchanged
    h = 1e-6
    fd = (forward(T, k + h * dk, y0 + h * dy0, xs + h * dxs)[-1]
          - forward(T, k - h * dk, y0 - h * dy0, xs - h * dxs)[-1]) / (2 * h)
    np.testing.assert_allclose(out, forward(T, k, y0, xs)[-1], rtol=1e-14)
    np.testing.assert_allclose(outdot, fd, rtol=1e-7, atol=1e-9)
    p.uncall("run_fwd", T, k, y0.copy(), out, xs, dk, dy0.copy(), outdot, dxs.copy())
    assert np.abs(out).max() < 1e-14 and np.abs(outdot).max() < 1e-13


def test_forward_mode_checked_sizes():
    """checks=True: `out` (with its tangent, so that the function's own
    shadow-shape check passes) of another size than the state is a RevError
    from rev.steps_tangent (the lowering indexes every state-shaped array by
    init's size), and the arrays are restored."""
    T = 5
    k, y0, xs = inputs(T, seed=22)
    p = Program(SRC, fwd=["run"], checks=True)
    out, outdot = np.zeros(3), np.zeros(3)
    p.call("run_fwd", T, k, y0.copy(), out, xs, 0.1, np.ones(3), outdot, np.ones(T))
    assert out.any() and outdot.any()
    bad, baddot = np.zeros(2), np.zeros(2)
    with pytest.raises(RevError, match=r"'out' or a tangent does not have the size of 'init' \(rev.steps_tangent"):
        p.call("run_fwd", T, k, y0.copy(), bad, xs, 0.1, np.ones(3), baddot, np.ones(T))
    assert not bad.any() and not baddot.any()


def test_second_order_is_refused_with_a_location():
    """The checkpointed adjoint has no tangent rule: an HVP through rev.steps
    is a located RevError, not a crash."""
    with pytest.raises(RevError, match=r"rev.steps_adjoint.*cannot be differentiated again"):
        Program(SRC, hvp=["run"])


def test_checked_mode():
    """checks=True: the same gradient, with every recomputed state compared
    with the one reached through the snapshots, and a wrongly sized `out`
    is a RevError (arrays restored)."""
    T = 40
    k, y0, xs = inputs(T, seed=9)
    ybar = np.array([0.3, 0.2, -0.1])
    p = Program(SRC, grad=["run"], checks=True, memory_budget=48)
    got = gradient(p, T, k, y0, xs, ybar)[:3]
    ref = reverse_reference(T, k, y0, xs, ybar)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert p.steps_counts()["step_adjoints"] == T
    out = np.zeros(2)
    with pytest.raises(RevError, match="'out' does not have the size of 'init'"):
        p.call("run", T, k, y0, out, xs)
    assert not out.any()


def test_grad_api_with_memory_budget():
    """mlir_rev.ad.grad passes memory_budget to the Program: d out[1] / d
    (k, y0, out, xs) against the store-all reference."""
    from mlir_rev.ad import grad
    T = 20
    k, y0, xs = inputs(T, seed=11)
    g = grad(SRC, "run", output=(3, 1), memory_budget=48)
    kbar, y0bar, outbar, xsbar = g(T, k, y0, np.zeros(3), xs)
    ry0, rk, rxs = reverse_reference(T, k, y0, xs, np.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(kbar, rk, rtol=1e-12)
    np.testing.assert_allclose(y0bar, ry0, rtol=1e-12)
    np.testing.assert_array_equal(outbar, [0.0, 1.0, 0.0])   # out += F(init): d out / d out = I
    np.testing.assert_allclose(xsbar, rxs, rtol=1e-12, atol=1e-15)


# A step that multiplies its new state: its backward function needs the new
# state's value, so every step adjoint recomputes it (no new_write_only).
SRC_MUL = """
rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %xs: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %y = memref.load %old[%c0] : memref<?xf64>
  rev.add_at %new[%c0], %y : memref<?xf64>
  %x = memref.load %xs[%t] : memref<?xf64>
  %s = math.sin %y : f64
  %one = arith.constant 1.0 : f64
  %half = arith.constant 0.5 : f64
  %a = arith.mulf %s, %x : f64
  %b = arith.mulf %a, %half : f64
  %f = arith.addf %one, %b : f64
  rev.mul_at %new[%c0], %f : memref<?xf64>
  rev.return %t : index
}
rev.func @run(%T: index, %y0: memref<?xf64>, %yT: memref<?xf64>, %xs: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %y0 into %yT (%xs) : memref<?xf64>, memref<?xf64>
  rev.return %T : index
}
"""


def test_step_that_reads_its_new_state():
    """y <- y * (1 + sin(y) x / 2), built as new += y; new *= (...): the
    gradient against a hand-written reverse sweep, and the adjoint op is not
    marked new_write_only."""
    T = 33
    rng = np.random.default_rng(2)
    xs = rng.uniform(-0.9, 0.9, T)
    from mlir_rev.ir import Context, Module
    from mlir_rev.passmanager import PassManager
    for src, marked in ((SRC_MUL, False), (SRC, True)):
        with Context():
            m = Module.parse(src)
            PassManager.parse("builtin.module(rev-ad{funcs=run})").run(m.operation)
            text = str(m)
        assert "rev.steps_adjoint" in text and ("new_write_only" in text) == marked
    p = Program(SRC_MUL, grad=["run"], memory_budget=24)
    y0b, xsb, out = np.zeros(1), np.zeros(T), np.zeros(1)
    p.call("run_grad", T, np.array([0.6]), out, xs, y0b, np.ones(1), xsb)
    ys = [0.6]
    for t in range(T):
        ys.append(ys[-1] * (1 + np.sin(ys[-1]) * xs[t] / 2))
    ybar, rxs = 1.0, np.zeros(T)
    for t in reversed(range(T)):
        y = ys[t]
        rxs[t] = ybar * y * np.sin(y) / 2
        ybar *= 1 + np.sin(y) * xs[t] / 2 + y * np.cos(y) * xs[t] / 2
    assert y0b[0] == pytest.approx(ybar, rel=1e-12)
    np.testing.assert_allclose(xsb, rxs, rtol=1e-12)
    assert not out.any()


def random_step_program(rng, n):
    """A random step on an n-vector: new[i] += old[i] + c * f(old[j]) * g(x[t])
    for each i (f, g among sin/cos/tanh/identity, j a random component, c a
    random coefficient) and a NumPy twin of it."""
    funcs = {"sin": np.sin, "cos": np.cos, "tanh": np.tanh}
    lines, terms = [], []
    for i in range(n):
        j = int(rng.integers(n))
        f = str(rng.choice(list(funcs)))
        c = float(rng.uniform(-0.9, 0.9))
        lines.append(f"""
  %i{i} = arith.constant {i} : index
  %j{i} = arith.constant {j} : index
  %y{i} = memref.load %old[%i{i}] : memref<?xf64>
  %z{i} = memref.load %old[%j{i}] : memref<?xf64>
  %f{i} = math.{f} %z{i} : f64
  %c{i} = arith.constant {c!r} : f64
  %p{i} = arith.mulf %f{i}, %c{i} : f64
  %q{i} = arith.mulf %p{i}, %x : f64
  %v{i} = arith.addf %y{i}, %q{i} : f64
  rev.add_at %new[%i{i}], %v{i} : memref<?xf64>""")
        terms.append((i, j, funcs[f], c))
    src = ("rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %xs: memref<?xf64>) -> index {\n"
           "  %x = memref.load %xs[%t] : memref<?xf64>" + "".join(lines) + "\n  rev.return %t : index\n}\n"
           "rev.func @run(%T: index, %a: memref<?xf64>, %b: memref<?xf64>, %xs: memref<?xf64>) -> index {\n"
           "  %c0 = arith.constant 0 : index\n"
           "  rev.steps @step %c0 to %T, %a into %b (%xs) : memref<?xf64>, memref<?xf64>\n"
           "  rev.return %T : index\n}\n")

    def forward(y0, xs):
        y = np.array(y0, dtype=float)
        for x in xs:
            y = np.array([y[i] + c * f(y[j]) * x for i, j, f, c in terms])
        return y
    return src, forward


@pytest.mark.parametrize("seed", range(6))
def test_random_steps_same_gradient_at_every_budget(seed):
    """Random step programs: the gradient with one snapshot, a few, and all
    of them is bitwise the same, and agrees with central finite differences of
    a NumPy twin (1e-6 relative)."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 4))
    src, fwd = random_step_program(rng, n)
    T = int(rng.integers(1, 40))
    y0 = rng.uniform(-1, 1, n)
    xs = rng.uniform(-0.7, 0.7, T)
    w = rng.uniform(-1, 1, n)
    grads = []
    for c in (1, 3, T):
        p = Program(src, grad=["run"], memory_budget=8 * n * c)
        y0b, xsb = np.zeros(n), np.zeros(T)
        p.call("run_grad", T, y0.copy(), np.zeros(n), xs, y0b, w.copy(), xsb)
        grads.append((y0b, xsb))
    for g in grads[1:]:
        assert np.array_equal(g[0], grads[0][0]) and np.array_equal(g[1], grads[0][1])
    h = 1e-6
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        fd = (w @ fwd(y0 + e, xs) - w @ fwd(y0 - e, xs)) / (2 * h)
        assert abs(grads[0][0][i] - fd) <= 1e-6 * max(1.0, abs(fd)), (i, grads[0][0][i], fd)
    for t in {0, T // 2, T - 1}:
        e = np.zeros(T)
        e[t] = h
        fd = (w @ fwd(y0, xs + e) - w @ fwd(y0, xs - e)) / (2 * h)
        assert abs(grads[0][1][t] - fd) <= 1e-6 * max(1.0, abs(fd)), (t, grads[0][1][t], fd)


# ---------------------------------------------------------------------------
# schedule = "bennett": the reversed Bennett pebble game (docs/memory.md).

def bennett_src(src, levels=None, anchor="(%k, %xs) : memref"):
    attrs = 'schedule = "bennett"' + ("" if levels is None else f", levels = {levels}")
    return src.replace(anchor, anchor.replace(") : memref", ") {%s} : memref" % attrs))


def chunk_count(T, k):
    """b = ceil(T^(1/k)), exactly: the least b >= 1 with b^k >= T."""
    b = 1
    while b ** k < T:
        b += 1
    return b


def bennett_reference(T, k):
    """The pebble game played by recursion (an independent model of the
    lowering's explicit-stack loop): the gradient program GRAD(0, T) and the
    forward program FWD(0, T). Returns the counts of compute and uncompute
    moves, the order of the step adjoints, the most pebbles held (x_T
    counting as one, the input x_0 not), and the forward program's move
    count."""
    b = chunk_count(max(T, 1), k)
    st = {"c": 0, "u": 0, "held": 1 if T else 0, "peak": 1 if T else 0, "adj": []}

    def chunks(s, n):
        bp = min(b, n)
        q, r = divmod(n, bp)
        sizes = [q] * (bp - r) + [q + 1] * r          # the longer chunks last
        starts = [s + sum(sizes[:i]) for i in range(bp)]
        return list(zip(starts, sizes))

    def compute(t):
        st["c"] += 1
        st["held"] += 1
        st["peak"] = max(st["peak"], st["held"])

    def uncompute(t, adjoint):
        st["u"] += 1
        st["held"] -= 1
        if adjoint:
            st["adj"].append(t)

    def fwd(s, n):
        if n == 1:
            return compute(s)
        cs = chunks(s, n)
        for c in cs:
            fwd(*c)
        for c in reversed(cs[:-1]):
            rev(*c, False)

    def rev(s, n, adjoint):
        if n == 1:
            return uncompute(s, adjoint)
        cs = chunks(s, n)
        for c in cs[:-1]:
            fwd(*c)
        for c in reversed(cs):
            rev(*c, adjoint)

    if T:
        rev(0, T, True)
    grad = dict(st)
    st.update(c=0, u=0, held=0, peak=0)
    if T:
        fwd(0, T)
    return grad, st["c"] + st["u"], b


@pytest.mark.parametrize("levels", [1, 2, 3, 4])
def test_bennett_gradient_matches_revolve_and_reference(levels):
    """The same gradient as revolve's (bitwise: every step adjoint sees the
    same states) and as the store-all reverse sweep (1e-12 relative), on the
    vector state; `out` is uncomputed."""
    T = 60
    k, y0, xs = inputs(T, seed=7)
    ybar = np.array([0.3, -1.1, 0.7])
    got = gradient(Program(bennett_src(SRC, levels), grad=["run"]), T, k, y0, xs, ybar)
    ref = gradient(program(48), T, k, y0, xs, ybar)
    for a, b in zip(got[:3], ref[:3]):
        assert np.array_equal(a, b)
    ry0, rk, rxs = reverse_reference(T, k, y0, xs, ybar)
    np.testing.assert_allclose(got[0], ry0, rtol=1e-12)
    np.testing.assert_allclose(got[1], rk, rtol=1e-12)
    np.testing.assert_allclose(got[2], rxs, rtol=1e-12, atol=1e-15)
    assert not got[3].any()


@pytest.mark.parametrize("levels", [1, 2, 3, 4])
def test_bennett_example_matches_finite_differences(levels):
    """examples/steps.mlir (scalar state) with schedule = "bennett": the
    gradient against central differences of a NumPy twin (1e-7 relative)."""
    from pathlib import Path
    src = (Path(__file__).parents[2] / "examples" / "steps.mlir").read_text()
    src = bennett_src(src, levels, anchor="(%xs) : memref")
    assert 'schedule = "bennett"' in src
    p = Program(src, grad=["recurrence"])
    T = 37
    xs = np.random.default_rng(levels).uniform(-0.9, 0.9, T)

    def objective(y0, xs_):
        y = y0
        for x in xs_:
            y = y + np.sin(y) * x
        return y

    y0b, xsb, out = np.zeros(1), np.zeros(T), np.zeros(1)
    p.call("recurrence_grad", T, np.array([0.7]), out, xs, y0b, np.ones(1), xsb)
    h = 1e-6
    fd = (objective(0.7 + h, xs) - objective(0.7 - h, xs)) / (2 * h)
    assert abs(y0b[0] - fd) <= 1e-7 * max(1, abs(fd))
    for t in range(T):
        e = np.zeros(T)
        e[t] = h
        fd = (objective(0.7, xs + e) - objective(0.7, xs - e)) / (2 * h)
        assert abs(xsb[t] - fd) <= 1e-7 * max(1, abs(fd)), t
    assert p.steps_counts()["levels"] == levels


def test_bennett_reference_closed_forms():
    """The reference itself against the theory where T = b^k: (2b-1)^k moves
    for the forward program and for the gradient (its reverse: compute and
    uncompute counts swap, so ((2b-1)^k -/+ 1) / 2), k (b-1) + 1 pebbles."""
    for k in range(1, 5):
        for b in range(1, 7):
            T = b ** k
            grad, fwd_moves, bb = bennett_reference(T, k)
            assert bb == b
            assert fwd_moves == (2 * b - 1) ** k
            assert grad["c"] + grad["u"] == (2 * b - 1) ** k
            assert grad["c"] == ((2 * b - 1) ** k - 1) // 2 and grad["u"] == ((2 * b - 1) ** k + 1) // 2
            assert grad["peak"] == k * (b - 1) + 1
            assert grad["adj"] == list(reversed(range(T)))


@pytest.mark.parametrize("levels", [1, 2, 3, 4])
def test_bennett_counts_match_the_game(levels):
    """For every T in 1..40: the compiled schedule's compute and uncompute
    moves and its peak pebble count equal the recursive reference's, every
    step is reversed once (the step adjoints are uncomputes), the peak is at
    most k (b-1) + 1, and where T = b^k the moves are (2b-1)^k."""
    p = Program(bennett_src(SRC, levels), grad=["run"])
    for T in range(1, 41):
        k, y0, xs = inputs(T, seed=T)
        p.steps_counts(reset=True)
        gradient(p, T, k, y0, xs, np.ones(3))
        got = p.steps_counts()
        grad, _, b = bennett_reference(T, levels)
        assert got["levels"] == levels and got["runs"] == 1 and got["step_adjoints"] == T
        assert got["advances"] == 0 and got["snapshots"] == 0
        assert (got["compute_moves"], got["uncompute_moves"], got["pebbles"]) == \
            (grad["c"], grad["u"], grad["peak"]), (T, levels)
        assert got["pebbles"] <= levels * (b - 1) + 1
        if b ** levels == T:
            assert got["compute_moves"] + got["uncompute_moves"] == (2 * b - 1) ** levels


def budget_levels(T, avail):
    """docs/memory.md's rule: the least k <= 8 with k (b-1) + 1 <= avail
    states, else the k <= 8 with the fewest states (the least such k)."""
    pebbles = {k: k * (chunk_count(T, k) - 1) + 1 for k in range(1, 9)}
    fits = [k for k in pebbles if pebbles[k] <= avail]
    return fits[0] if fits else min(pebbles, key=lambda k: (pebbles[k], k))


@pytest.mark.parametrize("budget", [0, 24 * 3, 24 * 8, 24 * 20, 24 * 100, None])
def test_bennett_levels_from_the_budget(budget):
    """Without `levels` the budget picks k (budget in bytes of 24-byte states;
    None: the default, k = 2); the gradient is the same at every k."""
    p = Program(bennett_src(SRC), grad=["run"], memory_budget=budget)
    T = 50
    k, y0, xs = inputs(T, seed=13)
    ybar = np.array([0.5, 0.25, -1.0])
    got = gradient(p, T, k, y0, xs, ybar)
    counts = p.steps_counts()
    want = 2 if budget is None else budget_levels(T, budget // 24)
    assert counts["levels"] == want
    b = chunk_count(T, want)
    assert counts["pebbles"] <= want * (b - 1) + 1
    if budget is not None and budget // 24 < 7:
        # nothing fits: the fewest states, k = 6 (b = 2: 7 states; k = 7 and
        # 8 have b = 2 too, but more levels)
        assert want == 6 and counts["pebbles"] == 7
    elif budget is not None:
        assert want * (b - 1) + 1 <= budget // 24
    ref = gradient(program(), T, k, y0, xs, ybar)
    for a, r in zip(got[:3], ref[:3]):
        assert np.array_equal(a, r)


def test_bennett_checked_mode():
    """checks=True with a deterministic step: the same gradient, every
    uncomputed pebble checked (and found zero)."""
    T = 40
    k, y0, xs = inputs(T, seed=9)
    ybar = np.array([0.3, 0.2, -0.1])
    p = Program(bennett_src(SRC, 3), grad=["run"], checks=True)
    got = gradient(p, T, k, y0, xs, ybar)[:3]
    ref = reverse_reference(T, k, y0, xs, ybar)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert p.steps_counts()["uncompute_moves"] > T


# A step that is not deterministic: it reads a global counter that it bumps
# (an integer, so no derivative flows through it) and adds 1e-3 * counter to
# the new state, so a state recomputed later differs from the stored one.
SRC_TICK = """
memref.global "private" @tick : memref<1xi64> = dense<0>
rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %xs: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %g = memref.get_global @tick : memref<1xi64>
  %n = memref.load %g[%c0] : memref<1xi64>
  %nf = arith.sitofp %n : i64 to f64
  %eps = arith.constant 1.0e-3 : f64
  %e = arith.mulf %nf, %eps : f64
  %y = memref.load %old[%c0] : memref<?xf64>
  %x = memref.load %xs[%t] : memref<?xf64>
  %s = math.sin %y : f64
  %d = arith.mulf %s, %x : f64
  %v0 = arith.addf %y, %d : f64
  %v = arith.addf %v0, %e : f64
  rev.add_at %new[%c0], %v : memref<?xf64>
  %one = arith.constant 1 : i64
  rev.add_at %g[%c0], %one : memref<1xi64>
  rev.return %t : index
}
rev.func @run(%T: index, %y0: memref<?xf64>, %yT: memref<?xf64>, %xs: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %y0 into %yT (%xs) ATTR : memref<?xf64>, memref<?xf64>
  rev.return %T : index
}
"""


@pytest.mark.parametrize("attr, message", [
    ('{schedule = "bennett", levels = 2}', "an uncomputed pebble is not zero"),
    ("{snapshots = 2}", "a recomputed state differs from the same state reached through the snapshots"),
])
def test_checked_mode_catches_a_nondeterministic_step(attr, message):
    """Unchecked, a step that gives another result each time leaves `out`
    wrong after the gradient's uncompute; checks=True stops the gradient with
    a located RevError (Bennett: an uncomputed pebble is not zero; revolve:
    a recomputed state differs), arrays restored."""
    src = SRC_TICK.replace("ATTR", attr)
    T = 9
    xs = np.full(T, 0.1)
    out = np.zeros(1)
    Program(src, grad=["run"]).call("run_grad", T, np.array([0.6]), out, xs, np.zeros(1),
                                    np.ones(1), np.zeros(T))
    assert abs(out[0]) > 1e-3           # x_T recomputed != x_T added by the forward
    p = Program(src, grad=["run"], checks=True)
    out, y0b = np.zeros(1), np.zeros(1)
    with pytest.raises(RevError, match=message + r".*\(rev.steps at loc"):
        p.call("run_grad", T, np.array([0.6]), out, xs, y0b, np.ones(1), np.zeros(T))
    assert not out.any() and not y0b.any()
