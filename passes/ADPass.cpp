//===- ADPass.cpp - --rev-ad and --rev-fwd --------------------------------===//
#include "passes/Passes.h"

#include "dialect/Derivatives.h"
#include "dialect/RevOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVAD
#define GEN_PASS_DEF_REVFWD
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

/// The functions named in `names`, or those `byDefault` accepts.
static FailureOr<SmallVector<FuncOp>> selectFunctions(ModuleOp module,
                                                      ArrayRef<std::string> names,
                                                      StringRef passName,
                                                      function_ref<bool(FuncOp)> byDefault) {
  SymbolTable table(module);
  SmallVector<FuncOp> selected;
  for (const std::string &name : names) {
    auto f = table.lookup<FuncOp>(name);
    if (!f) {
      module.emitError() << "--" << passName << ": no rev.func named @" << name;
      return failure();
    }
    selected.push_back(f);
  }
  if (names.empty())
    for (FuncOp f : module.getOps<FuncOp>())
      if (byDefault(f))
        selected.push_back(f);
  return selected;
}

namespace {
struct RevADPass : public rev::impl::RevADBase<RevADPass> {
  using RevADBase::RevADBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<SmallVector<FuncOp>> selected =
        selectFunctions(module, funcs, "rev-ad", [](FuncOp f) {
          return !f->hasAttr(kBackwardOfAttr) && !findMarkedFunction(f, kGradientOfAttr);
        });
    if (failed(selected))
      return signalPassFailure();
    for (FuncOp f : *selected) {
      if (findMarkedFunction(f, kGradientOfAttr))
        continue;
      FailureOr<FuncOp> bwd = getOrCreateBackwardFunction(f);
      if (failed(bwd) ||
          failed(buildGradientFunction(f, *bwd, uniqueSymbolName(f, f.getSymName() + "_grad"))))
        return signalPassFailure();
    }
  }
};

struct RevFwdPass : public rev::impl::RevFwdBase<RevFwdPass> {
  using RevFwdBase::RevFwdBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<SmallVector<FuncOp>> selected =
        selectFunctions(module, funcs, "rev-fwd", [](FuncOp f) {
          return !f->hasAttr(kTangentOfAttr) && !findMarkedFunction(f, kTangentOfAttr);
        });
    if (failed(selected))
      return signalPassFailure();
    for (FuncOp f : *selected) {
      if (failed(getOrCreateTangentFunction(f)))
        return signalPassFailure();
    }
  }
};
} // namespace
