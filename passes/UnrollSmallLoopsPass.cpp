//===- UnrollSmallLoopsPass.cpp - --rev-unroll-small-loops ----------------===//
//
// Full unrolling of small constant-trip scf.for loops, innermost first. The
// backward sweep of a loop over elements that runs a constant-trip inner
// loop (a series' terms) keeps that inner loop as a loop: LLVM unrolls and
// vectorises such loops in forward code, but in the reversed code it does
// not, and it only vectorises innermost loops. Unrolling them in MLIR makes
// the element loop the innermost one.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVUNROLLSMALLLOOPS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
/// The number of ops in the loop's body, nested ones included, the
/// terminator not; and whether one of them is a loop.
static std::pair<uint64_t, bool> bodySize(scf::ForOp loop) {
  uint64_t n = 0;
  bool hasLoop = false;
  loop.getBody()->walk([&](Operation *op) {
    if (op != loop.getBody()->getTerminator())
      ++n;
    if (isa<LoopLikeOpInterface>(op))
      hasLoop = true;
  });
  return {n, hasLoop};
}

struct UnrollSmallLoopsPass
    : public rev::impl::RevUnrollSmallLoopsBase<UnrollSmallLoopsPass> {
  using RevUnrollSmallLoopsBase::RevUnrollSmallLoopsBase;

  void runOnOperation() override {
    if (maxTripCount == 0)
      return;
    // Post order: inner loops come before the loops around them, so an outer
    // loop is looked at with its inner loops already unrolled (or not).
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops) {
      std::optional<APInt> trips = loop.getStaticTripCount();
      if (!trips || trips->isNegative() || trips->isZero() ||
          trips->ugt(static_cast<uint64_t>(maxTripCount)))
        continue;
      auto [ops, hasLoop] = bodySize(loop);
      if (hasLoop || ops > maxBodyOps)
        continue;
      // loopUnrollFull only fails on loops it cannot handle; those stay.
      (void)loopUnrollFull(loop);
    }
  }
};
} // namespace
