//===- RevInterfaces.h - interfaces of the rev dialect --------*- C++ -*-===//
#ifndef REV_DIALECT_REVINTERFACES_H
#define REV_DIALECT_REVINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "dialect/Inversion.h"

#include "dialect/RevInterfaces.h.inc"

#endif
