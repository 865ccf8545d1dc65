//===- FastMathPass.cpp - --rev-fast-math ---------------------------------===//
//
// Opt-in fast-math flags on the float ops of the lowered functions (rev's
// default is exact IEEE arithmetic). The flags are set on the arith/math
// ops (ArithFastMathInterface), before the conversion to LLVM, which
// carries them onto the LLVM instructions.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVFASTMATH
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
struct FastMathPass : public rev::impl::RevFastMathBase<FastMathPass> {
  using RevFastMathBase::RevFastMathBase;

  void runOnOperation() override {
    std::optional<arith::FastMathFlags> parsed = arith::symbolizeFastMathFlags(flags);
    if (!parsed) {
      getOperation().emitError() << "--rev-fast-math: unknown flags '" << flags
                                 << "' (expected none, arcp, contract, fast or a "
                                    "comma-separated list of arith fast-math flags)";
      return signalPassFailure();
    }
    if (*parsed == arith::FastMathFlags::none)
      return;
    // Added to the flags an op already has (written in the input).
    getOperation()->walk([&](arith::ArithFastMathInterface op) {
      arith::FastMathFlags flags = *parsed;
      if (auto old = op->getAttrOfType<arith::FastMathFlagsAttr>(op.getFastMathAttrName()))
        flags = flags | old.getValue();
      op->setAttr(op.getFastMathAttrName(), arith::FastMathFlagsAttr::get(&getContext(), flags));
    });
  }
};
} // namespace
