"""rev functions as JAX ops (mlir_rev.interop.jax_ops): values and gradients
against the same computation written in plain JAX (float64, 1e-10), under
jit / grad / value_and_grad / vmap and their compositions, sharding over
several CPU devices (in a fresh interpreter: the device count is fixed when
jax is first imported), framework-style errors."""

import os

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="jax is not installed (requirements.txt pins it)")
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)

from mlir_rev.interop import jax_function  # noqa: E402
from mlir_rev.jit import Program, RevError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COUPLED = open(os.path.join(ROOT, "examples", "coupled.mlir")).read()
RTOL = 1e-10


def coupled_jax(y, z, X):
    """The coupled recurrence in plain JAX (lax.scan): the reference."""
    def step(c, x):
        a, b = c
        a = a + jnp.sin(b) * x
        b = b + jnp.cos(a) * x
        return (a, b), None
    (y, z), _ = jax.lax.scan(step, (y, z), X)
    return y, z


# An in-place memref update, an integer scalar, an integer memref and a
# read-only memref: A[idx[k]] += s * sin(B[k]) for k < n, then s *= 1.5.
GATHER = """
rev.func @gather(%n: i64, %s: f64, %idx: memref<?xindex>, %B: memref<?xf64>,
                 %A: memref<?xf64>) -> (i64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %k = arith.constant 1.5 : f64
  %nn = arith.index_cast %n : i64 to index
  rev.for %i = %c0 to %nn step %c1 {
    %j = memref.load %idx[%i] : memref<?xindex>
    %b = memref.load %B[%i] : memref<?xf64>
    %sb = math.sin %b : f64
    %d = arith.mulf %s, %sb : f64
    rev.add_at %A[%j], %d : memref<?xf64>
    rev.yield
  }
  %s1 = rev.mul %s, %k : f64
  rev.return %n, %s1 : i64, f64
}
"""


def gather_jax(n, s, idx, B, A):
    d = s * jnp.sin(B[:n])
    return n, s * 1.5, idx, B, A.at[idx[:n]].add(d)


@pytest.fixture(scope="module")
def coupled():
    return jax_function(COUPLED, "coupled")


@pytest.fixture(scope="module")
def gather():
    return jax_function(GATHER, "gather")


def xs(T, seed=0, scale=0.5):
    return jnp.asarray(np.random.default_rng(seed).uniform(-scale, scale, T))


def close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=rtol)


def test_forward_matches_jax_and_inputs_untouched(coupled):
    X = xs(300)
    X_before = np.array(X)
    y, z, X_out = coupled(0.3, -0.2, X)
    ry, rz = coupled_jax(jnp.float64(0.3), jnp.float64(-0.2), X)
    close(y, ry)
    close(z, rz)
    close(X_out, X)
    assert y.dtype == jnp.float64 and y.shape == () and X_out.shape == (300,)
    np.testing.assert_array_equal(np.asarray(X), X_before)


def test_in_place_memref_and_integers(gather):
    rng = np.random.default_rng(1)
    idx = jnp.asarray(rng.integers(0, 7, 12), dtype=jnp.int64)
    B = jnp.asarray(rng.normal(size=12))
    A = jnp.asarray(rng.normal(size=7))
    A_before = np.array(A)
    n, s, idx_o, B_o, A_o = jax.jit(gather)(9, 0.7, idx, B, A)
    rn, rs, _, _, rA = gather_jax(9, 0.7, idx, B, A)
    assert int(n) == 9 and n.dtype == jnp.int64
    close(s, rs)
    close(A_o, rA)
    np.testing.assert_array_equal(np.asarray(idx_o), np.asarray(idx))
    close(B_o, B)
    np.testing.assert_array_equal(np.asarray(A), A_before)  # the input is not written


def test_mixed_program_gradient_matches_jax(coupled):
    """A loss mixing JAX ops before and after the rev op, differentiated in
    every input (scalars and the memref), against the pure-JAX loss."""
    X0 = xs(500, seed=2)

    def loss_with(op):
        def loss(w, y0, X):
            y, z = op(jnp.tanh(w * y0), w, X * w)[:2]
            return jnp.sin(y) * z + 0.5 * (y - w) ** 2 + jnp.sum(X ** 2) * y
        return loss

    rev_loss = loss_with(lambda y, z, X: coupled(y, z, X))
    jax_loss = loss_with(lambda y, z, X: coupled_jax(y, z, X))
    args = (jnp.float64(0.8), jnp.float64(0.4), X0)
    v1, g1 = jax.value_and_grad(rev_loss, argnums=(0, 1, 2))(*args)
    v2, g2 = jax.value_and_grad(jax_loss, argnums=(0, 1, 2))(*args)
    close(v1, v2)
    for a, b in zip(g1, g2):
        close(a, b)
    # the same under jit
    g3 = jax.jit(jax.grad(rev_loss, argnums=(0, 1, 2)))(*args)
    for a, b in zip(g3, g2):
        close(a, b)


def test_gradient_through_in_place_update(gather):
    rng = np.random.default_rng(3)
    idx = jnp.asarray(rng.integers(0, 5, 10), dtype=jnp.int64)
    B = jnp.asarray(rng.normal(size=10))
    A = jnp.asarray(rng.normal(size=5))
    w = jnp.asarray(rng.normal(size=5))

    def loss_with(op):
        def loss(s, B, A):
            _, s1, _, _, A1 = op(8, s, idx, B, A)
            return jnp.dot(w, jnp.cos(A1)) * s1
        return loss

    g1 = jax.grad(loss_with(gather), argnums=(0, 1, 2))(0.9, B, A)
    g2 = jax.grad(loss_with(gather_jax), argnums=(0, 1, 2))(0.9, B, A)
    for a, b in zip(g1, g2):
        close(a, b)


def test_vmap_and_compositions(coupled):
    Xb = jnp.stack([xs(200, seed=s) for s in range(5)])
    y0 = jnp.linspace(-0.5, 0.5, 5)

    def f(op):
        return lambda y, X: op(y, -0.2, X)[0]

    rev_f, jax_f = f(coupled), f(lambda y, z, X: coupled_jax(y, jnp.float64(z), X))
    # vmap over scalars and memrefs; a broadcast (unbatched) argument
    close(jax.vmap(rev_f)(y0, Xb), jax.vmap(jax_f)(y0, Xb))
    close(jax.vmap(rev_f, in_axes=(0, None))(y0, Xb[0]),
          jax.vmap(jax_f, in_axes=(0, None))(y0, Xb[0]))
    # jit(vmap(grad)), grad of a vmapped sum, nested vmap
    g1 = jax.jit(jax.vmap(jax.grad(rev_f, argnums=(0, 1))))(y0, Xb)
    g2 = jax.vmap(jax.grad(jax_f, argnums=(0, 1)))(y0, Xb)
    for a, b in zip(g1, g2):
        close(a, b)
    close(jax.grad(lambda X: jnp.sum(jax.vmap(rev_f)(y0, X)))(Xb),
          jax.grad(lambda X: jnp.sum(jax.vmap(jax_f)(y0, X)))(Xb))
    Xbb = jnp.stack([Xb, Xb * 0.5])
    close(jax.vmap(jax.vmap(rev_f))(jnp.stack([y0, -y0]), Xbb),
          jax.vmap(jax.vmap(jax_f))(jnp.stack([y0, -y0]), Xbb))


def test_f32_function():
    src = COUPLED.replace("f64", "f32")
    op = jax_function(src, "coupled")
    X = xs(100).astype(jnp.float32)
    y, z, _ = op(jnp.float32(0.3), jnp.float32(-0.2), X)
    ry, rz = coupled_jax(jnp.float32(0.3), jnp.float32(-0.2), X)
    assert y.dtype == jnp.float32
    close(y, ry, rtol=1e-5)
    g1 = jax.grad(lambda X: op(jnp.float32(0.3), jnp.float32(-0.2), X)[1])(X)
    g2 = jax.grad(lambda X: coupled_jax(jnp.float32(0.3), jnp.float32(-0.2), X)[1])(X)
    close(g1, g2, rtol=1e-4)


def test_sources(coupled):
    """A compiled Program, a built Module and a @reversible function."""
    from mlir_rev import frontend as rev
    X = xs(50)
    want = coupled(0.3, -0.2, X)[0]
    close(jax_function(Program(COUPLED, grad=["coupled"]), "coupled")(0.3, -0.2, X)[0], want)
    from mlir_rev.ir import Context, Module
    with Context():
        module = Module.parse(COUPLED)
    close(jax_function(module, "coupled")(0.3, -0.2, X)[0], want)

    @rev.reversible
    def step(y: rev.f64, z: rev.f64, A: rev.Array[rev.f64]):
        y += rev.sin(z) * A[0]
        A[1] += rev.cos(y) * z

    op = jax_function(step)
    A = jnp.asarray([0.3, -1.0])

    def ref(y, z, A):
        y = y + jnp.sin(z) * A[0]
        return y, z, A.at[1].add(jnp.cos(y) * z)

    for a, b in zip(op(0.5, 0.25, A), ref(0.5, 0.25, A)):
        close(a, b)
    l1 = jax.grad(lambda z, A: jnp.sum(op(0.5, z, A)[2] ** 2), argnums=(0, 1))(0.25, A)
    l2 = jax.grad(lambda z, A: jnp.sum(ref(0.5, z, A)[2] ** 2), argnums=(0, 1))(0.25, A)
    for a, b in zip(l1, l2):
        close(a, b)


def test_bad_input_is_a_framework_error(coupled, gather):
    X = xs(10)
    with pytest.raises(TypeError, match="takes 3 arguments, got 2"):
        coupled(0.3, X)
    with pytest.raises(TypeError, match="argument #2 must have dtype float64, got float32"):
        coupled(0.3, -0.2, X.astype(jnp.float32))
    with pytest.raises(TypeError, match="argument #0 must have dtype float64, got int64"):
        coupled(jnp.int64(1), -0.2, X)
    with pytest.raises(ValueError, match=r"argument #2 of @coupled must be an array of "
                                         r"shape \(\?\), got shape \(2, 5\)"):
        coupled(0.3, -0.2, X.reshape(2, 5))
    with pytest.raises(ValueError, match=r"argument #0 of @coupled must be a scalar"):
        coupled(X[:2], -0.2, X)
    with pytest.raises(TypeError, match="must be an array of float64, got str"):
        coupled(0.3, -0.2, "x")
    with pytest.raises(TypeError, match="got a bool"):
        coupled(True, -0.2, X)
    with pytest.raises(TypeError, match="argument #0 must be int64, got a float"):
        gather(1.5, 0.1, jnp.zeros(3, jnp.int64), X, X)
    with pytest.raises(ValueError, match="out of range for int64"):
        gather(2**70, 0.1, jnp.zeros(3, jnp.int64), X, X)
    # inside jit and vmap the same checks run on the tracers
    with pytest.raises(TypeError, match="must have dtype float64, got float32"):
        jax.jit(lambda X: coupled(0.3, -0.2, X))(X.astype(jnp.float32))
    with pytest.raises(ValueError, match="must be a scalar"):
        jax.vmap(lambda y: coupled(y, -0.2, X), in_axes=1)(jnp.ones((3, 4)))
    with pytest.raises(RevError, match="no rev.func named @nope"):
        jax_function(COUPLED, "nope")
    with pytest.raises(RevError, match="compile it with Program"):
        jax_function(Program(COUPLED), "coupled")
    with pytest.raises(RevError, match="source must be"):
        jax_function(3, "coupled")


def test_failed_check_raises_and_the_process_goes_on():
    """checks=True: a failed reversibility check inside the XLA computation
    becomes the framework's runtime error with rev's message."""
    src = """
rev.func @d(%y: f64, %x: f64) -> (f64, f64) {
  %y1 = rev.div %y, %x : f64
  rev.return %y1, %x : f64, f64
}
"""
    op = jax_function(src, "d", checks=True)
    close(op(3.0, 2.0)[0], 1.5)
    with pytest.raises(Exception, match="rev: zero divisor") as e:
        jax.block_until_ready(jax.jit(op)(3.0, 0.0))
    assert not isinstance(e.value, (TypeError, ValueError))
    close(jax.grad(lambda x: op(3.0, x)[0])(2.0), -0.75)


def test_x64_disabled_is_a_type_error(run_python):
    r = run_python(
        "import jax, jax.numpy as jnp, os\n"
        "from mlir_rev.interop import jax_function\n"
        f"op = jax_function(open({os.path.join(ROOT, 'examples', 'coupled.mlir')!r}).read(),"
        " 'coupled')\n"
        "try:\n"
        "    op(0.3, -0.2, jnp.zeros(4))\n"
        "except TypeError as e:\n"
        "    print('TypeError', e)\n")
    assert r.returncode == 0, r.stderr
    assert "TypeError" in r.stdout and "jax_enable_x64" in r.stdout


SHARDED = r"""
import os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import numpy as np
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from mlir_rev.interop import jax_function
assert len(jax.devices()) == 4
op = jax_function(open(%(path)r).read(), "coupled")
mesh = Mesh(np.array(jax.devices()), ("b",))
rng = np.random.default_rng(0)
Xb = jnp.asarray(rng.uniform(-0.5, 0.5, (8, 64)))
y0 = jnp.asarray(rng.uniform(-1, 1, 8))

def per_example(w, y, X):
    a, b, _ = op(y * w, w, X)
    return (a - 0.1) ** 2 + b ** 2

def loss(w, y, X):
    return jnp.mean(jax.vmap(per_example, in_axes=(None, 0, 0))(w, y, X))

w = jnp.float64(0.7)
single = jax.value_and_grad(loss)(w, y0, Xb)

# shard_map: each device runs the rev op on its shard; JAX reduces the gradient.
from jax import shard_map
def shard_loss(w, y, X):
    return jax.lax.pmean(loss(w, y, X), "b")
f = jax.jit(shard_map(jax.value_and_grad(shard_loss), mesh=mesh,
                      in_specs=(P(), P("b"), P("b")), out_specs=(P(), P())))
sm = f(w, y0, Xb)

# jit with shardings: the batch laid out over the 4 devices.
ys = jax.device_put(y0, NamedSharding(mesh, P("b")))
Xs = jax.device_put(Xb, NamedSharding(mesh, P("b", None)))
js = jax.jit(jax.value_and_grad(loss))(w, ys, Xs)
hlo = jax.jit(jax.value_and_grad(loss)).lower(w, ys, Xs).compile().as_text()
for name, got in (("shard_map", sm), ("jit-sharded", js)):
    for a, b in zip(got, single):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
    print(name, "ok", float(got[0]), float(got[1]))
print("custom-calls", hlo.count("rev_call"))
"""


def test_sharded_equals_single_device(run_python):
    r = run_python(SHARDED % {"path": os.path.join(ROOT, "examples", "coupled.mlir")})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "shard_map ok" in r.stdout and "jit-sharded ok" in r.stdout, r.stdout
    # the rev op is a custom call of the compiled (partitioned) computation
    assert "custom-calls 0" not in r.stdout, r.stdout


def test_sharded_training_example():
    """examples/interop_sharded_training.py: a model whose recurrence is the rev
    op, batch split over 4 CPU devices, trains exactly like plain JAX on one."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples",
                                                     "interop_sharded_training.py"),
                        "--devices", "4", "--steps", "8", "--batch", "8", "--length", "50"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "OK: the sharded rev model trains exactly like plain JAX" in r.stdout


# Scalars of three widths (the multi-result struct's alignment: f32 at 0, f64
# at 8, i32 at 16), an f32 memref.
WIDTHS = """
rev.func @widths(%a: f32, %b: f64, %k: i32, %V: memref<3xf32>) -> (f32, f64, i32) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %kf = arith.sitofp %k : i32 to f64
  %v0 = memref.load %V[%c0] : memref<3xf32>
  %ve = arith.extf %v0 : f32 to f64
  %d = arith.mulf %ve, %kf : f64
  %s = math.sin %d : f64
  %b1 = rev.add %b, %s : f64
  %bt = arith.truncf %b1 : f64 to f32
  %a1 = rev.add %a, %bt : f32
  rev.add_at %V[%c2], %a1 : memref<3xf32>
  rev.return %a1, %b1, %k : f32, f64, i32
}
rev.func @one(%x: f64, %A: memref<2x3xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.load %A[%c1, %c0] : memref<2x3xf64>
  %e = math.exp %a : f64
  %x1 = rev.add %x, %e : f64
  %c = math.cos %x1 : f64
  rev.add_at %A[%c0, %c1], %c : memref<2x3xf64>
  rev.return %x1 : f64
}
rev.func @none(%A: memref<?xf64>, %B: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %b = memref.load %B[%i] : memref<?xf64>
    %t = math.tanh %b : f64
    rev.add_at %A[%i], %t : memref<?xf64>
    rev.yield
  }
  rev.return
}
"""


@pytest.mark.parametrize("name", ["widths", "one", "none"])
def test_layouts_match_program_call(name):
    """Every result convention of the packed call (several scalars of mixed
    widths, one scalar, none; rank-2 and dynamic memrefs), plain and vmapped,
    against mlir_rev.jit.Program.call (the ctypes path)."""
    prog = Program(WIDTHS)
    op = jax_function(WIDTHS, name)
    rng = np.random.default_rng(4)
    if name == "widths":
        args = [np.float32(0.25), 0.5, np.int32(3),
                rng.normal(size=3).astype(np.float32)]
    elif name == "one":
        args = [0.5, rng.normal(size=(2, 3))]
    else:
        args = [rng.normal(size=6), rng.normal(size=6)]

    def expect(args):
        arrays = [np.array(a) for a in args if np.ndim(a)]
        call_args = [a if not np.ndim(a) else arrays.pop(0) for a in args]
        scalars = prog.call(name, *call_args)
        scalars = [] if scalars is None else (
            list(scalars) if isinstance(scalars, tuple) else [scalars])
        return [scalars.pop(0) if not np.ndim(a) else c for a, c in zip(args, call_args)]

    got = jax.jit(op)(*[jnp.asarray(a) for a in args])
    for g, e, a in zip(got, expect(args), args):
        assert g.dtype == np.asarray(a).dtype
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-6 if
                                   np.asarray(a).dtype == np.float32 else 1e-15)
    # vmapped over a batch of 3: each element as its own call
    batch = [np.stack([np.asarray(a) * (1 + 0.1 * j) if np.asarray(a).dtype.kind == "f"
                       else np.asarray(a) for j in range(3)]) for a in args]
    got = jax.vmap(op)(*[jnp.asarray(b) for b in batch])
    for j in range(3):
        want = expect([b[j] for b in batch])
        for g, e in zip(got, want):
            np.testing.assert_allclose(np.asarray(g)[j], np.asarray(e), rtol=1e-6)
