//===- OwnedRangesPass.cpp - --rev-owned-ranges ----------------------------===//
//
// Row ranges of a compressed (CSR-like) structure belong to one iteration
// each. In
//
//   scf.parallel (%r) = (%lb) to (%ub) step (%c1) {
//     %lo = memref.load %P[%r]
//     %hi = memref.load %P[%r + 1]
//     scf.for %k = %lo to %hi step %s {
//       memref.atomic_rmw addf %v, %M[%k]         // e.g. valsbar[k] += ...
//     }
//   }
//
// the ranges [P[r], P[r+1]) of different rows are disjoint when P is
// non-decreasing over [lb, ub], and then every element of M is added to by
// one iteration at most: the atomics are not needed. The verifier cannot
// know it (it depends on P's data), so the pass versions the loop on a
// run-time test (one pass over P, before the loop):
//
//   %ok = P[r] <= P[r + 1] for every r in [lb, ub)
//   scf.if %ok { the loop with those atomic adds as loads, adds and stores }
//   else       { the loop as it was }
//
// A memref qualifies when every access to it in the loop is such an atomic
// add (unused result) whose index is the induction variable of an scf.for
// directly in the parallel body, bounded by loads of P at %r and %r + 1, P a
// 1-d memref that nothing in the function writes (only loads and dims use
// it). The loop's step must be the constant 1. Other atomics (a shared
// `xbar[col[k]]`) stay, for --rev-privatize-atomics (which runs after it) to
// privatise in the versioned loop.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "passes/AtomicAdds.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVOWNEDRANGES
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
/// `v` is `iv + 1` (either operand order).
bool isPlusOne(Value v, Value iv) {
  auto add = v.getDefiningOp<arith::AddIOp>();
  if (!add)
    return false;
  Value a = add.getLhs(), b = add.getRhs();
  if (b == iv)
    std::swap(a, b);
  return a == iv && matchPattern(b, m_One());
}

/// Only read in the whole function: its users are loads and dims, and it is
/// not a view of another memref.
bool isReadOnly(Value p) {
  if (Operation *def = p.getDefiningOp(); def && !isa<memref::AllocOp, memref::AllocaOp>(def))
    return false;
  return llvm::all_of(p.getUsers(),
                      [](Operation *u) { return isa<memref::LoadOp, memref::DimOp>(u); });
}

/// The index memref P whose consecutive entries at the parallel induction
/// variable bound `inner` (a direct child of `loop`'s body); null otherwise.
Value rangeSource(scf::ForOp inner, scf::ParallelOp loop) {
  if (inner->getParentOp() != loop)
    return Value();
  std::optional<int64_t> step = getConstantIntValue(inner.getStep());
  if (!step || *step <= 0)
    return Value();
  Value iv = loop.getInductionVars()[0];
  auto lo = inner.getLowerBound().getDefiningOp<memref::LoadOp>();
  auto hi = inner.getUpperBound().getDefiningOp<memref::LoadOp>();
  if (!lo || !hi || lo.getMemRef() != hi.getMemRef() || lo.getIndices().size() != 1 ||
      hi.getIndices().size() != 1 || lo.getIndices()[0] != iv ||
      !isPlusOne(hi.getIndices()[0], iv))
    return Value();
  Value p = lo.getMemRef();
  if (loop->isAncestor(p.getParentRegion()->getParentOp()) || !isReadOnly(p))
    return Value();
  return p;
}

struct OwnedRangesPass : public rev::impl::RevOwnedRangesBase<OwnedRangesPass> {
  using RevOwnedRangesBase::RevOwnedRangesBase;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk([&](scf::ParallelOp loop) {
      if (loop.getNumLoops() == 1 && !loop->getParentOfType<scf::ParallelOp>() &&
          matchPattern(loop.getStep()[0], m_One()))
        loops.push_back(loop);
    });
    for (scf::ParallelOp loop : loops)
      version(loop);
  }

  void version(scf::ParallelOp loop) {
    // The qualifying memrefs and their common range source.
    Value source;
    llvm::SetVector<Value> owned;
    llvm::SmallPtrSet<Value, 8> rejected;
    loop.getBody()->walk([&](memref::AtomicRMWOp rmw) {
      Value m = rmw.getMemref();
      if (owned.contains(m) || rejected.contains(m))
        return;
      bool ok = !loop->isAncestor(m.getParentRegion()->getParentOp()) && hasNoOtherNames(m) &&
                (rmw.getKind() == arith::AtomicRMWKind::addf ||
                 rmw.getKind() == arith::AtomicRMWKind::addi);
      Value p;
      for (Operation *user : m.getUsers()) {
        if (!ok)
          break;
        if (!loop->isAncestor(user))
          continue;
        auto other = dyn_cast<memref::AtomicRMWOp>(user);
        if (!other || other.getMemref() != m || other.getKind() != rmw.getKind() ||
            !other.getResult().use_empty() || other.getIndices().size() != 1) {
          ok = false;
          break;
        }
        auto k = dyn_cast<BlockArgument>(other.getIndices()[0]);
        auto inner = k ? dyn_cast<scf::ForOp>(k.getOwner()->getParentOp()) : scf::ForOp();
        Value src = inner && k == inner.getInductionVar() ? rangeSource(inner, loop) : Value();
        if (!src || (p && src != p) || (source && src != source)) {
          ok = false;
          break;
        }
        p = src;
      }
      if (!ok || !p) {
        rejected.insert(m);
        return;
      }
      source = p;
      owned.insert(m);
    });
    if (owned.empty())
      return;

    Location loc = loop.getLoc();
    OpBuilder b(loop);
    Value lb = loop.getLowerBound()[0], ub = loop.getUpperBound()[0];
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    Value yes = arith::ConstantIntOp::create(b, loc, 1, 1);
    // P[r] <= P[r + 1] for r in [lb, ub).
    auto check = scf::ForOp::create(
        b, loc, lb, ub, c1, ValueRange{yes},
        [&](OpBuilder &fb, Location l, Value r, ValueRange acc) {
          Value a = memref::LoadOp::create(fb, l, source, ValueRange{r});
          Value r1 = arith::AddIOp::create(fb, l, r, c1);
          Value c = memref::LoadOp::create(fb, l, source, ValueRange{r1});
          Value le = arith::CmpIOp::create(fb, l, arith::CmpIPredicate::sle, a, c);
          scf::YieldOp::create(fb, l, ValueRange{arith::AndIOp::create(fb, l, acc[0], le)});
        });
    auto ifOp = scf::IfOp::create(b, loc, loop.getResultTypes(), check.getResult(0),
                                  /*withElseRegion=*/true);
    // Then: a copy with plain read-modify-writes.
    // (Without results the builder gave both blocks their scf.yield; with
    // results they are empty.)
    bool hasResults = !loop.getResultTypes().empty();
    OpBuilder tb = OpBuilder::atBlockBegin(ifOp.thenBlock());
    IRMapping map;
    auto copy = cast<scf::ParallelOp>(tb.clone(*loop, map));
    copy->setAttr("rev.owned_ranges", tb.getUnitAttr());
    SmallVector<memref::AtomicRMWOp> rmws;
    copy.getBody()->walk([&](memref::AtomicRMWOp r) {
      if (owned.contains(r.getMemref()))
        rmws.push_back(r);
    });
    for (memref::AtomicRMWOp r : rmws)
      replaceByPlainAdd(r);
    // Else: the loop itself.
    Block *elseBlock = ifOp.elseBlock();
    if (!hasResults) {
      loop->moveBefore(elseBlock->getTerminator());
      return;
    }
    tb.setInsertionPointAfter(copy);
    scf::YieldOp::create(tb, loc, copy.getResults());
    loop->replaceAllUsesWith(ifOp.getResults());
    loop->moveBefore(elseBlock, elseBlock->end());
    OpBuilder eb = OpBuilder::atBlockEnd(elseBlock);
    scf::YieldOp::create(eb, loc, loop.getResults());
  }
};
} // namespace
