//===- RevCAPI.cpp - C API of the rev dialect -----------------------------===//
#include "python/capi/RevCAPI.h"

#include <iterator>

#include "dialect/RevDialect.h"
#include "dialect/RevOps.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/CAPI/Support.h"
#include "passes/Passes.h"
#include "tools/parse-guard/ParseGuard.h"
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
  if (which < 0 || which >= static_cast<int>(std::size(mlir::rev::kMarkerAttrs)))
    return wrap(llvm::StringRef());
  return wrap(llvm::StringRef(mlir::rev::kMarkerAttrs[which]));
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

int mlirRevProbeParseAborts(MlirContext context, MlirStringRef source,
                            MlirStringCallback callback, void *userData) {
  mlir::MLIRContext *ctx = unwrap(context);
  llvm::MemoryBufferRef buffer(unwrap(source), "<source>");
  mlir::FailureOr<mlir::rev::ParseProbe> probe = mlir::rev::probeParse(
      buffer, ctx->getDialectRegistry(), ctx->allowsUnregisteredDialects());
  if (mlir::failed(probe))
    return -1;
  if (!probe->crashed)
    return 0;
  std::string text = probe->diagnostics;
  if (!text.empty() && text.back() != '\n')
    text += '\n';
  text += "error: " + mlir::rev::parserCrashMessage(*probe);
  callback(wrap(llvm::StringRef(text)), userData);
  return 1;
}
