//===- SeedsPass.cpp - --rev-seeds ------------------------------------------===//
#include "passes/Passes.h"

#include "transforms/MarkedFunctions.h"
#include "transforms/ReverseMode.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVSEEDS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
struct RevSeedsPass : public rev::impl::RevSeedsBase<RevSeedsPass> {
  using RevSeedsBase::RevSeedsBase;

  void runOnOperation() override {
    if (count < 1 || count > 64) {
      getOperation().emitError() << "rev-seeds: count must be in 1..64, not "
                                 << static_cast<uint64_t>(count);
      return signalPassFailure();
    }
    FailureOr<SmallVector<FuncOp>> selected =
        selectRevFuncs(getOperation(), funcs, "rev-seeds",
                       [](FuncOp f) { return f->hasAttr(kGradientOfAttr); });
    if (failed(selected))
      return signalPassFailure();
    for (FuncOp g : *selected)
      if (failed(getOrCreateSeededFunction(g, static_cast<unsigned>(count))))
        return signalPassFailure();
  }
};
} // namespace
