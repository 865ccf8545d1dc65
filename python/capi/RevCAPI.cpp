//===- RevCAPI.cpp - C API of the rev dialect -----------------------------===//
#include "python/capi/RevCAPI.h"

#include "dialect/RevDialect.h"
#include "dialect/RevOps.h"
#include "mlir/CAPI/Registration.h"
#include "passes/Passes.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Rev, rev, mlir::rev::RevDialect)

void mlirRevRegisterPasses(void) {
  static bool done = [] {
    mlir::rev::registerRevPassesAndPipelines();
    return true;
  }();
  (void)done;
}
