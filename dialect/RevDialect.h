//===- RevDialect.h - the rev dialect -------------------------*- C++ -*-===//
#ifndef REV_DIALECT_REVDIALECT_H
#define REV_DIALECT_REVDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialect/RevDialect.h.inc"

#endif
