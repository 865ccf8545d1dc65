"""rev functions as JAX ops: an XLA FFI custom call with rev's gradient.

    import jax
    jax.config.update("jax_enable_x64", True)     # for f64/i64 rev functions
    from mlir_rev.interop import jax_function
    f = jax_function(open("examples/coupled.mlir").read(), "coupled")
    y, z, X = f(0.3, -0.2, xs)                     # the final state of every argument
    jax.grad(lambda xs: f(0.3, -0.2, xs)[0])(xs)   # rev's tape-free gradient

The forward and the backward are `jax.ffi.ffi_call`s of one C++ handler
(python/interop_ffi/RevXlaFfi.cpp, librev_xla_ffi.so), which calls the JIT-
compiled rev function (`@f`, resp. `@f_bwd`) on XLA's buffers: no Python and
no host callback runs when a compiled JAX computation executes. The gradient is
a `jax.custom_vjp` whose residuals are the op's outputs: `@f_bwd` starts from
f's final state, so nothing else is saved. `jax.vmap` calls the handler with
every operand batched ("broadcast_all"); the handler loops over the batch.
Under `shard_map` or `jax.jit` with shardings, each device runs the handler on
its shard. CPU only (the compiled rev code runs on the host).
"""

from __future__ import annotations

import ctypes
import os
import threading

import numpy as np

import jax
import jax.numpy as jnp

from .. import abi
from ..jit import RevError
from ._common import check_shape, compile_layout, python_scalar, entry_point

__all__ = ["JaxFunction", "TARGET"]

#: the FFI target name of the handler
TARGET = "rev_call"
_LIB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "_mlir_libs", "librev_xla_ffi.so")
_registered = False
_lock = threading.Lock()


def _register():
    global _registered
    with _lock:
        if _registered:
            return
        if not os.path.isfile(_LIB):
            raise RevError(f"the XLA FFI handler is not built ({_LIB} is missing): rev was "
                           f"configured without jaxlib's FFI headers; install jaxlib in the "
                           f"build's Python and reconfigure")
        try:
            lib = ctypes.CDLL(_LIB)
        except OSError as e:
            raise RevError(f"cannot load {_LIB}: {e}") from None
        jax.ffi.register_ffi_target(TARGET, jax.ffi.pycapsule(lib.RevCall), platform="cpu")
        _registered = True


def _varying(a) -> frozenset:
    """The manual mesh axes (shard_map) along which `a` varies."""
    mat = getattr(jax.typeof(a), "manual_axis_type", None)
    return frozenset(mat.varying) if mat is not None else frozenset()


def _align_varying(args):
    """Inside shard_map, every operand of the custom call varies along the
    same mesh axes (the union of the operands'), as its results do: rev's
    function mixes all its arguments. A replicated operand is cast to varying
    (whose transpose, in the gradient, is the sum over the axes)."""
    axes = frozenset().union(*(_varying(a) for a in args))
    if not axes:
        return list(args)
    return [a if _varying(a) == axes else
            jax.lax.pcast(a, tuple(sorted(axes - _varying(a))), to="varying")
            for a in args]


class _Call:
    """One compiled rev function as an ffi_call: operands and results, one per
    argument (the results are the final state)."""

    def __init__(self, program, symbol):
        sig = program.signatures[symbol]
        self.symbol = symbol
        self.address, self.guard = entry_point(program, symbol)
        self.ranks = [-1 if a.kind == "scalar" else len(a.shape) for a in sig.args]
        self.aliases = {i: i for i, r in enumerate(self.ranks) if r >= 0}

    def __call__(self, *args):
        args = _align_varying(args)
        # The results' types are the operands' (shape, dtype, mesh axes).
        results = tuple(jax.ShapeDtypeStruct.like(a) for a in args)
        call = jax.ffi.ffi_call(TARGET, results, vmap_method="broadcast_all",
                                input_output_aliases=self.aliases)
        return call(*args, fn=np.int64(self.address), guard=np.int64(self.guard),
                    ranks=np.asarray(self.ranks, dtype=np.int64))


class JaxFunction:
    """A rev function as a differentiable JAX op.

    `JaxFunction(source, name, **program_options)`: `source` is MLIR text, an
    `mlir_rev.ir.Module`, a `jit.Program` compiled with `grad=[name]`, or a
    `@reversible` function; `program_options` go to `jit.Program` (e.g.
    `checks=True`, `opt_level=2`).

    Calling it with one value per argument of the rev function (JAX or NumPy
    arrays, tracers, or Python numbers for scalars) returns a tuple with the
    final state of every argument: a 0-d array per scalar, an array per
    memref. Dtypes must be the rev types' exactly (`TypeError` otherwise: no
    silent casts; f64 and i64 need `jax_enable_x64`), shapes must fit
    (`ValueError`); Python numbers are converted to the scalar's dtype. Float
    arguments are differentiable; integer ones get no cotangent.

    Works under `jax.jit`, `jax.grad`, `jax.value_and_grad`, `jax.vjp`,
    `jax.vmap` (nested too) and `shard_map` / `jax.jit` with shardings, on
    CPU devices. A failed run-time check of a `checks=True` program raises
    the framework's runtime error (`XlaRuntimeError`/`JaxRuntimeError`) with
    rev's message.
    """

    def __init__(self, source, name=None, **program_options):
        self.layout = compile_layout(source, name, program_options)
        _register()
        prog = self.layout.program
        self.program = prog
        self.name = self.layout.name
        self._fwd = _Call(prog, self.layout.name)
        self._bwd = _Call(prog, self.layout.bwd)

        @jax.custom_vjp
        def op(*args):
            return self._fwd(*args)

        def op_fwd(*args):
            outs = self._fwd(*args)
            # @f_bwd starts from f's final state: the outputs are the residuals.
            return outs, outs

        def op_bwd(outs, cts):
            lay = self.layout
            seeds = {i: jnp.asarray(cts[i], dtype=lay.dtypes[i]) for i in lay.active}
            res = self._bwd(*abi.with_derivatives(lay.positions, outs, seeds))
            return tuple(res[p] if p >= 0 else None for p in lay.positions)

        op.defvjp(op_fwd, op_bwd)
        self._op = op

    def __repr__(self):
        return f"<JaxFunction @{self.name} of {len(self.layout.kinds)} arguments>"

    def _convert(self, args):
        lay = self.layout
        fn = f"rev op @{lay.name}"
        if len(args) != len(lay.kinds):
            raise TypeError(f"{fn} takes {len(lay.kinds)} arguments, got {len(args)}")
        x64 = bool(jax.config.jax_enable_x64)
        out = []
        for i, (v, dt) in enumerate(zip(args, lay.dtypes)):
            if dt.itemsize == 8 and not x64:
                raise TypeError(f"{fn}: argument #{i} is {dt.name}, which JAX represents "
                                f"only with jax_enable_x64 (jax.config.update("
                                f"'jax_enable_x64', True))")
            if python_scalar(v, dt, lay.kinds[i], i, fn):
                out.append(jnp.asarray(v, dtype=dt))
                continue
            if not hasattr(v, "dtype") or not hasattr(v, "shape"):
                raise TypeError(f"{fn}: argument #{i} must be an array of {dt.name}, got "
                                f"{type(v).__name__}")
            if np.dtype(v.dtype) != dt:
                raise TypeError(f"{fn}: argument #{i} must have dtype {dt.name}, got "
                                f"{np.dtype(v.dtype).name}")
            check_shape(lay, i, v.shape, fn)
            out.append(v if isinstance(v, jax.Array) else jnp.asarray(v))
        return out

    def __call__(self, *args):
        return self._op(*_align_varying(self._convert(args)))
