//===- RevCAPI.cpp - C API of the rev dialect -----------------------------===//
#include "python/capi/RevCAPI.h"

#include "dialect/RevDialect.h"
#include "dialect/RevOps.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/CAPI/Support.h"
#include "passes/Passes.h"
#include "transforms/Differentiation.h"
#include "transforms/Transforms.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Rev, rev, mlir::rev::RevDialect)

void mlirRevRegisterPasses(void) {
  static bool done = [] {
    mlir::rev::registerRevPassesAndPipelines();
    return true;
  }();
  (void)done;
}

void mlirRevRegisterDerivativeModels(MlirDialectRegistry registry) {
  mlir::rev::registerRevDerivativeModels(*unwrap(registry));
}

MlirStringRef mlirRevGetMarkerAttrName(int which) {
  switch (which) {
  case 0:
    return wrap(llvm::StringRef(mlir::rev::kInverseOfAttr));
  case 1:
    return wrap(llvm::StringRef(mlir::rev::kBackwardOfAttr));
  case 2:
    return wrap(llvm::StringRef(mlir::rev::kGradientOfAttr));
  case 3:
    return wrap(llvm::StringRef(mlir::rev::kTangentOfAttr));
  default:
    return wrap(llvm::StringRef());
  }
}

intptr_t mlirRevGetDerivativeArgPositions(MlirType functionType, intptr_t *positions) {
  auto type = llvm::dyn_cast<mlir::FunctionType>(unwrap(functionType));
  if (!type)
    return -1;
  llvm::SmallVector<int> pos = mlir::rev::derivativeArgPositions(type.getInputs());
  for (auto [i, p] : llvm::enumerate(pos))
    positions[i] = p;
  return static_cast<intptr_t>(pos.size());
}
