//===- LowerRevPass.cpp - --lower-rev -------------------------------------===//
#include "passes/Passes.h"

#include "conversion/LowerRev.h"
#include "dialect/RevOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::rev {
#define GEN_PASS_DEF_LOWERREV
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
struct LowerRevPass : public rev::impl::LowerRevBase<LowerRevPass> {
  using LowerRevBase::LowerRevBase;

  void runOnOperation() override {
    Operation *root = getOperation();
    WalkResult expanded = root->walk([](Operation *op) {
      if (!isa<RoutineOp, UncallOp>(op))
        return WalkResult::advance();
      op->emitOpError("must be expanded before --lower-rev (run --rev-expand-uncalls and "
                      "--rev-expand-routines first, as --rev-to-llvm does)");
      return WalkResult::interrupt();
    });
    if (expanded.wasInterrupted())
      return signalPassFailure();

    RewritePatternSet patterns(&getContext());
    populateRevOpLoweringPatterns(patterns);
    populateRevFuncToFuncPatterns(patterns);
    populateRevControlFlowToSCFPatterns(patterns);
    if (checkLowering == "libc") {
      populateRevCheckToLibcPatterns(patterns);
    } else if (checkLowering == "runtime") {
      populateRevCheckToRuntimePatterns(patterns);
    } else if (checkLowering == "assert") {
      populateRevCheckToAssertPatterns(patterns);
    } else {
      root->emitError() << "--lower-rev: check-lowering must be 'libc', 'runtime' or 'assert', got '"
                        << checkLowering << "'";
      return signalPassFailure();
    }
    ConversionTarget target(getContext());
    configureRevLoweringTarget(target);
    if (failed(applyPartialConversion(root, target, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
