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
/// Records, on f, where its memref arguments' allocated and aligned pointers
/// will be in its LLVM signature (kNoaliasPtrArgsAttr): rev forbids a
/// written memref argument to share memory with any other (the verifier for
/// what it can see, Python on every call, checked mode at entry), so the
/// pointers are `noalias` (an LLVM promise about the memory accessed: read-only
/// arguments may still share memory). Functions with an argument whose LLVM
/// expansion is not plain (an unranked memref) are left alone.
void markMemrefPointers(FuncOp f) {
  SmallVector<int64_t> ptrs;
  int64_t pos = 0;
  for (Type t : f.getFunctionType().getInputs()) {
    if (auto m = dyn_cast<MemRefType>(t)) {
      ptrs.push_back(pos);
      ptrs.push_back(pos + 1);
      pos += 3 + 2 * m.getRank();
    } else if (isa<BaseMemRefType>(t)) {
      return;
    } else {
      pos += 1;
    }
  }
  if (ptrs.empty())
    return;
  Builder b(f.getContext());
  f->setAttr(kNoaliasPtrArgsAttr, b.getDenseI64ArrayAttr(ptrs));
  f->setAttr(kNoaliasArgCountAttr, b.getI64IntegerAttr(pos));
}

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
    WalkResult unresolved = root->walk([](GradCallOp op) {
      op.emitOpError("must be resolved before --lower-rev: run --rev-ad, which generates the "
                     "gradient of ")
          << op.getCalleeAttr() << " and calls it";
      return WalkResult::interrupt();
    });
    if (unresolved.wasInterrupted())
      return signalPassFailure();

    if (memrefNoalias)
      root->walk([](FuncOp f) { markMemrefPointers(f); });
    if (preferVectorWidth) {
      if (preferVectorWidth != 128 && preferVectorWidth != 256 && preferVectorWidth != 512) {
        root->emitError() << "--lower-rev: prefer-vector-width must be 0, 128, 256 or 512, got "
                          << static_cast<unsigned>(preferVectorWidth);
        return signalPassFailure();
      }
      // Kept on the func.func (FuncLowering) and the llvm.func, then an LLVM
      // function attribute that the x86 vectoriser and legaliser read.
      Builder b(root->getContext());
      Attribute entry = b.getArrayAttr(
          {b.getStringAttr(kPreferVectorWidthKey), b.getStringAttr(std::to_string(preferVectorWidth))});
      root->walk([&](FuncOp f) {
        SmallVector<Attribute> pass;
        if (auto old = f->getAttrOfType<ArrayAttr>("passthrough"))
          for (Attribute a : old)
            if (passthroughKey(a) != kPreferVectorWidthKey)
              pass.push_back(a);
        pass.push_back(entry);
        f->setAttr("passthrough", b.getArrayAttr(pass));
      });
    }
    // Recoveries keep their mark (UpdateLowering) unless asked not to.
    if (!markRecoveries)
      root->walk([](UpdateOpInterface op) { op->removeAttr(kRecoveryAttr); });

    if (!isRevCheckLowering(checkLowering)) {
      root->emitError() << "--lower-rev: check-lowering must be 'libc', 'runtime' or 'assert', got '"
                        << checkLowering << "'";
      return signalPassFailure();
    }
    ConversionTarget target(getContext());
    configureRevLoweringTarget(target);
    // Twice at most: ops that a pattern creates inside the regions of the
    // ops it builds (the run-time checks of rev.steps_adjoint's loop) are
    // left to a second application.
    for (int round = 0; round < 2; ++round) {
      RewritePatternSet patterns(&getContext());
      populateRevOpLoweringPatterns(patterns);
      populateRevFuncToFuncPatterns(patterns);
      populateRevControlFlowToSCFPatterns(patterns, reassociateReductions);
      populateRevStepsPatterns(patterns);
      populateRevCheckPatterns(patterns, checkLowering);
      if (failed(applyPartialConversion(root, target, std::move(patterns))))
        return signalPassFailure();
      bool left = root->walk([](Operation *op) {
                        return isa_and_nonnull<RevDialect>(op->getDialect()) ? WalkResult::interrupt()
                                                                 : WalkResult::advance();
                      }).wasInterrupted();
      if (!left)
        return;
    }
  }
};
} // namespace
