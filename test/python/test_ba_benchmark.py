"""benchmarks/ba.mlir and the Jacobian of benchmarks/ba.py (bundle adjustment,
ADBench's BA), on a small instance (4 cameras, one of them with r = 0, the
theta = 0 branch; 6 points; 20 observations):

* the objective (@ba_reproj + @ba_werr) against a NumPy reference written
  observation by observation from ADBench's formulas (1e-12 relative to the
  largest error);
* rev's sparse Jacobian (gather, one call of the two-seed gradient
  @ba_reproj_grad_x2, the weight-error gradient; `RevBA.jacobian`, with reused and with fresh arrays)
  against central finite differences of that reference, block by block (each
  observation's 2 x 15 block within 1e-7 of the block's largest entry;
  h = 1e-6 max(1, |x|)), the observations of the r = 0 camera included;
  d(1 - w^2)/dw exactly -2w; the baseline (two gradient calls) and forward
  mode (15 tangent runs) give the same blocks (1e-13);
* the gradient is adjoint-only: the state array is not touched (exactly);
* the PyTorch (jacrev, jacfwd) and JAX (jacrev; its jacfwd is cross-checked
  by the benchmark itself) peers of the benchmark give the same objective
  and Jacobian (1e-10 relative; skipped where torch or jax is not installed).
"""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "benchmarks")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import ba  # noqa: E402


def rodrigues(r, d):
    th2 = float(r @ r)
    if th2 != 0.0:
        th = np.sqrt(th2)
        w = r / th
        return d * np.cos(th) + np.cross(w, d) * np.sin(th) + w * (w @ d) * (1 - np.cos(th))
    return d + np.cross(r, d)


def reproj_ref(cam, X, w, feat):
    """ADBench's reprojection error of one observation (2 values)."""
    Xc = rodrigues(cam[0:3], X - cam[3:6])
    p = Xc[0:2] / Xc[2]
    rsq = p @ p
    L = 1 + cam[9] * rsq + cam[10] * rsq * rsq
    return w * (p * L * cam[6] + cam[7:9] - feat)


def small_instance():
    rng = np.random.default_rng(3)
    n, m, p = 4, 6, 20
    cams, pts, w, feat, cidx, pidx = ba.inputs(n, m, p, seed=3)
    # larger rotations than the benchmark's, and camera 0 (r = 0) observed often
    cams[1:, 0:3] = rng.uniform(-1.0, 1.0, (n - 1, 3))
    cidx[::3] = 0
    feat = ba.project_np(cams[cidx], pts[pidx]) + rng.normal(0.0, 3.0, (p, 2))
    assert np.all(cams[0, 0:3] == 0.0)
    return cams, pts, w, feat, cidx, pidx


@pytest.fixture(scope="module")
def instance():
    data = small_instance()
    return data, ba.RevBA(*data)


def test_objective_against_numpy(instance):
    (cams, pts, w, feat, cidx, pidx), rev = instance
    err, werr = rev.objective()
    ref = np.array([reproj_ref(cams[c], pts[q], w[o], feat[o])
                    for o, (c, q) in enumerate(zip(cidx, pidx))])
    assert np.max(np.abs(err - ref)) <= 1e-12 * np.max(np.abs(ref))
    assert np.max(np.abs(werr - (1 - w * w))) <= 1e-15
    # the vectorised projection that makes the benchmark's features agrees too
    assert np.max(np.abs(ba.project_np(cams[cidx], pts[pidx])
                         - (ref / w[:, None] + feat))) <= 1e-12 * np.max(np.abs(ref))


def finite_difference_blocks(cams, pts, w, feat, cidx, pidx):
    """(p, 2, 15): d reproj[o] / d (camera, point, weight) by central differences."""
    out = np.zeros((len(w), 2, 15))
    for o, (c, q) in enumerate(zip(cidx, pidx)):
        x = np.concatenate([cams[c], pts[q], [w[o]]])
        for j in range(15):
            h = 1e-6 * max(1.0, abs(x[j]))
            a, b = x.copy(), x.copy()
            a[j] += h
            b[j] -= h
            ea = reproj_ref(a[0:11], a[11:14], a[14], feat[o])
            eb = reproj_ref(b[0:11], b[11:14], b[14], feat[o])
            out[o, :, j] = (ea - eb) / (2 * h)
    return out


@pytest.mark.parametrize("fresh", [False, True])
def test_jacobian_against_finite_differences(instance, fresh):
    (cams, pts, w, feat, cidx, pidx), rev = instance
    rows, dwerr = rev.jacobian(fresh=fresh)
    J = np.stack([np.concatenate([cam, pt, wc[:, None]], 1) for cam, pt, wc in rows], 1)
    fd = finite_difference_blocks(cams, pts, w, feat, cidx, pidx)
    for o in range(len(w)):
        scale = np.max(np.abs(fd[o]))
        assert np.max(np.abs(J[o] - fd[o])) <= 1e-7 * scale, (o, cidx[o])
    # the r = 0 camera's rows of r are nonzero (the branch is differentiated)
    zero_cam = cidx == 0
    assert zero_cam.sum() >= 5
    assert np.all(np.max(np.abs(J[zero_cam][:, :, 0:3]), axis=(1, 2)) > 1.0)
    assert np.array_equal(dwerr, -2 * w)
    if not fresh:
        # the gather method: the two-seed gradient is adjoint-only, so the
        # state array is untouched
        rev.jacobian_gathered()
        assert "ba_reproj_grad" in rev.prog.adjoint_only
        assert not rev.bufs["E"].any()
        # FEAT is rev.const: its shadows (zeroed once, never again) get nothing
        assert not any(sh[3].any() for sh in rev.bufs["shadows"])


def test_jacobian_variants(instance):
    """The gather method (whole-array shadows) gives the one-pass driver's
    blocks bit for bit; the baseline (two gradient calls) and forward mode
    (15 tangent runs) the same within 1e-13."""
    _, rev = instance
    want = ba.blocks(ba.block_dict(*rev.jacobian()))
    assert np.array_equal(ba.blocks(ba.block_dict(*rev.jacobian_gathered())), want)
    for fn in (rev.jacobian_two_gradients, rev.jacobian_forward_mode):
        assert ba.rel(ba.blocks(ba.block_dict(*fn())), want) <= 1e-13


def test_jacobian_is_the_same_twice(instance):
    _, rev = instance
    a, _ = rev.jacobian()
    a = [x.copy() for r in a for x in r]
    b, _ = rev.jacobian()
    b = [x for r in b for x in r]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_torch_peer(instance):
    torch = pytest.importorskip("torch")
    (cams, pts, w, feat, cidx, pidx), rev = instance
    reproj = ba.torch_functions(torch)
    t = [torch.from_numpy(v) for v in (cams, pts, w, feat, cidx, pidx)]
    err = reproj(t[0][t[4]], t[1][t[5]], t[2], t[3]).numpy()
    ref, _ = rev.objective()
    assert ba.rel(err, ref) <= 1e-10
    want = ba.blocks(ba.block_dict(*rev.jacobian()))
    for jac in (torch.func.jacrev, torch.func.jacfwd):
        jc, jp, jw = torch.func.vmap(jac(reproj, argnums=(0, 1, 2)))(
            t[0][t[4]], t[1][t[5]], t[2], t[3])
        got = {f"{name}{k}": a.numpy()[:, k] for k in range(2)
               for name, a in (("cam", jc), ("pt", jp), ("w", jw))}
        got["dwerr"] = -2 * w
        assert ba.rel(ba.blocks(got), want) <= 1e-10


def test_jax_peer(instance):
    pytest.importorskip("jax")
    jax, objective, jacobian = ba.jax_functions()
    (cams, pts, w, feat, cidx, pidx), rev = instance
    xs = (cams, pts, w, feat, cidx, pidx)
    err, werr = objective(*xs)
    ref, ref_w = rev.objective()
    assert ba.rel(np.asarray(err), ref) <= 1e-10
    assert ba.rel(np.asarray(werr), ref_w) <= 1e-10
    want = ba.blocks(ba.block_dict(*rev.jacobian()))
    for mode in ("rev",):
        (jc, jp, jw), dwerr = jacobian(mode)(*xs)
        got = {f"{name}{k}": np.asarray(a)[:, k] for k in range(2)
               for name, a in (("cam", jc), ("pt", jp), ("w", jw))}
        got["dwerr"] = np.asarray(dwerr)
        assert ba.rel(ba.blocks(got), want) <= 1e-10


def test_uncall_of_the_two_seed_gradient(instance):
    """@ba_reproj_grad_x2's inverse (built by --rev-invert, which computes
    each partial derivative once for all the updates that use it: the
    expressions read only cameras and points, which the gradient never
    writes) takes the shadows back to their seeds (1e-12 of the largest
    adjoint: each element's adds are undone in reverse order)."""
    _, rev = instance
    rows, _ = rev.jacobian_gathered()
    b = rev.bufs
    sh = b["shadows"]
    after = [[a.copy() for a in s] for s in sh]
    scale = max(float(np.max(np.abs(a))) for s in after for a in s)
    args = (b["GC"], b["GP"], rev.w, rev.feat, b["I0"], b["I1"], b["E"], *sh[0], *sh[1])
    rev.prog.uncall("ba_reproj_grad_x2", *args)
    for k, s in enumerate(sh):
        for j, a in enumerate(s):
            want = np.zeros_like(a)
            if j == 4:
                want[:, k] = 1.0  # the seeds
            assert np.max(np.abs(a - want)) <= 1e-12 * scale, (k, j)
    # and the gradient again gives the same blocks
    rev.prog.call("ba_reproj_grad_x2", *args)
    for s, s_after in zip(sh, after):
        for a, a_after in zip(s, s_after):
            assert np.max(np.abs(a - a_after)) <= 1e-12 * scale
