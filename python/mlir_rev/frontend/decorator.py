"""`@reversible`: a type-annotated Python function compiled to a `rev.func`."""
from __future__ import annotations

import ast
import inspect
import textwrap

from .. import ir
from ..jit import MLIRError, Program, RevError, _format
from .. import ad as _ad
from .codegen import FunctionBuilder, RevSyntaxError
from .types import ArrayType, ScalarType, scalar_type


_MISSING = object()

_TYPES = ("rev.f64, rev.f32, rev.i64, rev.i32, rev.i16, rev.i8, rev.index, float, int, "
          "rev.Array[...]")

#: keywords of every call of a decorated function (cannot be parameter names)
RESERVED = ("checks", "bounds")


def _without_op_dumps(text: str) -> str:
    """A verifier diagnostic without the generic-form dump of the failing op
    (the Python line it points at says more to a front-end user)."""
    out, skipping = [], False
    for line in text.splitlines():
        if skipping and not line.lstrip().startswith("loc("):
            continue
        skipping = False
        if "see current operation:" in line:
            skipping = True
            continue
        out.append(line)
    return "\n".join(out)


class _ModuleBuilder:
    """Emits a decorated function and every decorated function it calls into
    one module."""

    def __init__(self, module, bounds=False):
        self.module = module
        self.bounds = bounds
        self.emitted = {}
        self.pending = []

    def require(self, f):
        other = self.emitted.get(f.symbol)
        if other is None:
            f._frozen = []
            self.emitted[f.symbol] = f
            self.pending.append(f)
        elif other is not f:
            raise RevError(f"two different @reversible functions are named {f.symbol!r} "
                           f"({other.filename}:{other.first_line} and "
                           f"{f.filename}:{f.first_line}); rename one")

    def run(self, root):
        self.require(root)
        while self.pending:
            f = self.pending.pop(0)
            f._parse()
            with ir.InsertionPoint(self.module.body):
                FunctionBuilder(f, self).build()


class _Inverse:
    """`~f` or `f.inverse`: f run backwards (callable, and callable from other
    @reversible functions, where it becomes `rev.uncall`)."""

    def __init__(self, f):
        self.f = f

    def __call__(self, *args, checks=False, bounds=True, **kwargs):
        args = self.f.bind(args, kwargs, "call of the inverse")
        with _bounds_errors():
            return self.f.program_for(checks, bounds).uncall(self.f.symbol, *args)

    def __invert__(self):
        return self.f

    def __repr__(self):
        return f"~{self.f!r}"


class ReversibleFunction:
    """A `@reversible` function: call it to run the compiled forward;
    `.inverse(...)` / `(~f)(...)` runs it backwards; `.grad`, `.vjp`,
    `.jacobian`, `.hvp` are `mlir_rev.ad`'s; `.module` is the built
    `ir.Module`, `.mlir` its text, `.program` the compiled `jit.Program`."""

    def __init__(self, fn):
        self.fn = fn
        self.name = fn.__name__
        self.symbol = fn.__name__
        try:
            lines, first = inspect.getsourcelines(fn)
        except (OSError, TypeError) as e:
            raise RevError(f"@reversible needs the source of {fn.__qualname__}: {e}") from None
        self.filename = inspect.getsourcefile(fn) or "<unknown>"
        self.first_line = first
        src = "".join(lines)
        ded = textwrap.dedent(src)
        self.indent = (len(lines[0]) - len(lines[0].lstrip())) if lines else 0
        self.source_lines = [l.rstrip("\n") for l in lines]  # as in the file
        self._source = ded
        self.py_globals = fn.__globals__
        self._frozen = []  # (where, name, value): numbers read from globals/closures
        self.fdef = None
        self.arg_types = None
        self._modules = {}
        self._programs = {}
        self._ads = {}
        self._deps = []
        self._writes = None  # the parameters it may change (codegen.callee_writes)
        self.param_names = None
        self.defaults = {}
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.__wrapped__ = fn

    # -- building ------------------------------------------------------------
    @property
    def closure(self) -> dict:
        """The current values of the function's closure variables."""
        out = {}
        for name, cell in zip(self.fn.__code__.co_freevars, self.fn.__closure__ or ()):
            try:
                out[name] = cell.cell_contents
            except ValueError:  # not yet assigned
                pass
        return out

    def _lookup_number(self, where, name):
        d = self.closure if where == "closure" else self.py_globals
        return d.get(name, _MISSING)

    def _stale(self) -> bool:
        """Whether a number the built module froze has changed since."""
        for f in self._deps:
            for where, name, value in f._frozen:
                now = f._lookup_number(where, name)
                if type(now) is not type(value) or now != value:
                    return True
        return False

    def _fresh(self):
        if self._modules and self._stale():
            self._modules.clear()
            self._programs.clear()
            self._ads.clear()

    def _parse(self):
        if self.fdef is not None:
            return
        try:
            tree = ast.parse(self._source)
        except SyntaxError as e:  # pragma: no cover - Python already parsed it
            raise RevError(str(e)) from None
        fdef = tree.body[0]
        if not isinstance(fdef, ast.FunctionDef):
            raise RevSyntaxError("@reversible decorates a plain `def` function",
                                 self.filename, self.first_line, 0,
                                 self.source_lines[0] if self.source_lines else None)
        self.fdef = fdef
        # the error helper of the builder needs these
        fb = FunctionBuilder(self, None)
        fb.scope, fb.arrays = {}, {}
        hints = {}
        for a in fdef.args.args:
            if a.annotation is None:
                raise fb.error(a, f"parameter `{a.arg}` needs a type annotation ({_TYPES})")
            try:
                t = eval(compile(ast.Expression(a.annotation), self.filename, "eval"),
                         self.py_globals, self.closure)
            except Exception as e:
                raise fb.error(a.annotation, f"cannot evaluate the annotation of `{a.arg}`: "
                                             f"{e}") from None
            st = scalar_type(t)
            if st is None and not isinstance(t, ArrayType):
                raise fb.error(a.annotation, f"unsupported type {t!r} for `{a.arg}` ({_TYPES})")
            hints[a.arg] = st or t
        if fdef.returns is not None:
            raise fb.error(fdef.returns, "a reversible function returns the final values of "
                                         "its scalar arguments: no return annotation")
        args = fdef.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            bad = args.vararg or args.kwarg or (args.kwonlyargs or args.posonlyargs)[0]
            raise fb.error(bad, "a @reversible function takes plain parameters only (no "
                                "*args, **kw, keyword-only or positional-only parameters)")
        for a in args.args:
            if a.arg in RESERVED:
                raise fb.error(a, f"the parameter name `{a.arg}` is reserved (a keyword of "
                                  f"every call of a @reversible function: "
                                  f"{', '.join(RESERVED)}); rename it")
        self.arg_types = [hints[a.arg] for a in args.args]
        self.param_names = [a.arg for a in args.args]
        # defaults: numbers, evaluated by Python when the `def` ran
        self.defaults = {}
        values = self.fn.__defaults__ or ()
        for a, d, v in zip(args.args[len(args.args) - len(args.defaults):], args.defaults,
                           values):
            t = hints[a.arg]
            if isinstance(t, ArrayType):
                raise fb.error(d, f"the array parameter `{a.arg}` cannot have a default (only "
                                  f"scalar parameters can)")
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise fb.error(d, f"the default of `{a.arg}` must be a number, got "
                                  f"{type(v).__name__}")
            if isinstance(v, float) and not t.is_float:
                raise fb.error(d, f"the default of the integer parameter `{a.arg}` is a float "
                                  f"({v!r})")
            self.defaults[a.arg] = v

    def bind(self, args, kwargs, what="call"):
        """The positional arguments of a call with keywords and defaults
        (`f(x, A=arr)`), in parameter order."""
        self._parse()
        names = self.param_names
        if len(args) > len(names):
            raise RevError(f"{self.name} takes {len(names)} arguments, got {len(args)} in a "
                           f"{what}")
        out = list(args) + [_MISSING] * (len(names) - len(args))
        for k, v in kwargs.items():
            if k not in names:
                raise RevError(f"{self.name} has no parameter `{k}` (parameters: "
                               f"{', '.join(names)})")
            i = names.index(k)
            if out[i] is not _MISSING:
                raise RevError(f"{self.name}: `{k}` is given twice (by position and by keyword)")
            out[i] = v
        missing = []
        for i, n in enumerate(names):
            if out[i] is _MISSING:
                if n in self.defaults:
                    out[i] = self.defaults[n]
                else:
                    missing.append(n)
        if missing:
            raise RevError(f"{self.name} takes {len(names)} arguments ({', '.join(names)}), "
                           f"got {len(args) + len(kwargs)} in a {what}: missing "
                           f"{', '.join(missing)}")
        return out

    def _build(self, bounds=False):
        ctx = ir.Context()
        with ctx, ir.Location.unknown():
            module = ir.Module.create()
            mb = _ModuleBuilder(module, bounds)
            mb.run(self)
            self._deps = list(dict.fromkeys(self._deps + list(mb.emitted.values())))
            try:
                module.operation.verify()
            except MLIRError as e:
                text = _without_op_dumps(_format(e))
                raise RevError("invalid reversible function:\n" + text +
                               self._source_of(text)) from None
        return module

    def _source_of(self, text):
        """The Python source lines named file:line:col in a diagnostic."""
        import re
        import linecache
        out = []
        for m in re.finditer(r'"?([^"\s:]+\.py)"?:(\d+):(\d+)', text):
            line = linecache.getline(m.group(1), int(m.group(2)))
            if line:
                out.append(f"\n  {m.group(1)}:{m.group(2)}:\n    {line.rstrip()}")
        return "".join(dict.fromkeys(out))

    def module_for(self, bounds=False) -> ir.Module:
        """The built module; with `bounds=True`, every array index outside a
        condition is checked against the array's size first (`rev.check`)."""
        _check_bool(bounds, "bounds")
        self._fresh()
        m = self._modules.get(bool(bounds))
        if m is None:
            m = self._modules[bool(bounds)] = self._build(bool(bounds))
        return m

    @property
    def module(self) -> ir.Module:
        return self.module_for(False)

    @property
    def mlir(self) -> str:
        """The module's text with its Python locations (for rev-opt and bug reports)."""
        return self.module.operation.get_asm(enable_debug_info=True)

    def _variant(self, checks, bounds):
        """(checks, bounds): checked mode checks every index itself, so its
        module has no front-end bounds checks."""
        _check_bool(checks, "checks")
        _check_bool(bounds, "bounds")
        return bool(checks), bool(bounds) and not checks

    def program_for(self, checks=False, bounds=True) -> Program:
        key = self._variant(checks, bounds)
        self._fresh()
        p = self._programs.get(key)
        if p is None:
            p = self._programs[key] = Program(self.module_for(key[1]), checks=key[0])
        return p

    @property
    def program(self) -> Program:
        return self.program_for(False)

    # -- running --------------------------------------------------------------
    def __call__(self, *args, checks=False, bounds=True, **kwargs):
        args = self.bind(args, kwargs)
        with _bounds_errors():
            return self.program_for(checks, bounds).call(self.symbol, *args)

    @property
    def inverse(self) -> _Inverse:
        return _Inverse(self)

    def __invert__(self):
        return _Inverse(self)

    def derivatives(self, *, second_order=False, checks=False,
                    bounds=True, wrt=None, memory_budget=None,
                    loop_budget=0, seeds=1) -> _ad.Derivatives:
        """memory_budget, loop_budget: Program's (docs/memory.md): bytes for
        the states of rev.steps, bytes per iteration stored for loops;
        seeds: outputs per backward sweep of `jacobian` (--rev-seeds)."""
        checks, bounds = self._variant(checks, bounds)
        self._fresh()
        try:
            key = (second_order, checks, bounds,
                   wrt if wrt is None or isinstance(wrt, int) else tuple(wrt),
                   memory_budget, loop_budget, seeds)
            hash(key)
        except TypeError:
            key = None  # unhashable arguments: Program/Derivatives raise for them
        d = self._ads.get(key) if key is not None else None
        if d is None:
            d = _ad.Derivatives(self.module_for(bounds), self.symbol,
                                second_order=second_order, checks=checks, wrt=wrt,
                                memory_budget=memory_budget, loop_budget=loop_budget,
                                seeds=seeds)
            if key is not None:
                self._ads[key] = d
        return d

    def grad(self, *args, output=0, checks=False, bounds=True, wrt=None, memory_budget=None,
             loop_budget=0, **kwargs):
        """The gradient of one output; `wrt=` (argument positions, like JAX's
        argnums) picks the inputs (mlir_rev.ad's docstring); `memory_budget`,
        `loop_budget` as Program's (docs/memory.md)."""
        args = self.bind(args, kwargs, "gradient")
        d = self.derivatives(checks=checks, bounds=bounds, wrt=wrt,
                             memory_budget=memory_budget, loop_budget=loop_budget)
        d._check_output(output)
        with _bounds_errors():
            return d.gradient(*args, output=output)

    def vjp(self, args, scalar_seeds, memref_seeds, checks=False, bounds=True):
        with _bounds_errors():
            return self.derivatives(checks=checks, bounds=bounds).vjp(args, scalar_seeds,
                                                                      memref_seeds)

    def jacobian(self, *args, checks=False, bounds=True, seeds=1, **kwargs):
        """The full Jacobian; `seeds=N` runs N outputs through each backward
        sweep (the same matrix, bit for bit; docs/ad.md "Several seeds in
        one sweep")."""
        args = self.bind(args, kwargs, "jacobian")
        with _bounds_errors():
            return self.derivatives(checks=checks, bounds=bounds,
                                    seeds=seeds).jacobian(*args)

    def hvp(self, *args, v, output=0, checks=False, bounds=True, **kwargs):
        args = self.bind(args, kwargs, "hvp")
        d = self.derivatives(second_order=True, checks=checks, bounds=bounds)
        d._check_output(output)
        with _bounds_errors():
            return d.hvp(*args, v=v, output=output)

    def __repr__(self):
        return f"<reversible {self.name} at {self.filename}:{self.first_line}>"


def reversible(fn):
    """Compiles a type-annotated Python function to a reversible `rev.func`
    (lazily, on first use)."""
    if isinstance(fn, ReversibleFunction):
        return fn
    if not inspect.isfunction(fn):
        raise RevError(f"@reversible decorates a function, got {type(fn).__name__}")
    return ReversibleFunction(fn)


def _derivatives_of(f):
    if not isinstance(f, ReversibleFunction):
        raise RevError(f"expected a @reversible function, got {type(f).__name__}; for MLIR "
                       f"text use mlir_rev.ad")
    return f


def grad(f, *, output=0, checks=False, bounds=True, wrt=None, memory_budget=None,
         loop_budget=0):
    """`mlir_rev.ad.grad` for a @reversible function: args -> gradient."""
    f = _derivatives_of(f)
    return lambda *args, **kw: f.grad(*args, output=output, checks=checks, bounds=bounds,
                                      wrt=wrt, memory_budget=memory_budget,
                                      loop_budget=loop_budget, **kw)


def vjp(f, *, checks=False, bounds=True):
    """`mlir_rev.ad.vjp` for a @reversible function."""
    f = _derivatives_of(f)
    return lambda args, scalar_seeds, memref_seeds: f.vjp(args, scalar_seeds, memref_seeds,
                                                          checks=checks, bounds=bounds)


def jacobian(f, *, checks=False, bounds=True, seeds=1):
    """`mlir_rev.ad.jacobian` for a @reversible function (`seeds=N`: N
    outputs per backward sweep)."""
    f = _derivatives_of(f)
    return lambda *args, **kw: f.jacobian(*args, checks=checks, bounds=bounds, seeds=seeds,
                                          **kw)


def hvp(f, *, output=0, checks=False, bounds=True):
    """`mlir_rev.ad.hvp` for a @reversible function: (args..., v=...) -> H v."""
    f = _derivatives_of(f)
    return lambda *args, v, **kw: f.hvp(*args, v=v, output=output, checks=checks,
                                        bounds=bounds, **kw)


class _bounds_errors:
    """A failed check of the front end (bounds, integer division by zero)
    outside checked mode: the arrays may have been partly updated (checked
    mode restores them)."""

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        rule = getattr(e, "rule", None) if isinstance(e, RevError) else None
        if rule and (rule.startswith("index out of bounds") or
                     rule == "integer division by zero") and "unchecked mode" in str(e):
            text = str(e).split("\n")[0]
            raise RevError(f"{text}\n  in a call of @{e.function} (a check of the front "
                           f"end: array arguments may be partly updated; checks=True "
                           f"restores them)", rule=e.rule, op=e.op,
                           location=e.location, function=e.function,
                           message=getattr(e, "message", text)) from None
        return False


def _check_bool(v, name):
    if not isinstance(v, (bool, int)) or isinstance(v, int) and not isinstance(v, bool) \
            and v not in (0, 1):
        raise RevError(f"{name} must be True or False, got {v!r}")
