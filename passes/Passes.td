//===- Passes.td - passes of the rev project ----------------*- tablegen -*-===//
#ifndef REV_PASSES
#define REV_PASSES

include "mlir/Pass/PassBase.td"

def RevInvert : Pass<"rev-invert", "::mlir::ModuleOp"> {
  let summary = "Generate the inverse @f_inv of each rev.func @f";
  let description = [{
    For every selected `rev.func @f` (in any symbol table: nested modules
    included) that has no inverse yet, emits
    `rev.func @f_inv` (same signature, marked `rev.inverse_of = @f`): its ops
    in reverse order, each replaced by its inverse (InvertibleOpInterface),
    pure values recomputed where needed. Loops run backwards, `rev.if` and
    `rev.while` swap their pre and post conditions, routines keep `compute`
    and invert `body`, calls become uncalls.
  }];
  let options = [
    ListOption<"funcs", "funcs", "std::string",
               "Names of the functions to invert (default: every rev.func)">,
    Option<"suffix", "suffix", "std::string", /*default=*/"\"_inv\"",
           "Suffix appended to a function's name to name its inverse (then "
           "`_0`, `_1`, ... if that symbol is taken)">,
    Option<"skipUninvertible", "skip-uninvertible", "bool", /*default=*/"false",
           "Leave out, silently, the functions that cannot be inverted (a "
           "backward function that dropped an ancilla's adjoint) and the "
           "inverses that would uncall them, instead of failing">,
  ];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

def RevExpandUncalls : Pass<"rev-expand-uncalls", "::mlir::ModuleOp"> {
  let summary = "Replace each rev.uncall @f by a rev.call of f's inverse";
  let description = [{
    Generates the inverse of every uncalled function that has none (as
    `@f_inv`, marked `rev.inverse_of = @f`, in f's symbol table), and
    repeats on the generated inverses until no `rev.uncall` is left.
  }];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

def RevExpandRoutines : Pass<"rev-expand-routines", "::mlir::ModuleOp"> {
  let summary = "Expand each rev.routine into compute, body and the inverse of compute";
  let description = [{
    Replaces every `rev.routine` by its `compute` ops, its `body` ops and the
    generated uncompute step (the inverse of `compute`). An uncompute step
    may hold uncalls and the inverses they need may hold routines, so the
    pass expands those uncalls too, until neither is left.
  }];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

def RevInsertChecks : Pass<"rev-insert-checks", "::mlir::ModuleOp"> {
  let summary = "Insert rev.check ops for checked mode";
  let description = [{
    With `reversibility=true` (the default), inserts before (or, for the end
    of an iteration or branch, inside) each op whose reversibility depends
    on run-time values a `rev.check` naming the rule and the op: ancillas
    restored (floats within `atol`), `rev.if` post condition equal to the
    pre condition, `rev.while` post condition false on entry and true after
    each iteration, non-zero multipliers and divisors (the kinds whose row in
    the update-kind table asks for it), positive loop steps, and no
    same-element aliasing in the `*_at` ops. Always (also with
    `reversibility=false`), generated derivative functions check at entry
    that each dynamically sized shadow memref has its memref's sizes. Run it
    after --rev-expand-uncalls and --rev-expand-routines, so that uncompute
    steps and generated inverses are checked too.
  }];
  let options = [
    Option<"reversibility", "reversibility", "bool", /*default=*/"true",
           "Insert the run-time reversibility checks (shadow shapes are always checked)">,
    Option<"atol", "atol", "double", /*default=*/"1e-8",
           "Absolute tolerance for float ancillas">,
  ];
  let dependentDialects = ["::mlir::rev::RevDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect"];
}

def LowerRev : Pass<"lower-rev", "::mlir::ModuleOp"> {
  let summary = "Lower rev to func/arith/math/scf/memref";
  let description = [{
    A dialect conversion with the patterns of conversion/LowerRev.h: updates
    (through the arithmetic of their row in the update-kind table), swaps,
    rotations and ancillas to arith/math/memref; `rev.for/if/while` to
    `scf.for/if/while`; `rev.func` to `func.func` (with
    `llvm.emit_c_interface`) returning the final scalar versions;
    `rev.check` to a message on stderr and `exit(1)`
    (`check-lowering=libc`, the default), to a call of
    `__rev_check_failed(message, length)` from `librev_runtime.so`
    (`check-lowering=runtime`: inside the guard that the Python package
    calls through, an exception; elsewhere the message and `exit(1)`) or to
    `cf.assert` (`check-lowering=assert`). The input must not hold `rev.routine` or
    `rev.uncall` (run --rev-expand-uncalls and --rev-expand-routines first);
    functions in nested symbol tables are lowered too.
  }];
  let options = [
    Option<"checkLowering", "check-lowering", "std::string", /*default=*/"\"libc\"",
           "How a failed rev.check reports: 'libc' (write + exit(1)), 'runtime' "
           "(__rev_check_failed of librev_runtime.so) or 'assert' (cf.assert)">,
    Option<"memrefNoalias", "memref-noalias", "bool", /*default=*/"true",
           "Record on each lowered function where its memref arguments' pointers "
           "go, for --rev-memref-noalias (after --convert-func-to-llvm) to mark "
           "them `llvm.noalias`">,
    Option<"markRecoveries", "mark-recoveries", "bool", /*default=*/"true",
           "Keep the mark `rev.recovery` of a recovery update on its arith op, "
           "for --rev-fold-recoveries (false: drop it)">,
    Option<"reassociateReductions", "reassociate-reductions", "bool", /*default=*/"true",
           "Put `fastmath<reassoc>` on the float combiner of each scf.reduce that a "
           "rev.parallel_for accumulator becomes (its sum's order is unspecified), so "
           "that LLVM may vectorise the loop with partial sums (false: a plain addf, "
           "the sequential build adds in iteration order)">,
    Option<"preferVectorWidth", "prefer-vector-width", "unsigned", /*default=*/"0",
           "Ask LLVM for vectors of this many bits in the lowered functions (their "
           "`passthrough` attribute \"prefer-vector-width\"; 128, 256 or 512); 0: the "
           "target's default (256 on x86 CPUs with AVX-512)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::func::FuncDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}

def RevAD : Pass<"rev-ad", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode AD by reverse computing: emit @f_grad for each rev.func @f";
  let description = [{
    For every selected `rev.func @f`, emits the backward sweep `@f_bwd`
    (marked `rev.backward_of = @f`) and `@f_grad` (marked
    `rev.gradient_of = @f`), which runs `@f` and then `@f_bwd`. Both take
    f's arguments, then one adjoint per float scalar argument, then one
    shadow memref per float memref argument, and return f's scalars
    followed by their adjoints. On entry to `@f_grad` the adjoints and
    shadows hold the adjoints of f's outputs (the seeds); on exit the
    scalars are back to their inputs and the adjoints/shadows hold the
    adjoints of f's inputs. No tape: the backward sweep recovers each
    earlier state by uncomputing (InvertibleOpInterface), then applies the
    op's adjoint update (AdjointOpInterface); pure expressions are
    differentiated through PartialDerivativeOpInterface. Callees get
    backward functions on demand. The result is a rev.func, so it can be
    inverted and differentiated again.

    Every `rev.grad_call @f ... seeds N` of the module (a gradient called
    from a `func.func` driver) is resolved whatever `funcs` selects:
    `@f_grad` is generated with these options (and its N-seed copy
    `@f_grad_xN`, as `--rev-seeds` makes it), and the op becomes a
    `rev.call` of it marked `always_inline` (docs/ad.md, "Calling a gradient
    from a driver").

    A `rev.parallel_for` gets a parallel backward loop: the adjoints of the
    outer scalars it reads are `reduce` accumulators (summed: scf.reduce),
    shadows of memrefs it only reads at other elements are added to
    atomically or per thread. Its `accumulate` attribute carries over;
    `parallel-accumulate` chooses the strategy of the backward loops whose
    forward loop says nothing.

    A `rev.steps` (out-of-place steps) gets `rev.steps_adjoint`: the steps
    reversed by binomial checkpointing (revolve) with as many state
    snapshots as `memory-budget` bytes hold (docs/memory.md).

    `loop-budget=B` (bytes per iteration) lets the gradient store values for
    the backward sweeps of the top-level `rev.for` loops of each function it
    differentiates (directly or in top-level `rev.if` branches) and of the
    functions those reach through top-level `rev.call`s (or calls in such
    branches), and of the `rev.for` loops nested in those, directly or in branches (one
    tape per nest): they and the gradient are marked here, and
    `--rev-tape-loops` (in the lowering pipelines) picks the values. With
    `memory-budget=BYTES > 0` loops store too, their tapes and the rev.steps
    snapshots together within BYTES at run time. The backward functions themselves (called by other
    gradients) are unchanged.

    `fuse-sweeps` (default on) fuses the two sweeps where f ends with a loop
    whose iterations are independent or with a routine: see
    transforms/FusedGradient.cpp and docs/ad.md ("How often the compute
    runs"). Such loops and routines of @f_grad are marked
    `rev.fused_sweeps`.

    `adjoint-only` (default on): where no adjoint update of @f_grad, nor a
    bound or condition around one, reads a value that f changes (f's updated
    variables and written memrefs; the inputs it returns unchanged and the
    memrefs it only reads are fine), the forward sweep and the uncomputation
    are the identity on the primal state and the adjoints do not depend on
    them: @f_grad keeps only the adjoint updates (transforms/AdjointOnly.cpp,
    docs/ad.md "Adjoint-only gradients"). Linear programs with inactive
    coefficients (`rev.const`, `wrt=`) get it.
  }];
  let options = [
    ListOption<"funcs", "funcs", "std::string",
               "Functions to differentiate (default: every rev.func that is not "
               "a generated backward sweep and has no gradient yet)">,
    Option<"onlyGradCalls", "only-grad-calls", "bool", /*default=*/"false",
           "Generate only the gradients that rev.grad_call ops ask for (and resolve "
           "them); no other function is differentiated, whatever 'funcs' says">,
    Option<"parallelAccumulate", "parallel-accumulate", "std::string", /*default=*/"\"\"",
           "How backward parallel loops add to shared adjoints when their forward loop has "
           "no 'accumulate' attribute: 'atomic' or 'privatize' (default: none set, which "
           "the lowering reads as 'atomic')">,
    Option<"memoryBudget", "memory-budget", "int64_t", /*default=*/"-1",
           "Bytes the checkpointed adjoint of each rev.steps may keep as states: revolve's "
           "snapshots (at least one is always kept) or Bennett's pebbles (the least number "
           "of levels that fits); -1: the default rules (revolve: enough snapshots for at "
           "most 3 recomputations of a step; Bennett: 2 levels); the op's own 'snapshots' "
           "or 'levels' wins. Shared with the top-level loops' stored values: each loop "
           "takes the largest of its plans whose trip count x bytes per iteration fits in "
           "what is left at run time (none: it reverse-computes), and the snapshots get "
           "what the tapes alive then leave; 0 stores nothing anywhere">,
    Option<"loopBudget", "loop-budget", "int64_t", /*default=*/"0",
           "Bytes per iteration that the gradient may store for the backward sweep of each "
           "top-level rev.for of a differentiated function (and of the functions it reaches "
           "through top-level rev.calls), and of each rev.for nested in such a loop (directly or in a branch), "
           "instead of recomputing them "
           "(--rev-tape-loops, after --lower-rev, chooses the values; 0: none, the "
           "gradient reverse-computes everything)">,
    Option<"fuseSweeps", "fuse-sweeps", "bool", /*default=*/"true",
           "Fuse the forward and backward sweeps in @f_grad where f ends with a loop whose "
           "iterations are independent (each iteration's backward runs right after its "
           "forward, in forward order) or a routine without inits (its compute runs twice "
           "instead of four times), again at the end of each fused body; false: @f_grad "
           "calls @f, then @f_bwd">,
    Option<"adjointOnly", "adjoint-only", "bool", /*default=*/"true",
           "Where no adjoint update reads a value that f changes (a linear program with "
           "inactive coefficients), @f_grad runs the adjoint updates alone: no forward "
           "sweep, no uncomputation, the primal state stays the input (marked "
           "rev.adjoint_only); false: always both sweeps">,
  ];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

def RevSeeds : Pass<"rev-seeds", "::mlir::ModuleOp"> {
  let summary = "Several adjoint seeds through one backward sweep: emit @g_xN for each gradient @g";
  let description = [{
    Vector-mode reverse AD. For every selected derivative function `@g`
    (default: every gradient, `rev.gradient_of`), emits `@g_xN` (marked
    `rev.seeds_of = @g`, `rev.seeds = N`): g's primal arguments, then N
    sets of g's adjoint arguments (adjoints and shadows), returning g's
    primal results, then N sets of its adjoint results. Set k comes out
    exactly (bit for bit) as a call of `@g` seeded with set k would give it,
    but the primal work (forward sweep, uncomputation, partial derivatives)
    runs once: only the ops that depend on the adjoints are copied N times.
    A Jacobian with N rows costs one sweep instead of N. Callees' backward
    functions get their N-seed functions on demand (`@h_bwd_xN`).

    Region ops (`rev.for`, `rev.parallel_for`, `rev.if`, `rev.while`,
    `rev.routine`) are copied once with N copies of the adjoints they carry;
    a version that a copied op consumes gets a copy per seed (adjoint
    ancillas), primal ones do not.

    What cannot be copied safely is a located error: an adjoint-dependent op
    that may write a memref that is not an adjoint buffer or that updates a
    primal argument, a loop bound or `rev.if`/`rev.while` condition that
    depends on the adjoints, a call of a function that is not a generated
    derivative with adjoint-dependent operands, or another kind of region op
    holding adjoint updates (`rev.steps_adjoint`). docs/ad.md, "Several
    seeds in one sweep".
  }];
  let options = [
    Option<"count", "count", "unsigned", /*default=*/"2",
           "N: the number of adjoint sets (seeds), 1..64">,
    ListOption<"funcs", "funcs", "std::string",
               "Derivative functions to copy (default: every rev.func marked "
               "rev.gradient_of)">,
  ];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

def RevFwd : Pass<"rev-fwd", "::mlir::ModuleOp"> {
  let summary = "Forward-mode (tangent) AD: emit @f_fwd for each rev.func @f";
  let description = [{
    Emits `@f_fwd` (marked `rev.tangent_of = @f`) with the same layout as
    the gradient: f's arguments, one tangent per float scalar argument, one
    tangent memref per float memref argument; it returns f's results
    followed by their tangents and updates the tangent memrefs in place.
    Applied to a gradient function it gives Hessian-vector products
    (forward over reverse).
  }];
  let options = [
    ListOption<"funcs", "funcs", "std::string",
               "Functions to differentiate (default: every rev.func that has no "
               "tangent function yet and is not one)">,
  ];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

def RevUnrollSmallLoops : Pass<"rev-unroll-small-loops", "::mlir::ModuleOp"> {
  let summary = "Fully unroll small scf.for loops with a constant trip count";
  let description = [{
    Fully unrolls (upstream `mlir::loopUnrollFull`) every `scf.for` whose
    trip count is a compile-time constant in 1..`max-trip-count` and whose
    body holds at most `max-body-ops` ops (nested ops included, the
    terminator not). Inner loops go first, and a loop that still holds a
    loop after that (one too big to unroll, or with a run-time trip count)
    is left alone, so only innermost loops are unrolled, repeatedly: in a
    backward sweep the constant-trip term loops inside an element loop
    disappear and the element loop becomes innermost, where LLVM's
    vectoriser looks (LLVM unrolls such loops in forward code by itself,
    but not the ones the backward sweep generates). Run after
    `--lower-rev`; `--rev-to-llvm` does (its `unroll-*` options).
  }];
  let options = [
    Option<"maxTripCount", "max-trip-count", "unsigned", /*default=*/"32",
           "Unroll loops that run at most this many iterations (0: none)">,
    Option<"maxBodyOps", "max-body-ops", "unsigned", /*default=*/"64",
           "Unroll loops whose body holds at most this many ops (nested ops "
           "included, the terminator not)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"];
}

def RevPipelineSweeps : Pass<"rev-pipeline-sweeps", "::mlir::ModuleOp"> {
  let summary = "Vectorise and software-pipeline element loops whose forward part divides";
  let description = [{
    A fused gradient's element loop runs, per element, a forward part (the
    primal values: a series' divisions, independent of each other) and then
    a backward part (a serial chain of multiply-adds on the adjoints). In
    the object code LLVM makes of it, the divider idles while the backward
    chain runs and the multipliers wait on the divisions: the two parts do
    not overlap (the out-of-order window is too small, and LLVM's scheduler
    keeps each part together). This pass rewrites such a loop into a loop
    over vectors of `vector-bits` bits whose every step runs the forward
    part of the *next* vector of elements interleaved with the backward
    part of the *current* one (software pipelining), so that the divisions
    overlap the backward chain. The forward values cross from one step to
    the next through a two-slot stack buffer indexed by the step's parity
    (which also keeps LLVM from gathering the divisions again), one buffer
    per pipelined loop at the function's entry; the elements left over
    after the last full vector run in the original loop. Exact: every
    element sees the same operations in the same order, only the order
    across elements changes (bit-for-bit the same results, except under
    fast-math flags that let LLVM reassociate or contract, `fast`).

    A loop qualifies when, in a function lowered from a rev.func with
    memref-noalias (`rev.noalias_arg_count`: rev forbids a written memref
    argument to share memory with another one), it is an innermost signed
    `scf.for` with step 1 and no results whose body holds only
    `memref.load`/`memref.store` of rank-1 identity-layout memref arguments
    at the induction variable and arith/math elementwise ops on one float
    type. Its forward part is its divisions and square roots (a division by
    a constant power of two is not one) and the ops they are computed from,
    provided those depend only on loads of memrefs the loop does not write
    and on values from outside the loop; everything else is the backward
    part. The forward part must hold at least `min-divisions` divisions or
    square roots, and the backward part at least as many ops as the forward
    part has divisions. Loops in an `scf.parallel` are left alone unless
    `parallel-chunk` > 0.

    With `parallel-chunk` > 0, a one-dimensional `scf.parallel` (step 1, no
    reductions) whose body qualifies the same way is first split into
    chunks of that many elements (rounded up to whole vectors): an
    `scf.parallel` over the chunks, each running an `scf.for` over its
    elements, which is then pipelined, its buffer at the start of the
    enclosing `scf.parallel`'s body (each iteration, so each thread, has its
    own: the OpenMP conversion gives each iteration a stack scope).
    `--rev-to-llvm` runs the pass last before the LLVM conversion and
    `--rev-to-openmp` before `--convert-scf-to-openmp` (with chunks of 4096
    elements), both under their `pipeline-sweeps` option.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "unsigned", /*default=*/"256",
           "Vector width in bits (128, 256, 512 or 1024): lanes = bits / float width">,
    Option<"minDivisions", "min-divisions", "unsigned", /*default=*/"8",
           "Pipeline only loops whose forward part holds at least this many "
           "divisions or square roots">,
    Option<"parallelChunk", "parallel-chunk", "unsigned", /*default=*/"0",
           "Also pipeline qualifying one-dimensional scf.parallel loops, split "
           "into chunks of this many elements (0: leave scf.parallel alone)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::vector::VectorDialect"];
}

def RevDivideByConstants : Pass<"rev-divide-by-constants"> {
  let summary = "Divide float vectors by constants exactly, with multiplications and FMAs";
  let description = [{
    Rewrites `arith.divf %a, %c` on 1-D float vectors (f32, f64) whose
    divisor is a splat constant (a dense splat or a `vector.broadcast` of a
    scalar constant) into a multiplication by the rounded reciprocal
    y = RN(1/c) and one or two Markstein corrections
    (`r = fma(q, -c, a)`, `q = fma(r, y, q)`), which give exactly the
    correctly rounded quotient, bit for bit that of the division. Each
    constant is certified when the pass runs: one correction when
    |c y - 1| <= 2^-(p+1) (p the precision), two when
    |c y - 1| C (1 + 2^(4-p)) < 1 (C the integral significand of c); the
    proof is in the source file. Constants that are powers of two (LLVM
    multiplies already), that fail both tests, or that lie outside
    [2^-64, 2^64] (f64; [2^-16, 2^16] for f32) keep their division.

    The proof needs every intermediate value normal and finite, so per
    numerator and block one `scf.if` tests that every lane of the numerator
    lies in [2^(emin + 2p + 2k), 2^(emax - k - 4)] (k = 64 for f64, 16 for
    f32: [2^-788, 2^955] and [2^-46, 2^107]) and runs the multiplications, else the divisions: zeros,
    infinities, NaNs, subnormal and very large numerators take the
    division. All the divisions of one value share the test.

    Only vector divisions are rewritten (--rev-pipeline-sweeps makes them):
    in a scalar loop the branch would keep LLVM from vectorising it.
    Divisions with fast-math flags other than `contract` are left alone
    (under `arcp` LLVM multiplies by the reciprocal, inexactly). Run by
    `--rev-to-llvm` and `--rev-to-openmp` after --rev-pipeline-sweeps
    (their option `divide-by-constants`, default on).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::vector::VectorDialect"];
}

def RevCheckMemrefCasts : Pass<"rev-check-memref-casts", "::mlir::ModuleOp"> {
  let summary = "Reject memref.cast ops that always fail at run time, before canonicalisation";
  let description = [{
    A `memref.cast` from a dynamic to a static size is checked only at run
    time, but when the buffer comes from a `memref.alloc`/`memref.alloca`
    whose size operand is a constant (possibly through other casts), the
    result is known now: a cast to another static size always fails.
    Upstream canonicalisation folds the constant size into the allocation
    and then the cast into one from a static to another static size, which
    the verifier rejects (invalid IR after a pass; upstream MLIR 22.1.8,
    ../shared/repro/10). This pass reports such a cast with its location and
    the allocation's, so the pipelines fail on the user's op instead.
    First pass of `rev-to-llvm`, `rev-to-openmp` and `rev-to-gpu`.
  }];
}

def RevSerialAtomics : Pass<"rev-serial-atomics", "::mlir::ModuleOp"> {
  let summary = "Plain adds for the atomic adds of parallel loops that run on one thread";
  let description = [{
    The sequential back end (`rev-to-llvm`) runs every `scf.parallel` as an
    ordinary loop on the calling thread. There, each `memref.atomic_rmw
    addf/addi` with an unused result inside an `scf.parallel` (the shared
    accumulations of a `rev.parallel_for`, docs/parallel.md) becomes a load,
    an add and a store: the same result, without x86's `lock cmpxchg` loop
    for doubles, and vectorisable. Only for pipelines that run the loops
    sequentially; `rev-to-openmp` and `rev-to-gpu` keep the atomics.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"];
}

def RevMemrefNoalias : Pass<"rev-memref-noalias", "::mlir::ModuleOp"> {
  let summary = "Mark the memref pointers of lowered rev functions llvm.noalias";
  let description = [{
    Runs after `--convert-func-to-llvm`. An `llvm.func` that `--lower-rev`
    marked (`rev.noalias_ptr_args`, `rev.noalias_arg_count`: rev forbids a
    written memref argument to share memory with another argument) gets
    `llvm.noalias` on the allocated and aligned pointers of its memref
    arguments, so that LLVM keeps values in registers across stores to other
    arrays and vectorises without run-time overlap checks. Upstream
    `--convert-func-to-llvm` puts a memref argument's `llvm.noalias` only on
    the C wrapper's descriptor pointer (or on the bare pointer in the
    bare-pointer convention), not on the descriptor's pointers. A function
    whose signature is not the one recorded is left alone; the marks are
    removed from every function.

    The C wrappers (`_mlir_ciface_f`) of functions that `--lower-rev`
    gave a preferred vector width (`prefer-vector-width` in `passthrough`)
    also get `noinline`: an ExecutionEngine calls them through packed
    wrappers of its own, without that attribute, and LLVM would otherwise
    inline them there and vectorise at that wrapper's (the default) width.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def RevTapeLoops : Pass<"rev-tape-loops", "::mlir::ModuleOp"> {
  let summary = "Store chosen values of marked forward loops for their backward sweeps";
  let description = [{
    Runs after `--lower-rev` on the gradients that `rev-ad{loop-budget=B}`
    marked (`rev.loop_budget`). It inlines the gradient's calls of the
    forward and backward functions, then for each marked pair of loops (the
    forward `scf.for` `rev.tape_loop = N` and its backward `rev.tape_adjoint
    = N`):
     * finds the *recomputable slice* of the backward body: pure ops (and
       loads of read-only memref arguments, or of primal memref arguments
       that nothing before the load in the backward body may write: they
       read the memory the forward iteration left) computed only from the
       iteration's state (the loop-carried primal values), the induction
       variable and values the forward loop can see;
     * chooses values of that slice to store, greedily by estimated net time
       saved per byte (a move stores one value, or the sine and the cosine of
       one value together), within B bytes per iteration. Static costs: 20 for a
       transcendental, 6 for a division or square root, 1 otherwise, three
       times that on the loop-carried uncompute chain (its latency is
       serial); a sine and a cosine of one value are one sincos call (the
       second costs 4); the time saved by storing a set of values is the
       cost of the backward slice ops that are then dead, minus the cost of
       what the forward loop must compute in addition (what it does not
       compute already), minus 8 per value for its store and load. A stored
       pre-state value (the backward loop's yielded state) ends the uncompute
       chain; a stored partial derivative ends its own computation;
     * computes those values in the forward loop (from its state before and
       after the iteration), stores them in tapes allocated before it (one
       memref per value, trip-count long), and loads them in the backward
       loop in place of the recomputation, then frees the tapes.
    In checked mode (`checks`) the recomputation stays and a check compares
    it with the stored value in every iteration, so a backward sweep whose
    uncomputation is ill-conditioned (e.g. `y += 1e20 * x` loses `y`) is
    reported instead of silently differing.
    Top-level pairs may sit in branches of top-level `scf.if`s (the forward
    loop in a branch of the forward `scf.if`, the backward one in the same
    branch of the backward `scf.if`; calls there are inlined first): their
    tapes are allocated before the forward `scf.if` and freed after the
    backward one, and with a budget in bytes in all they draw only when their
    branch runs.
    Pairs nested in a pair's bodies (marked loops in the forward body and in
    the backward body, directly or in `scf.if` branches there; calls there
    are inlined first) are handled the same way, innermost
    first, with one tape per nest: allocated before the top-level loop
    (the product of the levels' trip counts, so their bounds must be known
    there; or, for a loop in a top-level loop whose bounds are computed from
    the outer induction variable, a triangular nest, the sum of its trip
    counts over the outer iterations, counted by a loop before the nest that
    also stores each outer iteration's running sum as its base position),
    indexed by the iteration's flat position; their slices may read
    the outer backward body's values computed from its visited index. A
    backward loop marked `rev.tape_in_order` visits the iterations in the
    forward's order and reads its tapes in that order.
    Without marks it changes nothing. The values stored equal the recomputed
    ones up to rounding (reverse computing recovers states exactly only up to
    rounding; the stored ones are exact).

    With a budget in bytes in all (`rev.loop_budget_total`, from
    `rev-ad{memory-budget=BYTES}`) the gradient gets one counter of the bytes
    no tape holds; each loop gets up to four plans (the greedy choice, then
    the greedy choice within fewer bytes per iteration than the last), and
    at run time the first plan whose trip count x bytes fits in the counter
    is taken from it (given back after the backward loop); the forward and
    backward loops become `scf.index_switch`es over one copy per plan and
    the reverse-computing pair. The `rev.steps` adjoints inlined into the
    gradient read their snapshot bytes from the same counter.
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark on each gradient with the bytes per iteration stored for each "
           "loop">,
    Option<"checks", "checks", "bool", /*default=*/"false",
           "Checked mode: the backward loop still recomputes each stored value and a "
           "run-time check compares the two (floats within max(atol, 64 ulp) * max(1, "
           "|value|), integers exactly)">,
    Option<"atol", "atol", "double", /*default=*/"1e-8",
           "Tolerance of the checked-mode comparison (relative above 1)">,
    Option<"checkLowering", "check-lowering", "std::string", /*default=*/"\"libc\"",
           "How a failed check reports (as --lower-rev's option): 'libc', 'runtime' or "
           "'assert'">,
  ];
  // (func and cf: the lowering of checked mode's checks; math: their |x|)
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
                           "::mlir::func::FuncDialect", "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
}

def RevFoldZeroAdjoints : Pass<"rev-fold-zero-adjoints", "::mlir::ModuleOp"> {
  let summary = "Remove the updates of generated derivative code by known-zero adjoints";
  let description = [{
    A small activity analysis (transforms/ZeroAdjoints.cpp): the adjoint or
    tangent of an ancilla starts as an exact structural zero (`rev.alloc
    {adjoint}`) and stays one through `rev.add/sub` of zeros, `rev.mul/div`
    and `rev.neg` of a zero, products and quotients with a zero factor or
    numerator, sums of zeros, and `rev.for` iter_args that start and stay
    zero (an optimistic fixed point). Then `y += d`, `y -= d`, `A[i] += d`,
    `A[i] -= d` with a known-zero `d` are removed, as are `y *= d`, `y /= d`
    and `-y` of a known-zero `y` (results replaced by `y`). No fast-math is
    needed: the derivative is exactly the same, except that IEEE results
    differ where the unfolded code multiplies a structural zero by an
    infinity or NaN (NaN there, 0 here) and in the sign of a zero result
    (docs/ad.md, "Known-zero adjoints"). Functions that still hold
    `rev.routine` or `rev.uncall` are left alone: run after
    `--rev-expand-uncalls` and `--rev-expand-routines`, as `--rev-to-llvm`
    does (its `fold-zero-adjoints` option), and do not invert the result.
  }];
  let statistics = [
    Statistic<"numRemovedUpdates", "removed-updates", "Additive updates by a known zero removed">,
    Statistic<"numForwardedZeros", "forwarded-zeros", "Scalings and negations of a known zero removed">,
    Statistic<"numSkippedFunctions", "skipped-functions", "Functions left alone (routines or uncalls left)">,
  ];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

def RevFoldRecoveries : Pass<"rev-fold-recoveries", "::mlir::ModuleOp"> {
  let summary = "Cancel the backward sweep's recoveries against the forward ops they undo";
  let description = [{
    A gradient recovers earlier primal values by running updates backwards
    (`t / d` undoing `t * d`); rev-ad marks such updates `rev.recovery` and
    `--lower-rev` keeps the mark on their arith ops. Where the op a
    recovery undoes is in reach, this pass replaces the recovery by the
    value that op started from: `(a * b) / b`, `(a / b) * b`, `(a + b) - b`
    and `(a - b) + b` become `a` when the outer op is marked (or carries the
    fast-math flag `reassoc`). So the backward reads the forward's value
    instead of dividing: exactly the value the forward had, where the
    recomputation would round. To see one `b` on both sides it first
    forwards loads in each block (no write of that memory between: a store
    to another memref argument of a lowered rev function, or to memory the
    function allocates, is not one) and runs CSE; then it removes what
    became dead and drops every mark. `--rev-to-llvm` runs it after
    `--rev-tape-loops` (option `fold-recoveries`). Functions without a
    marked (or `reassoc`) op are left alone.
  }];
  let statistics = [
    Statistic<"numFolded", "folded", "Recoveries replaced by the forward's value">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"];
}

def RevFastMath : Pass<"rev-fast-math", "::mlir::ModuleOp"> {
  let summary = "Set arith fastmath flags on the float ops of lowered functions";
  let description = [{
    Sets the `fastmath` attribute of every op that has one
    (ArithFastMathInterface: `arith.addf`, `arith.divf`, `arith.cmpf`,
    `math.*`, ...) in the module to `flags`, an `arith` fast-math flag list
    (`none`, `arcp`, `contract`, `fast`, or a comma-separated combination
    such as `arcp,contract`). Run it before the conversion to LLVM, so that
    the flags become the LLVM instructions' (`llvm.fdiv ... {fastmathFlags =
    #llvm.fastmath<arcp>}`, `fdiv arcp` in LLVM IR). `none` leaves every op
    alone; otherwise the flags replace the ops' own. Not part of rev's
    default: `arcp` lets LLVM replace `x / c` by `x * (1 / c)` (other
    rounding), `fast` also lets it reassociate and assume no NaN or
    infinity (checked mode's comparisons included). `--rev-to-llvm` runs it
    with its `fast-math` option.
  }];
  let options = [
    Option<"flags", "flags", "std::string", /*default=*/"\"none\"",
           "The fast-math flags to set (`none`, `arcp`, `fast`, "
           "`arcp,contract`, ...)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def RevGpuPrepare : Pass<"rev-gpu-prepare", "::mlir::ModuleOp"> {
  let summary = "Make the bodies of parallel loops GPU kernels, or reject them with a located error";
  let description = [{
    Runs on the standard IR (after `--lower-rev`), before the parallel loops
    become `gpu.launch` kernels (`rev-to-gpu`). For each outermost
    `scf.parallel`:
    * a failed-check report of the host check lowerings (`check-lowering=libc`
      or `runtime`: an `scf.if` that calls `write`/`exit` or
      `__rev_check_failed` with a `__rev_check_msg_*` message) becomes
      `cf.assert` with the same message, which `--convert-gpu-to-nvvm` turns
      into the device's `__assertfail` (the kernel traps, the message is
      printed by the driver); checks outside parallel loops keep the host
      lowering;
    * a call of a function goes to its device variant `@f_device` (private:
      a copy whose check reports are `cf.assert` and whose calls go to
      device variants in turn; `gpu-kernel-outlining` copies it into the
      kernel's `gpu.module`), so that the host keeps `@f` as it was; a
      function called from a kernel must not hold parallel loops;
    * a call of an external function (one with no body: nothing to compile
      for the device) is an error at the call;
    * a memref used inside the loop that is not (a view of) an argument of
      the enclosing function (a buffer allocated or taken from a global on the
      host) is an error at its use: only the function's memref arguments are
      device-accessible (the caller passes device or managed memory).
    A loop without reductions is then put under `scf.if` (every lower bound
    below its upper bound): an empty loop launches no kernel (CUDA rejects
    a grid of 0 blocks).
  }];
  let dependentDialects = ["::mlir::cf::ControlFlowDialect", "::mlir::arith::ArithDialect"];
}

def RevGpuReductions : Pass<"rev-gpu-reductions", "::mlir::ModuleOp"> {
  let summary = "Map 1-d scf.parallel loops with additive scf.reduce to gpu.launch with a block reduction";
  let description = [{
    Upstream `--convert-parallel-loops-to-gpu` cannot lower an `scf.parallel`
    that reduces. Each 1-d `scf.parallel` whose reductions all have an
    `arith.addf` or `arith.addi` combiner (f16/f32/f64/i32/i64) becomes a
    `gpu.launch` of `max(ceildiv(trip count, block-size), 1)` blocks of
    `block-size` threads: each thread computes the partial values of its
    element (0 outside the iteration range), `gpu.all_reduce add` sums them
    over the block, and thread 0 adds the block's sum into a one-element
    device accumulator with `memref.atomic_rmw` (one atomic per block). The
    accumulator starts at the init value (`gpu.memcpy` from the host) and is
    copied back after the launch, so the result is init + sum (up to the
    order of the additions). Loops without reductions are left for the
    upstream mapping; a reducing loop of another shape (several dimensions,
    another combiner, nested in a parallel loop or a kernel) is an error at
    its location.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block (1..1024; a multiple of 32 for full warps)">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect"];
}

def RevOwnedRanges : Pass<"rev-owned-ranges", "::mlir::ModuleOp"> {
  let summary = "Version scf.parallel loops whose atomic adds hit row ranges of a CSR-like index";
  let description = [{
    In a one-dimensional `scf.parallel` with step 1 over `%r`, an atomic add
    `memref.atomic_rmw addf|addi` (unused result) into `M[%k]`, where `%k`
    is the induction variable of an `scf.for` directly in the loop body
    running from `P[%r]` to `P[%r + 1]` (P: a 1-d memref only loaded in the
    function), touches an element that no other iteration touches when P is
    non-decreasing: the rows' ranges are then disjoint. When every access to
    M in the loop is such an add, the pass computes that test at run time
    (one pass over P before the loop) and runs a copy of the loop in which
    those adds are plain loads, adds and stores (marked `rev.owned_ranges`)
    when it holds, the original loop otherwise. The adjoint of CSR SpMV with
    respect to its values is such a loop (`valsbar[k] += x[col[k]] *
    ybar[r]`): 1e7 atomic adds (`lock cmpxchg` loops on x86) become plain
    ones. M must have no other name (an allocation, or an argument of a
    function lowered from a rev.func, used only by loads, stores into it,
    atomics, dims and frees: hasNoOtherNames in passes/AtomicAdds.h), since
    its plain adds run beside the other rows. Runs in `rev-to-openmp` before
    `--rev-privatize-atomics` (`owned-ranges=0` skips it).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def RevPrivatizeAtomics : Pass<"rev-privatize-atomics", "::mlir::ModuleOp"> {
  let summary = "Privatised copies instead of atomic adds in scf.parallel loops (CPU)";
  let description = [{
    For every top-level one-dimensional `scf.parallel` (whose results, if
    any, are sums: `scf.reduce` with an `arith.addf`/`addi` combiner), and
    every 1-d memref M defined outside it whose only accesses in the loop
    are `memref.atomic_rmw addf` (or all `addi`) with an unused result, not
    inside a nested `scf.parallel`:
    splits the iteration space into `copies` contiguous chunks and runs them
    as an outer `scf.parallel`, each chunk an `scf.for` with plain loads,
    adds and stores: chunk 0 into M itself (nothing else in the loop touches
    M; M must be an allocation or an argument of a function lowered from a
    rev.func, `rev.noalias_ptr_args`, used only by loads, stores into it,
    atomics, dims and frees: elsewhere, views, casts, selects, calls or a
    plain func.func's arguments, chunk 0 gets a copy too), each other chunk
    into its own private copy of M, zeroed with the sum's identity (-0.0 for
    floats); then a parallel loop over M's elements adds the copies into M
    (`M[j] += P1[j] + P2[j] + ...`, in copy order; skipped when there is no
    copy) and the copies are freed.
    On x86 an atomic add of a double is a `lock cmpxchg` loop, so an atomic
    scatter hardly scales (docs/parallel.md, "CPU: OpenMP"). The result
    equals the atomic version up to the order of the float additions.
    Memrefs with a static size above `max-elements` stay atomic; otherwise
    a run-time test chooses between the privatised loop and the original
    one: a dynamic size must be at most `max-elements`, and the loop must
    run at least `min-trips-per-element` iterations per element of the
    memref (zeroing and summing the copies costs a few passes over them:
    with fewer updates than elements the atomics are faster). `copies=0` takes the OpenMP runtime's thread count
    (`omp_get_max_threads()`, called before the loop), so the output then
    needs the OpenMP runtime (`--rev-to-openmp`). A loop with sums keeps
    them: each chunk adds its iterations' values from the identity (-0.0 or
    0) in its `scf.for`, and the outer loop's `scf.reduce` (the original
    combiners) adds the chunks' sums to the init values. Loops with other
    reductions, multi-dimensional loops and loops nested in another
    `scf.parallel` are left alone. A loop that `--lower-rev` marked
    `rev.accumulate = "atomic"` (from `rev.parallel_for {accumulate =
    "atomic"}`) is left alone too; one marked "privatize" is privatised
    without the trip-count test.
  }];
  let options = [
    Option<"numCopies", "copies", "unsigned", /*default=*/"0",
           "Private copies (and chunks of the iteration space); 0: "
           "omp_get_max_threads() at run time">,
    Option<"maxElements", "max-elements", "int64_t", /*default=*/"4194304",
           "Privatise only memrefs of at most this many elements (the copies "
           "take copies x size elements)">,
    Option<"minTripsPerElement", "min-trips-per-element", "unsigned", /*default=*/"1",
           "Privatise only when the loop runs at least this many iterations per "
           "element of the memref (a run-time test; 0: no test)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
}

#endif // REV_PASSES
