//===- RevDialect.cpp - the rev dialect -----------------------------------===//
#include "dialect/RevDialect.h"
#include "dialect/RevOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::rev;

#include "dialect/RevDialect.cpp.inc"

void RevDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/RevOps.cpp.inc"
      >();
}
