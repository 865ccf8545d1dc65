//===- InvertPass.cpp - --rev-invert --------------------------------------===//
#include "passes/Passes.h"

#include "dialect/Inversion.h"
#include "dialect/RevOps.h"
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
      bool hasInverse = false;
      for (FuncOp g : module.getOps<FuncOp>())
        if (auto of = g->getAttrOfType<FlatSymbolRefAttr>(kInverseOfAttr))
          hasInverse |= of.getValue() == f.getSymName();
      if (hasInverse)
        continue;
      std::string name = (f.getSymName() + suffix).str();
      if (table.lookup(name)) {
        f.emitError() << "--rev-invert: cannot name the inverse @" << name
                      << ": the symbol already exists";
        return signalPassFailure();
      }
      FailureOr<FuncOp> inv = buildInverseFunction(f, name);
      if (failed(inv))
        return signalPassFailure();
      table.insert(*inv);
    }
  }
};
} // namespace
