//===- DivideByConstantsPass.cpp - --rev-divide-by-constants --------------===//
//
// Exact division of float vectors by constants without the divider.
//
// For a constant c (not a power of two) let y = RN(1/c), computed here.
// The quotient RN(a / c) is then obtained from multiplications and FMAs
// (Markstein's correction):
//
//   q0 = RN(a * y)
//   r0 = RN(a - c * q0)          (one FMA)
//   q1 = RN(q0 + r0 * y)         (one FMA)
//  [r1 = RN(a - c * q1); q2 = RN(q1 + r1 * y)]   (two FMAs, when needed)
//
// Why it is exact (binary floats of precision p, round to nearest even, no
// underflow or overflow anywhere, which the guard below ensures). Write
// x = a / c, u = 2^-p, C = |c|'s integral significand (2^(p-1) <= C < 2^p)
// and d = |c * y - 1| (computed exactly: the residual of a correctly
// rounded reciprocal is a float).
//  1. x is never a midpoint between two floats, and its distance to one is
//     at least ulp(x) / (2C): a - c m for a midpoint m is a non-zero multiple
//     of c's quantum times m's.
//  2. If q is faithful (one of the two floats around x), r = a - c q is a
//     float and q + r y differs from x = q + r / c by |x - q| * d. When
//     |x - q| * d < ulp(x) / (2C), no midpoint lies between them and
//     RN(q + r y) = RN(x).
//  3. One correction: |a y - x| = |x| d < ulp(x) / 2 when d <= 2^-(p+1), so
//     q0 is faithful and |x - q0| < ulp(x); 2^-(p+1) < 1 / (2C), so step 2
//     applies to q0.
//  4. Two corrections: for any c, q0 has relative error < 2u + u^2 and so
//     q0 + r0 y (r0 rounded or not) has relative error < (2u + u^2)^2: q1 is
//     faithful with |x - q1| <= ulp(x) (1/2 + 2^(3-p)); step 2 applies to q1
//     when d C (1 + 2^(4-p)) < 1, which holds for all but a few constants
//     whose significand is close to 2^p (those keep their division).
// The guard: for every element of the numerator, 2^(emin + 2p + 2k) <= |a|
// <= 2^(emax - k - 4) where 2^-k <= |c| <= 2^k (k = 64 for f64, 16 for
// f32; other constants keep their division). Then x, q0, q1, the remainders
// and 1/c are normal and finite. Zeros (the sign of -0 / c), infinities,
// NaNs and numerators out of the range take the division: per numerator, one
// `scf.if` on "all lanes in range" runs the rest of the block (from the
// first of its divisions to the terminator) with the multiplications in its
// then branch and as it was, with the divisions, in its else branch. A
// vector loop pays one compare and one branch per numerator, and each
// branch stays one basic block, so LLVM schedules the multiplications where
// the divisions were, beside the rest of the step's work (with only the
// quotients inside the branch, all of them were computed at the branch and
// spilled: measured slower than the divisions).
//
// The pass rewrites only vector divisions (those --rev-pipeline-sweeps
// makes): in scalar code the branch would keep LLVM from vectorising the
// loop. Divisions with fast-math flags other than `contract` are left to
// LLVM (`arcp` lets it multiply by the rounded reciprocal, which is not
// exact).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace mlir::rev {
#define GEN_PASS_DEF_REVDIVIDEBYCONSTANTS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;
using llvm::APFloat;

namespace {
constexpr unsigned kMaxGroupsPerBlock = 4;

/// What a constant divisor needs: -c, RN(1/c), and 1 or 2 corrections.
struct Divisor {
  APFloat negC;
  APFloat recip;
  unsigned corrections;
};

/// The exponent bound k of the constants the guard allows (2^-k <= |c| <= 2^k).
int constantExponentBound(const llvm::fltSemantics &sem) {
  return APFloat::semanticsPrecision(sem) >= 53 ? 64 : 16;
}

/// The certificate of a constant divisor (see the file comment), or nothing
/// if its division stays.
std::optional<Divisor> certify(const APFloat &c) {
  const llvm::fltSemantics &sem = c.getSemantics();
  if (&sem != &APFloat::IEEEdouble() && &sem != &APFloat::IEEEsingle())
    return std::nullopt;
  if (!c.isFiniteNonZero() || c.isDenormal())
    return std::nullopt;
  int k = constantExponentBound(sem);
  int e = llvm::ilogb(c);
  if (e < -k || e > k)
    return std::nullopt;
  APFloat absC = llvm::abs(c);
  // A power of two: the reciprocal is exact and LLVM multiplies already.
  if (absC.getExactLog2Abs() != INT_MIN)
    return std::nullopt;
  const auto rm = APFloat::rmNearestTiesToEven;
  APFloat recip(sem, 1);
  recip.divide(c, rm);
  // d = |c * y - 1|, exact in one rounding (and computed in quad anyway).
  bool lost;
  APFloat cq = c, yq = recip;
  cq.convert(APFloat::IEEEquad(), rm, &lost);
  yq.convert(APFloat::IEEEquad(), rm, &lost);
  APFloat d = cq;
  d.multiply(yq, rm); // 53 + 53 bits: exact in quad
  d.subtract(APFloat(APFloat::IEEEquad(), 1), rm);
  d.clearSign();
  int p = static_cast<int>(APFloat::semanticsPrecision(sem));
  unsigned corrections;
  if (d.compare(llvm::scalbn(APFloat(APFloat::IEEEquad(), 1), -(p + 1), rm)) !=
      APFloat::cmpGreaterThan) {
    corrections = 1;
  } else {
    // d C (1 + 2^(4-p)) < 1 with C = |c| 2^(p-1-e).
    APFloat bigC = absC;
    bigC.convert(APFloat::IEEEquad(), rm, &lost);
    bigC = llvm::scalbn(bigC, p - 1 - e, rm);
    APFloat t = d;
    t.multiply(bigC, rm);
    APFloat margin = llvm::scalbn(APFloat(APFloat::IEEEquad(), 1), 4 - p, rm);
    margin.add(APFloat(APFloat::IEEEquad(), 1), rm);
    t.multiply(margin, rm);
    if (t.compare(APFloat(APFloat::IEEEquad(), 1)) != APFloat::cmpLessThan)
      return std::nullopt;
    corrections = 2;
  }
  APFloat negC = c;
  negC.changeSign();
  return Divisor{negC, recip, corrections};
}

/// The constant divisor of a vector division: a splat constant or a
/// broadcast of a scalar constant.
std::optional<APFloat> splatDivisor(Value rhs) {
  DenseElementsAttr dense;
  if (matchPattern(rhs, m_Constant(&dense)) && dense.isSplat())
    if (auto f = dyn_cast<FloatAttr>(dense.getSplatValue<Attribute>()))
      return f.getValue();
  if (auto bcast = rhs.getDefiningOp<vector::BroadcastOp>()) {
    FloatAttr f;
    if (matchPattern(bcast.getSource(), m_Constant(&f)))
      return f.getValue();
  }
  return std::nullopt;
}

Value splat(OpBuilder &b, Location loc, VectorType type, const APFloat &v) {
  return arith::ConstantOp::create(
      b, loc, type, DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), v)));
}

/// Rewrites the divisions of one numerator in one block. The numerator is
/// read from the divisions themselves: it may be the quotient of a group
/// rewritten before (`(a / c) / c`), replaced since by its multiplications.
void rewriteGroup(MutableArrayRef<std::pair<arith::DivFOp, Divisor>> divs) {
  arith::DivFOp first = divs.front().first;
  Value a = first.getLhs();
  OpBuilder b(first);
  Location loc = first.getLoc();
  auto type = cast<VectorType>(a.getType());
  const llvm::fltSemantics &sem = cast<FloatType>(type.getElementType()).getFloatSemantics();
  int p = static_cast<int>(APFloat::semanticsPrecision(sem));
  int k = constantExponentBound(sem);
  const auto rm = APFloat::rmNearestTiesToEven;
  APFloat one(sem, 1);
  APFloat lo = llvm::scalbn(one, APFloat::semanticsMinExponent(sem) + 2 * p + 2 * k, rm);
  APFloat hi = llvm::scalbn(one, APFloat::semanticsMaxExponent(sem) - k - 4, rm);

  // ok = every lane has lo <= |a| <= hi (false for zeros, infinities, NaNs).
  Value mag = math::AbsFOp::create(b, loc, a);
  Value geLo = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, mag, splat(b, loc, type, lo));
  Value leHi = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, mag, splat(b, loc, type, hi));
  Value inRange = arith::AndIOp::create(b, loc, geLo, leHi);
  Value ok = vector::ReductionOp::create(b, loc, vector::CombiningKind::AND, inRange);

  // The rest of the block (from the first division to the terminator) runs
  // in both branches: with the multiplications in the then branch, as it was
  // in the else branch. One branch per numerator and vector step, and each
  // branch one basic block, so LLVM schedules the multiplications where the
  // divisions were (beside the other work of the step) instead of all at
  // the branch.
  Block *block = first->getBlock();
  Operation *term = block->mightHaveTerminator() ? block->getTerminator() : nullptr;
  SmallVector<Operation *> rest;
  llvm::SmallPtrSet<Operation *, 32> inRest;
  for (Operation *op = first; op && op != term; op = op->getNextNode()) {
    rest.push_back(op);
    inRest.insert(op);
  }
  SmallVector<Value> escaping;
  for (Operation *op : rest)
    for (Value v : op->getResults())
      if (llvm::any_of(v.getUsers(), [&](Operation *user) {
            Operation *anc = block->findAncestorOpInBlock(*user);
            return !anc || !inRest.contains(anc);
          }))
        escaping.push_back(v);
  SmallVector<Type> types;
  for (Value v : escaping)
    types.push_back(v.getType());
  auto ifOp = scf::IfOp::create(b, loc, types, ok, /*withElseRegion=*/true);
  Block *thenBlock = ifOp.thenBlock(), *elseBlock = ifOp.elseBlock();
  // (Without results the builder put yields in already.)
  for (Block *branch : {thenBlock, elseBlock})
    if (!branch->empty())
      branch->back().erase();
  for (Operation *op : rest)
    op->moveBefore(thenBlock, thenBlock->end());
  IRMapping map;
  OpBuilder e = OpBuilder::atBlockEnd(elseBlock);
  for (Operation *op : rest)
    e.clone(*op, map);
  SmallVector<Value> elseYield;
  for (Value v : escaping)
    elseYield.push_back(map.lookupOrDefault(v));
  scf::YieldOp::create(e, loc, elseYield);
  OpBuilder t = OpBuilder::atBlockEnd(thenBlock);
  scf::YieldOp::create(t, loc, escaping);
  for (auto [i, v] : llvm::enumerate(escaping))
    v.replaceUsesWithIf(ifOp.getResult(i),
                        [&](OpOperand &use) { return !ifOp->isAncestor(use.getOwner()); });

  // The multiplications, where the divisions were.
  for (auto &entry : divs) {
    arith::DivFOp div = entry.first;
    const Divisor &d = entry.second;
    OpBuilder m(div);
    Location dl = div.getLoc();
    Value negC = splat(m, dl, type, d.negC);
    Value y = splat(m, dl, type, d.recip);
    Value q = arith::MulFOp::create(m, dl, a, y);
    for (unsigned i = 0; i < d.corrections; ++i) {
      Value r = math::FmaOp::create(m, dl, q, negC, a); // a - c q
      q = math::FmaOp::create(m, dl, r, y, q);          // q + r y
    }
    div.getResult().replaceAllUsesWith(q);
    div.erase();
  }
}

struct RevDivideByConstantsPass
    : public mlir::rev::impl::RevDivideByConstantsBase<RevDivideByConstantsPass> {
  using Base::Base;

  void runOnOperation() override {
    // Per block, the candidate divisions grouped by numerator, in order.
    SmallVector<llvm::MapVector<Value, SmallVector<std::pair<arith::DivFOp, Divisor>>>> groups;
    getOperation()->walk([&](Block *block) {
      llvm::MapVector<Value, SmallVector<std::pair<arith::DivFOp, Divisor>>> byNumerator;
      for (Operation &op : *block) {
        auto div = dyn_cast<arith::DivFOp>(&op);
        if (!div)
          continue;
        auto type = dyn_cast<VectorType>(div.getType());
        if (!type || type.getRank() != 1 || type.isScalable())
          continue;
        auto flags = div.getFastmath();
        if ((flags & ~arith::FastMathFlags::contract) != arith::FastMathFlags::none)
          continue;
        std::optional<APFloat> c = splatDivisor(div.getRhs());
        if (!c)
          continue;
        std::optional<Divisor> d = certify(*c);
        if (!d)
          continue;
        byNumerator[div.getLhs()].push_back({div, *d});
      }
      if (!byNumerator.empty())
        groups.push_back(std::move(byNumerator));
    });
    // Each group after the first of a block nests in the then branch of the
    // one before (the else branches keep the divisions): the code grows by
    // one copy of the rest of the block per group, so at most
    // kMaxGroupsPerBlock groups per block are rewritten.
    for (auto &byNumerator : groups) {
      unsigned n = 0;
      // (The keys may name erased quotients by now: only iterated.)
      for (auto &entry : byNumerator)
        if (n++ < kMaxGroupsPerBlock)
          rewriteGroup(entry.second);
    }
  }
};
} // namespace
