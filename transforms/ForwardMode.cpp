//===- ForwardMode.cpp - tangents -----------------------------------------===//
#include "transforms/ForwardMode.h"
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
// TangentState
//===----------------------------------------------------------------------===//

Value TangentState::getTangentVar(Value v) { return tangents.lookup(v); }

FailureOr<Value> TangentState::tangentOf(OpBuilder &b, Value v, Operation *user) {
  if (!isActiveScalar(v.getType()))
    return Value();
  if (auto it = cache.find(v); it != cache.end())
    return it->second;
  Location loc = user->getLoc();
  Value result;
  Operation *def = v.getDefiningOp();
  if (isVersion(v)) {
    result = tangents.lookup(v);
    if (!result) {
      emitError(v.getLoc()) << "internal error: no tangent for this variable version";
      return failure();
    }
  } else if (auto load = dyn_cast<memref::LoadOp>(def)) {
    Value shadow = shadows.lookup(load.getMemRef());
    if (!shadow) {
      auto diag = user->emitOpError("cannot differentiate: a memref read here has no "
                                    "tangent (only float memref arguments get one)");
      return diag;
    }
    SmallVector<Value> idx;
    for (Value i : load.getIndices())
      idx.push_back(map.lookup(i));
    result = memref::LoadOp::create(b, loc, shadow, idx);
  } else if (hidesFloatInputs(def)) {
    return emitHiddenFloatInputs(def, loc, "tangent");
  } else if (llvm::any_of(def->getOperandTypes(), isActiveScalar)) {
    FailureOr<PartialDerivativeOpInterface> iface = derivativeRule(def, loc, "tangent");
    if (failed(iface))
      return failure();
    SmallVector<Value> operands;
    for (Value o : def->getOperands())
      operands.push_back(map.lookup(o));
    SmallVector<Value> partials = iface->buildPartials(b, operands, map.lookup(v));
    for (auto [o, partial] : llvm::zip(def->getOperands(), partials)) {
      if (!partial)
        continue;
      FailureOr<Value> dot = tangentOf(b, o, user);
      if (failed(dot))
        return failure();
      if (!*dot)
        continue;
      Value term = chainProduct(b, loc, partial, *dot, v.getType());
      result = result ? arith::AddFOp::create(b, loc, result, term).getResult() : term;
    }
  }
  cache[v] = result;
  return result;
}

FailureOr<SmallVector<Value>> TangentState::tangentBlock(OpBuilder &b, Block &src) {
  for (Operation &op : src.without_terminator()) {
    clearCache();
    if (isRecomputable(&op)) {
      b.clone(op, map);
      continue;
    }
    auto ad = dyn_cast<AdjointOpInterface>(&op);
    if (!ad)
      return op.emitOpError("cannot differentiate: the op has no tangent rule");
    if (failed(ad.buildTangent(b, *this)))
      return failure();
  }
  clearCache();
  SmallVector<Value> out;
  Operation *terminator = src.getTerminator();
  for (Value v : terminator->getOperands())
    out.push_back(map.lookup(v));
  for (Value v : terminator->getOperands())
    if (isActiveScalar(v.getType()))
      out.push_back(tangents.lookup(v));
  return out;
}

LogicalResult TangentState::tangentRegionInto(OpBuilder &b, Location loc, Region &src,
                                              Region &dst, unsigned numLeading) {
  Block &srcBlock = src.front();
  Block *block = new Block();
  dst.push_back(block);
  for (BlockArgument a : srcBlock.getArguments())
    map.map(a, block->addArgument(a.getType(), a.getLoc()));
  for (BlockArgument a : srcBlock.getArguments().drop_front(numLeading))
    if (isActiveScalar(a.getType()))
      setTangent(a, block->addArgument(a.getType(), a.getLoc()));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(block);
  FailureOr<SmallVector<Value>> out = tangentBlock(b, srcBlock);
  if (failed(out))
    return failure();
  YieldOp::create(b, loc, *out);
  return success();
}


//===----------------------------------------------------------------------===//
// Functions
//===----------------------------------------------------------------------===//

FailureOr<FuncOp> mlir::rev::buildTangentFunction(FuncOp func, StringRef name) {
  FuncOp fwd = createDerivativeFunction(func, name, kTangentOfAttr);
  Block &src = func.getBody().front();
  Block *dst = &fwd.getBody().front();
  TangentState st;
  SmallVector<int> pos = derivativeArgPositions(src.getArgumentTypes());
  for (auto [a, p] : llvm::zip(src.getArguments(), pos)) {
    st.map.map(a, dst->getArgument(a.getArgNumber()));
    if (p < 0)
      continue;
    if (isa<MemRefType>(a.getType()))
      st.shadows[a] = dst->getArgument(p);
    else
      st.setTangent(a, dst->getArgument(p));
  }
  OpBuilder b = OpBuilder::atBlockBegin(dst);
  FailureOr<SmallVector<Value>> out = st.tangentBlock(b, src);
  if (failed(out)) {
    fwd.erase();
    return failure();
  }
  ReturnOp::create(b, func.getLoc(), *out);
  return fwd;
}

FailureOr<FuncOp> mlir::rev::getOrCreateTangentFunction(FuncOp func) {
  if (FuncOp found = findMarkedFunction(func, kTangentOfAttr))
    return found;
  return buildTangentFunction(func, uniqueSymbolName(func, func.getSymName() + "_fwd"));
}

