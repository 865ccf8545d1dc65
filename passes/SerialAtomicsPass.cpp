//===- SerialAtomicsPass.cpp - --rev-serial-atomics -----------------------===//
//
// The sequential back end (rev-to-llvm) runs every scf.parallel as a plain
// loop on one thread, so the atomic adds that --lower-rev emits for a
// parallel loop's shared accumulations need not be atomic there: this pass
// turns each `memref.atomic_rmw addf/addi` with an unused result inside an
// scf.parallel into load, add, store (x86's atomic double add is a
// `lock cmpxchg` loop that also keeps LLVM from vectorising).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "passes/AtomicAdds.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVSERIALATOMICS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
struct SerialAtomicsPass : public rev::impl::RevSerialAtomicsBase<SerialAtomicsPass> {
  using RevSerialAtomicsBase::RevSerialAtomicsBase;

  void runOnOperation() override {
    SmallVector<memref::AtomicRMWOp> rmws;
    getOperation()->walk([&](memref::AtomicRMWOp rmw) {
      if (rmw.getResult().use_empty() && rmw->getParentOfType<scf::ParallelOp>() &&
          (rmw.getKind() == arith::AtomicRMWKind::addf ||
           rmw.getKind() == arith::AtomicRMWKind::addi))
        rmws.push_back(rmw);
    });
    for (memref::AtomicRMWOp rmw : rmws)
      replaceByPlainAdd(rmw);
  }
};
} // namespace
