"""Data-parallel training in JAX whose inner recurrence is a rev kernel.

A small sequence model: for each example (a sequence u of length T and a
target), the inputs x_t = tanh(a * u_t + c) drive the coupled reversible
recurrence of examples/coupled.mlir (y += sin(z) x_t; z += cos(y) x_t) from
y_0 = p0, z_0 = p1, and the prediction is q0 * y_T + q1 * z_T. The batch is
split over N CPU devices (`shard_map`, the rev op running on each device's
shard); the loss is the mean over the whole batch (`lax.pmean`), JAX reduces
the parameters' gradient over the devices, and an SGD step follows. The same model written in plain JAX (`lax.scan`) is trained on one
device from the same start; the script checks that the losses and parameters
of every step agree (rel. 1e-10) and prints them.

Run: python examples/interop_sharded_training.py [--devices 4] [--steps 30]
(the build's Python package must be importable: PYTHONPATH=build/python_packages/rev)
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=4)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.2)
    args = ap.parse_args()
    # The CPU device count is read when jax is first imported.
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               f" --xla_force_host_platform_device_count={args.devices}")
    sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))
    import numpy as np
    import jax
    import jax.numpy as jnp
    from jax import shard_map
    from jax.sharding import Mesh, PartitionSpec as P
    jax.config.update("jax_enable_x64", True)
    from mlir_rev.interop import jax_function

    devices = jax.devices()
    assert len(devices) == args.devices, (len(devices), args.devices)
    assert args.batch % args.devices == 0, "the batch must split evenly over the devices"
    coupled = jax_function(open(os.path.join(ROOT, "examples", "coupled.mlir")).read(),
                           "coupled")

    def scan_recurrence(y, z, X):
        def step(c, x):
            a, b = c
            a = a + jnp.sin(b) * x
            b = b + jnp.cos(a) * x
            return (a, b), None
        return jax.lax.scan(step, (y, z), X)[0]

    def rev_recurrence(y, z, X):
        return coupled(y, z, X)[:2]

    def make_loss(recurrence):
        def predict(params, u):
            x = jnp.tanh(params["a"] * u + params["c"]) * 0.05
            y, z = recurrence(params["p"][0], params["p"][1], x)
            return params["q"][0] * y + params["q"][1] * z

        def loss(params, U, targets):
            pred = jax.vmap(predict, in_axes=(None, 0))(params, U)
            return jnp.mean((pred - targets) ** 2)
        return loss

    rng = np.random.default_rng(0)
    U = jnp.asarray(rng.normal(size=(args.batch, args.length)))
    targets = jnp.asarray(np.sin(np.asarray(U).sum(axis=1) * 0.1))
    params0 = dict(a=jnp.float64(0.5), c=jnp.float64(0.1), p=jnp.asarray([0.2, -0.3]),
                   q=jnp.asarray([1.0, 0.5]))

    def sgd(params, grads):
        return jax.tree.map(lambda p, g: p - args.lr * g, params, grads)

    # rev op, batch sharded over the devices, gradient averaged by JAX
    mesh = Mesh(np.array(devices), ("batch",))
    rev_loss = make_loss(rev_recurrence)

    def global_loss(params, U, targets):
        # The mean over the whole batch; its gradient with respect to the
        # replicated parameters is reduced over the devices by JAX (the
        # transpose of their broadcast to every shard is a psum).
        return jax.lax.pmean(rev_loss(params, U, targets), "batch")

    def sharded_step(params, U, targets):
        loss, grads = jax.value_and_grad(global_loss)(params, U, targets)
        return loss, sgd(params, grads)

    rev_step = jax.jit(shard_map(sharded_step, mesh=mesh,
                                 in_specs=(P(), P("batch"), P("batch")),
                                 out_specs=(P(), P())))

    # plain JAX on one device
    jax_loss = make_loss(scan_recurrence)

    @jax.jit
    def single_step(params, U, targets):
        loss, grads = jax.value_and_grad(jax_loss)(params, U, targets)
        return loss, sgd(params, grads)

    pr, pj = params0, params0
    worst = 0.0
    for it in range(args.steps):
        lr_, pr = rev_step(pr, U, targets)
        lj, pj = single_step(pj, U, targets)
        diffs = [abs(float(lr_) - float(lj)) / max(abs(float(lj)), 1e-300)]
        for a, b in zip(jax.tree.leaves(pr), jax.tree.leaves(pj)):
            a, b = np.asarray(a), np.asarray(b)
            diffs.append(float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))))
        worst = max(worst, *diffs)
        if it % max(1, args.steps // 10) == 0 or it == args.steps - 1:
            print(f"step {it:3d}  loss rev/{args.devices} devices {float(lr_):.12e}  "
                  f"plain JAX {float(lj):.12e}")
    print(f"largest relative difference over {args.steps} steps: {worst:.2e}")
    if not worst <= 1e-10:
        raise SystemExit("FAIL: the sharded rev model differs from plain JAX")
    print("OK: the sharded rev model trains exactly like plain JAX on one device")


if __name__ == "__main__":
    main()
