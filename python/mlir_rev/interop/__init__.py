"""rev functions as differentiable ops of JAX and PyTorch.

    from mlir_rev.interop import jax_function, torch_function
    f = jax_function(source, "coupled")      # a JAX op (jit, grad, vmap, shard_map)
    y, z, X = f(y0, z0, X0)                  # the final state, one array per argument
    g = torch_function(source, "coupled")    # a torch.autograd.Function

`source` is MLIR text, an `mlir_rev.ir.Module`, a `jit.Program` compiled with
`grad=[name]`, or a `@reversible` front-end function (then `name` may be
omitted). Each op returns the final state of every argument (rev functions
update their memrefs in place and return the final values of their scalars);
the framework's inputs are never written. The gradient is rev's tape-free
backward function (`@<name>_bwd`), run from the op's outputs.

Importing this package imports neither framework: `jax_function` imports jax,
`torch_function` imports torch. See docs/interop.md.
"""

from __future__ import annotations

__all__ = ["jax_function", "torch_function"]


def jax_function(source, name=None, **program_options):
    """A JAX op running rev function `name` through XLA's FFI (see
    mlir_rev.interop.jax_ops.JaxFunction)."""
    from .jax_ops import JaxFunction
    return JaxFunction(source, name, **program_options)


def torch_function(source, name=None, **program_options):
    """A PyTorch op running rev function `name` (see
    mlir_rev.interop.torch_ops.TorchFunction)."""
    from .torch_ops import TorchFunction
    return TorchFunction(source, name, **program_options)
