//===- DerivativeInterfaces.td - AD interfaces --------------*- tablegen -*-===//
//
// The derivative rules the AD engines (ReverseMode, ForwardMode) are written
// against. rev's ops get AdjointOpInterface, and the arith/math ops get
// PartialDerivativeOpInterface, as external models registered by
// registerRevDerivativeModels() (transforms/Transforms.h): the IR library
// knows nothing of AD.
//
//===----------------------------------------------------------------------===//

#ifndef REV_DERIVATIVE_INTERFACES
#define REV_DERIVATIVE_INTERFACES

include "mlir/IR/OpBase.td"

def Rev_AdjointOpInterface : OpInterface<"AdjointOpInterface"> {
  let cppNamespace = "::mlir::rev";
  let description = [{
    A reversible op that knows its derivative rules (DESIGN.md, AD section).

    `buildAdjoint` emits the op's step of the backward sweep at the builder's
    insertion point: it uncomputes the op (through its inverse, so no value
    is taped) and applies the op's adjoint update. The state maps each
    forward value to its counterpart in the backward program (through
    `state.inv`) and each float variable version to its current adjoint.
    Adjoint updates are rev ops themselves, so the backward program is
    reversible and can be inverted or differentiated again.

    `buildTangent` emits the op together with its tangent (forward-mode)
    update.
  }];

  let methods = [
    InterfaceMethod<
      /*desc=*/"Uncompute this op and apply its adjoint update.",
      /*retTy=*/"::llvm::LogicalResult",
      /*methodName=*/"buildAdjoint",
      /*args=*/(ins "::mlir::OpBuilder &":$builder,
                    "::mlir::rev::AdjointState &":$state)>,
    InterfaceMethod<
      /*desc=*/"Emit this op (mapped) and its tangent update.",
      /*retTy=*/"::llvm::LogicalResult",
      /*methodName=*/"buildTangent",
      /*args=*/(ins "::mlir::OpBuilder &":$builder,
                    "::mlir::rev::TangentState &":$state)>,
  ];
}

def Rev_PartialDerivativeOpInterface : OpInterface<"PartialDerivativeOpInterface"> {
  let cppNamespace = "::mlir::rev";
  let description = [{
    A pure, single-result float op (arith.mulf, math.sin, ...) whose partial
    derivatives the AD passes can build: d result / d operand_i, one value
    per operand, in the result's type (null where the operand is not
    differentiable, e.g. the condition of a select). The AD passes derive
    both the reverse sweep (vector-Jacobian product) and the tangent
    (Jacobian-vector product) through an expression DAG from these. rev
    attaches external models to the arith and math ops it supports; other
    dialects can attach their own.
  }];

  let methods = [
    InterfaceMethod<
      /*desc=*/"Build d result / d operand for each operand, at the insertion point. "
               "`operands` and `result` are the values in the program being built.",
      /*retTy=*/"::llvm::SmallVector<::mlir::Value>",
      /*methodName=*/"buildPartials",
      /*args=*/(ins "::mlir::OpBuilder &":$builder, "::mlir::ValueRange":$operands,
                    "::mlir::Value":$result)>,
  ];
}

#endif // REV_DERIVATIVE_INTERFACES
