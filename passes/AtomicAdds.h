//===- AtomicAdds.h - atomic adds made plain --------------------*- C++ -*-===//
//
// The passes that remove atomics where no other thread can touch the element
// (--rev-serial-atomics: one thread; --rev-owned-ranges: an element owned by
// one iteration; --rev-privatize-atomics: a thread-private copy) all turn
// `memref.atomic_rmw addf|addi` into a plain load, add and store; the two
// that add plainly while other threads run need the memref to have no other
// name (hasNoOtherNames).
//
//===----------------------------------------------------------------------===//
#ifndef REV_PASSES_ATOMICADDS_H
#define REV_PASSES_ATOMICADDS_H

#include "conversion/LowerRev.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::rev {
/// Replaces the atomic add `rmw` (addf or addi, result unused) by
/// `memref[indices] = memref[indices] + value` (by default the memref and
/// indices `rmw` adds to) and erases it.
inline void replaceByPlainAdd(memref::AtomicRMWOp rmw, Value memref = {},
                              ValueRange indices = {}) {
  if (!memref) {
    memref = rmw.getMemref();
    indices = rmw.getIndices();
  }
  OpBuilder b(rmw);
  Location loc = rmw.getLoc();
  Value old = memref::LoadOp::create(b, loc, memref, indices);
  Value sum = rmw.getKind() == arith::AtomicRMWKind::addf
                  ? arith::AddFOp::create(b, loc, old, rmw.getValue()).getResult()
                  : arith::AddIOp::create(b, loc, old, rmw.getValue()).getResult();
  memref::StoreOp::create(b, loc, sum, memref, indices);
  rmw.erase();
}

/// Whether every access to `m`'s memory goes through `m` itself: an
/// allocation, or an argument of a function lowered from a rev.func (whose
/// memref arguments rev forbids to share memory and --lower-rev marks
/// `noalias`, kNoaliasPtrArgsAttr; a plain func.func's caller may pass one
/// buffer twice), that only loads, stores into it, atomics, dims, frees and
/// pointer queries use (no view, cast, select or call, and not stored as a
/// value: another name could add to the same elements atomically while
/// a pass adds plainly: chunk 0 of --rev-privatize-atomics, the owned
/// rows of --rev-owned-ranges).
inline bool hasNoOtherNames(Value m) {
  if (auto arg = dyn_cast<BlockArgument>(m)) {
    Operation *fn = arg.getOwner()->getParentOp();
    if (!arg.getOwner()->isEntryBlock() || !isa<FunctionOpInterface>(fn) ||
        !fn->hasAttr(kNoaliasPtrArgsAttr))
      return false;
  } else if (!isa_and_nonnull<memref::AllocOp, memref::AllocaOp>(m.getDefiningOp())) {
    return false;
  }
  return llvm::all_of(m.getUsers(), [&](Operation *u) {
    if (auto store = dyn_cast<memref::StoreOp>(u))
      return store.getValueToStore() != m;
    return isa<memref::LoadOp, memref::AtomicRMWOp, memref::DimOp, memref::DeallocOp,
               memref::ExtractAlignedPointerAsIndexOp>(u);
  });
}
} // namespace mlir::rev

#endif // REV_PASSES_ATOMICADDS_H
