//===- RevExtension.cpp - Python extension of the rev dialect -------------===//
//
// `_site_initialize_0` is picked up by mlir_rev's _mlir_libs at import: every
// Context of the package then knows the rev dialect, and the rev passes and
// pipelines are registered for PassManager.parse().
//
//===----------------------------------------------------------------------===//
#include "mlir/Bindings/Python/Nanobind.h"
#include "mlir/Bindings/Python/NanobindAdaptors.h"
#include "python/capi/RevCAPI.h"

namespace nb = nanobind;

NB_MODULE(_site_initialize_0, m) {
  m.doc() = "rev dialect and passes registration";
  m.def("register_dialects", [](MlirDialectRegistry registry) {
    mlirDialectHandleInsertDialect(mlirGetDialectHandle__rev__(), registry);
  });
  mlirRevRegisterPasses();
}
