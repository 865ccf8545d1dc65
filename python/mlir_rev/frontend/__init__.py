"""The Python front end of rev: `@reversible` functions.

    from mlir_rev import frontend as rev

    @rev.reversible
    def f(x: rev.f64, y: rev.f64, A: rev.Array[rev.f64]):
        y += rev.sin(x) * A[0]
        A[1] += y

    f(0.5, 1.0, A)          # forward (A in place; returns the scalars)
    f.inverse(*out, A)      # backwards
    f.grad(0.5, 1.0, A, output=1)

See docs/frontend.md for the supported Python subset.
"""
from math import (sin, cos, tan, exp, log, sqrt, tanh, atan, asin, acos, sinh, cosh,  # noqa: F401
                  exp2, log2, log10, log1p, expm1, erf, erfc, cbrt, fabs, atan2, pow, copysign)

from ..jit import RevError  # noqa: F401
from .codegen import RevSyntaxError  # noqa: F401
from .decorator import ReversibleFunction, grad, hvp, jacobian, reversible, vjp  # noqa: F401
from .markers import ancilla, compute, cond, irot, neg, prange, rot, steps, uncompute  # noqa: F401
from .types import Array, ArrayType, ScalarType, f32, f64, i8, i16, i32, i64, index  # noqa: F401
