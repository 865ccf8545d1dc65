"""Several seeds through one sweep (--rev-seeds, Program(seeds=N)): @f_grad_xN
takes f's arguments once and N sets of the gradient's adjoint arguments.

Set k must come out bit for bit as a call of @f_grad seeded with set k
(the same operations on the same values: only the ops that depend on the
adjoints are copied), with the primal results of one call; the Jacobian rows
it gives agree with central differences of the objective (an independent
reference: the forward code alone). Forms: adjoint-only, plain (a call of
@f_bwd_xN), fused (a rev.parallel_for with a reduce accumulator), a rev.if
carrying adjoints, random straight-line programs (swaps, rotations,
multiplications, divisions), OpenMP, N = 2..4. What cannot be copied is a
RevError, not a crash."""
import os
import subprocess

import numpy as np
import pytest

from mlir_rev import ad
from mlir_rev.jit import Program, RevError
from test_random_programs import random_float_function

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REV_OPT = os.path.join(ROOT, "build", "bin", "rev-opt")

# A loop threading x and writing B += x^2 (adjoints read x: both sweeps);
# with B += x * k, k constant, the adjoints read only A and k (adjoint-only).
LOOP = """
rev.func @loop(%x: f64, %k: f64, %n: index, %A: memref<?xf64>, %B: memref<?xf64>)
    -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = rev.for %i = %c0 to %n step %c1 iter_args(%x2 = %x) -> (f64) {
    %a = memref.load %A[%i] : memref<?xf64>
    %s = math.sin %a : f64
    %t = arith.mulf %s, %k : f64
    %x3 = rev.add %x2, %t : f64
    %q = arith.mulf %x3, %x3 : f64
    rev.add_at %B[%i], %q : memref<?xf64>
    rev.yield %x3 : f64
  }
  rev.return %y, %k, %n : f64, f64, index
}
"""

# Branches that carry adjoints (a rev.if with results).
BRANCH = """
rev.func @branch(%x: f64, %y: f64) -> (f64, f64) {
  %zero = arith.constant 0.0 : f64
  %r:2 = rev.if %x, %y : f64, f64 pre {
  ^bb0(%a: f64, %b: f64):
    %c = arith.cmpf ogt, %a, %zero : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64, %b: f64):
    %e = math.exp %a : f64
    %b1 = rev.add %b, %e : f64
    %t = math.sin %b1 : f64
    %t2 = arith.mulf %t, %t : f64
    %a1 = rev.add %a, %t2 : f64
    rev.yield %a1, %b1 : f64, f64
  } else {
  ^bb0(%a: f64, %b: f64):
    %s = math.sin %a : f64
    %b1 = rev.mul %b, %s : f64
    rev.yield %a, %b1 : f64, f64
  } post {
  ^bb0(%a: f64, %b: f64):
    %c = arith.cmpf ogt, %a, %zero : f64
    rev.cond %c
  }
  rev.return %r#0, %r#1 : f64, f64
}
"""

# Ends with a parallel loop that reads a shared scale (a reduce accumulator
# in the backward loop) and whose adjoints read what it changes: the fused
# gradient (each iteration's forward, uncomputation and adjoints together).
PARALLEL = """
rev.func @batch(%X: memref<?xf64>, %Y: memref<?xf64>, %s: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %e = math.sin %x : f64
    %t = arith.mulf %e, %s : f64
    %u = arith.mulf %t, %x : f64
    rev.add_at %Y[%i], %u : memref<?xf64>
    %y = memref.load %Y[%i] : memref<?xf64>
    %y2 = arith.mulf %y, %y : f64
    rev.add_at %X[%i], %y2 : memref<?xf64>
  }
  rev.return %s : f64
}
"""

# A routine (compute an ancilla t = x^2 + A[0], use it, uncompute it).
with open(os.path.join(ROOT, "test", "run", "routine.mlir")) as f:
    _text = f.read()
ROUTINE = _text[_text.index("rev.func @f("):_text.index("func.func private")]
with open(os.path.join(ROOT, "examples", "besselj2.mlir")) as f:
    BESSEL = f.read()
# A routine whose compute calls a function (its backward routine's compute
# uncalls the callee's backward sweep: @square_into_bwd_xN is uncalled).
with open(os.path.join(ROOT, "test", "transforms", "expand-routines.mlir")) as f:
    _text = f.read()
WITH_CALL = "\n".join(l for l in _text.splitlines() if not l.startswith("//"))
with open(os.path.join(ROOT, "benchmarks", "gmm.mlir")) as f:
    GMM = f.read()

# The per-observation reprojection error of bundle adjustment (ADBench).
with open(os.path.join(ROOT, "benchmarks", "ba.mlir")) as f:
    BA = f.read()


def copy_args(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def adjoint_layout(args):
    """The adjoint arguments' shapes for `args`: an adjoint per float
    scalar, then a shadow per float array (the derivative layout)."""
    return ([("s", None) for a in args if isinstance(a, float)] +
            [("a", a.shape) for a in args
             if isinstance(a, np.ndarray) and a.dtype == np.float64])


def random_seed_set(rng, layout):
    return [float(rng.standard_normal()) if kind == "s" else rng.standard_normal(shape)
            for kind, shape in layout]


def check_seeds(prog, fname, args, sets):
    """@f_grad_xN with `sets` == one @f_grad call per set, bit for bit."""
    n = len(sets)
    grad = prog.gradient_names[fname]
    seeded = prog.seeded_names[grad]
    assert seeded == f"{grad}_x{n}"
    refs = []
    for s in sets:
        pa, sa = copy_args(args), copy_args(s)
        res = prog.call(grad, *pa, *sa)
        res = list(res) if isinstance(res, tuple) else ([] if res is None else [res])
        refs.append((pa, sa, res))
    pa = copy_args(args)
    sas = [copy_args(s) for s in sets]
    res = prog.call(seeded, *pa, *[a for s in sas for a in s])
    res = list(res) if isinstance(res, tuple) else ([] if res is None else [res])
    nscal = sum(not isinstance(a, np.ndarray) for a in args)  # f's scalar results
    nadj = len(refs[0][2]) - nscal
    assert len(res) == nscal + n * nadj
    for k, (rpa, rsa, rres) in enumerate(refs):
        # primal results and arrays as one call leaves them
        assert res[:nscal] == rres[:nscal]
        for a, b in zip(pa, rpa):
            if isinstance(a, np.ndarray):
                assert np.array_equal(a, b)
        # set k's adjoints: scalars returned, arrays in place
        assert res[nscal + k * nadj: nscal + (k + 1) * nadj] == rres[nscal:]
        for a, b in zip(sas[k], rsa):
            if isinstance(a, np.ndarray):
                assert np.array_equal(a, b), np.max(np.abs(a - b))
    return res, sas


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("form", ["default", "plain"])
def test_loop(n, form):
    kw = {} if form == "default" else dict(adjoint_only=False, fuse_sweeps=False)
    linear = LOOP.replace("%q = arith.mulf %x3, %x3", "%q = arith.mulf %x3, %k").replace(
        "%k: f64,", "%k: f64 {rev.const},")
    for src, adjoint_only in ((LOOP, False), (linear, True)):
        prog = Program(src, grad=["loop"], seeds=n, **kw)
        if form == "default":
            assert (prog.gradient_names["loop"] in prog.adjoint_only) == adjoint_only
        rng = np.random.default_rng(7 + n)
        m = 17
        args = [0.3, 0.7, m, rng.standard_normal(m), rng.standard_normal(m)]
        sets = [random_seed_set(rng, adjoint_layout(args)) for _ in range(n)]
        check_seeds(prog, "loop", args, sets)


@pytest.mark.parametrize("x", [0.4, -0.4])
def test_branch_carries_adjoints(x):
    prog = Program(BRANCH, grad=["branch"], seeds=2)
    rng = np.random.default_rng(3)
    sets = [[float(v) for v in rng.standard_normal(2)] for _ in range(2)]
    res, _ = check_seeds(prog, "branch", [x, 1.3], sets)
    # the two sets' adjoints differ (each seed took its own values through)
    assert res[2:4] != res[4:6]


@pytest.mark.parametrize("target", ["cpu", "openmp"])
def test_fused_parallel_loop_with_shared_scalar(target):
    kw = dict(target=target, num_threads=2) if target == "openmp" else {}
    prog = Program(PARALLEL, grad=["batch"], seeds=3, **kw)
    assert "batch_grad" not in prog.adjoint_only
    out = subprocess.run([REV_OPT, "-", "--rev-ad", "--rev-seeds=count=3"], input=PARALLEL,
                         capture_output=True, text=True, check=True).stdout
    seeded = out[out.index("@batch_grad_x3("):]
    assert "rev.fused_sweeps" in seeded.split("rev.func")[0]
    rng = np.random.default_rng(11)
    m = 1000
    args = [rng.standard_normal(m), rng.standard_normal(m), 0.9]
    sets = [random_seed_set(rng, adjoint_layout(args)) for _ in range(3)]
    flat = lambda sets: [a for s in sets for a in s]
    if target == "cpu":
        # Bit for bit where the shared scalar's sum runs in iteration order
        # (reassociate_reductions=False) ...
        ordered = Program(PARALLEL, grad=["batch"], seeds=3, reassociate_reductions=False)
        check_seeds(ordered, "batch", args, sets)
        # ... by default (LLVM may vectorise each sum with partial sums, not
        # necessarily alike in @batch_grad and @batch_grad_x3) within 1e-12,
        # the arrays' adjoints (per element) bit for bit.
        a1, s1 = copy_args(args), [copy_args(s) for s in sets]
        r1 = prog.call("batch_grad_x3", *a1, *flat(s1))
        nadj = (len(r1) - 1) // 3
        for k, s in enumerate(sets):
            a2, s2 = copy_args(args), copy_args(s)
            r2 = prog.call("batch_grad", *a2, *s2)
            np.testing.assert_allclose(r1[1 + k * nadj: 1 + (k + 1) * nadj], r2[1:], rtol=1e-12)
            for x, y in zip(s1[k], s2):
                if isinstance(x, np.ndarray):
                    assert np.array_equal(x, y)
        return
    # OpenMP: the scalar's adjoint is a parallel reduction (summation order
    # differs), the arrays' adjoints are per element: equal to the
    # sequential program's within 1e-12 relative.
    seq = Program(PARALLEL, grad=["batch"], seeds=3)
    a1, s1 = copy_args(args), [copy_args(s) for s in sets]
    a2, s2 = copy_args(args), [copy_args(s) for s in sets]
    r1 = prog.call("batch_grad_x3", *a1, *flat(s1))
    r2 = seq.call("batch_grad_x3", *a2, *flat(s2))
    np.testing.assert_allclose(r1, r2, rtol=1e-12)
    for x, y in zip(flat(s1), flat(s2)):
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y)


def test_random_straight_line_programs():
    rng = np.random.default_rng(20261201)
    funcs = [random_float_function(rng, f"r{k}", int(rng.integers(5, 30))) for k in range(12)]
    prog = Program("\n".join(funcs), grad=[f"r{k}" for k in range(12)], seeds=2)
    for k in range(12):
        args = [float(v) for v in rng.uniform(-1, 1, 4)]
        sets = [[float(v) for v in rng.standard_normal(4)] for _ in range(2)]
        check_seeds(prog, f"r{k}", args, sets)


def ba_data(p, rng):
    """p observations on their own camera and point (gathered copies)."""
    cams = np.empty((p, 11))
    cams[:, 0:3] = rng.uniform(-0.3, 0.3, (p, 3))
    cams[0, 0:3] = 0.0  # the theta = 0 branch
    cams[:, 3:6] = rng.uniform(-1, 1, (p, 3))
    cams[:, 6] = rng.uniform(400, 600, p)
    cams[:, 7:9] = rng.uniform(-10, 10, (p, 2))
    cams[:, 9:11] = rng.uniform(-1e-3, 1e-3, (p, 2))
    pts = rng.uniform(-1, 1, (p, 3))
    pts[:, 2] += 8.0  # in front of the cameras
    w = rng.uniform(0.5, 1.5, p)
    feat = rng.uniform(-50, 50, (p, 2))
    return cams, pts, w, feat


def ba_worst_central_difference(prog, cams, pts, w, feat, column, h=1e-6):
    """The largest difference between BA's Jacobian entries column(col, k)
    (col: 11 camera, 3 point, 1 weight; k: residual row; one value per
    observation) and central differences of @ba_reproj on per-observation
    cameras and points (CIDX = PIDX = 0..p-1), relative to max(1, |fd|)."""
    p = len(w)
    ident = np.arange(p, dtype=np.int64)

    def err(c, x, ww):
        e = np.zeros((p, 2))
        prog.call("ba_reproj", c, x, ww, feat, ident.copy(), ident.copy(), e)
        return e

    worst = 0.0
    for col in range(15):
        c1, c2, x1, x2, w1, w2 = cams.copy(), cams.copy(), pts.copy(), pts.copy(), w.copy(), w.copy()
        if col < 11:
            step = h * np.maximum(1.0, np.abs(cams[:, col]))
            c1[:, col] += step
            c2[:, col] -= step
        elif col < 14:
            step = h * np.maximum(1.0, np.abs(pts[:, col - 11]))
            x1[:, col - 11] += step
            x2[:, col - 11] -= step
        else:
            step = h * np.ones(p)
            w1 += step
            w2 -= step
        fd = (err(c1, x1, w1) - err(c2, x2, w2)) / (2 * step[:, None])
        for k in range(2):
            scale = np.maximum(1.0, np.abs(fd[:, k]))
            worst = max(worst, float(np.max(np.abs(column(col, k) - fd[:, k]) / scale)))
    return worst


def test_ba_jacobian_rows_in_one_sweep():
    """The BA benchmark's Jacobian: one call of the two-seed gradient gives
    both rows of every observation's 2 x 15 block; they equal two
    single-seed gradients bit for bit and central differences of the
    objective (the forward code) within 1e-6 relative."""
    prog = Program(BA, grad=["ba_reproj"], seeds=2)
    assert "ba_reproj_grad" in prog.adjoint_only
    rng = np.random.default_rng(5)
    p = 40
    cams, pts, w, feat = ba_data(p, rng)
    idx = [np.arange(p, dtype=np.int64), np.arange(p, dtype=np.int64)]
    args = [cams, pts, w, feat, *idx, np.zeros((p, 2))]

    def sets():
        out = []
        for k in range(2):
            s = [np.zeros((p, 11)), np.zeros((p, 3)), np.zeros(p), np.zeros((p, 2)),
                 np.zeros((p, 2))]
            s[4][:, k] = 1.0
            out.append(s)
        return out

    _, sas = check_seeds(prog, "ba_reproj", args, sets())

    def column(col, k):
        sk = sas[k]
        return sk[0][:, col] if col < 11 else (sk[1][:, col - 11] if col < 14 else sk[2])

    worst = ba_worst_central_difference(prog, cams, pts, w, feat, column)
    assert worst < 1e-6, worst


def test_rev_opt_and_errors():
    # checkpointed steps (rev.steps_adjoint) are not copied: a RevError
    with open(os.path.join(ROOT, "examples", "steps.mlir")) as f:
        steps = f.read()
    with pytest.raises(RevError, match="rev.steps_adjoint' op depends on the adjoints"):
        Program(steps, grad=["recurrence"], seeds=2)
    for bad in (0, 65, 1.5, True, "2"):
        with pytest.raises(RevError, match="seeds must be an integer in 1..64"):
            Program(LOOP, grad=["loop"], seeds=bad)
    # seeds=1 (the default): no copy
    assert Program(LOOP, grad=["loop"], seeds=1).seeded_names == {}


@pytest.mark.parametrize("n", [2, 3])
def test_jacobian_runs_n_outputs_per_sweep(n):
    """ad.jacobian(seeds=N): one @f_bwd_xN sweep per N outputs (the last one
    filled with zero seeds) gives the rows of N single-output sweeps, bit for
    bit."""
    rng = np.random.default_rng(n)
    m = 5  # outputs: x, k and the 5 elements of each array: 12, not a multiple of n
    args = [0.3, 0.7, m, rng.standard_normal(m), rng.standard_normal(m)]
    one = ad.Derivatives(LOOP, "loop")
    many = ad.Derivatives(LOOP, "loop", seeds=n)
    assert many.bwd_seeded == f"loop_bwd_x{n}" and many.seeds == n
    j1, jn = one.jacobian(*args), many.jacobian(*args)
    assert j1.shape == (12, 12)
    assert np.array_equal(j1, jn)
    for x in (0.4, -0.4):
        assert np.array_equal(ad.Derivatives(BRANCH, "branch").jacobian(x, 1.3),
                              ad.Derivatives(BRANCH, "branch", seeds=n).jacobian(x, 1.3))
    # An adjoint-only gradient: the sweeps are its calls on the inputs (no
    # forward run): the matrix of the plain form, bit for bit.
    linear = LOOP.replace("%q = arith.mulf %x3, %x3", "%q = arith.mulf %x3, %k").replace(
        "%k: f64,", "%k: f64 {rev.const},")
    plain = ad.Derivatives(linear, "loop", adjoint_only=False).jacobian(*args)
    for k in (1, n):
        d = ad.Derivatives(linear, "loop", seeds=k)
        assert d.grad_name in d.program.adjoint_only
        assert np.array_equal(d.jacobian(*args), plain)


@pytest.mark.parametrize("form", ["default", "plain"])
def test_routines(form):
    """Routines carry adjoints through compute and body (the backward
    routine's compute yields the adjoints too): one copy of the routine,
    the ancillas' adjoints per seed."""
    kw = {} if form == "default" else dict(adjoint_only=False, fuse_sweeps=False)
    rng = np.random.default_rng(17)
    prog = Program(ROUTINE, grad=["f"], seeds=3, **kw)
    args = [0.8, 0.5, np.array([1.0, 0.25])]
    sets = [random_seed_set(rng, adjoint_layout(args)) for _ in range(3)]
    check_seeds(prog, "f", args, sets)
    prog = Program(BESSEL, grad=["besselj2"], seeds=2, **kw)
    check_seeds(prog, "besselj2", [1.7, 0.0], [[1.0, 0.3], [0.0, -2.0]])
    prog = Program(WITH_CALL, grad=["with_call"], seeds=2, **kw)
    check_seeds(prog, "with_call", [0.7, -0.2, 1.1],
                [[1.0, 0.5, -0.25], [0.3, -1.0, 2.0]])


def test_gmm_gradient_with_two_seeds():
    """ADBench's GMM (routines in a loop, nested loops, a log-sum-exp with a
    running maximum): two seeds of the scalar objective in one sweep."""
    d, K, n = 3, 4, 20
    rng = np.random.default_rng(23)
    alphas, means = rng.standard_normal(K), rng.standard_normal((K, d))
    icf = rng.standard_normal((K, d * (d + 1) // 2)) * 0.3
    x = rng.standard_normal((n, d))
    prog = Program(GMM, grad=["gmm"], seeds=2)
    # A, MU, ICF, X, then the scratch B, MX, Z, EQ (zero in, zero out), gamma, wm, L
    args = [alphas, means, icf, x, np.zeros(K), np.zeros(K), np.zeros(d), np.zeros((K, d)),
            1.0, 0.1, 0.0]
    sets = []
    for _ in range(2):
        # adjoints of gamma, wm, L; shadows of A, MU, ICF, X; zero for the scratch
        sets.append([float(v) for v in rng.standard_normal(3)] +
                    [rng.standard_normal(a.shape) for a in args[:4]] +
                    [np.zeros_like(a) for a in args[4:8]])
    check_seeds(prog, "gmm", args, sets)
