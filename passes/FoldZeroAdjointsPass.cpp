//===- FoldZeroAdjointsPass.cpp - --rev-fold-zero-adjoints ----------------===//
#include "passes/Passes.h"

#include "transforms/ZeroAdjoints.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVFOLDZEROADJOINTS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;

namespace {
struct RevFoldZeroAdjointsPass
    : public rev::impl::RevFoldZeroAdjointsBase<RevFoldZeroAdjointsPass> {
  using RevFoldZeroAdjointsBase::RevFoldZeroAdjointsBase;
  void runOnOperation() override {
    rev::ZeroAdjointStats stats = rev::foldZeroAdjoints(getOperation());
    numRemovedUpdates += stats.removedUpdates;
    numForwardedZeros += stats.forwardedZeros;
    numSkippedFunctions += stats.skippedFunctions;
  }
};
} // namespace
