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

#endif // REV_INTERFACES
