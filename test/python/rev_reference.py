"""A reference interpreter of rev programs, independent of the compiler.

It reads a module through the Python bindings' parser only (no rev pass runs)
and gives the ops their meaning itself:

* forward execution (`call`);
* backward execution by its *own* inverse rules (`uncall`): a block is run
  from its last op to its first, each op undone (add <-> sub, mul <-> div,
  rot <-> irot, alloc <-> free, call <-> uncall, for visits its indices in the
  other order, if picks its branch by the post condition, while loops on
  (post, pre), routine runs compute, the body backwards, compute backwards);
  pure values (arith, math, memref.load) are recomputed where the undo needs
  them, from the versions that are current there;
* derivatives by forward-mode dual numbers (`jacobian`, `vjp`): every float
  input is seeded with a unit tangent and the program runs once on duals, so
  the Jacobian of the outputs (float scalar results, then the final contents
  of the float memrefs) with respect to the inputs (float scalar arguments,
  then the initial contents of the float memrefs) comes out of one forward run.
  This shares nothing with `--rev-ad` (reverse mode by reverse computing).

Run-time checks (raise `ReferenceError_`): ancillas freed back to their value
(integers exactly, floats within `atol`), `if` post == pre, `while` post false
on entry and true after every iteration, zero multipliers/divisors, element
aliasing of `*_at` deltas that load the element they update (forward mode).

Integers wrap around at their width (i1 is 0/1; index is 64 bits). Floats are
f64 only (Python floats; other float types raise).
"""

from __future__ import annotations

import math

import numpy as np

from mlir_rev.ir import Context, FloatAttr, FunctionType, IntegerAttr, Module

__all__ = ["Interpreter", "ReferenceError_", "Dual"]


class ReferenceError_(Exception):
    """A program broke a reversibility rule at run time (in the interpreter)."""


# ---------------------------------------------------------------------------
# Dual numbers (forward-mode AD, vector tangents)
# ---------------------------------------------------------------------------
class Dual:
    __slots__ = ("v", "d")

    def __init__(self, v, d):
        self.v = float(v)
        self.d = d

    def __add__(self, o):
        if isinstance(o, Dual):
            return Dual(self.v + o.v, self.d + o.d)
        return Dual(self.v + o, self.d)

    __radd__ = __add__

    def __sub__(self, o):
        if isinstance(o, Dual):
            return Dual(self.v - o.v, self.d - o.d)
        return Dual(self.v - o, self.d)

    def __rsub__(self, o):
        return Dual(o - self.v, -self.d)

    def __mul__(self, o):
        if isinstance(o, Dual):
            return Dual(self.v * o.v, self.d * o.v + o.d * self.v)
        return Dual(self.v * o, self.d * o)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, Dual):
            q = self.v / o.v
            return Dual(q, (self.d - o.d * q) / o.v)
        return Dual(self.v / o, self.d / o)

    def __rtruediv__(self, o):
        q = o / self.v
        return Dual(q, -self.d * (q / self.v))

    def __neg__(self):
        return Dual(-self.v, -self.d)

    def __repr__(self):
        return f"Dual({self.v!r}, {self.d!r})"


def val(x):
    """The primal value of a float (a Dual's value part)."""
    return x.v if isinstance(x, Dual) else x


def _unary(f, df):
    def g(x):
        if isinstance(x, Dual):
            return Dual(f(x.v), x.d * df(x.v))
        return f(x)
    return g


def _sech2(x):
    t = math.tanh(x)
    return 1.0 - t * t


_MATH = {
    "math.sin": _unary(math.sin, math.cos),
    "math.cos": _unary(math.cos, lambda x: -math.sin(x)),
    "math.tanh": _unary(math.tanh, _sech2),
    "math.exp": _unary(math.exp, math.exp),
    "math.log": _unary(math.log, lambda x: 1.0 / x),
    "math.sqrt": _unary(math.sqrt, lambda x: 0.5 / math.sqrt(x)),
    "math.absf": _unary(abs, lambda x: 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)),
    "math.atan": _unary(math.atan, lambda x: 1.0 / (1.0 + x * x)),
    "math.sinh": _unary(math.sinh, math.cosh),
    "math.cosh": _unary(math.cosh, math.sinh),
}


# ---------------------------------------------------------------------------
# Integers
# ---------------------------------------------------------------------------
def _width(ty: str) -> int:
    if ty == "index":
        return 64
    if ty.startswith("i"):
        return int(ty[1:])
    raise ReferenceError_(f"not an integer type: {ty}")


def wrap(v: int, ty: str) -> int:
    """v as a value of integer type ty (signed representation; i1 is 0/1)."""
    w = _width(ty)
    v &= (1 << w) - 1
    if w > 1 and v >> (w - 1):
        v -= 1 << w
    return v


def _unsigned(v: int, ty: str) -> int:
    return v & ((1 << _width(ty)) - 1)


def _is_float(ty: str) -> bool:
    return ty in ("f64", "f32", "f16", "bf16")


# ---------------------------------------------------------------------------
# The program, as plain Python objects
# ---------------------------------------------------------------------------
class Node:
    __slots__ = ("name", "operands", "otypes", "results", "rtypes", "attrs", "regions")

    def __repr__(self):
        return f"Node({self.name})"


class Block:
    __slots__ = ("args", "argtypes", "ops")


class Func:
    __slots__ = ("name", "argtypes", "block")


def _type_str(t) -> str:
    s = str(t)
    if s in ("f32", "f16", "bf16"):
        raise ReferenceError_(f"the reference interpreter supports f64 floats only, got {s}")
    return s


def _attr_value(a):
    if isinstance(a, (IntegerAttr, FloatAttr)):
        return a.value
    s = str(a)
    if s == "unit":
        return True
    if s in ("true", "false"):
        return s == "true"
    return s


PURE_PREFIXES = ("arith.", "math.", "memref.load", "memref.dim")


def _is_pure(name: str) -> bool:
    return name.startswith(PURE_PREFIXES)


CMPF = {
    0: lambda a, b: False, 1: lambda a, b: a == b, 2: lambda a, b: a > b,
    3: lambda a, b: a >= b, 4: lambda a, b: a < b, 5: lambda a, b: a <= b,
    6: lambda a, b: a < b or a > b, 7: lambda a, b: not (math.isnan(a) or math.isnan(b)),
    8: lambda a, b: not (a < b or a > b), 9: lambda a, b: not (a <= b),
    10: lambda a, b: not (a < b), 11: lambda a, b: not (a >= b),
    12: lambda a, b: not (a > b), 13: lambda a, b: not (a == b),
    14: lambda a, b: math.isnan(a) or math.isnan(b), 15: lambda a, b: True,
}


class _Env:
    """Values of one block execution; falls back to the enclosing one."""
    __slots__ = ("vals", "parent")

    def __init__(self, parent=None):
        self.vals = {}
        self.parent = parent


class Interpreter:
    """Parses `text` (MLIR with rev.func ops) and runs its functions.

    call(name, *args) / uncall(name, *args): like mlir_rev.jit.Program (memref
    arguments are NumPy arrays updated in place; returns the tuple of scalar
    results). jacobian / vjp: forward-mode derivatives.
    """

    def __init__(self, text: str, *, atol: float = 1e-8, max_trips: int = 100000):
        self.atol = atol
        self.max_trips = max_trips
        self._ids = {}
        self.pure_defs = {}  # value id -> Node of the pure op defining it
        self.funcs = {}
        self._ctx = Context()
        with self._ctx:
            module = Module.parse(text)
            for op in module.body.operations:
                op = op.operation
                if op.name != "rev.func":
                    continue
                f = Func()
                f.name = op.attributes["sym_name"].value
                ftype = FunctionType(op.attributes["function_type"].value)
                f.argtypes = [_type_str(t) for t in ftype.inputs]
                f.block = self._block(op.regions[0].blocks[0])
                self.funcs[f.name] = f
        self._ids = None  # the IR objects are not needed any more
        del module

    # -- translation -----------------------------------------------------------
    def _id(self, v) -> int:
        return self._ids.setdefault(v, len(self._ids))

    def _block(self, b) -> Block:
        blk = Block()
        blk.args = [self._id(a) for a in b.arguments]
        blk.argtypes = [_type_str(a.type) for a in b.arguments]
        blk.ops = [self._node(o.operation) for o in b.operations]
        return blk

    def _node(self, op) -> Node:
        n = Node()
        n.name = op.name
        n.operands = [self._id(v) for v in op.operands]
        n.otypes = [_type_str(v.type) for v in op.operands]
        n.results = [self._id(v) for v in op.results]
        n.rtypes = [_type_str(v.type) for v in op.results]
        n.attrs = {a: _attr_value(op.attributes[a]) for a in op.attributes}
        if op.name == "arith.constant":
            n.attrs["value"] = op.attributes["value"].value
        if op.name in ("rev.call", "rev.uncall"):
            n.attrs["callee"] = op.attributes["callee"].value
        n.regions = [self._block(r.blocks[0]) if len(r.blocks) else None for r in op.regions]
        if _is_pure(n.name):
            for r in n.results:
                self.pure_defs[r] = n
        return n

    # -- values -----------------------------------------------------------------
    def get(self, env: _Env, vid: int):
        e = env
        while e is not None:
            if vid in e.vals:
                return e.vals[vid]
            e = e.parent
        node = self.pure_defs.get(vid)
        if node is None:
            raise ReferenceError_(f"value #{vid} is not available here")
        # Recompute the pure value from what is current now (not stored).
        res = self._pure(node, env)
        return res[node.results.index(vid)]

    def _pure(self, n: Node, env: _Env):
        name = n.name
        a = [self.get(env, o) for o in n.operands]
        rt = n.rtypes[0] if n.rtypes else None
        if name == "arith.constant":
            v = n.attrs["value"]
            if _is_float(rt):
                return [float(v)]
            return [wrap(int(v), rt)]
        if name in _MATH:
            return [_MATH[name](a[0])]
        if name == "arith.addf":
            return [a[0] + a[1]]
        if name == "arith.subf":
            return [a[0] - a[1]]
        if name == "arith.mulf":
            return [a[0] * a[1]]
        if name == "arith.divf":
            return [a[0] / a[1]]
        if name == "arith.negf":
            return [-a[0]]
        if name == "arith.maximumf":
            return [a[0] if val(a[0]) >= val(a[1]) else a[1]]
        if name == "arith.minimumf":
            return [a[0] if val(a[0]) <= val(a[1]) else a[1]]
        if name == "arith.cmpf":
            return [int(CMPF[n.attrs["predicate"]](val(a[0]), val(a[1])))]
        if name == "arith.select":
            return [a[1] if a[0] else a[2]]
        if name == "arith.sitofp":
            return [float(a[0])]
        if name == "arith.uitofp":
            return [float(_unsigned(a[0], n.otypes[0]))]
        if name in ("arith.index_cast", "arith.extsi", "arith.trunci"):
            return [wrap(a[0], rt)]
        if name in ("arith.index_castui", "arith.extui"):
            return [wrap(_unsigned(a[0], n.otypes[0]), rt)]
        if name == "arith.cmpi":
            p = n.attrs["predicate"]
            x, y = a
            if p >= 6:
                x, y = _unsigned(x, n.otypes[0]), _unsigned(y, n.otypes[1])
            return [int([x == y, x != y, x < y, x <= y, x > y, x >= y,
                         x < y, x <= y, x > y, x >= y][p])]
        ints = {
            "arith.addi": lambda x, y: x + y,
            "arith.subi": lambda x, y: x - y,
            "arith.muli": lambda x, y: x * y,
            "arith.xori": lambda x, y: x ^ y,
            "arith.andi": lambda x, y: x & y,
            "arith.ori": lambda x, y: x | y,
        }
        if name in ints:
            return [wrap(ints[name](a[0], a[1]), rt)]
        w = _width(rt) if rt and not _is_float(rt) else 64
        if name == "arith.shli":
            return [wrap(a[0] << a[1], rt) if 0 <= a[1] < w else 0]
        if name == "arith.shrsi":
            return [wrap(a[0] >> a[1], rt) if 0 <= a[1] < w else 0]
        if name == "arith.shrui":
            return [wrap(_unsigned(a[0], rt) >> a[1], rt) if 0 <= a[1] < w else 0]
        if name in ("arith.remui", "arith.divui"):
            x, y = _unsigned(a[0], rt), _unsigned(a[1], rt)
            if y == 0:
                raise ReferenceError_(f"{name} by zero")
            return [wrap(x % y if name == "arith.remui" else x // y, rt)]
        if name in ("arith.remsi", "arith.divsi"):
            x, y = a
            if y == 0:
                raise ReferenceError_(f"{name} by zero")
            q = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
            return [wrap(x - q * y if name == "arith.remsi" else q, rt)]
        if name == "memref.load":
            arr = a[0]
            return [arr[tuple(a[1:])]]
        if name == "memref.dim":
            return [a[0].shape[a[1]]]
        raise ReferenceError_(f"the reference interpreter does not know {name}")

    # -- checks -------------------------------------------------------------------
    def _check_restored(self, v, init, ty, what):
        if _is_float(ty):
            if abs(val(v) - init) > self.atol:
                raise ReferenceError_(f"{what}: ancilla not restored ({val(v)!r} != {init!r})")
        elif v != init:
            raise ReferenceError_(f"{what}: ancilla not restored ({v} != {init})")

    @staticmethod
    def _nonzero(d, what):
        if val(d) == 0:
            raise ReferenceError_(f"{what}: zero multiplier or divisor")

    @staticmethod
    def _init(n: Node, ty: str):
        init = n.attrs.get("init")
        if init is None:
            return 0.0 if _is_float(ty) else 0
        return float(init) if _is_float(ty) else wrap(int(init), ty)

    def _cond(self, blk: Block, env: _Env, state) -> bool:
        e = _Env(env)
        for a, v in zip(blk.args, state):
            e.vals[a] = v
        for op in blk.ops:
            if op.name == "rev.cond":
                return bool(self.get(e, op.operands[0]))
            self._exec(op, e)
        raise ReferenceError_("condition region without rev.cond")

    # -- forward ----------------------------------------------------------------------
    def run_block(self, blk: Block, env: _Env, state, pre=()):
        """Runs blk forwards with its arguments bound to (*pre, *state); returns
        the terminator's operands."""
        e = _Env(env)
        for a, v in zip(blk.args, (*pre, *state)):
            e.vals[a] = v
        for op in blk.ops:
            if op.name in ("rev.yield", "rev.return"):
                return [self.get(e, o) for o in op.operands]
            self._exec(op, e)
        return []  # implicit empty rev.yield

    @staticmethod
    def _upd(name, y, d, ty):
        if name == "add":
            r = y + d
        elif name == "sub":
            r = y - d
        elif name == "xor":
            r = y ^ d
        elif name == "mul":
            r = y * d
        elif name == "div":
            r = y / d
        else:
            raise ReferenceError_(name)
        return r if _is_float(ty) else wrap(r, ty)

    _INV = {"add": "sub", "sub": "add", "xor": "xor", "mul": "div", "div": "mul"}

    @staticmethod
    def _rot(a, b, t, inverse):
        c, s = _MATH["math.cos"](t), _MATH["math.sin"](t)
        if inverse:
            return a * c + b * s, b * c - a * s
        return a * c - b * s, a * s + b * c

    @staticmethod
    def _neg(y, ty):
        return -y if _is_float(ty) else wrap(-y, ty)

    def _split_at(self, n: Node):
        """(memref, indices) pairs of a *_at op's memref operands, and the rest."""
        groups, rest, cur = [], [], None
        for o, t in zip(n.operands, n.otypes):
            if t.startswith("memref"):
                cur = [o, []]
                groups.append(cur)
            elif t == "index" and cur is not None:
                cur[1].append(o)
            else:
                rest.append(o)
                cur = None
        return groups, rest

    def _loc(self, env, g):
        return self.get(env, g[0]), tuple(self.get(env, i) for i in g[1])

    def _delta_reads(self, n: Node, env, arr, idx, delta_id) -> bool:
        """Whether the delta's pure DAG loads arr[idx] (element aliasing)."""
        stack, seen = [delta_id], set()
        while stack:
            v = stack.pop()
            node = self.pure_defs.get(v)
            if node is None or v in seen:
                continue
            seen.add(v)
            if node.name == "memref.load":
                if self.get(env, node.operands[0]) is arr and \
                        tuple(self.get(env, i) for i in node.operands[1:]) == idx:
                    return True
            stack.extend(node.operands)
        return False

    def _exec(self, n: Node, env: _Env):
        name = n.name
        if _is_pure(name):
            for r, v in zip(n.results, self._pure(n, env)):
                env.vals[r] = v
            return
        op = name[4:]
        base = op[:-3] if op.endswith("_at") else op
        if op in ("add", "sub", "xor", "mul", "div"):
            y, d = self.get(env, n.operands[0]), self.get(env, n.operands[1])
            if op in ("mul", "div"):
                self._nonzero(d, name)
            env.vals[n.results[0]] = self._upd(op, y, d, n.rtypes[0])
        elif op == "neg":
            env.vals[n.results[0]] = self._neg(self.get(env, n.operands[0]), n.rtypes[0])
        elif op == "swap":
            a, b = (self.get(env, o) for o in n.operands)
            env.vals[n.results[0]], env.vals[n.results[1]] = b, a
        elif op in ("rot", "irot"):
            a, b, t = (self.get(env, o) for o in n.operands)
            env.vals[n.results[0]], env.vals[n.results[1]] = self._rot(a, b, t, op == "irot")
        elif base in ("add", "sub", "xor", "mul", "div") and op.endswith("_at"):
            (g,), (d_id,) = self._split_at(n)
            arr, idx = self._loc(env, g)
            if self._delta_reads(n, env, arr, idx, d_id):
                raise ReferenceError_(f"{name}: the delta reads the element it updates")
            d = self.get(env, d_id)
            if base in ("mul", "div"):
                self._nonzero(d, name)
            arr[idx] = self._upd(base, arr[idx], d, _elem(n.otypes[0]))
        elif op == "neg_at":
            (g,), _ = self._split_at(n)
            arr, idx = self._loc(env, g)
            arr[idx] = self._neg(arr[idx], _elem(n.otypes[0]))
        elif op == "swap_at":
            (g1, g2), _ = self._split_at(n)
            a1, i1 = self._loc(env, g1)
            a2, i2 = self._loc(env, g2)
            a1[i1], a2[i2] = a2[i2], a1[i1]
        elif op in ("rot_at", "irot_at"):
            (g1, g2), (t_id,) = self._split_at(n)
            a1, i1 = self._loc(env, g1)
            a2, i2 = self._loc(env, g2)
            if a1 is a2 and i1 == i2:
                raise ReferenceError_(f"{name}: rotates an element with itself")
            t = self.get(env, t_id)
            a1[i1], a2[i2] = self._rot(a1[i1], a2[i2], t, op == "irot_at")
        elif op == "alloc":
            env.vals[n.results[0]] = self._init(n, n.rtypes[0])
        elif op == "free":
            self._check_restored(self.get(env, n.operands[0]), self._init(n, n.otypes[0]),
                                 n.otypes[0], name)
        elif op in ("call", "uncall"):
            args = [self.get(env, o) for o in n.operands]
            res = self.invoke(n.attrs["callee"], args, backward=(op == "uncall"))
            for r, v in zip(n.results, res):
                env.vals[r] = v
        elif op == "for":
            lb, ub, st = (self.get(env, o) for o in n.operands[:3])
            if st <= 0:
                raise ReferenceError_("rev.for: non-positive step")
            idx = range(lb, ub, st)
            if "reverse" in n.attrs:
                idx = reversed(idx)
            state = [self.get(env, o) for o in n.operands[3:]]
            for i in idx:
                state = self.run_block(n.regions[0], env, state, pre=(i,))
            self._bind(env, n.results, state)
        elif op == "if":
            pre, then, els, post = n.regions
            state = [self.get(env, o) for o in n.operands]
            c = self._cond(pre, env, state)
            branch = then if c else els
            if branch is not None:
                state = self.run_block(branch, env, state)
            if post is not None and self._cond(post, env, state) != c:
                raise ReferenceError_("rev.if: post-condition disagrees with pre-condition")
            self._bind(env, n.results, state)
        elif op == "while":
            pre, body, post = n.regions
            state = [self.get(env, o) for o in n.operands]
            if self._cond(post, env, state):
                raise ReferenceError_("rev.while: post-condition holds on entry")
            trips = 0
            while self._cond(pre, env, state):
                state = self.run_block(body, env, state)
                if not self._cond(post, env, state):
                    raise ReferenceError_("rev.while: post-condition false after an iteration")
                trips += 1
                if trips > self.max_trips:
                    raise ReferenceError_("rev.while: too many iterations")
            self._bind(env, n.results, state)
        elif op == "routine":
            compute, body = n.regions
            state = [self.get(env, o) for o in n.operands]
            s1 = self.run_block(compute, env, state)
            s2 = self.run_block(body, env, s1)
            s3 = self.run_block_backward(compute, env, s2)
            self._bind(env, n.results, s3)
        else:
            raise ReferenceError_(f"the reference interpreter does not know {name}")

    @staticmethod
    def _bind(env, ids, vals):
        vals = list(vals)
        if len(ids) != len(vals):
            raise ReferenceError_(f"{len(ids)} results, {len(vals)} values")
        for r, v in zip(ids, vals):
            env.vals[r] = v

    # -- backward (own inverse rules) --------------------------------------------------
    def run_block_backward(self, blk: Block, env: _Env, final, pre=()):
        """Given the values of blk's terminator operands at its end, undoes its
        ops from the last to the first; returns the values of its arguments
        (those after the `pre` ones, e.g. the induction variable) at entry."""
        e = _Env(env)
        for a, v in zip(blk.args, pre):
            e.vals[a] = v
        ops = blk.ops
        if ops and ops[-1].name in ("rev.yield", "rev.return"):
            term, ops = ops[-1], ops[:-1]
            self._bind(e, term.operands, final)
        elif final:
            raise ReferenceError_("values for a block without terminator")
        for op in reversed(ops):
            if not _is_pure(op.name):
                self._undo(op, e)
        return [self.get(e, a) for a in blk.args[len(pre):]]

    def _undo(self, n: Node, env: _Env):
        name = n.name
        op = name[4:]
        base = op[:-3] if op.endswith("_at") else op
        if op in ("add", "sub", "xor", "mul", "div"):
            r, d = self.get(env, n.results[0]), self.get(env, n.operands[1])
            if op in ("mul", "div"):
                self._nonzero(d, name)
            env.vals[n.operands[0]] = self._upd(self._INV[op], r, d, n.rtypes[0])
        elif op == "neg":
            env.vals[n.operands[0]] = self._neg(self.get(env, n.results[0]), n.rtypes[0])
        elif op == "swap":
            a, b = (self.get(env, r) for r in n.results)
            env.vals[n.operands[0]], env.vals[n.operands[1]] = b, a
        elif op in ("rot", "irot"):
            a, b = (self.get(env, r) for r in n.results)
            t = self.get(env, n.operands[2])
            env.vals[n.operands[0]], env.vals[n.operands[1]] = self._rot(a, b, t, op == "rot")
        elif base in ("add", "sub", "xor", "mul", "div") and op.endswith("_at"):
            (g,), (d_id,) = self._split_at(n)
            arr, idx = self._loc(env, g)
            d = self.get(env, d_id)
            if base in ("mul", "div"):
                self._nonzero(d, name)
            arr[idx] = self._upd(self._INV[base], arr[idx], d, _elem(n.otypes[0]))
        elif op == "neg_at":
            (g,), _ = self._split_at(n)
            arr, idx = self._loc(env, g)
            arr[idx] = self._neg(arr[idx], _elem(n.otypes[0]))
        elif op == "swap_at":
            (g1, g2), _ = self._split_at(n)
            a1, i1 = self._loc(env, g1)
            a2, i2 = self._loc(env, g2)
            a1[i1], a2[i2] = a2[i2], a1[i1]
        elif op in ("rot_at", "irot_at"):
            (g1, g2), (t_id,) = self._split_at(n)
            a1, i1 = self._loc(env, g1)
            a2, i2 = self._loc(env, g2)
            t = self.get(env, t_id)
            a1[i1], a2[i2] = self._rot(a1[i1], a2[i2], t, op == "rot_at")
        elif op == "alloc":  # undo: free
            self._check_restored(self.get(env, n.results[0]), self._init(n, n.rtypes[0]),
                                 n.rtypes[0], name + " (undone)")
        elif op == "free":  # undo: alloc
            env.vals[n.operands[0]] = self._init(n, n.otypes[0])
        elif op in ("call", "uncall"):
            callee = n.attrs["callee"]
            res = iter([self.get(env, r) for r in n.results])
            args = [self.get(env, o) if t.startswith("memref") else next(res)
                    for o, t in zip(n.operands, n.otypes)]
            back = self.invoke(callee, args, backward=(op == "call"))
            scalar_ops = [o for o, t in zip(n.operands, n.otypes) if not t.startswith("memref")]
            self._bind(env, scalar_ops, back)
        elif op == "for":
            lb, ub, st = (self.get(env, o) for o in n.operands[:3])
            if st <= 0:
                raise ReferenceError_("rev.for: non-positive step")
            idx = range(lb, ub, st)
            if "reverse" not in n.attrs:
                idx = reversed(idx)
            state = [self.get(env, r) for r in n.results]
            for i in idx:
                state = self.run_block_backward(n.regions[0], env, state, pre=(i,))
            self._bind(env, n.operands[3:], state)
        elif op == "if":
            pre, then, els, post = n.regions
            state = [self.get(env, r) for r in n.results]
            c = self._cond(post if post is not None else pre, env, state)
            branch = then if c else els
            if branch is not None:
                state = self.run_block_backward(branch, env, state)
            if self._cond(pre, env, state) != c:
                raise ReferenceError_("rev.if (undone): pre-condition disagrees with post-condition")
            self._bind(env, n.operands, state)
        elif op == "while":
            pre, body, post = n.regions
            state = [self.get(env, r) for r in n.results]
            if self._cond(pre, env, state):
                raise ReferenceError_("rev.while (undone): pre-condition holds at the end")
            trips = 0
            while self._cond(post, env, state):
                state = self.run_block_backward(body, env, state)
                if not self._cond(pre, env, state):
                    raise ReferenceError_("rev.while (undone): pre-condition false "
                                          "before an iteration")
                trips += 1
                if trips > self.max_trips:
                    raise ReferenceError_("rev.while: too many iterations")
            self._bind(env, n.operands, state)
        elif op == "routine":
            compute, body = n.regions
            state = [self.get(env, r) for r in n.results]
            s1 = self.run_block(compute, env, state)
            s2 = self.run_block_backward(body, env, s1)
            s3 = self.run_block_backward(compute, env, s2)
            self._bind(env, n.operands, s3)
        else:
            raise ReferenceError_(f"the reference interpreter cannot undo {name}")

    # -- functions ------------------------------------------------------------------
    def invoke(self, name: str, args, backward: bool = False):
        """Runs @name (or, backward=True, its inverse) on interpreter values:
        scalars, and object arrays for memrefs (updated in place). Returns the
        scalar results."""
        f = self.funcs.get(name)
        if f is None:
            raise ReferenceError_(f"no rev.func named @{name}")
        if len(args) != len(f.argtypes):
            raise ReferenceError_(f"@{name} takes {len(f.argtypes)} arguments")
        if not backward:
            return self.run_block(f.block, None, args)
        env = _Env()
        scalars = []
        for a, t, v in zip(f.block.args, f.argtypes, args):
            if t.startswith("memref"):
                env.vals[a] = v
            else:
                scalars.append(v)
        outs = self.run_block_backward(f.block, env, scalars)
        return [v for v, t in zip(outs, f.argtypes) if not t.startswith("memref")]

    def _py_args(self, name, args, dual_seed=False):
        """Converts NumPy/Python arguments to interpreter values; with
        dual_seed, every float input gets a unit tangent. Returns (values,
        memref pairs (caller array, object array), number of float inputs)."""
        f = self.funcs[name]
        # Tangent slots: the float scalars first, then the float memrefs' elements.
        n_in = 0
        if dual_seed:
            n_in = sum(1 for t in f.argtypes if _is_float(t))
            k_mem = n_in
            n_in += sum(np.asarray(v).size for t, v in zip(f.argtypes, args)
                        if t.startswith("memref") and _is_float(_elem(t)))
        k = 0
        out, arrays = [], []
        for t, v in zip(f.argtypes, args):
            if t.startswith("memref"):
                et = _elem(t)
                a = np.asarray(v)
                obj = np.empty(a.shape, dtype=object)
                for ix in np.ndindex(a.shape):
                    if _is_float(et):
                        x = float(a[ix])
                        if dual_seed:
                            d = np.zeros(n_in)
                            d[k_mem] = 1.0
                            k_mem += 1
                            x = Dual(x, d)
                        obj[ix] = x
                    else:
                        obj[ix] = wrap(int(a[ix]), et)
                out.append(obj)
                arrays.append((v, obj))
            elif _is_float(t):
                x = float(v)
                if dual_seed:
                    d = np.zeros(n_in)
                    d[k] = 1.0
                    k += 1
                    x = Dual(x, d)
                out.append(x)
            else:
                out.append(wrap(int(v), t))
        return out, arrays, n_in

    def call(self, name: str, *args):
        """Runs @name forwards; memref args (NumPy arrays) are updated in place.
        Returns the tuple of scalar results."""
        vals, arrays, _ = self._py_args(name, args)
        res = self.invoke(name, vals)
        for a, obj in arrays:
            a[...] = obj.astype(a.dtype) if a.dtype.kind == "f" else \
                np.array([int(x) for x in obj.ravel()], dtype=a.dtype).reshape(a.shape)
        return tuple(res)

    def uncall(self, name: str, *args):
        """Runs the inverse of @name (the interpreter's own backward execution)."""
        vals, arrays, _ = self._py_args(name, args)
        res = self.invoke(name, vals, backward=True)
        for a, obj in arrays:
            a[...] = obj.astype(a.dtype) if a.dtype.kind == "f" else \
                np.array([int(x) for x in obj.ravel()], dtype=a.dtype).reshape(a.shape)
        return tuple(res)

    def jacobian(self, name: str, *args):
        """(scalar results, final float memrefs, J): J is d outputs / d inputs,
        outputs = float scalar results then float memref elements (row-major),
        inputs = float scalar args then float memref elements, by forward-mode
        dual numbers. `args` are not modified."""
        f = self.funcs[name]
        args = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        vals, _, n_in = self._py_args(name, args, dual_seed=True)
        res = self.invoke(name, vals)
        scalar_types = [t for t in f.argtypes if not t.startswith("memref")]
        rows, prim, finals = [], [], []
        for v, t in zip(res, scalar_types):
            prim.append(val(v) if _is_float(t) else v)
            if _is_float(t):
                rows.append(v.d if isinstance(v, Dual) else np.zeros(n_in))
        for t, v in zip(f.argtypes, vals):
            if t.startswith("memref") and _is_float(_elem(t)):
                fin = np.empty(v.shape)
                for ix in np.ndindex(v.shape):
                    x = v[ix]
                    fin[ix] = val(x)
                    rows.append(x.d if isinstance(x, Dual) else np.zeros(n_in))
                finals.append(fin)
        J = np.array(rows).reshape(len(rows), n_in)
        return tuple(prim), finals, J

    def vjp(self, name: str, args, scalar_seeds, memref_seeds):
        """The adjoints of the inputs (floats for the float scalar args, arrays
        for the float memrefs) for the given output adjoints: J^T seed."""
        f = self.funcs[name]
        _, _, J = self.jacobian(name, *args)
        seed = np.concatenate([np.asarray(scalar_seeds, dtype=float).ravel()] +
                              [np.asarray(s, dtype=float).ravel() for s in memref_seeds])
        g = J.T @ seed if J.size else np.zeros(J.shape[1])
        n_s = sum(1 for t in f.argtypes if _is_float(t))
        out, k = [float(x) for x in g[:n_s]], n_s
        for t, a in zip(f.argtypes, args):
            if t.startswith("memref") and _is_float(_elem(t)):
                a = np.asarray(a)
                out.append(g[k:k + a.size].reshape(a.shape))
                k += a.size
        return tuple(out)


def _elem(memref_type: str) -> str:
    """The element type of 'memref<4x?xf64>' (layouts not supported)."""
    inner = memref_type[memref_type.index("<") + 1:memref_type.rindex(">")]
    return inner.split(",")[0].split("x")[-1].strip()
