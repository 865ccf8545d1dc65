"""Loop budgets for loops whose state is in memrefs (docs/memory.md, "Array
state"): a backward body's load may be part of what the forward loop stores
when it reads memory as the forward iteration left it (nothing before it in
the backward body may write the memref; a backward loop in the forward's
order needs a memref the forward body does not write at all).

Every budget must give the gradient of budget 0 (1e-10 relative here; the
stored values are the recomputed ones, up to the recovered states' last
bits), the gradients agree with central finite differences (1e-6 relative),
and checked mode (each stored value compared with its recomputation) passes.
What is stored comes from the pass's remarks."""
import os
import re
import subprocess

import numpy as np
import pytest

from mlir_rev.jit import Program, RevError
from test_loop_budget_nested import (REV_OPT, assert_central_differences, remark,
                                     stored_bytes)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RING = open(os.path.join(ROOT, "benchmarks", "pendulum_ring.mlir")).read()

# Kick and drift (X read by the kick, V read by the drift): the kick's
# backward body reads X as the forward kick left it, so sin(X[i]) and
# cos(X[i]) may be stored.
KICK_DRIFT = """
rev.func @kick_drift(%X: memref<?xf64>, %V: memref<?xf64>, %k: f64, %h: f64, %T: index)
    -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %last = arith.subi %n, %c1 : index
  rev.for %t = %c0 to %T step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %ip1 = arith.addi %i, %c1 : index
      %wrap = arith.cmpi eq, %i, %last : index
      %ip = arith.select %wrap, %c0, %ip1 : index
      %x = memref.load %X[%i] : memref<?xf64>
      %xp = memref.load %X[%ip] : memref<?xf64>
      %s = math.sin %x : f64
      %d = arith.subf %xp, %x : f64
      %kd = arith.mulf %k, %d : f64
      %a = arith.subf %kd, %s : f64
      %dv = arith.mulf %h, %a : f64
      rev.add_at %V[%i], %dv : memref<?xf64>
    }
    rev.for %i = %c0 to %n step %c1 {
      %v = memref.load %V[%i] : memref<?xf64>
      %dx = arith.mulf %v, %h : f64
      rev.add_at %X[%i], %dx : memref<?xf64>
    }
  }
  rev.return %k, %h, %T : f64, f64, index
}
"""

# A[i] += c sin(B[i]); B[i] += c cos(A[i]), T times: the backward body
# recovers B first, reading A as the forward iteration left it (cos(A[i]),
# sin(A[i]) may be stored), then A, reading B after writing it (sin(B[i])
# and cos(B[i]) are recomputed). With a constant c the backward loop runs in
# the forward's order and nothing of A or B is stored.
TWO_UPDATES = """
rev.func @two(%A: memref<?xf64>, %B: memref<?xf64>, %c: f64, %T: index) -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  rev.for %t = %c0 to %T step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %b = memref.load %B[%i] : memref<?xf64>
      %s = math.sin %b : f64
      %cs = arith.mulf %c, %s : f64
      rev.add_at %A[%i], %cs : memref<?xf64>
      %a = memref.load %A[%i] : memref<?xf64>
      %co = math.cos %a : f64
      %cc = arith.mulf %c, %co : f64
      rev.add_at %B[%i], %cc : memref<?xf64>
    }
  }
  rev.return %c, %T : f64, index
}
"""
TWO_IN_ORDER = TWO_UPDATES.replace(
    "%c: f64, %T: index) -> (f64, index) {\n  %c0",
    "%T: index) -> index {\n  %c = arith.constant 0.5 : f64\n  %c0").replace(
    "rev.return %c, %T : f64, index", "rev.return %T : index")


# C[i] += c exp(B[i]); B[i] += c sin(A[i]); D[i] += c exp(B[i]): the
# backward body's exp(B[i]) for D (B as the forward iteration left it) may be
# stored, the one for C (B recovered before it) may not, though it is the
# same op on the same operands.
THREE = open(os.path.join(ROOT, "test", "conversion", "tape-loops-arrays.mlir")).read()
THREE = THREE[THREE.index("rev.func @three("):]
THREE = THREE[:THREE.index("\n}\n") + 3]


def test_what_is_stored():
    # both kicks: sin and cos of X[i] (16 B per kick iteration); the drifts
    # have nothing worth storing
    assert stored_bytes(RING, 16) == {1: [16, 16]}
    assert stored_bytes(RING, 4096) == {1: [16, 16]}
    assert stored_bytes(KICK_DRIFT, 16) == {1: [16]}
    assert stored_bytes(TWO_UPDATES, 16) == {1: [16]}
    assert stored_bytes(TWO_IN_ORDER, 4096) == {}
    assert stored_bytes(THREE, 4096) == {1: [24]}
    assert "stores" not in remark(RING, "loop-budget=0")


def checked_remark(src, options):
    """The pass's remark in checked mode (rev-to-llvm's order: the checks are
    inserted before the lowering, the pass compares what it stores)."""
    r = subprocess.run([REV_OPT, f"--rev-ad={options}", "--rev-expand-uncalls",
                        "--rev-expand-routines", "--rev-insert-checks=reversibility=1",
                        "--lower-rev", "--canonicalize", "--cse",
                        "--rev-tape-loops=remarks=1 checks=1", "-o", os.devnull],
                       input=src, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stderr


@pytest.mark.parametrize("name", ["RING", "KICK_DRIFT", "TWO_UPDATES", "THREE"])
def test_checked_mode_stores_what_unchecked_code_stores(name):
    # (checked mode's failure reports are calls, which write nothing the
    # sweeps read: they must not hide the loads after them)
    src = globals()[name]
    for options in ("loop-budget=16", "loop-budget=4096", "loop-budget=64 fuse-sweeps=0"):
        plain = re.search(r"stores .*", remark(src, options))
        checked = re.search(r"stores .*", checked_remark(src, options))
        assert plain and checked and plain.group(0) == checked.group(0), (name, options)


# Loop 2 adds 1e20 atan(P[i]) to B and takes it back in the backward sweep,
# which loses B (in double precision); loop 1's backward reads sin(B[i]) as
# the forward left it. Stored: the exact value; recomputed: garbage. Checked
# mode compares the two and reports the loss at the loop.
LOSSY = """
rev.func @lossy(%B: memref<?xf64>, %C: memref<?xf64>, %P: memref<?xf64>, %T: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %big = arith.constant 1.0e20 : f64
  %n = memref.dim %B, %c0 : memref<?xf64>
  rev.for %t = %c0 to %T step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %b = memref.load %B[%i] : memref<?xf64>
      %s = math.sin %b : f64
      rev.add_at %C[%i], %s : memref<?xf64>
    }
    rev.for %i = %c0 to %n step %c1 {
      %p = memref.load %P[%i] : memref<?xf64>
      %a = math.atan %p : f64
      %d = arith.mulf %big, %a : f64
      rev.add_at %B[%i], %d : memref<?xf64>
    }
    rev.for %i = %c0 to %n step %c1 {
      %c = memref.load %C[%i] : memref<?xf64>
      %e = math.sin %c : f64
      rev.add_at %P[%i], %e : memref<?xf64>
    }
  }
  rev.return %T : index
}
"""


def test_checked_mode_reports_a_lost_array_state():
    rng = np.random.default_rng(0)
    B, C, P = (rng.uniform(-1, 1, 5) for _ in range(3))

    def grad(p):
        bars = [np.ones(5), np.ones(5), np.ones(5)]
        p.call(p.gradient_names["lossy"], B.copy(), C.copy(), P.copy(), 2, *bars)
        return np.concatenate(bars)
    # the stored path is exact: central differences of the forward agree
    g = grad(Program(LOSSY, grad=["lossy"], loop_budget=4096))
    p = Program(LOSSY, grad=["lossy"])

    def L(B_, C_, P_):
        B_, C_, P_ = B_.copy(), C_.copy(), P_.copy()
        p.call("lossy", B_, C_, P_, 2)
        return B_.sum() + C_.sum() + P_.sum()
    assert_central_differences(L, (B, C, P), 1, g[5:10], range(5))
    with pytest.raises(RevError, match="a value stored for the backward sweep differs"):
        grad(Program(LOSSY, grad=["lossy"], loop_budget=4096, checks=True))


def ring_grad(p, X, V, k=0.7, dt=1e-2, steps=7):
    X, V = X.copy(), V.copy()
    xb, vb = np.linspace(0.5, 1.5, X.size), np.ones(V.size)
    r = p.call(p.gradient_names["ring"], X, V, k, dt, steps, 0.3, 0.2, xb, vb)
    return np.concatenate([xb, vb, [r[3], r[4]]])


def ring_objective(p, X, V, k=0.7, dt=1e-2, steps=7):
    X, V = X.copy(), V.copy()
    p.call("ring", X, V, k, dt, steps)
    return (np.linspace(0.5, 1.5, X.size) @ X + V.sum() + 0.3 * k + 0.2 * dt)


@pytest.fixture(scope="module")
def ring_data():
    rng = np.random.default_rng(3)
    return rng.uniform(-1, 1, 9), rng.uniform(-1, 1, 9)


@pytest.mark.parametrize("kw", [dict(loop_budget=8), dict(loop_budget=16),
                                dict(loop_budget=4096), dict(memory_budget=7 * 9 * 16),
                                dict(memory_budget=7 * 9 * 32), dict(memory_budget=7 * 9 * 8),
                                dict(loop_budget=4096, checks=True)])
def test_ring_every_budget_gives_the_same_gradient(ring_data, kw):
    X, V = ring_data
    ref = ring_grad(Program(RING, grad=["ring"]), X, V)
    got = ring_grad(Program(RING, grad=["ring"], **kw), X, V)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-13, err_msg=str(kw))


def test_ring_gradient_matches_finite_differences(ring_data):
    X, V = ring_data
    p = Program(RING, grad=["ring"], loop_budget=16)
    g = ring_grad(p, X, V)
    L = lambda X_, V_, k: ring_objective(p, X_, V_, k=k)
    assert_central_differences(L, (X, V, 0.7), 0, g[:9], range(9))
    assert_central_differences(L, (X, V, 0.7), 1, g[9:18], range(9))
    assert_central_differences(L, (X, V, 0.7), 2, g[18])


def two_grad(p, A, B, in_order=False, T=5):
    A, B = A.copy(), B.copy()
    ab, bb = np.linspace(1, 2, A.size), np.linspace(-1, 1, B.size)
    if in_order:
        p.call(p.gradient_names["two"], A, B, T, ab, bb)
        return np.concatenate([ab, bb])
    r = p.call(p.gradient_names["two"], A, B, 0.4, T, 1.0, ab, bb)
    return np.concatenate([ab, bb, [r[2]]])


@pytest.mark.parametrize("src", [TWO_UPDATES, TWO_IN_ORDER, KICK_DRIFT, THREE])
@pytest.mark.parametrize("kw", [dict(loop_budget=16), dict(loop_budget=4096),
                                dict(memory_budget=5 * 11 * 8),
                                dict(loop_budget=4096, checks=True)])
def test_small_programs_every_budget_gives_the_same_gradient(src, kw):
    rng = np.random.default_rng(11)
    A, B = rng.uniform(-1, 1, 11), rng.uniform(-1, 1, 11)
    if src is KICK_DRIFT:
        def grad(p):
            X, V = A.copy(), B.copy()
            xb, vb = np.ones(11), np.linspace(0, 1, 11)
            r = p.call(p.gradient_names["kick_drift"], X, V, 0.6, 0.05, 5, 1.0, 1.0, xb, vb)
            return np.concatenate([xb, vb, [r[3], r[4]]])
        name = "kick_drift"
    elif src is THREE:
        def grad(p):
            arrays = [A.copy(), B.copy(), np.cos(A), np.sin(B)]
            bars = [np.ones(11), np.linspace(0, 1, 11), np.ones(11), np.linspace(1, 2, 11)]
            r = p.call(p.gradient_names["three"], *arrays, 0.3, 3, 1.0, *bars)
            return np.concatenate(bars + [[r[2]]])
        name = "three"
    else:
        grad = lambda p: two_grad(p, A, B, in_order=src is TWO_IN_ORDER)
        name = "two"
    ref = grad(Program(src, grad=[name]))
    got = grad(Program(src, grad=[name], **kw))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-13, err_msg=str(kw))


def test_two_updates_gradient_matches_finite_differences():
    rng = np.random.default_rng(4)
    A, B = rng.uniform(-1, 1, 6), rng.uniform(-1, 1, 6)
    p = Program(TWO_UPDATES, grad=["two"], loop_budget=16)
    g = two_grad(p, A, B)

    def L(A_, B_, c=0.4):
        A_, B_ = A_.copy(), B_.copy()
        p.call("two", A_, B_, c, 5)
        return np.linspace(1, 2, 6) @ A_ + np.linspace(-1, 1, 6) @ B_ + c
    assert_central_differences(L, (A, B, 0.4), 0, g[:6], range(6))
    assert_central_differences(L, (A, B, 0.4), 1, g[6:12], range(6))
    assert_central_differences(L, (A, B, 0.4), 2, g[12])


# -- random programs: a time loop over element loops -----------------------------------
ARRAYS = ["%A", "%B", "%C"]


def random_program(rng, name):
    """T steps of 1-3 element loops, each with 1-2 updates W[i] op= f(U[i+o])
    (+ or * g(U'[i+o'])) of arrays A, B, C (W never among its own sources,
    P read-only), with a coefficient that is the active scalar %c (the
    backward loop in reverse order) or a constant (often in order), and a
    loop-carried scalar state in some loops."""
    lines = [f"rev.func @{name}(%A: memref<?xf64>, %B: memref<?xf64>, %C: memref<?xf64>, "
             "%P: memref<?xf64>, %c: f64, %y: f64, %T: index) -> (f64, f64, index) {",
             "  %c0 = arith.constant 0 : index", "  %c1 = arith.constant 1 : index",
             "  %n = memref.dim %A, %c0 : memref<?xf64>", "  %last = arith.subi %n, %c1 : index",
             "  %r = rev.for %t = %c0 to %T step %c1 iter_args(%ys = %y) -> (f64) {"]
    y = "%ys"
    for l in range(int(rng.integers(1, 4))):
        carried = bool(rng.integers(2))
        head = f"    %l{l} = rev.for %i = %c0 to %n step %c1 iter_args(%z{l} = {y}) -> (f64) {{" \
            if carried else "    rev.for %i = %c0 to %n step %c1 {"
        lines.append(head)
        lines += ["      %ip1 = arith.addi %i, %c1 : index",
                  "      %wp = arith.cmpi eq, %i, %last : index",
                  "      %ip = arith.select %wp, %c0, %ip1 : index",
                  "      %im1 = arith.subi %i, %c1 : index",
                  "      %wm = arith.cmpi eq, %i, %c0 : index",
                  "      %im = arith.select %wm, %last, %im1 : index"]
        idx = {0: "%i", 1: "%ip", -1: "%im"}
        coef = "%c" if rng.integers(2) else f"%k{l}"
        if coef != "%c":
            lines.append(f"      %k{l} = arith.constant {float(rng.uniform(0.1, 0.4))!r} : f64")
        z = f"%z{l}"
        for s in range(int(rng.integers(1, 3))):
            v = f"%s{l}_{s}"
            w = ARRAYS[int(rng.integers(3))]
            srcs = [a for a in ARRAYS + ["%P"] if a != w]
            terms = []
            for j in range(int(rng.integers(1, 3))):
                u = srcs[int(rng.integers(len(srcs)))]
                o = int(rng.integers(-1, 2))
                f = ["math.sin", "math.cos", "math.tanh"][int(rng.integers(3))]
                lines.append(f"      {v}u{j} = memref.load {u}[{idx[o]}] : memref<?xf64>")
                lines.append(f"      {v}f{j} = {f} {v}u{j} : f64")
                terms.append(f"{v}f{j}")
            e = terms[0]
            if len(terms) == 2:
                op = "arith.addf" if rng.integers(2) else "arith.mulf"
                lines.append(f"      {v}e = {op} {terms[0]}, {terms[1]} : f64")
                e = f"{v}e"
            lines.append(f"      {v}d = arith.mulf {coef}, {e} : f64")
            upd = "rev.add_at" if rng.integers(2) else "rev.sub_at"
            lines.append(f"      {upd} {w}[%i], {v}d : memref<?xf64>")
            if carried and rng.integers(2):
                lines.append(f"      {v}g = math.sin {v}d : f64")
                lines.append(f"      {v}z = rev.add {z}, {v}g : f64")
                z = f"{v}z"
        if carried:
            lines.append(f"      rev.yield {z} : f64")
            y = f"%l{l}"
        lines.append("    }")
    lines += [f"    rev.yield {y} : f64", "  }", "  rev.return %c, %r, %T : f64, f64, index", "}"]
    return "\n".join(lines)


NRANDOM = 12


@pytest.fixture(scope="module")
def random_sources():
    rng = np.random.default_rng(20261202)
    return [random_program(rng, f"R{k}") for k in range(NRANDOM)]


BUDGETS = {"0": {}, "8": dict(loop_budget=8), "16": dict(loop_budget=16),
           "4096": dict(loop_budget=4096), "mem": dict(memory_budget=4 * 9 * 24)}


@pytest.fixture(scope="module")
def random_programs(random_sources):
    src = "\n".join(random_sources)
    names = [f"R{k}" for k in range(NRANDOM)]
    return {b: Program(src, grad=names, **kw) for b, kw in BUDGETS.items()}


def random_args(seed, n=9):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, n) for _ in range(4)]


def run_random_grad(p, k, arrays, c=0.3, y=0.2, T=4):
    A, B, C, P = (a.copy() for a in arrays)
    bars = [np.linspace(0.5, 1.5, A.size), np.linspace(-1, 1, A.size), np.ones(A.size),
            np.zeros(A.size)]
    r = p.call(p.gradient_names[f"R{k}"], A, B, C, P, c, y, T, 1.0, 0.5, *bars)
    return np.concatenate([*bars, [r[3], r[4]]])


def random_objective(p, k, arrays, c=0.3, y=0.2, T=4):
    A, B, C, P = (a.copy() for a in arrays)
    r = p.call(f"R{k}", A, B, C, P, c, y, T)
    n = A.size
    return (np.linspace(0.5, 1.5, n) @ A + np.linspace(-1, 1, n) @ B + C.sum()
            + r[0] + 0.5 * r[1])


@pytest.mark.parametrize("k", range(NRANDOM))
def test_random_programs_same_gradient_at_every_budget(random_programs, k):
    arrays = random_args(k)
    ref = run_random_grad(random_programs["0"], k, arrays)
    for b, p in random_programs.items():
        np.testing.assert_allclose(run_random_grad(p, k, arrays), ref, rtol=1e-10, atol=1e-13,
                                   err_msg=f"R{k}, budget {b}")


@pytest.mark.parametrize("k", range(0, NRANDOM, 3))
def test_random_program_gradient_matches_finite_differences(random_programs, k):
    p = random_programs["4096"]
    arrays = random_args(k)
    g = run_random_grad(p, k, arrays)
    n = arrays[0].size
    L = lambda *a: random_objective(p, k, a)
    for which in range(4):
        assert_central_differences(L, arrays, which, g[which * n:(which + 1) * n], (0, 4, 8))
    assert_central_differences(lambda c: random_objective(p, k, arrays, c=c), (0.3,), 0,
                               g[4 * n])


def test_random_programs_store_array_values(random_sources):
    # most random programs have a loop whose backward body reads an array as
    # the forward iteration left it (e.g. a source that no update writes)
    stores = [stored_bytes(s, 4096) for s in random_sources]
    assert sum(1 for s in stores if s.get(1)) >= NRANDOM // 2, stores


def test_checked_mode_passes_the_random_programs(random_sources):
    src = "\n".join(random_sources)
    names = [f"R{k}" for k in range(NRANDOM)]
    p = Program(src, grad=names, loop_budget=4096, checks=True)
    p0 = Program(src, grad=names)
    for k in range(NRANDOM):
        arrays = random_args(100 + k)
        np.testing.assert_allclose(run_random_grad(p, k, arrays),
                                   run_random_grad(p0, k, arrays), rtol=1e-10, atol=1e-13)
