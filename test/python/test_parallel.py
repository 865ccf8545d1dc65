"""rev.parallel_for: results, inverses and gradients against independent references.

Every parallel program here also exists as a sequential rev.for program (the
same body, `reduce` as `iter_args`): the two must agree to 1e-12 relative
(sums in another order), forwards, backwards and in the gradient. Gradients
are also checked against closed forms (1e-10) or central finite differences
(1e-6 relative, as in test_ad.py).

The race-freedom test lowers the parallel programs and their gradients and
checks every scf.parallel body: a plain store may only write the iteration's
own element; everything shared is written by memref.atomic_rmw or summed by
scf.reduce. A negative control shows the checker rejects a plain `+=`.
"""
import re

import numpy as np
import pytest

from mlir_rev.ad import Derivatives, vjp
from mlir_rev.ir import Context, Module
from mlir_rev.jit import Program
from mlir_rev.passmanager import PassManager
from test_ad import check_fd, rel_err

SEQ_RTOL = 1e-12
EXACT_RTOL = 1e-10


def sequential(src: str) -> str:
    """The same program with rev.for loops (reduce accumulators as iter_args)."""
    out = src.replace("rev.parallel_for", "rev.for").replace(" reduce(", " iter_args(")
    return re.sub(r" \{accumulate = \"\w+\"\}", "", out)


SCALE = """
rev.func @scale(%a: f64, %X: memref<?xf64>, %Y: memref<?xf64>, %b: memref<?xindex>,
                %H: memref<?xf64>, %s: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.parallel_for %i = %c0 to %n step %c1 reduce(%acc = %s) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %sx = math.sin %x : f64
    %d = arith.mulf %a, %sx : f64
    rev.add_at %Y[%i], %d : memref<?xf64>
    %k = memref.load %b[%i] : memref<?xindex>
    %x2 = arith.mulf %x, %x : f64
    rev.add_at %H[%k], %x2 : memref<?xf64>
    %ad = arith.mulf %d, %a : f64
    %acc1 = rev.add %acc, %ad : f64
    rev.yield %acc1 : f64
  }
  rev.return %a, %r : f64, f64
}
"""


def scale_args(n=9, bins=4, seed=0):
    rng = np.random.default_rng(seed)
    return [0.7, rng.uniform(-1, 1, n), rng.uniform(-1, 1, n),
            rng.integers(0, bins, n).astype(np.int64), rng.uniform(-1, 1, bins), 0.3]


def copy(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def test_forward_inverse_and_sequential_agree():
    args = scale_args(n=1000, bins=5)
    par, seq = Program(SCALE), Program(sequential(SCALE))
    pa, sa = copy(args), copy(args)
    rp, rs = par.call("scale", *pa), seq.call("scale", *sa)
    # NumPy reference of the forward.
    a, X, Y, b, H, s = copy(args)
    d = a * np.sin(X)
    Href = H.copy()
    np.add.at(Href, b, X * X)
    assert rel_err(pa[2], Y + d) < SEQ_RTOL
    assert rel_err(pa[4], Href) < SEQ_RTOL
    assert abs(rp[1] - (s + np.sum(d * a))) < 1e-12 * max(1, abs(rp[1]))
    assert abs(rp[1] - rs[1]) < 1e-12 * max(1, abs(rs[1]))
    for u, v in zip(pa, sa):
        if isinstance(u, np.ndarray):
            assert rel_err(u, v) < SEQ_RTOL
    # Backwards: the inputs come back.
    back = par.uncall("scale", rp[0], pa[1], pa[2], pa[3], pa[4], rp[1])
    assert abs(back[1] - s) < 1e-12
    assert rel_err(pa[2], Y) < SEQ_RTOL and rel_err(pa[4], H) < SEQ_RTOL


def test_gradient_finite_differences_and_sequential():
    args = scale_args()
    d, J = check_fd(SCALE, "scale", args)
    J_seq = Derivatives(sequential(SCALE), "scale").jacobian(*args)
    assert rel_err(J, J_seq) < SEQ_RTOL


BESSEL = """
// Y[i] += a * J_2(X[i]): the per-element 30-term series of examples/besselj2.mlir
// (a routine: the term and the partial sum are ancillas), in a parallel loop,
// with a shared scale a.
rev.func @bessel(%a: f64, %X: memref<?xf64>, %Y: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    rev.routine compute {
    ^bb0:
      %c1k = arith.constant 1 : index
      %nk = arith.constant 30 : index
      %two = arith.constant 2.0 : f64
      %h = arith.divf %x, %two : f64
      %h2 = arith.mulf %h, %h : f64
      %first = arith.divf %h2, %two : f64
      %t0 = rev.alloc : f64
      %t1 = rev.add %t0, %first : f64
      %s0 = rev.alloc : f64
      %s1 = rev.add %s0, %t1 : f64
      %l:2 = rev.for %k = %c1k to %nk step %c1k iter_args(%t = %t1, %s = %s1) -> (f64, f64) {
        %ki = arith.index_cast %k : index to i64
        %kf = arith.sitofp %ki : i64 to f64
        %k2 = arith.addf %kf, %two : f64
        %den = arith.mulf %kf, %k2 : f64
        %q = arith.divf %h2, %den : f64
        %d = arith.negf %q : f64
        %tn = rev.mul %t, %d : f64
        %sn = rev.add %s, %tn : f64
        rev.yield %tn, %sn : f64, f64
      }
      rev.yield %l#0, %l#1 : f64, f64
    } body {
    ^bb0(%t: f64, %s: f64):
      %as = arith.mulf %a, %s : f64
      rev.add_at %Y[%i], %as : memref<?xf64>
      rev.yield %t, %s : f64, f64
    }
  }
  rev.return %a : f64
}
"""


def j2(x):
    """J_2 by its power series in NumPy (60 terms: converged for |x| < 10)."""
    h2 = (x / 2) ** 2
    t = h2 / 2
    s = t.copy()
    for k in range(1, 60):
        t = t * (-h2 / (k * (k + 2)))
        s += t
    return s


def test_batched_bessel_shared_scale():
    rng = np.random.default_rng(1)
    n = 200
    X = rng.uniform(0.5, 4.0, n)
    Y = rng.uniform(-1, 1, n)
    a = 1.3
    f_par = vjp(BESSEL, "bessel")
    f_seq = vjp(sequential(BESSEL), "bessel")
    w = rng.uniform(-1, 1, n)  # objective: sum(w * Y_final)
    outs, (da, dX, dY) = f_par([a, X.copy(), Y.copy()], [0.0], [np.zeros(n), w.copy()])
    _, (sa, sX, sY) = f_seq([a, X.copy(), Y.copy()], [0.0], [np.zeros(n), w.copy()])
    # Closed forms: d/da = sum w J2(x); d/dx = a w J2'(x), J2' = J1 - 2 J2 / x,
    # checked through a central difference of the NumPy series (smooth: 1e-7).
    assert abs(da - np.sum(w * j2(X))) < 1e-10 * max(1, abs(da))
    h = 1e-5
    dj2 = (j2(X + h) - j2(X - h)) / (2 * h)
    assert rel_err(dX, a * w * dj2) < 1e-7
    assert rel_err(dY, w) < EXACT_RTOL
    assert abs(da - sa) < SEQ_RTOL * max(1, abs(sa))
    assert rel_err(dX, sX) < SEQ_RTOL
    # The forward against NumPy.
    Yf = Y.copy()
    Program(BESSEL).call("bessel", a, X.copy(), Yf)
    assert rel_err(Yf, Y + a * j2(X)) < 1e-12


CSR = """
// y[r] += sum_k vals[k] * x[col[k]] over row r: parallel over rows, a
// sequential loop over the row's nonzeros. Its adjoint scatters into xbar
// (shared: atomic) and valsbar.
rev.func @csr(%rowptr: memref<?xindex>, %col: memref<?xindex>, %vals: memref<?xf64>,
              %x: memref<?xf64>, %y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %y, %c0 : memref<?xf64>
  rev.parallel_for %r = %c0 to %n step %c1 {
    %r1 = arith.addi %r, %c1 : index
    %lo = memref.load %rowptr[%r] : memref<?xindex>
    %hi = memref.load %rowptr[%r1] : memref<?xindex>
    rev.for %k = %lo to %hi step %c1 {
      %j = memref.load %col[%k] : memref<?xindex>
      %v = memref.load %vals[%k] : memref<?xf64>
      %xj = memref.load %x[%j] : memref<?xf64>
      %p = arith.mulf %v, %xj : f64
      rev.add_at %y[%r], %p : memref<?xf64>
    }
  }
  rev.return
}
"""

COO = """
// y[row[k]] += vals[k] * x[col[k]]: parallel over the nonzeros, so y itself
// is a shared accumulation (atomic in the forward too).
rev.func @coo(%row: memref<?xindex>, %col: memref<?xindex>, %vals: memref<?xf64>,
              %x: memref<?xf64>, %y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %nnz = memref.dim %vals, %c0 : memref<?xf64>
  rev.parallel_for %k = %c0 to %nnz step %c1 {
    %i = memref.load %row[%k] : memref<?xindex>
    %j = memref.load %col[%k] : memref<?xindex>
    %v = memref.load %vals[%k] : memref<?xf64>
    %xj = memref.load %x[%j] : memref<?xf64>
    %p = arith.mulf %v, %xj : f64
    rev.add_at %y[%i], %p : memref<?xf64>
  }
  rev.return
}
"""


def sparse(m=40, n=30, density=0.2, seed=2):
    rng = np.random.default_rng(seed)
    dense = rng.uniform(-1, 1, (m, n)) * (rng.uniform(0, 1, (m, n)) < density)
    rows, cols = np.nonzero(dense)
    return dense, rows.astype(np.int64), cols.astype(np.int64), dense[rows, cols]


@pytest.mark.parametrize("fmt", ["csr", "coo"])
def test_spmv_gradient_values_and_x(fmt):
    dense, rows, cols, vals = sparse()
    m, n = dense.shape
    rng = np.random.default_rng(5)
    x, y, w = rng.uniform(-1, 1, n), rng.uniform(-1, 1, m), rng.uniform(-1, 1, m)
    if fmt == "csr":
        rowptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=m))]).astype(np.int64)
        src, first = CSR, rowptr
    else:
        src, first = COO, rows
    f = vjp(src, fmt)
    _, (dvals, dx, dy) = f([first, cols, vals.copy(), x.copy(), y.copy()], [],
                           [np.zeros_like(vals), np.zeros_like(x), w.copy()])
    assert rel_err(dvals, w[rows] * x[cols]) < EXACT_RTOL
    assert rel_err(dx, dense.T @ w) < EXACT_RTOL
    assert rel_err(dy, w) < EXACT_RTOL
    _, (svals, sx, sy) = vjp(sequential(src), fmt)(
        [first, cols, vals.copy(), x.copy(), y.copy()], [],
        [np.zeros_like(vals), np.zeros_like(x), w.copy()])
    assert rel_err(dx, sx) < SEQ_RTOL and rel_err(dvals, svals) < SEQ_RTOL
    # Forward and inverse.
    prog, yy = Program(src), y.copy()
    prog.call(fmt, first, cols, vals, x, yy)
    assert rel_err(yy, y + dense @ x) < SEQ_RTOL
    prog.uncall(fmt, first, cols, vals, x, yy)
    assert rel_err(yy, y) < SEQ_RTOL


# -- no race in any generated code --------------------------------------------
def racy_parallel_loops(module) -> list:
    """Plain memref.store ops in an scf.parallel body whose indices are not all
    the induction variable itself: a write another iteration can make too."""
    bad = []
    for op in walk(module.operation):
        if op.name != "scf.parallel":
            continue
        body = op.regions[0].blocks[0]
        ivs = list(body.arguments)
        for inner in walk(op):
            if inner.name == "memref.store":
                indices = list(inner.operands)[2:]
                if not any(i == iv for i in indices for iv in ivs):
                    bad.append(str(inner))
    return bad


def walk(op):
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                yield inner
                yield from walk(inner.operation)


def lowered(src: str, ad: bool):
    ctx = Context()
    m = Module.parse(src, ctx)
    pm = PassManager.parse("builtin.module(" + ("rev-ad," if ad else "") +
                           "rev-expand-uncalls,rev-expand-routines,lower-rev)", ctx)
    pm.run(m.operation)
    return m


@pytest.mark.parametrize("src", [SCALE, BESSEL, CSR, COO])
@pytest.mark.parametrize("ad", [False, True])
def test_generated_parallel_loops_store_only_own_elements(src, ad):
    m = lowered(src, ad)
    assert "scf.parallel" in str(m)
    assert racy_parallel_loops(m) == []


def test_race_checker_rejects_a_plain_shared_update():
    # The negative control: COO lowered with the shared += as a plain
    # load/add/store (what a lowering without atomics would give).
    racy = """
    func.func @coo(%row: memref<?xindex>, %vals: memref<?xf64>, %y: memref<?xf64>) {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %nnz = memref.dim %vals, %c0 : memref<?xf64>
      scf.parallel (%k) = (%c0) to (%nnz) step (%c1) {
        %i = memref.load %row[%k] : memref<?xindex>
        %v = memref.load %vals[%k] : memref<?xf64>
        %y0 = memref.load %y[%i] : memref<?xf64>
        %y1 = arith.addf %y0, %v : f64
        memref.store %y1, %y[%i] : memref<?xf64>
        scf.reduce
      }
      return
    }"""
    ctx = Context()
    m = Module.parse(racy, ctx)
    assert len(racy_parallel_loops(m)) == 1
    assert "atomic_rmw" in str(lowered(COO, False))


# -- checked mode ---------------------------------------------------------------
DIV = """
rev.func @div(%X: memref<?xf64>, %Y: memref<?xf64>, %b: memref<?xindex>, %H: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %one = arith.constant 1.0 : f64
    %q = arith.divf %one, %x : f64
    rev.add_at %Y[%i], %q : memref<?xf64>
    %k = memref.load %b[%i] : memref<?xindex>
    rev.add_at %H[%k], %q : memref<?xf64>
  }
  rev.return
}
"""


@pytest.mark.parametrize("target", ["cpu", "openmp"])
def test_checked_mode_reports_a_failed_check_inside_a_parallel_loop(target):
    from mlir_rev.jit import RevError
    prog = Program(DIV, checks=True, target=target)
    X = np.array([1.0, 2.0, 4.0, 0.5])
    Y, b, H = np.zeros(4), np.array([0, 1, 1, 0], dtype=np.int64), np.zeros(2)
    prog.call("div", X, Y, b, H)
    assert rel_err(Y, 1 / X) < 1e-15 and rel_err(H, [1 / 1 + 1 / 0.5, 1 / 2 + 1 / 4]) < 1e-15
    X[2] = 0.0
    Y0, H0 = Y.copy(), H.copy()
    with pytest.raises(RevError) as e:
        prog.call("div", X, Y, b, H)
    assert e.value.rule == "delta is not finite (inf or NaN)"
    assert e.value.op == "rev.add_at"
    # Checked mode restores the arrays of a failed call.
    assert np.array_equal(Y, Y0) and np.array_equal(H, H0)


def test_checked_gradient_through_parallel_loops():
    args = scale_args(n=50)
    d = Derivatives(SCALE, "scale", checks=True)
    J = d.jacobian(*args)
    J0 = Derivatives(SCALE, "scale").jacobian(*args)
    assert rel_err(J, J0) < 1e-15


# -- OpenMP: the same results as the sequential build -------------------------
@pytest.mark.parametrize("threads", [1, 2])
def test_openmp_matches_sequential(threads):
    rng = np.random.default_rng(11)
    n = 20000
    X, Y, w = rng.uniform(0.5, 4.0, n), rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    seq = Program(BESSEL, grad=["bessel"])
    omp = Program(BESSEL, grad=["bessel"], target="openmp", num_threads=threads)
    # Forward: own-element writes only, so bit-identical.
    Ys, Yo = Y.copy(), Y.copy()
    seq.call("bessel", 1.3, X, Ys)
    omp.call("bessel", 1.3, X, Yo)
    assert np.array_equal(Ys, Yo)
    # Gradient: Xbar is private (bit-identical); abar is a sum (reordered).
    out = {}
    for name, p in (("seq", seq), ("omp", omp)):
        Xb = np.zeros(n)
        _, abar = p.call(p.gradient_names["bessel"], 1.3, X, Y.copy(), 0.0, Xb, w.copy())
        out[name] = (abar, Xb)
    assert np.array_equal(out["seq"][1], out["omp"][1])
    assert abs(out["seq"][0] - out["omp"][0]) <= 1e-12 * max(1.0, abs(out["seq"][0]))
    # COO: the forward's shared y and the gradient's shared xbar (atomics or
    # per-thread copies): equal up to the order of the additions.
    dense, rows, cols, vals = sparse(m=300, n=200, density=0.3)
    x, y0 = rng.uniform(-1, 1, 200), rng.uniform(-1, 1, 300)
    ys, yo = y0.copy(), y0.copy()
    Program(COO).call("coo", rows, cols, vals, x, ys)
    Program(COO, target="openmp", num_threads=threads).call("coo", rows, cols, vals, x, yo)
    assert rel_err(yo, ys) < 1e-13
