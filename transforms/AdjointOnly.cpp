//===- AdjointOnly.cpp - gradients that need no primal sweep -----------------===//
//
// `@f_grad` runs f forwards, then the backward sweep, which uncomputes f's
// state step by step and applies each step's adjoint update at that state.
// When no adjoint update reads a value that f changes, the adjoint updates
// are the same at every state, so neither the forward sweep nor the
// uncomputation is needed: together they are the identity on the primal
// state. That is the case of a linear program whose coefficients are inputs
// that f does not change (a linear integrator such as the leapfrog with `k`
// and `dt` constant, `wrt=(x0, v0)`; a stencil applied T times; a linear
// recurrence), the case where JAX's reverse mode stores no residuals.
//
// The rewrite (rev-ad's adjoint-only, default on):
//  * classify every state-changing op of the gradient (plain form: a clone of
//    @f_bwd's body; fused form: @f_grad's own body) by what it updates: the
//    adjoint side (adjoint and shadow arguments, `rev.alloc {adjoint}`) or
//    the primal side (f's arguments, primal ancillas);
//  * check that no adjoint-side op, nor the bounds or conditions of the
//    region ops around it, depends on a primal version other than an input
//    that f returns unchanged, or loads from a memref that the primal side
//    writes;
//  * then remove the primal side: primal updates (their results replaced by
//    the versions they consumed), primal ancillas, region ops that hold no
//    adjoint-side op, and what only they used.
// The primal state is then the input throughout, so the primal results come
// back exactly (reverse computing restores them up to rounding); the adjoints
// are the same operations on the same values as before.
//
// Anything the analysis does not know (calls, routines, while loops, steps,
// non-rev writes, written memrefs that are not arguments) keeps the gradient
// as it is.
//
//===----------------------------------------------------------------------===//
#include "transforms/ReverseMode.h"

#include "transforms/MarkedFunctions.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
enum class Side { None, Adjoint, Primal };

/// rev.for and rev.parallel_for both declare (lb, ub, step, inits...) in
/// that order, and their body's arguments are (iv, iter_args...).
bool isLoop(Operation *op) { return isa<ForOp, ParallelForOp>(op); }
ValueRange loopBounds(Operation *loop) { return loop->getOperands().take_front(3); }
ValueRange loopInits(Operation *loop) { return loop->getOperands().drop_front(3); }

struct Analysis {
  Block *entry;
  unsigned numPrimalArgs;
  /// For each of f's arguments: whether the value the gradient's body sees
  /// for it is f's input (fused body) or an output f returns unchanged.
  SmallVector<bool> argIsInput;

  /// Leaf ops that change state, by side.
  llvm::SmallPtrSet<Operation *, 32> adjointOps, primalOps;
  /// Region ops (rev.for, rev.parallel_for, rev.if) holding an adjoint op.
  llvm::SmallPtrSet<Operation *, 16> adjointRegions;
  /// Memref roots the primal side writes.
  llvm::SmallPtrSet<Value, 8> primalWritten;
  llvm::DenseMap<Value, Value> rootMemo;

  /// The variable `v` is a version of (an entry argument or a rev.alloc
  /// result); null when `v` is not a version of a variable.
  Value root(Value v) {
    auto it = rootMemo.find(v);
    if (it != rootMemo.end())
      return it->second;
    Value r;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      Operation *parent = arg.getOwner()->getParentOp();
      if (arg.getOwner() == entry) {
        r = arg;
      } else if (isLoop(parent) && arg.getArgNumber() > 0) {
        r = root(loopInits(parent)[arg.getArgNumber() - 1]);
      } else if (auto ifOp = dyn_cast<IfOp>(parent)) {
        r = root(ifOp.getInits()[arg.getArgNumber()]);
      }
    } else if (Operation *def = v.getDefiningOp()) {
      unsigned i = cast<OpResult>(v).getResultNumber();
      if (isa<AllocOp>(def)) {
        r = v;
      } else if (auto inv = dyn_cast<InvertibleOpInterface>(def)) {
        SmallVector<OpOperand *> consumed = inv.getConsumedOperands();
        if (consumed.size() == def->getNumResults())
          r = root(consumed[i]->get());
      }
    }
    rootMemo[v] = r;
    return r;
  }

  bool isAdjointRoot(Value r) {
    if (auto arg = dyn_cast<BlockArgument>(r))
      return arg.getArgNumber() >= numPrimalArgs;
    return cast<AllocOp>(r.getDefiningOp()).getAdjoint();
  }

  /// The memref root of `m`: an entry argument; null otherwise.
  Value memrefRoot(Value m) {
    Value r = viewRoot(m);
    if (auto arg = dyn_cast<BlockArgument>(r); arg && arg.getOwner() == entry)
      return r;
    return Value();
  }

  Side sideOf(Value target, bool isMemref) {
    Value r = isMemref ? memrefRoot(target) : root(target);
    if (!r)
      return Side::None;
    return isAdjointRoot(r) ? Side::Adjoint : Side::Primal;
  }

  /// Classifies the ops of `region`; false for anything unknown.
  bool classify(Region &region) {
    for (Block &block : region)
      for (Operation &op : block)
        if (!classifyOp(&op))
          return false;
    return true;
  }

  bool classifyOp(Operation *op) {
    if (isa<YieldOp, CondOp, ReturnOp>(op))
      return true;
    if (isa<ForOp, ParallelForOp, IfOp>(op)) {
      for (Region &r : op->getRegions())
        if (!classify(r))
          return false;
      bool holds = false;
      op->walk([&](Operation *inner) {
        if (adjointOps.contains(inner))
          holds = true;
      });
      if (holds)
        adjointRegions.insert(op);
      return true;
    }
    if (op->getDialect() && op->getDialect()->getNamespace() == "rev") {
      if (op->getNumRegions() || isa<CallOp, UncallOp, CheckOp, StepsOp, StepsAdjointOp,
                                     StepsTangentOp>(op))
        return false;
      // A leaf state change: the variables it consumes, the memrefs it writes.
      Side side = Side::None;
      auto join = [&](Side s) {
        if (s == Side::None)
          return false;
        if (side != Side::None && side != s)
          return false;
        side = s;
        return true;
      };
      if (auto alloc = dyn_cast<AllocOp>(op)) {
        if (!join(alloc.getAdjoint() ? Side::Adjoint : Side::Primal))
          return false;
      } else {
        auto inv = dyn_cast<InvertibleOpInterface>(op);
        if (!inv)
          return false;
        for (OpOperand *o : inv.getConsumedOperands())
          if (!join(sideOf(o->get(), false)))
            return false;
        for (Value v : op->getOperands())
          if (isa<MemRefType>(v.getType()) && !join(sideOf(v, true)))
            return false;
        if (side == Side::None)
          return false;
      }
      if (side == Side::Adjoint) {
        adjointOps.insert(op);
      } else {
        primalOps.insert(op);
        for (Value v : op->getOperands())
          if (isa<MemRefType>(v.getType()))
            primalWritten.insert(memrefRoot(v));
      }
      return true;
    }
    // Other dialects: pure ops, loads, shapes; nothing that writes.
    if (op->getNumRegions())
      return false;
    if (isa<memref::LoadOp, memref::DimOp>(op) || isMemoryEffectFree(op))
      return true;
    return false;
  }

  /// Whether the primal ancillas can be removed with their updates: each
  /// version used only by primal ops in the alloc's block, ending in a free.
  bool primalAncillasAreLocal() {
    for (Operation *op : primalOps) {
      auto alloc = dyn_cast<AllocOp>(op);
      if (!alloc)
        continue;
      Value v = alloc.getResult();
      while (v) {
        if (!v.hasOneUse())
          return false;
        Operation *user = *v.getUsers().begin();
        if (user->getBlock() != alloc->getBlock() || !primalOps.contains(user))
          return false;
        if (isa<FreeOp>(user))
          break;
        if (user->getNumResults() != 1)
          return false;
        v = user->getResult(0);
      }
    }
    return true;
  }

  /// Whether every value the adjoint side reads (operands, and the bounds and
  /// conditions of the region ops around it) is independent of the primal
  /// state that f changes.
  bool adjointSideIsPrimalFree() {
    llvm::DenseSet<Value> seen;
    llvm::SmallPtrSet<Operation *, 16> seenOps;
    SmallVector<Value> work;
    auto needOp = [&](Operation *op) {
      // An op whose operands the adjoint side needs (itself and its
      // enclosing region ops' controls).
      for (Operation *p = op; p && p->getBlock() != entry; p = p->getParentOp()) {
        Operation *parent = p->getParentOp();
        if (!seenOps.insert(parent).second)
          break;
        if (isLoop(parent))
          llvm::append_range(work, loopBounds(parent));
        else if (auto ifOp = dyn_cast<IfOp>(parent))
          for (Region *r : {&ifOp.getPre(), &ifOp.getPost()})
            r->walk([&](Operation *inner) { llvm::append_range(work, inner->getOperands()); });
      }
      llvm::append_range(work, op->getOperands());
    };
    for (Operation *op : adjointOps)
      needOp(op);
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (!seen.insert(v).second)
        continue;
      if (isa<MemRefType>(v.getType()))
        continue; // what is read of it is checked at the load
      if (Value r = root(v)) {
        if (isAdjointRoot(r))
          continue; // adjoint versions come from adjoint ops, checked
        auto arg = dyn_cast<BlockArgument>(v);
        if (arg && arg.getOwner() == entry && argIsInput[arg.getArgNumber()])
          continue;
        return false; // a primal version that f changes
      }
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        Operation *parent = arg.getOwner()->getParentOp();
        if (arg.getOwner() == entry)
          continue; // an index argument, or an input
        if (isLoop(parent) && arg.getArgNumber() == 0) {
          // An induction variable: its loop's bounds.
          llvm::append_range(work, loopBounds(parent));
          continue;
        }
        return false;
      }
      Operation *def = v.getDefiningOp();
      if (auto load = dyn_cast<memref::LoadOp>(def)) {
        Value r = memrefRoot(load.getMemRef());
        if (!r || primalWritten.contains(r)) {
          // A memref that is not an argument: allowed when it is an
          // allocation or a global (not some other name for an argument,
          // e.g. a select between two) that nothing writes.
          Value root = viewRoot(load.getMemRef());
          Operation *def = root.getDefiningOp();
          if (r || !def ||
              !isa<memref::AllocOp, memref::AllocaOp, memref::GetGlobalOp>(def) ||
              mayBeWritten(root))
            return false;
        }
      } else if (!isa<memref::DimOp>(def) && !isMemoryEffectFree(def)) {
        return false;
      }
      if (def->getNumRegions())
        return false;
      llvm::append_range(work, def->getOperands());
    }
    return true;
  }

  /// Whether any op of the function may write the memref `root` (a
  /// non-argument memref: an alloc or a global).
  bool mayBeWritten(Value root) {
    WalkResult res = entry->getParentOp()->walk([&](Operation *op) {
      if (isa<memref::LoadOp, memref::DimOp>(op))
        return WalkResult::advance();
      for (Value v : op->getOperands())
        if (isa<MemRefType>(v.getType()) && viewRoot(v) == root &&
            !isa<memref::DeallocOp>(op) && !isMemoryEffectFree(op) &&
            !isa<memref::CastOp, memref::SubViewOp>(op))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    return res.wasInterrupted();
  }

  bool run(Region &body) {
    entry = &body.front();
    return classify(body) && !adjointOps.empty() && primalAncillasAreLocal() &&
           adjointSideIsPrimalFree();
  }
};

/// Removes the primal side that `a` found in `body`.
void stripPrimal(Region &body, const llvm::SmallPtrSetImpl<Operation *> &adjointRegions,
                 const llvm::SmallPtrSetImpl<Operation *> &primalOps) {
  // Region ops that hold no adjoint op: their results are their inits (every
  // variable passes through unchanged once the primal side is gone).
  SmallVector<Operation *> deadRegions, deadLeaves;
  body.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<ForOp, ParallelForOp, IfOp>(op) && !adjointRegions.contains(op)) {
      deadRegions.push_back(op);
      return WalkResult::skip();
    }
    if (primalOps.contains(op))
      deadLeaves.push_back(op);
    return WalkResult::advance();
  });
  for (Operation *op : deadRegions) {
    auto inv = cast<InvertibleOpInterface>(op);
    for (auto [res, init] : llvm::zip(op->getResults(), inv.getConsumedOperands()))
      res.replaceAllUsesWith(init->get());
    op->erase();
  }
  for (Operation *op : deadLeaves) {
    if (auto inv = dyn_cast<InvertibleOpInterface>(op); inv && op->getNumResults()) {
      SmallVector<OpOperand *> consumed = inv.getConsumedOperands();
      for (auto [res, in] : llvm::zip(op->getResults(), consumed))
        res.replaceAllUsesWith(in->get());
    }
  }
  // Frees first (they consume the ancillas' last versions), allocs last.
  for (Operation *op : llvm::reverse(deadLeaves)) {
    op->dropAllUses();
    op->erase();
  }
  // What only the primal side used.
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<Operation *> dead;
    body.walk([&](Operation *op) {
      if (op->use_empty() && !op->hasTrait<OpTrait::IsTerminator>() &&
          (isa<memref::LoadOp, memref::DimOp>(op) ||
           (!op->getNumRegions() && isMemoryEffectFree(op))))
        dead.push_back(op);
    });
    for (Operation *op : dead)
      op->erase();
    changed = !dead.empty();
  }
}

/// f's scalar outputs in order: for each argument of f, whether f returns it
/// unchanged (memrefs: true, f's body sees the caller's memref).
SmallVector<bool> unchangedArguments(FuncOp f) {
  Block &block = f.getBody().front();
  auto ret = cast<ReturnOp>(block.getTerminator());
  SmallVector<bool> out;
  unsigned r = 0;
  for (BlockArgument arg : block.getArguments()) {
    if (isa<MemRefType>(arg.getType())) {
      out.push_back(true);
      continue;
    }
    out.push_back(r < ret.getNumOperands() && ret.getOperand(r) == arg);
    ++r;
  }
  return out;
}
} // namespace

bool mlir::rev::makeAdjointOnly(FuncOp f, FuncOp grad) {
  if (grad.getBody().empty())
    return false;
  unsigned n = f.getNumArguments();
  Block &gb = grad.getBody().front();
  // The plain form: call @f, call @f_bwd, return. Analyse @f_bwd's body with
  // its scalar arguments being f's outputs.
  FuncOp bwd;
  if (gb.getOperations().size() == 3) {
    auto fwd = dyn_cast<CallOp>(gb.front());
    auto back = dyn_cast<CallOp>(*std::next(gb.begin()));
    if (fwd && back && fwd.getCallee() == f.getSymName())
      bwd = findMarkedFunction(f, kBackwardOfAttr);
    if (bwd && back.getCallee() != bwd.getSymName())
      bwd = FuncOp();
    if (bwd && bwd.getBody().empty())
      bwd = FuncOp();
  }
  Analysis a;
  a.numPrimalArgs = n;
  if (bwd) {
    a.argIsInput = unchangedArguments(f);
    if (!a.run(bwd.getBody()))
      return false;
    // The copy's scalar arguments are f's inputs: the outputs that f
    // returns unchanged (the only ones the adjoint side reads) are equal.
    IRMapping map;
    gb.erase();
    bwd.getBody().cloneInto(&grad.getBody(), map);
    llvm::SmallPtrSet<Operation *, 16> regions, primal;
    for (Operation *op : a.adjointRegions)
      regions.insert(map.lookup(op));
    for (Operation *op : a.primalOps)
      primal.insert(map.lookup(op));
    stripPrimal(grad.getBody(), regions, primal);
  } else {
    a.argIsInput.assign(n, true);
    if (!a.run(grad.getBody()))
      return false;
    stripPrimal(grad.getBody(), a.adjointRegions, a.primalOps);
  }
  grad->setAttr(kAdjointOnlyAttr, UnitAttr::get(grad.getContext()));
  return true;
}
