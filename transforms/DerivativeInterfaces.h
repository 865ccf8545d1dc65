//===- DerivativeInterfaces.h - AD interfaces -----------------*- C++ -*-===//
#ifndef REV_TRANSFORMS_DERIVATIVEINTERFACES_H
#define REV_TRANSFORMS_DERIVATIVEINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

namespace mlir::rev {
class AdjointState;
class TangentState;
} // namespace mlir::rev

#include "transforms/DerivativeInterfaces.h.inc"

#endif
