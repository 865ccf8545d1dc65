"""Loop budgets for nested loops (docs/memory.md, "Nested loops"): a rev.for
directly in the body of a marked rev.for is marked too, and its tapes hold one
value per iteration of the whole nest (flat position = parent position x own
trip count + own position), sized before the top-level loop, so the inner
loops' bounds must be known there.

Every budget must give the gradient of budget 0 (pure reverse computing):
1e-10 relative on the nested coupled recurrence and 1e-9 on random nests, and
the gradients agree with central finite differences (1e-6 relative). What is
stored comes from the pass's remarks."""
import os
import re
import subprocess

import numpy as np
import pytest

from mlir_rev.jit import Program

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REV_OPT = os.path.join(ROOT, "build", "bin", "rev-opt")


def remark(src, options):
    r = subprocess.run([REV_OPT, f"--rev-ad={options}", "--rev-expand-uncalls",
                        "--rev-expand-routines", "--lower-rev", "--canonicalize",
                        "--cse", "--rev-tape-loops=remarks=1", "-o", os.devnull],
                       input=src, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stderr


def assert_central_differences(L, args, which, bar, indices=None, h=1e-6):
    """bar[i] against the central difference of L(*args) in args[which][i]
    (an array), for each i in `indices`; without indices, bar against the one
    in the scalar args[which]: within 1e-6 x max(1, |fd|)."""
    for i in ([None] if indices is None else indices):
        e = h
        if i is not None:
            e = np.zeros_like(args[which])
            e[i] = h
        plus, minus = list(args), list(args)
        plus[which], minus[which] = args[which] + e, args[which] - e
        fd = (L(*plus) - L(*minus)) / (2 * h)
        b = bar if i is None else bar[i]
        assert abs(b - fd) <= 1e-6 * max(1.0, abs(fd)), (which, i, b, fd)


def stored_bytes(src, budget):
    """{depth: [bytes per iteration of each loop that stores]}: the remark
    lists the loops innermost first, "B (depth d)" for a nested one."""
    m = re.search(r"stores (.*) bytes per iteration", remark(src, f"loop-budget={budget}"))
    out = {}
    for part in ([] if m is None else m.group(1).split(", ")):
        d = re.search(r"\(depth ([0-9]+)\)", part)
        out.setdefault(int(d.group(1)) if d else 0, []).append(int(part.split()[0]))
    return out


# The coupled recurrence run K = len(W) times per element of X, with an
# update of the outer level before and after the inner loop:
#   a += 0.1 tanh(b) x;  K times { a += sin(b) x w[k]; b += cos(a) x };  b += 0.1 sin(a)
NESTED = open(os.path.join(ROOT, "examples", "coupled_nested.mlir")).read()


def nested_grad(p, X, W, y=0.3, z=-0.2):
    xb, wb = np.zeros_like(X), np.zeros_like(W)
    r = p.call(p.gradient_names["nested"], y, z, X, W, 1.0, 0.5, xb, wb)
    return np.array(r), xb, wb


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    return rng.uniform(-0.4, 0.4, 30), rng.uniform(-1, 1, 7)


def test_the_inner_loop_stores():
    # The inner loop: the sine and cosine of both states (32 B per inner
    # iteration); the outer loop: sin(a) and cos(a) of its last update.
    out = remark(NESTED, "loop-budget=32")
    assert "@nested_grad stores 32 (depth 1), 16 bytes per iteration (budget 32) in 2 loop(s)" \
        in out, out
    assert stored_bytes(NESTED, 8) == {1: [8]}
    assert stored_bytes(NESTED, 4096) == {1: [32], 0: [16]}
    assert "stores" not in remark(NESTED, "loop-budget=0")
    assert "stores" not in remark(NESTED, "memory-budget=0")


@pytest.mark.parametrize("kw", [dict(loop_budget=8), dict(loop_budget=16), dict(loop_budget=32),
                                dict(loop_budget=4096), dict(memory_budget=30 * 7 * 32 + 30 * 64),
                                dict(memory_budget=30 * 7 * 8), dict(memory_budget=100),
                                dict(loop_budget=4096, checks=True)])
def test_every_budget_gives_the_same_gradient(data, kw):
    X, W = data
    ref = nested_grad(Program(NESTED, grad=["nested"]), X, W)
    got = nested_grad(Program(NESTED, grad=["nested"], **kw), X, W)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=str(kw))


def test_gradient_matches_finite_differences(data):
    X, W = data
    p = Program(NESTED, grad=["nested"], loop_budget=4096)
    r, xb, wb = nested_grad(p, X, W)

    def L(y, z, X_, W_):
        o = p.call("nested", y, z, X_, W_)
        return o[0] + 0.5 * o[1]
    h = 1e-6
    fd = [(L(0.3 + h, -0.2, X, W) - L(0.3 - h, -0.2, X, W)) / (2 * h),
          (L(0.3, -0.2 + h, X, W) - L(0.3, -0.2 - h, X, W)) / (2 * h)]
    np.testing.assert_allclose(r[2:4], fd, rtol=1e-6)
    assert_central_differences(L, (0.3, -0.2, X, W), 2, xb, (0, 13, 29))
    assert_central_differences(L, (0.3, -0.2, X, W), 3, wb, (0, 3, 6))


def test_memory_budget_chooses_the_inner_plan_at_run_time():
    # The inner loop draws first (32, 24, 16 or 8 B per inner iteration, for
    # n x K iterations), the outer loop's plans (16 or 8 B) get what is left.
    # n = 20: both largest plans fit, bit for bit what loop_budget=32 gives;
    # n = 21 and 80: the inner loop stores (32 B, then 8 B), the outer loop
    # does not; n = 1000: nothing fits, bit for bit budget 0's. Amplitude
    # 0.5, so stored and recomputed values differ in the last bits.
    budget = (32 * 7 + 16) * 20
    src = NESTED
    p0 = Program(src, grad=["nested"])
    pm = Program(src, grad=["nested"], memory_budget=budget)
    for n, stores in ((20, True), (21, "less"), (80, "less"), (1000, False)):
        rng = np.random.default_rng(n)
        X, W = rng.uniform(-0.5, 0.5, n), rng.uniform(-1, 1, 7)
        r0 = nested_grad(p0, X, W)
        rm = nested_grad(pm, X, W)
        # (7000 inner steps at n = 1000: reverse computing itself drifts by
        # ~1e-8 relative there)
        for a, b in zip(rm, r0):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)
        same0 = all(np.array_equal(a, b) for a, b in zip(rm, r0))
        assert same0 == (stores is False), n
        if stores is True:
            r32 = nested_grad(Program(src, grad=["nested"], loop_budget=32), X, W)
            assert all(np.array_equal(a, b) for a, b in zip(rm, r32)), n


# A triangular nest (the inner bound depends on the outer index): the
# inner loop's tape holds sum over t of min(t + 1, K) values, its flat
# position is bases[t] + k (bases: the running sum, counted before the nest).
TRIANGLE = NESTED.replace("%K = memref.dim %W, %c0 : memref<?xf64>\n", "").replace(
    "%x = memref.load %X[%t] : memref<?xf64>",
    "%x = memref.load %X[%t] : memref<?xf64>\n    %K0 = memref.dim %W, %c0 : memref<?xf64>\n"
    "    %t1 = arith.addi %t, %c1 : index\n    %K = arith.minui %t1, %K0 : index")


def test_triangular_nest():
    assert stored_bytes(TRIANGLE, 32) == {1: [32], 0: [16]}
    rng = np.random.default_rng(2)
    X, W = rng.uniform(-0.4, 0.4, 12), rng.uniform(-1, 1, 5)
    ref = nested_grad(Program(TRIANGLE, grad=["nested"]), X, W)
    # tapes: 1 + 2 + 3 + 4 + 5 x 8 = 50 inner iterations x 32 B, 12 x 16 B
    for kw in (dict(loop_budget=32), dict(loop_budget=8), dict(memory_budget=50 * 32 + 12 * 16),
               dict(memory_budget=50 * 32 - 1), dict(memory_budget=50 * 8),
               dict(loop_budget=32, checks=True)):
        got = nested_grad(Program(TRIANGLE, grad=["nested"], **kw), X, W)
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=str(kw))
    p = Program(TRIANGLE, grad=["nested"], loop_budget=32)
    r, xb, wb = nested_grad(p, X, W)

    def L(y, z, X_, W_):
        o = p.call("nested", y, z, X_, W_)
        return o[0] + 0.5 * o[1]
    assert_central_differences(L, (0.3, -0.2, X, W), 2, xb, (0, 5, 11))
    assert_central_differences(L, (0.3, -0.2, X, W), 3, wb, (0, 2, 4))


def test_triangular_nest_memory_budget_fits_the_sum():
    # memory_budget = exactly the tapes of the triangle (sum of the inner
    # trip counts x 32 B, + 16 B per outer iteration): bit for bit what
    # loop_budget=32 gives; one byte less: the inner loop falls back to a
    # smaller plan, and the gradient still agrees.
    rng = np.random.default_rng(3)
    X, W = rng.uniform(-0.4, 0.4, 12), rng.uniform(-1, 1, 5)
    full = nested_grad(Program(TRIANGLE, grad=["nested"], loop_budget=32), X, W)
    fits = nested_grad(Program(TRIANGLE, grad=["nested"], memory_budget=50 * 32 + 12 * 16), X, W)
    assert all(np.array_equal(a, b) for a, b in zip(full, fits))


# -- random nests ----------------------------------------------------------------------
NV = 3


def emit_ops(rng, cur, factors, nops, tag, indent, write=None):
    """Random reversible updates of the variables `cur` (names, in place),
    with factors from `factors` (names of f64 values): y op= f(others, x),
    swaps, rotations, and writes `rev.add_at write` if given."""
    lines = []
    for n in range(nops):
        t = int(rng.integers(NV))
        others = [j for j in range(NV) if j != t]
        kinds = ["add", "sub", "mul", "div", "swap", "rot"] + (["write"] if write else [])
        kind = rng.choice(kinds)
        a, b = (int(x) for x in rng.choice(others, 2))
        x = factors[int(rng.integers(len(factors)))]
        c = float(rng.uniform(-0.1, 0.1))
        v = f"%{tag}{n}"
        if kind == "swap":
            lines.append(f"{v}:2 = rev.swap {cur[t]}, {cur[a]} : f64")
            cur[t], cur[a] = f"{v}#0", f"{v}#1"
            continue
        if kind == "rot":
            b = int(rng.choice([j for j in others if j != a]))
            # a small angle: larger ones make the nest chaotic
            lines.append(f"{v}sn = math.sin {cur[b]} : f64")
            lines.append(f"{v}k = arith.constant {c!r} : f64")
            lines.append(f"{v}th = arith.mulf {v}sn, {v}k : f64")
            lines.append(f"{v}:2 = rev.rot {cur[t]}, {cur[a]}, {v}th : f64")
            cur[t], cur[a] = f"{v}#0", f"{v}#1"
            continue
        lines.append(f"{v}k = arith.constant {c!r} : f64")
        if kind in ("mul", "div"):
            lines.append(f"{v}s = math.sin {cur[a]} : f64")
            lines.append(f"{v}q = arith.mulf {v}s, {x} : f64")
            lines.append(f"{v}p = arith.mulf {v}q, {v}k : f64")
            lines.append(f"{v}o = arith.constant 1.0 : f64")
            lines.append(f"{v}d = arith.addf {v}p, {v}o : f64")
        else:
            lines.append(f"{v}s = math.tanh {cur[a]} : f64")
            lines.append(f"{v}e = math.cos {cur[b]} : f64")
            lines.append(f"{v}p = arith.mulf {v}s, {v}e : f64")
            lines.append(f"{v}q = arith.mulf {v}p, {x} : f64")
            lines.append(f"{v}d = arith.mulf {v}q, {v}k : f64")
        if kind == "write":
            lines.append(f"rev.add_at {write}, {v}d : memref<?xf64>")
            continue
        lines.append(f"{v}n = rev.{kind} {cur[t]}, {v}d : f64")
        cur[t] = f"{v}n"
    return [" " * indent + ln for ln in lines]


def random_nest(rng, name, depth, triangular=False):
    """rev.for over X (state: NV floats) with random updates before and after
    a nested rev.for over W (the same state), `depth` levels deep; the
    innermost level reads x = X[t], w = W[k] and writes Y[t]. Triangular:
    the second level runs k < min(t, K) (none at t = 0)."""
    f64s = ", ".join(["f64"] * NV)
    lines = [f"rev.func @{name}(" + ", ".join(f"%v{i}: f64" for i in range(NV)) +
             f", %X: memref<?xf64>, %W: memref<?xf64>, %Y: memref<?xf64>) -> ({f64s}) {{",
             "  %c0 = arith.constant 0 : index", "  %c1 = arith.constant 1 : index",
             "  %c3 = arith.constant 3 : index",
             "  %n = memref.dim %X, %c0 : memref<?xf64>",
             "  %K = memref.dim %W, %c0 : memref<?xf64>"]
    cur = [f"%v{i}" for i in range(NV)]

    def level(d, indent, factors):
        nonlocal cur
        iv = ["%t", "%k", "%j"][d]
        ub = ["%n", "%K", "%c3"][d]
        if d == 1 and triangular:
            lines.append(" " * indent + "%Kt = arith.minui %t, %K : index")
            ub = "%Kt"
        args = [f"%l{d}a{i}" for i in range(NV)]
        lines.append(" " * indent + f"%l{d}:{NV} = rev.for {iv} = %c0 to {ub} step %c1 iter_args(" +
                     ", ".join(f"{a} = {c}" for a, c in zip(args, cur)) + f") -> ({f64s}) {{")
        cur = list(args)
        ind = indent + 2
        if d == 0:
            lines.append(" " * ind + "%x = memref.load %X[%t] : memref<?xf64>")
            factors = factors + ["%x"]
        elif d == 1:
            lines.append(" " * ind + "%w = memref.load %W[%k] : memref<?xf64>")
            lines.append(" " * ind + "%xw = arith.mulf %x, %w : f64")
            factors = factors + ["%w", "%xw"]
        lines.extend(emit_ops(rng, cur, factors, int(rng.integers(1, 4)), f"b{d}_", ind,
                              write="%Y[%t]"))
        if d + 1 < depth:
            level(d + 1, ind, factors)
            lines.extend(emit_ops(rng, cur, factors, int(rng.integers(1, 3)), f"a{d}_", ind,
                                  write="%Y[%t]"))
        lines.append(" " * ind + "rev.yield " + ", ".join(cur) + f" : {f64s}")
        lines.append(" " * indent + "}")
        cur = [f"%l{d}#{i}" for i in range(NV)]

    level(0, 2, [])
    lines.append("  rev.return " + ", ".join(cur) + f" : {f64s}")
    lines.append("}")
    return "\n".join(lines)


NRANDOM = 10


@pytest.fixture(scope="module")
def random_sources():
    rng = np.random.default_rng(20261202)
    return [random_nest(rng, f"N{k}", 2 + k % 2) for k in range(NRANDOM)]


@pytest.fixture(scope="module")
def random_programs(random_sources):
    src = "\n".join(random_sources)
    names = [f"N{k}" for k in range(NRANDOM)]
    kws = {"0": {}, "8": dict(loop_budget=8), "4096": dict(loop_budget=4096),
           "total": dict(memory_budget=6000)}
    return {k: Program(src, grad=names, **kw) for k, kw in kws.items()}


def run_nest_grad(p, k, v, X, W, Y, vbar, Ybar):
    Xb, Wb, Yb = np.zeros_like(X), np.zeros_like(W), Ybar.copy()
    r = p.call(p.gradient_names[f"N{k}"], *v, X.copy(), W.copy(), Y.copy(), *vbar, Xb, Wb, Yb)
    return np.array(r), Xb, Wb, Yb


def nest_args(seed, n=7, K=3):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, NV), rng.uniform(-1, 1, n), rng.uniform(-1, 1, K),
            rng.uniform(-1, 1, n), rng.uniform(-1, 1, NV), rng.uniform(-1, 1, n))


@pytest.mark.parametrize("k", range(NRANDOM))
def test_random_nests_same_gradient_at_every_budget(random_programs, k):
    args = nest_args(300 + k)
    ref = run_nest_grad(random_programs["0"], k, *args)
    scale = max(1.0, *(np.abs(a).max() for a in ref))
    for b, p in random_programs.items():
        got = run_nest_grad(p, k, *args)
        for name, g, r in zip(("scalars", "Xbar", "Wbar", "Ybar"), got, ref):
            np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9 * scale,
                                       err_msg=f"N{k}, budget {b}, {name}")


@pytest.mark.parametrize("k", range(0, NRANDOM, 3))
def test_random_nest_gradient_matches_finite_differences(random_programs, k):
    v, X, W, Y, vbar, _ = nest_args(400 + k, n=6, K=3)
    p = random_programs["4096"]
    r, Xb, Wb, _ = run_nest_grad(p, k, v, X, W, Y, vbar, np.zeros_like(Y))

    def f(v_, X_, W_):
        return float(np.dot(vbar, p.call(f"N{k}", *v_, X_.copy(), W_.copy(), Y.copy())))
    assert_central_differences(f, (v, X, W), 0, r[NV:2 * NV], range(NV))
    assert_central_differences(f, (v, X, W), 2, Wb, range(len(W)))


def test_random_nests_store_in_inner_loops(random_sources):
    # The property tests above must exercise the nested path: inner loops
    # store, at depth 1 and (in the three-level nests) at depth 2.
    depths = [stored_bytes(s, 4096) for s in random_sources]
    assert sum(1 for d in depths if 1 in d) >= NRANDOM // 2, depths
    assert any(2 in d for d in depths), depths


def test_checked_mode_passes_the_random_nests(random_sources):
    src = "\n".join(random_sources)
    names = [f"N{k}" for k in range(NRANDOM)]
    p = Program(src, grad=names, loop_budget=4096, checks=True)
    p0 = Program(src, grad=names)
    for k in range(NRANDOM):
        args = nest_args(500 + k)
        for a, b in zip(run_nest_grad(p, k, *args), run_nest_grad(p0, k, *args)):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


# Random triangular nests: the second level runs k < min(t, K), a third level
# (rectangular) inside it in the three-level ones; the same checks.
NTRI = 6


@pytest.fixture(scope="module")
def triangular_sources():
    rng = np.random.default_rng(20261203)
    return [random_nest(rng, f"N{k}", 2 + k % 2, triangular=True) for k in range(NTRI)]


@pytest.fixture(scope="module")
def triangular_programs(triangular_sources):
    src = "\n".join(triangular_sources)
    names = [f"N{k}" for k in range(NTRI)]
    kws = {"0": {}, "8": dict(loop_budget=8), "4096": dict(loop_budget=4096),
           "total": dict(memory_budget=3000), "checks": dict(loop_budget=4096, checks=True)}
    return {k: Program(src, grad=names, **kw) for k, kw in kws.items()}


@pytest.mark.parametrize("k", range(NTRI))
def test_random_triangular_nests_same_gradient_at_every_budget(triangular_programs, k):
    args = nest_args(600 + k)
    ref = run_nest_grad(triangular_programs["0"], k, *args)
    scale = max(1.0, *(np.abs(a).max() for a in ref))
    for b, p in triangular_programs.items():
        got = run_nest_grad(p, k, *args)
        for name, g, r in zip(("scalars", "Xbar", "Wbar", "Ybar"), got, ref):
            np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9 * scale,
                                       err_msg=f"triangular N{k}, budget {b}, {name}")


@pytest.mark.parametrize("k", (0, 3))
def test_random_triangular_nest_gradient_matches_finite_differences(triangular_programs, k):
    v, X, W, Y, vbar, _ = nest_args(700 + k, n=6, K=3)
    p = triangular_programs["4096"]
    r, Xb, Wb, _ = run_nest_grad(p, k, v, X, W, Y, vbar, np.zeros_like(Y))

    def f(v_, X_, W_):
        return float(np.dot(vbar, p.call(f"N{k}", *v_, X_.copy(), W_.copy(), Y.copy())))
    assert_central_differences(f, (v, X, W), 0, r[NV:2 * NV], range(NV))
    assert_central_differences(f, (v, X, W), 1, Xb, range(len(X)))
    assert_central_differences(f, (v, X, W), 2, Wb, range(len(W)))


def test_random_triangular_nests_store_in_inner_loops(triangular_sources):
    depths = [stored_bytes(s, 4096) for s in triangular_sources]
    assert sum(1 for d in depths if 1 in d) >= NTRI // 2, depths
    assert any(2 in d for d in depths), depths


# -- backward loops in the forward's order ---------------------------------------------
# Iterations that touch only their own elements are swept back in the
# forward's order (docs/ad.md); their tapes are read at the same position.
# Z[i] += sin(exp(X[i])), then W[i] += sin(Z[i]): the first loop's backward
# needs exp(X[i]) and the sine and cosine of it (24 B), not recomputed; the
# second one the sine and cosine of Z[i] (16 B: it does not write Z, so its
# backward body reads Z as the forward left it, test_loop_budget_arrays.py).
# (The second loop ends the function; fuse_sweeps=False keeps it a forward
# and a backward loop.)
IN_ORDER = """
rev.func @two(%X: memref<?xf64>, %Z: memref<?xf64>, %W: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %e = math.exp %x : f64
    %s = math.sin %e : f64
    rev.add_at %Z[%i], %s : memref<?xf64>
    rev.yield
  }
  rev.for %i = %c0 to %n step %c1 {
    %z = memref.load %Z[%i] : memref<?xf64>
    %s = math.sin %z : f64
    rev.add_at %W[%i], %s : memref<?xf64>
    rev.yield
  }
  rev.return
}
"""


def test_backward_loops_in_forward_order_store_too():
    out = remark(IN_ORDER, "loop-budget=64 fuse-sweeps=0")
    assert "@two_grad stores 24, 16 bytes per iteration (budget 64) in 2 loop(s)" in out, out
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, 50)

    def grad(p):
        Z, W = rng.uniform(-1, 1, 50), np.zeros(50)
        Zc, Wc = Z.copy(), W.copy()
        Xb, Zb, Wb = np.zeros(50), np.zeros(50), rng.uniform(-1, 1, 50)
        p.call(p.gradient_names["two"], X, Zc, Wc, Xb, Zb, Wb.copy())
        # closed form: dL/dX = cos(Z + sin(e)) Wbar cos(e) e, e = exp(X)
        e = np.exp(X)
        ref = np.cos(Z + np.sin(e)) * Wb * np.cos(e) * e
        np.testing.assert_allclose(Xb, ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(Zc, Z, rtol=0, atol=1e-15)    # restored (up to rounding)
        return Xb

    for kw in (dict(), dict(loop_budget=64), dict(loop_budget=8), dict(memory_budget=50 * 24),
               dict(memory_budget=50 * 8 - 1), dict(loop_budget=64, checks=True)):
        grad(Program(IN_ORDER, grad=["two"], fuse_sweeps=False, **kw))


# -- loops in functions called inside a loop ------------------------------------------
# The gradient inlines calls inside marked loops too (the forward body's
# calls of @inner, the backward body's of @inner_bwd), so the callee's loop
# becomes a nested pair: two calls, two inner copies (the first forward copy
# pairs with the last backward one).
CALL_IN_LOOP = """
rev.func @inner(%a: f64, %b: f64, %X: memref<?xf64>, %t: index, %W: memref<?xf64>) -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = memref.load %X[%t] : memref<?xf64>
  %K = memref.dim %W, %c0 : memref<?xf64>
  %q:2 = rev.for %k = %c0 to %K step %c1 iter_args(%p = %a, %s = %b) -> (f64, f64) {
    %w = memref.load %W[%k] : memref<?xf64>
    %sn = math.sin %s : f64
    %d = arith.mulf %sn, %x : f64
    %d1 = arith.mulf %d, %w : f64
    %p1 = rev.add %p, %d1 : f64
    %c = math.cos %p1 : f64
    %e = arith.mulf %c, %x : f64
    %s1 = rev.add %s, %e : f64
    rev.yield %p1, %s1 : f64, f64
  }
  rev.return %q#0, %q#1, %t : f64, f64, index
}
rev.func @outer(%y: f64, %z: f64, %X: memref<?xf64>, %W: memref<?xf64>, %i0: index) -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:3 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z, %i = %i0) -> (f64, f64, index) {
    %u:3 = rev.call @inner(%a, %b, %X, %i, %W) : (f64, f64, memref<?xf64>, index, memref<?xf64>) -> (f64, f64, index)
    %v:3 = rev.call @inner(%u#1, %u#0, %X, %u#2, %W) : (f64, f64, memref<?xf64>, index, memref<?xf64>) -> (f64, f64, index)
    %i1 = rev.add %v#2, %c1 : index
    rev.yield %v#0, %v#1, %i1 : f64, f64, index
  }
  rev.return %r#0, %r#1, %r#2 : f64, f64, index
}
"""


def test_loops_of_functions_called_inside_a_loop_store_too():
    out = remark(CALL_IN_LOOP, "funcs=outer loop-budget=32")
    assert re.search(r"@outer_grad stores 32 \(depth 1\), 32 \(depth 1\)", out), out
    rng = np.random.default_rng(12)
    X, W = rng.uniform(-0.15, 0.15, 20), rng.uniform(-1, 1, 6)

    def grad(p):
        xb, wb = np.zeros_like(X), np.zeros_like(W)
        r = p.call(p.gradient_names["outer"], 0.3, -0.2, X, W, 0, 1.0, 0.5, xb, wb)
        return np.array(r[:2] + r[3:], dtype=float), xb, wb

    ref = grad(Program(CALL_IN_LOOP, grad=["outer"]))
    for kw in (dict(loop_budget=32), dict(loop_budget=8), dict(memory_budget=20 * 6 * 32 * 2),
               dict(memory_budget=20 * 6 * 40), dict(loop_budget=32, checks=True)):
        got = grad(Program(CALL_IN_LOOP, grad=["outer"], **kw))
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=str(kw))
    p = Program(CALL_IN_LOOP, grad=["outer"], loop_budget=32)
    r, xb, wb = grad(p)

    def L(X_, W_):
        o = p.call("outer", 0.3, -0.2, X_, W_, 0)
        return o[0] + 0.5 * o[1]
    assert_central_differences(L, (X, W), 0, xb, (0, len(X) - 1))
    assert_central_differences(L, (X, W), 1, wb, (0, len(W) - 1))


# -- review cases ----------------------------------------------------------------------
# Three levels, every backward loop in the forward's order: a parent must not
# store the tape position its children read at (it did: a load indexed by
# itself, invalid IR).
IN_ORDER_3 = """
// Three levels, every backward loop in the forward's order (each iteration
// touches only its own elements).
rev.func @f(%Z: memref<?x?x?xf64>, %Y: memref<?x?x?xf64>, %lo: index, %st: index) -> (index, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = memref.dim %Z, %c0 : memref<?x?x?xf64>
  %K = memref.dim %Z, %c1 : memref<?x?x?xf64>
  %J = memref.dim %Z, %c2 : memref<?x?x?xf64>
  rev.for %t = %lo to %n step %st {
    rev.for %k = %lo to %K step %st {
      rev.for %j = %lo to %J step %st {
        %ji = arith.index_cast %j : index to i64
        %jf = arith.sitofp %ji : i64 to f64
        %e = math.exp %jf : f64
        %s = math.sin %e : f64
        rev.add_at %Z[%t, %k, %j], %s : memref<?x?x?xf64>
        %z = memref.load %Z[%t, %k, %j] : memref<?x?x?xf64>
        %c = math.sin %z : f64
        rev.add_at %Y[%t, %k, %j], %c : memref<?x?x?xf64>
        rev.yield
      }
      rev.yield
    }
    rev.yield
  }
  rev.return %lo, %st : index, index
}
"""


def test_three_level_in_order_nest():
    out = remark(IN_ORDER_3, "loop-budget=64 fuse-sweeps=0")
    assert "@f_grad stores 8 (depth 2) bytes per iteration (budget 64) in 1 loop(s)" in out, out
    rng = np.random.default_rng(0)
    Z = rng.uniform(-1, 1, (3, 4, 5))

    def grad(p):
        Zc, Yc = Z.copy(), np.zeros((3, 4, 5))
        Zb, Yb = np.zeros_like(Z), np.ones_like(Z)
        p.call(p.gradient_names["f"], Zc, Yc, 0, 1, Zb, Yb)
        return Zc, Zb

    Z0, ref = grad(Program(IN_ORDER_3, grad=["f"], fuse_sweeps=False))
    # closed form: Z[t,k,j] += sin(exp(j)), then Y += sin(Z): Zbar = cos(Z + sin(exp(j)))
    np.testing.assert_allclose(ref, np.cos(Z + np.sin(np.exp(np.arange(5.0)))), rtol=1e-14)
    for kw in (dict(loop_budget=64), dict(loop_budget=8), dict(memory_budget=10**6),
               dict(loop_budget=64, checks=True)):
        Zc, got = grad(Program(IN_ORDER_3, grad=["f"], fuse_sweeps=False, **kw))
        np.testing.assert_allclose(got, ref, rtol=1e-14, err_msg=str(kw))
        np.testing.assert_allclose(Zc, Z, rtol=0, atol=1e-15)


# An inner bound K / n computed in the outer body, n the outer trip count:
# with n = 0 it is never evaluated, and must not be when the tapes are sized
# (a division is not hoisted; a zero step does not trap).
DIV_BOUND = """
// Inner bound K / n (n = the outer trip count) computed inside the outer body: with n = 0 outer
// iterations it is never evaluated, but --rev-tape-loops hoists it (and the
// inner trip count) before the top-level loop.
rev.func @nested(%y: f64, %z: f64, %X: memref<?xf64>, %K: index, %d: index) -> (f64, f64, index, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %Kd = arith.divui %K, %n : index
    %q:2 = rev.for %k = %c0 to %Kd step %c1 iter_args(%a0 = %a, %b0 = %b) -> (f64, f64) {
      %s = math.sin %b0 : f64
      %dd = arith.mulf %s, %x : f64
      %a1 = rev.add %a0, %dd : f64
      %c = math.cos %a1 : f64
      %e = arith.mulf %c, %x : f64
      %b1 = rev.add %b0, %e : f64
      rev.yield %a1, %b1 : f64, f64
    }
    rev.yield %q#0, %q#1 : f64, f64
  }
  rev.return %r#0, %r#1, %K, %d : f64, f64, index, index
}
"""


def test_inner_bound_that_may_trap_is_not_hoisted():
    assert 1 not in stored_bytes(DIV_BOUND, 32)
    X = np.random.default_rng(1).uniform(-0.3, 0.3, 4)
    for kw in (dict(), dict(loop_budget=32), dict(memory_budget=100000)):
        p = Program(DIV_BOUND, grad=["nested"], **kw)
        g = p.gradient_names["nested"]
        assert p.call(g, 0.3, -0.2, np.zeros(0), 5, 3, 1.0, 0.5, np.zeros(0)) == \
            (0.3, -0.2, 5, 3, 1.0, 0.5)
        r = p.call(g, 0.3, -0.2, X, 9, 3, 1.0, 0.5, np.zeros(4))
        r0 = Program(DIV_BOUND, grad=["nested"]).call(g, 0.3, -0.2, X, 9, 3, 1.0, 0.5, np.zeros(4))
        np.testing.assert_allclose(r, r0, rtol=1e-12)


# -- loops in the branches of a loop body ---------------------------------------------
# A loop in a rev.if inside a marked loop is marked too, and a call in such a
# branch is inlined: their tapes have a slot per outer iteration, used when
# the branch runs. Then branch: a loop; else branch: a call of @g (a loop);
# after the branch another call of @g.
IN_BRANCH = """
rev.func @g(%a: f64, %b: f64, %W: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = memref.load %W[%c0] : memref<?xf64>
  %K = memref.dim %W, %c0 : memref<?xf64>
  %q:2 = rev.for %k = %c0 to %K step %c1 iter_args(%p = %a, %s = %b) -> (f64, f64) {
    %w = memref.load %W[%k] : memref<?xf64>
    %sn = math.sin %s : f64
    %d = arith.mulf %sn, %x : f64
    %d1 = arith.mulf %d, %w : f64
    %p1 = rev.add %p, %d1 : f64
    %c = math.cos %p1 : f64
    %e = arith.mulf %c, %x : f64
    %s1 = rev.add %s, %e : f64
    rev.yield %p1, %s1 : f64, f64
  }
  rev.return %q#0, %q#1 : f64, f64
}
rev.func @f(%y: f64, %z: f64, %X: memref<?xf64>, %W: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %K = memref.dim %W, %c0 : memref<?xf64>
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %q:2 = rev.if %a, %b : f64, f64 pre {
    ^bb0(%u: f64, %v: f64):
      %zero = arith.constant 0.0 : f64
      %cmp = arith.cmpf ogt, %x, %zero : f64
      rev.cond %cmp
    } then {
    ^bb0(%u: f64, %v: f64):
      %l:2 = rev.for %k = %c0 to %K step %c1 iter_args(%p = %u, %s = %v) -> (f64, f64) {
        %w = memref.load %W[%k] : memref<?xf64>
        %sn = math.sin %s : f64
        %d = arith.mulf %sn, %x : f64
        %d1 = arith.mulf %d, %w : f64
        %p1 = rev.add %p, %d1 : f64
        %c = math.cos %p1 : f64
        %e = arith.mulf %c, %x : f64
        %s1 = rev.add %s, %e : f64
        rev.yield %p1, %s1 : f64, f64
      }
      rev.yield %l#0, %l#1 : f64, f64
    } else {
    ^bb0(%u: f64, %v: f64):
      %m:2 = rev.call @g(%u, %v, %W) : (f64, f64, memref<?xf64>) -> (f64, f64)
      rev.yield %m#0, %m#1 : f64, f64
    }
    %m2:2 = rev.call @g(%q#1, %q#0, %W) : (f64, f64, memref<?xf64>) -> (f64, f64)
    rev.yield %m2#0, %m2#1 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
"""


def test_loops_in_branches_of_a_loop_store_too():
    out = remark(IN_BRANCH, "funcs=f loop-budget=64")
    assert "@f_grad stores 32 (depth 1), 16 (depth 1), 32 (depth 1) bytes per iteration" in out, out
    rng = np.random.default_rng(1)
    # both branches taken; small enough that the nest is not chaotic (at
    # W in +-1 central differences need h = 1e-8 to reach the gradient)
    X, W = rng.uniform(-0.4, 0.4, 9), rng.uniform(-0.3, 0.3, 4)

    def grad(p):
        xb, wb = np.zeros_like(X), np.zeros_like(W)
        r = p.call(p.gradient_names["f"], 0.3, -0.2, X, W, 1.0, 0.5, xb, wb)
        return np.array(r), xb, wb

    ref = grad(Program(IN_BRANCH, grad=["f"]))
    for kw in (dict(loop_budget=64), dict(loop_budget=8), dict(memory_budget=9 * 4 * 16 + 7),
               dict(memory_budget=10**6), dict(loop_budget=64, checks=True),
               dict(loop_budget=64, fuse_sweeps=False)):
        got = grad(Program(IN_BRANCH, grad=["f"], **kw))
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=str(kw))
    p = Program(IN_BRANCH, grad=["f"], loop_budget=64)
    r, xb, wb = grad(p)

    def L(X_, W_):
        o = p.call("f", 0.3, -0.2, X_, W_)
        return o[0] + 0.5 * o[1]
    assert_central_differences(L, (X, W), 1, wb, (0, 3))
    # (where the branch condition x > 0 is not crossed)
    assert_central_differences(L, (X, W), 0, xb, [i for i in range(len(X)) if abs(X[i]) > 1e-3])


# A function called in both branches of a rev.if inside a loop (with other
# arrays, the states swapped in one): the copies of its loop pair within each
# branch (pairing across them read the other branch's tapes).
BRANCH_CALLS = """
rev.func @inner(%a: f64, %b: f64, %W: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %K = memref.dim %W, %c0 : memref<?xf64>
  %q:2 = rev.for %k = %c0 to %K step %c1 iter_args(%a0 = %a, %b0 = %b) -> (f64, f64) {
    %w = memref.load %W[%k] : memref<?xf64>
    %s = math.sin %b0 : f64
    %d1 = arith.mulf %s, %w : f64
    %a1 = rev.add %a0, %d1 : f64
    %c = math.cos %a1 : f64
    %e = arith.mulf %c, %w : f64
    %b1 = rev.add %b0, %e : f64
    rev.yield %a1, %b1 : f64, f64
  }
  rev.return %q#0, %q#1 : f64, f64
}
rev.func @outer(%y: f64, %z: f64, %X: memref<?xf64>, %W: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %g:2 = rev.if %a, %b : f64, f64 pre {
    ^bb0(%u0: f64, %v0: f64):
      %odd = arith.andi %t, %c1 : index
      %even = arith.cmpi eq, %odd, %c0 : index
      rev.cond %even
    } then {
    ^bb0(%u: f64, %v: f64):
      %q:2 = rev.call @inner(%u, %v, %W) : (f64, f64, memref<?xf64>) -> (f64, f64)
      rev.yield %q#0, %q#1 : f64, f64
    } else {
    ^bb0(%u: f64, %v: f64):
      %q:2 = rev.call @inner(%v, %u, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
      rev.yield %q#1, %q#0 : f64, f64
    }
    rev.yield %g#0, %g#1 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
"""


def test_a_function_called_in_both_branches_inside_a_loop():
    rng = np.random.default_rng(2)
    X, W = rng.uniform(-0.3, 0.3, 9), rng.uniform(-0.5, 0.5, 5)

    def grad(p):
        xb, wb = np.zeros_like(X), np.zeros_like(W)
        r = p.call(p.gradient_names["outer"], 0.3, -0.2, X.copy(), W.copy(), 1.0, 0.5, xb, wb)
        return np.concatenate([np.array(r), xb, wb])
    ref = grad(Program(BRANCH_CALLS, grad=["outer"]))
    assert "@outer_grad stores 16 (depth 1), 16 (depth 1) bytes per iteration" in \
        remark(BRANCH_CALLS, "funcs=outer loop-budget=16")
    for kw in (dict(loop_budget=16), dict(loop_budget=4096), dict(loop_budget=4096, checks=True),
               dict(loop_budget=4096, fuse_sweeps=False), dict(memory_budget=100000)):
        np.testing.assert_allclose(grad(Program(BRANCH_CALLS, grad=["outer"], **kw)), ref,
                                   rtol=1e-10, atol=1e-12, err_msg=str(kw))
