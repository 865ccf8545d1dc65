//===- FoldRecoveriesPass.cpp - --rev-fold-recoveries ---------------------===//
//
// A gradient recovers earlier primal values by running updates backwards:
// `t = t * d` in the forward, `t = t / d` in the backward. Where both sit in
// one block (a routine's compute and its backward after full unrolling, a
// fused sweep), the value the division recovers is still at hand, and the
// division is redundant work (the slowest arithmetic op there is). rev-ad
// marks such recoveries (`rev.recovery`, kept on the arith op by
// --lower-rev); this pass cancels each against the op it undoes:
//
//   (a * b) / b -> a     (a / b) * b -> a     (a + b) - b -> a     (a - b) + b -> a
//
// when the outer op is marked (or carries `reassoc`). The pair must see
// the same `b`: the pass first forwards loads within each block (a load of
// an element loaded or stored before, with no possible write of that memory
// between) and runs CSE, so that a delta the backward recomputes from
// memory is the forward's value. Memory is "not written" across a store to
// another function argument of a lowered rev function (rev forbids a written
// memref argument to share memory with another one: kNoaliasArgCountAttr
// marks such functions), or to or from memory the function allocates. The
// marks are dropped at the end: what is left is exact arithmetic.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "conversion/LowerRev.h"
#include "dialect/RevOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVFOLDRECOVERIES
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
/// Whether `root` (a memref alias root) is memory that no other root of the
/// function shares: an allocation of the function, or (in a function lowered
/// from a rev.func) one of its memref arguments.
bool isDistinctRoot(Value root, bool argsDistinct) {
  if (auto arg = dyn_cast<BlockArgument>(root))
    return argsDistinct && arg.getOwner()->isEntryBlock() &&
           isa<func::FuncOp>(arg.getOwner()->getParentOp());
  return root.getDefiningOp<memref::AllocOp>() || root.getDefiningOp<memref::AllocaOp>();
}

/// Whether the memrefs `a` and `b` may share memory.
bool mayAlias(Value a, Value b, bool argsDistinct) {
  if (a == b)
    return true;
  SmallVector<Value> ra, rb;
  memrefAliasRoots(a, ra);
  memrefAliasRoots(b, rb);
  for (Value x : ra)
    for (Value y : rb)
      if (x == y || !isDistinctRoot(x, argsDistinct) || !isDistinctRoot(y, argsDistinct))
        return true;
  return false;
}

/// One known element: the value at memref[indices].
struct Known {
  Value memref;
  SmallVector<Value> indices;
  Value value;
};

/// Forwards loads in `block` (not in nested blocks: each is visited on its
/// own).
void forwardLoads(Block &block, bool argsDistinct) {
  SmallVector<Known> known;
  auto find = [&](Value memref, ValueRange indices) -> Known * {
    for (Known &k : known)
      if (k.memref == memref && llvm::equal(k.indices, indices))
        return &k;
    return nullptr;
  };
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      if (Known *k = find(load.getMemRef(), load.getIndices());
          k && k->value.getType() == load.getType()) {
        load.replaceAllUsesWith(k->value);
        load.erase();
        continue;
      }
      known.push_back({load.getMemRef(), llvm::to_vector(load.getIndices()), load.getResult()});
      continue;
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      Value ref = store.getMemRef();
      llvm::erase_if(known, [&](const Known &k) { return mayAlias(k.memref, ref, argsDistinct); });
      known.push_back({ref, llvm::to_vector(store.getIndices()), store.getValueToStore()});
      continue;
    }
    if (isMemoryEffectFree(&op))
      continue;
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (effects && op.getNumRegions() == 0 && effects.onlyHasEffect<MemoryEffects::Read>())
      continue;
    if (effects && op.getNumRegions() == 0) {
      // Writes to known memrefs invalidate what may alias them; an effect on
      // no particular value (or anything else) invalidates everything.
      SmallVector<MemoryEffects::EffectInstance> list;
      effects.getEffects(list);
      bool all = false;
      for (auto &e : list) {
        if (isa<MemoryEffects::Read>(e.getEffect()))
          continue;
        Value v = e.getValue();
        if (!v || !isa<BaseMemRefType>(v.getType())) {
          all = true;
          break;
        }
        llvm::erase_if(known, [&](const Known &k) { return mayAlias(k.memref, v, argsDistinct); });
      }
      if (all)
        known.clear();
      continue;
    }
    known.clear(); // region ops, calls, unknown effects
  }
}

/// Whether `op` may be cancelled against the op making its operand: a
/// marked recovery, or an op with `reassoc`.
bool mayCancel(Operation *op) {
  if (op->hasAttr(kRecoveryAttr))
    return true;
  auto fm = dyn_cast<arith::ArithFastMathInterface>(op);
  if (!fm)
    return false;
  auto flags = op->getAttrOfType<arith::FastMathFlagsAttr>(fm.getFastMathAttrName());
  return flags && bitEnumContainsAll(flags.getValue(), arith::FastMathFlags::reassoc);
}

/// `x` when `v` is `x op b` or (for a commutative op) `b op x`.
template <typename OpT>
Value otherOperand(Value v, Value b, bool commutative) {
  auto def = v.getDefiningOp<OpT>();
  if (!def)
    return {};
  if (def.getRhs() == b)
    return def.getLhs();
  if (commutative && def.getLhs() == b)
    return def.getRhs();
  return {};
}

/// The value `op` computes when it undoes the op that made its operand.
Value cancelled(Operation *op) {
  if (!mayCancel(op))
    return {};
  if (auto div = dyn_cast<arith::DivFOp>(op)) // (a * b) / b
    return otherOperand<arith::MulFOp>(div.getLhs(), div.getRhs(), true);
  if (auto sub = dyn_cast<arith::SubFOp>(op)) // (a + b) - b
    return otherOperand<arith::AddFOp>(sub.getLhs(), sub.getRhs(), true);
  if (auto mul = dyn_cast<arith::MulFOp>(op)) { // (a / b) * b, b * (a / b)
    if (Value a = otherOperand<arith::DivFOp>(mul.getLhs(), mul.getRhs(), false))
      return a;
    return otherOperand<arith::DivFOp>(mul.getRhs(), mul.getLhs(), false);
  }
  if (auto add = dyn_cast<arith::AddFOp>(op)) { // (a - b) + b, b + (a - b)
    if (Value a = otherOperand<arith::SubFOp>(add.getLhs(), add.getRhs(), false))
      return a;
    return otherOperand<arith::SubFOp>(add.getRhs(), add.getLhs(), false);
  }
  return {};
}

struct FoldRecoveriesPass : public rev::impl::RevFoldRecoveriesBase<FoldRecoveriesPass> {
  using RevFoldRecoveriesBase::RevFoldRecoveriesBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation().walk([&](func::FuncOp f) {
      // Only where a recovery may be cancelled.
      bool any = false;
      f.walk([&](Operation *op) {
        if (mayCancel(op))
          any = true;
      });
      if (!any)
        return;
      // Marks do not outlive the pass.
      auto dropMarks = llvm::make_scope_exit(
          [&] { f.walk([](Operation *op) { op->removeAttr(kRecoveryAttr); }); });
      bool argsDistinct = f->hasAttr(kNoaliasArgCountAttr);
      f.walk([&](Block *block) { forwardLoads(*block, argsDistinct); });
      DominanceInfo dom(f);
      eliminateCommonSubExpressions(rewriter, dom, f);
      // In program order, so that a chain of recoveries folds in one walk.
      f.walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (Value a = cancelled(op)) {
          op->getResult(0).replaceAllUsesWith(a);
          ++numFolded;
        }
      });
      // The folded ops and what only they used (nested ops included).
      (void)runRegionDCE(rewriter, f->getRegions());
    });
  }
};
} // namespace
