"""The NVIDIA GPU target: `Program(source, target="cuda", chip="sm_90")`.

The `rev-to-gpu` pipeline (passes/GpuPipeline.cpp) turns the parallel loops
into GPU kernels (PTX by default, which the driver compiles when the module
is loaded) and the rest of each function into host code that calls the MLIR
CUDA runtime wrappers (`libmlir_cuda_runtime.so`, `mgpu*`), JIT-compiled on
the ExecutionEngine as for the CPU.

Memory model: every memref argument is CUDA managed memory
(`cuMemAllocManaged`), reachable from the kernels and from the host code of
the function alike, so a function may touch its arrays outside its parallel
loops too. A NumPy array argument is copied into a managed buffer before the
call and back after it (it is updated in place, as on the CPU); a
`DeviceArray` (`to_device(a)`, `DeviceArray.empty(shape, dtype)`) stays on the
device across calls, with no copy, until `to_numpy()`. Buffers that the host
code allocates itself cannot be used by a kernel: `rev-to-gpu` rejects that
with a located error (--rev-gpu-prepare).

The driver is probed with ctypes before anything loads the runtime wrappers
(an ExecutionEngine that cannot load a library aborts the process): without
`libcuda.so.1`, or without a device, `RevError("no CUDA driver ...")` /
`RevError("no CUDA device ...")`.

`Module(text, chip=...)` compiles standard-dialect MLIR (func.func with
`llvm.emit_c_interface`, scf.parallel loops as `--lower-rev` produces them)
with the same pipeline, for kernels written at that level.
"""

from __future__ import annotations

import ctypes
import os
import re

import numpy as np

from .execution_engine import ExecutionEngine
from .ir import Context, FunctionType, Location, MemRefType, MLIRError, ShapedType
from .ir import Module as _IRModule
from .jit import (_CTYPES, RevError, _Arg, _check_shared_libs, _format, _is_int, _memref_type,
                  parse_module,
                  _mlir_lib_dir, _results_type, _elem_name)

__all__ = ["DeviceArray", "Module", "Target", "to_device", "driver_available"]

FORMATS = ("isa", "bin", "fatbin")
_CHIP = re.compile(r"sm_[0-9]{2,3}a?\Z")


def _runtime_lib_path() -> str:
    return os.path.join(_mlir_lib_dir(), "libmlir_cuda_runtime.so")


# -- the driver -----------------------------------------------------------------
_driver = None
_context = None


def _error_name(lib, rc: int) -> str:
    name = ctypes.c_char_p()
    try:
        if lib.cuGetErrorName(rc, ctypes.byref(name)) == 0 and name.value:
            return name.value.decode()
    except AttributeError:
        pass
    return f"CUDA error {rc}"


def probe_driver():
    """The NVIDIA driver library, initialised (once), else RevError. Call it
    before anything loads libmlir_cuda_runtime.so."""
    global _driver
    if _driver is not None:
        return _driver
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError as e:
        raise RevError(f"no CUDA driver: libcuda.so.1 cannot be loaded ({e}); target='cuda' "
                       f"needs the NVIDIA driver and a GPU") from None
    for sym in ("cuInit", "cuDeviceGetCount", "cuDeviceGet", "cuDevicePrimaryCtxRetain",
                "cuCtxPushCurrent_v2", "cuCtxPopCurrent_v2", "cuCtxSynchronize"):
        if not hasattr(lib, sym):
            raise RevError(f"no CUDA driver: libcuda.so.1 has no {sym}")
    rc = lib.cuInit(0)
    if rc != 0:
        raise RevError(f"no CUDA device: cuInit(0) failed with {_error_name(lib, rc)}")
    n = ctypes.c_int(0)
    rc = lib.cuDeviceGetCount(ctypes.byref(n))
    if rc != 0 or n.value < 1:
        raise RevError(f"no CUDA device: the driver reports {n.value} devices "
                       f"({_error_name(lib, rc) if rc else 'none'})")
    _driver = lib
    return lib


def driver_available() -> bool:
    """Whether a CUDA driver with a device is there (probe_driver succeeds)."""
    try:
        probe_driver()
        return True
    except RevError:
        return False


def synchronize(what: str):
    """Waits for the device (device 0's primary context, the one the runtime
    wrappers use); a kernel that failed (a failed check in a kernel is a device
    assert: CUDA_ERROR_ASSERT) raises RevError here."""
    global _context
    lib = probe_driver()
    if _context is None:
        dev, ctx = ctypes.c_int(0), ctypes.c_void_p()
        rc = lib.cuDeviceGet(ctypes.byref(dev), 0) or lib.cuDevicePrimaryCtxRetain(
            ctypes.byref(ctx), dev)
        if rc:
            raise RevError(f"CUDA: no context for device 0 ({_error_name(lib, rc)})")
        _context = ctx
    lib.cuCtxPushCurrent_v2(_context)
    rc = lib.cuCtxSynchronize()
    lib.cuCtxPopCurrent_v2(ctypes.byref(ctypes.c_void_p()))
    if rc:
        raise RevError(f"CUDA error {_error_name(lib, rc)} in {what} (a failed rev check in a "
                       f"kernel is a device assert, CUDA_ERROR_ASSERT, and its message is on "
                       f"stderr); the CUDA context cannot be used any more in this process")


# -- the runtime wrappers ---------------------------------------------------------
_runtime = None
_stream = None


def runtime():
    """libmlir_cuda_runtime.so through ctypes (after probing the driver)."""
    global _runtime, _stream
    if _runtime is None:
        probe_driver()
        path = _runtime_lib_path()
        _check_shared_libs([path])
        lib = ctypes.CDLL(path)
        lib.mgpuMemAlloc.argtypes = [ctypes.c_uint64, ctypes.c_void_p, ctypes.c_bool]
        lib.mgpuMemAlloc.restype = ctypes.c_void_p
        lib.mgpuMemFree.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.mgpuMemcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                   ctypes.c_void_p]
        lib.mgpuStreamCreate.restype = ctypes.c_void_p
        lib.mgpuStreamSynchronize.argtypes = [ctypes.c_void_p]
        _stream = lib.mgpuStreamCreate()
        _runtime = lib
    return _runtime


def _copy(dst: int, src: int, nbytes: int):
    if nbytes:
        lib = runtime()
        lib.mgpuMemcpy(dst, src, nbytes, _stream)
        lib.mgpuStreamSynchronize(_stream)


class DeviceArray:
    """An array in CUDA managed memory, for data that stays on the device
    across calls: pass it where a NumPy array goes (no copy), read it back with
    `to_numpy()`. `__cuda_array_interface__` (version 3) lets CuPy, Numba or
    PyTorch use it without a copy. Freed when it is garbage-collected."""

    def __init__(self, shape, dtype):
        self.shape = tuple(int(d) for d in shape)
        if any(d < 0 for d in self.shape):
            raise RevError(f"DeviceArray: negative dimension in {shape!r}")
        self.dtype = np.dtype(dtype)
        self.nbytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        lib = runtime()
        self._lib = lib
        self.ptr = lib.mgpuMemAlloc(self.nbytes, _stream, True) or 0
        if self.nbytes and not self.ptr:
            raise RevError(f"DeviceArray: cannot allocate {self.nbytes} bytes of managed memory")

    @classmethod
    def empty(cls, shape, dtype=np.float64) -> "DeviceArray":
        """An uninitialised device array."""
        return cls(shape, dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def copy_from(self, a: np.ndarray):
        """Copies the NumPy array a (same shape and dtype) to the device."""
        a = np.ascontiguousarray(a)
        if a.shape != self.shape or a.dtype != self.dtype:
            raise RevError(f"DeviceArray.copy_from: expected {self.shape} {self.dtype}, got "
                           f"{a.shape} {a.dtype}")
        _copy(self.ptr, a.ctypes.data, self.nbytes)

    def to_numpy(self) -> np.ndarray:
        """A NumPy copy of the array."""
        out = np.empty(self.shape, self.dtype)
        _copy(out.ctypes.data, self.ptr, self.nbytes)
        return out

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self.ptr, False),
                "strides": None, "version": 3}

    def __del__(self):
        ptr, self.ptr = getattr(self, "ptr", 0), 0
        if ptr:
            self._lib.mgpuMemFree(ptr, None)

    def __repr__(self):
        return f"DeviceArray(shape={self.shape}, dtype={self.dtype.name})"


def to_device(a) -> DeviceArray:
    """A DeviceArray holding a copy of the NumPy array a."""
    a = np.asarray(a)
    d = DeviceArray(a.shape, a.dtype)
    d.copy_from(a)
    return d


# -- the target -------------------------------------------------------------------
class Target:
    """The options of target='cuda' (validated) and the memref staging of a
    call: NumPy arrays to managed buffers and back, DeviceArrays as they are."""

    def __init__(self, chip="sm_90", format="isa", features="+ptx80", block_size=256):
        if not (isinstance(chip, str) and _CHIP.match(chip)):
            raise RevError(f"chip must be an NVIDIA architecture such as 'sm_80' or 'sm_90', "
                           f"got {chip!r}")
        if format not in FORMATS:
            raise RevError(f"gpu_format must be one of {', '.join(map(repr, FORMATS))}, got "
                           f"{format!r}")
        if not (isinstance(features, str) and re.fullmatch(r"(\+ptx[0-9]{2,3})?", features)):
            raise RevError(f"gpu_features must be '' or '+ptxNN' (e.g. '+ptx80'), got "
                           f"{features!r}")
        if not (_is_int(block_size) and 1 <= block_size <= 1024):
            raise RevError(f"block_size must be an integer in 1..1024, got {block_size!r}")
        self.chip, self.format, self.features = chip, format, features
        self.block_size = int(block_size)

    def pipeline_options(self) -> str:
        """rev-to-gpu's target options."""
        return (f"chip={self.chip} format={self.format} block-size={self.block_size}" +
                (f" features={self.features}" if self.features else ""))

    def shared_libs(self) -> list:
        """The runtime wrappers, after the driver probe (RevError without one)."""
        runtime()
        return [_runtime_lib_path()]

    @staticmethod
    def initialize(engine):
        """Runs the global constructors of the JIT-compiled module, which
        load the kernel modules (mgpuModuleLoad/JIT): the ExecutionEngine of
        the Python bindings does not run them by itself. A load that failed
        (PTX the driver rejects) raises RevError here."""
        engine.initialize()
        synchronize("loading the kernels")

    def check_array(self, where: str, a: _Arg, v):
        """A DeviceArray argument of the right dtype and shape, else RevError."""
        dtype = np.dtype(_CTYPES[a.type][1])
        if v.dtype != dtype:
            raise RevError(f"{where} must have dtype {dtype.name}, got {v.dtype}")
        if v.ndim != len(a.shape) or any(d is not None and d != s
                                         for d, s in zip(a.shape, v.shape)):
            want = "x".join("?" if d is None else str(d) for d in a.shape)
            raise RevError(f"{where} must have shape {want}, got {v.shape}")

    @staticmethod
    def is_device_array(v) -> bool:
        return isinstance(v, DeviceArray)

    def call(self, run, symbol: str, staged: list):
        """run() (the call of @symbol), then wait for the device (a failed
        kernel raises RevError) and copy the staged arrays back; after an
        error they are left as they were before the call."""
        ok = False
        try:
            run()
            synchronize(f"the call of @{symbol}")
            ok = True
        finally:
            self.unstage(staged, copy_back=ok)

    def pack(self, v, ctype, staged: list):
        """The packed argument (pointer to pointer to descriptor) of memref
        argument v; a NumPy array is copied to a managed buffer, recorded in
        `staged` for `unstage`."""
        if isinstance(v, DeviceArray):
            d = v
        else:
            d = to_device(v)
            staged.append((v, d))
        desc = _memref_type(len(d.shape), ctype)()
        desc.allocated = d.ptr
        desc.aligned = ctypes.cast(ctypes.c_void_p(d.ptr), ctypes.POINTER(ctype))
        desc.offset = 0
        stride = 1
        for k in range(len(d.shape) - 1, -1, -1):
            desc.shape[k] = d.shape[k]
            desc.strides[k] = stride
            stride *= d.shape[k]
        return ctypes.pointer(ctypes.pointer(desc))

    @staticmethod
    def unstage(staged: list, copy_back: bool):
        """After a call: the managed buffers back into their NumPy arrays."""
        for v, d in staged:
            if copy_back:
                _copy(v.ctypes.data, d.ptr, d.nbytes)
        staged.clear()


# -- standard-dialect modules -------------------------------------------------------
_PACKED_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class Module:
    """Standard-dialect MLIR (func.func with `llvm.emit_c_interface`, memref,
    scf.parallel ...) compiled with `rev-to-gpu` and JIT-compiled:
    `Module(text, chip="sm_90").call("f", *args)` returns the function's
    results (one value, a tuple, or None) and updates NumPy memref arguments
    in place."""

    def __init__(self, source: str, *, chip="sm_90", format="isa", features="+ptx80",
                 block_size=256, opt_level=3):
        self.target = Target(chip, format, features, block_size)
        if not (_is_int(opt_level) and 0 <= opt_level <= 3):
            raise RevError(f"opt_level must be an integer in 0..3, got {opt_level!r}")
        if not isinstance(source, str):
            raise RevError(f"source must be MLIR text, got {type(source).__name__}")
        self._ctx = Context()
        with self._ctx, Location.unknown():
            self.module = parse_module(source, "invalid MLIR")
            self.signatures = {}
            for op in self.module.body.operations:
                if op.operation.name == "func.func" and "sym_visibility" not in op.attributes \
                        and len(op.regions[0].blocks):
                    self.signatures[op.attributes["sym_name"].value] = self._signature(op)
            from .passmanager import PassManager
            pipeline = f"builtin.module(rev-to-gpu{{{self.target.pipeline_options()}}})"
            try:
                PassManager.parse(pipeline).run(self.module.operation)
            except (MLIRError, ValueError) as e:
                msg = _format(e) if isinstance(e, MLIRError) else str(e)
                raise RevError("lowering failed:\n" + msg) from None
            libdir = _mlir_lib_dir()
            libs = [os.path.join(libdir, n) for n in
                    ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so")]
            _check_shared_libs(libs)
            libs += self.target.shared_libs()
            try:
                self._engine = ExecutionEngine(self.module, opt_level=int(opt_level),
                                               shared_libs=libs)
                self.target.initialize(self._engine)
            except RevError:
                raise
            except Exception as e:
                msg = _format(e) if isinstance(e, MLIRError) else str(e)
                raise RevError("JIT compilation failed:\n" + msg) from None

    @staticmethod
    def _signature(op):
        ftype = FunctionType(op.attributes["function_type"].value)
        args = []
        for t in ftype.inputs:
            if isinstance(t, MemRefType):
                dyn = ShapedType.get_dynamic_size()
                args.append(_Arg("memref", _elem_name(t.element_type),
                                 tuple(None if d == dyn else d for d in t.shape)))
            else:
                args.append(_Arg("scalar", _elem_name(t)))
        results = [_elem_name(t) for t in ftype.results]
        if any(isinstance(t, MemRefType) for t in ftype.results):
            raise RevError("Module: functions returning memrefs are not supported")
        return args, results

    def call(self, name: str, *args):
        from .jit import Program
        if name not in self.signatures:
            raise RevError(f"no public func.func named @{name} (the module has "
                           f"{', '.join('@' + n for n in self.signatures) or 'none'})")
        params, results = self.signatures[name]
        if len(args) != len(params):
            raise RevError(f"@{name} takes {len(params)} arguments, got {len(args)}")

        class _Sig:  # what Program._scalar reads
            pass
        sig = _Sig()
        sig.name = name
        packed, staged = [], []
        for i, (a, v) in enumerate(zip(params, args)):
            ctype, dtype = _CTYPES[a.type]
            if a.kind == "scalar":
                packed.append(ctypes.pointer(Program._scalar(sig, i, a, v)))
                continue
            where = f"argument #{i} of @{name}"
            if isinstance(v, np.ndarray):
                if not v.flags["C_CONTIGUOUS"] or not v.flags["WRITEABLE"]:
                    raise RevError(f"{where} must be a writable C-contiguous array")
            elif not isinstance(v, DeviceArray):
                raise RevError(f"{where} must be a NumPy array or a DeviceArray of {a.type}, "
                               f"got {type(v).__name__}")
            self.target.check_array(where, a, v)
            packed.append(self.target.pack(v, ctype, staged))
        res = None
        if len(results) == 1:
            res = _CTYPES[results[0]][0]()
            packed.append(ctypes.pointer(res))
        elif results:
            res = _results_type(tuple(results))()
            packed.insert(0, ctypes.pointer(ctypes.pointer(res)))
        address = self._engine.raw_lookup("_mlir_ciface_" + name)
        if not address:
            raise RevError(f"no compiled function @{name} (is it marked llvm.emit_c_interface?)")
        array = (ctypes.c_void_p * len(packed))(*[ctypes.cast(p, ctypes.c_void_p)
                                                 for p in packed])
        self.target.call(lambda: _PACKED_FN(address)(array), name, staged)
        if not results:
            return None
        if len(results) == 1:
            return res.value
        return tuple(getattr(res, f"r{i}") for i in range(len(results)))
