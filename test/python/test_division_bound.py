"""benchmarks/division_bound.py's object-code reading: the division counter
on a fixed disassembly, and on the JIT's real object code for the batched
Bessel series (the exact build divides, the series written as XLA evaluates
it has no division left in its primal). No timing here."""
import os
import shutil
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "benchmarks")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import division_bound  # noqa: E402

DISASSEMBLY = """
0000000000000000 <other>:
   0:	vdivpd %ymm1,%ymm2,%ymm3
0000000000000010 <f>:
  10:	vdivpd %ymm1,%ymm2,%ymm3
  14:	vdivpd 0x20(%rip),%ymm2,%ymm3
  18:	vdivpd %zmm1,%zmm2,%zmm3
  1c:	vdivpd %xmm1,%xmm2,%xmm3
  20:	vdivsd %xmm1,%xmm2,%xmm3
  24:	vmulpd %ymm1,%ymm2,%ymm3
0000000000000030 <f_grad>:
  30:	divsd  %xmm1,%xmm0
"""


def test_division_counts_per_function_and_width():
    counts = division_bound.division_counts(DISASSEMBLY, {"f", "f_grad"})
    assert counts == {"f": dict(ymm=2, zmm=1, xmm=1, scalar=1),
                      "f_grad": dict(ymm=0, zmm=0, xmm=0, scalar=1)}


@pytest.mark.skipif(shutil.which("objdump") is None and shutil.which("llvm-objdump") is None,
                    reason="no objdump (binutils) or llvm-objdump")
def test_object_code_of_the_bessel_builds():
    counts = {}
    with tempfile.TemporaryDirectory() as d:
        for variant in ("exact", "xla"):
            prog = division_bound.rev_program(variant)
            c, grad = division_bound.object_divisions(prog, d)
            counts[variant] = (c["besselj2_batched"], c[grad])
    exact_primal, exact_grad = counts["exact"]
    xla_primal, _ = counts["xla"]
    # the exact series keeps one division per term k = 1..29 by k (k + 2),
    # but for k = 2 (a division by 8 is an exact multiplication by 0.125):
    # 28 per element, in whichever register width the JIT's vectoriser
    # picked
    assert sum(exact_primal.values()) >= 28
    assert sum(exact_grad.values()) >= 28
    assert sum(xla_primal.values()) == 0


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler")
def test_hand_written_schedules_compute_the_gradient():
    """bessel_schedule.c's two orders of the exact Bessel gradient (the
    peers division_bound.py times): J2'(x) against the closed form
    (J1 - J3) / 2 (SciPy) within 1e-12 of the largest entry, on inputs that
    exercise the pipelined loop, its first and its last step, and the two
    orders bit for bit the same."""
    import numpy as np
    from scipy import special
    x = np.random.default_rng(3).uniform(0.5, 8.0, 4 * 9)
    with tempfile.TemporaryDirectory() as d:
        kernels = division_bound.schedule_kernels(d)
        out = {}
        for name, kernel in kernels.items():
            xbar = np.full_like(x, 0.25)  # the gradient is added to Xb
            ybar = np.linspace(0.5, 2.0, x.size)
            kernel(x, ybar, xbar)
            out[name] = xbar
    want = 0.25 + ybar * (special.jv(1, x) - special.jv(3, x)) / 2
    for name, got in out.items():
        assert np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want)), name
    assert np.array_equal(out["plain"], out["pipelined"])
