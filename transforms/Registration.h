//===- Registration.h - attaching the derivative rules ---------*- C++ -*-===//
//
// Internal to the transforms library: registerRevDerivativeModels()
// (Transforms.h) calls these when the dialects load.
//
//===----------------------------------------------------------------------===//
#ifndef REV_TRANSFORMS_REGISTRATION_H
#define REV_TRANSFORMS_REGISTRATION_H

namespace mlir {
class MLIRContext;
namespace rev {
/// AdjointOpInterface on every invertible rev op (RevOpDerivatives.cpp).
void attachRevOpDerivativeModels(MLIRContext *ctx);
/// PartialDerivativeOpInterface on the supported arith and math ops
/// (ArithMathDerivatives.cpp).
void attachArithMathDerivativeModels(MLIRContext *ctx);
} // namespace rev
} // namespace mlir

#endif
