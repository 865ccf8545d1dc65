"""The loop budget (rev-ad{loop-budget=B}, Program(loop_budget=B)): the
gradient stores chosen values of each top-level rev.for for its backward sweep
instead of recomputing them (--rev-tape-loops, docs/memory.md "Loops").

Every budget must give the gradient of budget 0 (pure reverse computing):
within 1e-10 relative on the coupled recurrence and 1e-9 on random loop
programs (stored values are exact where reverse computing recovers states up
to rounding, so the two differ by rounding only), and both agree with central
finite differences (1e-6 relative). The stored byte counts come from the
pass's remarks."""
import os
import re
import subprocess

import numpy as np
import pytest

from mlir_rev import ad
from mlir_rev.jit import Program, RevError
from test_loop_budget_nested import assert_central_differences
from test_steps import SRC as STEPS_SRC

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REV_OPT = os.path.join(ROOT, "build", "bin", "rev-opt")
COUPLED = open(os.path.join(ROOT, "examples", "coupled.mlir")).read()
BUDGETS = (0, 8, 16, 24, 32, 64, 4096)


def stored_bytes(src, budget):
    """Bytes per iteration the tape pass stores in each loop (its remark)."""
    r = subprocess.run([REV_OPT, f"--rev-ad=loop-budget={budget}", "--rev-expand-uncalls",
                        "--rev-expand-routines", "--lower-rev", "--canonicalize",
                        "--cse", "--rev-tape-loops=remarks=1", "-o", os.devnull],
                       input=src, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    m = re.search(r"stores ([0-9, ]+) bytes per iteration", r.stderr)
    return [] if m is None else [int(x) for x in m.group(1).split(",")]


def coupled_grad(p, y, z, xs):
    g = p.gradient_names["coupled"]
    xbar = np.zeros_like(xs)
    r = p.call(g, y, z, xs, 1.0, 0.0, xbar)
    return np.array(r), xbar


@pytest.fixture(scope="module")
def coupled_programs():
    return {b: Program(COUPLED, grad=["coupled"], loop_budget=b) for b in BUDGETS}


def test_coupled_every_budget_gives_the_same_gradient(coupled_programs):
    rng = np.random.default_rng(3)
    # (at amplitude 0.5 reverse computing itself drifts by 5e-8 over 2000
    # steps, and the stored states do not: the comparison needs a well
    # conditioned run)
    xs = rng.uniform(-0.1, 0.1, 2000)
    ref_r, ref_x = coupled_grad(coupled_programs[0], 0.3, -0.2, xs)
    for b, p in coupled_programs.items():
        r, xbar = coupled_grad(p, 0.3, -0.2, xs)
        # restored inputs, then the adjoints of y and z
        np.testing.assert_allclose(r, ref_r, rtol=1e-10, atol=1e-12, err_msg=f"budget {b}")
        np.testing.assert_allclose(xbar, ref_x, rtol=1e-10, atol=1e-10 * np.abs(ref_x).max(),
                                   err_msg=f"budget {b}")
        assert abs(r[0] - 0.3) < 1e-12 and abs(r[1] + 0.2) < 1e-12


def test_coupled_gradient_matches_finite_differences(coupled_programs):
    rng = np.random.default_rng(4)
    xs = rng.uniform(-0.5, 0.5, 300)
    p = coupled_programs[32]
    r, xbar = coupled_grad(p, 0.3, -0.2, xs)

    def f(y, z, x):
        return p.call("coupled", y, z, x)[0]

    h = 1e-6
    fd_y = (f(0.3 + h, -0.2, xs) - f(0.3 - h, -0.2, xs)) / (2 * h)
    fd_z = (f(0.3, -0.2 + h, xs) - f(0.3, -0.2 - h, xs)) / (2 * h)
    np.testing.assert_allclose(r[2:], [fd_y, fd_z], rtol=1e-6)
    assert_central_differences(f, (0.3, -0.2, xs), 2, xbar, (0, 17, 150, 299))


def test_coupled_stored_bytes_follow_the_budget():
    # 0: nothing; each budget is respected; more budget never stores less.
    got = {b: sum(stored_bytes(COUPLED, b)) for b in BUDGETS}
    assert got[0] == 0
    for b, n in got.items():
        assert n <= b
    assert got[8] == 8 and got[16] == 16
    assert all(got[a] <= got[b] for a, b in zip(BUDGETS, BUDGETS[1:]))
    # the state (16 B) and the partials computed from it: bounded, whatever
    # the budget (the slice of the backward body is finite)
    assert got[4096] == got[64]


# -- random loop programs -----------------------------------------------------
NVARS = 4


def random_loop_function(rng, name, nops):
    """rev.for over X's elements with 4 float iter_args; random updates
    y op= f(others, X[t]), rotations, swaps, and writes into Y[t] (a written
    memref: its loads are never stored)."""
    args = ", ".join(f"%v{i}: f64" for i in range(NVARS))
    lines = [f"rev.func @{name}({args}, %X: memref<?xf64>, %Y: memref<?xf64>) -> "
             f"({', '.join(['f64'] * NVARS)}) {{",
             "  %c0 = arith.constant 0 : index", "  %c1 = arith.constant 1 : index",
             "  %n = memref.dim %X, %c0 : memref<?xf64>",
             f"  %r:{NVARS} = rev.for %t = %c0 to %n step %c1 iter_args(" +
             ", ".join(f"%a{i} = %v{i}" for i in range(NVARS)) + ") -> (" +
             ", ".join(["f64"] * NVARS) + ") {",
             "    %x = memref.load %X[%t] : memref<?xf64>"]
    cur = [f"%a{i}" for i in range(NVARS)]
    for n in range(nops):
        t = int(rng.integers(NVARS))
        others = [j for j in range(NVARS) if j != t]
        kind = rng.choice(["add", "sub", "mul", "div", "swap", "rot", "write"])
        a, b = (int(x) for x in rng.choice(others, 2))
        c = float(rng.uniform(-0.5, 0.5))
        if kind == "swap":
            lines.append(f"    %n{n}:2 = rev.swap {cur[t]}, {cur[a]} : f64")
            cur[t], cur[a] = f"%n{n}#0", f"%n{n}#1"
            continue
        if kind == "rot":
            b = int(rng.choice([j for j in others if j != a]))
            lines.append(f"    %th{n} = math.sin {cur[b]} : f64")
            lines.append(f"    %n{n}:2 = rev.rot {cur[t]}, {cur[a]}, %th{n} : f64")
            cur[t], cur[a] = f"%n{n}#0", f"%n{n}#1"
            continue
        lines.append(f"    %k{n} = arith.constant {c!r} : f64")
        if kind in ("mul", "div"):
            # factor in [0.9, 1.1]: never zero, bounded growth over the loop
            lines.append(f"    %s{n} = math.sin {cur[a]} : f64")
            lines.append(f"    %q{n} = arith.mulf %s{n}, %x : f64")
            lines.append(f"    %p{n} = arith.mulf %q{n}, %k{n} : f64")
            lines.append(f"    %o{n} = arith.constant 1.0 : f64")
            lines.append(f"    %d{n} = arith.addf %p{n}, %o{n} : f64")
        else:
            lines.append(f"    %s{n} = math.tanh {cur[a]} : f64")
            lines.append(f"    %e{n} = math.cos {cur[b]} : f64")
            lines.append(f"    %p{n} = arith.mulf %s{n}, %e{n} : f64")
            lines.append(f"    %q{n} = arith.mulf %p{n}, %x : f64")
            lines.append(f"    %d{n} = arith.mulf %q{n}, %k{n} : f64")
        if kind == "write":
            lines.append(f"    rev.add_at %Y[%t], %d{n} : memref<?xf64>")
            continue
        lines.append(f"    %n{n} = rev.{kind} {cur[t]}, %d{n} : f64")
        cur[t] = f"%n{n}"
    lines.append("    rev.yield " + ", ".join(cur) + " : " + ", ".join(["f64"] * NVARS))
    lines.append("  }")
    lines.append("  rev.return " + ", ".join(f"%r#{i}" for i in range(NVARS)) + " : " +
                 ", ".join(["f64"] * NVARS))
    lines.append("}")
    return "\n".join(lines)


NRANDOM = 12


@pytest.fixture(scope="module")
def random_sources():
    rng = np.random.default_rng(20261201)
    return [random_loop_function(rng, f"L{k}", int(rng.integers(4, 14))) for k in range(NRANDOM)]


@pytest.fixture(scope="module")
def random_programs(random_sources):
    src = "\n".join(random_sources)
    names = [f"L{k}" for k in range(NRANDOM)]
    return {b: Program(src, grad=names, loop_budget=b) for b in (0, 8, 24, 4096)}


def run_random_grad(p, k, v, X, Y, vbar, Ybar):
    g = p.gradient_names[f"L{k}"]
    Xbar, Yb = np.zeros_like(X), Ybar.copy()
    r = p.call(g, *v, X.copy(), Y.copy(), *vbar, Xbar, Yb)
    return np.array(r), Xbar, Yb


@pytest.mark.parametrize("k", range(NRANDOM))
def test_random_loop_programs_same_gradient_at_every_budget(random_programs, k):
    rng = np.random.default_rng(100 + k)
    v = rng.uniform(-1, 1, NVARS)
    X = rng.uniform(-1, 1, 40)
    Y = rng.uniform(-1, 1, 40)
    vbar = rng.uniform(-1, 1, NVARS)
    Ybar = rng.uniform(-1, 1, 40)
    ref = run_random_grad(random_programs[0], k, v, X, Y, vbar, Ybar)
    scale = max(1.0, *(np.abs(a).max() for a in ref))
    for b, p in random_programs.items():
        got = run_random_grad(p, k, v, X, Y, vbar, Ybar)
        for name, g, r in zip(("scalars", "Xbar", "Ybar"), got, ref):
            np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9 * scale,
                                       err_msg=f"L{k}, budget {b}, {name}")


@pytest.mark.parametrize("k", range(0, NRANDOM, 3))
def test_random_loop_program_gradient_matches_finite_differences(random_programs, k):
    rng = np.random.default_rng(200 + k)
    v = rng.uniform(-1, 1, NVARS)
    X = rng.uniform(-1, 1, 20)
    Y = np.zeros(20)
    vbar = rng.uniform(-1, 1, NVARS)
    p = random_programs[4096]
    r, Xbar, _ = run_random_grad(p, k, v, X, Y, vbar, np.zeros(20))

    def f(v, X):
        out = p.call(f"L{k}", *v, X.copy(), Y.copy())
        return float(np.dot(vbar, out))

    assert_central_differences(f, (v, X), 0, r[NVARS:2 * NVARS], range(NVARS))
    assert_central_differences(f, (v, X), 1, Xbar, (0, 7, 19))


def test_random_loop_programs_store_something(random_sources):
    # The property tests above must exercise the stored path.
    stored = [sum(stored_bytes(s, 4096)) for s in random_sources]
    assert sum(1 for s in stored if s > 0) >= NRANDOM - 2, stored


# -- what the budget leaves alone, and bad values --------------------------------
def test_budget_changes_nothing_without_a_top_level_loop():
    src = open(os.path.join(ROOT, "examples", "besselj2.mlir")).read()
    assert stored_bytes(src, 64) == []


def test_grad_keyword_passes_the_budget():
    xs = np.random.default_rng(5).uniform(-0.5, 0.5, 50)
    g0 = ad.grad(COUPLED, "coupled")(0.3, -0.2, xs)
    g1 = ad.grad(COUPLED, "coupled", loop_budget=32)(0.3, -0.2, xs)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("bad", [-1, 1.5, "8", True, 2**40])
def test_bad_loop_budget_is_a_rev_error(bad):
    with pytest.raises(RevError, match="loop_budget"):
        Program(COUPLED, grad=["coupled"], loop_budget=bad)


# -- checked mode ---------------------------------------------------------------
ILL_CONDITIONED = """
rev.func @big(%y: f64, %X: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %big = arith.constant 1.0e20 : f64
  %r = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y) -> (f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %s = math.atan %x : f64
    %d = arith.mulf %s, %big : f64
    %a1 = rev.add %a, %d : f64
    rev.yield %a1 : f64
  }
  rev.return %r : f64
}
"""


def test_checked_mode_reports_a_stored_value_that_recomputation_misses():
    # y + 1e20 atan(x) - 1e20 atan(x) is not y: reverse computing loses y.
    # (atan, which its derivative 1 / (1 + x^2) does not need, makes storing
    # the state worth its store and load; sin would not, as the backward
    # sweep's cos(x) for the derivative makes sin(x) nearly free: one sincos
    # call.) Unchecked, the
    # stored state gives the exact y back where budget 0 gives 0; checked, the
    # comparison of the two reports it at the loop. (The loop is a sum, which
    # the fused sweeps would run forward and backward per iteration, taking
    # each term back right after adding it: exact too, and nothing stored.
    # Here the plain gradient, whose loops the budget applies to. Its
    # adjoints read only x, which f never writes, so by default the gradient
    # would be adjoint-only and never touch y: adjoint_only=False keeps the
    # sweeps this test is about.)
    xs = np.ones(3)
    for budget, exact in ((0, False), (64, True)):
        p = Program(ILL_CONDITIONED, grad=["big"], loop_budget=budget, fuse_sweeps=False,
                    adjoint_only=False)
        r = p.call(p.gradient_names["big"], 1.0, xs, 1.0, np.zeros(3))
        assert (r[0] == 1.0) == exact, r[0]  # budget 0: y lost to rounding (~3e4)
    fused = Program(ILL_CONDITIONED, grad=["big"], loop_budget=64)
    assert fused.call(fused.gradient_names["big"], 1.0, xs, 1.0, np.zeros(3))[0] == 1.0
    # adjoint-only (the default): y is never touched
    only = Program(ILL_CONDITIONED, grad=["big"], fuse_sweeps=False)
    assert only.gradient_names["big"] in only.adjoint_only
    assert only.call(only.gradient_names["big"], 1.0, xs, 1.0, np.zeros(3))[0] == 1.0
    p = Program(ILL_CONDITIONED, grad=["big"], loop_budget=64, checks=True, fuse_sweeps=False)
    xbar = np.zeros(3)
    with pytest.raises(RevError, match=r"stored for the backward sweep differs from its "
                                       r"recomputation \(rev.for at loc\(\"-\":7"):
        p.call(p.gradient_names["big"], 1.0, xs, 1.0, xbar)
    assert not xbar.any()  # arrays restored


def test_checked_mode_passes_the_random_loop_programs(random_sources):
    src = "\n".join(random_sources)
    p = Program(src, grad=[f"L{k}" for k in range(NRANDOM)], loop_budget=4096, checks=True)
    rng = np.random.default_rng(7)
    for k in range(NRANDOM):
        v = rng.uniform(-1, 1, NVARS)
        X, Y = rng.uniform(-1, 1, 30), rng.uniform(-1, 1, 30)
        run_random_grad(p, k, v, X, Y, rng.uniform(-1, 1, NVARS), rng.uniform(-1, 1, 30))


# -- the examples ------------------------------------------------------------------
def _example_args(rng):
    x = rng.uniform(-0.5, 0.5, 12)
    return {
        "besselj2.mlir": ("besselj2", [0.7, 0.0]),
        "coupled.mlir": ("coupled", [0.3, -0.2, x.copy()]),
        "exp_series.mlir": ("exp_series", [0.8, 0.0, 1.0, 15]),
        "leapfrog.mlir": ("leapfrog", [x.copy(), rng.uniform(-0.5, 0.5, 12), 1.3, 0.05, 7]),
        "steps.mlir": ("recurrence", [12, np.array([0.4]), np.zeros(1), x.copy()]),
        "steps_ancilla.mlir": ("recurrence_ancilla",
                               [12, np.concatenate([[0.4], np.zeros(12)]), x.copy()]),
    }


@pytest.mark.parametrize("example", sorted(_example_args(np.random.default_rng(0))))
def test_examples_same_gradient_at_every_budget(example):
    src = open(os.path.join(ROOT, "examples", example)).read()
    name, args = _example_args(np.random.default_rng(8))[example]
    results = []
    for budget in (0, 16, 4096):
        d = ad.Derivatives(src, name, loop_budget=budget)
        rng = np.random.default_rng(9)
        sseeds = rng.uniform(-1, 1, len(d.active_scalars))
        mseeds = [rng.uniform(-1, 1, np.shape(args[i])) for i in d.active_memrefs]
        # @f_grad itself (the taped function; vjp runs @f and @f_bwd apart)
        primal = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        res = d.program.call(d.grad_name, *d._derivative_args(primal, list(sseeds), mseeds))
        res = res if isinstance(res, tuple) else (res,)
        results.append((np.array(res, dtype=float), mseeds, primal))
    for res, shadows, primal in results[1:]:
        np.testing.assert_allclose(res, results[0][0], rtol=1e-10, atol=1e-12, err_msg=example)
        for got, ref in zip(shadows + primal, results[0][1] + results[0][2]):
            np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12, err_msg=example)


# -- callees, in either order; float32 ------------------------------------------------
# f is the coupled recurrence; g calls it around a loop of its own.
G_CALLS_F = COUPLED.replace("@coupled(", "@f(") + """
rev.func @g(%y: f64, %z: f64, %X: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %o:2 = rev.call @f(%y, %z, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %o#0, %b = %o#1) -> (f64, f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %s = math.tanh %b : f64
    %d = arith.mulf %s, %x : f64
    %a1 = rev.add %a, %d : f64
    %c = math.sin %a1 : f64
    %b1 = rev.add %b, %c : f64
    rev.yield %a1, %b1 : f64, f64
  }
  %o2:2 = rev.call @f(%r#0, %r#1, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
  rev.return %o2#0, %o2#1 : f64, f64
}
"""


@pytest.mark.parametrize("order", [("f", "g"), ("g", "f")])
def test_callee_and_caller_are_both_taped_in_either_order(order):
    # Program runs one rev-ad per name; the first may build the callee's
    # backward sweep on demand, which must still carry the marks.
    passes = [f"--rev-ad=funcs={name} loop-budget=64" for name in order]
    r = subprocess.run([REV_OPT, *passes, "--rev-expand-uncalls", "--rev-expand-routines",
                        "--lower-rev", "--canonicalize", "--cse", "--rev-tape-loops=remarks=1",
                        "-o", os.devnull], input=G_CALLS_F, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert re.search(r"@f_grad stores [1-9]", r.stderr), r.stderr
    # g's own loop and the two calls' copies of f's loop (inlined)
    assert re.search(r"@g_grad stores [1-9][0-9]*, [1-9][0-9]*, [1-9][0-9]* bytes per iteration "
                     r"\(budget 64\) in 3 loop", r.stderr), r.stderr
    xs = np.random.default_rng(11).uniform(-0.3, 0.3, 25)
    got = []
    for budget in (0, 64):
        p = Program(G_CALLS_F, grad=list(order), loop_budget=budget)
        for name in ("f", "g"):
            xbar = np.zeros_like(xs)
            res = p.call(p.gradient_names[name], 0.3, -0.2, xs, 1.0, 0.5, xbar)
            got.append((name, np.array(res), xbar))
    for (name, r0, x0), (_, r1, x1) in zip(got[:2], got[2:]):
        np.testing.assert_allclose(r1, r0, rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(x1, x0, rtol=1e-10, atol=1e-12, err_msg=name)


# Loops in callees: f has no loop of its own; the gradient inlines the
# calls of @coupled (and, in the backward sweep, of @coupled_bwd: in reverse
# order, so the first forward copy pairs with the last backward one) and
# stores for each copy. Through two levels of calls, and beside an uncall
# (whose inverse's loop is not marked: it stays reverse computing).
CALLEES = COUPLED + """
rev.func @twice(%y: f64, %z: f64, %X: memref<?xf64>, %W: memref<?xf64>) -> (f64, f64) {
  %a:2 = rev.call @coupled(%y, %z, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
  %b:2 = rev.call @coupled(%a#1, %a#0, %W) : (f64, f64, memref<?xf64>) -> (f64, f64)
  rev.return %b#0, %b#1 : f64, f64
}
rev.func @outer(%y: f64, %z: f64, %X: memref<?xf64>, %W: memref<?xf64>) -> (f64, f64) {
  %a:2 = rev.call @twice(%y, %z, %X, %W) : (f64, f64, memref<?xf64>, memref<?xf64>) -> (f64, f64)
  %b:2 = rev.uncall @coupled(%a#0, %a#1, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
  rev.return %b#0, %b#1 : f64, f64
}
"""


def callee_remark(name, options):
    r = subprocess.run([REV_OPT, f"--rev-ad=funcs={name} {options}", "--rev-expand-uncalls",
                        "--rev-expand-routines", "--lower-rev", "--canonicalize", "--cse",
                        "--rev-tape-loops=remarks=1", "-o", os.devnull],
                       input=CALLEES, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stderr


@pytest.mark.parametrize("name", ["twice", "outer"])
def test_loops_in_callees_store_too(name):
    assert "@%s_grad stores 32, 32 bytes per iteration (budget 32) in 2 loop(s)" % name in \
        callee_remark(name, "loop-budget=32")
    assert "@%s_grad stores 32|24|16|8, 32|24|16|8 bytes" % name in \
        callee_remark(name, "memory-budget=4000")
    rng = np.random.default_rng(8)
    X, W = rng.uniform(-0.5, 0.5, 60), rng.uniform(-0.5, 0.5, 40)

    def grad(p):
        xb, wb = np.zeros_like(X), np.zeros_like(W)
        r = p.call(p.gradient_names[name], 0.3, -0.2, X, W, 1.0, 0.5, xb, wb)
        return np.array(r), xb, wb

    ref = grad(Program(CALLEES, grad=[name]))
    # budgets: none, 8 and 32 B per iteration; bytes in all: both loops'
    # largest plans (60 x 32 + 40 x 32), the first's largest and the
    # second's smallest, nothing
    for kw in (dict(loop_budget=8), dict(loop_budget=32), dict(memory_budget=3200),
               dict(memory_budget=60 * 32 + 40 * 8), dict(memory_budget=100),
               dict(loop_budget=32, checks=True)):
        got = grad(Program(CALLEES, grad=[name], **kw))
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=str(kw))
    # the reference itself against central differences (dL/dy for the first
    # output, L = out0 + 0.5 out1)
    p = Program(CALLEES, grad=[name], loop_budget=32)
    r, xb, _ = grad(p)

    def L(y, z, X_, W_):
        o = p.call(name, y, z, X_, W_)
        return o[0] + 0.5 * o[1]
    assert_central_differences(L, (0.3, -0.2, X, W), 0, r[2])
    assert_central_differences(L, (0.3, -0.2, X, W), 2, xb, (0, 31, 59))


F32 = COUPLED.replace("f64", "f32")


def test_checked_mode_on_a_float32_loop():
    # One float32 uncomputation is ~1e-7 off: the comparison allows 64 ulps
    # of the type, so the default atol (1e-8, for float64) does not fire.
    xs = np.array([0.3, -0.7, 0.9, 0.1], dtype=np.float32)
    out = []
    for budget, checks in ((0, False), (8, True), (64, True)):
        p = Program(F32, grad=["coupled"], loop_budget=budget, checks=checks)
        xbar = np.zeros_like(xs)
        res = p.call(p.gradient_names["coupled"], 0.3, -0.2, xs.copy(), 1.0, 0.5, xbar)
        out.append((np.array(res), xbar))
    for res, xbar in out[1:]:
        np.testing.assert_allclose(res, out[0][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(xbar, out[0][1], rtol=1e-5, atol=1e-6)


# -- memory_budget (bytes in all) for loops ---------------------------------------------
def test_memory_budget_in_bytes_versions_the_loops_at_run_time():
    # memory_budget=8000: the loop runs the largest plan whose tapes fit
    # (32, 24, 16 or 8 bytes per iteration: the four partial derivatives,
    # then fewer), i.e. 32 B for at most 250 steps, 24 B to 333, 16 B to 500,
    # 8 B to 1000; beyond, the reverse-computing code (bit for bit budget
    # 0's). Each plan gives bit for bit what the same plan gives with a
    # per-iteration budget (loop_budget=B, no run-time choice). Amplitude 0.5:
    # stored and recomputed values round differently, so which code ran shows
    # in the last bits.
    assert stored_bytes(COUPLED, 0) == []
    p0 = Program(COUPLED, grad=["coupled"])
    pm = Program(COUPLED, grad=["coupled"], memory_budget=8000)
    plans = {b: Program(COUPLED, grad=["coupled"], loop_budget=b) for b in (8, 16, 24, 32)}
    for n, plan in ((200, 32), (250, 32), (251, 24), (333, 24), (334, 16), (500, 16),
                    (501, 8), (1000, 8), (1001, None), (3000, None)):
        xs = np.random.default_rng(n).uniform(-0.5, 0.5, n)
        r0, x0 = coupled_grad(p0, 0.3, -0.2, xs)
        rm, xm = coupled_grad(pm, 0.3, -0.2, xs)
        np.testing.assert_allclose(rm[2:], r0[2:], rtol=1e-6)
        np.testing.assert_allclose(xm, x0, rtol=1e-6, atol=1e-6 * np.abs(x0).max())
        same0 = np.array_equal(rm, r0) and np.array_equal(xm, x0)
        assert same0 == (plan is None), (n, plan)
        if plan is not None:
            rp, xp = coupled_grad(plans[plan], 0.3, -0.2, xs)
            assert np.array_equal(rm, rp) and np.array_equal(xm, xp), (n, plan)


# -- one budget for the loops and rev.steps of a gradient -----------------------------
# The recurrence of test_steps (3-element state, 24 bytes) beside the coupled
# loop: the loop tapes draw on the budget first (in forward order, while they
# are alive: from the forward loop to the end of its backward loop), and a
# rev.steps adjoint's snapshots get what is left when it runs.
# the step function of test_steps.py's recurrence
SHARED_STEP = STEPS_SRC[:STEPS_SRC.index("rev.func @run")]


def shared_loop(i):
    """The coupled loop over X{i}, carrying (a, b) from %u{i-1}, %w{i-1}."""
    return f"""
  %n{i} = memref.dim %X{i}, %c0 : memref<?xf64>
  %u{i}, %w{i} = rev.for %t = %c0 to %n{i} step %c1 iter_args(%a = %u{i-1}, %b = %w{i-1}) -> (f64, f64) {{
    %x = memref.load %X{i}[%t] : memref<?xf64>
    %s = math.sin %b : f64
    %d = arith.mulf %s, %x : f64
    %a1 = rev.add %a, %d : f64
    %c = math.cos %a1 : f64
    %e = arith.mulf %c, %x : f64
    %b1 = rev.add %b, %e : f64
    rev.yield %a1, %b1 : f64, f64
  }}
"""


STEPS_OP = ("  rev.steps @step %c0 to %T, %y0 into %yT (%k, %xs) : "
            "memref<?xf64>, f64, memref<?xf64>\n")
# the same steps in a callee (its backward function is inlined into the
# gradient, so its schedule reads the gradient's counter too)
CALL_STEPS_OP = ("  %Tc, %kc = rev.call @inner(%T, %k, %y0, %yT, %xs) : (index, f64, "
                 "memref<?xf64>, memref<?xf64>, memref<?xf64>) -> (index, f64)\n")
INNER = """
rev.func @inner(%T: index, %k: f64, %y0: memref<?xf64>, %yT: memref<?xf64>,
                %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
""" + STEPS_OP + """  rev.return %T, %k : index, f64
}
"""


def shared_src(parts):
    """@run: the parts in order, 'loop' (the coupled loop over its own array)
    or 'steps' (the recurrence over T steps)."""
    loops = parts.count("loop")
    arrays = "".join(f", %X{i}: memref<?xf64>" for i in range(1, loops + 1))
    body, i = "", 0
    for part in parts:
        if part == "loop":
            i += 1
            body += shared_loop(i)
        elif part == "steps":
            body += STEPS_OP
        else:
            body += CALL_STEPS_OP
    # a call consumes the scalars it takes and gives new versions back
    T, k = ("%Tc", "%kc") if "call_steps" in parts else ("%T", "%k")
    return SHARED_STEP + INNER + f"""
rev.func @run(%T: index, %k: f64, %y0: memref<?xf64>, %yT: memref<?xf64>, %xs: memref<?xf64>,
              %u0: f64, %w0: f64{arrays}) -> (index, f64, f64, f64) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
{body}  rev.return {T}, {k}, %u{i}, %w{i} : index, f64, f64, f64
}}
"""


def shared_grad(p, lengths, T=30, seed=0):
    rng = np.random.default_rng(seed)
    y0 = rng.uniform(-1, 1, 3)
    xs = rng.uniform(-0.8, 0.8, T)
    Xs = [rng.uniform(-0.5, 0.5, n) for n in lengths]
    shadows = [np.zeros(3), np.ones(3), np.zeros(T)] + [np.zeros(n) for n in lengths]
    p.steps_counts(reset=True)
    r = p.call("run_grad", T, 0.9, y0.copy(), np.zeros(3), xs, 0.3, -0.2, *Xs,
               0.0, 1.0, 0.5, *shadows)
    return np.array(r), shadows, p.steps_counts()["snapshots"]


@pytest.mark.parametrize("parts,lengths,budget,snapshots", [
    # the loop (50 steps) before the steps: its tape is alive when the
    # steps' adjoint runs; the plan that fits, then (budget - tape) / 24
    (("loop", "steps"), (50,), 240, 10),             # no plan fits (8 x 50 = 400)
    (("loop", "steps"), (50,), 240 + 8 * 50, 10),    # 8 B plan
    (("loop", "steps"), (50,), 240 + 16 * 50, 10),   # 16 B plan
    (("loop", "steps"), (50,), 240 + 24 * 50 + 7, 10),   # 24 B plan
    (("loop", "steps"), (50,), 240 + 32 * 50, 10),   # 32 B plan
    (("loop", "steps"), (50,), 24 * 25 + 32 * 50, 25),
    # the loop after the steps: its backward loop has run and freed its
    # tape before the steps' adjoint runs, which gets the whole budget
    (("steps", "loop"), (50,), 24 * 12 + 8 * 50, 12 + 8 * 50 // 24),
    (("steps", "loop"), (50,), 24 * 20, 20),
    # the steps in a callee, after and before the loop
    (("loop", "call_steps"), (50,), 240 + 32 * 50, 10),
    (("call_steps", "loop"), (50,), 24 * 20, 20),
    # two loops: the first takes its largest plan that fits, the second what
    # fits in the rest, the steps what both leave
    (("loop", "loop", "steps"), (50, 40), 24 * 11 + 32 * 50 + 16 * 40, 11),
    (("loop", "loop", "steps"), (50, 40), 32 * 50 + 8 * 40 + 300, 300 // 24),  # 620 left: 8 B
    # greedy in forward order: the first loop takes 32 B (1600), though at
    # 24 B both would store 1200 + 1280; the second gets 24 B (960)
    (("loop", "loop", "steps"), (50, 40), 24 * 11 + 24 * 50 + 32 * 40, (24 * 11 + 24 * 50 + 32 * 40 - 1600 - 960) // 24),
])
def test_one_budget_for_loops_and_steps(parts, lengths, budget, snapshots):
    """The steps' snapshot count shows what the loop tapes took; the gradient
    agrees with the one without a budget (every value recomputed, the default
    snapshot rule) to 1e-10."""
    src = shared_src(parts)
    ref = Program(src, grad=["run"])
    p = Program(src, grad=["run"], memory_budget=budget)
    r, sh, c = shared_grad(p, lengths)
    r0, sh0, _ = shared_grad(ref, lengths)
    assert c == snapshots, (parts, budget, c)
    np.testing.assert_allclose(r, r0, rtol=1e-10, atol=1e-12)
    for a, b in zip(sh, sh0):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_memory_budget_zero_marks_no_loop():
    r = subprocess.run([REV_OPT, "--rev-ad=memory-budget=0 loop-budget=32"], input=COUPLED,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "rev.tape_loop" not in r.stdout and "rev.loop_budget" not in r.stdout


# -- loops in top-level branches -------------------------------------------------------
# rev-ad marks the loops of a top-level rev.if's branches too (and the pass
# inlines calls there): each branch's loop is a pair whose tapes are
# allocated before the forward scf.if and freed after the backward one.
BRANCHES = open(os.path.join(ROOT, "examples", "coupled_branches.mlir")).read()


def branches_grad(p, X, pval, y=0.3, z=-0.2):
    xb = np.zeros_like(X)
    r = p.call(p.gradient_names["branchy"], y, z, X.copy(), pval, 1.0, 0.5, 0.0, xb)
    return np.concatenate([np.array(r), xb])


def test_loops_in_top_level_branches_store():
    out = subprocess.run([REV_OPT, "--rev-ad=funcs=branchy loop-budget=16",
                          "--rev-expand-uncalls", "--rev-expand-routines", "--lower-rev",
                          "--canonicalize", "--cse", "--rev-tape-loops=remarks=1",
                          "-o", os.devnull], input=BRANCHES, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "@branchy_grad stores 16, 16 bytes per iteration (budget 16) in 2 loop(s)" \
        in out.stderr, out.stderr


@pytest.mark.parametrize("pval", [0.7, -0.4])
def test_loops_in_top_level_branches_same_gradient_at_every_budget(pval):
    rng = np.random.default_rng(4)
    X = rng.uniform(-0.5, 0.5, 40)
    ref = branches_grad(Program(BRANCHES, grad=["branchy"]), X, pval)
    for kw in (dict(loop_budget=8), dict(loop_budget=16), dict(loop_budget=4096),
               dict(memory_budget=40 * 16), dict(memory_budget=40 * 8),
               dict(memory_budget=40 * 8 - 1), dict(loop_budget=4096, checks=True)):
        got = branches_grad(Program(BRANCHES, grad=["branchy"], **kw), X, pval)
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12, err_msg=str((pval, kw)))
    # central differences (the objective: y_T + 0.5 z_T)
    p = Program(BRANCHES, grad=["branchy"], loop_budget=16)
    g = branches_grad(p, X, pval)

    def L(y, z, X_):
        o = p.call("branchy", y, z, X_.copy(), pval)
        return o[0] + 0.5 * o[1]
    h = 1e-6
    fd = [(L(0.3 + h, -0.2, X) - L(0.3 - h, -0.2, X)) / (2 * h),
          (L(0.3, -0.2 + h, X) - L(0.3, -0.2 - h, X)) / (2 * h)]
    np.testing.assert_allclose(g[3:5], fd, rtol=1e-6)
    assert_central_differences(L, (0.3, -0.2, X), 2, g[6:], (0, 17, 39))


def test_memory_budget_is_drawn_by_the_branch_that_runs():
    # The branches' loops draw before the forward scf.if, each only if its
    # branch runs (the condition is known there), and give back after the
    # backward one. With a loop after the branch and a budget for two
    # 16-byte tapes, the branch that runs and the loop after both store:
    # bit for bit the gradient of loop_budget=16 (which stores in both).
    src = BRANCHES.replace("rev.return %r#0, %r#1, %p : f64, f64, f64", """
  %w:2 = rev.call @coupled(%r#0, %r#1, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
  rev.return %w#0, %w#1, %p : f64, f64, f64""")
    rng = np.random.default_rng(5)
    X = rng.uniform(-0.5, 0.5, 30)
    for pval in (0.6, -0.6):
        ref = branches_grad(Program(src, grad=["branchy"]), X, pval)
        full = branches_grad(Program(src, grad=["branchy"], loop_budget=16), X, pval)
        got = branches_grad(Program(src, grad=["branchy"], memory_budget=30 * 16 * 2), X, pval)
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
        assert not np.array_equal(full, ref)  # storing changes the last bits here
        assert np.array_equal(got, full), pval


# A function called in both branches (with different arrays; twice in the
# else branch): its loop's copies pair within each branch, in reverse order
# there (the backward scf.if keeps its branches). Pairing across the branches
# read the other branch's tapes (of another length) and gave wrong gradients.
BOTH_CALLS = COUPLED + """
rev.func @both(%y: f64, %z: f64, %X: memref<?xf64>, %W: memref<?xf64>, %p: f64) -> (f64, f64, f64) {
  %zero = arith.constant 0.0 : f64
  %r:2 = rev.if %y, %z : f64, f64 pre {
  ^bb0(%u0: f64, %v0: f64):
    %pos = arith.cmpf ogt, %p, %zero : f64
    rev.cond %pos
  } then {
  ^bb0(%u: f64, %v: f64):
    %q:2 = rev.call @coupled(%u, %v, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
    rev.yield %q#0, %q#1 : f64, f64
  } else {
  ^bb0(%u: f64, %v: f64):
    %q:2 = rev.call @coupled(%u, %v, %W) : (f64, f64, memref<?xf64>) -> (f64, f64)
    %s:2 = rev.call @coupled(%q#0, %q#1, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
    rev.yield %s#0, %s#1 : f64, f64
  }
  rev.return %r#0, %r#1, %p : f64, f64, f64
}
"""


@pytest.mark.parametrize("pval", [0.7, -0.4])
def test_a_function_called_in_both_branches(pval):
    rng = np.random.default_rng(1)
    X, W = rng.uniform(-0.5, 0.5, 30), rng.uniform(-0.5, 0.5, 20)

    def grad(p):
        xb, wb = np.zeros_like(X), np.zeros_like(W)
        r = p.call(p.gradient_names["both"], 0.3, -0.2, X.copy(), W.copy(), pval, 1.0, 1.5, 2.0,
                   xb, wb)
        return np.concatenate([np.array(r), xb, wb])
    ref = grad(Program(BOTH_CALLS, grad=["both"]))
    for kw in (dict(loop_budget=16), dict(loop_budget=4096), dict(loop_budget=4096, checks=True),
               dict(loop_budget=4096, fuse_sweeps=False), dict(memory_budget=240),
               dict(memory_budget=1000), dict(memory_budget=100000)):
        np.testing.assert_allclose(grad(Program(BOTH_CALLS, grad=["both"], **kw)), ref,
                                   rtol=1e-10, atol=1e-12, err_msg=str((pval, kw)))
