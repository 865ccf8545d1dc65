//===- Derivatives.h - reverse and forward mode AD by reverse computing -*- C++ -*-===//
//
// The machinery shared by --rev-ad, --rev-fwd and the ops'
// AdjointOpInterface implementations.
//
// Backward sweep (reverse mode). For `rev.func @f(args) -> (scalars)` the AD
// pass emits `@f_bwd`, whose arguments are f's arguments (the *final* state),
// then one adjoint per float scalar argument, then one shadow memref per float
// memref argument. It walks f's ops backwards: each op is first uncomputed
// through its inverse (so earlier states are recovered, never taped), then its
// adjoint update is applied. It returns the restored initial scalars and their
// adjoints; the shadows hold the adjoints of the memrefs' initial contents.
// `@f_grad` (same signature) runs `@f` and then `@f_bwd`.
//
// Tangent (forward mode). `@f_fwd` has the same layout, with tangents in
// place of adjoints, and runs f together with its tangent updates.
//
// Every derivative function is itself a rev.func built from rev ops, so it
// can be inverted, differentiated again and lowered like any other.
//
//===----------------------------------------------------------------------===//
#ifndef REV_DIALECT_DERIVATIVES_H
#define REV_DIALECT_DERIVATIVES_H

#include "dialect/Inversion.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::rev {
class FuncOp;

inline constexpr llvm::StringLiteral kBackwardOfAttr = "rev.backward_of";
inline constexpr llvm::StringLiteral kGradientOfAttr = "rev.gradient_of";
inline constexpr llvm::StringLiteral kTangentOfAttr = "rev.tangent_of";

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

/// For a generated gradient, backward or tangent function, the function it
/// differentiates; null otherwise.
FuncOp differentiatedFunction(FuncOp derivative);

/// Float variable versions defined outside `regions` whose values are read
/// inside them (directly or through pure expressions): their adjoints must
/// be threaded through the backward region op.
SmallVector<Value> capturedActiveVersions(ArrayRef<Region *> regions);

/// Float arithmetic at one location, for writing derivative rules.
struct FloatOps {
  OpBuilder &b;
  Location loc;
  Value add(Value x, Value y);
  Value sub(Value x, Value y);
  Value mul(Value x, Value y);
  Value div(Value x, Value y);
  Value neg(Value x);
  Value sin(Value x);
  Value cos(Value x);
};

/// Builds `partial * bar` (casting the product to `to`), the contribution of
/// one operand in a chain rule.
Value chainProduct(OpBuilder &b, Location loc, Value partial, Value bar, Type to);

class AdjointState {
public:
  /// Forward values -> values of the backward program (uncomputed state).
  InversionState inv;
  /// Forward memref -> its shadow in the backward program.
  llvm::DenseMap<Value, Value> shadows;

  /// The current adjoint of the float variable version `v`. A version whose
  /// adjoint has not been set (its value never reaches an output) gets a fresh
  /// zero ancilla.
  Value getAdjoint(OpBuilder &b, Value v);
  void setAdjoint(Value v, Value adjoint) { adjoints[v] = adjoint; }
  void eraseAdjoint(Value v) { adjoints.erase(v); }

  /// Recomputes the forward value `v` in the backward program.
  Value lookup(OpBuilder &b, Value v) { return inv.lookup(b, v); }
  /// The shadow of a forward memref; a located error if it has none.
  FailureOr<Value> getShadow(Value memref, Operation *user);

  /// Emits the inverse of `op` (the uncompute step).
  LogicalResult uncompute(OpBuilder &b, Operation *op);

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

/// Clones the pure condition region `src` into the empty region `dst`, whose
/// block takes `types` (a prefix of which are the types of `src`'s arguments).
/// Values used from above are mapped through `outer`.
void cloneCondRegion(OpBuilder &b, Region &src, Region &dst, TypeRange types,
                     IRMapping &outer);

/// Builds `@name`, the backward sweep of `func`, marked `rev.backward_of`.
FailureOr<FuncOp> buildBackwardFunction(FuncOp func, StringRef name);
/// Builds `@name`, running `func` then `bwd`, marked `rev.gradient_of`.
FailureOr<FuncOp> buildGradientFunction(FuncOp func, FuncOp bwd, StringRef name);
/// Builds `@name`, the tangent of `func`, marked `rev.tangent_of`.
FailureOr<FuncOp> buildTangentFunction(FuncOp func, StringRef name);

/// The backward (`@f_bwd`) / tangent (`@f_fwd`) function of `func`, found by
/// its marker or generated. A recursive call finds the function being built
/// (it is created, marked, before its body).
FailureOr<FuncOp> getOrCreateBackwardFunction(FuncOp func);
FailureOr<FuncOp> getOrCreateTangentFunction(FuncOp func);

/// Attaches PartialDerivativeOpInterface to the supported arith/math ops.
void attachPartialDerivativeModels(MLIRContext *ctx);
} // namespace mlir::rev

#endif
