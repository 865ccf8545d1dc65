"""rev functions as PyTorch ops: a `torch.autograd.Function` with rev's gradient.

    import torch
    from mlir_rev.interop import torch_function
    f = torch_function(open("examples/coupled.mlir").read(), "coupled")
    xs = torch.randn(1000, dtype=torch.float64, requires_grad=True)
    y, z, X = f(torch.tensor(0.3, dtype=torch.float64), -0.2, xs)
    y.backward()                                   # xs.grad: rev's tape-free gradient

CPU tensors only. The forward copies each input once into its output tensor
and runs the JIT-compiled `@f` on the outputs' memory (zero-copy: NumPy views
of the tensors through DLPack); the backward runs `@f_bwd` from the saved
outputs (f's final state) on copies of them and of the incoming gradients.
`forward` and `setup_context` are separate, so the op also works under
`torch.func.grad`/`vjp`; `torch.func.vmap` loops over the batch.
"""

from __future__ import annotations

import numpy as np

import torch

from .. import abi
from ..jit import RevError  # noqa: F401  (re-exported for callers' except clauses)
from ._common import check_shape, compile_layout, python_scalar

__all__ = ["TorchFunction"]

_TORCH_DTYPES = {
    np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32,
    np.dtype(np.int64): torch.int64, np.dtype(np.int32): torch.int32,
    np.dtype(np.int16): torch.int16, np.dtype(np.int8): torch.int8,
}


def _numpy(t: torch.Tensor) -> np.ndarray:
    """A writable NumPy view of the contiguous CPU tensor t (no copy)."""
    a = np.from_dlpack(t)
    if not a.flags["WRITEABLE"]:  # a DLPack producer that marks it read-only
        a = t.numpy()
    return a


def _run(prog, symbol, kinds, tensors):
    """Runs @symbol on `tensors` (contiguous CPU tensors, memrefs updated in
    place); writes the scalar results into the 0-d tensors."""
    values = [t.item() if k == "scalar" else _numpy(t) for k, t in zip(kinds, tensors)]
    res = prog.call(symbol, *values)
    scalars = [t for k, t in zip(kinds, tensors) if k == "scalar"]
    if len(scalars) == 1:
        res = (res,)
    for t, v in zip(scalars, res or ()):
        t.fill_(v)


def _loop_vmap(function, info, in_dims, op, *args):
    """A vmap rule: one call per batch element (every argument of a rev
    function may be updated, so each element needs its own copy anyway)."""
    rows = [function.apply(op, *(a if d is None else a.select(d, b)
                                 for a, d in zip(args, in_dims[1:])))
            for b in range(info.batch_size)]
    outs = tuple(torch.stack(c) for c in zip(*rows))
    return outs, (0,) * len(outs)


def _contiguous_copy(t: torch.Tensor) -> torch.Tensor:
    return t.detach().clone(memory_format=torch.contiguous_format)


class _RevFunction(torch.autograd.Function):
    """@f: the outputs are the final state of every argument."""

    @staticmethod
    def forward(op, *args):
        lay = op.layout
        outs = [_contiguous_copy(a) for a in args]
        _run(lay.program, lay.name, lay.kinds, outs)
        return tuple(outs)

    @staticmethod
    def setup_context(ctx, inputs, output):
        op = inputs[0]
        ctx.op = op
        # @f_bwd starts from f's final state: the outputs are all it needs.
        ctx.save_for_backward(*output)
        ints = [o for o, d in zip(output, op.layout.dtypes) if d.kind != "f"]
        if ints:
            ctx.mark_non_differentiable(*ints)

    @staticmethod
    def backward(ctx, *grads):
        lay = ctx.op.layout
        outs = ctx.saved_tensors
        seeds = [torch.zeros_like(outs[i]) if grads[i] is None else grads[i]
                 for i in lay.active]
        adjoints = _RevBackward.apply(ctx.op, *outs, *seeds)
        it = iter(adjoints)
        return (None, *(next(it) if p >= 0 else None for p in lay.positions))

    @staticmethod
    def vmap(info, in_dims, op, *args):
        return _loop_vmap(_RevFunction, info, in_dims, op, *args)


class _RevBackward(torch.autograd.Function):
    """@f_bwd as an op of its own (so that torch.func transforms see its
    forward run on plain tensors): (final state, output seeds) -> the input
    adjoints of the active arguments."""

    @staticmethod
    def forward(op, *tensors):
        lay = op.layout
        n = len(lay.kinds)
        state = [_contiguous_copy(t) for t in tensors[:n]]
        seeds = {i: _contiguous_copy(t).to(dtype=state[i].dtype)
                 for i, t in zip(lay.active, tensors[n:])}
        args = abi.with_derivatives(lay.positions, state, seeds)
        sig = lay.program.signatures[lay.bwd]
        _run(lay.program, lay.bwd, [a.kind for a in sig.args], args)
        return tuple(args[lay.positions[i]] for i in lay.active)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.name = inputs[0].name

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"second derivatives of the rev op @{ctx.name} through PyTorch "
                           f"are not supported (rev itself differentiates its gradient: "
                           f"mlir_rev.ad.hvp)")

    @staticmethod
    def vmap(info, in_dims, op, *args):
        return _loop_vmap(_RevBackward, info, in_dims, op, *args)


class TorchFunction:
    """A rev function as a differentiable PyTorch op.

    `TorchFunction(source, name, **program_options)`: as
    `mlir_rev.interop.jax_ops.JaxFunction`. Calling it with one value per
    argument (CPU tensors, or Python numbers for scalars) returns a tuple with
    the final state of every argument (0-d tensors for scalars); the inputs
    are not modified. Dtypes must be the rev types' exactly (`TypeError`),
    shapes must fit (`ValueError`), tensors must be on the CPU (`ValueError`).
    Float arguments are differentiable; integer outputs are not.
    """

    def __init__(self, source, name=None, **program_options):
        self.layout = compile_layout(source, name, program_options)
        self.program = self.layout.program
        self.name = self.layout.name

    def __repr__(self):
        return f"<TorchFunction @{self.name} of {len(self.layout.kinds)} arguments>"

    def _convert(self, args):
        lay = self.layout
        fn = f"rev op @{lay.name}"
        if len(args) != len(lay.kinds):
            raise TypeError(f"{fn} takes {len(lay.kinds)} arguments, got {len(args)}")
        out = []
        for i, (v, dt) in enumerate(zip(args, lay.dtypes)):
            tdt = _TORCH_DTYPES[dt]
            if python_scalar(v, dt, lay.kinds[i], i, fn):
                out.append(torch.tensor(v, dtype=tdt))
                continue
            if not isinstance(v, torch.Tensor):
                raise TypeError(f"{fn}: argument #{i} must be a torch.Tensor of {tdt}, got "
                                f"{type(v).__name__}")
            if v.dtype != tdt:
                raise TypeError(f"{fn}: argument #{i} must have dtype {tdt}, got {v.dtype}")
            if v.device.type != "cpu":
                raise ValueError(f"{fn}: argument #{i} is on {v.device}: rev ops run on "
                                 f"CPU tensors")
            check_shape(lay, i, v.shape, fn)
            out.append(v)
        return out

    def __call__(self, *args):
        return _RevFunction.apply(self, *self._convert(args))
