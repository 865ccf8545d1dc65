"""Compile reversible programs and run them, forwards and backwards.

    from mlir_rev.jit import Program
    prog = Program(source)            # parse, verify, invert, lower, JIT
    y = prog.call("f", 1.5, 2.0, A)   # A: a NumPy array, updated in place
    x = prog.uncall("f", *y, A)       # the inverse: the state comes back

`Program` compiles once; calls are cheap. Scalars go in as Python numbers and
come back (the final versions of the scalar arguments, a tuple when there are
several); memref arguments are NumPy arrays updated in place.

Every mistake at this boundary raises `RevError` before any code runs: an
integer outside its type's range (i8..i64, index: signed), a memref argument
that shares memory with another one, an unknown function name or one that is
not an MLIR bare identifier, an option out of range, a missing runtime library.

A run-time check that fails (checked mode, or a derivative function given a
shadow of the wrong size) raises `RevError` too, with `rule`, `op` and
`location` set, and the interpreter keeps running: the compiled code reports
through librev_runtime.so back to the call (see `Program`).
"""

from __future__ import annotations

import ctypes
import math
import os
import re
from dataclasses import dataclass

import numpy as np

from . import abi
from .execution_engine import ExecutionEngine
from .ir import (Context, FunctionType, InsertionPoint, Location, MemRefType, MLIRError, Module,
                 ShapedType, UnitAttr, WalkResult)
from .passmanager import PassManager

__all__ = ["Program", "RevError", "Signature", "TARGETS", "openmp_library"]


class RevError(Exception):
    """A rev program failed to parse, verify, invert, lower or be called, or a
    run-time check failed in a call.

    For a failed run-time check, `rule` (e.g. "zero divisor"), `op` (e.g.
    "rev.div"), `location` (the op's MLIR location as printed, e.g.
    `loc("prog.mlir":12:8)`), `function` (the called symbol) and `message`
    (the compiled code's line, `rev: <rule> (<op> at <location>)`) are set;
    for every other error they are None.
    """

    def __init__(self, *args, rule=None, op=None, location=None, function=None,
                 message=None):
        super().__init__(*args)
        self.rule, self.op, self.location = rule, op, location
        self.function, self.message = function, message


# `rev: <rule> (<op> at <location>)`, CheckOp::getFailureMessage.
_CHECK_MESSAGE = re.compile(r"rev: (?P<rule>.*) \((?P<op>[^\s()]+) at (?P<loc>.*)\)\Z", re.S)


_CTYPES = {
    "f64": (ctypes.c_double, np.float64),
    "f32": (ctypes.c_float, np.float32),
    "i64": (ctypes.c_int64, np.int64),
    "i32": (ctypes.c_int32, np.int32),
    "i16": (ctypes.c_int16, np.int16),
    "i8": (ctypes.c_int8, np.int8),
    "index": (ctypes.c_int64, np.int64),
}

# The integers each integer type takes (index is 64-bit on the host).
_INT_BITS = {"i64": 64, "i32": 32, "i16": 16, "i8": 8, "index": 64}

# Function names go into pass-pipeline strings (`rev-ad{funcs=NAME}`): only
# MLIR bare identifiers are accepted, so that no name can change the pipeline.
_BARE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_$.]*\Z")

# ctypes types are created once per layout: ctypes caches every POINTER(T) for
# the life of the process, so a fresh Structure class per call would leak.
_RESULT_TYPES: dict = {}
_MEMREF_TYPES: dict = {}


def _results_type(types: tuple):
    """The ctypes Structure returning scalar results of these types (cached)."""
    t = _RESULT_TYPES.get(types)
    if t is None:
        fields = [(f"r{i}", _CTYPES[s][0]) for i, s in enumerate(types)]
        t = type("Results_" + "_".join(types), (ctypes.Structure,), {"_fields_": fields})
        _RESULT_TYPES[types] = t
    return t


def _memref_type(rank: int, ctype):
    """The ctypes memref descriptor of this rank and element type (cached)."""
    key = (rank, ctype)
    t = _MEMREF_TYPES.get(key)
    if t is None:
        fields = [("allocated", ctypes.c_longlong), ("aligned", ctypes.POINTER(ctype)),
                  ("offset", ctypes.c_longlong)]
        if rank:
            fields += [("shape", ctypes.c_longlong * rank),
                       ("strides", ctypes.c_longlong * rank)]
        t = type(f"MemRef{rank}d_{ctype.__name__}", (ctypes.Structure,),
                 {"_fields_": fields})
        _MEMREF_TYPES[key] = t
    return t


def _memref_descriptor(v: np.ndarray, ctype):
    """A descriptor of the C-contiguous array v (identity layout)."""
    d = _memref_type(v.ndim, ctype)()
    d.allocated = v.ctypes.data
    d.aligned = ctypes.cast(ctypes.c_void_p(v.ctypes.data), ctypes.POINTER(ctype))
    d.offset = 0
    if v.ndim:
        stride = 1
        for k in range(v.ndim - 1, -1, -1):
            d.shape[k] = v.shape[k]
            d.strides[k] = stride
            stride *= v.shape[k]
    return d


def _check_flag(value, what: str):
    """A boolean option: True/False (or NumPy's, or 0/1), else RevError."""
    if not (isinstance(value, (bool, np.bool_)) or (_is_int(value) and value in (0, 1))):
        raise RevError(f"{what} must be True or False, got {value!r}")


def _check_width(value, what: str, widths) -> int:
    """A vector width option: None (0: the pipeline's default) or one of
    `widths` (bits), else RevError."""
    if value is not None and (not _is_int(value) or value not in widths):
        raise RevError(f"{what} must be None, {', '.join(map(str, widths[:-1]))} or "
                       f"{widths[-1]}, got {value!r}")
    return 0 if value is None else int(value)


def _check_name(name, what: str) -> str:
    if not isinstance(name, str):
        raise RevError(f"{what}: a function name must be a string, got "
                       f"{type(name).__name__} {name!r}")
    if not _BARE_ID.match(name):
        raise RevError(f"{what}: {name!r} is not a valid function name (an MLIR bare "
                       f"identifier: a letter or _, then letters, digits, _ $ .)")
    return name


def _names(names, what: str) -> list:
    """A list of validated function names (one string is one name)."""
    if isinstance(names, str):
        names = [names]
    try:
        names = list(names)
    except TypeError:
        raise RevError(f"{what} must be a list of function names, got "
                       f"{type(names).__name__}") from None
    return [_check_name(n, what) for n in names]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_))


# Libraries that loaded once (a bad one would abort the process inside the
# ExecutionEngine, so each is dlopen'ed through ctypes first).
_LOADED_LIBS: set = set()


def _check_shared_libs(libs):
    for lib in libs:
        if lib in _LOADED_LIBS:
            continue
        if not os.path.isfile(lib):
            raise RevError(f"runtime library not found: {lib} (set REV_MLIR_LIB_DIR to "
                           f"the directory holding the MLIR runner libraries)")
        try:
            ctypes.CDLL(lib)
        except OSError as e:
            raise RevError(f"cannot load runtime library {lib}: {e}") from None
        _LOADED_LIBS.add(lib)


def _format(err: MLIRError) -> str:
    """The located diagnostics of an MLIRError, one per line, notes indented."""
    lines = []

    def add(diag, indent):
        lines.append(f"{indent}{diag.location}: {diag.message}")
        for note in diag.notes:
            add(note, indent + "  ")

    for d in err.error_diagnostics:
        add(d, "")
    return "\n".join(lines) or str(err)


def parse_module(source: str, heading: str = "invalid rev program") -> Module:
    """Module.parse in the current context, but a text on which the MLIR parser
    would abort the interpreter (an upstream parser bug with forward references
    into a failed op's regions, see tools/parse-guard) raises RevError instead:
    the text is probe-parsed in a child process first."""
    from ._mlir_libs import _site_initialize_0 as _ext
    aborted = _ext.probe_parse_aborts(Context.current, source)
    if aborted is not None:
        raise RevError(f"{heading}:\n" + aborted.rstrip())
    try:
        return Module.parse(source)
    except MLIRError as e:
        raise RevError(f"{heading}:\n" + _format(e)) from None


# The check runtime (runtime/RevRuntime.c), shipped in the package's _mlir_libs.
_RUNTIME_LIB = os.environ.get("REV_RUNTIME_LIB") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "_mlir_libs", "librev_runtime.so")
_runtime = None
# A `_mlir_ciface_` packed wrapper: void(void **).
_PACKED_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
# The largest message a failed check returns (longer ones are truncated).
_MESSAGE_CAP = 4096


def _load_runtime():
    """librev_runtime.so through ctypes (once); the ExecutionEngine loads the
    same file, so both see one guard (the same dlopen handle)."""
    global _runtime
    if _runtime is None:
        _check_shared_libs([_RUNTIME_LIB])
        lib = ctypes.CDLL(_RUNTIME_LIB)
        lib.rev_guarded_call.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p,
                                         ctypes.c_int64]
        lib.rev_guarded_call.restype = ctypes.c_int32
        lib.rev_pool_release.restype = ctypes.c_int64
        lib.rev_pool_stats.argtypes = [ctypes.POINTER(ctypes.c_int64)]
        _runtime = lib
    return _runtime


def release_pooled_memory() -> int:
    """Frees the large blocks (loop tapes, privatised copies) that compiled
    functions freed and the allocation pool keeps for their next call
    (librev_runtime.so, `rev-to-llvm{pooled-alloc}`; docs/memory.md); returns
    the bytes freed. Safe at any time between calls."""
    return int(_load_runtime().rev_pool_release())


def pooled_memory_stats() -> dict:
    """The allocation pool's counters: blocks and bytes it keeps, requests it
    served, pooled-size requests it could not serve."""
    stats = (ctypes.c_int64 * 4)()
    _load_runtime().rev_pool_stats(stats)
    return dict(blocks=stats[0], bytes=stats[1], hits=stats[2], misses=stats[3])


def _holds_grad_call(module) -> bool:
    """Whether the module holds a rev.grad_call (nested modules included)."""
    found = []

    def look(o):
        if o.name == "rev.grad_call":
            found.append(o)
            return WalkResult.INTERRUPT
        return WalkResult.ADVANCE

    module.operation.walk(look)
    return bool(found)


def _functions_reaching(module, target: str) -> set:
    """The llvm.func symbols of the lowered `module` from which a call chain
    reaches @target."""
    callers: dict = {}
    for op in module.body.operations:
        if op.operation.name != "llvm.func":
            continue
        name = op.attributes["sym_name"].value
        callees = set()

        def collect(o, callees=callees):
            if o.name == "llvm.call" and "callee" in o.attributes:
                callees.add(o.attributes["callee"].value)
            return WalkResult.ADVANCE

        op.operation.walk(collect)
        for c in callees:
            callers.setdefault(c, set()).add(name)
    seen, todo = set(), [target]
    while todo:
        for caller in callers.get(todo.pop(), ()):
            if caller not in seen:
                seen.add(caller)
                todo.append(caller)
    return seen


def _mlir_lib_dir() -> str:
    import sysconfig
    cand = os.path.join(sysconfig.get_paths()["purelib"], "mlir", "lib")
    return os.environ.get("REV_MLIR_LIB_DIR", cand)


@dataclass
class _Arg:
    kind: str  # "scalar" or "memref"
    type: str  # "f64", ... element type for memrefs
    shape: tuple = ()  # memrefs: None for dynamic dims


@dataclass
class Signature:
    name: str
    args: list
    #: for each argument, the position of its derivative in the derivative
    #: functions' layout, or -1 (mlir_rev.abi, from the compiler)
    derivative_positions: list
    #: the element types of the results: a rev.func returns the final
    #: versions of its scalar arguments, a func.func its declared results
    results: tuple = None

    def __post_init__(self):
        if self.results is None:
            self.results = tuple(a.type for a in self.args if a.kind == "scalar")

    @property
    def scalars(self):
        return [a for a in self.args if a.kind == "scalar"]


def _elem_name(t) -> str:
    s = str(t)
    if s not in _CTYPES:
        raise RevError(f"unsupported type {s} at the Python boundary")
    return s


def _signature(op) -> Signature:
    name = op.attributes["sym_name"].value
    ftype = FunctionType(op.attributes["function_type"].value)
    args = []
    for t in ftype.inputs:
        if isinstance(t, MemRefType):
            dyn = ShapedType.get_dynamic_size()
            shape = tuple(None if d == dyn else d for d in t.shape)
            args.append(_Arg("memref", _elem_name(t.element_type), shape))
        else:
            args.append(_Arg("scalar", _elem_name(t)))
    if op.name == "rev.func":
        return Signature(name, args, abi.derivative_arg_positions(ftype))
    # func.func: scalar results only (a memref result has no Python form).
    results = tuple(_elem_name(t) for t in ftype.results if not isinstance(t, MemRefType))
    if len(results) != len(ftype.results):
        raise RevError(f"unsupported result type of @{name} at the Python boundary")
    return Signature(name, args, [-1] * len(args), results)


def _callable_func_func(op) -> bool:
    """A public func.func with a body (callable through Program.call)."""
    if op.name != "func.func" or not len(op.regions[0].blocks):
        return False
    vis = op.attributes["sym_visibility"].value if "sym_visibility" in op.attributes else None
    return vis in (None, "public")


def _copy_module(source: Module) -> Module:
    """A verified copy of `source` (its attributes and ops, locations kept)."""
    copy = Module.create(source.operation.location)
    for attr in source.operation.attributes:
        copy.operation.attributes[attr.name] = attr.attr
    with InsertionPoint(copy.body):
        for op in source.body.operations:
            op.operation.clone()
    try:
        copy.operation.verify()
    except MLIRError as e:
        raise RevError("invalid rev program:\n" + _format(e)) from None
    return copy


# -- targets ------------------------------------------------------------------
# target -> the pipeline that lowers for it.
_PIPELINES = {"cpu": "rev-to-llvm", "openmp": "rev-to-openmp", "cuda": "rev-to-gpu"}
TARGETS = tuple(_PIPELINES)

# Where libomp.so.5 (the LLVM OpenMP runtime: __kmpc_* entry points) is
# looked for; REV_OPENMP_LIB (a path) replaces the list.
_OPENMP_CANDIDATES = ("/usr/lib/x86_64-linux-gnu/libomp.so.5",
                      "/usr/lib/aarch64-linux-gnu/libomp.so.5",
                      "/usr/lib/llvm-*/lib/libomp.so.5", "/usr/local/lib/libomp.so*",
                      "/usr/lib/libomp.so.5")
_OPENMP_INSTALL = ("install the LLVM OpenMP runtime: `apt-get install libomp5-19` (Debian 12/13; "
                   "scripts/setup.sh does it) or `libomp5`, or set REV_OPENMP_LIB to the path "
                   "of a libomp.so.5")
# The OpenMP runtimes that loaded and have the LLVM entry points.
_OPENMP_LIBS: set = set()


def openmp_library() -> str:
    """The path of the OpenMP runtime that target="openmp" loads, probed
    with ctypes (a library the ExecutionEngine cannot load aborts the
    process): REV_OPENMP_LIB if set, else the first of the usual places.
    Raises RevError("no OpenMP runtime ...") when none loads or the one
    found lacks the LLVM OpenMP entry points (GCC's libgomp does)."""
    import glob
    env = os.environ.get("REV_OPENMP_LIB")
    if env:
        paths = [env]
    else:
        paths = [p for pat in _OPENMP_CANDIDATES for p in sorted(glob.glob(pat))]
    errors = []
    for path in paths:
        if path in _OPENMP_LIBS:
            return path
        if not os.path.isfile(path):
            errors.append(f"{path}: no such file")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
            continue
        if not hasattr(lib, "__kmpc_fork_call"):
            errors.append(f"{path}: not the LLVM OpenMP runtime (no __kmpc_fork_call)")
            continue
        _OPENMP_LIBS.add(path)
        return path
    where = "; ".join(errors) if errors else "none of " + ", ".join(_OPENMP_CANDIDATES)
    raise RevError(f"no OpenMP runtime for target='openmp' ({where}): {_OPENMP_INSTALL}")


def _target(target, num_threads, privatize_atomics=True):
    """(extra shared libraries, extra pipeline options) of a target; RevError
    for a bad target, num_threads or privatize_atomics."""
    if not (isinstance(target, str) and target in _PIPELINES):
        raise RevError(f"target must be one of {', '.join(map(repr, TARGETS))}, got {target!r}")
    if num_threads is not None:
        if target != "openmp":
            raise RevError(f"num_threads is an option of target='openmp', not {target!r}")
        if not (_is_int(num_threads) and 1 <= num_threads <= 4096):
            raise RevError(f"num_threads must be None or an integer in 1..4096, got "
                           f"{num_threads!r}")
    _check_flag(privatize_atomics, "privatize_atomics")
    if target != "openmp":
        if not privatize_atomics:
            raise RevError(f"privatize_atomics is an option of target='openmp', not {target!r}")
        return [], ""
    options = "" if num_threads is None else f" num-threads={int(num_threads)}"
    options += f" privatize-atomics={int(bool(privatize_atomics))}"
    return [openmp_library()], options


# Program's fast_math values (rev-to-llvm's fast-math accepts any arith
# fast-math flag list; these are the ones offered, and go into the pipeline).
FAST_MATH = ("none", "arcp", "contract", "fast")


class Program:
    """A module of rev functions compiled to native code with the MLIR JIT.

    source: MLIR text or an `mlir_rev.ir.Module` (it is not modified).
    checks: insert run-time reversibility assertions. A failed one raises
            `RevError` with `rule`, `op` and `location` (the interpreter keeps
            running), and every memref argument is restored to its value from
            before the call (the call's arrays are copied before it runs; a
            failed check leaves the generated code's temporary buffers
            allocated). Without checks, calls run unguarded, except those of
            derivative functions, whose shadow-size check (at their entry,
            before anything is written) raises `RevError` the same way.
    atol: the tolerance of the checks (a finite number >= 0).
    opt_level: the JIT's LLVM optimisation level, 0..3 (default 3).
    unroll_max_trip_count: loops with a constant trip count up to this are
            fully unrolled before LLVM (`rev-to-llvm`'s option of that name,
            --rev-unroll-small-loops); None: the pipeline's default, 0: no
            unrolling.
    memref_noalias: mark the memref arguments' pointers of the compiled rev
            functions `noalias` for LLVM (`rev-to-llvm`'s `memref-noalias`;
            rev forbids a written memref argument to share memory with
            another one, and `call` refuses arrays that do).
    fold_zero_adjoints: remove the updates of derivative code by adjoints
            known to be zero (`rev-to-llvm`'s `fold-zero-adjoints`,
            --rev-fold-zero-adjoints; exact, docs/ad.md "Known-zero adjoints").
    fold_recoveries: where the backward sweep recovers a primal value by
            undoing a forward update (`t / d` after `t * d`) while the
            forward's value is at hand (a routine's unrolled compute, a fused
            sweep), read that value instead (`rev-to-llvm`'s
            `fold-recoveries`, --rev-fold-recoveries; docs/ad.md "Recovered
            values"). The gradient then uses exactly the forward's values
            where recomputing would round: gradients change at the rounding
            level where the recovery is well conditioned (1e-12 relative on
            the Bessel series), more where it is not (then toward the right
            value); forward results never. False: every recovery computed as
            written.
    pipeline_sweeps: `rev-to-llvm`'s `pipeline-sweeps` (default True; the
            CPU targets: under target="openmp" a rev.parallel_for is split
            into chunks of 4096 elements first): an element loop whose forward part
            divides (28 divisions per element in the batched Bessel series)
            and whose backward part then runs a chain of multiply-adds
            becomes a vector loop that runs the next vector's forward part
            interleaved with the current one's backward part, so that the
            divisions overlap the chain (--rev-pipeline-sweeps; docs/ad.md
            "Software-pipelined sweeps"). Exact: bit for bit the results of
            False (unless fast_math="fast", which lets LLVM reassociate
            differently in the two forms).
    divide_by_constants: `rev-to-llvm`'s `divide-by-constants` (default
            True): in those vector loops a division by a constant c becomes
            a multiplication by RN(1/c) with one or two FMA corrections,
            proven to give the correctly rounded quotient (bit for bit the
            division's; numerators that are zero, infinite, NaN, or beyond
            2^-788 .. 2^955 take the division; --rev-divide-by-constants,
            docs/ad.md "Division by constants").
    sweep_vector_bits: the vector width of those pipelined loops
            (`rev-to-llvm`'s `sweep-vector-bits`: 128, 256, 512 or 1024;
            None, the default, is 1024). Wider than the machine's
            registers, LLVM splits each vector op into independent parts,
            so several backward chains run per step. Exact: the same
            operations per element at every width.
    reassociate_reductions: a parallel loop's float sums (`reduce`
            accumulators: the adjoint of a shared scalar) may be added in any
            order (`rev-to-llvm`'s `reassociate-reductions`: `reassoc` on the
            combiner alone), so LLVM can vectorise the sequential loop with
            partial sums; results then differ from the in-order sum at the
            rounding level (as OpenMP's do). False: in iteration order.
    vector_width: None (the default: LLVM's choice for this CPU, 256 bits on
            x86 with AVX-512) or 128, 256, 512: the vector width LLVM's
            vectorisers prefer in the compiled rev functions (`rev-to-llvm`'s
            `prefer-vector-width`). Exact: the same operations in wider lanes
            (results bit for bit the same), except a parallel loop's float
            sums under reassociate_reductions, whose grouping into partial
            sums follows the width (rounding level). 512 helps loops of float
            code on CPUs with two AVX-512 units; on some CPUs it lowers the
            clock.
    fast_math: "none" (the default: exact IEEE arithmetic, results
            bit-identical to a build without the option), "arcp" (LLVM may
            replace a division by a multiplication with the reciprocal, e.g.
            `x / c` by `x * (1 / c)`: other rounding, about 1 ulp per
            division), "contract" (fused multiply-adds) or "fast" (every
            flag: also reassociation and no NaN or infinity assumed, checked
            mode's comparisons included). `rev-to-llvm`'s `fast-math`,
            --rev-fast-math.
    target: "cpu" (the default: `rev-to-llvm`, parallel loops run
            sequentially), "openmp" (`rev-to-openmp`: parallel loops on
            OpenMP threads, atomic scatters privatised; needs the LLVM
            OpenMP runtime libomp.so.5, see `openmp_library`) or "cuda"
            (`rev-to-gpu`: the parallel loops run as NVIDIA GPU kernels, the
            rest on the host; see mlir_rev.cuda for the memory model and
            `DeviceArray`). See docs/parallel.md. With checks=True,
            target="openmp" compiles the parallel loops sequentially (a
            failed check is reported from the calling thread only).
    num_threads: target="openmp" only: the threads of every parallel loop
            of this Program (an integer >= 1, compiled into each region as
            its num_threads clause, so Programs with different counts
            coexist in one process), or None (the default: the OpenMP
            runtime's count, OMP_NUM_THREADS or one per core, and
            omp_set_num_threads calls, which are process-wide).
    privatize_atomics: target="openmp" only: `rev-to-openmp`'s
            privatize-atomics (default True): atomic adds into a 1-d memref
            in a parallel loop become per-thread copies added up after the
            loop (--rev-privatize-atomics); False keeps the atomics.
    chip, gpu_format, block_size: target="cuda"'s options (rev-to-gpu's
            chip, format and block-size): the architecture ("sm_90"), the
            kernel format ("isa": PTX compiled by the driver; "bin"/"fatbin"
            need ptxas at compile time) and the threads per block.
    memory_budget: bytes the gradient of each `rev.steps` (out-of-place
            steps) may keep as state snapshots (`rev-ad`'s memory-budget):
            within it the steps are reversed by binomial checkpointing with
            that many snapshots, at least one; None (the default): enough
            snapshots that no step is recomputed more than 3 times
            (docs/memory.md). `steps_counts()` reports what it did. A budget
            > 0 is one budget for the gradient: loops also store values for
            their backward sweeps (as loop_budget, each iteration storing
            what pays), each loop taking at run time the largest of its
            plans whose tapes fit in what is left, and the snapshots get what
            the tapes alive then leave; 0 stores nothing anywhere.
    loop_budget: bytes per loop iteration that the gradient may store for
            the backward sweep of each top-level `rev.for` of a
            differentiated function (also in top-level `rev.if` branches),
            of the loops nested in those (one tape per nest, triangular
            nests included) and of the functions it reaches through
            top-level calls or calls in those loops and branches (`rev-ad`'s
            loop-budget; arrays updated in place too, docs/memory.md
            "Array state"): within it,
            values the backward sweep would recompute (partial derivatives,
            states) are stored by the forward loop and read back, chosen by
            estimated time saved per byte; 0 (the default): reverse computing
            only, no stored values (docs/memory.md, "Loops").
    fuse_sweeps: `rev-ad`'s fuse-sweeps (default True): where a
            differentiated function ends with a loop whose iterations are
            independent, `@f_grad` runs each iteration's backward sweep right
            after its forward one, and a routine at the end of such a body
            (or of the function) runs its compute twice instead of four
            times (docs/ad.md, "How often the compute runs"); False:
            `@f_grad` runs `@f`, then `@f_bwd`.
    adjoint_only: `rev-ad`'s adjoint-only (default True): where no adjoint
            update reads a value that the function changes (a linear program
            whose coefficients are inactive: `rev.const`, `wrt=`), `@f_grad`
            runs the adjoint updates alone, without the forward sweep and the
            uncomputation; the primal arrays and scalars stay the inputs
            (exactly). Checked mode (`checks=True`) always runs both sweeps,
            so that f's own checks run too (docs/ad.md, "Adjoint-only
            gradients").
    seeds: N >= 1 (default 1). With N > 1, every gradient of `grad` and its
            backward sweep also get `@f_grad_xN` and `@f_bwd_xN`
            (--rev-seeds): f's arguments, then N sets of the adjoint
            arguments; they return f's scalars, then N sets of adjoints. Set
            k comes out exactly as `@f_grad` (`@f_bwd`) seeded with set k
            would give it, but the primal work runs once: N rows of a
            Jacobian for about the price of one sweep (docs/ad.md, "Several
            seeds in one sweep"). `seeded_names` maps `f_grad` and `f_bwd`
            to them.
    Also public `func.func` functions are callable (`call`; their scalar
    results come back), e.g. hand-written kernels with scf.parallel loops.
    """

    def __init__(self, source, *, grad=(), fwd=(), hvp=(), checks: bool = False,
                 atol: float = 1e-8, opt_level: int = 3,
                 unroll_max_trip_count=None, memref_noalias: bool = True,
                 fold_zero_adjoints: bool = True, fold_recoveries: bool = True,
                 reassociate_reductions: bool = True, vector_width=None,
                 fast_math: str = "none", target: str = "cpu", num_threads=None,
                 privatize_atomics: bool = True, chip: str = "sm_90",
                 gpu_format: str = "isa", block_size: int = 256, memory_budget=None,
                 loop_budget=0, fuse_sweeps: bool = True, adjoint_only: bool = True,
                 seeds: int = 1, pipeline_sweeps: bool = True,
                 divide_by_constants: bool = True, sweep_vector_bits=None):
        """grad: functions to differentiate with --rev-ad (gives `@f_grad`);
        fwd: functions to differentiate with --rev-fwd (gives `@f_fwd`);
        hvp: functions whose gradient is differentiated forwards (gives
        `@f_grad` and its tangent, for Hessian-vector products)."""
        if not (_is_int(opt_level) and 0 <= opt_level <= 3):
            raise RevError(f"opt_level must be an integer in 0..3, got {opt_level!r}")
        opt_level = int(opt_level)
        if unroll_max_trip_count is not None:
            if not (_is_int(unroll_max_trip_count) and 0 <= unroll_max_trip_count < 2**31):
                raise RevError(f"unroll_max_trip_count must be None or an integer in "
                               f"0..2**31-1, got {unroll_max_trip_count!r}")
            unroll_max_trip_count = int(unroll_max_trip_count)
        try:
            ok = _is_real(atol) and math.isfinite(float(atol)) and float(atol) >= 0
        except OverflowError:
            ok = False
        if not ok:
            raise RevError(f"atol must be a finite number >= 0, got {atol!r}")
        atol = float(atol)
        if memory_budget is not None and not (_is_int(memory_budget) and
                                              0 <= memory_budget < 2**62):
            raise RevError(f"memory_budget must be None or a number of bytes >= 0, got "
                           f"{memory_budget!r}")
        ad_options = "" if memory_budget is None else f" memory-budget={int(memory_budget)}"
        if not (_is_int(loop_budget) and 0 <= loop_budget < 2**31):
            raise RevError(f"loop_budget must be a number of bytes per iteration >= 0, got "
                           f"{loop_budget!r}")
        if loop_budget:
            ad_options += f" loop-budget={int(loop_budget)}"
        _check_flag(checks, "checks")
        _check_flag(fuse_sweeps, "fuse_sweeps")
        if not fuse_sweeps:
            ad_options += " fuse-sweeps=0"
        _check_flag(adjoint_only, "adjoint_only")
        if not adjoint_only or checks:
            ad_options += " adjoint-only=0"
        if not (_is_int(seeds) and 1 <= seeds <= 64):
            raise RevError(f"seeds must be an integer in 1..64, got {seeds!r}")
        seeds = int(seeds)
        _check_flag(memref_noalias, "memref_noalias")
        _check_flag(fold_zero_adjoints, "fold_zero_adjoints")
        _check_flag(fold_recoveries, "fold_recoveries")
        _check_flag(pipeline_sweeps, "pipeline_sweeps")
        _check_flag(divide_by_constants, "divide_by_constants")
        sweep_vector_bits = _check_width(sweep_vector_bits, "sweep_vector_bits",
                                         (128, 256, 512, 1024))
        _check_flag(reassociate_reductions, "reassociate_reductions")
        vector_width = _check_width(vector_width, "vector_width", (128, 256, 512))
        if not (isinstance(fast_math, str) and fast_math in FAST_MATH):
            raise RevError(f"fast_math must be one of {', '.join(map(repr, FAST_MATH))}, got "
                           f"{fast_math!r}")
        target_libs, target_options = _target(target, num_threads, privatize_atomics)
        self._pipeline_name = _PIPELINES[target]
        if checks and target == "openmp":
            # A failed check is reported to the call only from the calling
            # thread (librev_runtime's guard is per thread; on a worker it
            # would end the process): checked mode runs parallel loops
            # sequentially.
            target_libs, target_options = [], ""
            self._pipeline_name = "rev-to-llvm"
        self.target, self.num_threads = target, num_threads
        self.privatize_atomics = bool(privatize_atomics)
        grad, fwd, hvp = _names(grad, "grad"), _names(fwd, "fwd"), _names(hvp, "hvp")
        # target="cuda": mlir_rev.cuda.Target (options, memref staging), else None.
        self._gpu = None
        if target == "cuda":
            from . import cuda
            self._gpu = cuda.Target(chip, gpu_format, block_size=block_size)
        if isinstance(source, str):
            self._ctx = Context()
        elif isinstance(source, Module):
            # A built module is compiled in its own context, from a copy of its
            # ops (no text round trip: every location is kept).
            self._ctx = source.context
        else:
            raise RevError(f"source must be MLIR text or an mlir_rev.ir.Module, got "
                           f"{type(source).__name__}")
        with self._ctx, Location.unknown():
            if isinstance(source, str):
                self.module = parse_module(source)
            else:
                self.module = _copy_module(source)
            # One pass per name, in order, so that grad=["f", "f_grad"] gives
            # a second derivative.
            for name in dict.fromkeys([*grad, *hvp]):
                self._require_func(name, "grad" if name in grad else "hvp")
                self._run("builtin.module(rev-ad{funcs=%s%s})" % (name, ad_options), "rev-ad")
            # rev.grad_call ops (gradients called from func.func drivers): one
            # rev-ad run generates their gradients, with the same options, and
            # resolves every one of them.
            if _holds_grad_call(self.module):
                self._run("builtin.module(rev-ad{only-grad-calls=1%s})" % ad_options,
                          "rev-ad")
            self.gradient_names = self._derived(abi.MARKERS["gradient"])
            self.backward_names = self._derived(abi.MARKERS["backward"])
            # Gradients that run the adjoint updates alone (rev-ad's
            # adjoint-only): @f_grad then needs no forward run.
            self.adjoint_only = {
                op.attributes["sym_name"].value for op in self.module.body.operations
                if op.operation.name == "rev.func" and "rev.adjoint_only" in op.attributes}
            # N seeds through one sweep (--rev-seeds): @f_grad_xN.
            if seeds > 1 and grad:
                names = ",".join(d[f] for f in dict.fromkeys(grad)
                                 for d in (self.gradient_names, self.backward_names))
                self._run("builtin.module(rev-seeds{count=%d funcs=%s})" % (seeds, names),
                          "rev-seeds")
            self.seeded_names = self._derived("rev.seeds_of")
            tangents = list(dict.fromkeys(
                [*fwd, *(self.gradient_names[f] for f in hvp)]))
            for name in tangents:
                self._require_func(name, "fwd")
                self._run("builtin.module(rev-fwd{funcs=%s})" % name, "rev-fwd")
            self.tangent_names = self._derived(abi.MARKERS["tangent"])
            self.signatures = {}
            for op in self.module.body.operations:
                if op.operation.name == "rev.func":
                    sig = _signature(op.operation)
                    self.signatures[sig.name] = sig
                elif _callable_func_func(op.operation):
                    # A public func.func is callable too (its C interface),
                    # unless a type has no Python form.
                    try:
                        sig = _signature(op.operation)
                    except RevError:
                        continue
                    op.operation.attributes["llvm.emit_c_interface"] = UnitAttr.get()
                    self.signatures[sig.name] = sig
            # Generate every inverse up front so that uncall("f") is available
            # (a backward function that dropped an ancilla's adjoint has none).
            self._run("builtin.module(rev-invert{skip-uninvertible=1})", "inversion")
            self.inverse_names = self._derived(abi.MARKERS["inverse"])
            # Failed checks call the rev runtime (librev_runtime.so), which
            # returns to the guarded call (_invoke) instead of exiting.
            unroll = ("" if unroll_max_trip_count is None else
                      f" unroll-max-trip-count={unroll_max_trip_count}")
            backend = self._pipeline_name + "{"
            if self._gpu is not None:
                backend += self._gpu.pipeline_options() + " "
            pipeline = (f"builtin.module({backend}checks={int(checks)} "
                        f"atol={atol!r} check-lowering=runtime{unroll} "
                        f"memref-noalias={int(bool(memref_noalias))} "
                        f"fold-zero-adjoints={int(bool(fold_zero_adjoints))} "
                        f"fold-recoveries={int(bool(fold_recoveries))} "
                        f"pipeline-sweeps={int(bool(pipeline_sweeps))} "
                        f"divide-by-constants={int(bool(divide_by_constants))} "
                        f"sweep-vector-bits={sweep_vector_bits} "
                        f"reassociate-reductions={int(bool(reassociate_reductions))} "
                        f"prefer-vector-width={vector_width} "
                        f"fast-math={fast_math} pooled-alloc=1{target_options}}})")
            self._run(pipeline, "lowering")
            self._checks = bool(checks)
            # Only the functions that can reach a check are called through
            # the guard (unchecked mode: the derivative functions' shadow
            # check); the others are plain calls.
            self._guarded = _functions_reaching(self.module, "__rev_check_failed")
            self._entry_points: dict = {}
            libdir = _mlir_lib_dir()
            libs = [os.path.join(libdir, n) for n in
                    ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so")]
            _check_shared_libs(libs)
            libs += target_libs
            # (always: memref.alloc/dealloc call its pool, pooled-alloc)
            _load_runtime()
            libs.append(_RUNTIME_LIB)
            if self._gpu is not None:
                libs += self._gpu.shared_libs()  # probes the driver first
            try:
                self._engine = ExecutionEngine(self.module, opt_level=opt_level,
                                               shared_libs=libs)
                if self._gpu is not None:
                    self._gpu.initialize(self._engine)  # loads the kernel modules
            except RevError:
                raise
            except Exception as e:
                msg = _format(e) if isinstance(e, MLIRError) else str(e)
                raise RevError("JIT compilation failed:\n" + msg) from None

    def _func_names(self) -> list:
        return [op.attributes["sym_name"].value for op in self.module.body.operations
                if op.operation.name == "rev.func"]

    def _require_func(self, name: str, what: str):
        names = self._func_names()
        if name not in names:
            raise RevError(f"{what}: no rev.func named @{name} (the module has "
                           f"{', '.join('@' + n for n in names) or 'none'})")

    def _derived(self, attr: str) -> dict:
        """{f: name of the function marked `attr = @f`}."""
        out = {}
        for op in self.module.body.operations:
            if op.operation.name == "rev.func" and attr in op.attributes:
                of = op.attributes[attr].value
                out.setdefault(of, op.attributes["sym_name"].value)
        return out

    def _run(self, pipeline: str, what: str):
        try:
            PassManager.parse(pipeline).run(self.module.operation)
        except MLIRError as e:
            raise RevError(f"{what} failed:\n" + _format(e)) from None

    # -- calling -------------------------------------------------------------
    def _lookup(self, name) -> Signature:
        sig = self.signatures.get(name) if isinstance(name, str) else None
        if sig is None:
            if not isinstance(name, str):
                raise RevError(f"a function name must be a string, got "
                               f"{type(name).__name__} {name!r}")
            known = ", ".join("@" + n for n in self.signatures) or "none"
            raise RevError(f"no rev.func named @{name} (the program has {known})")
        return sig

    def call(self, name: str, *args):
        """Runs rev.func @name; returns its scalar results (memrefs in place)."""
        return self._invoke(name, self._lookup(name), args)

    def uncall(self, name: str, *args):
        """Runs the inverse of rev.func @name (same signature)."""
        self._lookup(name)
        inv = self.inverse_names.get(name)
        if inv is None:
            raise RevError(f"@{name} has no inverse: it cannot be inverted (a derivative "
                           f"function that drops an ancilla's adjoint outside a routine); "
                           f"`rev-opt --rev-invert=funcs={name}` shows where")
        return self._invoke(inv, self.signatures[name], args)

    def _invoke(self, symbol: str, sig: Signature, args):
        if len(args) != len(sig.args):
            raise RevError(f"@{sig.name} takes {len(sig.args)} arguments "
                           f"({len(sig.scalars)} scalars), got {len(args)}")
        # ctypes pointers keep their targets alive for the call.
        packed = []
        arrays = []
        # target="cuda": the NumPy arrays copied to managed buffers.
        staged = None if self._gpu is None else []
        for i, (a, v) in enumerate(zip(sig.args, args)):
            ctype, dtype = _CTYPES[a.type]
            if a.kind == "scalar":
                packed.append(ctypes.pointer(self._scalar(sig, i, a, v)))
            elif self._gpu is not None and self._gpu.is_device_array(v):
                self._gpu.check_array(f"argument #{i} of @{sig.name}", a, v)
                for j, w in arrays:
                    if w is v:
                        raise RevError(f"arguments #{j} and #{i} of @{sig.name} are the same "
                                       f"DeviceArray: each memref argument needs its own buffer")
                arrays.append((i, v))
                packed.append(self._gpu.pack(v, ctype, staged))
            else:
                if not isinstance(v, np.ndarray):
                    raise RevError(f"argument #{i} of @{sig.name} must be a NumPy "
                                   f"array of {a.type}, got {type(v).__name__}")
                if v.dtype != dtype:
                    raise RevError(f"argument #{i} of @{sig.name} must have dtype "
                                   f"{np.dtype(dtype).name}, got {v.dtype}")
                if v.ndim != len(a.shape) or any(
                        d is not None and d != s for d, s in zip(a.shape, v.shape)):
                    want = "x".join("?" if d is None else str(d) for d in a.shape)
                    raise RevError(f"argument #{i} of @{sig.name} must have shape "
                                   f"{want}, got {v.shape}")
                if not v.flags["C_CONTIGUOUS"] or not v.flags["WRITEABLE"]:
                    raise RevError(f"argument #{i} of @{sig.name} must be a writable "
                                   f"C-contiguous array")
                # The arrays are C-contiguous, so overlapping extents (what
                # may_share_memory compares) is exactly sharing memory.
                for j, w in arrays:
                    if np.may_share_memory(v, w):
                        raise RevError(
                            f"arguments #{j} and #{i} of @{sig.name} share memory (the "
                            f"same array or overlapping views): each memref argument "
                            f"needs its own buffer, pass a copy")
                arrays.append((i, v))
                if self._gpu is not None:
                    packed.append(self._gpu.pack(v, ctype, staged))
                    continue
                packed.append(ctypes.pointer(ctypes.pointer(_memref_descriptor(v, ctype))))
        results = sig.results
        if len(results) == 1:
            res = _CTYPES[results[0]][0]()
            self._call(symbol, [*packed, ctypes.pointer(res)], arrays, staged)
            return res.value
        if not results:
            self._call(symbol, packed, arrays, staged)
            return None
        res = _results_type(tuple(results))()
        self._call(symbol, [ctypes.pointer(ctypes.pointer(res)), *packed], arrays, staged)
        return tuple(getattr(res, f"r{i}") for i in range(len(results)))

    def steps_counts(self, reset: bool = False) -> dict:
        """What the checkpointed gradients of `rev.steps` did so far in this
        Program (all calls together): `advances`, the steps recomputed to
        reach snapshots; `step_adjoints`, the steps reversed (each recomputes
        its step once more); `snapshots`, the snapshot count of the last
        run; `runs`. For `schedule = "bennett"` (docs/memory.md):
        `compute_moves` and `uncompute_moves` (each a step evaluation; the
        step adjoints are among the uncomputes), `pebbles`, the most states
        held at once in the last run (the final state counts as one),
        `levels`, its k (revolve runs set both to 0, bennett runs
        `snapshots`). All zero without a rev.steps gradient. `reset` zeroes
        them after reading."""
        names = ("advances", "step_adjoints", "snapshots", "runs", "compute_moves",
                 "uncompute_moves", "pebbles", "levels")
        # @_mlir_rev_steps_counts (conversion/LowerSteps.cpp); raw_lookup adds "_mlir_".
        address = self._engine.raw_lookup("rev_steps_counts")
        if not address:
            return dict.fromkeys(names, 0)
        counts = (ctypes.c_int64 * len(names)).from_address(address)
        out = dict(zip(names, (int(v) for v in counts)))
        if reset:
            for i in range(len(names)):
                counts[i] = 0
        return out

    def _call(self, symbol: str, pointers: list, arrays: list, staged=None):
        """Calls the packed wrapper `_mlir_ciface_<symbol>` (void(void **), as
        ExecutionEngine.invoke does, with the entry point looked up once),
        through rev_guarded_call when @symbol can reach a check.
        target="cuda" (staged: the staged NumPy arrays): then waits for the
        device and copies the arrays back (mlir_rev.cuda.Target.call)."""
        if staged is not None:
            return self._gpu.call(lambda: self._call(symbol, pointers, arrays), symbol, staged)
        entry = self._entry_points.get(symbol)
        if entry is None:
            address = self._engine.raw_lookup("_mlir_ciface_" + symbol)
            if not address:
                raise RevError(f"no compiled function @{symbol}")
            entry = (address, _PACKED_FN(address))
            self._entry_points[symbol] = entry
        packed = (ctypes.c_void_p * len(pointers))(
            *[ctypes.cast(p, ctypes.c_void_p) for p in pointers])
        if symbol not in self._guarded:
            entry[1](packed)
            return
        # Checked mode: the arrays as they were, restored if a check fails
        # (a check may fail after the function wrote to them).
        saved = [(v, v.copy()) for _, v in arrays
                 if isinstance(v, np.ndarray)] if self._checks else ()
        buf = ctypes.create_string_buffer(_MESSAGE_CAP)
        if _runtime.rev_guarded_call(entry[0], packed, buf, _MESSAGE_CAP) == 0:
            return
        for v, before in saved:
            np.copyto(v, before)
        self._raise_check(symbol, buf.value.decode("utf-8", "replace").rstrip("\n"))

    def _raise_check(self, symbol: str, line: str):
        m = _CHECK_MESSAGE.match(line)
        rule, op, loc = (m.group("rule"), m.group("op"), m.group("loc")) if m else (
            None, None, None)
        state = ("memref arguments restored to their values before the call"
                 if self._checks else "unchecked mode: only shadow sizes are checked, on entry, "
                 "before anything is written")
        raise RevError(f"{line}\n  in a call of @{symbol} ({state})", rule=rule, op=op,
                       location=loc, function=symbol, message=line)

    @staticmethod
    def _scalar(sig: Signature, i: int, a: _Arg, v):
        """The ctypes value of scalar argument #i (range-checked)."""
        ctype = _CTYPES[a.type][0]
        if isinstance(v, np.ndarray) and v.ndim > 0:
            raise RevError(f"argument #{i} of @{sig.name} is a scalar "
                           f"{a.type}, got an array")
        if a.type.startswith("f"):
            if not isinstance(v, (int, float, np.integer, np.floating)):
                raise RevError(f"argument #{i} of @{sig.name} must be a "
                               f"number, got {type(v).__name__}")
            try:
                x = float(v)
            except OverflowError:
                raise RevError(f"argument #{i} of @{sig.name} ({a.type}) is too large "
                               f"for a float: an integer of {len(str(abs(int(v))))} "
                               f"digits") from None
            c = ctype(x)
            if math.isfinite(x) and not math.isfinite(c.value):
                raise RevError(f"argument #{i} of @{sig.name} ({a.type}) is out of "
                               f"range for {a.type}: {v!r}")
            return c
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise RevError(f"argument #{i} of @{sig.name} must be an "
                           f"integer ({a.type}), got {type(v).__name__}")
        n = int(v)
        bits = _INT_BITS[a.type]
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if not lo <= n <= hi:
            raise RevError(f"argument #{i} of @{sig.name} is out of range for "
                           f"{a.type} (signed, {lo}..{hi}): got {n}")
        return ctype(n)
