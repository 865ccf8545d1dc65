"""pipeline_sweeps= (rev-to-llvm's pipeline-sweeps, --rev-pipeline-sweeps, on
by default): element loops whose forward part divides run as vector loops,
the next vector's forward part interleaved with the current one's backward
part. Exact: every element sees the same operations, so the results are bit
for bit those of pipeline_sweeps=False, at every length (the elements after
the last full vector run in the original loop) and vector width; and the
gradients agree with independent references (the closed form of J2', finite
differences)."""
import os
import subprocess

import numpy as np
import pytest
from scipy import special

from mlir_rev.jit import Program, RevError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REV_OPT = os.path.join(ROOT, "build", "bin", "rev-opt")
LENGTHS = (*range(18), 1001)


def source(name):
    with open(os.path.join(ROOT, "benchmarks", name)) as f:
        return f.read()


def scaled_bessel():
    """The batched Bessel series with every term's divisor scaled by a
    per-element D[i] (data: rev.const): the divisions read a second array
    that the loop does not write."""
    src = source("besselj2_batched.mlir")
    for old, new in [
        ("rev.func @besselj2_batched(%X: memref<?xf64>, %Y: memref<?xf64>)",
         "rev.func @scaled(%X: memref<?xf64>, %D: memref<?xf64> {rev.const}, %Y: memref<?xf64>)"),
        ("    %x = memref.load %X[%i] : memref<?xf64>\n",
         "    %x = memref.load %X[%i] : memref<?xf64>\n"
         "    %dd = memref.load %D[%i] : memref<?xf64>\n"),
        ("        %q = arith.divf %h2, %den : f64\n",
         "        %den2 = arith.mulf %den, %dd : f64\n"
         "        %q = arith.divf %h2, %den2 : f64\n"),
    ]:
        assert old in src
        src = src.replace(old, new)
    return src


def bessel_results(prog, x, yb):
    g = prog.gradient_names["besselj2_batched"]
    y, xb = np.full_like(x, 0.5), np.full_like(x, 0.25)
    yb = yb.copy()
    prog.call(g, x, y, xb, yb)
    y2 = np.zeros_like(x)
    prog.call("besselj2_batched", x, y2)
    return y, xb, yb, y2


@pytest.mark.parametrize("sweep_vector_bits,vector_width,divide",
                         [(None, None, True), (128, None, True), (256, None, False),
                          (512, 512, True), (1024, 128, False)])
def test_bessel_bit_for_bit_and_closed_form(sweep_vector_bits, vector_width, divide):
    on = Program(source("besselj2_batched.mlir"), grad=["besselj2_batched"],
                 vector_width=vector_width, sweep_vector_bits=sweep_vector_bits,
                 divide_by_constants=divide)
    off = Program(source("besselj2_batched.mlir"), grad=["besselj2_batched"],
                  vector_width=vector_width, pipeline_sweeps=False)
    for n in LENGTHS:
        rng = np.random.default_rng(n)
        x, yb = rng.uniform(0.5, 8.0, n), rng.uniform(0.5, 2.0, n)
        a, b = bessel_results(on, x, yb), bessel_results(off, x, yb)
        for u, v in zip(a, b):
            assert np.array_equal(u, v), n
        if n:
            # dJ2/dx = (J1 - J3) / 2, within 1e-12 of the largest entry
            want = 0.25 + yb * (special.jv(1, x) - special.jv(3, x)) / 2
            assert np.max(np.abs(a[1] - want)) <= 1e-12 * np.max(np.abs(want))
            np.testing.assert_allclose(a[3], special.jv(2, x), rtol=1e-12, atol=1e-14)


def test_divisor_from_a_second_array_against_finite_differences():
    src = scaled_bessel()
    on = Program(src, grad=["scaled"])
    off = Program(src, grad=["scaled"], pipeline_sweeps=False)
    g = on.gradient_names["scaled"]
    n = 37
    rng = np.random.default_rng(5)
    x, d = rng.uniform(0.5, 6.0, n), rng.uniform(0.5, 2.0, n)
    outs = []
    for p in (on, off):
        y, xb, db = np.zeros(n), np.zeros(n), np.zeros(n)
        p.call(g, x, d, y, xb, db, np.ones(n))
        outs.append(xb)
    assert np.array_equal(outs[0], outs[1])

    def f(x):
        y = np.zeros(n)
        on.call("scaled", x, d, y)
        return y

    h = 1e-6
    np.testing.assert_allclose(outs[0], (f(x + h) - f(x - h)) / (2 * h), rtol=1e-6, atol=1e-8)
    # it is pipelined: its gradient's lowered form holds the buffer
    lowered_src = subprocess.run([REV_OPT, "--rev-ad", "--rev-to-llvm"], input=src,
                                 capture_output=True, text=True, check=True).stdout
    grad_fn = lowered_src[lowered_src.index("llvm.func @scaled_grad("):]
    grad_fn = grad_fn[:grad_fn.index("llvm.func", 10)]
    assert "vector<16xf64>" in grad_fn and "llvm.alloca" in grad_fn


def lowered(*options):
    out = subprocess.run([REV_OPT, os.path.join(ROOT, "benchmarks", "besselj2_batched.mlir"),
                          "--rev-ad", "--rev-to-llvm=" + " ".join(options)],
                         capture_output=True, text=True, check=True).stdout
    return out


def test_the_gradient_is_pipelined_and_the_option_turns_it_off():
    # the two-slot buffer of carried vectors, 28 divisions' results and h2
    # (1024 bits by default: 16 lanes)
    buffers = [line for line in lowered().splitlines()
               if "llvm.alloca" in line and "vector<16xf64>" in line]
    assert buffers, "no pipelined loop in the lowered Bessel module"
    assert not [line for line in lowered("pipeline-sweeps=0").splitlines()
                if "llvm.alloca" in line and "vector<" in line]
    narrow = lowered("sweep-vector-bits=256")
    assert any("llvm.alloca" in line and "vector<4xf64>" in line for line in narrow.splitlines())


def test_the_flag_is_checked():
    with pytest.raises(RevError, match="pipeline_sweeps"):
        Program(source("besselj2_batched.mlir"), pipeline_sweeps="yes")
    with pytest.raises(RevError, match="divide_by_constants"):
        Program(source("besselj2_batched.mlir"), divide_by_constants=2)
    with pytest.raises(RevError, match="sweep_vector_bits"):
        Program(source("besselj2_batched.mlir"), sweep_vector_bits=2048)


def test_openmp_chunks_bit_for_bit():
    """target="openmp": the element loop a rev.parallel_for, split into
    chunks of 4096 elements, each pipelined; lengths around the chunk and
    vector boundaries, one and two threads, against the unpipelined
    program and the one-thread sequential one."""
    src = source("besselj2_batched.mlir").replace(
        "  rev.for %i = %c0 to %n step %c1 {\n", "  rev.parallel_for %i = %c0 to %n step %c1 {\n")
    assert "rev.parallel_for" in src
    progs = [Program(src, grad=["besselj2_batched"], target="openmp", num_threads=t,
                     pipeline_sweeps=pipe) for t in (1, 2) for pipe in (True, False)]
    seq = Program(source("besselj2_batched.mlir"), grad=["besselj2_batched"],
                  pipeline_sweeps=False)
    lowered_src = subprocess.run([REV_OPT, "--rev-ad", "--rev-to-openmp=num-threads=2"],
                                 input=src, capture_output=True, text=True, check=True).stdout
    assert any("llvm.alloca" in line and "vector<16xf64>" in line
               for line in lowered_src.splitlines())
    for n in (0, 3, 4095, 4096, 4097, 8195, 12289):
        rng = np.random.default_rng(n)
        x, yb = rng.uniform(0.5, 8.0, n), rng.uniform(0.5, 2.0, n)
        want = bessel_results(seq, x, yb)
        for p in progs:
            for u, v in zip(bessel_results(p, x, yb), want):
                assert np.array_equal(u, v), n


MATH_OPS = ["math.sin", "math.exp", "math.erf", "math.tanh", "math.cbrt", "math.log1p",
            "math.atan", "math.sqrt", "math.absf", "math.expm1", "math.cos", "math.log"]


def math_program():
    """Eight divisions per element, then math ops on their results (some
    lowered to LLVM intrinsics, some to libm calls, which split vector ops
    into scalar calls), powf and atan2, added into Y[i]."""
    lines = ["rev.func @m(%X: memref<?xf64>, %Y: memref<?xf64>) {",
             "  %c0 = arith.constant 0 : index", "  %c1 = arith.constant 1 : index",
             "  %n = memref.dim %X, %c0 : memref<?xf64>",
             "  %p = arith.constant 1.5 : f64"]
    lines += [f"  %d{k} = arith.constant {3.0 + k * 1.7} : f64" for k in range(8)]
    lines += ["  rev.for %i = %c0 to %n step %c1 {",
              "    %x = memref.load %X[%i] : memref<?xf64>"]
    lines += [f"    %q{k} = arith.divf %x, %d{k} : f64" for k in range(8)]
    acc = "%q0"
    for k, op in enumerate(MATH_OPS):
        lines += [f"    %m{k} = {op} %q{k % 8} : f64", f"    %a{k} = arith.addf {acc}, %m{k} : f64"]
        acc = f"%a{k}"
    lines += [f"    %pw = math.powf {acc}, %p : f64", "    %at = math.atan2 %pw, %q3 : f64",
              "    rev.add_at %Y[%i], %at : memref<?xf64>", "  }", "  rev.return", "}"]
    return "\n".join(lines) + "\n"


def test_math_ops_in_pipelined_loops():
    src = math_program()
    lowered_src = subprocess.run([REV_OPT, "--rev-ad", "--rev-to-llvm"], input=src,
                                 capture_output=True, text=True, check=True).stdout
    assert "vector.extract" not in lowered_src
    assert any("llvm.alloca" in line and "vector<16xf64>" in line
               for line in lowered_src.splitlines())
    on, off = Program(src, grad=["m"]), Program(src, grad=["m"], pipeline_sweeps=False)
    g = on.gradient_names["m"]
    for n in (0, 1, 5, 8, 13, 101):
        x = np.random.default_rng(n).uniform(0.5, 4.0, n)
        res = []
        for p in (on, off):
            y, xb = np.zeros(n), np.zeros(n)
            p.call("m", x, y)
            p.call(g, x, np.zeros(n), xb, np.ones(n))
            res.append((y, xb))
        assert np.array_equal(res[0][0], res[1][0]) and np.array_equal(res[0][1], res[1][1]), n
        if n:
            def f(x):
                y = np.zeros(n)
                on.call("m", x, y)
                return y
            h = 1e-6
            np.testing.assert_allclose(res[0][1], (f(x + h) - f(x - h)) / (2 * h),
                                       rtol=1e-5, atol=1e-7)
