//===- ForwardMode.h - tangents -------------------------------*- C++ -*-===//
//
// Tangent (forward mode). `@f_fwd` has the derivative layout of f
// (Differentiation.h), with tangents in place of adjoints, and runs f
// together with its tangent updates (AdjointOpInterface::buildTangent).
// Applied to a gradient it gives Hessian-vector products.
//
//===----------------------------------------------------------------------===//
#ifndef REV_TRANSFORMS_FORWARDMODE_H
#define REV_TRANSFORMS_FORWARDMODE_H

#include "transforms/Differentiation.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::rev {
class TangentState {
public:
  /// Forward values -> values of the tangent program.
  IRMapping map;
  /// Forward memref -> its tangent memref.
  llvm::DenseMap<Value, Value> shadows;

  /// The tangent of the float variable version `v` (an error if none).
  Value getTangentVar(Value v);
  void setTangent(Value v, Value t) { tangents[v] = t; }

  /// The tangent of the forward value `v` at the insertion point (a variable's
  /// tangent, a load from a tangent memref, or a pure chain rule). Null means
  /// zero. Fails (after a located error) when an op has no derivative rule.
  FailureOr<Value> tangentOf(OpBuilder &b, Value v, Operation *user);
  /// Forget tangents of pure values (they may read memory that changes).
  void clearCache() { cache.clear(); }

  /// Emits the ops of `src` with their tangents. Returns the mapped
  /// terminator operands followed by the tangents of the float ones.
  FailureOr<SmallVector<Value>> tangentBlock(OpBuilder &b, Block &src);
  /// Builds into the empty region `dst` the tangent version of `src`: the
  /// new block takes (leading args, versions, float tangents) and yields the
  /// mapped versions and their tangents.
  LogicalResult tangentRegionInto(OpBuilder &b, Location loc, Region &src, Region &dst,
                                  unsigned numLeading);

private:
  llvm::DenseMap<Value, Value> tangents;
  llvm::DenseMap<Value, Value> cache;
};

/// Builds `@name`, the tangent of `func`, marked `rev.tangent_of`.
FailureOr<FuncOp> buildTangentFunction(FuncOp func, StringRef name);

/// The tangent function (`@f_fwd`) of `func`, found by its marker or
/// generated.
FailureOr<FuncOp> getOrCreateTangentFunction(FuncOp func);
} // namespace mlir::rev

#endif
