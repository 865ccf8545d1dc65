//===- RevOps.h - ops of the rev dialect ----------------------*- C++ -*-===//
#ifndef REV_DIALECT_REVOPS_H
#define REV_DIALECT_REVOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/RevDialect.h"
#include "dialect/RevInterfaces.h"

#include <optional>

#define GET_OP_CLASSES
#include "dialect/RevOps.h.inc"

namespace mlir::rev {
/// Markers of generated functions (`rev.inverse_of = @f` on f's inverse, and
/// so on): the ABI that the passes, the lowering and the Python package
/// share (the package reads these names through the C API).
inline constexpr llvm::StringLiteral kInverseOfAttr = "rev.inverse_of";
inline constexpr llvm::StringLiteral kBackwardOfAttr = "rev.backward_of";
inline constexpr llvm::StringLiteral kGradientOfAttr = "rev.gradient_of";
inline constexpr llvm::StringLiteral kTangentOfAttr = "rev.tangent_of";
/// All four, in this order (the C API numbers them so).
inline constexpr llvm::StringLiteral kMarkerAttrs[] = {kInverseOfAttr, kBackwardOfAttr,
                                                       kGradientOfAttr, kTangentOfAttr};

/// Storing values for the backward sweep (docs/memory.md, "Loops"):
/// `rev-ad{loop-budget=B}` marks each top-level forward `rev.for` of a
/// differentiated function `rev.tape_loop = N` (its backward loop gets
/// `rev.tape_adjoint = N`) and the gradient `rev.loop_budget = B`; the
/// lowering keeps the three, and `--rev-tape-loops` (after `--lower-rev`)
/// turns the marked pairs into a forward loop that stores chosen values and a
/// backward loop that reads them, then drops the marks.
inline constexpr llvm::StringLiteral kLoopBudgetAttr = "rev.loop_budget";
/// With rev-ad{memory-budget=BYTES}: the bytes in all that the gradient's
/// loop tapes (and rev.steps snapshots) may hold at once; --rev-tape-loops
/// keeps a run-time counter of them and runs, for each loop, the largest plan
/// whose tapes fit in what is left (the reverse-computing loop if none).
inline constexpr llvm::StringLiteral kLoopBudgetTotalAttr = "rev.loop_budget_total";
/// On the `memref<index>` alloca that the lowering of a `rev.steps_adjoint`
/// with a memory budget reads its bytes from (stored once at the function's
/// entry). --rev-tape-loops replaces it by the gradient's one counter of the
/// bytes not yet taken by loop tapes, so that snapshots get what is left.
inline constexpr llvm::StringLiteral kMemoryBudgetCounterAttr = "rev.memory_budget_counter";
inline constexpr llvm::StringLiteral kTapeLoopAttr = "rev.tape_loop";
inline constexpr llvm::StringLiteral kTapeAdjointAttr = "rev.tape_adjoint";
/// On the op of a marked backward loop's lowering that computes its visited
/// index (`sum - j` for a reversed loop), so that --rev-tape-loops maps it to
/// the forward loop's induction variable.
inline constexpr llvm::StringLiteral kTapeIndexAttr = "rev.tape_index";
/// On a marked backward loop that visits the iterations in the forward's
/// order (its iterations touch only their own elements): its k-th iteration
/// reverses the forward's k-th, not the (n-1-k)-th.
inline constexpr llvm::StringLiteral kTapeInOrderAttr = "rev.tape_in_order";

/// On a loop or routine of a gradient function that runs the forward and the
/// backward sweep of a forward op at once (rev-ad's fuse-sweeps:
/// transforms/FusedGradient.cpp).
inline constexpr llvm::StringLiteral kFusedSweepsAttr = "rev.fused_sweeps";
/// On a rev.call (from a resolved rev.grad_call) and the func.call/llvm.call
/// it lowers to: the LLVM call-site attribute that inlines the callee.
inline constexpr llvm::StringLiteral kAlwaysInlineAttr = "always_inline";

/// On an update op that a gradient's backward sweep runs to recover a primal
/// value by inverting a forward update (`y / d` undoing `y * d`, `y - d`
/// undoing `y + d`), and on its arith op after --lower-rev:
/// --rev-fold-recoveries replaces it by the forward's `y` where that is at
/// hand (docs/ad.md, "Recovered values") and drops the mark. Checked mode
/// drops it first (--rev-insert-checks): there every recovery is computed as
/// written and compared.
inline constexpr llvm::StringLiteral kRecoveryAttr = "rev.recovery";
/// On the inverse of a recovery (`y * d` redoing what `y / d` recovered):
/// a plain recomputation, lowered exactly; the inverse of one is a recovery
/// again (the uncompute of a backward routine's compute).
inline constexpr llvm::StringLiteral kRecomputationAttr = "rev.recomputation";

/// On a gradient function that runs neither f's forward sweep nor its
/// uncomputation, because no adjoint update reads a value that f changes
/// (rev-ad's adjoint-only: transforms/AdjointOnly.cpp).
inline constexpr llvm::StringLiteral kAdjointOnlyAttr = "rev.adjoint_only";

/// On `@g_xN`, the N-seed copy of a derivative function @g (--rev-seeds,
/// transforms/MultiSeed.cpp): `rev.seeds_of = @g`, `rev.seeds = N`. It takes
/// g's primal arguments, then N sets of g's adjoint arguments, and returns
/// g's primal results, then N sets of its adjoint results.
inline constexpr llvm::StringLiteral kSeedsOfAttr = "rev.seeds_of";
inline constexpr llvm::StringLiteral kSeedsAttr = "rev.seeds";

/// A scalar argument of a rev.func that the function never updates (or a
/// memref argument it only reads) and that reverse-mode AD treats as a
/// constant: no adjoint is accumulated for it (its adjoint argument or
/// shadow comes back unchanged), so no loop sums one.
inline constexpr llvm::StringLiteral kConstArgAttr = "rev.const";
/// Whether `v` is such an argument (of the function's entry block).
bool isConstantArgument(Value v);
/// A memref argument marked `rev.const` is one the function only reads
/// (never writes, never passes to a call): reverse mode accumulates no
/// adjoint into its shadow. Whether the memref `v` is such an argument, or
/// a view (or select) of such arguments only.
bool isConstantMemref(Value v);
/// The memrefs that the memref `v` may be: through views (subview, cast,
/// ...) and both sides of an arith.select; any other value is its own.
void memrefSources(Value v, SmallVectorImpl<Value> &out);
/// memrefSources, with every `memref.get_global` of one symbol in one
/// function as one value (the first such op there): the memory `v` may be.
void memrefAliasRoots(Value v, SmallVectorImpl<Value> &out);
/// An op that may write the memref argument `arg` (directly, through a view
/// or a select, or by passing it to an op whose effects are unknown), or
/// null when the function only reads it.
Operation *memrefArgumentWriter(BlockArgument arg);
/// Whether `op` itself may change `memref` (its contents or its lifetime):
/// any memory effect but a read on it or on no particular value, or unknown
/// effects (a call, an op without MemoryEffectOpInterface).
bool mayModifyMemref(Operation *op, Value memref);

/// The derivative argument layout, the ABI of generated derivative functions
/// (the verifier checks marked functions against it; the Python package reads
/// it through the C API). Float scalars are active (they get adjoints and
/// tangents), integers and index values are not; float memrefs get shadows.
/// Float scalars are active (they get adjoints/tangents); integers and index
/// values are not.
bool isActiveScalar(Type type);
/// Memrefs of floats get shadow memrefs.
bool isActiveMemRef(Type type);

/// The layout of derivative functions: f's inputs, then one adjoint/tangent
/// per active scalar input, then one shadow per active memref input.
FunctionType derivativeFunctionType(FunctionType primal);
/// In that layout, the argument position of the derivative (adjoint, tangent
/// or shadow) of each primal input; -1 for inactive ones.
SmallVector<int> derivativeArgPositions(TypeRange primalInputs);

/// True if `op` is a side-effect free (or read-only) computation that an
/// inverse or derivative may recompute anywhere its operands are current: it
/// is not an invertible op, not a terminator and writes nothing.
bool isRecomputable(Operation *op);

/// Why a rev.discard cannot be inverted or differentiated, and what to do.
extern const char *const kDiscardAdvice;

/// Checks the reversibility rules (linearity, no shared read/write, derived
/// values follow their sources, no foreign side effects) over the body of a
/// rev.func. Emits located diagnostics and fails on the first violation.
LogicalResult verifyReversibleBody(FuncOp func);

/// How the body of a rev.parallel_for uses a memref defined outside it.
enum class ParallelAccess {
  ReadOnly,        // never written: read anywhere
  Private,         // read and written at the iteration's own element only
  SharedAccumulate // only added to (rev.add_at/sub_at), anywhere, never read
};

/// Classifies every memref defined outside `loop` that its body accesses
/// (RevParallel.cpp). Fails, with a located error when `emitErrors`, if the
/// iterations could race on one (or a memref is passed to a call, or a
/// parallel loop is nested).
FailureOr<SmallVector<std::pair<Value, ParallelAccess>>>
classifyParallelAccesses(ParallelForOp loop, bool emitErrors = true);
/// The same rules for the body of a rev.for or rev.parallel_for `loop`
/// (whether the iterations of a rev.for could run in any order, e.g. its
/// backward sweep fused with its forward one: transforms/FusedGradient.cpp).
/// `skip`: memrefs to leave out (neither classified nor returned), e.g. the
/// scratch that every iteration restores (FusedGradient's fusable loops).
FailureOr<SmallVector<std::pair<Value, ParallelAccess>>>
classifyLoopAccesses(Operation *loop, bool emitErrors,
                     llvm::function_ref<bool(Value)> skip = nullptr);
/// Whether the body of a rev.for or rev.parallel_for `loop` reads and writes
/// every memref defined outside it only at the iteration's own element (the
/// same own index at every access): then the backward sweep's shadow updates
/// are per iteration too, and no sum depends on the iterations' order.
bool accessesOwnElementsOnly(Operation *loop);
/// Whether every iter_arg of `loop` is only added to (rev.add/rev.sub, also
/// through nested region ops) and yielded in its place: the reduce rule of
/// rev.parallel_for, without diagnostics.
bool iterArgsAreAccumulators(ForOp loop);

/// The independence rules of rev.parallel_for: the memref accesses above and
/// the reduce accumulators (only added to, never read).
LogicalResult verifyParallelIndependence(ParallelForOp loop);

/// The block arguments of `block` that are variables threaded through it
/// (all arguments but a rev.for / rev.parallel_for induction variable).
Block::BlockArgListType getThreadedArgs(Block &block);

/// The memref that `memref` is a view of, following view-like ops
/// (memref.cast, subview, ...) to the first value that is not one.
Value viewRoot(Value memref);

/// Calls `onWrite(op, target)` for each memref `target` that `root` or an op
/// nested in it may write: the memref operands of a rev call or uncall, the
/// value of each MemoryEffects::Write. `target` is null where the writes
/// cannot be told: a write effect without a value, or an op with neither an
/// effects interface nor recursive effects (whose nested ops are visited).
void forEachMemRefWrite(Operation *root,
                        llvm::function_ref<void(Operation *op, Value target)> onWrite);

/// True if `op` writes `memref`, itself or through any nested op (a rev call
/// or uncall that receives the memref counts as a write).
bool writesMemRef(Operation *op, Value memref);

/// The first pair (i, j), i < j, of `operands` that pass the same memref
/// where `written(i)` or `written(j)`: a call that passes one buffer twice
/// and writes it through either name is aliasing (rev.call, rev.grad_call).
std::optional<std::pair<unsigned, unsigned>>
findWrittenAlias(ValueRange operands, llvm::function_ref<bool(unsigned)> written);

/// Clones the ops of the pure condition region `cond` (a rev.if/rev.while
/// pre or post region) at the insertion point of `b`, its arguments bound to
/// `args`, and returns the value it yields to rev.cond.
Value cloneCondition(OpBuilder &b, Region &cond, ValueRange args);

/// Depth-first walk of the pure expression DAG computing `root` (root
/// included), stopping at values that are not recomputable.
void walkPureSlice(Value root, llvm::function_ref<void(Value)> fn);
} // namespace mlir::rev

#endif
