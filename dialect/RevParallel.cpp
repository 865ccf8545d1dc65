//===- RevParallel.cpp - independence rules of rev.parallel_for -----------===//
//
// The iterations of a rev.parallel_for may run in any order or at the same
// time. This file proves that they cannot race:
//  * memrefs: each one the body touches is read-only, private (every access
//    at the iteration's own element: one index is %i, %i + c or %i - c, with
//    the same c at every access), or a shared accumulation (only added to
//    with rev.add_at/rev.sub_at, never read: the lowering makes the adds
//    atomic or per-thread);
//  * scalars: outer ones are read-only (the block verifier already rejects
//    updating them); the reduce accumulators are only ever added to, so that
//    each iteration's contribution does not depend on the others'.
//
//===----------------------------------------------------------------------===//
#include "dialect/RevOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
/// One read or write of an element of a memref in the loop body.
struct Access {
  Operation *op;
  SmallVector<Value> indices;
  bool write;
  bool additive; // an element update of the Additive rule (add_at, sub_at)
};

/// The body and induction variable of a rev.for or rev.parallel_for.
Region &loopBody(Operation *loop) {
  if (auto f = dyn_cast<ForOp>(loop))
    return f.getBody();
  return cast<ParallelForOp>(loop).getBody();
}
Value loopIv(Operation *loop) {
  if (auto f = dyn_cast<ForOp>(loop))
    return f.getInductionVar();
  return cast<ParallelForOp>(loop).getInductionVar();
}

bool isInside(Operation *loop, Value v) {
  return loopBody(loop).isAncestor(v.getParentRegion());
}

/// Whether `a` and `b` compute the same value in every iteration without
/// depending on the iteration: the same outer value, equal constants, or the
/// same pure op applied to such operands.
bool sameInvariant(Operation *loop, Value a, Value b, unsigned depth = 0) {
  if (depth > 8)
    return false;
  if (!isInside(loop, a) && !isInside(loop, b))
    return a == b;
  Attribute ca, cb;
  if (matchPattern(a, m_Constant(&ca)) && matchPattern(b, m_Constant(&cb)))
    return ca == cb;
  Operation *da = a.getDefiningOp(), *db = b.getDefiningOp();
  if (!da || !db || isa<memref::LoadOp>(da) || !isRecomputable(da) ||
      da->getName() != db->getName() || da->getAttrDictionary() != db->getAttrDictionary() ||
      da->getNumOperands() != db->getNumOperands() || da->getNumRegions() ||
      da->getNumResults() != 1)
    return false;
  for (auto [x, y] : llvm::zip(da->getOperands(), db->getOperands()))
    if (!sameInvariant(loop, x, y, depth + 1))
      return false;
  return true;
}

/// `v` as the iteration's own index: %i (sign 0), %i + c (+1), %i - c (-1).
struct OwnIndex {
  int sign = 0;
  Value offset;
};

bool isInvariant(Operation *loop, Value v) { return sameInvariant(loop, v, v); }

std::optional<OwnIndex> asOwnIndex(Operation *loop, Value v) {
  Value iv = loopIv(loop);
  if (v == iv)
    return OwnIndex{};
  if (auto add = v.getDefiningOp<arith::AddIOp>()) {
    if (add.getLhs() == iv && isInvariant(loop, add.getRhs()))
      return OwnIndex{1, add.getRhs()};
    if (add.getRhs() == iv && isInvariant(loop, add.getLhs()))
      return OwnIndex{1, add.getLhs()};
  }
  if (auto sub = v.getDefiningOp<arith::SubIOp>())
    if (sub.getLhs() == iv && isInvariant(loop, sub.getRhs()))
      return OwnIndex{-1, sub.getRhs()};
  return std::nullopt;
}

/// The first dimension indexed by the iteration's own index, and that index.
std::optional<std::pair<unsigned, OwnIndex>> ownKey(Operation *loop, ArrayRef<Value> idx) {
  for (auto [d, v] : llvm::enumerate(idx))
    if (std::optional<OwnIndex> own = asOwnIndex(loop, v))
      return std::pair<unsigned, OwnIndex>{d, *own};
  return std::nullopt;
}

bool sameKey(Operation *loop, const std::pair<unsigned, OwnIndex> &a,
             const std::pair<unsigned, OwnIndex> &b) {
  if (a.first != b.first || a.second.sign != b.second.sign)
    return false;
  return a.second.sign == 0 || sameInvariant(loop, a.second.offset, b.second.offset);
}

/// Collects the element accesses of memrefs defined outside `loop`.
LogicalResult collectAccesses(Operation *loop, bool emitErrors,
                              llvm::MapVector<Value, SmallVector<Access>> &out) {
  auto add = [&](Value ref, Operation *op, ValueRange idx, bool write, bool additive) {
    if (!isInside(loop, ref)) {
      out[ref].push_back(Access{op, llvm::to_vector(idx), write, additive});
      return;
    }
    // A memref defined in the body is the iteration's own only when it is
    // allocated there. A view taken there (memref.cast, subview, ...) of an
    // outer memref is that memref, at no known element (its indices are not
    // the root's); a global (memref.get_global) is shared by the iterations.
    Value root = viewRoot(ref);
    Operation *def = root.getDefiningOp();
    if (isInside(loop, root) && def && hasEffect<MemoryEffects::Allocate>(def, root))
      return;
    if (root == ref)
      out[ref].push_back(Access{op, llvm::to_vector(idx), write, additive});
    else
      out[root].push_back(Access{op, {}, write, additive});
  };
  WalkResult res = loopBody(loop).walk([&](Operation *op) -> WalkResult {
    if (isa<ParallelForOp>(op)) {
      if (emitErrors)
        op->emitOpError("nested rev.parallel_for is not supported: make the inner loop a "
                        "rev.for");
      return WalkResult::interrupt();
    }
    if (isa<CallOp, UncallOp>(op)) {
      for (Value v : op->getOperands())
        if (isa<MemRefType>(v.getType())) {
          if (emitErrors)
            op->emitOpError("passes a memref to a call inside a rev.parallel_for: the "
                            "verifier cannot prove that iterations write distinct elements "
                            "(pass scalars, or make the loop a rev.for)");
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    }
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      add(load.getMemRef(), op, load.getIndices(), false, false);
      return WalkResult::advance();
    }
    if (auto upd = dyn_cast<UpdateOpInterface>(op)) {
      if (upd.isElementUpdate()) {
        ValueRange idx = op->getOperands().drop_front().drop_back();
        add(op->getOperand(0), op, idx, true, upd.getUpdateRule() == UpdateRule::Additive);
      }
      return WalkResult::advance();
    }
    if (auto neg = dyn_cast<NegAtOp>(op)) {
      add(neg.getRef(), op, neg.getIndices(), true, false);
      return WalkResult::advance();
    }
    if (auto swap = dyn_cast<SwapAtOp>(op)) {
      add(swap.getLhs(), op, swap.getLhsIndices(), true, false);
      add(swap.getRhs(), op, swap.getRhsIndices(), true, false);
      return WalkResult::advance();
    }
    if (auto rot = dyn_cast<RotAtOp>(op)) {
      add(rot.getLhs(), op, rot.getLhsIndices(), true, false);
      add(rot.getRhs(), op, rot.getRhsIndices(), true, false);
      return WalkResult::advance();
    }
    if (auto rot = dyn_cast<IRotAtOp>(op)) {
      add(rot.getLhs(), op, rot.getLhsIndices(), true, false);
      add(rot.getRhs(), op, rot.getRhsIndices(), true, false);
      return WalkResult::advance();
    }
    // Anything else that reads or writes a memref: an access at no known
    // element (a memref.dim reads only the shape).
    if (isa<memref::DimOp>(op))
      return WalkResult::advance();
    if (auto iface = dyn_cast<MemoryEffectOpInterface>(op)) {
      SmallVector<MemoryEffects::EffectInstance> effects;
      iface.getEffects(effects);
      for (auto &e : effects)
        if (Value v = e.getValue(); v && isa<MemRefType>(v.getType()))
          add(v, op, {}, isa<MemoryEffects::Write>(e.getEffect()), false);
    }
    return WalkResult::advance();
  });
  if (res.wasInterrupted())
    return failure();
  // One memory, one name: two of the names recorded (a memref and a view of
  // it defined outside the loop, a select that may be it, two get_global of
  // one symbol) would hide that iterations touch the same elements through
  // both.
  llvm::DenseMap<Value, Value> nameOf;
  for (auto &[ref, list] : out) {
    SmallVector<Value> roots;
    memrefAliasRoots(ref, roots);
    for (Value root : roots) {
      auto [it, inserted] = nameOf.try_emplace(root, ref);
      if (inserted || it->second == ref)
        continue;
      if (emitErrors) {
        auto diag = loop->emitOpError()
                    << "accesses one memref through two names (a view defined outside the "
                       "loop, a select, or two memref.get_global of one symbol): the "
                       "verifier cannot tell which elements the iterations share; use one "
                       "name inside the loop";
        diag.attachNote(out[it->second].front().op->getLoc()) << "through one here";
        diag.attachNote(list.front().op->getLoc()) << "through another here";
      }
      return failure();
    }
  }
  return success();
}

/// Follows the accumulator version `v` through its block: each use must be
/// an additive update of it (continue with its result), the init of a
/// nested rev region op (followed through its regions, continue with the
/// op's result) or the block's terminator, whose operand number is returned.
FailureOr<unsigned> followAccumulator(Value v, Operation *loop);

LogicalResult followInto(Region &region, unsigned k, unsigned expected, Operation *loop) {
  if (region.empty())
    return success(); // an omitted else: the identity
  FailureOr<unsigned> end = followAccumulator(region.front().getArgument(k), loop);
  if (failed(end))
    return failure();
  if (*end != expected)
    return loop->emitOpError() << "reduce accumulator #" << k
                               << " is moved to another variable inside a nested region: it "
                                  "may only be added to";
  return success();
}

LogicalResult unusedIn(Region &cond, unsigned k, Operation *loop) {
  if (cond.empty() || cond.front().getArgument(k).use_empty())
    return success();
  auto diag = loop->emitOpError()
              << "a reduce accumulator is read by a condition: iterations may only add to "
                 "their accumulators, never read them";
  diag.attachNote(cond.getParentOp()->getLoc()) << "read here";
  return diag;
}

/// Whether `op` only serves run-time checks (rev.check, or pure ops whose
/// results only reach checks): checked mode may read an accumulator.
bool onlyFeedsChecks(Operation *op, unsigned depth = 0) {
  if (isa<CheckOp>(op))
    return true;
  if (depth > 16 || !isRecomputable(op) || op->getNumRegions())
    return false;
  for (Operation *user : op->getUsers())
    if (!onlyFeedsChecks(user, depth + 1))
      return false;
  return true;
}

FailureOr<unsigned> followAccumulator(Value v, Operation *loop) {
  Value cur = v;
  while (true) {
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : cur.getUses())
      if (!onlyFeedsChecks(use.getOwner()))
        uses.push_back(&use);
    if (uses.empty())
      return loop->emitOpError("a reduce accumulator version is never consumed");
    if (uses.size() > 1) {
      // Linearity allows one consumer: any other use reads it.
      // (the first in the block; a use inside a nested region counts at
      // the op of the block that holds it)
      Block *block = cur.getParentBlock();
      auto at = [&](OpOperand *use) { return block->findAncestorOpInBlock(*use->getOwner()); };
      OpOperand *reader = nullptr;
      for (OpOperand *use : uses) {
        Operation *a = at(use), *r = reader ? at(reader) : nullptr;
        if (!reader || (a && r && a != r && a->isBeforeInBlock(r)))
          reader = use;
      }
      auto diag = reader->getOwner()->emitOpError()
                  << "reads a reduce accumulator of the enclosing rev.parallel_for: "
                     "iterations may only add to their accumulators, never read them";
      diag.attachNote(loop->getLoc()) << "the parallel loop";
      return diag;
    }
    OpOperand &use = *uses.front();
    Operation *user = use.getOwner();
    unsigned n = use.getOperandNumber();
    if (user == cur.getParentBlock()->getTerminator())
      return n;
    if (auto upd = dyn_cast<UpdateOpInterface>(user)) {
      if (!upd.isElementUpdate() && upd.getUpdateRule() == UpdateRule::Additive && n == 0) {
        cur = user->getResult(0);
        continue;
      }
    } else if (auto f = dyn_cast<ForOp>(user)) {
      unsigned k = n - 3;
      if (failed(followInto(f.getBody(), k + 1, k, loop)))
        return failure();
      cur = f.getResult(k);
      continue;
    } else if (auto i = dyn_cast<IfOp>(user)) {
      if (failed(unusedIn(i.getPre(), n, loop)) || failed(unusedIn(i.getPost(), n, loop)) ||
          failed(followInto(i.getThenRegion(), n, n, loop)) ||
          failed(followInto(i.getElseRegion(), n, n, loop)))
        return failure();
      cur = i.getResult(n);
      continue;
    } else if (auto w = dyn_cast<WhileOp>(user)) {
      if (failed(unusedIn(w.getPre(), n, loop)) || failed(unusedIn(w.getPost(), n, loop)) ||
          failed(followInto(w.getBody(), n, n, loop)))
        return failure();
      cur = w.getResult(n);
      continue;
    } else if (auto r = dyn_cast<RoutineOp>(user)) {
      FailureOr<unsigned> mid = followAccumulator(r.getCompute().front().getArgument(n), loop);
      if (failed(mid) || failed(followInto(r.getBody(), *mid, *mid, loop)))
        return failure();
      cur = r.getResult(n);
      continue;
    }
    auto diag = user->emitOpError()
                << "uses a reduce accumulator of the enclosing rev.parallel_for other than "
                   "as the target of rev.add/rev.sub: iterations may only add to their "
                   "accumulators, so that they can run in any order";
    diag.attachNote(loop->getLoc()) << "the parallel loop";
    return diag;
  }
}
} // namespace

FailureOr<SmallVector<std::pair<Value, ParallelAccess>>>
mlir::rev::classifyLoopAccesses(Operation *loop, bool emitErrors,
                                llvm::function_ref<bool(Value)> skip) {
  llvm::MapVector<Value, SmallVector<Access>> accesses;
  if (failed(collectAccesses(loop, emitErrors, accesses)))
    return failure();
  SmallVector<std::pair<Value, ParallelAccess>> out;
  for (auto &[ref, list] : accesses) {
    if (skip && skip(ref))
      continue;
    if (llvm::none_of(list, [](const Access &a) { return a.write; })) {
      out.push_back({ref, ParallelAccess::ReadOnly});
      continue;
    }
    // Private: every access at the same own index.
    std::optional<std::pair<unsigned, OwnIndex>> first = ownKey(loop, list.front().indices);
    const Access *offender = nullptr;
    for (const Access &a : list) {
      std::optional<std::pair<unsigned, OwnIndex>> key = ownKey(loop, a.indices);
      if (!first || !key || !sameKey(loop, *first, *key)) {
        offender = &a;
        break;
      }
    }
    if (!offender) {
      out.push_back({ref, ParallelAccess::Private});
      continue;
    }
    if (llvm::all_of(list, [](const Access &a) { return a.write && a.additive; })) {
      out.push_back({ref, ParallelAccess::SharedAccumulate});
      continue;
    }
    if (emitErrors) {
      // Point at an access that is not at the own element, or else at the
      // access that disagrees with the first one.
      for (const Access &a : list)
        if (!ownKey(loop, a.indices)) {
          offender = &a;
          break;
        }
      auto diag = loop->emitOpError()
                  << "iterations may race on a memref that the body writes: every access "
                     "of it must be at the iteration's own element (one index %i, %i + c or "
                     "%i - c, the same at every access), or the body must only add to it "
                     "(rev.add_at/rev.sub_at) and never read it";
      auto what = [](const Access &a) { return a.write ? "written" : "read"; };
      if (ownKey(loop, offender->indices)) {
        // Two own indices that differ (%i and %i - 1): iteration i reads or
        // writes what iteration i - 1 writes.
        diag.attachNote(list.front().op->getLoc())
            << what(list.front()) << " here at one own index";
        diag.attachNote(offender->op->getLoc()) << what(*offender) << " here at another";
      } else {
        diag.attachNote(offender->op->getLoc())
            << what(*offender) << " here, not at the iteration's own element";
      }
    }
    return failure();
  }
  return out;
}

bool mlir::rev::iterArgsAreAccumulators(ForOp loop) {
  ScopedDiagnosticHandler quiet(loop->getContext(), [](Diagnostic &) { return success(); });
  for (auto [k, arg] : llvm::enumerate(loop.getBody().front().getArguments().drop_front())) {
    FailureOr<unsigned> end = followAccumulator(arg, loop);
    if (failed(end) || *end != k)
      return false;
  }
  return true;
}

bool mlir::rev::accessesOwnElementsOnly(Operation *loop) {
  llvm::MapVector<Value, SmallVector<Access>> accesses;
  if (failed(collectAccesses(loop, /*emitErrors=*/false, accesses)))
    return false;
  for (auto &[ref, list] : accesses) {
    std::optional<std::pair<unsigned, OwnIndex>> first = ownKey(loop, list.front().indices);
    for (const Access &a : list) {
      std::optional<std::pair<unsigned, OwnIndex>> key = ownKey(loop, a.indices);
      if (!first || !key || !sameKey(loop, *first, *key))
        return false;
    }
  }
  return true;
}

FailureOr<SmallVector<std::pair<Value, ParallelAccess>>>
mlir::rev::classifyParallelAccesses(ParallelForOp loop, bool emitErrors) {
  return classifyLoopAccesses(loop, emitErrors);
}

LogicalResult mlir::rev::verifyParallelIndependence(ParallelForOp loop) {
  if (failed(classifyParallelAccesses(loop, /*emitErrors=*/true)))
    return failure();
  for (auto [k, arg] : llvm::enumerate(loop.getRegionIterArgs())) {
    FailureOr<unsigned> end = followAccumulator(arg, loop);
    if (failed(end))
      return failure();
    if (*end != k)
      return loop.emitOpError() << "reduce accumulator #" << k << " is yielded at position "
                                << *end << ": each accumulator must be yielded in its place";
  }
  return success();
}
