//===- Expansion.cpp - expanding uncalls and routines ---------------------===//
#include "transforms/Expansion.h"
#include "transforms/Inversion.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::rev;

LogicalResult mlir::rev::expandUncalls(Operation *root) {
  for (bool changed = true; changed;) {
    changed = false;
    SmallVector<UncallOp> uncalls;
    root->walk([&](UncallOp u) { uncalls.push_back(u); });
    for (UncallOp u : uncalls) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(u, u.getCalleeAttr());
      if (!callee)
        return u.emitOpError("callee is not a rev.func");
      FailureOr<FuncOp> inv = getOrCreateInverseFunction(callee);
      if (failed(inv))
        return u.emitOpError() << "cannot build the inverse of " << u.getCalleeAttr();
      OpBuilder b(u);
      auto call = CallOp::create(b, u.getLoc(), u.getResultTypes(),
                                 FlatSymbolRefAttr::get(inv->getSymNameAttr()),
                                 u.getOperands());
      u.replaceAllUsesWith(call.getResults());
      u.erase();
      changed = true;
    }
  }
  return success();
}

/// Clones the non-terminator ops of `src` at `b` with its arguments mapped
/// to `args`; returns the mapped terminator operands.
static SmallVector<Value> inlineClone(OpBuilder &b, Block &src, ValueRange args) {
  IRMapping mapping;
  for (auto [a, v] : llvm::zip(src.getArguments(), args))
    mapping.map(a, v);
  for (Operation &op : src.without_terminator())
    b.clone(op, mapping);
  return llvm::map_to_vector(src.getTerminator()->getOperands(),
                             [&](Value v) { return mapping.lookupOrDefault(v); });
}

static LogicalResult expandRoutinesOnce(Operation *root) {
  SmallVector<RoutineOp> routines;
  root->walk([&](RoutineOp r) { routines.push_back(r); }); // innermost first
  for (RoutineOp r : routines) {
    OpBuilder b(r);
    Block &compute = r.getCompute().front();
    SmallVector<Value> mid = inlineClone(b, compute, r.getInits());
    SmallVector<Value> after = inlineClone(b, r.getBody().front(), mid);
    // Uncompute: the inverse of `compute`, from the state after `body`.
    InversionState st(&r.getCompute());
    // A compute region with rev.discard is the inverse of a backward sweep
    // (the adjoint of a routine): inverting it gives that sweep back, where
    // each discarded adjoint is a fresh zero (only derivative functions may
    // hold discards, see DiscardOp::verify).
    st.allowDiscard = true;
    FailureOr<SmallVector<Value>> restored =
        st.invertBlock(b, compute, after, compute.getArguments());
    if (failed(restored))
      return r.emitOpError("cannot build the uncompute step of this routine");
    r.replaceAllUsesWith(*restored);
    r.erase();
  }
  return success();
}

LogicalResult mlir::rev::expandRoutines(Operation *root) {
  // Expanding a routine may create uncalls (the uncompute of a call), and the
  // inverse functions these need may hold routines: iterate to a fixpoint.
  while (root->walk([](RoutineOp) { return WalkResult::interrupt(); }).wasInterrupted())
    if (failed(expandRoutinesOnce(root)) || failed(expandUncalls(root)))
      return failure();
  return success();
}
