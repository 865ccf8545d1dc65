//===- RevInterfaces.h - interfaces of the rev IR -------------*- C++ -*-===//
#ifndef REV_DIALECT_REVINTERFACES_H
#define REV_DIALECT_REVINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "dialect/InverseBuilder.h"
#include "dialect/RevEnums.h.inc"

#include "dialect/RevInterfaces.h.inc"

#endif
