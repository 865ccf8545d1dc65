//===- ExpandRoutinesPass.cpp - --rev-expand-routines ---------------------===//
#include "passes/Passes.h"

#include "transforms/Expansion.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVEXPANDROUTINES
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;

namespace {
struct RevExpandRoutinesPass
    : public rev::impl::RevExpandRoutinesBase<RevExpandRoutinesPass> {
  using RevExpandRoutinesBase::RevExpandRoutinesBase;
  void runOnOperation() override {
    if (failed(rev::expandRoutines(getOperation())))
      signalPassFailure();
  }
};
} // namespace
