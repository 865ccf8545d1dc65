"""Bundle adjustment (ADBench's BA): the objective and its sparse Jacobian, rev
beside JAX and PyTorch.

benchmarks/ba.mlir is the objective written reversibly (see its header: the
reprojection error of every observation as a pure expression added to
ERR[o, k], the theta = 0 branch of the Rodrigues rotation a rev.if, no
ancillas). The data are generated (no ADBench files here) with ADBench's
shapes: ba1 (n = 49 cameras, m = 7776 points, p = 31843 observations) and
ba4 (n = 372, m = 47423, p = 204472), fixed seed, every point in front of
every camera (inputs()).

Objective: the reprojection errors (p x 2) and the weight errors 1 - w^2 (p).
Jacobian: ADBench's sparse Jacobian as its nonzero blocks: per observation
the 2 x 15 block of the reprojection rows (11 camera, 3 point, 1 weight
columns) and the weight-error row's one entry d(1 - w^2)/dw.

* rev: objective = @ba_reproj (reading cameras and points through the index
  arrays) + @ba_werr. Jacobian = one pass of @ba_jacobian, a func.func
  driver: per observation, its camera, point, weight and feature go into
  one-row stack arrays and `rev.grad_call @ba_reproj ... seeds 2` (resolved
  by --rev-ad into a call of the two-seed gradient @ba_reproj_grad_x2,
  always inlined) runs both residual rows through one sweep with one-row
  stack shadows seeded with ERR_bar[0, 0] = 1 and ERR_bar[0, 1] = 1, the
  partial derivatives computed once; the shadows are copied into the
  observation's 2 x 15 block of J; a second grad_call, of @ba_werr seeded
  with WERR_bar = 1, gives the weight-error row's entry. Nothing per
  observation lives in memory but the Jacobian.
  FEAT is marked rev.const (data, only read): no adjoint goes into its
  shadow. The gradient is adjoint-only (no adjoint update reads ERR, the
  only array f writes), so it runs no forward sweep. The arrays are the
  caller's, allocated once and reused; "fresh" is the same with every array
  allocated in the call. JIT at O3 on one thread, exact IEEE. Also timed,
  same blocks: the earlier method (@ba_gather copies every observation's
  camera and point into p-row arrays, two whole shadow sets are zeroed and
  seeded, one call of @ba_reproj_grad_x2 over them: each observation's
  adjoint lands in its own rows), the baseline of two gradient calls
  (@ba_reproj_grad, one per row) and forward mode (@ba_reproj_fwd,
  `--rev-fwd`: 15 runs, one per column).
* JAX (jit, CPU, float64): objective = vmap of the per-observation error
  over the gathered cameras and points; Jacobian = vmap(jacrev(...)) and
  vmap(jacfwd(...)) of it with respect to (camera, point, weight), as
  ADBench's per-observation Jacobians, both timed, the faster one is the
  "JAX Jacobian"; the theta = 0 branch by `jnp.where` with a safe theta.
* PyTorch (CPU build, eager, float64): the same with `torch.func.vmap` of
  `torch.func.jacrev` / `jacfwd` (the objective as batched tensor ops).

Medians of repeats, each method in a fresh child process; the Jacobian's
extra memory on its first call (benchmarks/memory_probe.py; rev measured on
the "fresh" variant, which allocates its outputs in the call as JAX and
PyTorch do). The Jacobians are cross-checked: rev's against JAX's jacrev
and jacfwd, PyTorch's against rev's; above 1e-8 relative to the largest
entry the script exits with status 1 (after saving the table). Saved to
benchmarks/results/ba.{md,json}.

Run: python benchmarks/ba.py [--repeats 11] [--sizes ba1 ba4] [--note "load ..."]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

from child import run_json_child
from memory_probe import first_call_memory, mib, per
from timing import interleaved_medians, median_time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
SIZES = {"ba1": (49, 7776, 31843), "ba4": (372, 47423, 204472)}  # ADBench's (n, m, p)
TOLERANCE = 1e-8


def inputs(n, m, p, seed=0):
    """Cameras (n x 11), points (m x 3), weights (p), features (p x 2), camera
    and point index of every observation. Camera 0 has r = 0 (the theta = 0
    branch); the others rotate by up to 0.52 rad. Cameras sit at z in
    [-12, -8] looking along +z, points in [-2, 2]^3, so every point is 4 or
    more in front of every camera (no division by ~0); focal 800-1200,
    principal point within 10, k1 in [-0.2, 0], k2 in [0, 0.05], weights in
    [0.8, 1.2]; each point is observed at least once; features are the
    projections plus N(0, 2^2) noise."""
    import numpy as np
    rng = np.random.default_rng(seed)
    cams = np.zeros((n, 11))
    cams[:, 0:3] = rng.uniform(-0.3, 0.3, (n, 3))
    cams[0, 0:3] = 0.0
    cams[:, 3:5] = rng.uniform(-2.0, 2.0, (n, 2))
    cams[:, 5] = rng.uniform(-12.0, -8.0, n)
    cams[:, 6] = rng.uniform(800.0, 1200.0, n)
    cams[:, 7:9] = rng.uniform(-10.0, 10.0, (n, 2))
    cams[:, 9] = rng.uniform(-0.2, 0.0, n)
    cams[:, 10] = rng.uniform(0.0, 0.05, n)
    pts = rng.uniform(-2.0, 2.0, (m, 3))
    cidx = rng.integers(0, n, p)
    pidx = np.concatenate([np.arange(m), rng.integers(0, m, p - m)])
    w = rng.uniform(0.8, 1.2, p)
    feat = project_np(cams[cidx], pts[pidx]) + rng.normal(0.0, 2.0, (p, 2))
    return cams, pts, w, feat, cidx, pidx


def project_np(cam, X):
    """ADBench's project, vectorised over rows (NumPy; for the features)."""
    import numpy as np
    r, d = cam[:, 0:3], X - cam[:, 3:6]
    th2 = np.sum(r * r, 1)
    nz = th2 != 0
    th = np.sqrt(np.where(nz, th2, 1.0))[:, None]
    wv = r / th
    rot = (d * np.cos(th) + np.cross(wv, d) * np.sin(th)
           + wv * np.sum(wv * d, 1, keepdims=True) * (1 - np.cos(th)))
    Xc = np.where(nz[:, None], rot, d + np.cross(r, d))
    pr = Xc[:, :2] / Xc[:, 2:3]
    rsq = np.sum(pr * pr, 1, keepdims=True)
    L = 1 + cam[:, 9:10] * rsq + cam[:, 10:11] * rsq * rsq
    return pr * L * cam[:, 6:7] + cam[:, 7:9]


class RevBA:
    """rev's objective and sparse Jacobian on one BA instance (benchmarks/ba.mlir)."""

    def __init__(self, cams, pts, w, feat, cidx, pidx):
        package = os.path.join(ROOT, "build", "python_packages", "rev")
        if package not in sys.path:
            sys.path.insert(0, package)
        import numpy as np
        from mlir_rev.jit import Program
        with open(os.path.join(ROOT, "benchmarks", "ba.mlir")) as f:
            src = f.read()
        self.prog = Program(src, grad=["ba_reproj", "ba_werr"], seeds=2)
        self.src = src
        # forward mode (jacobian_forward_mode): compiled and allocated on demand
        self.prog_fwd, self.fwd_bufs = None, None
        self.np = np
        self.cams, self.pts, self.w, self.feat = cams, pts, w, feat
        self.cidx, self.pidx = cidx.astype(np.int64), pidx.astype(np.int64)
        p = len(w)
        self.p = p
        self.ERR, self.WERR = np.zeros((p, 2)), np.zeros(p)
        # the Jacobian's arrays, allocated once (jacobian(fresh=False))
        self.bufs = self._allocate()
        self.J = None  # jacobian()'s arrays, allocated on its first call

    def _allocate(self):
        np, p = self.np, self.p
        return dict(GC=np.empty((p, 11)), GP=np.empty((p, 3)),
                    I0=np.arange(p, dtype=np.int64), I1=np.arange(p, dtype=np.int64),
                    E=np.zeros((p, 2)), S=[np.empty((p, 2)) for _ in range(2)],
                    shadows=[[np.empty((p, 11)), np.empty((p, 3)), np.empty(p),
                              np.zeros((p, 2)), np.empty((p, 2))] for _ in range(2)],
                    WE=np.empty(p), WB=np.empty(p), WEB=np.empty(p))

    def objective(self):
        self.ERR.fill(0.0)
        self.WERR.fill(0.0)
        self.prog.call("ba_reproj", self.cams, self.pts, self.w, self.feat, self.cidx,
                       self.pidx, self.ERR)
        self.prog.call("ba_werr", self.w, self.WERR)
        return self.ERR, self.WERR

    def jacobian(self, fresh=False):
        """[(camera block p x 11, point block p x 3, weight column p) for row 0
        and row 1], d(1 - w^2)/dw (p), by one pass of @ba_jacobian: per
        observation, rev.grad_call runs the two-seed gradient of @ba_reproj
        (inlined) on one-row stack copies with stack shadows and writes the
        2 x 15 block into J (p x 2 x 15), and a grad_call of @ba_werr the
        weight-error row's entry into DW (p). `fresh`: every array allocated
        in the call."""
        np, p = self.np, self.p
        if fresh or self.J is None:
            J, DW = np.empty((p, 2, 15)), np.empty(p)
            if not fresh:
                self.J = (J, DW)
        else:
            J, DW = self.J
        self.prog.call("ba_jacobian", self.cams, self.pts, self.w, self.feat, self.cidx,
                       self.pidx, J, DW)
        return [(J[:, k, 0:11], J[:, k, 11:14], J[:, k, 14]) for k in range(2)], DW

    def jacobian_gathered(self, fresh=False, parts=None):
        """The same blocks by the earlier method: @ba_gather (per-observation
        copies of the cameras and points in memory), zeroing and seeding two
        whole-array shadow sets, one call of @ba_reproj_grad_x2. `parts`: a
        dict whose lists get the seconds of this call's steps (gather, zeroing
        and seeding the two shadow sets, the two-seed sweep, the weight-error
        row)."""
        clock = time.perf_counter
        t0 = clock()
        b = self._allocate() if fresh else self.bufs
        call = self.prog.call
        GC, GP, I0, I1, E = b["GC"], b["GP"], b["I0"], b["I1"], b["E"]
        call("ba_gather", self.cams, self.pts, self.cidx, self.pidx, GC, GP)
        t1 = clock()
        for k, sh in enumerate(b["shadows"]):
            for j, a in enumerate(sh):
                if j != 3:  # FEAT is rev.const: its shadow gets no adjoint
                    a.fill(0.0)
            sh[4][:, k] = 1.0  # ERR_bar of set k: row k of every observation
        t2 = clock()
        # E: the state array (zeros); the adjoint-only gradient leaves it so.
        call("ba_reproj_grad_x2", GC, GP, self.w, self.feat, I0, I1, E,
             *b["shadows"][0], *b["shadows"][1])
        t3 = clock()
        rows = [(sh[0], sh[1], sh[2]) for sh in b["shadows"]]
        WE, WB, WEB = b["WE"], b["WB"], b["WEB"]
        WE.fill(0.0)
        WB.fill(0.0)
        WEB.fill(1.0)
        call("ba_werr_grad", self.w, WE, WB, WEB)
        if parts is not None:
            t4 = clock()
            for name, dt in (("gather", t1 - t0), ("zero", t2 - t1), ("sweep", t3 - t2),
                             ("werr", t4 - t3)):
                parts.setdefault(name, []).append(dt)
        return rows, WB

    def jacobian_two_gradients(self):
        """The same blocks by the baseline: two gradient calls (@ba_reproj_grad,
        each a forward run and a backward sweep) on the gathered copies."""
        b, call = self.bufs, self.prog.call
        GC, GP, I0, I1 = b["GC"], b["GP"], b["I0"], b["I1"]
        call("ba_gather", self.cams, self.pts, self.cidx, self.pidx, GC, GP)
        rows = []
        for k in range(2):
            S, sh = b["S"][k], b["shadows"][k]
            S.fill(0.0)
            for a in sh:
                a.fill(0.0)
            sh[4][:, k] = 1.0
            call("ba_reproj_grad", GC, GP, self.w, self.feat, I0, I1, S, *sh)
            rows.append((sh[0], sh[1], sh[2]))
        WE, WB, WEB = b["WE"], b["WB"], b["WEB"]
        WE.fill(0.0)
        WB.fill(0.0)
        WEB.fill(1.0)
        call("ba_werr_grad", self.w, WE, WB, WEB)
        return rows, WB

    def jacobian_forward_mode(self):
        """The same blocks by forward mode (@ba_reproj_fwd, --rev-fwd): one run
        per column, 15 in all (11 camera, 3 point, 1 weight), each giving that
        column of both rows of every block."""
        np, p = self.np, self.p
        if self.prog_fwd is None:
            from mlir_rev.jit import Program
            self.prog_fwd = Program(self.src, fwd=["ba_reproj"], grad=["ba_werr"])
        if self.fwd_bufs is None:
            self.fwd_bufs = dict(GC=np.empty((p, 11)), GP=np.empty((p, 3)), E=np.empty((p, 2)),
                                 I0=np.arange(p, dtype=np.int64),
                                 I1=np.arange(p, dtype=np.int64),
                                 tangents=[np.empty((p, 11)), np.empty((p, 3)), np.empty(p),
                                           np.empty((p, 2)), np.empty((p, 2))],
                                 J=np.empty((2, p, 15)), WE=np.empty(p), WB=np.empty(p),
                                 WEB=np.empty(p))
        b, call = self.fwd_bufs, self.prog_fwd.call
        GC, GP, E, t, J = b["GC"], b["GP"], b["E"], b["tangents"], b["J"]
        call("ba_gather", self.cams, self.pts, self.cidx, self.pidx, GC, GP)
        for j in range(15):
            E.fill(0.0)
            for a in t:
                a.fill(0.0)
            if j < 11:
                t[0][:, j] = 1.0
            elif j < 14:
                t[1][:, j - 11] = 1.0
            else:
                t[2][:] = 1.0
            call("ba_reproj_fwd", GC, GP, self.w, self.feat, b["I0"], b["I1"], E, *t)
            J[:, :, j] = t[4].T  # the tangent of ERR: column j of both rows
        WE, WB, WEB = b["WE"], b["WB"], b["WEB"]
        WE.fill(0.0)
        WB.fill(0.0)
        WEB.fill(1.0)
        call("ba_werr_grad", self.w, WE, WB, WEB)
        return [(J[k, :, 0:11], J[k, :, 11:14], J[k, :, 14]) for k in range(2)], WB


def child_rev(size, repeats, out):
    import numpy as np
    n, m, p = SIZES[size]
    ba = RevBA(*inputs(n, m, p))
    # the JIT materialises each function on its first call: call everything
    # once on a few observations, so that the measured calls only run
    small = RevBA.__new__(RevBA)
    small.__dict__.update(ba.__dict__)
    small.w, small.feat, small.cidx, small.pidx = (ba.w[:4].copy(), ba.feat[:4].copy(),
                                                   ba.cidx[:4].copy(), ba.pidx[:4].copy())
    small.p = 4
    small.ERR, small.WERR = np.zeros((4, 2)), np.zeros(4)
    small.bufs = small._allocate()
    small.J = None
    small.objective()
    small.jacobian()
    small.jacobian_gathered()
    small.jacobian_two_gradients()
    small.jacobian_forward_mode()
    ba.prog_fwd = small.prog_fwd
    extra, peak, _ = first_call_memory(lambda: ba.jacobian(fresh=True))
    t_obj, t_jac, t_fresh = interleaved_medians(
        [ba.objective, ba.jacobian, lambda: ba.jacobian(fresh=True)], repeats, warmup=True)
    # the objective alone, in back-to-back calls (nothing else between them)
    t_obj_alone = median_time(ba.objective, repeats, warmup=True)
    # the parts of the Jacobian, timed inside the calls (medians over the calls)
    steps = {}
    for _ in range(repeats):
        ba.jacobian_gathered(parts=steps)
    parts = {name + "_s": statistics.median(v) for name, v in steps.items()}
    # one single-seed gradient alone, without zeroing its shadows (its
    # timing does not depend on the values it accumulates into)
    b = ba.bufs
    parts["sweep_only_s"] = median_time(
        lambda: ba.prog.call("ba_reproj_grad", b["GC"], b["GP"], ba.w, ba.feat, b["I0"],
                             b["I1"], b["E"], *b["shadows"][0]), repeats, warmup=True)
    variants = {}
    for name, fn in (("gathered", ba.jacobian_gathered),
                     ("two_gradients", ba.jacobian_two_gradients),
                     ("forward_mode", ba.jacobian_forward_mode)):
        t = median_time(fn, repeats if name == "two_gradients" else max(3, repeats // 3),
                        warmup=True)
        variants[name + "_s"] = t
        variants[name + "_rel_diff"] = blocks(block_dict(*fn()))  # a copy
    err, werr = ba.objective()
    rows, dwerr = ba.jacobian()
    ref = blocks(block_dict(rows, dwerr))
    for name in ("gathered", "two_gradients", "forward_mode"):
        variants[name + "_rel_diff"] = rel(variants[name + "_rel_diff"], ref)
    # the state array is untouched (the adjoint-only gradient)
    residual = float(np.max(np.abs(b["E"])))
    np.savez(out, err=err, werr=werr, **block_dict(rows, dwerr))
    return {"objective_s": t_obj, "objective_alone_s": t_obj_alone, "jacobian_s": t_jac,
            "jacobian_fresh_s": t_fresh,
            "extra_kib": extra, "peak_kib": peak, "residual": residual, **parts, **variants}


def jax_functions():
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def project(cam, X):
        r, d = cam[0:3], X - cam[3:6]
        th2 = jnp.sum(r * r)
        nz = th2 != 0
        th = jnp.sqrt(jnp.where(nz, th2, 1.0))  # a safe theta: no NaN in the other branch
        wv = r / th
        rot = (d * jnp.cos(th) + jnp.cross(wv, d) * jnp.sin(th)
               + wv * jnp.dot(wv, d) * (1 - jnp.cos(th)))
        Xc = jnp.where(nz, rot, d + jnp.cross(r, d))
        pr = Xc[0:2] / Xc[2]
        rsq = jnp.sum(pr * pr)
        L = 1 + cam[9] * rsq + cam[10] * rsq * rsq
        return pr * L * cam[6] + cam[7:9]

    def reproj(cam, X, w, feat):
        return w * (project(cam, X) - feat)

    werr = lambda w: 1 - w * w

    def objective(cams, pts, w, feat, cidx, pidx):
        return jax.vmap(reproj)(cams[cidx], pts[pidx], w, feat), werr(w)

    def jacobian(mode):
        jac = (jax.jacrev if mode == "rev" else jax.jacfwd)(reproj, argnums=(0, 1, 2))

        def f(cams, pts, w, feat, cidx, pidx):
            return jax.vmap(jac)(cams[cidx], pts[pidx], w, feat), jax.vmap(jax.grad(werr))(w)
        return f
    return jax, objective, jacobian


def child_jax(size, repeats, out, mode):
    import numpy as np
    jax, objective, jacobian = jax_functions()
    n, m, p = SIZES[size]
    xs = [jax.numpy.asarray(v) for v in inputs(n, m, p)]
    obj = jax.jit(objective).lower(*xs).compile()
    jac = jax.jit(jacobian(mode)).lower(*xs).compile()
    extra, peak, _ = first_call_memory(lambda: jax.block_until_ready(jac(*xs)))
    t_obj, t_jac = interleaved_medians([lambda: jax.block_until_ready(obj(*xs)),
                                        lambda: jax.block_until_ready(jac(*xs))],
                                       repeats, warmup=True)
    err, werr = obj(*xs)
    (jc, jp, jw), dwerr = jac(*xs)
    np.savez(out, err=np.asarray(err), werr=np.asarray(werr), dwerr=np.asarray(dwerr),
             **{f"{name}{k}": np.asarray(a)[:, k] for k in range(2)
                for name, a in (("cam", jc), ("pt", jp), ("w", jw))})
    return {"objective_s": t_obj, "jacobian_s": t_jac, "extra_kib": extra, "peak_kib": peak,
            "version": jax.__version__}


def torch_functions(torch):
    def project(cam, X):
        # works on one observation (under vmap) and on rows of many (batched)
        r, d = cam[..., 0:3], X - cam[..., 3:6]
        th2 = torch.sum(r * r, -1, keepdim=True)
        nz = th2 != 0
        th = torch.sqrt(torch.where(nz, th2, torch.ones_like(th2)))
        wv = r / th
        rot = (d * torch.cos(th) + torch.linalg.cross(wv, d, dim=-1) * torch.sin(th)
               + wv * torch.sum(wv * d, -1, keepdim=True) * (1 - torch.cos(th)))
        Xc = torch.where(nz, rot, d + torch.linalg.cross(r, d, dim=-1))
        pr = Xc[..., 0:2] / Xc[..., 2:3]
        rsq = torch.sum(pr * pr, -1, keepdim=True)
        L = 1 + cam[..., 9:10] * rsq + cam[..., 10:11] * rsq * rsq
        return pr * L * cam[..., 6:7] + cam[..., 7:9]

    def reproj(cam, X, w, feat):
        return w[..., None] * (project(cam, X) - feat)

    return reproj


def child_torch(size, repeats, out, mode):
    import numpy as np
    from torch_peer import import_torch
    torch = import_torch()
    reproj = torch_functions(torch)
    n, m, p = SIZES[size]
    cams, pts, w, feat, cidx, pidx = [torch.from_numpy(v) for v in inputs(n, m, p)]
    werr = lambda w: 1 - w * w

    def objective():
        return reproj(cams[cidx], pts[pidx], w, feat), werr(w)

    jac1 = (torch.func.jacrev if mode == "rev" else torch.func.jacfwd)(reproj, argnums=(0, 1, 2))

    def jacobian():
        return (torch.func.vmap(jac1)(cams[cidx], pts[pidx], w, feat),
                torch.func.vmap(torch.func.grad(werr))(w))

    # the one-time set-up (dispatch, allocator), on four observations
    torch.func.vmap(jac1)(cams[cidx[:4]], pts[pidx[:4]], w[:4], feat[:4])
    extra, peak, _ = first_call_memory(jacobian)
    t_obj, t_jac = interleaved_medians([objective, jacobian], repeats, warmup=True)
    err, werr_v = objective()
    (jc, jp, jw), dwerr = jacobian()
    np.savez(out, err=err.numpy(), werr=werr_v.numpy(), dwerr=dwerr.numpy(),
             **{f"{name}{k}": a.numpy()[:, k] for k in range(2)
                for name, a in (("cam", jc), ("pt", jp), ("w", jw))})
    return {"objective_s": t_obj, "jacobian_s": t_jac, "extra_kib": extra, "peak_kib": peak,
            "threads": torch.get_num_threads()}


KINDS = ("rev", "jax-rev", "jax-fwd", "torch-rev", "torch-fwd")


def run_kind(kind, size, repeats, out):
    if kind == "rev":
        return child_rev(size, repeats, out)
    lib, mode = kind.split("-")
    return (child_jax if lib == "jax" else child_torch)(size, repeats, out, mode)


def block_dict(rows, dwerr):
    """rev's Jacobian ([(camera, point, weight) blocks of row 0 and row 1],
    d(1 - w^2)/dw) under the names blocks() reads."""
    return {**{f"{name}{k}": rows[k][j] for k in range(2)
               for j, name in enumerate(("cam", "pt", "w"))}, "dwerr": dwerr}


def blocks(z):
    """The Jacobian's nonzero blocks as one vector (rows 0 and 1 of the
    camera, point and weight blocks, then the weight-error entries)."""
    import numpy as np
    return np.concatenate([z[f"{name}{k}"].ravel() for k in range(2)
                           for name in ("cam", "pt", "w")] + [z["dwerr"].ravel()])


def rel(a, b):
    """max |a - b| relative to the largest entry of b."""
    import numpy as np
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--skip", nargs="*", default=[], choices=KINDS,
                    help="methods not to run (rev and jax-rev are always run)")
    ap.add_argument("--note", default="", help="a line for the table's header (e.g. load)")
    ap.add_argument("--child", nargs=4)
    args = ap.parse_args()
    if args.child:
        kind, size, repeats, out = args.child
        print(json.dumps(run_kind(kind, size, int(repeats), out)))
        return
    import numpy as np
    from torch_peer import Checks, describe
    checks = Checks("ba.py")
    failures = []
    rows = []
    kinds = [k for k in KINDS if k in ("rev", "jax-rev") or k not in args.skip]
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            res, arrays = {}, {}
            for kind in kinds:
                out = os.path.join(tmp, f"{size}-{kind}.npz")
                res[kind] = run_json_child(__file__, kind, size, args.repeats, out)
                arrays[kind] = dict(np.load(out))
                print(f"{size} {kind}: done", file=sys.stderr)
            rv = arrays["rev"]
            jr = blocks(rv)
            row = dict(size=size, shape=dict(zip("nmp", SIZES[size])), results=res)
            row["objective_rel_diff"] = {k: rel(arrays[k]["err"], rv["err"]) for k in kinds
                                         if k != "rev"}
            row["werr_rel_diff"] = {k: rel(arrays[k]["werr"], rv["werr"]) for k in kinds
                                    if k != "rev"}
            row["jacobian_rel_diff"] = {}
            for k in kinds:
                if k == "rev":
                    continue
                d = rel(jr, blocks(arrays[k])) if k.startswith("jax") else rel(blocks(arrays[k]), jr)
                row["jacobian_rel_diff"][k] = d
                if k.startswith("torch"):
                    checks.check(f"{size} {k}", d)
                elif not d <= TOLERANCE:
                    msg = (f"ba.py: rev's Jacobian differs from JAX's ({k}) for {size} by "
                           f"{d:.3e} > {TOLERANCE:.0e} (relative to the largest entry)")
                    print("!" * 78 + "\n" + msg + "\n" + "!" * 78, file=sys.stderr, flush=True)
                    failures.append(msg)
            rows.append(row)
    ms = lambda s: f"{1e3 * s:.2f}"
    lines = []
    header = ("| instance (n, m, p) | method | objective (ms) | Jacobian (ms) | "
              "Jacobian / objective | Jacobian / rev's | objective rel. diff. to rev | "
              "Jacobian rel. diff. to rev | "
              "Jacobian extra memory (MiB) | (bytes/observation) |")
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for w in rows:
        n, m, p = SIZES[w["size"]]
        r = w["results"]
        jax_best = min(("jax-rev", "jax-fwd"), key=lambda k: r[k]["jacobian_s"] if k in r
                       else float("inf"))
        for k in kinds:
            x = r[k]
            name = {"rev": "rev (one pass: rev.grad_call, 2 seeds)", "jax-rev": "JAX vmap(jacrev)",
                    "jax-fwd": "JAX vmap(jacfwd)", "torch-rev": "PyTorch vmap(jacrev)",
                    "torch-fwd": "PyTorch vmap(jacfwd)"}[k]
            if k == jax_best:
                name += " (JAX's faster)"
            diff = "-" if k == "rev" else f"{w['jacobian_rel_diff'][k]:.1e}"
            odiff = "-" if k == "rev" else (f"{w['objective_rel_diff'][k]:.1e} / "
                                            f"{w['werr_rel_diff'][k]:.1e}")
            lines.append(f"| {w['size']} ({n}, {m}, {p}) | {name} | {ms(x['objective_s'])} | "
                         f"{ms(x['jacobian_s'])} | {x['jacobian_s'] / x['objective_s']:.1f} | "
                         f"{x['jacobian_s'] / r['rev']['jacobian_s']:.2f} | {odiff} | {diff} | "
                         f"{mib(x['extra_kib'])} | {per(x['extra_kib'], p)} |")
            if k == "rev":
                for v, label in (("gathered", "rev, gather + one 2-seed sweep over the arrays"),
                                 ("two_gradients", "rev, baseline: 2 gradient calls"),
                                 ("forward_mode", "rev, forward mode: 15 tangent runs")):
                    t = x[v + "_s"]
                    lines.append(f"| {w['size']} ({n}, {m}, {p}) | {label} | "
                                 f"{ms(x['objective_s'])} | {ms(t)} | "
                                 f"{t / x['objective_s']:.1f} | "
                                 f"{t / x['jacobian_s']:.2f} | - | {x[v + '_rel_diff']:.1e} | "
                                 f"n/a | n/a |")
    breakdown = ["", "rev's Jacobian (one pass, arrays reused; and allocated in the call), "
                 "then the gather method's steps (ms; medians over the timed calls of each "
                 "step, measured inside the calls; the last columns: one single-seed gradient "
                 "call alone, without zeroing, in separate calls, and the two-seed sweep over "
                 "it):",
                 "",
                 "| instance | objective | Jacobian, one pass | the same, arrays allocated "
                 "in the call | gather method | gather | zeroing and seeding 2 shadow sets | "
                 "sweep, 2 seeds | weight-error row | 1-seed gradient alone | "
                 "2-seed sweep / 1-seed |",
                 "|---|---|---|---|---|---|---|---|---|---|---|"]
    for w in rows:
        x = w["results"]["rev"]
        breakdown.append(f"| {w['size']} | {ms(x['objective_s'])} | {ms(x['jacobian_s'])} | "
                         f"{ms(x['jacobian_fresh_s'])} | {ms(x['gathered_s'])} | "
                         f"{ms(x['gather_s'])} | "
                         f"{ms(x['zero_s'])} | {ms(x['sweep_s'])} | "
                         f"{ms(x['werr_s'])} | {ms(x['sweep_only_s'])} | "
                         f"{x['sweep_s'] / x['sweep_only_s']:.2f} |")
    breakdown += ["", "rev's objective alone, in back-to-back calls (no Jacobian call "
                  "between them; the table's objective column interleaves them): "
                  + "; ".join(f"{w['size']} {ms(w['results']['rev']['objective_alone_s'])} ms "
                              f"(Jacobian / that: "
                              f"{w['results']['rev']['jacobian_s'] / w['results']['rev']['objective_alone_s']:.1f})"
                              for w in rows) + "."]
    jax_version = rows[0]["results"]["jax-rev"].get("version", "?")
    machine = (f"{platform.node()} ({os.cpu_count()} cores, load average "
               f"{os.getloadavg()[0]:.2f} at the end), Python {platform.python_version()}, "
               f"JAX {jax_version}, {describe()}, {time.strftime('%Y-%m-%d %H:%M')}"
               + (f"; {args.note}" if args.note else ""))
    table = "\n".join(lines + breakdown)
    print(table)
    print(machine)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "ba.md"), "w") as f:
        f.write("# Bundle adjustment: objective and sparse Jacobian (ADBench shapes), rev beside "
                "JAX and PyTorch\n\n"
                f"Produced by `python benchmarks/ba.py --repeats {args.repeats}` (medians, each "
                "method in a fresh child process, its objective and Jacobian calls "
                "interleaved, so that Jacobian / objective compares calls made in the same "
                "state of the machine). Generated data with ADBench's shapes (ba1, "
                "ba4; seed 0, every point in front of every camera, camera 0 with r = 0). "
                "Objective: the reprojection errors (p x 2) and weight errors (p). Jacobian: "
                "ADBench's sparse Jacobian as its nonzero blocks (per observation 2 x 15: 11 "
                "camera, 3 point, 1 weight column; and d(1 - w^2)/dw), gathers included. rev: "
                "benchmarks/ba.mlir, JIT at O3 on one thread, exact IEEE; Jacobian = one pass "
                "of @ba_jacobian (a func.func: per observation, rev.grad_call runs the two-seed "
                "gradient @ba_reproj_grad_x2 (seeded with ERR_bar[0, 0] = 1 and "
                "ERR_bar[0, 1] = 1, the partial derivatives computed once; adjoint-only, so "
                "no forward sweep), inlined, on one-row stack copies with stack shadows, and "
                "writes the 2 x 15 block; a grad_call of @ba_werr the weight-error entry), into "
                "arrays allocated once; the earlier method (gather per-observation copies, zero two whole "
                "shadow sets, one two-seed sweep) is the second rev row. JAX: jit on CPU, float64, "
                "vmap over observations of jacrev / jacfwd of the per-observation error. "
                "PyTorch: eager, CPU, float64, torch.func.vmap of jacrev / jacfwd. Extra "
                "memory: the rise of the resident-set high-water mark during the first "
                "Jacobian call in the child process (benchmarks/memory_probe.py); for rev the "
                "variant that allocates its arrays in the call (the blocks, 240 bytes per "
                "observation, and the weight-error entries, 8). Rel. diff.: max |difference| / largest entry of rev's "
                "(objective: reprojection / weight errors; Jacobian: over all blocks; rev vs "
                "JAX: exit 1 above 1e-8; PyTorch vs rev likewise). "
                "Machine: " + machine + "\n\n")
        f.write(table + "\n")
    with open(os.path.join(RESULTS, "ba.json"), "w") as f:
        json.dump(dict(machine=machine, repeats=args.repeats, rows=rows), f, indent=1)
    if failures:
        for msg in failures:
            print(msg, file=sys.stderr)
    checks.finish()
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
