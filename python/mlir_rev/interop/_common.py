"""What the JAX and PyTorch wrappers share: compiling the rev function with
its backward function, and the argument layout of both."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from .. import jit
from ..ir import Module
from ..jit import Program, RevError

#: rev element types and their NumPy dtypes
DTYPES = {t: np.dtype(d) for t, (_, d) in jit._CTYPES.items()}

# Programs whose compiled code an op may call: kept for the life of the
# process, since a compiled JAX computation holds only the code's address.
_KEEPALIVE: list = []


@dataclass
class Layout:
    """A rev function as the wrappers call it."""
    name: str          # the function
    bwd: str           # its backward function (@name_bwd)
    program: Program
    kinds: list        # per argument: "scalar" or "memref"
    dtypes: list       # per argument: the NumPy dtype
    shapes: list       # per argument: () for scalars, the memref shape (None: dynamic)
    positions: list    # per argument: the position of its derivative in @bwd, or -1

    @property
    def ranks(self) -> list:
        return [-1 if k == "scalar" else len(s) for k, s in zip(self.kinds, self.shapes)]

    @property
    def active(self) -> list:
        return [i for i, p in enumerate(self.positions) if p >= 0]


def compile_layout(source, name, program_options) -> Layout:
    """Compiles `source` (MLIR text, ir.Module, Program compiled with
    grad=[name], or a @reversible function) and reads `name`'s layout."""
    from ..frontend.decorator import ReversibleFunction
    if isinstance(source, ReversibleFunction):
        name = source.symbol if name is None else name
        source = source.module
    if name is None:
        raise RevError("the rev function's name is needed (only a @reversible function "
                       "gives its own)")
    name = jit._check_name(name, "interop")
    if isinstance(source, Program):
        if program_options:
            raise RevError("program options cannot be given with a compiled Program: "
                           "pass them to Program(...)")
        prog = source
        prog._lookup(name)
        if name not in prog.backward_names:
            raise RevError(f"the Program has no backward function of @{name}: compile it "
                           f"with Program(source, grad=[{name!r}])")
    elif isinstance(source, (str, Module)):
        prog = Program(source, grad=[name], **program_options)
    else:
        raise RevError(f"source must be MLIR text, an mlir_rev.ir.Module, a Program or a "
                       f"@reversible function, got {type(source).__name__}")
    sig = prog._lookup(name)
    bwd = prog.backward_names[name]
    _KEEPALIVE.append(prog)
    return Layout(name, bwd, prog, [a.kind for a in sig.args],
                  [DTYPES[a.type] for a in sig.args],
                  [tuple(a.shape) if a.kind == "memref" else () for a in sig.args],
                  list(sig.derivative_positions))


def entry_point(prog: Program, symbol: str):
    """(address of @symbol's packed wrapper, address of rev_guarded_call or 0
    when @symbol reaches no run-time check)."""
    address = prog._engine.raw_lookup("_mlir_ciface_" + symbol)
    if not address:
        raise RevError(f"no compiled function @{symbol}")
    guard = 0
    if symbol in prog._guarded:
        runtime = jit._load_runtime()
        guard = ctypes.cast(runtime.rev_guarded_call, ctypes.c_void_p).value
    return int(address), int(guard)


def shape_text(shape) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def check_shape(layout: Layout, i: int, shape, fn: str):
    """ValueError unless `shape` fits argument #i (framework-style)."""
    want = layout.shapes[i]
    shape = tuple(shape)
    if len(shape) != len(want) or any(d is not None and d != s for d, s in zip(want, shape)):
        what = "a scalar (shape ())" if layout.kinds[i] == "scalar" else \
            f"an array of shape {shape_text(want)}"
        raise ValueError(f"{fn}: argument #{i} of @{layout.name} must be {what}, got "
                         f"shape {shape}")


def python_scalar(v, dt: np.dtype, kind: str, i: int, fn: str) -> bool:
    """Whether argument #i of a rev op, `v`, is a Python/NumPy scalar for a
    scalar parameter of dtype `dt` (then the caller converts it); raises the
    framework-style error for a bool, a float for an integer parameter or an
    integer out of the dtype's range."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{fn}: argument #{i} must be {dt.name}, got a bool")
    if not (isinstance(v, (int, float)) and kind == "scalar"):
        return False
    if isinstance(v, float) and dt.kind != "f":
        raise TypeError(f"{fn}: argument #{i} must be {dt.name}, got a float")
    if dt.kind == "i":
        info = np.iinfo(dt)
        if not info.min <= v <= info.max:
            raise ValueError(f"{fn}: argument #{i} is out of range for {dt.name}: {v}")
    return True
