//===- Differentiation.cpp - what reverse and forward mode share ----------===//
#include "transforms/Differentiation.h"
#include "transforms/DerivativeInterfaces.h"
#include "transforms/MarkedFunctions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::rev;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

FuncOp mlir::rev::differentiatedFunction(FuncOp derivative) {
  for (StringRef attr : {kGradientOfAttr, kBackwardOfAttr, kTangentOfAttr})
    if (auto of = derivative->getAttrOfType<FlatSymbolRefAttr>(attr))
      return SymbolTable::lookupNearestSymbolFrom<FuncOp>(derivative, of);
  return {};
}

bool mlir::rev::isVersion(Value v) {
  Operation *def = v.getDefiningOp();
  return !def || !isRecomputable(def);
}

static bool isFloatMemref(Type t) {
  auto m = dyn_cast<BaseMemRefType>(t);
  return m && isa<FloatType>(m.getElementType());
}

bool mlir::rev::hidesFloatInputs(Operation *def) {
  if (!isRecomputable(def) || isa<memref::LoadOp>(def))
    return false;
  if (llvm::any_of(def->getOperandTypes(), isFloatMemref))
    return true; // reads a float from memory other than by memref.load
  if (def->getNumRegions() == 0)
    return false;
  // Constants and integers read from above are fine.
  bool hidden = false;
  def->walk([&](Operation *inner) {
    for (Value o : inner->getOperands()) {
      if (hidden || def->isAncestor(o.getParentBlock()->getParentOp()))
        continue;
      if (isFloatMemref(o.getType()))
        hidden = true;
      else if (isActiveScalar(o.getType()))
        walkPureSlice(o, [&](Value x) {
          auto load = x.getDefiningOp<memref::LoadOp>();
          if ((load && isFloatMemref(load.getMemRef().getType())) ||
              (isVersion(x) && isActiveScalar(x.getType())))
            hidden = true;
        });
    }
  });
  return hidden;
}

InFlightDiagnostic mlir::rev::emitHiddenFloatInputs(Operation *def, Location user,
                                                   StringRef mode) {
  InFlightDiagnostic diag =
      def->emitOpError("cannot differentiate: this op computes a float from values it reads "
                       "inside its regions or from memory other than by memref.load (no "
                       "derivative rule sees them); write the computation with plain ops, "
                       "memref.load or rev.if");
  diag.attachNote(user) << "needed by the " << mode << " of this op";
  return diag;
}

SmallVector<Value> mlir::rev::capturedActiveVersions(ArrayRef<Region *> regions) {
  llvm::SetVector<Value> used, out;
  for (Region *r : regions)
    if (!r->empty())
      getUsedValuesDefinedAbove(*r, used);
  for (Value v : used)
    walkPureSlice(v, [&](Value x) {
      if (isActiveScalar(x.getType()) && isVersion(x) && !isConstantArgument(x))
        out.insert(x);
    });
  return out.takeVector();
}

Value FloatOps::add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
Value FloatOps::sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
Value FloatOps::mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
Value FloatOps::div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
Value FloatOps::neg(Value x) { return arith::NegFOp::create(b, loc, x); }
Value FloatOps::sin(Value x) { return math::SinOp::create(b, loc, x); }
Value FloatOps::cos(Value x) { return math::CosOp::create(b, loc, x); }

Value mlir::rev::castFloat(OpBuilder &b, Location loc, Value v, Type to) {
  if (v.getType() == to)
    return v;
  if (cast<FloatType>(to).getWidth() > cast<FloatType>(v.getType()).getWidth())
    return arith::ExtFOp::create(b, loc, to, v);
  return arith::TruncFOp::create(b, loc, to, v);
}

Value mlir::rev::chainProduct(OpBuilder &b, Location loc, Value partial, Value bar, Type to) {
  Value p = arith::MulFOp::create(b, loc, partial, castFloat(b, loc, bar, partial.getType()));
  return castFloat(b, loc, p, to);
}

void mlir::rev::cloneCondRegion(OpBuilder &b, Region &src, Region &dst, TypeRange types,
                                IRMapping &mapping) {
  Block *block = new Block();
  dst.push_back(block);
  for (Type t : types)
    block->addArgument(t, src.getLoc());
  for (auto [a, n] : llvm::zip(src.front().getArguments(), block->getArguments()))
    mapping.map(a, n);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(block);
  for (Operation &op : src.front())
    b.clone(op, mapping);
}

/// The derivative rule of a pure op in an expression that `user` (at
/// `userLoc`) differentiates in `mode` ("adjoint" or "tangent"); a located
/// error if it has none.
FailureOr<PartialDerivativeOpInterface> mlir::rev::derivativeRule(Operation *op, Location userLoc,
                                                              StringRef mode) {
  auto iface = dyn_cast<PartialDerivativeOpInterface>(op);
  if (iface && op->getNumResults() == 1 && op->getNumRegions() == 0)
    return iface;
  auto diag = op->emitOpError("has no derivative rule (PartialDerivativeOpInterface)");
  diag.attachNote(userLoc) << "needed by the " << mode << " of this op";
  return diag;
}


FuncOp mlir::rev::createDerivativeFunction(FuncOp func, StringRef name, StringRef attr) {
  return createMarkedFunction(func, name, derivativeFunctionType(func.getFunctionType()), attr);
}

