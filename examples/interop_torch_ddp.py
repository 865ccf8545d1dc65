"""Data-parallel training in PyTorch (DistributedDataParallel, gloo, CPU)
whose inner recurrence is a rev kernel.

The model of examples/interop_sharded_training.py: x_t = 0.05 tanh(a u_t + c)
drives the coupled reversible recurrence of examples/coupled.mlir from
(y, z) = (p0, p1); the prediction is q0 y_T + q1 z_T. N processes each take
an equal share of the batch; DDP averages the gradients (rev's tape-free
backward ran in each process) and every process takes the same SGD step.
Process 0 also trains the same model written in plain PyTorch on the whole
batch, and checks that losses and parameters agree at every step (rel. 1e-10).

Run: python examples/interop_torch_ddp.py [--procs 2] [--steps 10]
(the build's Python package must be importable: PYTHONPATH=build/python_packages/rev)
"""

import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "build", "python_packages", "rev"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

f64 = torch.float64


def plain_recurrence(y, z, X):
    for x in X:
        y = y + torch.sin(z) * x
        z = z + torch.cos(y) * x
    return y, z


class Model(torch.nn.Module):
    def __init__(self, recurrence):
        super().__init__()
        self.recurrence = recurrence
        self.a = torch.nn.Parameter(torch.tensor(0.5, dtype=f64))
        self.c = torch.nn.Parameter(torch.tensor(0.1, dtype=f64))
        self.p = torch.nn.Parameter(torch.tensor([0.2, -0.3], dtype=f64))
        self.q = torch.nn.Parameter(torch.tensor([1.0, 0.5], dtype=f64))

    def forward(self, U):
        preds = []
        for u in U:
            x = torch.tanh(self.a * u + self.c) * 0.05
            y, z = self.recurrence(self.p[0], self.p[1], x)
            preds.append(self.q[0] * y + self.q[1] * z)
        return torch.stack(preds)


def data(batch, length):
    rng = np.random.default_rng(0)
    U = torch.tensor(rng.normal(size=(batch, length)), dtype=f64)
    targets = torch.sin(U.sum(dim=1) * 0.1)
    return U, targets


def worker(rank, args, init_file):
    from mlir_rev.interop import torch_function
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=args.procs)
    coupled = torch_function(open(os.path.join(ROOT, "examples", "coupled.mlir")).read(),
                             "coupled")

    def rev_recurrence(y, z, X):
        return coupled(y, z, X)[:2]

    U, targets = data(args.batch, args.length)
    share = args.batch // args.procs
    mine = slice(rank * share, (rank + 1) * share)
    model = DDP(Model(rev_recurrence))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    if rank == 0:
        ref = Model(plain_recurrence)
        ref_opt = torch.optim.SGD(ref.parameters(), lr=args.lr)
    worst = 0.0
    for it in range(args.steps):
        opt.zero_grad()
        loss = torch.mean((model(U[mine]) - targets[mine]) ** 2)
        loss.backward()  # DDP all-reduces (averages) the gradients here
        opt.step()
        full = loss.detach().clone()
        dist.all_reduce(full)
        full /= args.procs
        if rank == 0:
            ref_opt.zero_grad()
            ref_loss = torch.mean((ref(U) - targets) ** 2)
            ref_loss.backward()
            ref_opt.step()
            rl = float(ref_loss.detach())
            diffs = [abs(float(full) - rl) / abs(rl)]
            for pa, pb in zip(model.module.parameters(), ref.parameters()):
                diffs.append(float(((pa - pb).abs() / pb.abs().clamp_min(1e-300)).max()))
            worst = max(worst, *diffs)
            print(f"step {it:3d}  loss rev/DDP x{args.procs} {float(full):.12e}  plain "
                  f"{rl:.12e}", flush=True)
    dist.destroy_process_group()
    if rank == 0:
        print(f"largest relative difference over {args.steps} steps: {worst:.2e}")
        if not worst <= 1e-10:
            raise SystemExit("FAIL: the DDP rev model differs from plain PyTorch")
        print("OK: the DDP rev model trains exactly like plain PyTorch in one process")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.2)
    args = ap.parse_args()
    assert args.batch % args.procs == 0, "the batch must split evenly over the processes"
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(worker, args=(args, os.path.join(tmp, "init")), nprocs=args.procs,
                 join=True)


if __name__ == "__main__":
    main()
