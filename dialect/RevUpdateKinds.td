//===- RevUpdateKinds.td - the table of update kinds --------*- tablegen -*-===//
//
// One row per update kind. RevOps.td generates, from each row, the scalar op
// `rev.<name>` (`y op= d`) and the element op `rev.<name>_at` (`A[i] op= d`),
// with their documentation, types, verifier, inverse and arithmetic. The
// derivative rule (`rule`) selects one of three rules written once in
// transforms/RevOpDerivatives.cpp; the run-time check (`nonZeroCheck`) is
// inserted by --rev-insert-checks. Adding a kind is adding a row here.
//
//===----------------------------------------------------------------------===//

#ifndef REV_UPDATE_KINDS
#define REV_UPDATE_KINDS

include "mlir/IR/OpBase.td"

class Rev_UpdateKind<string name_, string cppName_, string inverse_, string symbol_,
                     string rule_, int sign_, string types_, code arithmetic_,
                     string nonZeroCheck_ = ""> {
  // Mnemonic of the scalar op (the element op adds `_at`).
  string mnemonic = name_;
  // C++ stem of the op classes: <cppName>Op and <cppName>AtOp.
  string cppName = cppName_;
  // cppName of the inverse kind.
  string inverse = inverse_;
  // `y <symbol>= d` in the documentation.
  string symbol = symbol_;
  // UpdateRule: Additive (y +- d), Scaling (y *or/ d, d != 0), Bitwise
  // (integers only, no derivative).
  string rule = rule_;
  // +1: applies d (add, mul); -1: applies d's inverse (sub, div).
  int sign = sign_;
  // Element types: "int", "float" or "any" (both).
  string types = types_;
  // C++ body computing `y op d` with arith ops ($y, $d, $b, $loc).
  code arithmetic = arithmetic_;
  // Checked mode: message when d == 0 (empty: no check).
  string nonZeroCheck = nonZeroCheck_;
}

def Rev_KindAdd : Rev_UpdateKind<"add", "Add", "Sub", "+", "Additive", 1,
    "any", [{
      if (::llvm::isa<::mlir::FloatType>(y.getType()))
        return ::mlir::arith::AddFOp::create(b, loc, y, d);
      return ::mlir::arith::AddIOp::create(b, loc, y, d);
    }]>;
def Rev_KindSub : Rev_UpdateKind<"sub", "Sub", "Add", "-", "Additive", -1,
    "any", [{
      if (::llvm::isa<::mlir::FloatType>(y.getType()))
        return ::mlir::arith::SubFOp::create(b, loc, y, d);
      return ::mlir::arith::SubIOp::create(b, loc, y, d);
    }]>;
def Rev_KindXor : Rev_UpdateKind<"xor", "Xor", "Xor", "^", "Bitwise", 1, "int", [{
      return ::mlir::arith::XOrIOp::create(b, loc, y, d);
    }]>;
def Rev_KindMul : Rev_UpdateKind<"mul", "Mul", "Div", "*", "Scaling", 1, "float", [{
      return ::mlir::arith::MulFOp::create(b, loc, y, d);
    }], "zero multiplier: multiplying by 0 is not reversible">;
def Rev_KindDiv : Rev_UpdateKind<"div", "Div", "Mul", "/", "Scaling", -1, "float", [{
      return ::mlir::arith::DivFOp::create(b, loc, y, d);
    }], "zero divisor">;

// The table.
defvar Rev_UpdateKinds = [Rev_KindAdd, Rev_KindSub, Rev_KindXor, Rev_KindMul, Rev_KindDiv];

#endif // REV_UPDATE_KINDS
