//===- ReverseModePass.cpp - --rev-ad -------------------------------------===//
#include "passes/Passes.h"

#include "transforms/MarkedFunctions.h"
#include "transforms/ReverseMode.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVAD
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
struct RevADPass : public rev::impl::RevADBase<RevADPass> {
  using RevADBase::RevADBase;

  void runOnOperation() override {
    if (!parallelAccumulate.empty() && parallelAccumulate != "atomic" &&
        parallelAccumulate != "privatize") {
      getOperation().emitError() << "rev-ad: parallel-accumulate must be 'atomic' or "
                                    "'privatize', not '"
                                 << parallelAccumulate << "'";
      return signalPassFailure();
    }
    if (memoryBudget < -1) {
      getOperation().emitError() << "rev-ad: memory-budget must be a number of bytes (or -1), not "
                                 << static_cast<int64_t>(memoryBudget);
      return signalPassFailure();
    }
    FailureOr<SmallVector<FuncOp>> selected =
        selectRevFuncs(getOperation(), funcs, "rev-ad", [](FuncOp f) {
          return !f->hasAttr(kBackwardOfAttr) && !findMarkedFunction(f, kGradientOfAttr);
        });
    if (failed(selected))
      return signalPassFailure();
    for (FuncOp f : *selected) {
      if (findMarkedFunction(f, kGradientOfAttr))
        continue;
      FailureOr<FuncOp> bwd = getOrCreateBackwardFunction(f);
      if (failed(bwd) ||
          failed(buildGradientFunction(f, *bwd, uniqueSymbolName(f, f.getSymName() + "_grad"))))
        return signalPassFailure();
    }
    if (memoryBudget >= 0)
      getOperation().walk([&](StepsAdjointOp op) {
        if (op.getMemoryBudgetAttr().getInt() == -1)
          op.setMemoryBudgetAttr(IntegerAttr::get(IntegerType::get(op.getContext(), 64), memoryBudget));
      });
    if (parallelAccumulate.empty())
      return;
    // Backward loops whose forward loop set no strategy (also in the callees'
    // backward functions generated on demand).
    StringAttr strategy = StringAttr::get(&getContext(), parallelAccumulate);
    getOperation().walk([&](FuncOp f) {
      if (!f->hasAttr(kBackwardOfAttr))
        return;
      f.walk([&](ParallelForOp loop) {
        if (!loop.getAccumulateAttr())
          loop.setAccumulateAttr(strategy);
      });
    });
  }
};
} // namespace
