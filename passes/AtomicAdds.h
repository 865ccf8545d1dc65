//===- AtomicAdds.h - atomic adds made plain --------------------*- C++ -*-===//
//
// The passes that remove atomics where no other thread can touch the element
// (--rev-serial-atomics: one thread; --rev-owned-ranges: an element owned by
// one iteration; --rev-privatize-atomics: a thread-private copy) all turn
// `memref.atomic_rmw addf|addi` into a plain load, add and store.
//
//===----------------------------------------------------------------------===//
#ifndef REV_PASSES_ATOMICADDS_H
#define REV_PASSES_ATOMICADDS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

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
} // namespace mlir::rev

#endif // REV_PASSES_ATOMICADDS_H
