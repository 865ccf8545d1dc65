//===- Differentiation.h - what reverse and forward mode share -*- C++ -*-===//
//
// Helpers for writing derivative rules (activity and the derivative argument
// layout, which the IR verifies on marked functions, are in dialect/RevOps.h). ReverseMode.h and ForwardMode.h build on it.
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
#ifndef REV_TRANSFORMS_DIFFERENTIATION_H
#define REV_TRANSFORMS_DIFFERENTIATION_H

#include "dialect/RevOps.h"
#include "transforms/DerivativeInterfaces.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::rev {
/// For a generated gradient, backward or tangent function, the function it
/// differentiates; null otherwise.
FuncOp differentiatedFunction(FuncOp derivative);

/// A variable version: a block argument or the result of a state-changing op.
bool isVersion(Value v);

/// Whether the pure op `def` computes its float results from inputs that no
/// derivative rule sees: it reads a float memref by another op than
/// memref.load (affine.load), or its regions read, from above, a float
/// memref or a float that varies (through a variable version or a load).
/// Reverse and forward mode refuse such an op in an active expression.
bool hidesFloatInputs(Operation *def);
/// The located error for such an op, with a note at `user` that needs it in
/// `mode` ("adjoint" or "tangent").
InFlightDiagnostic emitHiddenFloatInputs(Operation *def, Location user, StringRef mode);

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

/// Casts the float `v` to the float type `to` (extf/truncf), if needed.
Value castFloat(OpBuilder &b, Location loc, Value v, Type to);

/// The derivative rule of the pure op `op` in an expression that the op at
/// `userLoc` differentiates in `mode` ("adjoint" or "tangent"); a located
/// error if it has none.
FailureOr<PartialDerivativeOpInterface> derivativeRule(Operation *op, Location userLoc,
                                                       StringRef mode);

/// Clones the pure condition region `src` into the empty region `dst`, whose
/// block takes `types` (a prefix of which are the types of `src`'s arguments).
/// Values used from above are mapped through `outer`.
void cloneCondRegion(OpBuilder &b, Region &src, Region &dst, TypeRange types,
                     IRMapping &outer);

/// Creates `@name` with the derivative layout of `func`, right after it,
/// marked `attr = @func`.
FuncOp createDerivativeFunction(FuncOp func, StringRef name, StringRef attr);
} // namespace mlir::rev

#endif
