//===- Registration.cpp - registerRevDerivativeModels ---------------------===//
#include "transforms/Registration.h"
#include "transforms/Transforms.h"

#include "dialect/RevDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

void mlir::rev::registerRevDerivativeModels(DialectRegistry &registry) {
  registry.insert<RevDialect, arith::ArithDialect, math::MathDialect>();
  registry.addExtension(+[](MLIRContext *ctx, RevDialect *) { attachRevOpDerivativeModels(ctx); });
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *, math::MathDialect *) {
    attachArithMathDerivativeModels(ctx);
  });
}
