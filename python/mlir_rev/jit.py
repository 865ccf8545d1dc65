"""Compile reversible programs and run them, forwards and backwards.

    from mlir_rev.jit import Program
    prog = Program(source)            # parse, verify, invert, lower, JIT
    y = prog.call("f", 1.5, 2.0, A)   # A: a NumPy array, updated in place
    x = prog.uncall("f", *y, A)       # the inverse: the state comes back

`Program` compiles once; calls are cheap. Scalars go in as Python numbers and
come back (the final versions of the scalar arguments, a tuple when there are
several); memref arguments are NumPy arrays updated in place.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

import numpy as np

from .execution_engine import ExecutionEngine
from .ir import (Context, FunctionType, Location, MemRefType, MLIRError, Module,
                 ShapedType)
from .passmanager import PassManager
from .runtime import get_ranked_memref_descriptor

__all__ = ["Program", "RevError", "Signature"]


class RevError(Exception):
    """A rev program failed to parse, verify, invert, lower or be called."""


_CTYPES = {
    "f64": (ctypes.c_double, np.float64),
    "f32": (ctypes.c_float, np.float32),
    "i64": (ctypes.c_int64, np.int64),
    "i32": (ctypes.c_int32, np.int32),
    "i16": (ctypes.c_int16, np.int16),
    "i8": (ctypes.c_int8, np.int8),
    "index": (ctypes.c_int64, np.int64),
}


def _format(err: MLIRError) -> str:
    """The located diagnostics of an MLIRError, one per line, notes indented."""
    lines = []

    def add(diag, indent):
        lines.append(f"{indent}{diag.location}: {diag.message}")
        for note in diag.notes:
            add(note, indent + "  ")

    for d in err.error_diagnostics:
        add(d, "")
    return "\n".join(lines) or str(err)


def _mlir_lib_dir() -> str:
    import sysconfig
    cand = os.path.join(sysconfig.get_paths()["purelib"], "mlir", "lib")
    return os.environ.get("REV_MLIR_LIB_DIR", cand)


@dataclass
class _Arg:
    kind: str  # "scalar" or "memref"
    type: str  # "f64", ... element type for memrefs
    shape: tuple = ()  # memrefs: None for dynamic dims


@dataclass
class Signature:
    name: str
    args: list

    @property
    def scalars(self):
        return [a for a in self.args if a.kind == "scalar"]


def _elem_name(t) -> str:
    s = str(t)
    if s not in _CTYPES:
        raise RevError(f"unsupported type {s} at the Python boundary")
    return s


def _signature(op) -> Signature:
    name = op.attributes["sym_name"].value
    ftype = FunctionType(op.attributes["function_type"].value)
    args = []
    for t in ftype.inputs:
        if isinstance(t, MemRefType):
            dyn = ShapedType.get_dynamic_size()
            shape = tuple(None if d == dyn else d for d in t.shape)
            args.append(_Arg("memref", _elem_name(t.element_type), shape))
        else:
            args.append(_Arg("scalar", _elem_name(t)))
    return Signature(name, args)


class Program:
    """A module of rev functions compiled to native code with the MLIR JIT.

    source: MLIR text or an `mlir_rev.ir.Module` (it is not modified).
    checks: insert run-time reversibility assertions (a failed one prints the
            op and location on stderr and exits the process).
    """

    def __init__(self, source, *, grad=(), fwd=(), hvp=(), checks: bool = False,
                 atol: float = 1e-8, opt_level: int = 2):
        """grad: functions to differentiate with --rev-ad (gives `@f_grad`);
        fwd: functions to differentiate with --rev-fwd (gives `@f_fwd`);
        hvp: functions whose gradient is differentiated forwards (gives
        `@f_grad` and its tangent, for Hessian-vector products)."""
        self._ctx = Context()
        text = source if isinstance(source, str) else str(source)
        with self._ctx, Location.unknown():
            try:
                self.module = Module.parse(text)
            except MLIRError as e:
                raise RevError("invalid rev program:\n" + _format(e)) from None
            # One pass per name, in order, so that grad=["f", "f_grad"] gives
            # a second derivative.
            for name in dict.fromkeys([*grad, *hvp]):
                self._run("builtin.module(rev-ad{funcs=%s})" % name, "rev-ad")
            self.gradient_names = self._derived("rev.gradient_of")
            self.backward_names = self._derived("rev.backward_of")
            tangents = list(dict.fromkeys(
                [*fwd, *(self.gradient_names[f] for f in hvp)]))
            for name in tangents:
                self._run("builtin.module(rev-fwd{funcs=%s})" % name, "rev-fwd")
            self.tangent_names = self._derived("rev.tangent_of")
            self.signatures = {}
            for op in self.module.body.operations:
                if op.operation.name == "rev.func":
                    sig = _signature(op.operation)
                    self.signatures[sig.name] = sig
            # Generate every inverse up front so that uncall("f") is available
            # (a backward function that dropped an ancilla's adjoint has none).
            self._run("builtin.module(rev-invert{skip-uninvertible=1})", "inversion")
            self.inverse_names = self._derived("rev.inverse_of")
            pipeline = (f"builtin.module(rev-to-llvm{{checks={int(checks)} "
                        f"atol={atol!r}}})")
            self._run(pipeline, "lowering")
            libdir = _mlir_lib_dir()
            libs = [os.path.join(libdir, n) for n in
                    ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so")]
            self._engine = ExecutionEngine(self.module, opt_level=opt_level,
                                           shared_libs=libs)

    def _derived(self, attr: str) -> dict:
        """{f: name of the function marked `attr = @f`}."""
        out = {}
        for op in self.module.body.operations:
            if op.operation.name == "rev.func" and attr in op.attributes:
                of = op.attributes[attr].value
                out.setdefault(of, op.attributes["sym_name"].value)
        return out

    def _run(self, pipeline: str, what: str):
        try:
            PassManager.parse(pipeline).run(self.module.operation)
        except MLIRError as e:
            raise RevError(f"{what} failed:\n" + _format(e)) from None

    # -- calling -------------------------------------------------------------
    def call(self, name: str, *args):
        """Runs rev.func @name; returns its scalar results (memrefs in place)."""
        if name not in self.signatures:
            raise RevError(f"no rev.func named @{name}")
        return self._invoke(name, self.signatures[name], args)

    def uncall(self, name: str, *args):
        """Runs the inverse of rev.func @name (same signature)."""
        if name not in self.signatures:
            raise RevError(f"no rev.func named @{name}")
        inv = self.inverse_names.get(name)
        if inv is None:
            raise RevError(f"@{name} has no inverse: it cannot be inverted (a derivative "
                           f"function that drops an ancilla's adjoint outside a routine); "
                           f"`rev-opt --rev-invert=funcs={name}` shows where")
        return self._invoke(inv, self.signatures[name], args)

    def _invoke(self, symbol: str, sig: Signature, args):
        if len(args) != len(sig.args):
            raise RevError(f"@{sig.name} takes {len(sig.args)} arguments "
                           f"({len(sig.scalars)} scalars), got {len(args)}")
        # ctypes pointers keep their targets alive for the call.
        packed = []
        for i, (a, v) in enumerate(zip(sig.args, args)):
            ctype, dtype = _CTYPES[a.type]
            if a.kind == "scalar":
                if isinstance(v, np.ndarray) and v.ndim > 0:
                    raise RevError(f"argument #{i} of @{sig.name} is a scalar "
                                   f"{a.type}, got an array")
                if a.type.startswith("f"):
                    if not isinstance(v, (int, float, np.integer, np.floating)):
                        raise RevError(f"argument #{i} of @{sig.name} must be a "
                                       f"number, got {type(v).__name__}")
                    c = ctype(float(v))
                else:
                    if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                        raise RevError(f"argument #{i} of @{sig.name} must be an "
                                       f"integer ({a.type}), got {type(v).__name__}")
                    c = ctype(int(v))
                packed.append(ctypes.pointer(c))
            else:
                if not isinstance(v, np.ndarray):
                    raise RevError(f"argument #{i} of @{sig.name} must be a NumPy "
                                   f"array of {a.type}, got {type(v).__name__}")
                if v.dtype != dtype:
                    raise RevError(f"argument #{i} of @{sig.name} must have dtype "
                                   f"{np.dtype(dtype).name}, got {v.dtype}")
                if v.ndim != len(a.shape) or any(
                        d is not None and d != s for d, s in zip(a.shape, v.shape)):
                    want = "x".join("?" if d is None else str(d) for d in a.shape)
                    raise RevError(f"argument #{i} of @{sig.name} must have shape "
                                   f"{want}, got {v.shape}")
                if not v.flags["C_CONTIGUOUS"] or not v.flags["WRITEABLE"]:
                    raise RevError(f"argument #{i} of @{sig.name} must be a writable "
                                   f"C-contiguous array")
                packed.append(ctypes.pointer(ctypes.pointer(get_ranked_memref_descriptor(v))))
        scalars = sig.scalars
        if len(scalars) == 1:
            res = _CTYPES[scalars[0].type][0]()
            self._engine.invoke(symbol, *packed, ctypes.pointer(res))
            return res.value
        if not scalars:
            self._engine.invoke(symbol, *packed)
            return None

        class Results(ctypes.Structure):
            _fields_ = [(f"r{i}", _CTYPES[s.type][0]) for i, s in enumerate(scalars)]

        res = Results()
        self._engine.invoke(symbol, ctypes.pointer(ctypes.pointer(res)), *packed)
        return tuple(getattr(res, f"r{i}") for i in range(len(scalars)))
