//===- FusedGradient.cpp - @f_grad with the two sweeps fused ---------------===//
//
// `@f_grad` runs `@f`, then `@f_bwd`. When the last op of f's body is a loop
// whose iterations are independent, or a routine, the gradient can do better
// than the whole forward sweep followed by the whole backward one:
//
//  * a `rev.for` whose iterations are independent (the rules of
//    rev.parallel_for, classifyLoopAccesses: each memref it writes only at
//    the iteration's own element, or only added to; its iter_args, if any,
//    only added to, like a parallel loop's reduce accumulators), or a
//    `rev.parallel_for` without reduce accumulators (in a rev.for, memrefs the body writes
//    only inside the compute of routines that undo their compute are scratch
//    that every iteration restores, and do not count): each iteration's backward
//    sweep runs right after its forward sweep, in one loop, in the forward
//    order (iteration i's backward reads only its own elements and the data
//    no iteration writes, so the other iterations' forward or backward work
//    cannot change what it reads; an accumulator's adjoint is the same in
//    every iteration);
//  * a `rev.routine {C} {B}` without inits whose compute reads no memref that
//    its body writes: in f it runs C; B; C^-1, and its backward routine runs
//    C again (the inverse of bwd(C)), then bwd(B), then bwd(C). Fused, the
//    backward routine runs B at the start of its body: C^-1 and the recompute
//    of C cancel, so C runs twice in the gradient instead of four times. (C
//    must not read what B writes, else recomputing C before B would see other
//    values; without inits the routine has no results that C^-1 would
//    compute from B's, and no adjoint reaches C^-1 but through the ancillas it
//    frees, which are zero.)
//
// The fusion applies again at the end of every fused body (a routine at the
// end of a fused loop's body, as in the batched Bessel benchmark). The ops
// before the fused one run forward (clones of f's ops), then their backward
// sweep as in @f_bwd, starting from their forward values. @f_bwd is still
// generated (other gradients call it).
//
//===----------------------------------------------------------------------===//
#include "transforms/ReverseMode.h"

#include "transforms/MarkedFunctions.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
/// Whether `op` or an op nested in it may write a memref whose view root is
/// in `roots`: any op taking a memref operand other than a load or a dim
/// counts as a writer.
bool mayWriteAny(Operation *op, const llvm::SmallPtrSetImpl<Value> &roots) {
  WalkResult res = op->walk([&](Operation *inner) {
    if (isa<memref::LoadOp, memref::DimOp>(inner))
      return WalkResult::advance();
    for (Value v : inner->getOperands())
      if (isa<MemRefType>(v.getType()) && roots.contains(viewRoot(v)))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return res.wasInterrupted();
}

/// Whether `reader` reads a memref (through any view of it) that an op in
/// `writer` may write.
bool readsWhatIsWritten(Region &reader, Region &writer) {
  llvm::SmallPtrSet<Value, 8> read;
  reader.walk([&](Operation *op) {
    for (Value v : op->getOperands())
      if (isa<MemRefType>(v.getType()))
        read.insert(viewRoot(v));
  });
  if (read.empty())
    return false;
  for (Block &block : writer)
    for (Operation &op : block)
      if (mayWriteAny(&op, read))
        return true;
  return false;
}

/// Whether `a` and `b` (b defined after a) hold the same value: the same
/// value, or the same pure op of such operands, or loads of the same element
/// with no write of that memref in between (the backward sweep recomputes the
/// delta it uncomputes; rev forbids a written memref to alias another one).
bool sameValue(Value a, Value b, unsigned depth = 0) {
  if (a == b)
    return true;
  Operation *da = a.getDefiningOp(), *db = b.getDefiningOp();
  if (depth > 12 || !da || !db || da->getName() != db->getName() ||
      da->getAttrDictionary() != db->getAttrDictionary() ||
      da->getNumOperands() != db->getNumOperands() || da->getNumRegions() ||
      da->getNumResults() != 1)
    return false;
  if (auto load = dyn_cast<memref::LoadOp>(da)) {
    if (da->getBlock() != db->getBlock() || !da->isBeforeInBlock(db))
      return false;
    llvm::SmallPtrSet<Value, 1> root;
    root.insert(viewRoot(load.getMemRef()));
    for (Operation *op = da->getNextNode(); op && op != db; op = op->getNextNode())
      if (mayWriteAny(op, root))
        return false;
  } else if (!isMemoryEffectFree(da)) {
    return false;
  }
  for (auto [x, y] : llvm::zip(da->getOperands(), db->getOperands()))
    if (!sameValue(x, y, depth + 1))
      return false;
  return true;
}

/// Whether `op` may sit between an update and its uncompute: a pure op or a
/// load, without regions (the uncompute's recomputation of the delta).
bool recomputesDelta(Operation *op) {
  return (isMemoryEffectFree(op) || isa<memref::LoadOp>(op)) && op->getNumRegions() == 0;
}

/// A fused body runs an op's forward and right away its uncompute, e.g.
/// `rev.add_at %Y[%i], %v` then `rev.sub_at %Y[%i], %v` (the last forward
/// update of a body and the first step of its backward sweep): such pairs
/// (same memref, indices and delta; or a scalar updated and updated back by
/// the same delta), with only the delta's recomputation between them, are the
/// identity and are erased.
void cancelUpdatePairs(FuncOp grad) {
  SmallVector<std::pair<Operation *, Operation *>> pairs;
  grad.walk([&](Operation *op) {
    if (!isa<AddAtOp, SubAtOp>(op))
      return;
    Operation *prev = op->getPrevNode();
    while (prev && recomputesDelta(prev))
      prev = prev->getPrevNode();
    if (!prev || prev->getName() == op->getName() || !isa<AddAtOp, SubAtOp>(prev))
      return;
    auto operands = op->getOperands(), prevOperands = prev->getOperands();
    if (operands.size() != prevOperands.size() || operands[0] != prevOperands[0])
      return;
    for (auto [x, y] : llvm::zip(prevOperands.drop_front(), operands.drop_front()))
      if (!sameValue(x, y))
        return;
    if (!pairs.empty() && pairs.back().second == prev)
      return; // prev is already the second of a pair
    pairs.push_back({prev, op});
  });
  for (auto [first, second] : pairs) {
    second->erase();
    first->erase();
  }
  // The same for a scalar: `%1 = rev.add %v, %d` then `%2 = rev.sub %1, %d`.
  SmallVector<Operation *> seconds;
  grad.walk([&](Operation *op) {
    if (!isa<AddOp, SubOp>(op))
      return;
    Operation *prev = op->getOperand(0).getDefiningOp();
    if (!prev || prev->getBlock() != op->getBlock() || prev->getName() == op->getName() ||
        !isa<AddOp, SubOp>(prev) || !prev->getResult(0).hasOneUse() ||
        !sameValue(prev->getOperand(1), op->getOperand(1)))
      return;
    for (Operation *between = prev->getNextNode(); between != op;
         between = between->getNextNode())
      if (!recomputesDelta(between))
        return;
    if (!seconds.empty() && seconds.back() == prev)
      return;
    seconds.push_back(op);
  });
  for (Operation *second : seconds) {
    Operation *first = second->getOperand(0).getDefiningOp();
    second->getResult(0).replaceAllUsesWith(first->getOperand(0));
    second->erase();
    first->erase();
  }
}

/// Whether the routine's uncompute C^-1 exactly undoes its compute C: what
/// the body B changes, C passes through untouched (the body's arguments are
/// yielded unchanged, or are inits that C passes through), C reads no memref
/// that B writes, and C calls nothing (inverting bwd(C) needs the callees'
/// backward functions invertible; the plain adjoint rule handles the calls
/// that are not).
bool undoesItsCompute(RoutineOp routine) {
  Block &compute = routine.getCompute().front(), &body = routine.getBody().front();
  Operation *computeYield = compute.getTerminator(), *bodyYield = body.getTerminator();
  unsigned numInits = routine.getInits().size();
  for (auto [k, arg] : llvm::enumerate(body.getArguments())) {
    if (bodyYield->getOperand(k) == arg)
      continue;
    if (k < numInits && computeYield->getOperand(k) == compute.getArgument(k) &&
        compute.getArgument(k).hasOneUse())
      continue;
    return false;
  }
  bool calls = routine.getCompute()
                   .walk([](Operation *o) {
                     return isa<CallOp, UncallOp>(o) ? WalkResult::interrupt()
                                                     : WalkResult::advance();
                   })
                   .wasInterrupted();
  return !calls && !readsWhatIsWritten(routine.getCompute(), routine.getBody());
}

/// Whether `loop`'s body writes `ref` (through any view) only inside the
/// compute regions of routines of the body that undo their compute: every
/// iteration then leaves it as it found it (scratch, such as GMM's per-point
/// B, MX and Z), so the iterations do not communicate through it, whatever
/// elements they touch. (Only for running the iterations one after another
/// in another order, not at once: they share it while they run.)
bool restoredByEveryIteration(Operation *loop, Value ref) {
  SmallVector<Value> roots;
  memrefAliasRoots(ref, roots);
  bool written = false;
  WalkResult res = loop->getRegion(0).walk([&](Operation *op) {
    if (op->getNumRegions() != 0)
      return WalkResult::advance();
    // a write through any name that may be the same memory (a view, a
    // select, another get_global of the symbol) counts
    bool writes = llvm::any_of(op->getOperands(), [&](Value v) {
      if (!isa<MemRefType>(v.getType()) || !mayModifyMemref(op, v))
        return false;
      SmallVector<Value> vr;
      memrefAliasRoots(v, vr);
      return llvm::any_of(vr, [&](Value r) { return llvm::is_contained(roots, r); });
    });
    if (!writes)
      return WalkResult::advance();
    written = true;
    for (Operation *p = op->getParentOp(); p && p != loop; p = p->getParentOp())
      if (auto r = dyn_cast<RoutineOp>(p);
          r && r.getCompute().isAncestor(op->getParentRegion()) && undoesItsCompute(r))
        return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return written && !res.wasInterrupted();
}

/// What an op (with its nested ops, and the pure values it uses from
/// above) touches: the variable versions it reads or updates, and the roots
/// of the memrefs it reads and may write.
struct Footprint {
  llvm::SmallPtrSet<Value, 16> versions, consumed, reads, writes;
};

/// Whether `root` is memory the function can tell apart from every other
/// root: an argument (rev forbids a written memref argument to share memory
/// with another one), an allocation, or a global (one root per symbol).
bool isKnownRoot(Value root) {
  if (auto arg = dyn_cast<BlockArgument>(root))
    return arg.getOwner()->isEntryBlock() && isa<FuncOp>(arg.getOwner()->getParentOp());
  return root.getDefiningOp<memref::AllocOp>() || root.getDefiningOp<memref::AllocaOp>() ||
         root.getDefiningOp<memref::GetGlobalOp>();
}

/// The footprint of `op`; failure where it cannot be told (a call, a memref
/// of unknown origin).
FailureOr<Footprint> footprint(Operation *op) {
  Footprint fp;
  bool ok = true;
  auto addRoots = [&](Value ref, bool write) {
    SmallVector<Value> roots;
    memrefAliasRoots(ref, roots);
    for (Value r : roots) {
      if (!isKnownRoot(r))
        ok = false;
      fp.reads.insert(r);
      if (write)
        fp.writes.insert(r);
    }
  };
  auto above = [&](Value v) { return !op->isAncestor(v.getParentBlock()->getParentOp()); };
  std::function<void(Value)> useValue = [&](Value v) {
    walkPureSlice(v, [&](Value x) {
      // Any memref in the slice is read (a load, affine.load, ...).
      if (isa<BaseMemRefType>(x.getType())) {
        addRoots(x, false);
        return;
      }
      if (isVersion(x))
        fp.versions.insert(x);
      // A pure region op: what its regions use from above is used too.
      if (Operation *def = x.getDefiningOp(); def && def->getNumRegions())
        def->walk([&](Operation *inner) {
          for (Value o : inner->getOperands())
            if (!def->isAncestor(o.getParentBlock()->getParentOp()))
              useValue(o);
        });
    });
  };
  op->walk([&](Operation *inner) {
    if (isa<CallOp, UncallOp, func::CallOp>(inner))
      ok = false;
    for (Value v : inner->getOperands()) {
      if (isa<BaseMemRefType>(v.getType()))
        addRoots(v, !isa<memref::LoadOp, memref::DimOp>(inner));
      else if (above(v))
        useValue(v);
    }
    if (auto inv = dyn_cast<InvertibleOpInterface>(inner))
      for (OpOperand *o : inv.getConsumedOperands())
        if (above(o->get()))
          fp.consumed.insert(o->get());
  });
  if (!ok)
    return failure();
  return fp;
}

/// Whether `tail` may run after `later`, the ops that follow it in its
/// block: none of them uses a value `tail` defines or updates a variable
/// version `tail` uses (reading one both do is fine: their adjoints add
/// up), and no memory one of them writes is read or written by the other.
/// Then f's block reordered with `tail` last computes the same, and its
/// gradient can fuse `tail`.
bool commutesWithLater(Operation *tail, ArrayRef<Operation *> later) {
  if (later.empty())
    return true;
  FailureOr<Footprint> t = footprint(tail);
  if (failed(t))
    return false;
  for (Value r : tail->getResults())
    t->versions.insert(r);
  for (Operation *op : later) {
    FailureOr<Footprint> a = footprint(op);
    if (failed(a))
      return false;
    for (Value r : tail->getResults())
      for (Operation *user : r.getUsers())
        if (op->isAncestor(user))
          return false;
    for (Value v : a->consumed)
      if (t->versions.contains(v))
        return false;
    for (Value w : t->writes)
      if (a->reads.contains(w) || a->writes.contains(w))
        return false;
    for (Value w : a->writes)
      if (t->reads.contains(w))
        return false;
  }
  return true;
}

class Fuser {
public:
  explicit Fuser(AdjointState &st) : st(st) {}

  /// Whether `op`, the last op of its block, can run its forward and
  /// backward sweeps at once (see the file comment).
  static bool fusable(Operation *op) {
    if (auto loop = dyn_cast<ForOp>(op))
      return (loop.getInits().empty() || iterArgsAreAccumulators(loop)) &&
             succeeded(classifyLoopAccesses(op, /*emitErrors=*/false, [&](Value ref) {
               return restoredByEveryIteration(op, ref);
             }));
    if (auto loop = dyn_cast<ParallelForOp>(op))
      return loop.getInits().empty();
    if (auto routine = dyn_cast<RoutineOp>(op))
      return undoesItsCompute(routine);
    return false;
  }

  /// The op of `block` whose sweeps are fused: the last op if it can be
  /// fused, else the last of the block's last few loops and routines that
  /// can be and that commutes with every op after it (they then run before
  /// it); null if none.
  static Operation *findTail(Block &block) {
    SmallVector<Operation *> ops;
    for (Operation &op : block.without_terminator())
      ops.push_back(&op);
    unsigned candidates = 0;
    for (size_t i = ops.size(); i-- > 0 && candidates < 8;) {
      if (!isa<ForOp, ParallelForOp, RoutineOp>(ops[i]))
        continue;
      ++candidates;
      if (fusable(ops[i]) && commutesWithLater(ops[i], ArrayRef(ops).drop_front(i + 1)))
        return ops[i];
    }
    return nullptr;
  }

  /// Runs the ops of `src` forward (clones mapped through `fwd`; findTail's
  /// op fused), then the backward sweep of the others, the terminator's
  /// float operands seeded with `finalAdjoints`. Returns the restored
  /// threaded arguments of `src` and their adjoints, as
  /// AdjointState::adjointBlock does.
  FailureOr<SmallVector<Value>> fuseBlock(OpBuilder &b, Block &src, ValueRange finalAdjoints) {
    SmallVector<Operation *> ops;
    Operation *tail = findTail(src);
    for (Operation &op : src.without_terminator())
      if (&op != tail)
        ops.push_back(&op);
    for (Operation *op : ops)
      b.clone(*op, fwd);
    // The backward sweep starts, as @f_bwd's does, from the block's final
    // versions (the forward ones; the fused op's results are not computed,
    // its backward binds its inits instead), its memrefs and its induction
    // variable. Other values are recomputed where the sweep needs them: a
    // forward version may have been consumed, a forward load be stale.
    Block::BlockArgListType threaded = getThreadedArgs(src);
    for (BlockArgument a : src.getArguments())
      if (isa<MemRefType>(a.getType()) || !llvm::is_contained(threaded, a))
        st.recovered.bind(a, fwd.lookup(a));
    unsigned k = 0;
    for (Value v : src.getTerminator()->getOperands()) {
      if (Value f = fwd.lookupOrNull(v))
        st.recovered.bind(v, f);
      if (isActiveScalar(v.getType()))
        st.setAdjoint(v, finalAdjoints[k++]);
    }
    if (tail) {
      LogicalResult res = isa<RoutineOp>(tail) ? fuseRoutine(b, cast<RoutineOp>(tail))
                                               : fuseLoop(b, tail);
      if (failed(res))
        return failure();
    }
    if (failed(st.adjointOps(b, ops)))
      return failure();
    return st.restoredArgs(b, src);
  }

  IRMapping fwd;

private:
  /// Binds the adjoints of `captured` to new arguments of `block`.
  void captureAdjoints(Block *block, ArrayRef<Value> captured) {
    for (Value c : captured)
      st.setAdjoint(c, block->addArgument(c.getType(), c.getLoc()));
  }

  /// The fused body of a routine: fuseBlock(src), then a yield of its
  /// results and the captured adjoints.
  LogicalResult fuseBody(OpBuilder &b, Location loc, Block &src, Block *block,
                         ValueRange finalAdjoints, ArrayRef<Value> captured) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(block);
    FailureOr<SmallVector<Value>> out = fuseBlock(b, src, finalAdjoints);
    if (failed(out))
      return failure();
    for (Value c : captured)
      out->push_back(st.getAdjoint(b, c));
    YieldOp::create(b, loc, *out);
    return success();
  }

  LogicalResult fuseLoop(OpBuilder &b, Operation *op) {
    Location loc = op->getLoc();
    auto forOp = dyn_cast<ForOp>(op);
    auto parOp = dyn_cast<ParallelForOp>(op);
    Region &body = forOp ? forOp.getBody() : parOp.getBody();
    SmallVector<Value> captured = capturedActiveVersions({&body});
    // A rev.for's iter_args are accumulators (only added to): each
    // iteration adds its term and takes it back, so their adjoints are the
    // results' adjoints in every iteration (read through per-iteration
    // copies, as a parallel loop's reduce results are).
    ValueRange accInits = forOp ? ValueRange(forOp.getInits()) : ValueRange();
    SmallVector<Value> inits, seeds;
    for (Value v : accInits)
      inits.push_back(fwd.lookup(v));
    for (Value r : op->getResults())
      if (isActiveScalar(r.getType()))
        seeds.push_back(st.getAdjoint(b, r));
    for (Value c : captured)
      inits.push_back(st.getAdjoint(b, c));
    Value lb = fwd.lookup(op->getOperand(0)), ub = fwd.lookup(op->getOperand(1)),
          step = fwd.lookup(op->getOperand(2));
    Operation *loop;
    Region *dst;
    if (forOp) {
      auto l = ForOp::create(b, loc, lb, ub, step, inits, forOp.getReverse());
      loop = l;
      dst = &l.getBody();
    } else {
      // The captured adjoints are the new loop's reduce accumulators (only
      // added to), as in the adjoint rule of rev.parallel_for.
      auto l = ParallelForOp::create(b, loc, lb, ub, step, inits);
      l.setAccumulateAttr(parOp.getAccumulateAttr());
      loop = l;
      dst = &l.getBody();
    }
    loop->setAttr(kFusedSweepsAttr, b.getUnitAttr());
    dst->getBlocks().clear();
    Block *block = new Block();
    dst->push_back(block);
    Block &src = body.front();
    fwd.map(src.getArgument(0), block->addArgument(b.getIndexType(), src.getArgument(0).getLoc()));
    for (BlockArgument a : src.getArguments().drop_front())
      fwd.map(a, block->addArgument(a.getType(), a.getLoc()));
    captureAdjoints(block, captured);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(block);
      FailureOr<SmallVector<Value>> out = fuseBlock(b, src, copySeeds(b, loc, seeds));
      if (failed(out))
        return failure();
      unsigned n = accInits.size();
      SmallVector<Value> yields(out->begin(), out->begin() + n);
      releaseSeedCopies(b, loc, ArrayRef<Value>(*out).drop_front(n), seeds);
      for (Value c : captured)
        yields.push_back(st.getAdjoint(b, c));
      YieldOp::create(b, loc, yields);
    }
    unsigned n = accInits.size(), k = 0;
    for (auto [i, v] : llvm::enumerate(accInits)) {
      st.recovered.bind(v, loop->getResult(i));
      if (isActiveScalar(v.getType()))
        st.setAdjoint(v, seeds[k++]);
    }
    for (auto [i, c] : llvm::enumerate(captured))
      st.setAdjoint(c, loop->getResult(n + i));
    return success();
  }

  LogicalResult fuseRoutine(OpBuilder &b, RoutineOp op) {
    Location loc = op.getLoc();
    SmallVector<Value> captured = capturedActiveVersions({&op.getCompute(), &op.getBody()});
    // As the backward routine's: the state (here the one before the routine,
    // which its compute reads the same as the one after), the adjoints of
    // the results, the captured adjoints.
    SmallVector<Value> inits;
    for (Value v : op.getInits())
      inits.push_back(fwd.lookup(v));
    for (Value r : op.getResults())
      if (isActiveScalar(r.getType()))
        inits.push_back(st.getAdjoint(b, r));
    for (Value c : captured)
      inits.push_back(st.getAdjoint(b, c));
    // The backward routine: compute = the inverse of bwd(C) (C recomputed),
    // body = B forward, then bwd(B); its uncompute, bwd(C), comes with it.
    auto newOp = RoutineOp::create(b, loc, inits);
    newOp->setAttr(kFusedSweepsAttr, b.getUnitAttr());
    if (failed(buildBackwardRoutineCompute(op, newOp, b, st, captured)))
      return failure();
    TypeRange mid = newOp.getCompute().front().getTerminator()->getOperandTypes();
    Block &src = op.getBody().front();
    Block *block = new Block();
    newOp.getBody().push_back(block);
    SmallVector<Value> finalAdjoints;
    for (BlockArgument a : src.getArguments())
      fwd.map(a, block->addArgument(a.getType(), a.getLoc()));
    for (BlockArgument a : src.getArguments())
      if (isActiveScalar(a.getType()))
        finalAdjoints.push_back(block->addArgument(a.getType(), a.getLoc()));
    captureAdjoints(block, captured);
    if (block->getNumArguments() != mid.size() ||
        TypeRange(block->getArgumentTypes()) != mid)
      return op.emitOpError("cannot fuse the sweeps of this routine: its backward compute "
                            "does not yield its body's state");
    if (failed(fuseBody(b, loc, src, block, finalAdjoints, captured)))
      return failure();
    // The results: the restored inits, their adjoints, the captured adjoints.
    unsigned k = op.getInits().size();
    for (auto [i, v] : llvm::enumerate(op.getInits())) {
      st.recovered.bind(v, newOp.getResult(i));
      if (isActiveScalar(v.getType()))
        st.setAdjoint(v, newOp.getResult(k++));
    }
    for (Value c : captured)
      st.setAdjoint(c, newOp.getResult(k++));
    return success();
  }

  AdjointState &st;
};
} // namespace

FailureOr<FuncOp> mlir::rev::buildFusedGradientFunction(FuncOp func, StringRef name) {
  Block &src = func.getBody().front();
  if (!Fuser::findTail(src))
    return FuncOp();
  FuncOp grad = createDerivativeFunction(func, name, kGradientOfAttr);
  Block *dst = &grad.getBody().front();
  AdjointState st;
  Fuser fuser(st);
  SmallVector<Value> finalAdjoints;
  SmallVector<int> pos = derivativeArgPositions(src.getArgumentTypes());
  for (auto [a, p] : llvm::zip(src.getArguments(), pos)) {
    fuser.fwd.map(a, dst->getArgument(a.getArgNumber()));
    if (p < 0)
      continue;
    if (isa<MemRefType>(a.getType()))
      st.shadows[a] = dst->getArgument(p);
    else
      finalAdjoints.push_back(dst->getArgument(p));
  }
  OpBuilder b = OpBuilder::atBlockBegin(dst);
  FailureOr<SmallVector<Value>> out = fuser.fuseBlock(b, src, finalAdjoints);
  if (failed(out)) {
    grad.erase();
    return failure();
  }
  ReturnOp::create(b, func.getLoc(), *out);
  cancelUpdatePairs(grad);
  return grad;
}
