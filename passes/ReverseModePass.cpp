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
  }
};
} // namespace
