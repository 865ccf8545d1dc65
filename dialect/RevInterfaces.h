//===- RevInterfaces.h - interfaces of the rev dialect --------*- C++ -*-===//
#ifndef REV_DIALECT_REVINTERFACES_H
#define REV_DIALECT_REVINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "dialect/Inversion.h"

namespace mlir::rev {
class AdjointState;
class TangentState;
} // namespace mlir::rev

#include "dialect/RevInterfaces.h.inc"

#endif
