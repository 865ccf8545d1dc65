//===- RevCAPI.h - C API of the rev dialect -------------------------*- C -*-===//
#ifndef REV_PYTHON_CAPI_REVCAPI_H
#define REV_PYTHON_CAPI_REVCAPI_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Rev, rev);

/// Registers the rev passes and the rev-to-llvm pipeline (idempotent).
MLIR_CAPI_EXPORTED void mlirRevRegisterPasses(void);

#ifdef __cplusplus
}
#endif

#endif
