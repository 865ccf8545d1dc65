"""The reference interpreter (rev_reference.py, independent of the compiler)
against closed forms, and a property test: seeded random rev programs (loops
incl. `rev.for reverse`, rev.if whose branch changes its own condition,
rev.if without post, rev.while with a counter ancilla, rev.routine, explicit
ancillas, calls and uncalls, scalar and memref updates incl. *_at, swap, rot,
neg, mul/div by nonzero factors) run by the interpreter and by the compiled
code forwards, backwards (uncall) and in the gradient must agree.

Tolerances: integers bit-exact; floats relative 1e-9 (absolute 1e-9 times the
scale of the compared vector, for entries near zero). Forward and uncall run
the same operations in the same order in both, so they agree to rounding;
gradients (forward-mode duals in the interpreter, reverse computing in rev)
differ by rounding only.
"""
import math

import numpy as np
import pytest

from mlir_rev.jit import Program
from rev_reference import Interpreter, ReferenceError_

FLOATS = ["x0", "x1", "x2"]
INTS = ["k0", "k1"]  # k0: wraps around freely; k1: small ("tame"), for conditions and bounds
SIG = ("(%x0: f64, %x1: f64, %x2: f64, %k0: i64, %k1: i64, %A: memref<4xf64>, "
       "%B: memref<4xf64>, %K: memref<4xi64>) -> (f64, f64, f64, i64, i64)")
RES_TYPES = "f64, f64, f64, i64, i64"


# ---------------------------------------------------------------------------
# (a) hand-written checks against closed forms
# ---------------------------------------------------------------------------
def test_straightline_closed_form_and_inverse():
    src = """
rev.func @f(%x: f64, %y: f64, %k: i64) -> (f64, f64, i64) {
  %sq = arith.mulf %x, %x : f64
  %y1 = rev.add %y, %sq : f64
  %c3 = arith.constant 3.0 : f64
  %y2 = rev.mul %y1, %c3 : f64
  %t = arith.constant 0.25 : f64
  %r:2 = rev.rot %x, %y2, %t : f64
  %seven = arith.constant 7 : i64
  %k1 = rev.xor %k, %seven : i64
  %big = arith.constant 9223372036854775807 : i64
  %k2 = rev.add %k1, %big : i64
  rev.return %r#0, %r#1, %k2 : f64, f64, i64
}"""
    I = Interpreter(src)
    x, y, k = 1.5, -0.75, 41
    y2 = (y + x * x) * 3
    c, s = math.cos(0.25), math.sin(0.25)
    out = I.call("f", x, y, k)
    assert out[0] == pytest.approx(x * c - y2 * s, rel=1e-15)
    assert out[1] == pytest.approx(x * s + y2 * c, rel=1e-15)
    assert out[2] == (k ^ 7) + 2**63 - 1 - 2**64  # wraps around
    back = I.uncall("f", *out)
    assert back[2] == k
    np.testing.assert_allclose(back[:2], (x, y), rtol=1e-14)
    # d out0 / dx = c - 3 s * 2x, d out0 / dy = -3 s
    _, _, J = I.jacobian("f", x, y, k)
    np.testing.assert_allclose(J, [[c - 6 * x * s, -3 * s], [s + 6 * x * c, 3 * c]],
                               rtol=1e-14)


def test_loops_while_if_routine_closed_forms():
    src = """
rev.func @series(%x: f64, %s: f64, %n: index) -> (f64, f64, index) {
  %c1 = arith.constant 1 : index
  %n1 = arith.addi %n, %c1 : index
  %t0 = rev.alloc init 1.0 : f64
  %r:2 = rev.for %i = %c1 to %n1 step %c1 iter_args(%a = %s, %t = %t0) -> (f64, f64) {
    %ii = arith.index_cast %i : index to i64
    %fi = arith.sitofp %ii : i64 to f64
    %q = arith.divf %x, %fi : f64
    %t1 = rev.mul %t, %q : f64
    %a1 = rev.add %a, %t1 : f64
    rev.yield %a1, %t1 : f64, f64
  }
  %back = rev.for reverse %i = %c1 to %n1 step %c1 iter_args(%t = %r#1) -> (f64) {
    %ii = arith.index_cast %i : index to i64
    %fi = arith.sitofp %ii : i64 to f64
    %q = arith.divf %x, %fi : f64
    %t1 = rev.div %t, %q : f64
    rev.yield %t1 : f64
  }
  rev.free %back init 1.0 : f64
  rev.return %x, %r#0, %n : f64, f64, index
}
rev.func @count(%x: f64, %n: i64) -> (f64, i64) {
  %k0 = rev.alloc : i64
  %r:2 = rev.while %k0, %x : i64, f64 pre {
  ^bb0(%k: i64, %a: f64):
    %c = arith.cmpi slt, %k, %n : i64
    rev.cond %c
  } do {
  ^bb0(%k: i64, %a: f64):
    %one = arith.constant 1 : i64
    %k1 = rev.add %k, %one : i64
    %h = arith.constant 2.0 : f64
    %a1 = rev.mul %a, %h : f64
    rev.yield %k1, %a1 : i64, f64
  } post {
  ^bb0(%k: i64, %a: f64):
    %z = arith.constant 0 : i64
    %c = arith.cmpi sgt, %k, %z : i64
    rev.cond %c
  }
  %k2 = rev.sub %r#0, %n : i64
  rev.free %k2 : i64
  %s:2 = rev.if %r#1, %n : f64, i64 pre {
  ^bb0(%a: f64, %m: i64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64, %m: i64):
    %h = arith.constant 4.0 : f64
    %a1 = rev.add %a, %h : f64
    rev.yield %a1, %m : f64, i64
  } else {
  ^bb0(%a: f64, %m: i64):
    %a1 = rev.neg %a : f64
    %a2 = rev.neg %a1 : f64
    rev.yield %a2, %m : f64, i64
  } post {
  ^bb0(%a: f64, %m: i64):
    %h = arith.constant 4.0 : f64
    %c = arith.cmpf ogt, %a, %h : f64
    rev.cond %c
  }
  rev.return %s#0, %s#1 : f64, i64
}
rev.func @sq(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %t = rev.alloc : f64
    %sq = arith.mulf %a, %a : f64
    %t1 = rev.add %t, %sq : f64
    rev.yield %a, %b, %t1 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64):
    %b1 = rev.add %b, %t : f64
    rev.yield %a, %b1, %t : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}"""
    I = Interpreter(src)
    x, n = 0.7, 12
    out = I.call("series", x, 0.0, n)
    assert out[1] == pytest.approx(math.exp(x) - 1, rel=1e-9)
    assert I.uncall("series", *out) == pytest.approx((x, 0.0, n), abs=1e-15)
    _, _, J = I.jacobian("series", x, 0.0, n)
    assert J[1, 0] == pytest.approx(sum(x**(i - 1) / math.factorial(i - 1)
                                        for i in range(1, n + 1)), rel=1e-12)
    assert I.call("count", 1.5, 3) == (1.5 * 8 + 4, 3)
    assert I.call("count", -1.5, 2) == (-6.0, 2)
    assert I.uncall("count", 16.0, 3) == (1.5, 3)
    assert I.uncall("count", -6.0, 2) == (-1.5, 2)
    assert I.call("sq", 3.0, 1.0) == (3.0, 10.0)
    assert I.uncall("sq", 3.0, 10.0) == (3.0, 1.0)
    _, _, J = I.jacobian("sq", 3.0, 1.0)
    np.testing.assert_allclose(J, [[1, 0], [6, 1]])
    # J^T seed, the layout of mlir_rev.ad's vjp
    assert I.vjp("sq", (3.0, 1.0), [0.5, 2.0], []) == pytest.approx((12.5, 2.0))


def test_interpreter_checks_rules():
    src = """
rev.func @leak(%x: f64) -> f64 {
  %t = rev.alloc : f64
  %t1 = rev.add %t, %x : f64
  rev.free %t1 : f64
  rev.return %x : f64
}
rev.func @wrong_post(%x: f64) -> f64 {
  %r = rev.if %x : f64 pre {
  ^bb0(%a: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64):
    rev.yield %a : f64
  } post {
  ^bb0(%a: f64):
    %o = arith.constant 1.0 : f64
    %c = arith.cmpf ogt, %a, %o : f64
    rev.cond %c
  }
  rev.return %r : f64
}
rev.func @acc(%A: memref<2xf64>, %i: index, %j: index) -> (index, index) {
  %v = memref.load %A[%j] : memref<2xf64>
  rev.add_at %A[%i], %v : memref<2xf64>
  rev.return %i, %j : index, index
}"""
    I = Interpreter(src)
    with pytest.raises(ReferenceError_, match="ancilla"):
        I.call("leak", 3.0)
    assert I.call("leak", 0.0) == (0.0,)
    with pytest.raises(ReferenceError_, match="post-condition"):
        I.call("wrong_post", 0.5)
    A = np.array([1.0, 2.0])
    I.call("acc", A, 0, 1)
    assert list(A) == [3.0, 2.0]
    with pytest.raises(ReferenceError_, match="element"):
        I.call("acc", A, 1, 1)


def test_reference_agrees_with_compiled_examples():
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    src = open(os.path.join(root, "examples", "leapfrog.mlir")).read()
    I = Interpreter(src)
    name = [f for f in I.funcs][0]
    assert name == "leapfrog"
    X, V = np.array([1.0, 2.0, 3.0]), np.zeros(3)
    X2, V2 = X.copy(), V.copy()
    out = I.call("leapfrog", X, V, 1.0, 0.01, 1000)
    P = Program(src)
    out2 = P.call("leapfrog", X2, V2, 1.0, 0.01, 1000)
    assert out == tuple(out2)
    np.testing.assert_allclose(X, X2, rtol=1e-12)
    np.testing.assert_allclose(X, np.cos(10.0) * np.array([1.0, 2.0, 3.0]), rtol=1e-3)
    I.uncall("leapfrog", X, V, *out)
    np.testing.assert_allclose(X, [1, 2, 3], rtol=1e-10)


# ---------------------------------------------------------------------------
# (b) random programs
# ---------------------------------------------------------------------------
class _Var:
    __slots__ = ("ssa", "ty", "writable", "kind")

    def __init__(self, ssa, ty, writable, kind):
        self.ssa, self.ty, self.writable, self.kind = ssa, ty, writable, kind


class FuncGen:
    """Generates one rev.func with the common signature SIG. `callees`: the
    functions it may call or uncall (defined earlier in the module)."""

    def __init__(self, rng, name, callees, max_depth=2):
        self.rng = rng
        self.name = name
        self.callees = callees  # {name: whether its inverse is total}
        # False once the function's inverse is defined only on its image (an
        # if whose post is "c > BIG"): it may be called, never uncalled
        self.total = True
        self.max_depth = max_depth
        self.n = 0
        self.lines = []
        self.ind = 1
        self.no_loads = False

    # -- helpers
    def fresh(self, p="v"):
        self.n += 1
        return f"%{p}{self.n}"

    def emit(self, s):
        self.lines.append("  " * self.ind + s)

    def r(self, k):
        return int(self.rng.integers(k))

    def chance(self, p):
        return self.rng.random() < p

    def const_f(self, c):
        v = self.fresh("c")
        self.emit(f"{v} = arith.constant {float(c)!r} : f64")
        return v

    def const_i(self, c, ty="i64"):
        v = self.fresh("c")
        self.emit(f"{v} = arith.constant {int(c)} : {ty}")
        return v

    def index(self, scope, base, off):
        """The SSA index for (base, off): base None -> constant off, else
        (iv + off) mod 4."""
        if base is None:
            return self.const_i(off % 4, "index")
        if off % 4 == 0:
            return scope["$iv"]
        o = self.const_i(off % 4, "index")
        s = self.fresh("ix")
        self.emit(f"{s} = arith.addi {scope['$iv']}, {o} : index")
        m = self.const_i(4, "index")
        t = self.fresh("ix")
        self.emit(f"{t} = arith.remui {s}, {m} : index")
        return t

    def rand_elem(self, scope):
        """(memref, base, off): an element of A or B."""
        mem = "%A" if self.chance(0.5) else "%B"
        base = "$iv" if "$iv" in scope and self.chance(0.7) else None
        return mem, base, self.r(4)

    @staticmethod
    def same_elem(e1, e2):
        """Whether two elements may be the same at run time."""
        if e1[0] != e2[0]:
            return False
        if e1[1] == e2[1]:
            return (e1[2] - e2[2]) % 4 == 0
        return True  # a constant index and an iv-based one may coincide

    # -- expressions
    def fleaf(self, scope, avoid, avoid_elems):
        """A float pure value from current versions (not in `avoid`), loads,
        the loop index or constants."""
        # not the wild int (about 2**62: it would wipe out the floats' precision)
        opts = [v for v, x in scope.items() if not v.startswith("$") and v not in avoid
                and x.kind != "wild"]
        k = self.r(10)
        if k < 5 and opts:
            v = opts[self.r(len(opts))]
            x = scope[v]
            if x.ty == "f64":
                return x.ssa
            s = self.fresh("f")
            self.emit(f"{s} = arith.sitofp {x.ssa} : {x.ty} to f64")
            return s
        if k < 8 and not self.no_loads:
            for _ in range(4):
                e = self.rand_elem(scope)
                if not any(self.same_elem(e, a) for a in avoid_elems):
                    idx = self.index(scope, e[1], e[2])
                    s = self.fresh("ld")
                    self.emit(f"{s} = memref.load {e[0]}[{idx}] : memref<4xf64>")
                    return s
        if k == 8 and "$iv" in scope:
            i = self.fresh("i")
            self.emit(f"{i} = arith.index_cast {scope['$iv']} : index to i64")
            s = self.fresh("f")
            self.emit(f"{s} = arith.sitofp {i} : i64 to f64")
            return s
        return self.const_f(round(float(self.rng.uniform(-2, 2)), 3))

    def fexpr(self, scope, avoid=(), avoid_elems=()):
        """A bounded-ish float delta."""
        a = self.fleaf(scope, avoid, avoid_elems)
        b = self.fleaf(scope, avoid, avoid_elems)
        c = self.const_f(round(float(self.rng.uniform(-1.5, 1.5)), 3))
        k = self.r(4)
        s = self.fresh("e")
        if k == 0:
            t = self.fresh("e")
            self.emit(f"{t} = math.tanh {a} : f64")
            u = self.fresh("e")
            self.emit(f"{u} = math.cos {b} : f64")
            self.emit(f"{s} = arith.mulf {t}, {u} : f64")
        elif k == 1:
            t = self.fresh("e")
            self.emit(f"{t} = arith.mulf {a}, {b} : f64")
            self.emit(f"{s} = math.sin {t} : f64")
        elif k == 2:
            t = self.fresh("e")
            self.emit(f"{t} = arith.subf {a}, {b} : f64")
            self.emit(f"{s} = math.tanh {t} : f64")
        else:  # linear, scaled down
            h = self.const_f(0.25)
            t = self.fresh("e")
            self.emit(f"{t} = arith.mulf {a}, {h} : f64")
            u = self.fresh("e")
            self.emit(f"{u} = math.sin {b} : f64")
            self.emit(f"{s} = arith.addf {t}, {u} : f64")
        d = self.fresh("d")
        self.emit(f"{d} = arith.mulf {s}, {c} : f64")
        return d

    def factor(self, scope, avoid=(), avoid_elems=()):
        """A multiplier in +-[1, 2] (never zero)."""
        a = self.fleaf(scope, avoid, avoid_elems)
        s = self.fresh("e")
        self.emit(f"{s} = math.sin {a} : f64")
        h = self.const_f(0.5)
        p = self.fresh("e")
        self.emit(f"{p} = arith.mulf {s}, {h} : f64")
        o = self.const_f(-1.5 if self.chance(0.3) else 1.5)
        d = self.fresh("m")
        self.emit(f"{d} = arith.addf {p}, {o} : f64")
        return d

    def iexpr(self, scope, avoid, tame):
        """An i64 delta: small for the tame variable, anything for the wild one."""
        if tame:
            if "$iv" in scope and self.chance(0.3):
                s = self.fresh("i")
                self.emit(f"{s} = arith.index_cast {scope['$iv']} : index to i64")
                return s
            return self.const_i(int(self.rng.integers(1, 6)))
        opts = [v for v, x in scope.items() if not v.startswith("$") and v not in avoid
                and x.ty == "i64"]
        src = scope[opts[self.r(len(opts))]].ssa if opts else self.const_i(12345)
        c = self.const_i(int(self.rng.integers(-2**40, 2**40)))
        s = self.fresh("i")
        if self.chance(0.5):
            self.emit(f"{s} = arith.muli {src}, {c} : i64")
        else:
            x = self.fresh("i")
            self.emit(f"{x} = arith.xori {src}, {c} : i64")
            three = self.const_i(3)
            self.emit(f"{s} = arith.shrsi {x}, {three} : i64")
        return s

    # -- statements
    def writable(self, scope, ty=None):
        return [v for v, x in scope.items() if not v.startswith("$") and x.writable
                and (ty is None or x.ty == ty) and x.kind in ("f", "wild", "tame")]

    def set(self, scope, v, ssa):
        scope[v].ssa = ssa

    def stmt(self, scope, depth):
        kinds = ["fupd", "fupd", "iupd", "neg", "swap", "rot", "at", "at", "at_misc"]
        if depth < self.max_depth:
            kinds += ["for", "for", "if_post", "if_plain", "while", "routine", "ancilla"]
        if self.callees and all(scope[v].writable for v in FLOATS + INTS):
            kinds += ["call"]
        getattr(self, "s_" + kinds[self.r(len(kinds))])(scope, depth)

    def block(self, scope, depth, n):
        for _ in range(n):
            self.stmt(scope, depth)

    def s_fupd(self, scope, depth):
        w = self.writable(scope, "f64")
        if not w:
            return
        t = w[self.r(len(w))]
        op = ["add", "sub", "mul", "div"][self.r(4)]
        d = self.fexpr(scope, {t}) if op in ("add", "sub") else self.factor(scope, {t})
        s = self.fresh("x")
        self.emit(f"{s} = rev.{op} {scope[t].ssa}, {d} : f64")
        self.set(scope, t, s)

    def s_iupd(self, scope, depth):
        w = self.writable(scope, "i64")
        if not w:
            return
        t = w[self.r(len(w))]
        tame = scope[t].kind == "tame"
        op = ["add", "sub"][self.r(2)] if tame else ["add", "sub", "xor"][self.r(3)]
        d = self.iexpr(scope, {t}, tame)
        s = self.fresh("k")
        self.emit(f"{s} = rev.{op} {scope[t].ssa}, {d} : i64")
        self.set(scope, t, s)

    def s_neg(self, scope, depth):
        w = [v for v in self.writable(scope) if scope[v].kind != "tame"]
        if not w:
            return
        t = w[self.r(len(w))]
        s = self.fresh("n")
        self.emit(f"{s} = rev.neg {scope[t].ssa} : {scope[t].ty}")
        self.set(scope, t, s)

    def s_swap(self, scope, depth):
        w = self.writable(scope, "f64")
        if len(w) < 2:
            return
        a, b = (w[i] for i in self.rng.choice(len(w), 2, replace=False))
        s = self.fresh("s")
        self.emit(f"{s}:2 = rev.swap {scope[a].ssa}, {scope[b].ssa} : f64")
        self.set(scope, a, s + "#0")
        self.set(scope, b, s + "#1")

    def s_rot(self, scope, depth):
        w = self.writable(scope, "f64")
        if len(w) < 2:
            return
        a, b = (w[i] for i in self.rng.choice(len(w), 2, replace=False))
        th = self.fleaf(scope, {a, b}, ())
        s = self.fresh("r")
        op = "rot" if self.chance(0.6) else "irot"
        self.emit(f"{s}:2 = rev.{op} {scope[a].ssa}, {scope[b].ssa}, {th} : f64")
        self.set(scope, a, s + "#0")
        self.set(scope, b, s + "#1")

    def s_at(self, scope, depth):
        if self.chance(0.2):  # the integer memref
            idx = self.index(scope, *(("$iv", self.r(4)) if "$iv" in scope else (None, self.r(4))))
            d = self.iexpr(scope, set(), tame=False)
            op = ["add_at", "sub_at", "xor_at"][self.r(3)]
            self.emit(f"rev.{op} %K[{idx}], {d} : memref<4xi64>")
            return
        e = self.rand_elem(scope)
        op = ["add_at", "sub_at", "mul_at", "div_at"][self.r(4)]
        d = (self.fexpr(scope, (), [e]) if op in ("add_at", "sub_at")
             else self.factor(scope, (), [e]))
        idx = self.index(scope, e[1], e[2])
        self.emit(f"rev.{op} {e[0]}[{idx}], {d} : memref<4xf64>")

    def s_at_misc(self, scope, depth):
        e1 = self.rand_elem(scope)
        k = self.r(3)
        if k == 0:
            i1 = self.index(scope, e1[1], e1[2])
            self.emit(f"rev.neg_at {e1[0]}[{i1}] : memref<4xf64>")
            return
        for _ in range(10):
            e2 = self.rand_elem(scope)
            if not self.same_elem(e1, e2):
                break
        else:
            return
        i1 = self.index(scope, e1[1], e1[2])
        i2 = self.index(scope, e2[1], e2[2])
        if k == 1:
            self.emit(f"rev.swap_at {e1[0]}[{i1}], {e2[0]}[{i2}] : memref<4xf64>, memref<4xf64>")
        else:
            th = self.fleaf(scope, (), [e1, e2])
            op = "rot_at" if self.chance(0.5) else "irot_at"
            self.emit(f"rev.{op} {e1[0]}[{i1}], {e2[0]}[{i2}], {th} : "
                      "memref<4xf64>, memref<4xf64>, f64")

    def s_call(self, scope, depth):
        names = sorted(self.callees)
        g = names[self.r(len(names))]
        perm = list(self.rng.permutation(3))
        fl = [FLOATS[i] for i in perm]
        mem = ["%A", "%B"] if self.chance(0.5) else ["%B", "%A"]
        args = [scope[v].ssa for v in fl + INTS]
        s = self.fresh("call")
        op = "call" if self.chance(0.6) or not self.callees[g] else "uncall"
        self.total &= self.callees[g]
        self.emit(f"{s}:5 = rev.{op} @{g}({', '.join(args)}, {mem[0]}, {mem[1]}, %K) : "
                  f"(f64, f64, f64, i64, i64, memref<4xf64>, memref<4xf64>, memref<4xi64>) "
                  f"-> ({RES_TYPES})")
        for i, v in enumerate(fl + INTS):
            self.set(scope, v, f"{s}#{i}")

    # region helpers
    def enter(self, scope, T, names=None):
        """The scope inside a region threading T (block arguments named fresh)."""
        inner = {}
        for v, x in scope.items():
            if isinstance(x, str):  # the loop index
                inner[v] = x
            else:
                inner[v] = _Var(x.ssa, x.ty, x.writable and v in T, x.kind)
        args = []
        for v in T:
            a = self.fresh("a")
            inner[v].ssa = a
            args.append(f"{a}: {scope[v].ty}")
        return inner, ", ".join(args)

    def yield_(self, inner, T):
        if T:
            self.emit("rev.yield " + ", ".join(inner[v].ssa for v in T) + " : " +
                      ", ".join(inner[v].ty for v in T))

    def results(self, scope, T, r):
        for i, v in enumerate(T):
            self.set(scope, v, f"{r}#{i}" if len(T) > 1 else r)

    def pick_threaded(self, scope, must=()):
        w = self.writable(scope)
        if self.chance(0.4):
            T = list(w)
        else:
            T = [v for v in w if self.chance(0.5)]
        for m in must:
            if m not in T:
                T.append(m)
        return T

    def rtag(self, r, T):
        return f"{r}:{len(T)}" if len(T) > 1 else r

    def s_for(self, scope, depth):
        T = self.pick_threaded(scope)
        lb = self.r(2)
        step = 1 if self.chance(0.7) else 2
        if "k1" not in T and self.chance(0.4):  # a bound from the (read-only) tame int
            three = self.const_i(3)
            m = self.fresh("b")
            self.emit(f"{m} = arith.andi {scope['k1'].ssa}, {three} : i64")
            m1 = self.fresh("b")
            self.emit(f"{m1} = arith.index_cast {m} : i64 to index")
            one = self.const_i(1, "index")
            ub = self.fresh("b")
            self.emit(f"{ub} = arith.addi {m1}, {one} : index")  # in [1, 4]
        else:
            ub = self.const_i(int(self.rng.integers(lb, 5)), "index")
        lbv = self.const_i(lb, "index")
        st = self.const_i(step, "index")
        rev = " reverse" if self.chance(0.4) else ""
        iv = self.fresh("iv")
        inner, _ = self.enter(scope, T)
        inner["$iv"] = iv
        r = self.fresh("for")
        its = ", ".join(f"{inner[v].ssa} = {scope[v].ssa}" for v in T)
        head = f"{self.rtag(r, T)} = " if T else ""
        tail = (f" iter_args({its}) -> (" + ", ".join(scope[v].ty for v in T) + ")") if T else ""
        self.emit(f"{head}rev.for{rev} {iv} = {lbv} to {ub} step {st}{tail} {{")
        self.ind += 1
        self.block(inner, depth + 1, int(self.rng.integers(1, 4)))
        self.yield_(inner, T)
        self.ind -= 1
        self.emit("}")
        self.results(scope, T, r)

    def cond_region(self, kw, args, body):
        self.emit(f"}} {kw} {{" if kw != "pre" else "pre {")
        self.emit(f"^bb0({args}):")
        self.ind += 1
        body()
        self.ind -= 1

    def s_if_post(self, scope, depth):
        """A branch that changes the variable its condition reads, so a post
        condition is needed. Three shapes (c a float or the tame int):
        NiLang's  if (c > 0) { c += BIG } post (c > BIG)  (not onto: the
        inverse is defined on the image only); for floats
        if (c > 0) { c *= positive } post (0 < c); for ints
        if (c even) { c += 2 } post (c & 1 != 1)."""
        cands = [v for v in self.writable(scope) if scope[v].kind in ("f", "tame")]
        if not cands:
            return
        c = cands[self.r(len(cands))]
        T = self.pick_threaded(scope, must=[c])
        ty = scope[c].ty
        big = self.chance(0.5)
        if big:
            self.total = False
        tys = ", ".join(scope[v].ty for v in T)
        r = self.fresh("if")
        self.emit(f"{self.rtag(r, T)} = rev.if " + ", ".join(scope[v].ssa for v in T) +
                  f" : {tys} pre {{")

        def cond(post):
            self.ind += 1
            inner, args = self.enter(scope, T)
            self.emit(f"^bb0({args}):")
            q = self.fresh("q")
            cv = inner[c].ssa
            if ty == "f64":
                z = self.const_f(4.0 if big and post else 0.0)
                if post and not big:
                    self.emit(f"{q} = arith.cmpf olt, {z}, {cv} : f64")
                else:
                    self.emit(f"{q} = arith.cmpf ogt, {cv}, {z} : f64")
            elif big:
                z = self.const_i(1000 if post else 0)
                self.emit(f"{q} = arith.cmpi sgt, {cv}, {z} : i64")
            else:
                one = self.const_i(1)
                a = self.fresh("q")
                self.emit(f"{a} = arith.andi {cv}, {one} : i64")
                if post:
                    self.emit(f"{q} = arith.cmpi ne, {a}, {one} : i64")
                else:
                    z = self.const_i(0)
                    self.emit(f"{q} = arith.cmpi eq, {a}, {z} : i64")
            self.emit(f"rev.cond {q}")
            self.ind -= 1

        cond(False)
        for kw in ("then", "else"):
            self.emit(f"}} {kw} {{")
            self.ind += 1
            inner, args = self.enter(scope, T)
            self.emit(f"^bb0({args}):")
            inner[c].writable = False
            if kw == "then":
                if big or ty == "i64":
                    b = self.fresh("big")
                    amount = ("4.0" if ty == "f64" else "1000") if big else "2"
                    self.emit(f"{b} = arith.constant {amount} : {ty}")
                    s = self.fresh("x")
                    self.emit(f"{s} = rev.add {inner[c].ssa}, {b} : {ty}")
                else:
                    m = self.factor(inner, {c})
                    pos = self.fresh("e")
                    self.emit(f"{pos} = math.absf {m} : f64")
                    s = self.fresh("x")
                    self.emit(f"{s} = rev.mul {inner[c].ssa}, {pos} : f64")
                inner[c].ssa = s
            self.block(inner, depth + 1, int(self.rng.integers(0, 3)))
            self.yield_(inner, T)
            self.ind -= 1
        self.emit("} post {")
        cond(True)
        self.emit("}")
        self.results(scope, T, r)

    def s_if_plain(self, scope, depth):
        """if without post: the condition reads a variable the branches do not thread."""
        T = self.pick_threaded(scope)
        outside = [v for v in scope if not v.startswith("$") and v not in T]
        if not T or not outside:
            return
        c = outside[self.r(len(outside))]
        tys = ", ".join(scope[v].ty for v in T)
        r = self.fresh("if")
        self.emit(f"{self.rtag(r, T)} = rev.if " + ", ".join(scope[v].ssa for v in T) +
                  f" : {tys} pre {{")
        self.ind += 1
        inner, args = self.enter(scope, T)
        self.emit(f"^bb0({args}):")
        q = self.fresh("q")
        if scope[c].ty == "f64":
            z = self.const_f(round(float(self.rng.uniform(-1, 1)), 2))
            self.emit(f"{q} = arith.cmpf olt, {scope[c].ssa}, {z} : f64")
        else:
            one = self.const_i(1, scope[c].ty)
            a = self.fresh("q")
            self.emit(f"{a} = arith.andi {scope[c].ssa}, {one} : {scope[c].ty}")
            zero = self.const_i(0, scope[c].ty)
            self.emit(f"{q} = arith.cmpi eq, {a}, {zero} : {scope[c].ty}")
        self.emit(f"rev.cond {q}")
        self.ind -= 1
        kws = ["then", "else"] if self.chance(0.6) else ["then"]
        for kw in kws:
            self.emit(f"}} {kw} {{")
            self.ind += 1
            inner, args = self.enter(scope, T)
            self.emit(f"^bb0({args}):")
            self.block(inner, depth + 1, int(self.rng.integers(1, 3)))
            self.yield_(inner, T)
            self.ind -= 1
        self.emit("}")
        self.results(scope, T, r)

    def s_while(self, scope, depth):
        """k = 0; while (k < m) { k += 1; ... } (k > 0); k -= m; free k."""
        T = self.pick_threaded(scope)
        if "k1" not in T and self.chance(0.5):
            three = self.const_i(3)
            m = self.fresh("lim")
            self.emit(f"{m} = arith.andi {scope['k1'].ssa}, {three} : i64")
        else:
            m = self.const_i(self.r(4))
        k0 = self.fresh("ctr")
        self.emit(f"{k0} = rev.alloc : i64")
        ctr = f"$ctr{self.n}"
        scope[ctr] = _Var(k0, "i64", False, "ctr")
        TT = [ctr] + T
        tys = ", ".join(scope[v].ty for v in TT)
        r = self.fresh("wh")
        self.emit(f"{self.rtag(r, TT)} = rev.while " + ", ".join(scope[v].ssa for v in TT) +
                  f" : {tys} pre {{")

        def cond(pred, bound):
            inner, args = self.enter(scope, TT)
            self.emit(f"^bb0({args}):")
            q = self.fresh("q")
            self.emit(f"{q} = arith.cmpi {pred}, {inner[ctr].ssa}, {bound} : i64")
            self.emit(f"rev.cond {q}")

        self.ind += 1
        cond("slt", m)
        self.ind -= 1
        self.emit("} do {")
        self.ind += 1
        inner, args = self.enter(scope, TT)
        self.emit(f"^bb0({args}):")
        one = self.const_i(1)
        k1 = self.fresh("ctr")
        self.emit(f"{k1} = rev.add {inner[ctr].ssa}, {one} : i64")
        inner[ctr].ssa = k1
        self.block(inner, depth + 1, int(self.rng.integers(1, 3)))
        self.yield_(inner, TT)
        self.ind -= 1
        self.emit("} post {")
        self.ind += 1
        z = self.fresh("z")
        inner, args = self.enter(scope, TT)
        self.emit(f"^bb0({args}):")
        self.emit(f"{z} = arith.constant 0 : i64")
        q = self.fresh("q")
        self.emit(f"{q} = arith.cmpi sgt, {inner[ctr].ssa}, {z} : i64")
        self.emit(f"rev.cond {q}")
        self.ind -= 1
        self.emit("}")
        self.results(scope, TT, r)
        k2 = self.fresh("ctr")
        self.emit(f"{k2} = rev.sub {scope[ctr].ssa}, {m} : i64")
        self.emit(f"rev.free {k2} : i64")
        del scope[ctr]

    def s_ancilla(self, scope, depth):
        """t = alloc; t += e(R); statements that read t and leave R alone;
        t -= e(R); free t."""
        fl = [v for v in scope if not v.startswith("$") and scope[v].ty == "f64"]
        R = [v for v in fl if self.chance(0.5)] or fl[:1]
        init = 0.0 if self.chance(0.5) else 2.5
        t = self.fresh("anc")
        self.emit(f"{t} = rev.alloc : f64" if init == 0.0 else f"{t} = rev.alloc init 2.5 : f64")
        notR = set(v for v in scope if not v.startswith("$")) - set(R)
        e = self.fexpr(scope, avoid=notR, avoid_elems=[(m, b, o) for m in ("%A", "%B")
                                                       for b in (None, "$iv") for o in range(4)])
        t1 = self.fresh("anc")
        self.emit(f"{t1} = rev.add {t}, {e} : f64")
        name = f"$anc{self.n}"
        saved = {v: scope[v].writable for v in R}
        for v in R:
            scope[v].writable = False
        scope[name] = _Var(t1, "f64", False, "anc")
        # the ancilla is readable: expose it as a plain name for the leaves
        scope["t" + name[1:]] = scope.pop(name)
        self.block(scope, depth + 1, int(self.rng.integers(1, 3)))
        tv = scope.pop("t" + name[1:])
        for v in R:
            scope[v].writable = saved[v]
        t2 = self.fresh("anc")
        self.emit(f"{t2} = rev.sub {tv.ssa}, {e} : f64")
        self.emit(f"rev.free {t2} : f64" if init == 0.0 else f"rev.free {t2} init 2.5 : f64")

    def s_routine(self, scope, depth):
        """compute { t = alloc; t += e(R); W updates } body { updates outside R } ."""
        T = self.pick_threaded(scope)
        if not T:
            return
        tys = ", ".join(scope[v].ty for v in T)
        r = self.fresh("rt")
        self.emit(f"{self.rtag(r, T)} = rev.routine " + ", ".join(scope[v].ssa for v in T) +
                  f" : {tys} compute {{")
        self.ind += 1
        inner, args = self.enter(scope, T)
        self.emit(f"^bb0({args}):")
        fl = [v for v in inner if not v.startswith("$") and inner[v].ty == "f64"]
        R = [v for v in fl if self.chance(0.4)] or fl[:1]
        t = self.fresh("anc")
        self.emit(f"{t} = rev.alloc : f64")
        notR = set(v for v in inner if not v.startswith("$")) - set(R)
        e = self.fexpr(inner, avoid=notR, avoid_elems=[(m, b, o) for m in ("%A", "%B")
                                                       for b in (None, "$iv") for o in range(4)])
        t1 = self.fresh("anc")
        self.emit(f"{t1} = rev.add {t}, {e} : f64")
        for v in R:
            inner[v].writable = False
        inner["tanc"] = _Var(t1, "f64", False, "anc")
        # W updates in compute: scalars only, no loads (the body may write memrefs)
        self.no_loads = True
        for _ in range(self.r(3)):
            [self.s_fupd, self.s_iupd, self.s_swap][self.r(3)](inner, depth + 1)
        self.no_loads = False
        self.emit("rev.yield " + ", ".join(inner[v].ssa for v in T + ["tanc"]) + " : " +
                  ", ".join([scope[v].ty for v in T] + ["f64"]))
        self.ind -= 1
        self.emit("} body {")
        self.ind += 1
        inner2, args = self.enter(scope, T)
        ta = self.fresh("a")
        self.emit(f"^bb0({args}{', ' if args else ''}{ta}: f64):")
        for v in R:
            inner2[v].writable = False
        inner2["tanc"] = _Var(ta, "f64", False, "anc")
        self.block(inner2, depth + 1, int(self.rng.integers(1, 3)))
        self.emit("rev.yield " + ", ".join(inner2[v].ssa for v in T + ["tanc"]) + " : " +
                  ", ".join([scope[v].ty for v in T] + ["f64"]))
        self.ind -= 1
        self.emit("}")
        self.results(scope, T, r)

    def generate(self, nstmts):
        scope = {v: _Var(f"%{v}", "f64", True, "f") for v in FLOATS}
        scope["k0"] = _Var("%k0", "i64", True, "wild")
        scope["k1"] = _Var("%k1", "i64", True, "tame")
        self.block(scope, 0, nstmts)
        body = self.lines
        return "\n".join([f"rev.func @{self.name}{SIG} {{"] + body +
                         ["  rev.return " + ", ".join(scope[v].ssa for v in FLOATS + INTS) +
                          f" : {RES_TYPES}", "}"])


def random_module(seed, nfuncs=4):
    rng = np.random.default_rng(seed)
    total, funcs = {}, []
    for j in range(nfuncs):
        name = f"s{seed}_f{j}"
        g = FuncGen(rng, name, dict(total), max_depth=2 if j else 1)
        funcs.append(g.generate(int(rng.integers(3, 7))))
        total[name] = g.total
    return "\n\n".join(funcs), list(total)


def random_inputs(rng):
    x = [float(v) for v in rng.uniform(-2, 2, 3)]
    k = [int(rng.integers(-2**62, 2**62)), int(rng.integers(-4, 5))]
    A, B = rng.uniform(-2, 2, 4), rng.uniform(-2, 2, 4)
    K = rng.integers(-2**40, 2**40, 4).astype(np.int64)
    return x + k + [A, B, K]


def copy_args(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def close(a, b):
    """Floats: rel 1e-9, abs 1e-9 times the scale of the vector."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(1.0, float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return np.allclose(a, b, rtol=1e-9, atol=1e-9 * scale)


def assert_state(tag, got, want):
    """got/want: 5 scalars (3 floats, 2 ints), then A, B, K."""
    assert close(got[:3], want[:3]), f"{tag}: float scalars {got[:3]} != {want[:3]}"
    assert tuple(int(v) for v in got[3:5]) == tuple(int(v) for v in want[3:5]), \
        f"{tag}: int scalars {got[3:5]} != {want[3:5]}"
    assert close(got[5], want[5]) and close(got[6], want[6]), \
        f"{tag}: A/B {got[5]}, {got[6]} != {want[5]}, {want[6]}"
    assert np.array_equal(got[7], want[7]), f"{tag}: K {got[7]} != {want[7]}"


NSEEDS = 50      # modules; each has 4 functions (the later ones call the earlier)
NINPUTS = 3      # input sets per function


def check_module(seed):
    src, names = random_module(seed)
    ref = Interpreter(src)
    prog = Program(src, grad=names)
    rng = np.random.default_rng(10_000 + seed)
    for name in names:
        for _ in range(NINPUTS):
            x = random_inputs(rng)
            # forward
            a_ref, a_bin = copy_args(x), copy_args(x)
            out_ref = ref.call(name, *a_ref)
            out_bin = prog.call(name, *a_bin)
            st_ref = list(out_ref) + a_ref[5:]
            st_bin = list(out_bin) + a_bin[5:]
            assert_state(f"@{name} forward", st_bin, st_ref)
            # backward from the same final state: the interpreter's own inverse
            # rules against the compiled inverse; both give the inputs back
            b_ref, b_bin = copy_args(st_ref), copy_args(st_ref)
            back_ref = ref.uncall(name, *b_ref)
            back_bin = prog.uncall(name, *b_bin)
            assert_state(f"@{name} uncall", list(back_bin) + b_bin[5:],
                         list(back_ref) + b_ref[5:])
            assert_state(f"@{name} round trip", list(back_ref) + b_ref[5:], x)
            # gradient: J^T seed from forward-mode duals vs @f_grad
            sbar = [float(v) for v in rng.uniform(-1, 1, 3)]
            shadows = [rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 4)]
            want = ref.vjp(name, copy_args(x), sbar, shadows)
            g_args, g_sh = copy_args(x), [s.copy() for s in shadows]
            res = prog.call(prog.gradient_names[name], *g_args, *sbar, *g_sh)
            got = [float(v) for v in res[5:]] + g_sh
            assert close(got[:3], want[:3]) and close(got[3], want[3]) and \
                close(got[4], want[4]), f"@{name} gradient {got} != {want}"
            # @f_grad also runs f backwards: the inputs come back
            assert_state(f"@{name} gradient primal", list(res[:5]) + g_args[5:], x)
    return src


@pytest.mark.parametrize("seed", range(NSEEDS))
def test_random_programs_agree_with_compiled(seed):
    check_module(seed)


def test_random_programs_are_not_trivial():
    """The generator does produce every construct and nontrivial runs."""
    text = "\n".join(random_module(s)[0] for s in range(NSEEDS))
    for kw in ("rev.for reverse", "rev.while", "rev.routine", "} post {", "rev.alloc",
               "rev.free", "rev.call", "rev.uncall", "rev.swap", "rev.rot", "rev.irot",
               "rev.neg", "rev.mul", "rev.div", "rev.xor", "rev.add_at", "rev.mul_at",
               "rev.div_at", "rev.swap_at", "rev.rot_at", "rev.neg_at", "rev.xor_at",
               "iter_args"):
        assert kw in text, kw
    src, names = random_module(0)
    ref = Interpreter(src)
    x = random_inputs(np.random.default_rng(0))
    changed = 0
    for name in names:
        a = copy_args(x)
        out = ref.call(name, *a)
        changed += (not close(out[:3], x[:3])) + (not close(a[5], x[5]))
    assert changed >= 2
