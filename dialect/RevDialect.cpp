//===- RevDialect.cpp - the rev dialect -----------------------------------===//
#include "dialect/RevDialect.h"
#include "dialect/RevOps.h"

using namespace mlir;
using namespace mlir::rev;

#include "dialect/RevDialect.cpp.inc"

void RevDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/RevOps.cpp.inc"
      >();
}
