//===- ExpandUncallsPass.cpp - --rev-expand-uncalls -----------------------===//
#include "passes/Passes.h"

#include "transforms/Expansion.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVEXPANDUNCALLS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;

namespace {
struct RevExpandUncallsPass
    : public rev::impl::RevExpandUncallsBase<RevExpandUncallsPass> {
  using RevExpandUncallsBase::RevExpandUncallsBase;
  void runOnOperation() override {
    if (failed(rev::expandUncalls(getOperation())))
      signalPassFailure();
  }
};
} // namespace
