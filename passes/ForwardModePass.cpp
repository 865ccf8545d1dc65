//===- ForwardModePass.cpp - --rev-fwd ------------------------------------===//
#include "passes/Passes.h"

#include "transforms/ForwardMode.h"
#include "transforms/MarkedFunctions.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVFWD
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
struct RevFwdPass : public rev::impl::RevFwdBase<RevFwdPass> {
  using RevFwdBase::RevFwdBase;

  void runOnOperation() override {
    FailureOr<SmallVector<FuncOp>> selected =
        selectRevFuncs(getOperation(), funcs, "rev-fwd", [](FuncOp f) {
          return !f->hasAttr(kTangentOfAttr) && !findMarkedFunction(f, kTangentOfAttr);
        });
    if (failed(selected))
      return signalPassFailure();
    for (FuncOp f : *selected)
      if (failed(getOrCreateTangentFunction(f)))
        return signalPassFailure();
  }
};
} // namespace
