"""Names the front end recognises inside a `@reversible` function.

They only have a meaning in the source of a decorated function (the front end
finds them by identity when it walks the AST); called from ordinary Python
they raise.
"""


def _only_in_reversible(name):
    def f(*args, **kw):
        raise RuntimeError(f"rev.{name}(...) only has a meaning inside a @reversible function")
    f.__name__ = name
    f.__qualname__ = name
    return f


#: `if cond(pre, post=...)` / `while cond(pre, post=...)`: a condition with its
#: post condition (NiLang's `@if (pre, post)` and `@from post while pre`).
cond = _only_in_reversible("cond")
#: `with ancilla(0.0) as t:` a local variable born with a known value (an
#: ancilla); it must hold that value again when the block ends.
ancilla = _only_in_reversible("ancilla")
#: `with compute(t=0.0): ...` then the body, then `uncompute()`: NiLang's
#: `@routine ... ~@routine` (compute, use, automatic uncompute).
compute = _only_in_reversible("compute")
uncompute = _only_in_reversible("uncompute")
#: `neg(y)`: y = -y; `rot(a, b, t)`: rotate (a, b) by t; `irot`: its inverse.
neg = _only_in_reversible("neg")
rot = _only_in_reversible("rot")
irot = _only_in_reversible("irot")
#: `for i in prange(a, b, s):` a parallel loop (rev.parallel_for): iterations
#: independent; scalars the body writes are sums (`s += ...` only);
#: `prange(..., accumulate="privatize")` chooses how shared arrays are added to.
prange = _only_in_reversible("prange")
#: `steps(step, lb, ub, init, out, *params, snapshots=None, schedule=None,
#: levels=None)`: rev.steps, out += the state after step(t, old, new,
#: *params) for t in lb..ub-1, started from init (arrays); `step` is a
#: @reversible function that writes only `new` (fresh zeros each step). Its
#: gradient reverses the steps by binomial checkpointing (`snapshots=c`), or
#: with schedule="bennett" by Bennett's pebble game (`levels=k`); without
#: them the memory budget decides (docs/memory.md).
steps = _only_in_reversible("steps")
