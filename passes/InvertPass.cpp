//===- InvertPass.cpp - --rev-invert --------------------------------------===//
#include "passes/Passes.h"

#include "transforms/Inversion.h"
#include "transforms/MarkedFunctions.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVINVERT
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
struct RevInvertPass : public rev::impl::RevInvertBase<RevInvertPass> {
  using RevInvertBase::RevInvertBase;

  void runOnOperation() override {
    FailureOr<SmallVector<FuncOp>> picked =
        selectRevFuncs(getOperation(), funcs, "rev-invert", [](FuncOp) { return true; });
    if (failed(picked))
      return signalPassFailure();
    SmallVector<FuncOp> selected = std::move(*picked);

    for (FuncOp f : selected) {
      // Skip functions whose inverse already exists in the module.
      if (findMarkedFunction(f, kInverseOfAttr))
        continue;
      // `<f><suffix>`, or `<f><suffix>_<i>` when that symbol is taken (the
      // same rule as every generated function; the marker, not the name,
      // says what the function is).
      std::string name = uniqueSymbolName(f, f.getSymName() + suffix);
      if (skipUninvertible) {
        ScopedDiagnosticHandler quiet(&getContext(), [](Diagnostic &) { return success(); });
        (void)buildInverseFunction(f, name);
        continue;
      }
      if (failed(buildInverseFunction(f, name)))
        return signalPassFailure();
    }
    if (skipUninvertible)
      pruneInversesOfUninvertible(getOperation());
  }

  /// Erases the generated inverses that uncall a function without an inverse
  /// (their lowering would need one), until none is left.
  static void pruneInversesOfUninvertible(Operation *root) {
    auto hasInverse = [&](UncallOp u) {
      auto f = SymbolTable::lookupNearestSymbolFrom<FuncOp>(u, u.getCalleeAttr());
      return f && findInverseFunction(f);
    };
    for (bool changed = true; changed;) {
      changed = false;
      for (FuncOp g : collectRevFuncs(root)) {
        if (!g->hasAttr(kInverseOfAttr))
          continue;
        WalkResult r = g.walk([&](UncallOp u) {
          return hasInverse(u) ? WalkResult::advance() : WalkResult::interrupt();
        });
        if (r.wasInterrupted()) {
          g.erase();
          changed = true;
        }
      }
    }
  }
};
} // namespace
