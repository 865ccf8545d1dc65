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
    if (loopBudget < 0) {
      getOperation().emitError() << "rev-ad: loop-budget must be a number of bytes per "
                                    "iteration >= 0, not "
                                 << static_cast<int64_t>(loopBudget);
      return signalPassFailure();
    }
    int64_t nextTapeId = 0;
    for (FuncOp f : *selected) {
      if (findMarkedFunction(f, kGradientOfAttr))
        continue;
      // Marks for --rev-tape-loops: the top-level forward loops of a function
      // whose backward sweep is generated now (their backward loops inherit
      // the mark in the adjoint rule of rev.for).
      bool marked = false;
      if (loopBudget > 0 && !findMarkedFunction(f, kBackwardOfAttr))
        for (Operation &op : f.getBody().front())
          if (auto loop = dyn_cast<ForOp>(op); loop && !loop.getReverse()) {
            loop->setAttr(kTapeLoopAttr, IntegerAttr::get(IntegerType::get(&getContext(), 64),
                                                          nextTapeId++));
            marked = true;
          }
      FailureOr<FuncOp> bwd = getOrCreateBackwardFunction(f);
      if (failed(bwd))
        return signalPassFailure();
      FailureOr<FuncOp> grad =
          buildGradientFunction(f, *bwd, uniqueSymbolName(f, f.getSymName() + "_grad"));
      if (failed(grad))
        return signalPassFailure();
      if (marked)
        (*grad)->setAttr(kLoopBudgetAttr,
                         IntegerAttr::get(IntegerType::get(&getContext(), 64), loopBudget));
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
