"""rev functions as PyTorch ops (mlir_rev.interop.torch_ops): values and
gradients against the same computation in plain PyTorch (float64, 1e-10),
torch.func.grad / vjp / vmap, inputs never written, framework-style errors."""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (requirements.txt pins "
                                            "the CPU build)")

from mlir_rev.interop import torch_function  # noqa: E402
from mlir_rev.jit import RevError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COUPLED = open(os.path.join(ROOT, "examples", "coupled.mlir")).read()
RTOL = 1e-10
f64 = torch.float64

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


def coupled_torch(y, z, X):
    for x in X:
        y = y + torch.sin(z) * x
        z = z + torch.cos(y) * x
    return y, z


def gather_torch(n, s, idx, B, A):
    return n, s * 1.5, idx, B, A.index_add(0, idx[:n], s * torch.sin(B[:n]))


@pytest.fixture(scope="module")
def coupled():
    return torch_function(COUPLED, "coupled")


@pytest.fixture(scope="module")
def gather():
    return torch_function(GATHER, "gather")


def xs(T, seed=0, grad=False):
    return torch.tensor(np.random.default_rng(seed).uniform(-0.5, 0.5, T), dtype=f64,
                        requires_grad=grad)


def close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(torch.as_tensor(a).detach()),
                               np.asarray(torch.as_tensor(b).detach()), rtol=rtol, atol=rtol)


def test_forward_and_backward_match_torch(coupled):
    X = xs(200, grad=True)
    w = torch.tensor(0.8, dtype=f64, requires_grad=True)
    X_before = X.detach().clone()

    def loss(op):
        y, z = op(torch.tanh(w * 0.4), w, X * w)[:2]
        return torch.sin(y) * z + 0.5 * (y - w) ** 2 + (X ** 2).sum() * y

    l1 = loss(coupled)
    g1 = torch.autograd.grad(l1, (w, X))
    l2 = loss(coupled_torch)
    g2 = torch.autograd.grad(l2, (w, X))
    close(l1, l2)
    for a, b in zip(g1, g2):
        close(a, b)
    assert torch.equal(X.detach(), X_before)


def test_in_place_memref_integers_and_gradient(gather):
    rng = np.random.default_rng(3)
    idx = torch.tensor(rng.integers(0, 5, 10), dtype=torch.int64)
    B = torch.tensor(rng.normal(size=10), dtype=f64, requires_grad=True)
    A = torch.tensor(rng.normal(size=5), dtype=f64, requires_grad=True)
    s = torch.tensor(0.9, dtype=f64, requires_grad=True)
    wv = torch.tensor(rng.normal(size=5), dtype=f64)
    A_before = A.detach().clone()
    outs1 = gather(8, s, idx, B, A)
    outs2 = gather_torch(8, s, idx, B, A)
    assert int(outs1[0]) == 8 and outs1[0].dtype == torch.int64
    assert not outs1[0].requires_grad and outs1[4].requires_grad
    for a, b in zip(outs1[1:], outs2[1:]):
        close(a, b)
    assert torch.equal(A.detach(), A_before)
    l1 = (wv * torch.cos(outs1[4])).sum() * outs1[1]
    l2 = (wv * torch.cos(outs2[4])).sum() * outs2[1]
    for a, b in zip(torch.autograd.grad(l1, (s, B, A)), torch.autograd.grad(l2, (s, B, A))):
        close(a, b)


def test_torch_func_grad_vjp_vmap(coupled):
    X = xs(100, seed=5)

    def f(op):
        return lambda y, X: op(y, torch.tensor(-0.2, dtype=f64), X)[0]

    y = torch.tensor(0.3, dtype=f64)
    g1 = torch.func.grad(f(coupled), argnums=(0, 1))(y, X)
    g2 = torch.func.grad(f(coupled_torch), argnums=(0, 1))(y, X)
    for a, b in zip(g1, g2):
        close(a, b)
    _, vjp1 = torch.func.vjp(f(coupled), y, X)
    _, vjp2 = torch.func.vjp(f(coupled_torch), y, X)
    for a, b in zip(vjp1(torch.tensor(2.0, dtype=f64)), vjp2(torch.tensor(2.0, dtype=f64))):
        close(a, b)
    Xb = torch.stack([xs(50, seed=s) for s in range(4)])
    yb = torch.linspace(-0.5, 0.5, 4, dtype=f64)
    close(torch.func.vmap(f(coupled))(yb, Xb), torch.func.vmap(f(coupled_torch))(yb, Xb))
    close(torch.func.vmap(f(coupled), in_dims=(0, None))(yb, Xb[0]),
          torch.stack([f(coupled_torch)(v, Xb[0]) for v in yb]))
    gb1 = torch.func.vmap(torch.func.grad(f(coupled), argnums=1))(yb, Xb)
    gb2 = torch.stack([torch.func.grad(f(coupled_torch), argnums=1)(v, x)
                       for v, x in zip(yb, Xb)])
    close(gb1, gb2)


def test_gradcheck_f64(coupled):
    X = xs(20, seed=7, grad=True)
    y = torch.tensor(0.3, dtype=f64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda y, X: coupled(y, -0.2, X)[:2], (y, X))


def test_bad_input_is_a_framework_error(coupled, gather):
    X = xs(10)
    with pytest.raises(TypeError, match="takes 3 arguments, got 2"):
        coupled(0.3, X)
    with pytest.raises(TypeError, match="argument #2 must have dtype torch.float64, got "
                                        "torch.float32"):
        coupled(0.3, -0.2, X.float())
    with pytest.raises(ValueError, match=r"argument #2 of @coupled must be an array of "
                                         r"shape \(\?\), got shape \(2, 5\)"):
        coupled(0.3, -0.2, X.reshape(2, 5))
    with pytest.raises(ValueError, match="argument #0 of @coupled must be a scalar"):
        coupled(X[:2], -0.2, X)
    with pytest.raises(TypeError, match="must be a torch.Tensor of torch.float64, got ndarray"):
        coupled(0.3, -0.2, np.zeros(3))
    with pytest.raises(TypeError, match="got a bool"):
        coupled(True, -0.2, X)
    with pytest.raises(TypeError, match="argument #0 must be int64, got a float"):
        gather(1.5, 0.1, torch.zeros(3, dtype=torch.int64), X, X.clone())
    with pytest.raises(ValueError, match="out of range for int64"):
        gather(2**70, 0.1, torch.zeros(3, dtype=torch.int64), X, X.clone())
    with pytest.raises(RevError, match="no rev.func named @nope"):
        torch_function(COUPLED, "nope")


def test_non_contiguous_input(coupled):
    Xt = xs(40).reshape(20, 2)
    X = Xt[:, 0]  # a strided view
    assert not X.is_contiguous()
    close(coupled(0.3, -0.2, X)[0], coupled_torch(torch.tensor(0.3, dtype=f64),
                                                   torch.tensor(-0.2, dtype=f64), X)[0])


def test_failed_check_raises_rev_error():
    src = """
rev.func @d(%y: f64, %x: f64) -> (f64, f64) {
  %y1 = rev.div %y, %x : f64
  rev.return %y1, %x : f64, f64
}
"""
    op = torch_function(src, "d", checks=True)
    with pytest.raises(RevError, match="zero divisor"):
        op(3.0, 0.0)
    x = torch.tensor(2.0, dtype=f64, requires_grad=True)
    op(3.0, x)[0].backward()
    close(x.grad, -0.75)


def test_ddp_example():
    """examples/interop_torch_ddp.py: the rev op inside DistributedDataParallel
    (2 processes, gloo) trains exactly like plain PyTorch in one process."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "interop_torch_ddp.py"),
                        "--procs", "2", "--steps", "3", "--batch", "4", "--length", "30"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "OK: the DDP rev model trains exactly like plain PyTorch" in r.stdout
