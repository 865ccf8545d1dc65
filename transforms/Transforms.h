//===- Transforms.h - the rev transforms library ---------------*- C++ -*-===//
//
// The engines that rewrite rev programs: inversion (Inversion.h), reverse
// mode (ReverseMode.h), forward mode (ForwardMode.h), routine and uncall
// expansion (Expansion.h), and the derivative rules they use, which are
// attached as external models by the one function below.
//
//===----------------------------------------------------------------------===//
#ifndef REV_TRANSFORMS_TRANSFORMS_H
#define REV_TRANSFORMS_TRANSFORMS_H

namespace mlir {
class DialectRegistry;
namespace rev {
/// Registers the derivative rules as external models: AdjointOpInterface on
/// the rev ops (RevOpDerivatives.cpp) and PartialDerivativeOpInterface on the
/// supported arith and math ops (ArithMathDerivatives.cpp). Every tool and
/// context that runs --rev-ad or --rev-fwd needs it.
void registerRevDerivativeModels(DialectRegistry &registry);
} // namespace rev
} // namespace mlir

#endif
