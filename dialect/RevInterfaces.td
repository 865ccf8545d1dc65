//===- RevInterfaces.td - interfaces of the rev dialect ----*- tablegen -*-===//
//
// InvertibleOpInterface: every op of a reversible program that changes state
// implements it. It names the SSA versions the op consumes and builds the
// op's inverse; the inversion pass, the lowering of routines/uncalls and the
// verifier are written against this interface only.
//
//===----------------------------------------------------------------------===//

#ifndef REV_INTERFACES
#define REV_INTERFACES

include "mlir/IR/OpBase.td"

def Rev_InvertibleOpInterface : OpInterface<"InvertibleOpInterface"> {
  let cppNamespace = "::mlir::rev";
  let description = [{
    An op of a reversible program with an exact inverse.

    The op consumes the SSA versions named by `getConsumedOperands()` (the
    variables it updates) and every one of its results is a new version of a
    variable. All other operands are read only. The inverse is built by
    `buildInverse`, at the builder's insertion point, given an
    `InversionState` that maps each value of the forward program to the value
    that holds it in the inverse program at that point:
      * `state.lookup(b, v)` yields the inverse-side value of `v` (results of
        this op are current there; pure operands are recomputed);
      * `state.bind(v, w)` records that the inverse restored the consumed
        version `v` as `w`.
  }];

  let methods = [
    InterfaceMethod<
      /*desc=*/"Operands whose SSA version this op consumes (the updated variables).",
      /*retTy=*/"::llvm::SmallVector<::mlir::OpOperand *>",
      /*methodName=*/"getConsumedOperands",
      /*args=*/(ins),
      /*methodBody=*/[{}],
      /*defaultImplementation=*/[{
        return {};
      }]>,
    InterfaceMethod<
      /*desc=*/"Build the inverse of this op at the insertion point of `builder`.",
      /*retTy=*/"::llvm::LogicalResult",
      /*methodName=*/"buildInverse",
      /*args=*/(ins "::mlir::OpBuilder &":$builder,
                    "::mlir::rev::InversionState &":$state)>,
  ];
}


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

#endif // REV_INTERFACES
