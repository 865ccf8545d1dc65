//===- ZeroAdjoints.cpp - folding updates by known-zero adjoints ---------===//
//
// The analysis: a set Z of SSA values known to be an exact structural zero.
// Seeds: the results of `rev.alloc {adjoint}` (the adjoint or tangent of an
// ancilla, zero because the ancilla's value does not depend on the inputs
// at the point it is allocated). Rules (each exact for the derivative; see
// docs/ad.md for the two IEEE corner cases):
//   rev.add/sub %y, %d         in Z if y and d are
//   rev.mul/div %y, %d, neg %y in Z if y is (d is finite and non-zero: the
//                              ops are reversible only then)
//   arith.mulf a, b            in Z if a or b is (a structural zero times
//                              anything is a zero derivative contribution)
//   arith.divf a, b            in Z if a is
//   arith.negf/extf/truncf a   in Z if a is
//   arith.addf/subf a, b       in Z if a and b are
//   arith.select c, a, b       in Z if a and b are
//   rev.for iter_args          optimistic fixed point: an iter_arg whose init
//                              is in Z and whose yielded value is in Z when
//                              all such iter_args are assumed in Z is in Z,
//                              and so is the loop's result
// Everything else (function and other region arguments, loads, calls,
// results of other ops) is not known.
//
// The rewrite: `rev.add/sub %y, %d` and `rev.add_at/sub_at A[i], %d` with d
// in Z are removed (the scalar form's result replaced by y); `rev.mul/div
// %y, %d`, `rev.neg %y` with y in Z are removed (result replaced by y).
// The pure ops that computed the deltas become dead and canonicalisation
// removes them; loop iter_args that now yield themselves go with scf.for's
// canonicalisation after the lowering.
//
//===----------------------------------------------------------------------===//
#include "transforms/ZeroAdjoints.h"

#include "dialect/RevOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
class ZeroAnalysis {
public:
  llvm::DenseSet<Value> zero;

  bool isZero(Value v) const { return zero.contains(v); }

  void block(Block &b) {
    for (Operation &op : b)
      visit(&op);
  }

private:
  void mark(Value v, bool z) {
    if (z && isa<FloatType>(v.getType()))
      zero.insert(v);
  }

  void forget(Region &r) {
    r.walk([&](Operation *op) {
      for (Value v : op->getResults())
        zero.erase(v);
      for (Region &inner : op->getRegions())
        for (Block &b : inner)
          for (Value a : b.getArguments())
            zero.erase(a);
    });
    for (Block &b : r)
      for (Value a : b.getArguments())
        zero.erase(a);
  }

  void loop(ForOp op) {
    Block *body = op.getBodyBlock();
    auto iterArgs = op.getRegionIterArgs();
    auto inits = op.getInits();
    auto yield = cast<YieldOp>(body->getTerminator());
    SmallVector<bool> assumed(inits.size());
    for (auto [i, v] : llvm::enumerate(inits))
      assumed[i] = isZero(v) && isa<FloatType>(v.getType());
    // Each round drops at least one assumption, so this ends.
    while (true) {
      forget(op.getBody());
      for (auto [i, a] : llvm::enumerate(iterArgs))
        mark(a, assumed[i]);
      block(*body);
      bool changed = false;
      for (auto [i, v] : llvm::enumerate(yield.getOperands()))
        if (assumed[i] && !isZero(v)) {
          assumed[i] = false;
          changed = true;
        }
      if (!changed)
        break;
    }
    for (auto [i, r] : llvm::enumerate(op.getResults()))
      mark(r, assumed[i]);
  }

  void visit(Operation *op) {
    if (auto alloc = dyn_cast<AllocOp>(op)) {
      mark(alloc.getResult(), alloc.getAdjoint());
    } else if (isa<AddOp, SubOp>(op)) {
      mark(op->getResult(0), isZero(op->getOperand(0)) && isZero(op->getOperand(1)));
    } else if (isa<MulOp, DivOp, NegOp>(op)) {
      mark(op->getResult(0), isZero(op->getOperand(0)));
    } else if (isa<arith::MulFOp>(op)) {
      mark(op->getResult(0), isZero(op->getOperand(0)) || isZero(op->getOperand(1)));
    } else if (isa<arith::DivFOp, arith::NegFOp, arith::ExtFOp, arith::TruncFOp>(op)) {
      mark(op->getResult(0), isZero(op->getOperand(0)));
    } else if (isa<arith::AddFOp, arith::SubFOp>(op)) {
      mark(op->getResult(0), isZero(op->getOperand(0)) && isZero(op->getOperand(1)));
    } else if (auto sel = dyn_cast<arith::SelectOp>(op)) {
      mark(sel.getResult(), isZero(sel.getTrueValue()) && isZero(sel.getFalseValue()));
    } else if (auto f = dyn_cast<ForOp>(op)) {
      loop(f);
    } else {
      // Other region ops: their insides are analysed (their own seeds count),
      // their region arguments and results are not known.
      for (Region &r : op->getRegions())
        for (Block &b : r)
          block(b);
    }
  }
};

/// Whether `f` may be folded: no routine or uncall left (their inverses are
/// generated from the code and would see the folded form).
bool foldable(FuncOp f) {
  return !f.walk([](Operation *op) {
             return isa<RoutineOp, UncallOp>(op) ? WalkResult::interrupt()
                                                 : WalkResult::advance();
           }).wasInterrupted();
}
} // namespace

ZeroAdjointStats mlir::rev::foldZeroAdjoints(Operation *root) {
  ZeroAdjointStats stats;
  SmallVector<FuncOp> funcs;
  root->walk([&](FuncOp f) { funcs.push_back(f); });
  for (FuncOp f : funcs) {
    if (f.getBody().empty())
      continue;
    if (!foldable(f)) {
      ++stats.skippedFunctions;
      continue;
    }
    ZeroAnalysis za;
    for (Block &b : f.getBody())
      za.block(b);
    SmallVector<Operation *> dead;
    f.walk([&](Operation *op) {
      if (isa<AddOp, SubOp>(op) && za.isZero(op->getOperand(1))) {
        op->getResult(0).replaceAllUsesWith(op->getOperand(0));
        dead.push_back(op);
        ++stats.removedUpdates;
      } else if (isa<AddAtOp, SubAtOp>(op) && za.isZero(op->getOperands().back())) {
        dead.push_back(op);
        ++stats.removedUpdates;
      } else if (isa<MulOp, DivOp, NegOp>(op) && za.isZero(op->getOperand(0))) {
        op->getResult(0).replaceAllUsesWith(op->getOperand(0));
        dead.push_back(op);
        ++stats.forwardedZeros;
      }
    });
    for (Operation *op : dead)
      op->erase();
  }
  return stats;
}
