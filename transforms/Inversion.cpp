//===- Inversion.cpp - building inverse programs --------------------------===//
#include "transforms/Inversion.h"
#include "transforms/MarkedFunctions.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;
using namespace mlir::rev;

Value InversionState::lookup(OpBuilder &b, Value v) {
  if (Value w = bindings.lookupOrNull(v))
    return w;
  if (!recomputed.empty())
    if (Value w = recomputed.back().lookupOrNull(v))
      return w;
  if (identityOutside && !identityOutside->isAncestor(v.getParentRegion()))
    return v;
  Operation *def = v.getDefiningOp();
  if (!def || !isRecomputable(def)) {
    emitError(v.getLoc()) << "cannot invert: this value has no counterpart in the inverse "
                             "program (is a variable version used after it was consumed?)";
    return {};
  }
  IRMapping mapping;
  for (Value operand : def->getOperands()) {
    Value w = lookup(b, operand);
    if (!w)
      return {};
    mapping.map(operand, w);
  }
  for (Region &region : def->getRegions())
    if (failed(lookupCaptures(b, region, mapping)))
      return {};
  Operation *clone = b.clone(*def, mapping);
  if (recomputed.empty())
    recomputed.emplace_back();
  for (auto [orig, copy] : llvm::zip(def->getResults(), clone->getResults()))
    recomputed.back().map(orig, copy);
  return recomputed.back().lookup(v);
}

LogicalResult InversionState::lookupCaptures(OpBuilder &b, Region &src, IRMapping &mapping) {
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(src, captured);
  for (Value v : captured) {
    Value w = lookup(b, v);
    if (!w)
      return failure();
    mapping.map(v, w);
  }
  return success();
}

LogicalResult InversionState::cloneRegion(OpBuilder &b, Region &src, Region &dst) {
  IRMapping mapping;
  if (failed(lookupCaptures(b, src, mapping)))
    return failure();
  src.cloneInto(&dst, mapping);
  return success();
}

LogicalResult mlir::rev::buildInverseOf(InvertibleOpInterface op, OpBuilder &b,
                                        InverseBuilder &st, StringRef mark) {
  if (mark.empty())
    return op.buildInverse(b, st);
  // The ops are inserted before the builder's insertion point.
  Block *block = b.getInsertionBlock();
  Block::iterator ip = b.getInsertionPoint();
  Operation *before = ip == block->begin() ? nullptr : &*std::prev(ip);
  if (failed(op.buildInverse(b, st)))
    return failure();
  if (b.getInsertionBlock() != block)
    return success();
  Block::iterator first = before ? std::next(before->getIterator()) : block->begin();
  UnitAttr unit = b.getUnitAttr();
  for (Operation &created : llvm::make_range(first, b.getInsertionPoint()))
    created.walk([&](UpdateOpInterface update) { update->setAttr(mark, unit); });
  return success();
}

FailureOr<SmallVector<Value>> InversionState::invertBlock(OpBuilder &b, Block &src,
                                                          ValueRange finals,
                                                          ValueRange initials) {
  if (src.empty() || !src.back().hasTrait<OpTrait::IsTerminator>()) {
    Operation *parent = src.getParentOp();
    return parent->emitOpError("cannot be inverted: its body is not complete (a function "
                               "still being generated?)");
  }
  Operation *terminator = src.getTerminator();
  assert(terminator->getNumOperands() == finals.size() && "one final value per yield operand");
  for (auto [orig, inv] : llvm::zip(terminator->getOperands(), finals))
    bind(orig, inv);
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(src.without_terminator()))) {
    if (isRecomputable(&op))
      continue; // recomputed on demand by lookup()
    auto invertible = dyn_cast<InvertibleOpInterface>(&op);
    if (!invertible)
      return op.emitOpError("has no inverse: it is neither pure nor an invertible op");
    recomputed.emplace_back();
    // The inverse of a recovery redoes the update it undid; the inverse of
    // that is a recovery again.
    StringRef mark;
    if (op.hasAttr(kRecoveryAttr))
      mark = kRecomputationAttr;
    else if (op.hasAttr(kRecomputationAttr))
      mark = kRecoveryAttr;
    LogicalResult res = buildInverseOf(invertible, b, *this, mark);
    recomputed.pop_back();
    if (failed(res))
      return failure();
  }
  recomputed.emplace_back();
  FailureOr<SmallVector<Value>> restored = lookupAll(b, initials);
  recomputed.pop_back();
  return restored;
}

LogicalResult InversionState::invertRegionInto(OpBuilder &b, Location loc, Region &src,
                                               Region &dst, unsigned numLeading) {
  InversionState &st = *this;
  Block &srcBlock = src.front();
  Block *dstBlock = new Block();
  dst.push_back(dstBlock);
  for (BlockArgument a : srcBlock.getArguments().take_front(numLeading))
    st.bind(a, dstBlock->addArgument(a.getType(), a.getLoc()));
  for (Value v : srcBlock.getTerminator()->getOperands())
    dstBlock->addArgument(v.getType(), v.getLoc());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(dstBlock);
  FailureOr<SmallVector<Value>> restored =
      st.invertBlock(b, srcBlock, dstBlock->getArguments().drop_front(numLeading),
                     srcBlock.getArguments().drop_front(numLeading));
  if (failed(restored))
    return failure();
  YieldOp::create(b, loc, *restored);
  return success();
}

FailureOr<FuncOp> mlir::rev::buildInverseFunction(FuncOp func, StringRef name) {
  FuncOp inv = createMarkedFunction(func, name, func.getFunctionType(), kInverseOfAttr);
  if (auto argAttrs = func.getArgAttrsAttr())
    inv.setArgAttrsAttr(argAttrs);
  Block &src = func.getBody().front();
  Block *dst = &inv.getBody().front();
  InversionState st;
  SmallVector<Value> dstScalars, srcScalars;
  for (auto [a, na] : llvm::zip(src.getArguments(), dst->getArguments())) {
    if (isa<MemRefType>(a.getType())) {
      st.bind(a, na);
    } else {
      dstScalars.push_back(na);
      srcScalars.push_back(a);
    }
  }
  OpBuilder b = OpBuilder::atBlockBegin(dst);
  FailureOr<SmallVector<Value>> restored = st.invertBlock(b, src, dstScalars, srcScalars);
  if (failed(restored)) {
    inv.erase();
    return failure();
  }
  ReturnOp::create(b, func.getLoc(), *restored);
  return inv;
}

FuncOp mlir::rev::findInverseFunction(FuncOp func) {
  if (FuncOp found = findMarkedFunction(func, kInverseOfAttr))
    return found;
  // A function that is itself the inverse of @g has @g as its inverse.
  if (auto of = func->getAttrOfType<FlatSymbolRefAttr>(kInverseOfAttr))
    return SymbolTable::lookupNearestSymbolFrom<FuncOp>(func, of);
  return {};
}

FailureOr<FuncOp> mlir::rev::getOrCreateInverseFunction(FuncOp func) {
  if (FuncOp found = findInverseFunction(func))
    return found;
  return buildInverseFunction(func, uniqueSymbolName(func, func.getSymName() + "_inv"));
}
