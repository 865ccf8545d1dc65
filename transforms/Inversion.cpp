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
  bool share = shareInvariants && isInvariant(v);
  if (share)
    if (Value w = findShared(b, v))
      return w;
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
  for (auto [orig, copy] : llvm::zip(def->getResults(), clone->getResults())) {
    recomputed.back().map(orig, copy);
    if (share)
      shared[orig].push_back(copy);
  }
  return recomputed.back().lookup(v);
}

bool InversionState::readsOnlyUnwritten(Operation *op) {
  if (isMemoryEffectFree(op))
    return true;
  auto iface = dyn_cast<MemoryEffectOpInterface>(op);
  auto func = op->getParentOfType<FuncOp>();
  if (!iface || !func)
    return false;
  // A memref's root (through view ops) names its buffer when it is an
  // argument of the function or a fresh allocation; one reached otherwise
  // (e.g. an arith.select of two memrefs) may be any of them.
  Block &entry = func.getBody().front();
  auto named = [&](Value root) {
    if (auto arg = dyn_cast<BlockArgument>(root))
      return arg.getOwner() == &entry;
    Operation *def = root.getDefiningOp();
    auto alloc = dyn_cast_or_null<MemoryEffectOpInterface>(def);
    return alloc && alloc.hasEffect<MemoryEffects::Allocate>();
  };
  auto [it, fresh] = written.try_emplace(func.getOperation());
  Written &w = it->second;
  if (fresh)
    forEachMemRefWrite(func, [&](Operation *op, Value target) {
      if (target) {
        Value root = viewRoot(target);
        if (named(root))
          w.roots.insert(root);
        else
          w.unknown = true;
      } else if (op != func.getOperation() && !isa<AllocOp, FreeOp, DiscardOp>(op)) {
        // (The function op itself and scalar ancillas, which have no effects
        // interface, an empty one would let canonicalisation drop a rev.free,
        // write no memref.)
        w.unknown = true;
      }
    });
  if (w.unknown)
    return false;
  SmallVector<MemoryEffects::EffectInstance> list;
  iface.getEffects(list);
  return llvm::all_of(list, [&](const MemoryEffects::EffectInstance &e) {
    Value read = e.getValue();
    if (!isa<MemoryEffects::Read>(e.getEffect()) || !read)
      return false;
    Value root = viewRoot(read);
    return named(root) && !w.roots.contains(root);
  });
}

bool InversionState::isInvariant(Value v) {
  auto found = invariant.find(v);
  if (found != invariant.end())
    return found->second;
  Operation *def = v.getDefiningOp();
  // Block arguments and variable versions (results of invertible ops) are
  // single SSA values: whatever holds them on the inverse side holds that
  // one number. A recomputed value is invariant when what it reads is.
  bool result = true;
  if (def && isRecomputable(def)) {
    invariant[v] = false; // (no cycles in SSA; a guard all the same)
    // (An op with regions may read values from above that its operands do
    // not show.)
    result = def->getNumRegions() == 0 && readsOnlyUnwritten(def) &&
             llvm::all_of(def->getOperands(), [&](Value o) { return isInvariant(o); });
  }
  invariant[v] = result;
  return result;
}

Value InversionState::findShared(OpBuilder &b, Value v) {
  auto it = shared.find(v);
  if (it == shared.end() || !b.getInsertionBlock())
    return {};
  for (Value copy : it->second) {
    Operation *def = copy.getDefiningOp();
    Block *home = def->getBlock();
    // Walk from the insertion point out through the enclosing ops until the
    // copy's block: the copy dominates when it comes before that point.
    Block *block = b.getInsertionBlock();
    Operation *at = b.getInsertionPoint() == block->end() ? nullptr
                                                          : &*b.getInsertionPoint();
    while (block && block != home) {
      Operation *parent = block->getParentOp();
      if (!parent || parent->hasTrait<OpTrait::IsIsolatedFromAbove>()) {
        block = nullptr;
        break;
      }
      at = parent;
      block = parent->getBlock();
    }
    if (block && (!at || def->isBeforeInBlock(at)))
      return copy;
  }
  return {};
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
  st.shareInvariants = true;
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
