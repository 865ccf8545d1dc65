//===- MultiSeed.cpp - several adjoint seeds through one sweep ---------------===//
//
// A Jacobian by reverse mode takes one backward sweep per output row; each
// sweep recovers the same primal states and computes the same partial
// derivatives, and only the adjoints differ. `@g_xN` (from a derivative
// function @g: a gradient or a backward sweep) takes N sets of adjoint
// arguments and returns N sets of adjoint results: for every k its k-th set
// comes out exactly as a call of @g with that set would give it, while the
// primal work (the forward sweep, the uncomputation, the partial
// derivatives) runs once. This is vector-mode reverse AD (JAX's vmap over
// the cotangents of a vjp), done by the compiler:
//
//  * taint: a value depends on the adjoints when it is an adjoint argument,
//    the result of an op with such an operand, an iter_arg/result of a
//    region op whose init or yielded value does, or a memref allocation that
//    such an op writes (an adjoint buffer of the function's own); every
//    memref such an op may write must be, through every view and select, an
//    adjoint argument or such an allocation;
//  * copy: ops without tainted operands or results are copied once; leaf
//    ops with them N times (copy k reads copy k of each tainted operand);
//    region ops (rev.for, rev.parallel_for, rev.if, rev.while, rev.routine)
//    holding tainted ops are copied once with N copies of each tainted init,
//    block argument, yielded value and result, and their bodies copied the
//    same way; a call of a derivative function with tainted operands calls
//    its @h_xN (generated on demand);
//  * versions stay linear: a version that a copied op consumes (the target
//    of an update, an init, a yielded value) gets a copy per seed too, and
//    so does what produced it (an adjoint ancilla's rev.alloc, a constant);
//    a primal argument of the function cannot be copied: an error.
// Soundness: the primal side (untainted ops) does not read the adjoints, so
// it computes the same values in the N-seed function as in each single
// call; the copies of a tainted op run where the op ran, so they see the
// same primal values and memory. What this cannot show safe is a located
// error: an adjoint-dependent op that may write memory the primal side
// owns (a non-adjoint memref argument, possibly through a view or select;
// rev.steps_adjoint's state), a loop bound or condition that depends on the
// adjoints, an adjoint-dependent update of a primal argument, a call of a
// non-derivative function with adjoint operands, or a region op of another
// kind.
//
//===----------------------------------------------------------------------===//
#include "transforms/ReverseMode.h"

#include "transforms/MarkedFunctions.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
/// The derivative layout of a marked function: the primal function it
/// derives from, whose arguments and results come first.
struct Layout {
  unsigned primalArgs = 0, primalResults = 0;
};

/// The primal function @f of a gradient or backward function
/// (rev.gradient_of or rev.backward_of = @f), or null.
FuncOp primalOf(FuncOp g) {
  SymbolTableCollection tables;
  for (StringRef attr : {kGradientOfAttr, kBackwardOfAttr})
    if (auto ref = g->getAttrOfType<FlatSymbolRefAttr>(attr))
      return dyn_cast_or_null<FuncOp>(tables.lookupNearestSymbolFrom(g, ref));
  return {};
}

/// The rev.func that a rev.call or rev.uncall runs (or whose inverse it
/// runs); else null.
FuncOp calleeOf(Operation *op) {
  if (!isa<CallOp, UncallOp>(op))
    return {};
  SymbolTableCollection tables;
  return dyn_cast_or_null<FuncOp>(
      tables.lookupNearestSymbolFrom(op, op->getAttrOfType<FlatSymbolRefAttr>("callee")));
}

/// For a rev.call or rev.uncall of a derivative function: that function's
/// primal function; else null.
FuncOp derivativeCallee(Operation *op) {
  FuncOp callee = calleeOf(op);
  return callee ? primalOf(callee) : FuncOp();
}

/// The region ops whose carried values the copy handles: loops (bounds and
/// induction variable in front), rev.if and rev.while (every region takes
/// the inits), rev.routine (compute takes the inits and yields the middle
/// state, which body takes and yields; the results are the inits' final
/// versions, restored by compute's inverse).
bool isZippable(Operation *op) {
  return isa<ForOp, ParallelForOp, IfOp, WhileOp, RoutineOp>(op);
}
unsigned numFixedOperands(Operation *op) { return isa<ForOp, ParallelForOp>(op) ? 3 : 0; }
unsigned numFixedBlockArgs(Operation *op) { return isa<ForOp, ParallelForOp>(op) ? 1 : 0; }

/// The values of a region op that are one variable at different points
/// (an init, the block arguments that receive it, the values yielded for it,
/// the result): either all of them depend on the adjoints or none does.
/// `consumed` members (inits, yielded values) are versions that the op or
/// its terminators consume.
struct Slot {
  SmallVector<Value> members;
  SmallVector<Value> consumed;
};

SmallVector<Slot> slotsOf(Operation *op) {
  SmallVector<Slot> slots;
  unsigned fixed = numFixedOperands(op), fixedArgs = numFixedBlockArgs(op);
  auto yieldOf = [](Region &r) -> YieldOp {
    return r.empty() ? YieldOp() : dyn_cast<YieldOp>(r.front().getTerminator());
  };
  if (auto routine = dyn_cast<RoutineOp>(op)) {
    Block &compute = routine.getCompute().front(), &body = routine.getBody().front();
    for (unsigned j = 0; j < routine.getNumResults(); ++j)
      slots.push_back({{routine.getResult(j), compute.getArgument(j)},
                       {routine->getOperand(j)}});
    YieldOp cy = yieldOf(routine.getCompute()), by = yieldOf(routine.getBody());
    for (unsigned m = 0; m < body.getNumArguments(); ++m)
      slots.push_back({{body.getArgument(m)}, {cy.getOperand(m), by.getOperand(m)}});
    return slots;
  }
  for (unsigned j = 0; j < op->getNumResults(); ++j) {
    Slot slot{{op->getResult(j)}, {op->getOperand(fixed + j)}};
    for (Region &r : op->getRegions()) {
      if (r.empty())
        continue;
      slot.members.push_back(r.front().getArgument(fixedArgs + j));
      if (YieldOp y = yieldOf(r))
        slot.consumed.push_back(y.getOperand(j));
    }
    slots.push_back(std::move(slot));
  }
  return slots;
}

/// How a copied region op spreads its values over the seeds: per operand
/// beyond the fixed ones, per result, per region's block argument and
/// yielded value, whether it has N copies.
struct ZipInfo {
  SmallVector<bool> inits, results;
  SmallVector<SmallVector<bool>> args, yields;
};

class Seeder {
public:
  Seeder(unsigned n) : n(n) {}

  /// @g_xN, found or generated.
  FailureOr<FuncOp> getOrCreate(FuncOp g);

private:
  unsigned n;
  Block *entry = nullptr;
  /// g's primal results: the return's operands before the adjoint ones.
  unsigned primalResults = 0;
  llvm::DenseSet<Value> tainted;
  /// Region ops copied once with their adjoint-carrying values N times.
  llvm::DenseMap<Operation *, ZipInfo> zipped;

  bool isTainted(Value v) const { return tainted.contains(v); }
  bool anyTainted(ValueRange vs) const {
    return llvm::any_of(vs, [&](Value v) { return isTainted(v); });
  }
  bool taint(Value v) { return tainted.insert(v).second; }
  /// `consumer` consumes the version `v` and is copied per seed: each copy
  /// needs its own version, so `v` (and what produced it) is copied too.
  /// f's primal arguments have one version: an error there.
  LogicalResult taintConsumed(Value v, Operation *consumer, bool &changed);

  LogicalResult analyze(FuncOp g, const Layout &layout);
  bool propagate(Region &region, LogicalResult &status);
  LogicalResult markWrittenMemrefs(Operation *op, bool &changed);

  LogicalResult copyBlock(Block &src, Block &dst, SmallVectorImpl<IRMapping> &maps,
                          const Layout &layout);
  LogicalResult copyOp(Operation &op, OpBuilder &b, SmallVectorImpl<IRMapping> &maps,
                       const Layout &layout);
  LogicalResult copyZipped(Operation &op, OpBuilder &b, SmallVectorImpl<IRMapping> &maps,
                           const Layout &layout);
  LogicalResult copyCall(Operation &call, OpBuilder &b, SmallVectorImpl<IRMapping> &maps);

  /// (untainted: once; tainted: N times, copy k from map k).
  SmallVector<Value> expand(ValueRange vs, ArrayRef<bool> taintedAt,
                            SmallVectorImpl<IRMapping> &maps) const {
    SmallVector<Value> out;
    for (auto [i, v] : llvm::enumerate(vs)) {
      if (!taintedAt[i]) {
        out.push_back(maps[0].lookupOrDefault(v));
        continue;
      }
      for (unsigned k = 0; k < n; ++k)
        out.push_back(maps[k].lookupOrDefault(v));
    }
    return out;
  }
  SmallVector<bool> taints(ValueRange vs) const {
    return llvm::map_to_vector(vs, [&](Value v) { return isTainted(v); });
  }
  void mapAll(SmallVectorImpl<IRMapping> &maps, Value from, Value to) const {
    for (IRMapping &m : maps)
      m.map(from, to);
  }
};

LogicalResult Seeder::taintConsumed(Value v, Operation *consumer, bool &changed) {
  if (isTainted(v))
    return success();
  if (auto arg = dyn_cast<BlockArgument>(v); arg && arg.getOwner() == entry)
    return consumer->emitOpError()
           << "depends on the adjoints and updates the primal argument #"
           << arg.getArgNumber()
           << ": its seeds would need copies of it (--rev-seeds)";
  changed |= taint(v);
  return success();
}

LogicalResult Seeder::markWrittenMemrefs(Operation *op, bool &changed) {
  // A call of a derivative function becomes a call of its N-seed function:
  // its primal arguments are written once, by the primal side.
  unsigned first = 0;
  if (FuncOp primal = derivativeCallee(op))
    first = primal.getNumArguments();
  for (OpOperand &operand : llvm::drop_begin(op->getOpOperands(), first)) {
    Value v = operand.get();
    if (!isa<BaseMemRefType>(v.getType()) || !mayModifyMemref(op, v))
      continue;
    // Every memref it may be must be an adjoint buffer: an adjoint argument,
    // or an allocation of the function's own (each seed then gets its own).
    // Depending on the adjoints is not enough: a view of a primal array at
    // an adjoint-dependent offset, or a select between it and a shadow, is
    // still primal memory.
    SmallVector<Value> roots;
    memrefSources(v, roots);
    for (Value root : roots) {
      if (auto arg = dyn_cast<BlockArgument>(root);
          arg && arg.getOwner() == entry && isTainted(arg))
        continue;
      Operation *def = root.getDefiningOp();
      if (def && isa<memref::AllocOp, memref::AllocaOp>(def)) {
        changed |= taint(root);
        continue;
      }
      return op->emitOpError()
             << "depends on the adjoints and may write its operand #"
             << operand.getOperandNumber()
             << ", a memref that is not (or may not be) an adjoint buffer: the N-seed "
                "function (--rev-seeds) cannot share it between the seeds";
    }
  }
  return success();
}

bool Seeder::propagate(Region &region, LogicalResult &status) {
  bool changed = false;
  region.walk([&](Operation *op) {
    if (failed(status))
      return WalkResult::interrupt();
    if (isZippable(op)) {
      for (Slot &slot : slotsOf(op)) {
        if (!anyTainted(slot.members) && !anyTainted(slot.consumed))
          continue;
        for (Value v : slot.members)
          changed |= taint(v);
        for (Value v : slot.consumed)
          if (failed(taintConsumed(v, op, changed))) {
            status = failure();
            return WalkResult::interrupt();
          }
      }
      return WalkResult::advance();
    }
    // The return hands each seed its own adjoint results: N versions.
    if (auto ret = dyn_cast<ReturnOp>(op)) {
      for (Value v : ret.getOperands().drop_front(primalResults))
        if (failed(taintConsumed(v, op, changed))) {
          status = failure();
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    }
    if (op->getNumRegions() != 0 || op->hasTrait<OpTrait::IsTerminator>())
      return WalkResult::advance();
    bool t = anyTainted(op->getOperands()) || anyTainted(op->getResults());
    if (!t)
      return WalkResult::advance();
    // A derivative function's primal results do not depend on its adjoint
    // arguments.
    // It becomes a call of the callee's N-seed function: the versions it
    // consumes at adjoint positions get a copy per seed.
    unsigned calleeArgs = 0, calleeResults = 0;
    if (FuncOp primal = derivativeCallee(op)) {
      calleeArgs = primal.getNumArguments();
      calleeResults = primal.getNumResults();
    }
    for (Value r : op->getResults().drop_front(calleeResults))
      changed |= taint(r);
    if (auto inv = dyn_cast<InvertibleOpInterface>(op))
      for (OpOperand *consumed : inv.getConsumedOperands())
        if (consumed->getOperandNumber() >= calleeArgs &&
            failed(taintConsumed(consumed->get(), op, changed))) {
          status = failure();
          return WalkResult::interrupt();
        }
    if (failed(markWrittenMemrefs(op, changed))) {
      status = failure();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return changed;
}

LogicalResult Seeder::analyze(FuncOp g, const Layout &layout) {
  tainted.clear();
  zipped.clear();
  entry = &g.getBody().front();
  primalResults = layout.primalResults;
  for (BlockArgument arg : entry->getArguments().drop_front(layout.primalArgs))
    taint(arg);
  LogicalResult status = success();
  while (propagate(g.getBody(), status))
    if (failed(status))
      return failure();
  if (failed(status))
    return failure();
  // Region ops to copy once with their carried adjoints copied N times:
  // those that depend on the adjoints or hold an op that does.
  llvm::DenseSet<Operation *> holding;
  g.getBody().walk([&](Operation *op) {
    if (anyTainted(op->getOperands()) || anyTainted(op->getResults()))
      for (Operation *p = op; p != g.getOperation(); p = p->getParentOp())
        if (!holding.insert(p).second)
          break;
  });
  WalkResult r = g.getBody().walk([&](Operation *op) {
    if (op->getNumRegions() == 0 || !holding.contains(op))
      return WalkResult::advance();
    if (!isZippable(op)) {
      op->emitOpError() << "holds adjoint updates, which the N-seed function (--rev-seeds) "
                           "does not copy in this kind of op (rev.for, rev.parallel_for, "
                           "rev.if, rev.while and rev.routine are supported)";
      return WalkResult::interrupt();
    }
    unsigned fixed = numFixedOperands(op);
    if (anyTainted(op->getOperands().take_front(fixed))) {
      op->emitOpError() << "has a bound that depends on the adjoints: the seeds would need "
                           "different trip counts (--rev-seeds)";
      return WalkResult::interrupt();
    }
    ZipInfo info;
    info.inits = taints(op->getOperands().drop_front(fixed));
    info.results = taints(op->getResults());
    for (Region &region : op->getRegions()) {
      info.args.emplace_back();
      info.yields.emplace_back();
      if (region.empty())
        continue;
      if (!region.hasOneBlock()) {
        op->emitOpError() << "has a region of several blocks (--rev-seeds)";
        return WalkResult::interrupt();
      }
      Operation *term = region.front().getTerminator();
      if (isa<CondOp>(term) && anyTainted(term->getOperands())) {
        term->emitOpError() << "depends on the adjoints: the seeds would take different "
                               "branches (--rev-seeds)";
        return WalkResult::interrupt();
      }
      info.args.back() = taints(region.front().getArguments());
      if (isa<YieldOp>(term))
        info.yields.back() = taints(term->getOperands());
    }
    zipped[op] = std::move(info);
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return failure();
  auto ret = cast<ReturnOp>(entry->getTerminator());
  for (Value v : ret.getOperands().take_front(layout.primalResults))
    if (isTainted(v))
      return ret.emitOpError() << "returns a primal result that depends on the adjoints "
                                  "(--rev-seeds)";
  return success();
}

LogicalResult Seeder::copyCall(Operation &call, OpBuilder &b,
                               SmallVectorImpl<IRMapping> &maps) {
  FuncOp callee = calleeOf(&call);
  FuncOp primal = callee ? primalOf(callee) : FuncOp();
  auto name = call.getAttrOfType<FlatSymbolRefAttr>("callee");
  if (!primal)
    return call.emitOpError() << "passes adjoint-dependent values to " << name
                              << ", which is not a generated gradient or backward function: "
                                 "the N-seed function (--rev-seeds) cannot copy its effects";
  unsigned pa = primal.getNumArguments(), pr = primal.getNumResults();
  for (Value v : call.getOperands().take_front(pa))
    if (isTainted(v))
      return call.emitOpError() << "passes an adjoint-dependent value as a primal argument "
                                   "of "
                                << name << " (--rev-seeds)";
  // A call runs @h_xN; an uncall runs its inverse, which is the N-seed copy
  // of h's inverse (the copies' ops undone in reverse order).
  Seeder inner(n);
  FailureOr<FuncOp> seeded = inner.getOrCreate(callee);
  if (failed(seeded))
    return call.emitOpError() << "calls " << name
                              << ", whose N-seed function could not be built";
  SmallVector<Value> operands;
  for (Value v : call.getOperands().take_front(pa))
    operands.push_back(maps[0].lookupOrDefault(v));
  for (unsigned k = 0; k < n; ++k)
    for (Value v : call.getOperands().drop_front(pa))
      operands.push_back(maps[k].lookupOrDefault(v));
  OperationState state(call.getLoc(), call.getName());
  state.addOperands(operands);
  state.addTypes(seeded->getFunctionType().getResults());
  state.addAttributes(call.getAttrs());
  state.attributes.set("callee", FlatSymbolRefAttr::get(seeded->getSymNameAttr()));
  Operation *newCall = b.create(state);
  unsigned extra = call.getNumResults() - pr;
  for (unsigned i = 0; i < pr; ++i)
    mapAll(maps, call.getResult(i), newCall->getResult(i));
  for (unsigned k = 0; k < n; ++k)
    for (unsigned i = 0; i < extra; ++i)
      maps[k].map(call.getResult(pr + i), newCall->getResult(pr + k * extra + i));
  return success();
}

LogicalResult Seeder::copyZipped(Operation &op, OpBuilder &b, SmallVectorImpl<IRMapping> &maps,
                                 const Layout &layout) {
  const ZipInfo &info = zipped.find(&op)->second;
  unsigned fixed = numFixedOperands(&op);
  OperationState state(op.getLoc(), op.getName());
  for (Value v : op.getOperands().take_front(fixed))
    state.addOperands(maps[0].lookupOrDefault(v));
  state.addOperands(expand(op.getOperands().drop_front(fixed), info.inits, maps));
  for (auto [i, r] : llvm::enumerate(op.getResults()))
    for (unsigned k = 0; k < (info.results[i] ? n : 1); ++k)
      state.addTypes(r.getType());
  state.addAttributes(op.getAttrs());
  for (unsigned i = 0; i < op.getNumRegions(); ++i)
    state.addRegion();
  Operation *copy = b.create(state);
  for (auto [ri, src, dst] : llvm::enumerate(op.getRegions(), copy->getRegions())) {
    if (src.empty())
      continue;
    Block &sb = src.front();
    Block *db = new Block();
    dst.push_back(db);
    for (auto [a, arg] : llvm::enumerate(sb.getArguments())) {
      if (!info.args[ri][a]) {
        mapAll(maps, arg, db->addArgument(arg.getType(), arg.getLoc()));
        continue;
      }
      for (unsigned k = 0; k < n; ++k)
        maps[k].map(arg, db->addArgument(arg.getType(), arg.getLoc()));
    }
    if (failed(copyBlock(sb, *db, maps, layout)))
      return failure();
  }
  unsigned at = 0;
  for (auto [i, r] : llvm::enumerate(op.getResults())) {
    if (!info.results[i]) {
      mapAll(maps, r, copy->getResult(at++));
      continue;
    }
    for (unsigned k = 0; k < n; ++k)
      maps[k].map(r, copy->getResult(at++));
  }
  return success();
}

LogicalResult Seeder::copyOp(Operation &op, OpBuilder &b, SmallVectorImpl<IRMapping> &maps,
                             const Layout &layout) {
  if (auto yield = dyn_cast<YieldOp>(op)) {
    auto it = zipped.find(op.getParentOp());
    if (it != zipped.end()) {
      unsigned region = op.getParentRegion()->getRegionNumber();
      YieldOp::create(b, op.getLoc(), expand(yield.getOperands(), it->second.yields[region], maps));
      return success();
    }
  }
  if (auto ret = dyn_cast<ReturnOp>(op)) {
    SmallVector<Value> operands;
    for (Value v : ret.getOperands().take_front(layout.primalResults))
      operands.push_back(maps[0].lookupOrDefault(v));
    for (unsigned k = 0; k < n; ++k)
      for (Value v : ret.getOperands().drop_front(layout.primalResults))
        operands.push_back(maps[k].lookupOrDefault(v));
    ReturnOp::create(b, op.getLoc(), operands);
    return success();
  }
  if (zipped.contains(&op))
    return copyZipped(op, b, maps, layout);
  bool t = anyTainted(op.getOperands()) || anyTainted(op.getResults());
  if (!t) {
    Operation *copy = b.clone(op, maps[0]);
    for (auto [from, to] : llvm::zip(op.getResults(), copy->getResults()))
      mapAll(maps, from, to);
    return success();
  }
  if (derivativeCallee(&op) || (isa<CallOp, UncallOp>(op) && anyTainted(op.getOperands())))
    return copyCall(op, b, maps);
  if (isa<CallOp, UncallOp>(op))
    return op.emitOpError() << "depends on the adjoints; only calls of generated gradient or "
                               "backward functions are supported (--rev-seeds)";
  for (unsigned k = 0; k < n; ++k)
    b.clone(op, maps[k]);
  return success();
}

LogicalResult Seeder::copyBlock(Block &src, Block &dst, SmallVectorImpl<IRMapping> &maps,
                                const Layout &layout) {
  OpBuilder b = OpBuilder::atBlockEnd(&dst);
  for (Operation &op : src)
    if (failed(copyOp(op, b, maps, layout)))
      return failure();
  return success();
}

FailureOr<FuncOp> Seeder::getOrCreate(FuncOp g) {
  // Found: the function marked rev.seeds_of = @g with this count.
  Operation *table = SymbolTable::getNearestSymbolTable(g);
  for (Block &block : table->getRegion(0))
    for (FuncOp candidate : block.getOps<FuncOp>()) {
      auto of = candidate->getAttrOfType<FlatSymbolRefAttr>(kSeedsOfAttr);
      auto count = candidate->getAttrOfType<IntegerAttr>(kSeedsAttr);
      if (of && of.getValue() == g.getSymName() && count && count.getInt() == n)
        return candidate;
    }
  FuncOp primal = primalOf(g);
  if (!primal)
    return g.emitOpError() << "is not a generated gradient or backward function "
                              "(rev.gradient_of, rev.backward_of): --rev-seeds copies "
                              "the adjoints of those";
  if (g.getBody().empty())
    return g.emitOpError() << "has no body (--rev-seeds)";
  Layout layout{primal.getNumArguments(), primal.getNumResults()};
  if (failed(analyze(g, layout)))
    return failure();

  FunctionType type = g.getFunctionType();
  SmallVector<Type> inputs(type.getInputs().take_front(layout.primalArgs));
  SmallVector<Type> results(type.getResults().take_front(layout.primalResults));
  for (unsigned k = 0; k < n; ++k) {
    llvm::append_range(inputs, type.getInputs().drop_front(layout.primalArgs));
    llvm::append_range(results, type.getResults().drop_front(layout.primalResults));
  }
  std::string name = uniqueSymbolName(g, g.getSymName() + "_x" + Twine(n));
  FuncOp out = createMarkedFunction(g, name, FunctionType::get(g.getContext(), inputs, results),
                                    kSeedsOfAttr);
  out->setAttr(kSeedsAttr, IntegerAttr::get(IntegerType::get(g.getContext(), 64), n));
  for (StringRef keep : {kAdjointOnlyAttr, kLoopBudgetAttr, kLoopBudgetTotalAttr})
    if (Attribute a = g->getAttr(keep))
      out->setAttr(keep, a);
  // Argument attributes (rev.const, ...): the primal ones once, the adjoint
  // ones per seed.
  unsigned extra = g.getNumArguments() - layout.primalArgs;
  for (unsigned i = 0; i < out.getNumArguments(); ++i) {
    unsigned from = i < layout.primalArgs ? i : layout.primalArgs + (i - layout.primalArgs) % extra;
    if (DictionaryAttr attrs = g.getArgAttrDict(from))
      out.setArgAttrs(i, attrs);
  }
  Block &src = g.getBody().front(), &dst = out.getBody().front();
  SmallVector<IRMapping> maps(n);
  for (unsigned i = 0; i < layout.primalArgs; ++i)
    mapAll(maps, src.getArgument(i), dst.getArgument(i));
  for (unsigned k = 0; k < n; ++k)
    for (unsigned i = 0; i < extra; ++i)
      maps[k].map(src.getArgument(layout.primalArgs + i),
                  dst.getArgument(layout.primalArgs + k * extra + i));
  if (failed(copyBlock(src, dst, maps, layout))) {
    out.erase();
    return failure();
  }
  return out;
}
} // namespace

FailureOr<FuncOp> mlir::rev::getOrCreateSeededFunction(FuncOp g, unsigned n) {
  return Seeder(n).getOrCreate(g);
}
