//===- PartialDerivatives.cpp - derivative rules of arith and math ops ----===//
//
// External models of PartialDerivativeOpInterface: for each supported pure
// float op, the partial derivatives d result / d operand_i in terms of the
// operands and the result, built as arith/math ops. Both AD modes use them
// (the reverse sweep multiplies by the result's adjoint, the tangent by the
// operands' tangents).
//
//===----------------------------------------------------------------------===//
#include "transforms/Differentiation.h"
#include "transforms/Registration.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::rev;

namespace {
/// FloatOps over one float type (the result's), with constants and selects.
struct F : FloatOps {
  Type t;
  Value c(double v) { return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v)); }
  Value sel(Value cond, Value x, Value y) { return arith::SelectOp::create(b, loc, cond, x, y); }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  /// 1 where `cond`, else 0 (and the complement).
  SmallVector<Value> pick(Value cond) { return {sel(cond, c(1), c(0)), sel(cond, c(0), c(1))}; }
};

using Rule = SmallVector<Value> (*)(F &f, ValueRange x, Value r);

template <typename OpT, Rule rule>
struct Model
    : public PartialDerivativeOpInterface::ExternalModel<Model<OpT, rule>, OpT> {
  SmallVector<Value> buildPartials(Operation *op, OpBuilder &b, ValueRange operands,
                                   Value result) const {
    F f{{b, op->getLoc()}, result.getType()};
    return rule(f, operands, result);
  }
};

template <typename OpT, Rule rule>
void attach(MLIRContext *ctx) {
  OpT::template attachInterface<Model<OpT, rule>>(*ctx);
}

constexpr double kLn2 = 0.693147180559945309417232121458176568;
constexpr double kLn10 = 2.30258509299404568401799145468436421;
constexpr double kTwoOverSqrtPi = 1.12837916709551257389615890312154517;

// clang-format off
SmallVector<Value> addRule(F &f, ValueRange, Value) { return {f.c(1), f.c(1)}; }
SmallVector<Value> subRule(F &f, ValueRange, Value) { return {f.c(1), f.c(-1)}; }
SmallVector<Value> mulRule(F &, ValueRange x, Value) { return {x[1], x[0]}; }
// -(a/b)/b, not -(a/b) * (1/b): 1/b overflows for a subnormal b (0 * inf).
SmallVector<Value> divRule(F &f, ValueRange x, Value r) {
  return {f.div(f.c(1), x[1]), f.neg(f.div(r, x[1]))};
}
SmallVector<Value> negRule(F &f, ValueRange, Value) { return {f.c(-1)}; }
SmallVector<Value> castRule(F &f, ValueRange, Value) { return {f.c(1)}; }
SmallVector<Value> maxRule(F &f, ValueRange x, Value) {
  return f.pick(f.cmp(arith::CmpFPredicate::OGE, x[0], x[1]));
}
SmallVector<Value> minRule(F &f, ValueRange x, Value) {
  return f.pick(f.cmp(arith::CmpFPredicate::OLE, x[0], x[1]));
}
SmallVector<Value> selectRule(F &f, ValueRange x, Value) {
  SmallVector<Value> p = f.pick(x[0]);
  return {Value(), p[0], p[1]};
}
SmallVector<Value> remRule(F &f, ValueRange x, Value) {
  Value q = math::TruncOp::create(f.b, f.loc, f.div(x[0], x[1]));
  return {f.c(1), f.neg(q)};
}
SmallVector<Value> expRule(F &, ValueRange, Value r) { return {r}; }
SmallVector<Value> exp2Rule(F &f, ValueRange, Value r) { return {f.mul(r, f.c(kLn2))}; }
SmallVector<Value> expm1Rule(F &f, ValueRange, Value r) { return {f.add(r, f.c(1))}; }
SmallVector<Value> logRule(F &f, ValueRange x, Value) { return {f.div(f.c(1), x[0])}; }
SmallVector<Value> log2Rule(F &f, ValueRange x, Value) {
  return {f.div(f.c(1), f.mul(x[0], f.c(kLn2)))};
}
SmallVector<Value> log10Rule(F &f, ValueRange x, Value) {
  return {f.div(f.c(1), f.mul(x[0], f.c(kLn10)))};
}
SmallVector<Value> log1pRule(F &f, ValueRange x, Value) {
  return {f.div(f.c(1), f.add(f.c(1), x[0]))};
}
SmallVector<Value> sinRule(F &f, ValueRange x, Value) { return {f.cos(x[0])}; }
SmallVector<Value> cosRule(F &f, ValueRange x, Value) { return {f.neg(f.sin(x[0]))}; }
SmallVector<Value> tanRule(F &f, ValueRange, Value r) { return {f.add(f.c(1), f.mul(r, r))}; }
SmallVector<Value> tanhRule(F &f, ValueRange, Value r) { return {f.sub(f.c(1), f.mul(r, r))}; }
SmallVector<Value> sinhRule(F &f, ValueRange x, Value) {
  return {math::CoshOp::create(f.b, f.loc, x[0])};
}
SmallVector<Value> coshRule(F &f, ValueRange x, Value) {
  return {math::SinhOp::create(f.b, f.loc, x[0])};
}
SmallVector<Value> atanRule(F &f, ValueRange x, Value) {
  return {f.div(f.c(1), f.add(f.c(1), f.mul(x[0], x[0])))};
}
SmallVector<Value> asinRule(F &f, ValueRange x, Value) {
  Value s = math::SqrtOp::create(f.b, f.loc, f.sub(f.c(1), f.mul(x[0], x[0])));
  return {f.div(f.c(1), s)};
}
SmallVector<Value> acosRule(F &f, ValueRange x, Value r) { return {f.neg(asinRule(f, x, r)[0])}; }
// 0.5 * (1/r) is 0.5 / r bit for bit (1/r of a square root is a normal
// number), and shares 1/r with the program or another rule.
SmallVector<Value> sqrtRule(F &f, ValueRange, Value r) {
  return {f.mul(f.c(0.5), f.div(f.c(1), r))};
}
SmallVector<Value> rsqrtRule(F &f, ValueRange x, Value r) {
  return {f.div(f.mul(f.c(-0.5), r), x[0])};
}
SmallVector<Value> cbrtRule(F &f, ValueRange x, Value r) {
  return {f.div(r, f.mul(f.c(3), x[0]))};
}
SmallVector<Value> absRule(F &f, ValueRange x, Value) {
  return {math::CopySignOp::create(f.b, f.loc, f.c(1), x[0])};
}
SmallVector<Value> copysignRule(F &f, ValueRange x, Value r) {
  // r = |x0| * sign(x1): d r / d x0 = sign(x0) * sign(x1) = r / x0 (where x0 != 0).
  Value s0 = math::CopySignOp::create(f.b, f.loc, f.c(1), x[0]);
  Value s1 = math::CopySignOp::create(f.b, f.loc, f.c(1), x[1]);
  (void)r;
  return {f.mul(s0, s1), Value()};
}
SmallVector<Value> powfRule(F &f, ValueRange x, Value r) {
  Value pm1 = math::PowFOp::create(f.b, f.loc, x[0], f.sub(x[1], f.c(1)));
  return {f.mul(x[1], pm1), f.mul(r, math::LogOp::create(f.b, f.loc, x[0]))};
}
SmallVector<Value> fpowiRule(F &f, ValueRange x, Value) {
  Value n = x[1];
  Value one = arith::ConstantOp::create(f.b, f.loc, f.b.getIntegerAttr(n.getType(), 1));
  Value nm1 = arith::SubIOp::create(f.b, f.loc, n, one);
  Value p = math::FPowIOp::create(f.b, f.loc, x[0], nm1);
  Value nf = arith::SIToFPOp::create(f.b, f.loc, f.t, n);
  return {f.mul(nf, p), Value()};
}
SmallVector<Value> atan2Rule(F &f, ValueRange x, Value) {
  // r = atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2).
  Value n = f.add(f.mul(x[0], x[0]), f.mul(x[1], x[1]));
  return {f.div(x[1], n), f.neg(f.div(x[0], n))};
}
SmallVector<Value> erfRule(F &f, ValueRange x, Value) {
  Value e = math::ExpOp::create(f.b, f.loc, f.neg(f.mul(x[0], x[0])));
  return {f.mul(f.c(kTwoOverSqrtPi), e)};
}
SmallVector<Value> erfcRule(F &f, ValueRange x, Value r) { return {f.neg(erfRule(f, x, r)[0])}; }
SmallVector<Value> fmaRule(F &f, ValueRange x, Value) { return {x[1], x[0], f.c(1)}; }
// clang-format on
} // namespace

void mlir::rev::attachArithMathDerivativeModels(MLIRContext *ctx) {
  attach<arith::AddFOp, addRule>(ctx);
  attach<arith::SubFOp, subRule>(ctx);
  attach<arith::MulFOp, mulRule>(ctx);
  attach<arith::DivFOp, divRule>(ctx);
  attach<arith::RemFOp, remRule>(ctx);
  attach<arith::NegFOp, negRule>(ctx);
  attach<arith::ExtFOp, castRule>(ctx);
  attach<arith::TruncFOp, castRule>(ctx);
  attach<arith::MaximumFOp, maxRule>(ctx);
  attach<arith::MaxNumFOp, maxRule>(ctx);
  attach<arith::MinimumFOp, minRule>(ctx);
  attach<arith::MinNumFOp, minRule>(ctx);
  attach<arith::SelectOp, selectRule>(ctx);
  attach<math::ExpOp, expRule>(ctx);
  attach<math::Exp2Op, exp2Rule>(ctx);
  attach<math::ExpM1Op, expm1Rule>(ctx);
  attach<math::LogOp, logRule>(ctx);
  attach<math::Log2Op, log2Rule>(ctx);
  attach<math::Log10Op, log10Rule>(ctx);
  attach<math::Log1pOp, log1pRule>(ctx);
  attach<math::SinOp, sinRule>(ctx);
  attach<math::CosOp, cosRule>(ctx);
  attach<math::TanOp, tanRule>(ctx);
  attach<math::TanhOp, tanhRule>(ctx);
  attach<math::SinhOp, sinhRule>(ctx);
  attach<math::CoshOp, coshRule>(ctx);
  attach<math::AtanOp, atanRule>(ctx);
  attach<math::AsinOp, asinRule>(ctx);
  attach<math::AcosOp, acosRule>(ctx);
  attach<math::SqrtOp, sqrtRule>(ctx);
  attach<math::RsqrtOp, rsqrtRule>(ctx);
  attach<math::CbrtOp, cbrtRule>(ctx);
  attach<math::AbsFOp, absRule>(ctx);
  attach<math::CopySignOp, copysignRule>(ctx);
  attach<math::PowFOp, powfRule>(ctx);
  attach<math::FPowIOp, fpowiRule>(ctx);
  attach<math::Atan2Op, atan2Rule>(ctx);
  attach<math::ErfOp, erfRule>(ctx);
  attach<math::ErfcOp, erfcRule>(ctx);
  attach<math::FmaOp, fmaRule>(ctx);
}
