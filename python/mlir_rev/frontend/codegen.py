"""Walks the `ast` of a `@reversible` Python function and emits a `rev.func`
with the Python bindings' builders. Variables are SSA versions; every op
carries the Python source location."""
from __future__ import annotations

import ast
import builtins
import math as _pymath

from .. import ir
from ..dialects import arith, math as mmath, memref, rev as revd
from ..jit import RevError
from . import markers
from .types import ArrayType, ScalarType, f64 as F64, scalar_type


class RevSyntaxError(RevError):
    """A construct of a @reversible function the front end cannot compile,
    with file:line:col and the offending source line."""

    def __init__(self, message, filename=None, line=None, col=None, source_line=None):
        self.filename, self.line, self.col = filename, line, col
        self.source_line = source_line
        self.msg = message
        text = message
        if filename is not None:
            text = f"{filename}:{line}:{(col or 0) + 1}: {message}"
            if source_line is not None:
                text += f"\n    {source_line.rstrip()}\n    {' ' * (col or 0)}^"
        super().__init__(text)


# math functions by name (math.sin, numpy.sin, sin, ...) -> (float op, int op)
_UNARY_MATH = {
    "sin": mmath.SinOp, "cos": mmath.CosOp, "tan": mmath.TanOp, "exp": mmath.ExpOp,
    "log": mmath.LogOp, "sqrt": mmath.SqrtOp, "tanh": mmath.TanhOp, "atan": mmath.AtanOp,
    "asin": mmath.AsinOp, "acos": mmath.AcosOp, "sinh": mmath.SinhOp, "cosh": mmath.CoshOp,
    "exp2": mmath.Exp2Op, "log2": mmath.Log2Op, "log10": mmath.Log10Op,
    "log1p": mmath.Log1pOp, "expm1": mmath.ExpM1Op, "erf": mmath.ErfOp, "erfc": mmath.ErfcOp,
    "cbrt": mmath.CbrtOp, "fabs": mmath.AbsFOp,
}
_BINARY_MATH = {"atan2": mmath.Atan2Op, "pow": mmath.PowFOp, "copysign": mmath.CopySignOp}

_CMP_F = {ast.Lt: "olt", ast.LtE: "ole", ast.Gt: "ogt", ast.GtE: "oge", ast.Eq: "oeq",
          ast.NotEq: "une"}
_CMP_I = {ast.Lt: "slt", ast.LtE: "sle", ast.Gt: "sgt", ast.GtE: "sge", ast.Eq: "eq",
          ast.NotEq: "ne"}
_CMPF_PRED = {"false": 0, "oeq": 1, "ogt": 2, "oge": 3, "olt": 4, "ole": 5, "one": 6,
              "ord": 7, "ueq": 8, "ugt": 9, "uge": 10, "ult": 11, "ule": 12, "une": 13}
_CMPI_PRED = {"eq": 0, "ne": 1, "slt": 2, "sle": 3, "sgt": 4, "sge": 5, "ult": 6}

_UPDATES = {ast.Add: ("AddOp", "AddAtOp"), ast.Sub: ("SubOp", "SubAtOp"),
            ast.Mult: ("MulOp", "MulAtOp"), ast.Div: ("DivOp", "DivAtOp"),
            ast.BitXor: ("XorOp", "XorAtOp")}


def _is_float(t) -> bool:
    return isinstance(t, (ir.F64Type, ir.F32Type))


def _is_index(t) -> bool:
    return isinstance(t, ir.IndexType)


def _is_int(t) -> bool:
    return isinstance(t, ir.IntegerType) and ir.IntegerType(t).width > 1


def _is_bool(t) -> bool:
    return isinstance(t, ir.IntegerType) and ir.IntegerType(t).width == 1


class _Var:
    """A scalar variable: its current SSA version and whether it may be updated."""

    def __init__(self, value, kind):
        self.value = value
        self.kind = kind  # "var" (argument or ancilla) or "const" (loop index)


def _written(stmts, resolve) -> list:
    """Names a statement list may update (in order of first appearance)."""
    out = []

    def add(n):
        if n not in out:
            out.append(n)

    for node in stmts:
        for sub in ast.walk(node):
            if isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name):
                add(sub.target.id)
            elif isinstance(sub, ast.Assign):
                for t in sub.targets:
                    if isinstance(t, ast.Tuple):
                        for e in t.elts:
                            if isinstance(e, ast.Name):
                                add(e.id)
            elif isinstance(sub, ast.Call):
                if resolve(sub.func):
                    for a in list(sub.args) + [k.value for k in sub.keywords]:
                        if isinstance(a, ast.Name):
                            add(a.id)
    return out


def may_write(fb, stmts) -> set:
    """Names (scalars and arrays) the statements may change: update and swap
    targets, `rev.neg`/`rot`/`irot` operands, and the arguments of calls of
    decorated functions whose parameter the callee may change (recursively;
    conservative through recursion)."""
    out = set()

    def add(node):
        if isinstance(node, ast.Subscript):
            node = node.value
        if isinstance(node, ast.Name):
            out.add(node.id)

    for st in stmts:
        for sub in ast.walk(st):
            if isinstance(sub, ast.AugAssign):
                add(sub.target)
            elif isinstance(sub, ast.Assign):
                for t in sub.targets:
                    for e in (t.elts if isinstance(t, ast.Tuple) else [t]):
                        add(e)
            elif isinstance(sub, ast.Call):
                obj = fb.py_object(sub.func)
                if obj is markers.neg:
                    for a in sub.args[:1]:
                        add(a)
                elif obj in (markers.rot, markers.irot):
                    for a in sub.args[:2]:
                        add(a)
                elif obj is markers.steps:
                    for a in sub.args[4:5]:
                        add(a)
                else:
                    c = fb.callee(sub.func)
                    if c is None:
                        continue
                    g = c[0]
                    try:
                        g._parse()
                        bound = bind_call_nodes(g, sub)
                    except RevError:
                        for a in list(sub.args) + [k.value for k in sub.keywords]:
                            add(a)
                        continue
                    gw = callee_writes(g)
                    for pname, a in zip(g.param_names, bound):
                        if pname in gw:
                            add(a)
    return out


def callee_writes(f) -> set:
    """The parameters of a decorated function it may change."""
    if f._writes is not None:
        return f._writes
    f._parse()
    f._writes = set(f.param_names)  # while in progress (recursion): all
    fb = FunctionBuilder(f, None)
    fb.scope = {n: None for n in f.param_names}
    fb.arrays = {}
    f._writes = may_write(fb, f.fdef.body) & set(f.param_names)
    return f._writes


def bind_call_nodes(f, c):
    """The argument nodes of a call `f(...)` in parameter order (keywords and
    defaults bound; a default is an `ast.Constant` at the call); raises
    RevError on a mismatch."""
    names = f.param_names
    for a in c.args:
        if isinstance(a, ast.Starred):
            raise RevError("`*args` in a call")
    if len(c.args) > len(names):
        raise RevError(f"`{f.name}` takes {len(names)} arguments, got {len(c.args)}")
    bound = dict(zip(names, c.args))
    for kw in c.keywords:
        if kw.arg is None:
            raise RevError("`**kwargs` in a call")
        if kw.arg not in names:
            raise RevError(f"`{f.name}` has no parameter `{kw.arg}` (parameters: "
                           f"{', '.join(names)})")
        if kw.arg in bound:
            raise RevError(f"`{kw.arg}` is given twice (by position and by keyword)")
        bound[kw.arg] = kw.value
    out = []
    missing = []
    for n in names:
        a = bound.get(n)
        if a is None:
            if n not in f.defaults:
                missing.append(n)
                continue
            a = ast.copy_location(ast.Constant(f.defaults[n]), c)
            a._rev_default = n
        out.append(a)
    if missing:
        raise RevError(f"`{f.name}` is missing argument(s) {', '.join(missing)}")
    return out


def _names(node) -> set:
    """The names an expression reads (variables, arrays and others)."""
    return {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)}


class FunctionBuilder:
    def __init__(self, rf, module_builder):
        self.rf = rf
        self.mb = module_builder
        self.filename = rf.filename
        self.line0 = rf.first_line
        self.source_lines = rf.source_lines
        self.globals = rf.py_globals
        self.bounds = bool(getattr(module_builder, "bounds", False))
        self.in_cond = False
        self.loop = None  # the rev.for whose body is being emitted (not a nested region)
        # bounds checks to repeat after the statement: a check is its own
        # inverse, so the copy after an access is the one before it in the
        # generated inverse (and in the backward sweep of a gradient)
        self.pending_checks = []

    # -- errors and locations -------------------------------------------------
    def error(self, node, message):
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0) + self.rf.indent
        src = self.source_lines[line - 1] if 0 < line <= len(self.source_lines) else None
        return RevSyntaxError(message, self.filename, line + self.line0 - 1, col, src)

    def loc(self, node):
        return ir.Location.file(self.filename, getattr(node, "lineno", 1) + self.line0 - 1,
                                getattr(node, "col_offset", 0) + self.rf.indent + 1)

    # -- resolving names to Python objects ------------------------------------
    def py_object(self, node):
        """The Python object a Name/Attribute chain names, or a sentinel."""
        if isinstance(node, ast.Name):
            if node.id in self.scope or node.id in self.arrays:
                return _MISSING
            if node.id in self.rf.closure:
                return self.rf.closure[node.id]
            if node.id in self.globals:
                return self.globals[node.id]
            return getattr(builtins, node.id, _MISSING)
        if isinstance(node, ast.Attribute):
            base = self.py_object(node.value)
            if base is _MISSING:
                return _MISSING
            return getattr(base, node.attr, _MISSING)
        return _MISSING

    def callee(self, node):
        """(ReversibleFunction, inverse?) for a call target, or None."""
        from .decorator import ReversibleFunction, _Inverse
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
            r = self.callee(node.operand)
            return None if r is None else (r[0], not r[1])
        if isinstance(node, ast.Attribute) and node.attr == "inverse":
            r = self.callee(node.value)
            return None if r is None else (r[0], not r[1])
        obj = self.py_object(node)
        if isinstance(obj, ReversibleFunction):
            return (obj, False)
        if isinstance(obj, _Inverse):
            return (obj.f, True)
        return None

    # -- the function ---------------------------------------------------------
    def build(self):
        fdef = self.rf.fdef
        rf = self.rf
        args = fdef.args
        if fdef.decorator_list and len(fdef.decorator_list) > 1:
            raise self.error(fdef.decorator_list[1], "@reversible must be the only decorator")
        with self.loc(fdef):
            ftype = ir.FunctionType.get([t.mlir() for t in rf.arg_types],
                                        [t.mlir() for t in rf.arg_types
                                         if isinstance(t, ScalarType)])
            func = revd.FuncOp(rf.symbol, ir.TypeAttr.get(ftype))
            entry = ir.Block.create_at_start(
                func.body, [t.mlir() for t in rf.arg_types],
                [self.loc(a) for a in args.args])
        self.scope = {}
        self.arrays = {}
        for a, t, v in zip(args.args, rf.arg_types, entry.arguments):
            if isinstance(t, ArrayType):
                self.arrays[a.arg] = (v, t)
            else:
                self.scope[a.arg] = _Var(v, "var")
        body = list(fdef.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        if body and isinstance(body[-1], ast.Return) and body[-1].value is None:
            body = body[:-1]
        with ir.InsertionPoint(entry):
            self.block(body)
            with self.loc(fdef.body[-1] if fdef.body else fdef):
                revd.ReturnOp([self.scope[a.arg].value for a, t in zip(args.args, rf.arg_types)
                               if isinstance(t, ScalarType)])
        return func

    # -- statements -----------------------------------------------------------
    def block(self, stmts):
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, ast.With) and self._with_kind(s) == "compute":
                # compute ... body ... uncompute(): a routine
                j = i + 1
                while j < len(stmts) and not self._is_marker_call(stmts[j], markers.uncompute):
                    j += 1
                if j == len(stmts):
                    raise self.error(s, "`with rev.compute(...)` needs a matching "
                                        "`rev.uncompute()` later in the same block")
                saved_loop, self.loop = self.loop, None
                saved_checks, self.pending_checks = self.pending_checks, []
                try:
                    with self.loc(s):
                        self.guard(s, lambda: self.routine(s, stmts[i + 1:j]))
                finally:
                    self.loop = saved_loop
                    self.pending_checks = saved_checks
                i = j + 1
                continue
            self.stmt(s)
            i += 1

    def _is_marker_call(self, s, marker):
        return (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                and self.py_object(s.value.func) is marker)

    def _with_kind(self, s):
        if len(s.items) != 1 or not isinstance(s.items[0].context_expr, ast.Call):
            return None
        obj = self.py_object(s.items[0].context_expr.func)
        if obj is markers.compute:
            return "compute"
        if obj is markers.ancilla:
            return "ancilla"
        return None

    def stmt(self, s):
        saved, self.pending_checks = self.pending_checks, []
        try:
            self.guard(s, lambda: self._stmt(s))
            self.flush_checks()
        finally:
            self.pending_checks = saved

    def flush_checks(self):
        for ok, rule, origin, loc in self.pending_checks:
            revd.CheckOp(ok, rule, origin, loc=loc)
        self.pending_checks = []

    def guard(self, s, fn):
        try:
            return fn()
        except RevError:
            raise
        except RecursionError:
            raise self.error(s, "the statement is nested too deeply") from None
        except Exception as e:  # a builder refused something the checks above let through
            raise self.error(s, f"cannot compile this statement: {type(e).__name__}: {e}") \
                from None

    def _stmt(self, s):
        with self.loc(s):
            if isinstance(s, ast.AugAssign):
                return self.augassign(s)
            if isinstance(s, ast.Assign):
                return self.assign(s)
            if isinstance(s, ast.For):
                return self.for_(s)
            if isinstance(s, ast.If):
                return self.if_(s)
            if isinstance(s, ast.While):
                return self.while_(s)
            if isinstance(s, ast.With):
                kind = self._with_kind(s)
                if kind == "ancilla":
                    return self.ancilla(s)
                raise self.error(s, "unsupported `with`: use `with rev.ancilla(value) as t:` or "
                                    "`with rev.compute(...): ... rev.uncompute()`")
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
                return self.call_stmt(s.value)
            if isinstance(s, ast.Pass):
                return
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
                return  # a string used as a comment
            if isinstance(s, ast.Return):
                raise self.error(s, "`return` is not supported: a reversible function returns "
                                    "the final values of its scalar arguments")
            if isinstance(s, ast.AnnAssign):
                raise self.error(s, "plain assignment is not reversible: use "
                                    "`with rev.ancilla(value) as name:` for a local")
            raise self.error(s, f"unsupported statement `{type(s).__name__}` in a "
                                f"@reversible function")

    def target_var(self, node):
        if node.id in self.arrays:
            raise self.error(node, f"`{node.id}` is an array: update its elements")
        v = self.scope.get(node.id)
        if v is None:
            raise self.error(node, f"`{node.id}` is not a variable of this function (a "
                                   f"parameter or an ancilla)")
        if v.kind != "var":
            raise self.error(node, f"`{node.id}` is a loop index and cannot be updated")
        return v

    def element(self, node, origin="memref.load"):
        """(memref value, [index values], ArrayType) of A[i, j]; with bounds
        checks on (and outside a condition), each index is checked first."""
        if not isinstance(node.value, ast.Name) or node.value.id not in self.arrays:
            if isinstance(node.value, ast.Name) and node.value.id not in self.scope:
                self.expr(node.value)  # names an outside object: says which
            raise self.error(node, "only elements of array parameters can be indexed")
        ref, t = self.arrays[node.value.id]
        sl = node.slice
        idx = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        if len(idx) != len(t.shape):
            raise self.error(node, f"`{node.value.id}` has {len(t.shape)} dimension(s), "
                                   f"indexed with {len(idx)}")
        for e in idx:
            if isinstance(e, ast.Slice):
                raise self.error(e, "slices are not supported: index one element")
        ivs = [self.as_index(self.expr(e, ir.IndexType.get()), e) for e in idx]
        if self.bounds and not self.in_cond:
            # conditions stay pure (a check is an effect), as in checked mode
            with self.loc(node):
                for d, (e, iv) in enumerate(zip(idx, ivs)):
                    rule = f"index out of bounds in dimension {d} of `{node.value.id}`"
                    if not self.hoisted_check(node.value.id, ref, d, e, rule, origin):
                        size = memref.DimOp(ref, self.const_index(d)).result
                        ok = self.cmp("ult", iv, size)
                        revd.CheckOp(ok, rule, origin)
                        self.pending_checks.append((ok, rule, origin, self.loc(node)))
        return ref, ivs, t

    def hoisted_check(self, name_of_ref, ref, d, e, rule, origin):
        """An index `i + c` or `i - c` (`i` the index of the loop whose body
        this is, not inside a nested region; c an integer literal) is checked
        once, before the loop: every iterate lb, lb + st, ..., last is in
        bounds when lb + c >= 0 and last + c < size, or the loop runs no
        iteration. The loop body then has no check (and vectorises)."""
        c = 0
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Sub)):
            if isinstance(e.right, ast.Constant) and isinstance(e.left, ast.Name):
                name, c = e.left.id, e.right.value
                if isinstance(e.op, ast.Sub) and isinstance(c, int):
                    c = -c
            elif isinstance(e.left, ast.Constant) and isinstance(e.right, ast.Name) \
                    and isinstance(e.op, ast.Add):
                name, c = e.right.id, e.left.value
            else:
                return False
        elif isinstance(e, ast.Name):
            name = e.id
        else:
            return False
        if isinstance(c, bool) or not isinstance(c, int) or not -2 ** 62 < c < 2 ** 62:
            return False
        var = self.scope.get(name)
        if var is None or var is not self.loop:
            return False
        op, lb, ub, st, done = var.loop
        key = (name_of_ref, d, c)
        if key in done:
            return True
        done.add(key)
        with ir.InsertionPoint(op):
            one = self.const_index(1)
            cc = self.const_index(c)
            size = memref.DimOp(ref, self.const_index(d)).result
            # last = lb + ((ub - 1 - lb) floordiv st) * st (st > 0; max(st, 1) keeps
            # a wrong step from dividing by zero here)
            span = arith.SubIOp(arith.SubIOp(ub, one).result, lb).result
            step = arith.MaxSIOp(st, one).result
            last = arith.AddIOp(lb, arith.MulIOp(arith.FloorDivSIOp(span, step).result,
                                                 step).result).result
            first_ok = self.cmp("sge", arith.AddIOp(lb, cc).result, self.const_index(0))
            last_ok = self.cmp("slt", arith.AddIOp(last, cc).result, size)
            empty = self.cmp("sge", lb, ub)
            ok = arith.OrIOp(empty, arith.AndIOp(first_ok, last_ok).result).result
            revd.CheckOp(ok, rule, origin)
        var.after.append((ok, rule, origin, self.loc(e)))
        return True

    def augassign(self, s):
        kinds = _UPDATES.get(type(s.op))
        if kinds is None:
            raise self.error(s, f"`{type(s.op).__name__}=` is not a reversible update "
                                f"(use +=, -=, *=, /=, ^=)")
        t = s.target
        if isinstance(t, ast.Name):
            var = self.target_var(t)
            for sub in ast.walk(s.value):
                if isinstance(sub, ast.Name) and sub.id == t.id:
                    raise self.error(sub, f"`{t.id}` is read by its own update "
                                          f"(`{t.id} {self._opsym(s.op)}= f({t.id})` is not "
                                          f"reversible); use an ancilla")
            ty = var.value.type
            d = self.convert(self.expr(s.value, want=ty), ty, s.value)
            self.check_update_type(s, ty)
            var.value = getattr(revd, kinds[0])(var.value, d).result
            return
        if isinstance(t, ast.Subscript):
            ref, idx, at = self.element(t, "rev." + kinds[1][:-4].lower() + "_at")
            ty = at.elem.mlir()
            d = self.convert(self.expr(s.value, want=ty), ty, s.value)
            self.check_update_type(s, ty)
            getattr(revd, kinds[1])(ref, idx, d)
            return
        raise self.error(t, "the target of an update must be a variable or an array element")

    @staticmethod
    def _opsym(op):
        return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.BitXor: "^"}[type(op)]

    def check_update_type(self, s, ty):
        if isinstance(s.op, ast.BitXor) and not (_is_int(ty) or _is_index(ty)):
            raise self.error(s, "`^=` needs an integer target")
        if isinstance(s.op, (ast.Mult, ast.Div)) and not _is_float(ty):
            raise self.error(s, f"`{self._opsym(s.op)}=` needs a float target (integer "
                                f"multiplication is not reversible in general)")

    def assign(self, s):
        if len(s.targets) == 1 and isinstance(s.targets[0], ast.Tuple) \
                and isinstance(s.value, ast.Tuple) and len(s.targets[0].elts) == 2 \
                and len(s.value.elts) == 2:
            a, b = s.targets[0].elts
            ra, rb = s.value.elts
            if ast.unparse(a) == ast.unparse(rb) and ast.unparse(b) == ast.unparse(ra):
                return self.swap(a, b, s)
        raise self.error(s, "plain assignment `=` is not reversible: use an update (`+=`, ...), "
                            "a swap `a, b = b, a`, or `with rev.ancilla(value) as name:`")

    def swap(self, a, b, s):
        if isinstance(a, ast.Name) and isinstance(b, ast.Name):
            va, vb = self.target_var(a), self.target_var(b)
            if va is vb:
                raise self.error(s, "swapping a variable with itself")
            if va.value.type != vb.value.type:
                raise self.error(s, "swapped variables must have the same type")
            op = revd.SwapOp(va.value, vb.value)
            va.value, vb.value = op.results[0], op.results[1]
            return
        if isinstance(a, ast.Subscript) and isinstance(b, ast.Subscript):
            ra, ia, _ = self.element(a, "rev.swap_at")
            rb, ib, _ = self.element(b, "rev.swap_at")
            revd.SwapAtOp(ra, ia, rb, ib)
            return
        if isinstance(a, ast.Subscript) and isinstance(b, ast.Name):
            a, b = b, a
        if isinstance(a, ast.Name) and isinstance(b, ast.Subscript):
            return self.swap_with_element(a, b, s)
        raise self.error(s, "a swap exchanges two variables, two array elements, or a "
                            "variable and an element")

    def swap_with_element(self, a, b, s):
        """`a, A[i] = A[i], a`: integers by three xors; floats through a zero
        ancilla t and six additive updates (t += A[i]; A[i] -= t; A[i] += a;
        a -= A[i]; a += t; t -= a), exact for finite values."""
        var = self.target_var(a)
        ref, idx, at = self.element(b, "rev.swap")
        ty = var.value.type
        if at.elem.mlir() != ty:
            raise self.error(s, f"swapped variable and element must have the same type "
                                f"(`{a.id}` is {ty}, `{ast.unparse(b)}` is {at.elem.mlir()})")
        if not _is_float(ty):
            var.value = revd.XorOp(var.value, memref.LoadOp(ref, idx).result).result
            revd.XorAtOp(ref, idx, var.value)
            var.value = revd.XorOp(var.value, memref.LoadOp(ref, idx).result).result
            return
        t = revd.AllocOp(ty).result
        t = revd.AddOp(t, memref.LoadOp(ref, idx).result).result
        revd.SubAtOp(ref, idx, t)
        revd.AddAtOp(ref, idx, var.value)
        var.value = revd.SubOp(var.value, memref.LoadOp(ref, idx).result).result
        var.value = revd.AddOp(var.value, t).result
        t = revd.SubOp(t, var.value).result
        revd.FreeOp(t)

    def call_stmt(self, c):
        obj = self.py_object(c.func)
        if obj in (markers.neg, markers.rot, markers.irot):
            return self.builtin_update(c, obj)
        if obj is markers.steps:
            return self.builtin_steps(c)
        if obj is markers.uncompute:
            raise self.error(c, "`rev.uncompute()` without a preceding `with rev.compute(...)`")
        target = self.callee(c.func)
        if target is None:
            name = ast.unparse(c.func)
            raise self.error(c, f"`{name}` is not a @reversible function: only reversible "
                                f"functions (and their inverses) can be called")
        f, inverse = target
        f._parse()
        try:
            bound = bind_call_nodes(f, c)
        except RevSyntaxError:
            raise
        except RevError as e:
            raise self.error(c, str(e)) from None
        self.mb.require(f)
        gw = callee_writes(f)
        # the variables and arrays this call may change
        changed = set()
        for pname, a, t in zip(f.param_names, bound, f.arg_types):
            if pname in gw and isinstance(a, ast.Name):
                changed.add(a.id)
        operands, scalars = [], []  # scalars: _Var, or (node, type) for an automatic ancilla
        for pname, a, t in zip(f.param_names, bound, f.arg_types):
            if isinstance(t, ArrayType):
                if not isinstance(a, ast.Name) or a.id not in self.arrays:
                    raise self.error(a, f"argument `{ast.unparse(a)}` must be an array")
                v, at = self.arrays[a.id]
                if at.mlir() != t.mlir():
                    raise self.error(a, f"argument `{a.id}` is {at!r}, `{f.name}` expects {t!r}")
                operands.append(v)
                continue
            if isinstance(a, ast.Name) and a.id in self.scope and self.scope[a.id].kind == "var":
                var = self.target_var(a)
                if var in scalars:
                    raise self.error(a, f"`{a.id}` is passed twice")
                if var.value.type != t.mlir():
                    raise self.error(a, f"argument `{a.id}` has type {var.value.type}, "
                                        f"`{f.name}` expects {t.mlir()}")
                operands.append(var.value)
                scalars.append(var)
                continue
            # an expression, a loop index, a constant or a default: passed in an
            # automatic ancilla (zero + value before the call, - value after it)
            what = ("its default" if hasattr(a, "_rev_default") else
                    f"`{ast.unparse(a)}`")
            if pname in gw:
                raise self.error(a, f"`{f.name}` may change its parameter `{pname}`, so "
                                    f"{what} cannot be passed to it: pass a variable (an "
                                    f"expression, a loop index or a default can only be "
                                    f"passed to a parameter the callee leaves unchanged)")
            for n in sorted(_names(a) & changed):
                raise self.error(a, f"{what} reads `{n}`, which this call may change: the "
                                    f"value passed for `{pname}` must be the same before "
                                    f"and after the call")
            ty = t.mlir()
            with self.loc(a):
                e = self.convert(self.expr(a, ty), ty, a)
                tv = revd.AddOp(revd.AllocOp(ty).result, e).result
            operands.append(tv)
            scalars.append((a, ty))
        op_cls = revd.UncallOp if inverse else revd.CallOp
        op = op_cls([v.value.type if isinstance(v, _Var) else v[1] for v in scalars],
                    ir.FlatSymbolRefAttr.get(f.symbol), operands)
        for var, r in zip(scalars, op.results):
            if isinstance(var, _Var):
                var.value = r
        for var, r in zip(scalars, op.results):
            if not isinstance(var, _Var):
                a, ty = var
                with self.loc(a):
                    e = self.convert(self.expr(a, ty), ty, a)
                    revd.FreeOp(revd.SubOp(r, e).result)

    def builtin_steps(self, c):
        """rev.steps(step, lb, ub, init, out, *params, snapshots=None,
        schedule=None, levels=None)."""
        if len(c.args) < 5 or any(isinstance(a, ast.Starred) for a in c.args):
            raise self.error(c, "rev.steps takes (step, lb, ub, init, out, *params)")
        snapshots = schedule = levels = None
        for k in c.keywords:
            v = k.value
            if k.arg == "snapshots":
                if not (isinstance(v, ast.Constant) and isinstance(v.value, int)
                        and not isinstance(v.value, bool) and 1 <= v.value < 2**62):
                    raise self.error(v, "snapshots= must be an integer constant >= 1")
                snapshots = v.value
            elif k.arg == "schedule":
                if not (isinstance(v, ast.Constant) and v.value in ("revolve", "bennett")):
                    raise self.error(v, 'schedule= must be "revolve" or "bennett"')
                schedule = v.value
            elif k.arg == "levels":
                if not (isinstance(v, ast.Constant) and isinstance(v.value, int)
                        and not isinstance(v.value, bool) and 1 <= v.value <= 64):
                    raise self.error(v, "levels= must be an integer constant in [1, 64]")
                levels = v.value
            else:
                raise self.error(v, f"rev.steps has no keyword `{k.arg}` (only snapshots=, "
                                    f"schedule=, levels=)")
        if levels is not None and schedule != "bennett":
            raise self.error(c, 'levels= needs schedule="bennett"')
        if snapshots is not None and schedule == "bennett":
            raise self.error(c, 'snapshots= is for the revolve schedule (schedule="bennett" '
                                'takes levels=)')
        target = self.callee(c.args[0])
        if target is None or target[1]:
            raise self.error(c.args[0], "the step of rev.steps must be a @reversible function")
        f = target[0]
        f._parse()
        self.mb.require(f)
        if len(f.arg_types) != len(c.args) - 2:
            raise self.error(c, f"`{f.name}` takes {len(f.arg_types)} arguments: rev.steps "
                                f"passes it (t, old, new) and {len(c.args) - 5} params")
        arrays = []
        for a in c.args[3:5]:
            if not isinstance(a, ast.Name) or a.id not in self.arrays:
                raise self.error(a, f"`{ast.unparse(a)}` must be an array (the state)")
            arrays.append(self.arrays[a.id][0])
        idx = ir.IndexType.get()
        lb = self.convert(self.expr(c.args[1], idx), idx, c.args[1])
        ub = self.convert(self.expr(c.args[2], idx), idx, c.args[2])
        params = []
        for a, t in zip(c.args[5:], f.arg_types[3:]):
            if isinstance(t, ArrayType):
                if not isinstance(a, ast.Name) or a.id not in self.arrays:
                    raise self.error(a, f"argument `{ast.unparse(a)}` must be an array")
                params.append(self.arrays[a.id][0])
            else:
                params.append(self.convert(self.expr(a, t.mlir()), t.mlir(), a))
        i64 = ir.IntegerType.get_signless(64)
        revd.StepsOp(ir.FlatSymbolRefAttr.get(f.symbol), lb, ub, arrays[0], arrays[1], params,
                     snapshots=None if snapshots is None else ir.IntegerAttr.get(i64, snapshots),
                     schedule=None if schedule is None else ir.StringAttr.get(schedule),
                     levels=None if levels is None else ir.IntegerAttr.get(i64, levels))

    def builtin_update(self, c, obj):
        n = 1 if obj is markers.neg else 3
        if len(c.args) != n or c.keywords:
            raise self.error(c, f"rev.{obj.__name__} takes {n} argument(s)")
        if obj is markers.neg:
            a = c.args[0]
            if isinstance(a, ast.Name):
                var = self.target_var(a)
                var.value = revd.NegOp(var.value).result
            elif isinstance(a, ast.Subscript):
                ref, idx, _ = self.element(a, "rev.neg_at")
                revd.NegAtOp(ref, idx)
            else:
                raise self.error(a, "rev.neg takes a variable or an array element")
            return
        a, b, th = c.args
        theta = self.expr(th, want=F64.mlir())
        if isinstance(a, ast.Name) and isinstance(b, ast.Name):
            va, vb = self.target_var(a), self.target_var(b)
            theta = self.convert(theta, va.value.type, th)
            op = (revd.RotOp if obj is markers.rot else revd.IRotOp)(va.value, vb.value, theta)
            va.value, vb.value = op.results[0], op.results[1]
        elif isinstance(a, ast.Subscript) and isinstance(b, ast.Subscript):
            ra, ia, at = self.element(a, "rev." + obj.__name__ + "_at")
            rb, ib, _ = self.element(b, "rev." + obj.__name__ + "_at")
            theta = self.convert(theta, at.elem.mlir(), th)
            (revd.RotAtOp if obj is markers.rot else revd.IRotAtOp)(ra, ia, rb, ib, theta)
        else:
            raise self.error(c, f"rev.{obj.__name__} rotates two variables or two elements")

    # -- regions --------------------------------------------------------------
    def threaded(self, stmts, extra_exprs=()):
        names = _written(stmts, lambda n: self.callee(n) is not None or self.py_object(n) in (
            markers.neg, markers.rot, markers.irot))
        return [n for n in names if n in self.scope and self.scope[n].kind == "var"]

    def region_block(self, region, names, extra_types=()):
        types = [self.scope[n].value.type for n in names] + list(extra_types)
        return ir.Block.create_at_start(region, types)

    def with_scope(self, names, values):
        saved = self.scope
        self.scope = dict(saved)
        for n, v in zip(names, values):
            self.scope[n] = _Var(v, "var")
        return saved

    def for_(self, s):
        if s.orelse:
            raise self.error(s, "`for ... else` is not supported")
        if not isinstance(s.target, ast.Name):
            raise self.error(s.target, "the loop variable must be a name")
        it = s.iter
        reverse = False
        if isinstance(it, ast.Call) and self.py_object(it.func) is reversed and len(it.args) == 1:
            reverse = True
            it = it.args[0]
        parallel, accumulate = False, None
        if isinstance(it, ast.Call) and self.py_object(it.func) is markers.prange:
            if reverse:
                raise self.error(s.iter, "a parallel loop has no direction: drop `reversed`")
            parallel = True
            for kw in it.keywords:
                if not (kw.arg == "accumulate" and isinstance(kw.value, ast.Constant)
                        and kw.value.value in ("atomic", "privatize")):
                    raise self.error(kw.value if kw.arg else it,
                                     'rev.prange takes accumulate="atomic" or '
                                     'accumulate="privatize" as its only keyword')
                accumulate = kw.value.value
            it = ast.copy_location(ast.Call(func=it.func, args=it.args, keywords=[]), it)
        elif not (isinstance(it, ast.Call) and self.py_object(it.func) is range
                  and 1 <= len(it.args) <= 3 and not it.keywords):
            raise self.error(s.iter, "a reversible loop iterates over `range(...)`, "
                                     "`reversed(range(...))` or `rev.prange(...)`")
        if parallel and not 1 <= len(it.args) <= 3:
            raise self.error(s.iter, "rev.prange takes one to three arguments, as range")
        a = it.args
        if len(a) == 1:
            lb, ub, st = self.const_index(0), self.as_index(self.expr(a[0], ir.IndexType.get()), a[0]), \
                self.const_index(1)
        else:
            lb = self.as_index(self.expr(a[0], ir.IndexType.get()), a[0])
            ub = self.as_index(self.expr(a[1], ir.IndexType.get()), a[1])
            if len(a) == 3:
                if isinstance(a[2], ast.UnaryOp) and isinstance(a[2].op, ast.USub) or (
                        isinstance(a[2], ast.Constant) and isinstance(a[2].value, int)
                        and a[2].value <= 0):
                    raise self.error(a[2], "the step of a loop must be positive; iterate "
                                           "backwards with `reversed(range(...))`")
                st = self.as_index(self.expr(a[2], ir.IndexType.get()), a[2])
            else:
                st = self.const_index(1)
        if s.target.id in self.scope or s.target.id in self.arrays:
            raise self.error(s.target, f"the loop variable `{s.target.id}` shadows a variable")
        names = self.threaded(s.body)
        inits = [self.scope[n].value for n in names]
        if parallel:
            # Written scalars are the loop's reduce accumulators: each
            # iteration may only add to them (the verifier says where not).
            op = revd.ParallelForOp([v.type for v in inits], lb, ub, st, inits,
                                    accumulate=ir.StringAttr.get(accumulate)
                                    if accumulate else None)
        else:
            op = revd.ForOp([v.type for v in inits], lb, ub, st, inits,
                            reverse=ir.UnitAttr.get() if reverse else None)
        blk = ir.Block.create_at_start(op.body, [ir.IndexType.get()] +
                                       [v.type for v in inits])
        saved = self.with_scope(names, list(blk.arguments)[1:])
        index = self.scope[s.target.id] = _Var(blk.arguments[0], "const")
        saved_loop, self.loop = self.loop, index
        index.loop = (op, lb, ub, st, set())
        index.after = []  # the hoisted checks, repeated after the loop
        try:
            with ir.InsertionPoint(blk):
                self.block(s.body)
                revd.YieldOp([self.scope[n].value for n in names])
        finally:
            self.loop = saved_loop
        self.scope = saved
        for ok, rule, origin, loc in index.after:
            revd.CheckOp(ok, rule, origin, loc=loc)
        for n, r in zip(names, op.results):
            self.scope[n].value = r

    def condition(self, test):
        """(pre expression, post expression or None)."""
        if isinstance(test, ast.Call) and self.py_object(test.func) is markers.cond:
            if len(test.args) == 2 and not test.keywords:
                return test.args[0], test.args[1]
            if len(test.args) == 1 and len(test.keywords) == 1 and test.keywords[0].arg == "post":
                return test.args[0], test.keywords[0].value
            raise self.error(test, "rev.cond(pre, post=post)")
        return test, None

    def cond_region(self, region, names, expr):
        blk = self.region_block(region, names)
        saved = self.with_scope(names, list(blk.arguments))
        self.in_cond = True
        try:
            with ir.InsertionPoint(blk), self.loc(expr):
                c = self.as_bool(self.expr(expr), expr)
                revd.CondOp(c)
        finally:
            self.in_cond = False
        self.scope = saved

    def state_region(self, region, names, stmts, node):
        blk = self.region_block(region, names)
        saved = self.with_scope(names, list(blk.arguments))
        saved_loop, self.loop = self.loop, None
        try:
            with ir.InsertionPoint(blk):
                self.block(stmts)
                with self.loc(node):
                    revd.YieldOp([self.scope[n].value for n in names])
        finally:
            self.loop = saved_loop
        self.scope = saved

    def if_(self, s):
        pre, post = self.condition(s.test)
        names = self.threaded(s.body + s.orelse)
        inits = [self.scope[n].value for n in names]
        op = revd.IfOp([v.type for v in inits], inits)
        self.cond_region(op.pre, names, pre)
        self.state_region(op.thenRegion, names, s.body, s)
        if s.orelse:
            self.state_region(op.elseRegion, names, s.orelse, s)
        if post is not None:
            self.cond_region(op.post, names, post)
        for n, r in zip(names, op.results):
            self.scope[n].value = r

    def while_(self, s):
        if s.orelse:
            raise self.error(s, "`while ... else` is not supported")
        pre, post = self.condition(s.test)
        if post is None:
            raise self.error(s.test, "a reversible `while` needs a post condition, true after "
                                     "every iteration and false on entry: "
                                     "`while rev.cond(pre, post=...):`")
        names = self.threaded(s.body)
        inits = [self.scope[n].value for n in names]
        op = revd.WhileOp([v.type for v in inits], inits)
        self.cond_region(op.regions[0], names, pre)
        self.state_region(op.regions[1], names, s.body, s)
        self.cond_region(op.regions[2], names, post)
        for n, r in zip(names, op.results):
            self.scope[n].value = r

    def ancilla_value(self, call, node):
        """(type or None, constant attribute or None, expression node or None)
        of `rev.ancilla(value[, type])`: a constant, or an expression (the
        ancilla is allocated zero and the expression added)."""
        if call.keywords or not 1 <= len(call.args) <= 2:
            raise self.error(call, "rev.ancilla(value) or rev.ancilla(value, type)")
        v = call.args[0]
        t = None
        if len(call.args) == 2:
            t = scalar_type(self.py_object(call.args[1]))
            if t is None:
                raise self.error(call.args[1], "the ancilla's type must be f64, f32, i64, i32, "
                                               "i16, i8 or index")
        if isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub) and \
                isinstance(v.operand, ast.Constant):
            value = -v.operand.value
        elif isinstance(v, ast.Constant):
            value = v.value
        else:
            return (None if t is None else t.mlir()), None, v
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(v, "an ancilla starts from a number or a numeric expression")
        if t is None:
            t = F64 if isinstance(value, float) else scalar_type(int)
        ty = t.mlir()
        if t.is_float:
            attr = ir.FloatAttr.get(ty, float(value))
        else:
            if isinstance(value, float):
                raise self.error(v, "an integer ancilla starts from an integer")
            if not -2 ** (t.bits - 1) <= value < 2 ** (t.bits - 1):
                raise self.error(v, f"the integer {value} does not fit in {ty}")
            attr = ir.IntegerAttr.get(ty, int(value))
        return ty, attr, None

    def ancilla_expr(self, node, ty):
        """The value of an ancilla's initial expression (converted to ty)."""
        e = self.expr(node, ty)
        if ty is None:
            if not (_is_float(e.type) or _is_int(e.type) or _is_index(e.type)):
                raise self.error(node, f"an ancilla holds a number, not {e.type}")
            return e
        return self.convert(e, ty, node)

    def alloc(self, ty, attr):
        zero = (attr.value == 0)
        return revd.AllocOp(ty, init=None if zero else attr).result

    def free(self, v, attr):
        zero = (attr.value == 0)
        revd.FreeOp(v, init=None if zero else attr)

    def ancilla(self, s):
        item = s.items[0]
        if not isinstance(item.optional_vars, ast.Name):
            raise self.error(s, "`with rev.ancilla(value) as name:`")
        name = item.optional_vars.id
        if name in self.scope or name in self.arrays:
            raise self.error(item.optional_vars, f"the ancilla `{name}` shadows a variable")
        ty, attr, node = self.ancilla_value(item.context_expr, s)
        if node is None:
            self.scope[name] = _Var(self.alloc(ty, attr), "var")
            self.block(s.body)
            with self.loc(s):
                self.free(self.scope.pop(name).value, attr)
            return
        # t = 0; t += e; body; t -= e; free: e's inputs must not change in the body
        changed = may_write(self, s.body)
        for n in sorted(_names(node) & changed):
            if n in self.scope or n in self.arrays:
                raise self.error(node, f"the ancilla's initial value reads `{n}`, which the "
                                       f"block may change: it is subtracted again at the end "
                                       f"of the block, so its inputs must not change inside")
        with self.loc(node):
            e = self.ancilla_expr(node, ty)
            self.scope[name] = _Var(revd.AddOp(revd.AllocOp(e.type).result, e).result, "var")
        self.block(s.body)
        with self.loc(s):
            e = self.ancilla_expr(node, e.type)
            revd.FreeOp(revd.SubOp(self.scope.pop(name).value, e).result)

    def routine(self, s, body):
        call = s.items[0].context_expr
        if call.args or s.items[0].optional_vars is not None:
            raise self.error(s, "`with rev.compute(name=value, ...):` names its ancillas "
                                "as keywords")
        anc = []  # [name, type, constant attribute or None, expression node or None]
        for kw in call.keywords:
            if kw.arg is None or kw.arg in self.scope or kw.arg in self.arrays:
                raise self.error(kw.value, f"the ancilla `{kw.arg}` shadows a variable")
            fake = ast.Call(func=call.func, args=[kw.value], keywords=[])
            ast.copy_location(fake, kw.value)
            anc.append([kw.arg, *self.ancilla_value(fake, s)])
        names = [n for n in self.threaded(s.body + body)]
        inits = [self.scope[n].value for n in names]
        op = revd.RoutineOp([v.type for v in inits], inits)
        # compute: allocate the ancillas, run the block, pass everything on
        # (an ancilla from an expression: zero plus the expression; the
        # automatic uncompute subtracts it again)
        blk = self.region_block(op.regions[0], names)
        saved = self.with_scope(names, list(blk.arguments))
        with ir.InsertionPoint(blk):
            for a in anc:
                n, ty, attr, node = a
                if node is None:
                    with self.loc(s):
                        self.scope[n] = _Var(self.alloc(ty, attr), "var")
                else:
                    with self.loc(node):
                        e = self.ancilla_expr(node, ty)
                        a[1] = e.type
                        self.scope[n] = _Var(revd.AddOp(revd.AllocOp(e.type).result, e).result,
                                             "var")
            self.flush_checks()
            self.block(s.body)
            with self.loc(s):
                revd.YieldOp([self.scope[n].value for n in names] +
                             [self.scope[a[0]].value for a in anc])
        self.scope = saved
        blk = self.region_block(op.regions[1], names, [a[1] for a in anc])
        saved = self.with_scope(names + [a[0] for a in anc], list(blk.arguments))
        with ir.InsertionPoint(blk):
            self.block(body)
            with self.loc(s):
                revd.YieldOp([self.scope[n].value for n in names + [a[0] for a in anc]])
        self.scope = saved
        for n, r in zip(names, op.results):
            self.scope[n].value = r

    # -- expressions ----------------------------------------------------------
    def const_index(self, v):
        return arith.ConstantOp(ir.IndexType.get(), v).result

    def constant(self, value, want, node):
        if isinstance(value, bool):
            return arith.ConstantOp(ir.IntegerType.get_signless(1), int(value)).result
        if isinstance(value, int):
            if not -2 ** 63 <= value < 2 ** 63:
                raise self.error(node, f"the integer {value} does not fit in 64 bits")
            if want is not None and _is_int(want):
                w = ir.IntegerType(want).width
                if not -2 ** (w - 1) <= value < 2 ** (w - 1):
                    raise self.error(node, f"the integer {value} does not fit in {want}")
                return arith.ConstantOp(want, value).result
            if want is not None and _is_index(want):
                return arith.ConstantOp(want, value).result
            if want is not None and _is_float(want):
                return arith.ConstantOp(want, float(value)).result
            return arith.ConstantOp(ir.IntegerType.get_signless(64), value).result
        if isinstance(value, float):
            ty = want if want is not None and _is_float(want) else F64.mlir()
            return arith.ConstantOp(ty, value).result
        raise self.error(node, f"unsupported constant {value!r}")

    def convert(self, v, ty, node):
        t = v.type
        if t == ty:
            return v
        if _is_float(ty):
            if _is_index(t):
                v = arith.IndexCastOp(ir.IntegerType.get_signless(64), v).result
                t = v.type
            if _is_int(t):
                return arith.SIToFPOp(ty, v).result
            if _is_float(t):
                if ir.FloatType(t).width < ir.FloatType(ty).width:
                    return arith.ExtFOp(ty, v).result
                return arith.TruncFOp(ty, v).result
        if _is_index(ty) and _is_int(t):
            return arith.IndexCastOp(ty, v).result
        if _is_int(ty) and _is_index(t):
            return arith.IndexCastOp(ty, v).result
        raise self.error(node, f"a value of type {t} where {ty} is expected")

    def as_index(self, v, node):
        if not (_is_index(v.type) or _is_int(v.type)):
            raise self.error(node, f"an index must be an integer, got {v.type}")
        return self.convert(v, ir.IndexType.get(), node)

    def as_bool(self, v, node):
        if not _is_bool(v.type):
            raise self.error(node, "a condition must be a comparison or a boolean expression")
        return v

    def unify(self, a, b, node):
        ta, tb = a.type, b.type
        if ta == tb:
            return a, b
        if _is_float(ta) or _is_float(tb):
            ft = ta if _is_float(ta) else tb
            if _is_float(ta) and _is_float(tb):
                ft = ta if ir.FloatType(ta).width >= ir.FloatType(tb).width else tb
            return self.convert(a, ft, node), self.convert(b, ft, node)
        if (_is_index(ta) or _is_int(ta)) and (_is_index(tb) or _is_int(tb)):
            it = ir.IndexType.get()
            return self.convert(a, it, node), self.convert(b, it, node)
        raise self.error(node, f"operands of types {ta} and {tb}")

    def pair(self, l, r, node, want=None):
        """Evaluates two operands; a literal takes the other's type."""
        if isinstance(l, ast.Constant) and not isinstance(r, ast.Constant):
            b = self.expr(r, want)
            a = self.expr(l, b.type)
        else:
            a = self.expr(l, want)
            b = self.expr(r, a.type)
        return self.unify(a, b, node)

    def expr(self, node, want=None):
        with self.loc(node):
            return self._expr(node, want)

    def _expr(self, node, want):
        if isinstance(node, ast.Constant):
            return self.constant(node.value, want, node)
        if isinstance(node, ast.Name):
            if node.id in self.scope:
                return self.scope[node.id].value
            if node.id in self.arrays:
                raise self.error(node, f"the array `{node.id}` used as a value: index it")
            obj = self.py_object(node)
            if isinstance(obj, (int, float)) and not isinstance(obj, bool):
                # frozen into the module; a later change rebuilds it
                where = "closure" if node.id in self.rf.closure else "global"
                self.rf._frozen.append((where, node.id, obj))
                return self.constant(obj, want, node)
            if obj is _MISSING:
                raise self.error(node, f"unknown name `{node.id}`")
            raise self.error(node, f"`{node.id}` is a Python {type(obj).__name__} from outside "
                                   f"the function: only numbers (and @reversible functions, "
                                   f"as calls) can be read from there; pass arrays as "
                                   f"parameters")
        if isinstance(node, ast.Subscript):
            if isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
                return self.shape(node.value.value, node.slice, node)
            ref, idx, _ = self.element(node)
            return memref.LoadOp(ref, idx).result
        if isinstance(node, ast.BinOp):
            return self.binop(node, want)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                if isinstance(node.operand, ast.Constant):
                    return self.constant(-node.operand.value, want, node)
                v = self.expr(node.operand, want)
                if _is_float(v.type):
                    return arith.NegFOp(v).result
                return arith.SubIOp(self.constant(0, v.type, node), v).result
            if isinstance(node.op, ast.UAdd):
                return self.expr(node.operand, want)
            if isinstance(node.op, ast.Not):
                v = self.as_bool(self.expr(node.operand), node.operand)
                return arith.XOrIOp(v, self.constant(True, None, node)).result
            raise self.error(node, "unsupported unary operator")
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BoolOp):
            vals = [self.as_bool(self.expr(v), v) for v in node.values]
            acc = vals[0]
            for v in vals[1:]:
                acc = (arith.AndIOp if isinstance(node.op, ast.And) else arith.OrIOp)(acc, v).result
            return acc
        if isinstance(node, ast.IfExp):
            c = self.as_bool(self.expr(node.test), node.test)
            a, b = self.pair(node.body, node.orelse, node, want)
            return arith.SelectOp(c, a, b).result
        if isinstance(node, ast.Call):
            return self.call_expr(node, want)
        raise self.error(node, f"unsupported expression `{type(node).__name__}`")

    def shape(self, arr, sl, node):
        if not isinstance(arr, ast.Name) or arr.id not in self.arrays:
            raise self.error(node, "`.shape` of an array parameter")
        ref, t = self.arrays[arr.id]
        if not (isinstance(sl, ast.Constant) and isinstance(sl.value, int)
                and 0 <= sl.value < len(t.shape)):
            raise self.error(node, f"`{arr.id}.shape[k]` needs a constant k in "
                                   f"0..{len(t.shape) - 1}")
        return memref.DimOp(ref, self.const_index(sl.value)).result

    def binop(self, node, want):
        op = node.op
        if isinstance(op, ast.Pow):
            base = self.expr(node.left, want)
            e = node.right
            if isinstance(e, ast.Constant) and isinstance(e.value, int) and 1 <= e.value <= 8:
                acc = base
                for _ in range(e.value - 1):
                    acc = (arith.MulFOp if _is_float(base.type) else arith.MulIOp)(acc, base).result
                return acc
            if not _is_float(base.type):
                raise self.error(node, "`**` of an integer needs a constant exponent 1..8")
            ex = self.convert(self.expr(e, base.type), base.type, e)
            return mmath.PowFOp(base, ex).result
        a, b = self.pair(node.left, node.right, node, want)
        t = a.type
        if isinstance(op, ast.Div) and not _is_float(t):
            ft = want if want is not None and _is_float(want) else F64.mlir()
            a, b = self.convert(a, ft, node), self.convert(b, ft, node)
            t = ft
        fl = _is_float(t)
        if isinstance(op, (ast.FloorDiv, ast.Mod)):
            if fl:
                if isinstance(op, ast.Mod):
                    return self.python_mod(a, b, node)
                return self.python_float_floordiv(a, b, node)
            return self.int_division(a, b, node, isinstance(op, ast.Mod))
        table = {
            ast.Add: (arith.AddFOp, arith.AddIOp), ast.Sub: (arith.SubFOp, arith.SubIOp),
            ast.Mult: (arith.MulFOp, arith.MulIOp), ast.Div: (arith.DivFOp, None),
            ast.FloorDiv: (None, arith.FloorDivSIOp), ast.Mod: (arith.RemFOp, arith.RemSIOp),
            ast.BitXor: (None, arith.XOrIOp), ast.BitAnd: (None, arith.AndIOp),
            ast.BitOr: (None, arith.OrIOp), ast.LShift: (None, arith.ShLIOp),
            ast.RShift: (None, arith.ShRSIOp),
        }
        ops = table.get(type(op))
        cls = None if ops is None else ops[0 if fl else 1]
        if cls is None:
            raise self.error(node, f"operator `{type(op).__name__}` is not supported on {t}")
        return cls(a, b).result

    def cmp(self, pred, a, b):
        if _is_float(a.type):
            attr = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), _CMPF_PRED[pred])
            return arith.CmpFOp(attr, a, b).result
        attr = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), _CMPI_PRED[pred])
        return arith.CmpIOp(attr, a, b).result

    def int_division(self, a, b, node, mod):
        """Integer `a // b` (`arith.floordivsi`: Python's floor) or `a % b`
        (Python's sign rule, python_mod). Unless b is a literal other than 0
        and -1, the division cannot trap (it would kill the interpreter): b
        == 0 fails a check (Python's ZeroDivisionError; outside conditions)
        and divides by 1, b == -1 negates (wrapping, as a // -1 of the
        smallest integer must)."""
        rb = node.right
        if isinstance(rb, ast.Constant) and isinstance(rb.value, int) \
                and rb.value not in (0, -1):
            return (self.python_mod(a, b, node) if mod else
                    arith.FloorDivSIOp(a, b).result)
        zero, one = self.constant(0, b.type, node), self.constant(1, b.type, node)
        is_zero = self.cmp("eq", b, zero)
        minus_one = self.cmp("eq", b, self.constant(-1, b.type, node))
        if not self.in_cond:
            ok = arith.XOrIOp(is_zero, self.constant(True, None, node)).result
            origin = "arith.remsi" if mod else "arith.floordivsi"
            revd.CheckOp(ok, "integer division by zero", origin)
            self.pending_checks.append((ok, "integer division by zero", origin,
                                        self.loc(node)))
        safe = arith.SelectOp(arith.OrIOp(is_zero, minus_one).result, one, b).result
        if mod:
            return self.python_mod(a, safe, node)  # a % 1 == a % -1 == 0
        q = arith.FloorDivSIOp(a, safe).result
        return arith.SelectOp(minus_one, arith.SubIOp(zero, a).result, q).result

    def python_float_floordiv(self, a, b, node):
        """Float `a // b` as CPython computes it (floatobject.c divmod):
        mod = fmod(a, b); div = (a - mod) / b, minus 1 where mod and b have
        opposite signs; floor(div) rounded to the nearest integer; a zero
        quotient takes the sign of a / b."""
        zero = self.constant(0.0, a.type, node)
        one = self.constant(1.0, a.type, node)
        m = arith.RemFOp(a, b).result
        div = arith.DivFOp(arith.SubFOp(a, m).result, b).result
        opposite = arith.XOrIOp(self.cmp("olt", b, zero), self.cmp("olt", m, zero)).result
        adjust = arith.AndIOp(self.cmp("une", m, zero), opposite).result
        div = arith.SelectOp(adjust, arith.SubFOp(div, one).result, div).result
        fl = mmath.FloorOp(div).result
        half = self.constant(0.5, a.type, node)
        up = self.cmp("ogt", arith.SubFOp(div, fl).result, half)
        fl = arith.SelectOp(up, arith.AddFOp(fl, one).result, fl).result
        signed_zero = mmath.CopySignOp(zero, arith.DivFOp(a, b).result).result
        return arith.SelectOp(self.cmp("une", div, zero), fl, signed_zero).result

    def python_mod(self, a, b, node):
        """`a % b` with Python's semantics: the result has the sign of b
        (C's remainder, `arith.remsi`/`remf`, has the sign of a): r + b where
        r != 0 and r, b have opposite signs (a float zero takes b's sign)."""
        fl = _is_float(a.type)
        r = (arith.RemFOp if fl else arith.RemSIOp)(a, b).result
        zero = self.constant(0.0 if fl else 0, a.type, node)
        nz = self.cmp("une" if fl else "ne", r, zero)
        opposite = arith.XOrIOp(self.cmp("olt" if fl else "slt", r, zero),
                                self.cmp("olt" if fl else "slt", b, zero)).result
        fix = arith.AndIOp(nz, opposite).result
        rb = (arith.AddFOp if fl else arith.AddIOp)(r, b).result
        out = arith.SelectOp(fix, rb, r).result
        if fl:
            out = arith.SelectOp(nz, out, mmath.CopySignOp(zero, b).result).result
        return out

    def compare(self, node):
        if len(node.ops) != 1:
            raise self.error(node, "chained comparisons are not supported")
        a, b = self.pair(node.left, node.comparators[0], node)
        opt = type(node.ops[0])
        if _is_float(a.type):
            pred = _CMP_F.get(opt)
            if pred is None:
                raise self.error(node, "unsupported comparison")
            attr = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), _CMPF_PRED[pred])
            return arith.CmpFOp(attr, a, b).result
        pred = _CMP_I.get(opt)
        if pred is None:
            raise self.error(node, "unsupported comparison")
        attr = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), _CMPI_PRED[pred])
        return arith.CmpIOp(attr, a, b).result

    def call_expr(self, node, want):
        obj = self.py_object(node.func)
        if node.keywords:
            raise self.error(node, "keyword arguments are not supported here")
        name = getattr(obj, "__name__", None)
        args = node.args
        if obj is len:
            if len(args) != 1:
                raise self.error(node, "len(A)")
            return self.shape(args[0], ast.Constant(0), node)
        if obj in (min, max) or (name in ("minimum", "maximum", "fmin", "fmax")
                                 and _from_math_module(obj)):
            if len(args) < 2:
                raise self.error(node, f"{ast.unparse(node.func)} takes two or more arguments")
            is_min = obj is min or name in ("minimum", "fmin")
            acc = self.expr(args[0], want)
            for x in args[1:]:
                b = self.expr(x, acc.type)
                acc, b = self.unify(acc, b, node)
                if _is_float(acc.type):
                    acc = (arith.MinimumFOp if is_min else arith.MaximumFOp)(acc, b).result
                else:
                    acc = (arith.MinSIOp if is_min else arith.MaxSIOp)(acc, b).result
            return acc
        if obj is abs or (name in ("abs", "fabs", "absolute") and _from_math_module(obj)):
            if len(args) != 1:
                raise self.error(node, "abs(x)")
            v = self.expr(args[0], want)
            if _is_float(v.type):
                return mmath.AbsFOp(v).result
            return mmath.AbsIOp(v).result
        if obj is float:
            return self.convert(self.expr(args[0]), want if want is not None and _is_float(want)
                                else F64.mlir(), node)
        if obj is int:
            v = self.expr(args[0])
            if _is_float(v.type):
                return arith.FPToSIOp(ir.IntegerType.get_signless(64), v).result
            return self.convert(v, ir.IntegerType.get_signless(64), node)
        if name in _UNARY_MATH and _from_math_module(obj):
            if len(args) != 1:
                raise self.error(node, f"{name} takes one argument")
            v = self.expr(args[0], want)
            if not _is_float(v.type):
                v = self.convert(v, F64.mlir(), args[0])
            return _UNARY_MATH[name](v).result
        if name in _BINARY_MATH and _from_math_module(obj):
            if len(args) != 2:
                raise self.error(node, f"{name} takes two arguments")
            a, b = self.pair(args[0], args[1], node, want)
            if not _is_float(a.type):
                a, b = self.convert(a, F64.mlir(), node), self.convert(b, F64.mlir(), node)
            return _BINARY_MATH[name](a, b).result
        if self.callee(node.func) is not None:
            raise self.error(node, f"`{ast.unparse(node.func)}` is a reversible function: call "
                                   f"it as a statement (it updates its arguments), not in an "
                                   f"expression")
        raise self.error(node, f"`{ast.unparse(node.func)}` is not supported in a reversible "
                               f"function (pure expressions may call min, max, abs, len, float, "
                               f"int and the math functions)")


_MISSING = object()


def _from_math_module(obj) -> bool:
    mod = getattr(obj, "__module__", None)
    if obj is None or obj is _MISSING:
        return False
    if mod in ("math", None) and getattr(_pymath, getattr(obj, "__name__", ""), None) is obj:
        return True
    try:
        import numpy as np
        if getattr(np, getattr(obj, "__name__", ""), None) is obj:
            return True
    except ImportError:  # pragma: no cover
        pass
    return False
