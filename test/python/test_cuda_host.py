"""The CUDA host path of mlir_rev (target="cuda", mlir_rev.cuda) end to end,
on a machine without a GPU: a stand-in driver library (fake_cuda_driver.c,
compiled here into libcuda.so.1, first on LD_LIBRARY_PATH of a subprocess)
implements the cu* calls with host memory and logs module loads, launches
(grid and block sizes) and copies. Kernels do not run there, so these tests
check what the host does: the launch grids, the copies in and out, the
accumulator of a reduction (its init value comes back unchanged), the
target's options; and the host code of a rev function, which does run (on
"managed" memory, host malloc here), against NumPy. The numbers of the
kernels need a real GPU: scripts/device_check.py.
"""
import ctypes.util
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PKG = os.path.join(ROOT, "build", "python_packages", "rev")
KERNELS = os.path.join(ROOT, "test", "conversion", "Inputs", "gpu-kernels.mlir")


@pytest.fixture(scope="module")
def fake_driver(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the stand-in driver")
    d = tmp_path_factory.mktemp("fakecuda")
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(d / "libcuda.so.1"),
                    os.path.join(HERE, "fake_cuda_driver.c")], check=True)
    return d


def run(script, libdir, log=None, extra_env=None, timeout=300):
    """Runs `script` in a fresh interpreter with `libdir` first on the library
    path; returns (completed process, log lines)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PKG, HERE, env.get("PYTHONPATH")) if p)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in (str(libdir), env.get("LD_LIBRARY_PATH")) if p)
    if log is not None:
        env["REV_FAKE_CUDA_LOG"] = str(log)
    env.update(extra_env or {})
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                       timeout=timeout)
    lines = open(log).read().splitlines() if log is not None and os.path.exists(log) else []
    return p, lines


def result(p):
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def launches(lines):
    return [l.split() for l in lines if l.startswith("launch ")]


PRELUDE = f"""
import json, numpy as np
from mlir_rev import cuda
from mlir_rev.jit import Program, RevError
src = open({KERNELS!r}).read()
"""


def test_kernel_grids_and_copies(fake_driver, tmp_path):
    log = tmp_path / "log"
    p, lines = run(PRELUDE + """
m = cuda.Module(src, chip="sm_90")
n = 1000
x = np.linspace(0.0, 1.0, n); y = np.arange(n, dtype=np.float64); y0 = y.copy()
a = m.call("axpy2", 2.0, x, y)
abar = m.call("axpy2_abar", 2.5, x, y)
val = np.ones(10000); row = np.zeros(10000, np.int64); col = np.arange(10000, dtype=np.int64)
xbar = np.zeros(10000)
none = m.call("spmv_t", val, row, col, np.ones(4), xbar)
print(json.dumps({"a": a, "abar": abar, "none": none, "y_same": bool((y == y0).all())}))
""", fake_driver, log)
    r = result(p)
    # No kernel ran: the forward returns its scalar, the reduction its init
    # value (the accumulator went to the device and back), y comes back as it
    # went (copied in, copied out).
    assert r == {"a": 2.0, "abar": 2.5, "none": None, "y_same": True}
    # One module per kernel, loaded as PTX for sm_90 (format=isa).
    loads = [l for l in lines if l.startswith("module_load")]
    assert len(loads) == 3 and all(".target sm_90" in l for l in loads), loads
    ls = launches(lines)
    assert [l[1] for l in ls] == ["axpy2_kernel", "axpy2_abar_kernel", "spmv_t_kernel"]
    # ceil(1000 / 256) = 4 blocks of 256; ceil(10000 / 256) = 40.
    assert ls[0][2:10] == ["grid", "4", "1", "1", "block", "256", "1", "1"]
    assert ls[1][2:10] == ["grid", "4", "1", "1", "block", "256", "1", "1"]
    assert ls[2][2:10] == ["grid", "40", "1", "1", "block", "256", "1", "1"]
    # Copies: axpy2: x and y in (8000 bytes each) and out; axpy2_abar: the
    # same, plus the accumulator (8 bytes) in and out around its launch.
    i0, i1, i2 = (lines.index(" ".join(l)) for l in ls)
    first = lines[:i0]
    assert first.count("alloc_managed 8000") == 2 and first.count("memcpy 8000") == 2
    between = lines[i0:i1]
    assert between.count("memcpy 8000") == 2 + 2  # y, x back; x, ybar in
    assert between.count("memcpy 8") == 1 and between.count("alloc 8") == 1
    after = lines[i1:i2]
    assert after.count("memcpy 8") == 1  # the accumulator back
    assert "free" in after


def test_block_size_and_chip(fake_driver, tmp_path):
    log = tmp_path / "log"
    p, lines = run(PRELUDE + """
m = cuda.Module(src, chip="sm_80", block_size=128)
m.call("axpy2_abar", 0.0, np.ones(1000), np.ones(1000))
empty = m.call("axpy2_abar", 3.25, np.zeros(0), np.zeros(0))
m.call("axpy2", 1.0, np.zeros(0), np.zeros(0))
print(json.dumps(empty))
""", fake_driver, log)
    assert result(p) == 3.25  # an empty range: the init value
    assert all(".target sm_80" in l for l in lines if l.startswith("module_load"))
    ls = launches(lines)
    assert ls[0][1:10] == ["axpy2_abar_kernel", "grid", "8", "1", "1", "block", "128", "1", "1"]
    # Empty: the reduction launches one block (all threads out of range), the
    # elementwise loop no kernel (CUDA rejects a grid of 0 blocks).
    assert ls[1][1:10] == ["axpy2_abar_kernel", "grid", "1", "1", "1", "block", "128", "1", "1"]
    assert len(ls) == 2


def test_device_arrays_stay_on_the_device(fake_driver, tmp_path):
    log = tmp_path / "log"
    p, lines = run(PRELUDE + """
m = cuda.Module(src)
x = cuda.to_device(np.full(512, 3.0)); y = cuda.to_device(np.zeros(512))
print("CALLS", flush=True)
open(__import__("os").environ["REV_FAKE_CUDA_LOG"], "a").write("CALLS\\n")
m.call("axpy2", 1.0, x, y); m.call("axpy2", 1.0, x, y)
open(__import__("os").environ["REV_FAKE_CUDA_LOG"], "a").write("BACK\\n")
back = y.to_numpy()
iface = x.__cuda_array_interface__
print(json.dumps({"back": back[:3].tolist(), "shape": list(iface["shape"]),
                  "typestr": iface["typestr"], "ptr": iface["data"][0] == x.ptr,
                  "repr": repr(x)}))
""", fake_driver, log)
    r = result(p)
    assert r["back"] == [0.0, 0.0, 0.0] and r["shape"] == [512] and r["typestr"] == "<f8"
    assert r["ptr"] and r["repr"] == "DeviceArray(shape=(512,), dtype=float64)"
    calls = lines[lines.index("CALLS"):lines.index("BACK")]
    # Two launches of 2 blocks, and no copy of the arrays in between.
    assert [l[:6] for l in launches(calls)] == [["launch", "axpy2_kernel", "grid", "2", "1", "1"]] * 2
    assert not [l for l in calls if l.startswith("memcpy") or l.startswith("alloc_managed")]
    assert lines[lines.index("BACK") + 1] == "memcpy 4096"


REV_SAXPY = """
rev.func @saxpy(%a: f64, %x: memref<?xf64>, %y: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %xi = memref.load %x[%i] : memref<?xf64>
    %t = arith.mulf %a, %xi : f64
    rev.add_at %y[%i], %t : memref<?xf64>
  }
  rev.return %a : f64
}
"""


def test_program_target_cuda_host_code(fake_driver, tmp_path):
    """Program(target="cuda"): host code (a sequential rev.for) runs on the
    managed buffers; the NumPy arrays are copied in and back; the inverse and
    the gradient go the same way."""
    log = tmp_path / "log"
    p, lines = run(PRELUDE + f"""
prog = Program({REV_SAXPY!r}, target="cuda", chip="sm_80", grad=["saxpy"])
x = np.linspace(-1, 1, 7); y = np.cos(x); y0 = y.copy()
prog.call("saxpy", 0.5, x, y)
fwd_err = float(abs(y - (y0 + 0.5 * x)).max())
prog.uncall("saxpy", 0.5, x, y)
inv_err = float(abs(y - y0).max())
dx = cuda.to_device(x); dy = cuda.to_device(y0)
prog.call("saxpy", 2.0, dx, dy)
dev_err = float(abs(dy.to_numpy() - (y0 + 2.0 * x)).max())
print(json.dumps([fwd_err, inv_err, dev_err]))
""", fake_driver, log)
    fwd_err, inv_err, dev_err = result(p)
    assert fwd_err <= 1e-15 and inv_err <= 1e-15 and dev_err <= 1e-15
    assert "alloc_managed 56" in lines and "memcpy 56" in lines


def test_program_options_are_checked(fake_driver, tmp_path):
    p, _ = run(PRELUDE + f"""
out = []
for kw in (dict(target="tpu"), dict(target="cuda", chip="sm_1x"),
           dict(target="cuda", gpu_format="elf"), dict(target="cuda", block_size=0)):
    try:
        Program({REV_SAXPY!r}, **kw)
        out.append("no error")
    except RevError as e:
        out.append(str(e))
print(json.dumps(out))
""", fake_driver)
    r = result(p)
    assert r[0] == "target must be one of 'cpu', 'openmp', 'cuda', got 'tpu'"
    assert r[1].startswith("chip must be an NVIDIA architecture")
    assert r[2].startswith("gpu_format must be one of 'isa', 'bin', 'fatbin'")
    assert r[3] == "block_size must be an integer in 1..1024, got 0"


def test_host_buffer_in_a_kernel_is_a_located_error(fake_driver, tmp_path):
    p, _ = run(PRELUDE + """
bad = '''
func.func @f(%x: memref<?xf64>, %n: index) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %t = memref.alloc(%n) : memref<?xf64>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %a = memref.load %x[%i] : memref<?xf64>
    memref.store %a, %t[%i] : memref<?xf64>
    scf.reduce
  }
  %v = memref.load %t[%c0] : memref<?xf64>
  memref.store %v, %x[%c0] : memref<?xf64>
  memref.dealloc %t : memref<?xf64>
  return
}'''
try:
    cuda.Module(bad)
    print(json.dumps("no error"))
except RevError as e:
    print(json.dumps(str(e)))
""", fake_driver)
    msg = result(p)
    assert "uses a buffer of the host" in msg and 'loc("-":8:5)' in msg and 'the buffer is defined here' in msg, msg


def test_no_device_raises(fake_driver, tmp_path):
    p, _ = run(PRELUDE + f"""
try:
    Program({REV_SAXPY!r}, target="cuda")
    print(json.dumps("no error"))
except RevError as e:
    print(json.dumps(str(e)))
""", fake_driver, extra_env={"REV_FAKE_CUDA_DEVICES": "0"})
    assert result(p).startswith("no CUDA device: cuInit(0) failed")


def test_no_driver_raises(tmp_path):
    """Without libcuda.so.1: RevError, not an abort of the process (the
    driver is probed before the runtime wrappers are loaded)."""
    if ctypes.util.find_library("cuda"):
        pytest.skip("this machine has a CUDA driver")
    p, _ = run(PRELUDE + f"""
msg = "no error"
try:
    Program({REV_SAXPY!r}, target="cuda")
except RevError as e:
    msg = str(e)
print(json.dumps([cuda.driver_available(), msg]))
""", tmp_path)
    available, msg = result(p)
    assert available is False
    assert msg.startswith("no CUDA driver: libcuda.so.1 cannot be loaded"), msg


def test_checked_mode_host_check(fake_driver, tmp_path):
    """target="cuda" with checks=True: a failed check in the host code raises
    RevError with its rule and location (check-lowering=runtime, as on the
    CPU), and the NumPy arrays keep their values (no copy back)."""
    src = """
rev.func @scale(%d: f64, %x: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    rev.div_at %x[%i], %d : memref<?xf64>
  }
  rev.return %d : f64
}
"""
    p, lines = run(PRELUDE + f"""
prog = Program({src!r}, target="cuda", checks=True)
x = np.arange(1.0, 6.0)
prog.call("scale", 2.0, x)
ok = x.tolist()
try:
    prog.call("scale", 0.0, x)
    err = None
except RevError as e:
    err = [e.rule, e.op, e.location]
print(json.dumps([ok, err, x.tolist()]))
""", fake_driver, tmp_path / "log")
    ok, err, after = result(p)
    assert ok == [0.5, 1.0, 1.5, 2.0, 2.5]
    assert err is not None and err[0] == "zero divisor" and err[1] == "rev.div_at", err
    assert after == ok


def test_bad_arguments_raise(fake_driver, tmp_path):
    p, _ = run(PRELUDE + """
m = cuda.Module(src)
out = []
for args in (("nope",), ("axpy2", 1.0, np.ones(3)),
             ("axpy2", 1.0, np.ones(3), np.ones(3, np.float32)),
             ("axpy2", 1.0, cuda.to_device(np.ones(3, np.int64)), np.ones(3)),
             ("axpy2", 1.0, [1.0], np.ones(3)),
             ("axpy2", "a", np.ones(3), np.ones(3)),
             ("spmv_t", np.ones(2), np.ones((2, 2), np.int64), np.zeros(2, np.int64),
              np.ones(2), np.ones(2))):
    try:
        m.call(*args)
        out.append("no error")
    except RevError as e:
        out.append(str(e))
print(json.dumps(out))
""", fake_driver)
    r = result(p)
    assert r[0].startswith("no public func.func named @nope")
    assert r[1] == "@axpy2 takes 3 arguments, got 2"
    assert r[2] == "argument #2 of @axpy2 must have dtype float64, got float32"
    assert r[3] == "argument #1 of @axpy2 must have dtype float64, got int64"
    assert r[4].startswith("argument #1 of @axpy2 must be a NumPy array or a DeviceArray")
    assert r[5].startswith("argument #0 of @axpy2 must be a number")
    assert r[6] == "argument #1 of @spmv_t must have shape ?, got (2, 2)"


REV_PARALLEL = """
rev.func @scaled(%a: f64, %X: memref<?xf64>, %Y: memref<?xf64>, %b: memref<?xindex>,
                 %H: memref<?xf64>, %s: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.parallel_for %i = %c0 to %n step %c1 reduce(%acc = %s) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %d = arith.mulf %a, %x : f64
    rev.add_at %Y[%i], %d : memref<?xf64>
    %k = memref.load %b[%i] : memref<?xindex>
    rev.add_at %H[%k], %x : memref<?xf64>
    %acc1 = rev.add %acc, %d : f64
    rev.yield %acc1 : f64
  }
  rev.return %a, %r : f64, f64
}
"""


def test_program_target_cuda_parallel_loop_and_its_gradient(fake_driver, tmp_path):
    """A rev.parallel_for (own-element writes, a shared scatter, a sum) and its
    gradient through Program(target="cuda"): the forward is one kernel launch
    (a block reduction for the sum), the gradient the forward's kernel then
    the backward sweep's, each over ceil(n / 256) blocks."""
    log = tmp_path / "log"
    p, lines = run(PRELUDE + f"""
prog = Program({REV_PARALLEL!r}, target="cuda", grad=["scaled"])
n = 1000
X = np.linspace(-1, 1, n); Y = np.zeros(n); b = np.arange(n, dtype=np.int64) % 7
H = np.zeros(7)
r = prog.call("scaled", 0.5, X, Y, b, H, 0.25)
g = prog.call(prog.gradient_names["scaled"], 0.5, X, Y, b, H, 0.25, 0.0, 1.0,
              np.zeros(n), np.zeros(n), np.zeros(7))
print(json.dumps([list(r), list(g)]))
""", fake_driver, log)
    r, g = result(p)
    # No kernel runs with the stand-in driver: the sum comes back as its init.
    assert r == [0.5, 0.25]
    ls = launches(lines)
    assert [l[1] for l in ls] == ["scaled_kernel", "scaled_kernel", "scaled_bwd_kernel"]
    assert all(l[2:10] == ["grid", "4", "1", "1", "block", "256", "1", "1"] for l in ls)
