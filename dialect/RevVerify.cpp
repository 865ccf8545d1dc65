//===- RevVerify.cpp - reversibility rules of a rev.func body -------------===//
//
// The rules of DESIGN.md, checked over each block that holds variables (a
// function body or a state region of a rev region op):
//  * only invertible ops, pure/read-only ops and terminators appear;
//  * every variable version is consumed exactly once, by an op of its own
//    block (or the block's terminator), and only variable versions are
//    consumed;
//  * a version (or any pure value computed from it) is not used after it is
//    consumed, nor by the op that consumes it (no y += f(y));
//  * a value loaded from a memref is not used after the memref is written.
//
//===----------------------------------------------------------------------===//
#include "dialect/RevOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
bool isCondBlock(Block &block) { return isa<CondOp>(block.getTerminator()); }

/// Calls `fn(user, use)` on every use of `v`, and transitively on the uses of
/// every pure op computed from it.
void forEachTransitiveUse(Value v, llvm::function_ref<void(OpOperand &)> fn) {
  SmallVector<Value> stack{v};
  llvm::SmallPtrSet<Operation *, 16> seen;
  while (!stack.empty()) {
    Value cur = stack.pop_back_val();
    for (OpOperand &use : cur.getUses()) {
      fn(use);
      Operation *user = use.getOwner();
      // Results of pure ops (also those nested in a pure region op) carry the
      // dependence on.
      for (Operation *op = user; op; op = op->getParentOp()) {
        if (isRecomputable(op) && seen.insert(op).second)
          llvm::append_range(stack, op->getResults());
        if (op->getBlock() == v.getParentBlock())
          break;
      }
    }
  }
}

class BlockVerifier {
public:
  LogicalResult verify(Block &block);

private:
  LogicalResult verifyOps(Block &block);
  LogicalResult verifyLinearity(Block &block);
  LogicalResult verifyLoads(Block &block);
};

LogicalResult BlockVerifier::verify(Block &block) {
  if (failed(verifyOps(block)) || failed(verifyLinearity(block)) || failed(verifyLoads(block)))
    return failure();
  return success();
}

LogicalResult BlockVerifier::verifyOps(Block &block) {
  for (Operation &op : block) {
    if (&op == block.getTerminator())
      continue;
    if (isa<InvertibleOpInterface>(op)) {
      for (Region &region : op.getRegions())
        for (Block &inner : region)
          if (!isCondBlock(inner) && failed(verify(inner)))
            return failure();
      continue;
    }
    if (isRecomputable(&op))
      continue;
    return op.emitOpError()
           << "is not reversible: it changes state but has no inverse "
              "(only rev ops, pure ops and reads may appear in a rev.func)";
  }
  return success();
}

LogicalResult BlockVerifier::verifyLinearity(Block &block) {
  // Variable versions defined by this block.
  SmallVector<Value> versions;
  for (BlockArgument a : getThreadedArgs(block))
    if (!isa<MemRefType>(a.getType()))
      versions.push_back(a);
  for (Operation &op : block)
    if (isa<InvertibleOpInterface>(op))
      llvm::append_range(versions, op.getResults());
  llvm::DenseSet<Value> isVersion(versions.begin(), versions.end());

  llvm::DenseMap<Value, OpOperand *> consumer;
  auto consume = [&](OpOperand &use, StringRef what) -> LogicalResult {
    Operation *op = use.getOwner();
    Value v = use.get();
    if (v.getParentBlock() != &block)
      return op->emitOpError() << what << " #" << use.getOperandNumber()
                               << " is a variable defined outside this region: pass it "
                                  "through the region's arguments to update it";
    if (!isVersion.contains(v))
      return op->emitOpError()
             << what << " #" << use.getOperandNumber()
             << " is not a variable: only arguments, ancillas (rev.alloc) and results "
                "of rev ops can be updated, yielded or returned, not values of pure ops";
    auto [it, inserted] = consumer.try_emplace(v, &use);
    if (!inserted) {
      auto diag = op->emitOpError() << what << " #" << use.getOperandNumber()
                                    << " was already consumed: a variable version can "
                                       "be updated, yielded or freed only once";
      diag.attachNote(it->second->getOwner()->getLoc()) << "first consumed here";
      return diag;
    }
    return success();
  };
  for (Operation &op : block) {
    if (auto inv = dyn_cast<InvertibleOpInterface>(op)) {
      for (OpOperand *use : inv.getConsumedOperands())
        if (failed(consume(*use, "updated operand")))
          return failure();
    }
  }
  for (OpOperand &use : block.getTerminator()->getOpOperands())
    if (failed(consume(use, "operand")))
      return failure();

  for (Value v : versions) {
    auto it = consumer.find(v);
    if (it == consumer.end()) {
      InFlightDiagnostic diag = emitError(v.getLoc())
                                << "variable version is never consumed: every variable "
                                   "must end up returned, yielded or freed (rev.free)";
      return diag;
    }
    OpOperand *consumingUse = it->second;
    Operation *c = consumingUse->getOwner();
    LogicalResult res = success();
    forEachTransitiveUse(v, [&](OpOperand &use) {
      if (failed(res) || &use == consumingUse)
        return;
      Operation *user = use.getOwner();
      Operation *anc = block.findAncestorOpInBlock(*user);
      if (!anc)
        return;
      if (anc == c) {
        if (user == c) {
          res = user->emitOpError()
                << "operand #" << use.getOperandNumber()
                << " reads the variable that this op updates: an update y += f(y) is "
                   "not reversible in place";
        } else {
          auto diag = user->emitOpError()
                      << "reads a variable version that the enclosing '" << c->getName()
                      << "' consumes: thread it through the region's arguments";
          diag.attachNote(c->getLoc()) << "consumed here";
          res = diag;
        }
        return;
      }
      if (c->isBeforeInBlock(anc)) {
        auto diag = user->emitOpError()
                    << "uses a variable version after it was consumed (operand #"
                    << use.getOperandNumber() << ")";
        diag.attachNote(c->getLoc()) << "consumed here";
        res = diag;
      }
    });
    if (failed(res))
      return failure();
  }
  return success();
}

LogicalResult BlockVerifier::verifyLoads(Block &block) {
  for (Operation &load : block) {
    if (isa<InvertibleOpInterface>(load) || !isRecomputable(&load))
      continue;
    auto iface = dyn_cast<MemoryEffectOpInterface>(&load);
    if (!iface)
      continue;
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (auto &effect : effects) {
      Value mem = effect.getValue();
      if (!mem || !isa<MemoryEffects::Read>(effect.getEffect()))
        continue;
      for (Value result : load.getResults()) {
        LogicalResult res = success();
        forEachTransitiveUse(result, [&](OpOperand &use) {
          if (failed(res))
            return;
          Operation *user = use.getOwner();
          Operation *anc = block.findAncestorOpInBlock(*user);
          if (!anc)
            return;
          for (Operation *op = load.getNextNode(); op && op != anc; op = op->getNextNode())
            if (writesMemRef(op, mem)) {
              auto diag = user->emitOpError()
                          << "uses a value loaded from a memref after the memref was "
                             "written: reload it after the write";
              diag.attachNote(load.getLoc()) << "loaded here";
              diag.attachNote(op->getLoc()) << "written here";
              res = diag;
              return;
            }
          if (anc->getNumRegions() > 0 && isa<InvertibleOpInterface>(anc) &&
              writesMemRef(anc, mem)) {
            auto diag = user->emitOpError()
                        << "uses a value loaded before '" << anc->getName()
                        << "' from a memref that it writes: load it inside instead";
            diag.attachNote(load.getLoc()) << "loaded here";
            res = diag;
          }
        });
        if (failed(res))
          return failure();
      }
    }
  }
  return success();
}
} // namespace

LogicalResult mlir::rev::verifyReversibleBody(FuncOp func) {
  if (func.getBody().empty())
    return success();
  return BlockVerifier().verify(func.getBody().front());
}
