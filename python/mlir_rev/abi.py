"""The ABI of generated functions, read from the C++ that defines it.

    from mlir_rev import abi
    abi.MARKERS["gradient"]                 # "rev.gradient_of"
    abi.derivative_arg_positions(ftype)     # [3, -1, 4] for (f64, i64, memref<?xf64>)

MARKERS names the attributes that mark generated functions (an inverse
carries `rev.inverse_of = @f`, and so on). derivative_arg_positions gives,
for each input of a function type, the argument position of its adjoint,
tangent or shadow in the derivative functions (`@f_bwd`, `@f_grad`,
`@f_fwd`), or -1 for an inactive input. Nothing here restates these facts:
both come from the compiler through its C API.
"""

from __future__ import annotations

from ._mlir_libs import _site_initialize_0 as _ext

__all__ = ["MARKERS", "derivative_arg_positions", "with_derivatives"]

#: {"inverse": "rev.inverse_of", "backward": ..., "gradient": ..., "tangent": ...}
MARKERS: dict = dict(_ext.marker_attribute_names())


def derivative_arg_positions(function_type) -> list:
    """Position of each input's adjoint/tangent/shadow argument, or -1."""
    return list(_ext.derivative_arg_positions(function_type, len(function_type.inputs)))


def with_derivatives(positions, primal_args, derivatives: dict) -> list:
    """The arguments of a derivative function: `primal_args` followed by the
    derivative of each active input (`derivatives[i]` for input i) at the
    place `positions` gives it."""
    active = [i for i, p in enumerate(positions) if p >= 0]
    out = list(primal_args) + [None] * len(active)
    for i in active:
        out[positions[i]] = derivatives[i]
    return out
