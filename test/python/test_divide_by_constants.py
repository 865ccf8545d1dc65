"""divide_by_constants= (rev-to-llvm's divide-by-constants,
--rev-divide-by-constants, on by default): in the vector loops of
--rev-pipeline-sweeps a division by a constant c becomes a * RN(1/c) with one
or two FMA corrections, which the pass certifies per constant to give the
correctly rounded quotient. The reference is the IEEE division itself: NumPy's
x / c (bit for bit), and the same program with divide_by_constants=False.
The inputs are the hard cases (numerators whose quotient lies within a tiny
fraction of an ulp of a midpoint between two floats, where a * RN(1/c) alone is
wrong about one time in four), random numerators over the whole exponent range,
and the special values the guard sends to the division (zeros of both signs,
infinities, NaN, subnormals, the guard's bounds), mixed into the vectors."""
import os
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from mlir_rev.jit import Program

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REV_OPT = os.path.join(ROOT, "build", "bin", "rev-opt")

# 3 and 7 (f64) need one correction, 99 and 255 two (see the lit test);
# 1e30 is outside [2^-64, 2^64] and 0.25 a power of two: both keep their
# division.
CONSTANTS = {
    "f64": [3.0, 99.0, 7.0, 255.0, 0.1, -12345.678, 1.0 / 3.0, 6.02e17, 1e30, 0.25],
    "f32": [3.0, 99.0, 7.0, 255.0, 0.1, -12345.678, 1.0 / 3.0, 6.02e9, 1e30, 0.25],
}


def literal(c, ftype):
    """c as an MLIR float literal of its bits (exact, f64 or f32)."""
    bits = (np.array([c], np.float64).view(np.uint64)[0] if ftype == "f64"
            else np.array([c], np.float32).view(np.uint32)[0])
    return f"{int(bits):#x}"


def program(ftype, constants):
    """Y_k[i] += X[i] / c_k for each constant: an element loop whose forward
    part divides (--rev-pipeline-sweeps vectorises it)."""
    n = len(constants)
    args = ", ".join([f"%X: memref<?x{ftype}>"] + [f"%Y{k}: memref<?x{ftype}>" for k in range(n)])
    body = [f"    %x = memref.load %X[%i] : memref<?x{ftype}>"]
    for k, c in enumerate(constants):
        body.append(f"    %k{k} = arith.constant {literal(c, ftype)} : {ftype}")
        body.append(f"    %q{k} = arith.divf %x, %k{k} : {ftype}")
        body.append(f"    rev.add_at %Y{k}[%i], %q{k} : memref<?x{ftype}>")
    return (f"rev.func @divide({args}) {{\n"
            "  %c0 = arith.constant 0 : index\n"
            "  %c1 = arith.constant 1 : index\n"
            f"  %n = memref.dim %X, %c0 : memref<?x{ftype}>\n"
            "  rev.for %i = %c0 to %n step %c1 {\n" + "\n".join(body) + "\n  }\n"
            "  rev.return\n}\n")


def hard_numerators(c, count, rng, dtype):
    """Numerators a = RN(c * m) for midpoints m between two floats (and a's
    neighbours): a / c lies within a fraction of an ulp of m."""
    c = Fraction(float(dtype(c)))
    ints = np.int64 if dtype == np.float64 else np.int32
    out = []
    for _ in range(count):
        q = dtype(rng.uniform(1.0, 2.0)) * dtype(2.0) ** int(rng.integers(-30, 30))
        m = Fraction(float(q)) + Fraction(float(np.spacing(q))) / 2
        with np.errstate(over="ignore"):  # rounded once or twice: near m anyway
            a = np.array([float(c * m)], np.float64).astype(dtype)
        out.append((a.view(ints) + int(rng.integers(-2, 3))).view(dtype)[0])
    return np.array(out, dtype=dtype)


def specials(dtype):
    info = np.finfo(dtype)
    lo, hi = (2.0 ** -788, 2.0 ** 955) if dtype == np.float64 else (2.0 ** -46, 2.0 ** 107)
    vals = [0.0, -0.0, np.inf, -np.inf, np.nan, info.tiny, -info.tiny, info.tiny / 8,
            info.max, -info.max, lo, -lo, np.nextafter(dtype(lo), dtype(0)), hi, -hi,
            np.nextafter(dtype(hi), dtype(np.inf)), 1.0, -1.0, info.eps]
    return np.array(vals, dtype=dtype)


def same(u, v):
    """Bit for bit, NaNs compared as NaNs."""
    nan = np.isnan(u)
    return np.array_equal(nan, np.isnan(v)) and np.array_equal(
        u[~nan].view(np.uint64 if u.dtype == np.float64 else np.uint32),
        v[~nan].view(np.uint64 if v.dtype == np.float64 else np.uint32))


def run(prog, x, count):
    ys = [np.zeros_like(x) for _ in range(count)]
    prog.call("divide", x, *ys)
    return ys


@pytest.mark.parametrize("ftype", ["f64", "f32"])
def test_bit_for_bit_the_divisions(ftype):
    dtype = np.float64 if ftype == "f64" else np.float32
    constants = CONSTANTS[ftype]
    src = program(ftype, constants)
    on = Program(src)
    off = Program(src, divide_by_constants=False)
    rng = np.random.default_rng(11)
    parts = [hard_numerators(c, 400, rng, dtype) for c in constants]
    wide = (rng.uniform(1.0, 2.0, 4000) * 2.0 ** rng.integers(-900, 900, 4000)
            * rng.choice([-1.0, 1.0], 4000))
    if dtype == np.float32:
        wide = (rng.uniform(1.0, 2.0, 4000) * 2.0 ** rng.integers(-140, 120, 4000)).astype(np.float32)
    parts.append(wide.astype(dtype))
    x = np.concatenate(parts)
    # special values: scattered single lanes (the vector around one takes the
    # division) and a run of them
    sp = specials(dtype)
    x[rng.choice(len(x) - 64, len(sp), replace=False)] = sp
    x = np.concatenate([x, sp, np.full(37, 3.0, dtype)])
    for n in (len(x), 1, 17, 1001):
        xs = x[:n] if n != 1001 else x[-1001:]
        got, base = run(on, xs, len(constants)), run(off, xs, len(constants))
        with np.errstate(all="ignore"):
            for k, c in enumerate(constants):
                want = dtype(0) + xs / dtype(c)
                assert same(got[k], want), (ftype, c, n)
                assert same(base[k], want), (ftype, c, n)


def test_the_loop_has_no_divisions_left_but_the_guarded_ones():
    src = program("f64", CONSTANTS["f64"][:8])
    out = subprocess.run([REV_OPT, "--rev-to-llvm", "-mlir-print-ir-after=rev-divide-by-constants",
                          "-o", os.devnull], input=src, capture_output=True, text=True,
                         check=True).stderr
    # the pipelined loop: its vector divisions only in the else branches
    assert "math.fma" in out and "vector.reduction <and>" in out
    off = subprocess.run([REV_OPT, "--rev-to-llvm=divide-by-constants=0",
                          "-mlir-print-ir-before=convert-scf-to-cf", "-o", os.devnull],
                         input=src, capture_output=True, text=True, check=True).stderr
    assert "math.fma" not in off
