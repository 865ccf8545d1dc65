//===- InvertPass.cpp - --rev-invert --------------------------------------===//
#include "passes/Passes.h"

#include "dialect/Inversion.h"
#include "dialect/RevOps.h"
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
    ModuleOp module = getOperation();
    SymbolTable table(module);
    SmallVector<FuncOp> selected;
    for (const std::string &name : funcs) {
      auto f = table.lookup<FuncOp>(name);
      if (!f) {
        module.emitError() << "--rev-invert: no rev.func named @" << name;
        return signalPassFailure();
      }
      selected.push_back(f);
    }
    if (funcs.empty())
      llvm::append_range(selected, module.getOps<FuncOp>());

    for (FuncOp f : selected) {
      // Skip functions whose inverse already exists in the module.
      if (findMarkedFunction(f, kInverseOfAttr))
        continue;
      std::string name = (f.getSymName() + suffix).str();
      if (table.lookup(name)) {
        f.emitError() << "--rev-invert: cannot name the inverse @" << name
                      << ": the symbol already exists";
        return signalPassFailure();
      }
      if (skipUninvertible) {
        ScopedDiagnosticHandler quiet(&getContext(), [](Diagnostic &) { return success(); });
        FailureOr<FuncOp> inv = buildInverseFunction(f, name);
        if (succeeded(inv))
          table.insert(*inv);
        continue;
      }
      FailureOr<FuncOp> inv = buildInverseFunction(f, name);
      if (failed(inv))
        return signalPassFailure();
      table.insert(*inv);
    }
    if (skipUninvertible)
      pruneInversesOfUninvertible(module, table);
  }

  /// Erases the generated inverses that uncall a function without an inverse
  /// (their lowering would need one), until none is left.
  static void pruneInversesOfUninvertible(ModuleOp module, SymbolTable &table) {
    auto hasInverse = [&](StringRef name) {
      auto f = table.lookup<FuncOp>(name);
      return f && findInverseFunction(f);
    };
    for (bool changed = true; changed;) {
      changed = false;
      for (FuncOp g : llvm::make_early_inc_range(module.getOps<FuncOp>())) {
        if (!g->hasAttr(kInverseOfAttr))
          continue;
        WalkResult r = g.walk([&](UncallOp u) {
          return hasInverse(u.getCallee()) ? WalkResult::advance() : WalkResult::interrupt();
        });
        if (r.wasInterrupted()) {
          table.erase(g);
          changed = true;
        }
      }
    }
  }
};
} // namespace
