"""Random differential test of --rev-divide-by-constants (divide_by_constants=,
on by default) inside the gradients it is there for: random per-element
routines (a running ancilla multiplied and incremented by expressions that
divide the element and its square by constants, quotients divided again,
within an expression and across them) in an element loop, so --rev-pipeline-sweeps pipelines the
gradient's loop and the pass rewrites its divisions. The constants mix the
kinds the pass treats differently: one correction (3, 7), two (99, 255),
random integers and reals, powers of two and constants outside [2^-64, 2^64]
(left alone), negative ones. The inputs mix ordinary numbers with the values
the guard sends to the division (zeros, infinities, NaN, subnormals, huge
numbers). Reference: the same program with divide_by_constants=False and with
pipeline_sweeps=False; primal and gradient bit for bit (NaNs as NaNs)."""
import os
import subprocess

import numpy as np
import pytest

from mlir_rev.jit import Program
from test_divide_by_constants import REV_OPT, literal, same


def constant(rng, dtype):
    kind = rng.integers(8)
    if kind == 0:
        c = rng.choice([3.0, 7.0, 99.0, 255.0])
    elif kind == 1:
        c = float(rng.integers(2, 10 ** 6))
    elif kind == 2:
        c = float(rng.uniform(1.0, 2.0) * 2.0 ** rng.integers(-20, 21))
    elif kind == 3:
        c = 2.0 ** int(rng.integers(-10, 11))  # a power of two: left alone
    elif kind == 4:
        big = 70 if dtype == np.float64 else 20  # outside the pass's range
        c = float(rng.uniform(1.0, 2.0) * 2.0 ** (big * rng.choice([-1, 1])))
    elif kind == 5:
        c = float(rng.choice([0.1, 1.0 / 3.0, 0.7, 1.1]))
    else:
        c = float(rng.integers(3, 200)) + float(rng.integers(1, 8)) / 8
    return float(dtype(c * rng.choice([-1.0, 1.0])))


def random_program(seed, ftype):
    """Y[i] += t, t an ancilla built from X[i] by 4 or more random steps, each
    `t = t * e` or `t = t + e` with e a random expression that divides by
    constants; the routine uncomputes t."""
    dtype = np.float64 if ftype == "f64" else np.float32
    rng = np.random.default_rng(seed)
    consts, lines, count, quotients = [], [], [0], []

    def fresh():
        count[0] += 1
        return f"%v{count[0]}"

    def const():
        c = constant(rng, dtype)
        consts.append(c)
        return f"%c{len(consts) - 1}"

    def divide(a):
        v = fresh()
        lines.append(f"      {v} = arith.divf {a}, {const()} : {ftype}")
        return v

    def expression():
        kind = rng.integers(5)
        if kind == 0:  # x / c
            q = divide("%x")
        elif kind == 1:  # (x / c1) / c2: a quotient divided again
            q = divide(divide("%x"))
        elif kind == 2:  # x * x / c
            sq = fresh()
            lines.append(f"      {sq} = arith.mulf %x, %x : {ftype}")
            q = divide(sq)
        elif kind == 3 and quotients:  # an earlier expression's quotient, again
            q = divide(quotients[int(rng.integers(len(quotients)))])
        else:  # (x / c1 + x / c2) / c3 (and kind 3 with no quotient yet)
            s = fresh()
            lines.append(f"      {s} = arith.addf {divide('%x')}, {divide('%x')} : {ftype}")
            q = divide(s)
        quotients.append(q)
        if rng.integers(2):  # keep some factors near 1
            one = fresh()
            lines.append(f"      {one} = arith.addf {q}, %one : {ftype}")
            q = one
        return q

    t = fresh()
    lines.append(f"      {t} = rev.alloc : {ftype}")
    t2 = fresh()
    lines.append(f"      {t2} = rev.add {t}, %x : {ftype}")
    t = t2
    # 4-9 steps, more until the loop holds the 8 divisions (powers of two
    # not counted) that --rev-pipeline-sweeps asks for before it pipelines
    steps = int(rng.integers(4, 10))
    while steps > 0 or sum(np.frexp(abs(c))[0] != 0.5 for c in consts) < 10:
        steps -= 1
        e = expression()
        op = "rev.mul" if rng.integers(3) else "rev.add"
        nt = fresh()
        lines.append(f"      {nt} = {op} {t}, {e} : {ftype}")
        t = nt
    head = [f"rev.func @f(%X: memref<?x{ftype}>, %Y: memref<?x{ftype}>) {{",
            "  %i0 = arith.constant 0 : index", "  %i1 = arith.constant 1 : index",
            f"  %n = memref.dim %X, %i0 : memref<?x{ftype}>",
            f"  %one = arith.constant 1.0 : {ftype}"]
    head += [f"  %c{k} = arith.constant {literal(c, ftype)} : {ftype}"
             for k, c in enumerate(consts)]
    body = ["  rev.for %i = %i0 to %n step %i1 {",
            f"    %x = memref.load %X[%i] : memref<?x{ftype}>",
            "    rev.routine compute {", "    ^bb0:", *lines,
            f"      rev.yield {t} : {ftype}",
            "    } body {", f"    ^bb0(%t: {ftype}):",
            f"      rev.add_at %Y[%i], %t : memref<?x{ftype}>",
            f"      rev.yield %t : {ftype}", "    }", "  }", "  rev.return", "}"]
    return "\n".join(head + body) + "\n", consts


def inputs(seed, dtype, n):
    rng = np.random.default_rng(seed + 1000)
    x = rng.uniform(0.25, 4.0, n) * rng.choice([-1.0, 1.0], n)
    # a few lanes over the exponent range and the guard's special values
    wide = rng.uniform(1.0, 2.0, n) * 2.0 ** rng.integers(-60, 60, n)
    info = np.finfo(dtype)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, float(info.tiny), float(info.tiny) / 4,
                float(info.max), 2.0 ** -800, 2.0 ** 960]
    x = x.astype(dtype)
    pick = rng.random(n)
    x[pick < 0.1] = wide[pick < 0.1].astype(dtype)
    where = np.flatnonzero(pick > 0.97)
    with np.errstate(over="ignore"):
        x[where] = np.array(specials, np.float64)[rng.integers(len(specials), size=len(where))].astype(dtype)
    return x


def results(prog, x, yb):
    g = prog.gradient_names["f"]
    y = np.zeros_like(x)
    prog.call("f", x, y)
    y2, xb, yb = np.full_like(x, 0.5), np.full_like(x, 0.25), yb.copy()
    prog.call(g, x, y2, xb, yb)
    return y, y2, xb, yb


@pytest.mark.parametrize("seed,ftype", [(s, "f64") for s in range(10)] +
                         [(s, "f32") for s in range(10, 13)])
def test_random_routines_bit_for_bit(seed, ftype):
    dtype = np.float64 if ftype == "f64" else np.float32
    src, consts = random_program(seed, ftype)
    assert len(consts) >= 5
    # the gradient's loop is pipelined and its divisions rewritten: the
    # corrections' FMAs are there (some constant of every program is one
    # the pass certifies: the test would not see the pass otherwise)
    ir = subprocess.run([REV_OPT, "--rev-ad", "--rev-to-llvm",
                         "-mlir-print-ir-after=rev-divide-by-constants", "-o", os.devnull],
                        input=src, capture_output=True, text=True, check=True).stderr
    lo, hi = (2.0 ** -16, 2.0 ** 16) if dtype == np.float32 else (2.0 ** -64, 2.0 ** 64)
    certified = any(lo <= abs(c) <= hi and np.frexp(abs(c))[0] != 0.5 for c in consts)
    if certified:
        assert "math.fma" in ir, src
    on = Program(src, grad=["f"])
    nodiv = Program(src, grad=["f"], divide_by_constants=False)
    nopipe = Program(src, grad=["f"], pipeline_sweeps=False)
    for n in (0, 1, 3, 8, 17, 64, 1001):
        x = inputs(seed * 31 + n, dtype, n)
        yb = np.random.default_rng(n).uniform(0.5, 2.0, n).astype(dtype)
        with np.errstate(all="ignore"):
            a = results(on, x, yb)
            for other in (nodiv, nopipe):
                b = results(other, x, yb)
                for k, (u, v) in enumerate(zip(a, b)):
                    assert same(u, v), (seed, n, k)
