//===- RevInterfaces.td - interfaces of the rev IR ----------*- tablegen -*-===//
//
// InvertibleOpInterface: every op of a reversible program that changes state
// implements it. It names the SSA versions the op consumes and builds the
// op's inverse through an InverseBuilder (dialect/InverseBuilder.h), whose
// implementation (the inversion engine) lives in transforms/.
//
// UpdateOpInterface: the ops generated from the table of update kinds
// (RevUpdateKinds.td): `y op= d` and `A[i] op= d`. Passes and conversions
// read an update's kind, rule and arithmetic through it.
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
    `InverseBuilder` that maps each value of the forward program to the value
    that holds it in the inverse program at that point:
      * `inv.lookup(b, v)` yields the inverse-side value of `v` (results of
        this op are current there; pure operands are recomputed);
      * `inv.bind(v, w)` records that the inverse restored the consumed
        version `v` as `w`;
      * `inv.invertRegionInto(...)` inverts a nested region.
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
                    "::mlir::rev::InverseBuilder &":$inverse)>,
  ];
}

def Rev_UpdateOpInterface : OpInterface<"UpdateOpInterface"> {
  let cppNamespace = "::mlir::rev";
  let description = [{
    An update `y op= d` (scalar form: consumes `y`, yields its next version)
    or `A[i] op= d` (element form: updates the memref in place), generated
    from one row of the update-kind table (RevUpdateKinds.td). The row gives
    the inverse kind, the arithmetic, the derivative rule and the run-time
    check, so that inversion, AD, checks and lowering are written once per
    rule, never per kind.
  }];

  let methods = [
    StaticInterfaceMethod<"The update kind (a row of RevUpdateKinds.td).",
      "::mlir::rev::UpdateKind", "getUpdateKind", (ins), [{
        return ConcreteOp::kUpdateKind;
      }]>,
    StaticInterfaceMethod<"How the AD passes differentiate this kind.",
      "::mlir::rev::UpdateRule", "getUpdateRule", (ins), [{
        return ConcreteOp::kUpdateRule;
      }]>,
    StaticInterfaceMethod<
      "+1 when the update applies `d` (add, mul), -1 when it applies d's "
      "inverse (sub, div).",
      "int", "getUpdateSign", (ins), [{ return ConcreteOp::kUpdateSign; }]>,
    StaticInterfaceMethod<
      "The message of the run-time check that `d` is not zero, empty when "
      "the kind needs none.",
      "::llvm::StringRef", "getNonZeroCheckMessage", (ins), [{
        return ConcreteOp::kNonZeroCheckMessage;
      }]>,
    StaticInterfaceMethod<
      "Builds the arith/math ops computing `y op d` (the lowering).",
      "::mlir::Value", "buildArithmetic",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc, "::mlir::Value":$y,
           "::mlir::Value":$d), [{
        return ConcreteOp::buildKindArithmetic(b, loc, y, d);
      }]>,
    InterfaceMethod<"Whether this is the element form `A[i] op= d`.",
      "bool", "isElementUpdate", (ins), [{}], [{
        return ConcreteOp::kIsElementUpdate;
      }]>,
    InterfaceMethod<"The delta `d` (read only).",
      "::mlir::Value", "getDelta">,
  ];
}

#endif // REV_INTERFACES
