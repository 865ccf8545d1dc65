//===- ReverseMode.h - the backward sweep by reverse computing -*- C++ -*-===//
//
// Backward sweep (reverse mode). For `rev.func @f(args) -> (scalars)` the AD
// pass emits `@f_bwd`, whose arguments are f's arguments (the *final* state),
// then one adjoint per float scalar argument, then one shadow memref per float
// memref argument (Differentiation.h, derivativeArgPositions). It walks f's
// ops backwards: each op is first uncomputed through its inverse (so earlier
// states are recovered, never taped), then its adjoint update is applied
// (AdjointOpInterface). It returns the restored initial scalars and their
// adjoints; the shadows hold the adjoints of the memrefs' initial contents.
// `@f_grad` (same signature) runs `@f` and then `@f_bwd`.
//
// Every derivative function is itself a rev.func built from rev ops, so it
// can be inverted, differentiated again and lowered like any other.
//
//===----------------------------------------------------------------------===//
#ifndef REV_TRANSFORMS_REVERSEMODE_H
#define REV_TRANSFORMS_REVERSEMODE_H

#include "transforms/Differentiation.h"
#include "transforms/Inversion.h"

#include "llvm/ADT/DenseMap.h"

namespace mlir::rev {
class AdjointState {
public:
  /// Forward values -> values of the backward program (uncomputed state).
  InversionState recovered;
  /// Forward memref -> its shadow in the backward program.
  llvm::DenseMap<Value, Value> shadows;

  /// The current adjoint of the float variable version `v`. A version whose
  /// adjoint has not been set (its value never reaches an output) gets a fresh
  /// zero ancilla.
  Value getAdjoint(OpBuilder &b, Value v);
  void setAdjoint(Value v, Value adjoint) { adjoints[v] = adjoint; }
  void eraseAdjoint(Value v) { adjoints.erase(v); }

  /// Recomputes the forward value `v` in the backward program.
  Value lookup(OpBuilder &b, Value v) { return recovered.lookup(b, v); }
  /// The shadow of a forward memref; a located error if it has none.
  FailureOr<Value> getShadow(Value memref, Operation *user);

  /// Emits the inverse of `op` (the uncompute step).
  LogicalResult uncompute(OpBuilder &b, Operation *op);
  /// The same in the caller's recomputation scope: the values it recomputes
  /// (an update's delta) are reused by the lookups that follow in that scope
  /// (the delta's partial derivatives), instead of being recomputed after
  /// the uncompute's store.
  LogicalResult uncomputeInScope(OpBuilder &b, Operation *op);

  /// Reverse sweep through the pure expression DAG computing `root`: adds
  /// `seed * d root / d leaf` to the adjoint of every float variable version
  /// it reads and to the shadow element of every float load. The partial
  /// derivatives are built once; `seed` builds the seed right before each
  /// leaf's update (so a seed read from a shadow memref is loaded afresh
  /// after the previous update wrote that memref). `user` is the op the
  /// expression belongs to (for diagnostics).
  LogicalResult accumulate(OpBuilder &b, Value root,
                           llvm::function_ref<Value(OpBuilder &)> seed, Operation *user);

  /// Backward sweep over `src` (its terminator's operands are `finals` in the
  /// backward program, the float ones with adjoints `finalAdjoints`). Returns
  /// the restored threaded block arguments followed by the adjoints of the
  /// float ones.
  FailureOr<SmallVector<Value>> adjointBlock(OpBuilder &b, Block &src, ValueRange finals,
                                             ValueRange finalAdjoints);

  /// The backward sweep of `ops` (forward order; swept last first).
  LogicalResult adjointOps(OpBuilder &b, ArrayRef<Operation *> ops);
  /// The restored threaded arguments of `src`, then the adjoints of the float
  /// ones (what a sweep of the block returns).
  FailureOr<SmallVector<Value>> restoredArgs(OpBuilder &b, Block &src);

  /// Builds into the empty region `dst` the backward sweep of the single
  /// block of `src`. The new block's arguments are: the first `numLeading`
  /// arguments of `src` (bound to their copies), the final versions, their
  /// float adjoints, then the adjoints of `captured`; it yields the restored
  /// versions, their float adjoints and the captured adjoints.
  LogicalResult adjointRegionInto(OpBuilder &b, Location loc, Region &src, Region &dst,
                                  unsigned numLeading, ArrayRef<Value> captured);


private:
  llvm::DenseMap<Value, Value> adjoints;
};

/// Per-iteration copies of adjoints that every iteration of a loop reads and
/// none may change (a parallel loop's reduce results, a fused loop's
/// accumulators): `alloc`, then `+= seed`, for each seed.
SmallVector<Value> copySeeds(OpBuilder &b, Location loc, ValueRange seeds);
/// Takes such copies back at the end of the iteration: `-= seed`, then
/// `free` (checked mode verifies that they came back unchanged).
void releaseSeedCopies(OpBuilder &b, Location loc, ValueRange copies, ValueRange seeds);

/// Builds the compute region of `newOp`, the backward routine of `op`
/// (whose inits are `newOp`'s operands): the inverse of bwd(C), C being
/// `op`'s compute. Its block takes newOp's operands and yields C's final
/// versions, their float adjoints and the adjoints of `captured`, which is
/// the layout of the backward body's block.
LogicalResult buildBackwardRoutineCompute(RoutineOp op, RoutineOp newOp, OpBuilder &b,
                                          AdjointState &st, ArrayRef<Value> captured);

/// Builds `@name`, the backward sweep of `func`, marked `rev.backward_of`.
FailureOr<FuncOp> buildBackwardFunction(FuncOp func, StringRef name);
/// Builds `@name`, running `func` then `bwd`, marked `rev.gradient_of`.
FailureOr<FuncOp> buildGradientFunction(FuncOp func, FuncOp bwd, StringRef name);

/// Builds `@name`, the gradient of `func` with its forward and backward
/// sweeps fused where f's last op is a loop with independent iterations or a
/// routine (transforms/FusedGradient.cpp); a null FuncOp when it is neither.
FailureOr<FuncOp> buildFusedGradientFunction(FuncOp func, StringRef name);

/// Rewrites the gradient `grad` of `f` (plain: it calls @f then @f_bwd; or
/// fused) into its adjoint updates alone when none of them reads a value that
/// f changes (transforms/AdjointOnly.cpp): the forward sweep and the
/// uncomputation go, the primal state stays the input. Marks it
/// `rev.adjoint_only`; false (and `grad` unchanged) when it does not apply.
bool makeAdjointOnly(FuncOp f, FuncOp grad);
/// `@g_xN`: the derivative function `g` (a gradient or a backward sweep)
/// with N sets of adjoint arguments and results, the primal work done once
/// (transforms/MultiSeed.cpp); found by its marker (`rev.seeds_of = @g`,
/// `rev.seeds = N`) or generated, with callees' N-seed functions on demand.
/// A located error where an adjoint-dependent op cannot be copied safely.
FailureOr<FuncOp> getOrCreateSeededFunction(FuncOp g, unsigned n);
/// The backward function (`@f_bwd`) of `func`, found by its marker or
/// generated. A recursive call finds the function being built (it is
/// created, marked, before its body).
FailureOr<FuncOp> getOrCreateBackwardFunction(FuncOp func);
} // namespace mlir::rev

#endif
