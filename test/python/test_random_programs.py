"""Property test: random straight-line reversible programs run forward then
backward give the inputs back: bit-exact on integers, within 1e-12 relative
on floats. Programs and inputs come from a seeded generator."""
import numpy as np
import pytest

from mlir_rev.jit import Program

NVARS = 4


def header(name, ty):
    return (f"rev.func @{name}(" + ", ".join(f"%v{i}: {ty}" for i in range(NVARS)) +
            ") -> (" + ", ".join([ty] * NVARS) + ") {")


def footer(cur, ty):
    return ["  rev.return " + ", ".join(cur) + " : " + ", ".join([ty] * NVARS), "}"]


def random_int_function(rng, name, nops):
    lines = [header(name, "i64")]
    cur = [f"%v{i}" for i in range(NVARS)]
    for n in range(nops):
        t = int(rng.integers(NVARS))
        others = [j for j in range(NVARS) if j != t]
        kind = rng.choice(["add", "sub", "xor", "neg", "swap", "mix"])
        c = int(rng.integers(-2**40, 2**40))
        if kind == "neg":
            lines.append(f"  %n{n} = rev.neg {cur[t]} : i64")
            cur[t] = f"%n{n}"
            continue
        if kind == "swap":
            u = int(rng.choice(others))
            lines.append(f"  %n{n}:2 = rev.swap {cur[t]}, {cur[u]} : i64")
            cur[t], cur[u] = f"%n{n}#0", f"%n{n}#1"
            continue
        a, b = (int(x) for x in rng.choice(others, 2))
        lines.append(f"  %c{n} = arith.constant {c} : i64")
        # delta = a * b + c (wraps around) or (a ^ c) >> 3
        if kind == "mix":
            lines.append(f"  %x{n} = arith.xori {cur[a]}, %c{n} : i64")
            lines.append(f"  %s{n} = arith.constant 3 : i64")
            lines.append(f"  %d{n} = arith.shrsi %x{n}, %s{n} : i64")
            op = "add"
        else:
            lines.append(f"  %m{n} = arith.muli {cur[a]}, {cur[b]} : i64")
            lines.append(f"  %d{n} = arith.addi %m{n}, %c{n} : i64")
            op = kind
        lines.append(f"  %n{n} = rev.{op} {cur[t]}, %d{n} : i64")
        cur[t] = f"%n{n}"
    lines += footer(cur, "i64")
    return "\n".join(lines)


def random_float_function(rng, name, nops):
    lines = [header(name, "f64")]
    cur = [f"%v{i}" for i in range(NVARS)]
    for n in range(nops):
        t = int(rng.integers(NVARS))
        others = [j for j in range(NVARS) if j != t]
        kind = rng.choice(["add", "sub", "mul", "div", "neg", "swap", "rot"])
        a, b = (int(x) for x in rng.choice(others, 2))
        c = float(rng.uniform(-2, 2))
        if kind == "neg":
            lines.append(f"  %n{n} = rev.neg {cur[t]} : f64")
            cur[t] = f"%n{n}"
            continue
        if kind in ("swap", "rot"):
            if kind == "swap":
                lines.append(f"  %n{n}:2 = rev.swap {cur[t]}, {cur[a]} : f64")
            else:
                third = [j for j in others if j != a]
                b = int(rng.choice(third))
                lines.append(f"  %th{n} = math.sin {cur[b]} : f64")
                lines.append(f"  %n{n}:2 = rev.rot {cur[t]}, {cur[a]}, %th{n} : f64")
            cur[t], cur[a] = f"%n{n}#0", f"%n{n}#1"
            continue
        lines.append(f"  %c{n} = arith.constant {c!r} : f64")
        if kind in ("mul", "div"):
            # factor in [1, 2]: never zero, bounded growth
            lines.append(f"  %s{n} = math.sin {cur[a]} : f64")
            lines.append(f"  %h{n} = arith.constant 0.5 : f64")
            lines.append(f"  %p{n} = arith.mulf %s{n}, %h{n} : f64")
            lines.append(f"  %o{n} = arith.constant 1.5 : f64")
            lines.append(f"  %d{n} = arith.addf %p{n}, %o{n} : f64")
        else:
            lines.append(f"  %s{n} = math.tanh {cur[a]} : f64")
            lines.append(f"  %e{n} = math.cos {cur[b]} : f64")
            lines.append(f"  %p{n} = arith.mulf %s{n}, %e{n} : f64")
            lines.append(f"  %d{n} = arith.mulf %p{n}, %c{n} : f64")
        lines.append(f"  %n{n} = rev.{kind} {cur[t]}, %d{n} : f64")
        cur[t] = f"%n{n}"
    lines += footer(cur, "f64")
    return "\n".join(lines)


NFUNCS = 25


@pytest.fixture(scope="module")
def programs():
    rng = np.random.default_rng(20261125)
    ints = [random_int_function(rng, f"i{k}", int(rng.integers(5, 40))) for k in range(NFUNCS)]
    floats = [random_float_function(rng, f"f{k}", int(rng.integers(5, 40)))
              for k in range(NFUNCS)]
    return Program("\n".join(ints + floats))


@pytest.mark.parametrize("k", range(NFUNCS))
def test_random_integer_programs_round_trip_bit_exact(programs, k):
    rng = np.random.default_rng(k)
    for _ in range(5):
        x = tuple(int(v) for v in rng.integers(-2**62, 2**62, NVARS))
        y = programs.call(f"i{k}", *x)
        assert programs.uncall(f"i{k}", *y) == x


@pytest.mark.parametrize("k", range(NFUNCS))
def test_random_float_programs_round_trip(programs, k):
    rng = np.random.default_rng(1000 + k)
    for _ in range(5):
        x = tuple(float(v) for v in rng.uniform(-3, 3, NVARS))
        y = programs.call(f"f{k}", *x)
        back = programs.uncall(f"f{k}", *y)
        np.testing.assert_allclose(back, x, rtol=1e-12, atol=1e-12)


def test_random_programs_are_not_identity(programs):
    # Guard against a vacuous round trip: the forward run changes the state.
    changed = 0
    for k in range(NFUNCS):
        x = (1.0, -0.5, 0.25, 2.0)
        changed += programs.call(f"f{k}", *x) != x
    assert changed >= NFUNCS - 2
