//===- RevCAPI.h - C API of the rev dialect -------------------------*- C -*-===//
#ifndef REV_PYTHON_CAPI_REVCAPI_H
#define REV_PYTHON_CAPI_REVCAPI_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Rev, rev);

/// Registers the rev passes and the rev-to-llvm pipeline (idempotent).
MLIR_CAPI_EXPORTED void mlirRevRegisterPasses(void);

/// Adds the derivative rules (external models the AD passes need) to
/// `registry`.
MLIR_CAPI_EXPORTED void mlirRevRegisterDerivativeModels(MlirDialectRegistry registry);

/// The markers of generated functions: `which` is 0 inverse, 1 backward,
/// 2 gradient, 3 tangent; returns the attribute name (e.g. "rev.inverse_of"),
/// or an empty string for another `which`.
MLIR_CAPI_EXPORTED MlirStringRef mlirRevGetMarkerAttrName(int which);

/// The derivative argument layout of a function type (the ABI of
/// generated derivative functions): writes, for each of its inputs, the
/// argument position of its adjoint/tangent/shadow, or -1, into `positions`
/// (room for as many inputs) and returns the number of inputs, or -1 if
/// `functionType` is not a function type.
MLIR_CAPI_EXPORTED intptr_t mlirRevGetDerivativeArgPositions(MlirType functionType,
                                                             intptr_t *positions);

/// Probe-parses `source` in a child process (tools/parse-guard) with the
/// dialects of `context`: returns 1 if the MLIR parser dies on it (then
/// `callback` receives the diagnostics it printed first), 0 if it does not,
/// -1 if no child process could be started.
MLIR_CAPI_EXPORTED int mlirRevProbeParseAborts(MlirContext context, MlirStringRef source,
                                               MlirStringCallback callback,
                                               void *userData);

#ifdef __cplusplus
}
#endif

#endif
