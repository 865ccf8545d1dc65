//===- RevOpDerivatives.cpp - the derivative rules of the rev ops ---------===//
//
// Each op's backward step (uncompute through the inverse, then the adjoint
// update, DESIGN.md's AD section) and its tangent step, attached to the rev
// ops as external models of AdjointOpInterface. Adjoint and tangent
// updates are rev ops, so derivative programs stay reversible.
//
// A shadow element that seeds adjoint updates (Abar[i] for A[i] += d) is
// loaded afresh right before each update (AdjointState::accumulate builds the
// seed per leaf), so no update uses a load taken before a write of the same
// memref, and no ancilla is needed.
//
//===----------------------------------------------------------------------===//
#include "transforms/ForwardMode.h"
#include "transforms/Registration.h"
#include "transforms/ReverseMode.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
/// Opens a recomputation scope of the recovered primal state: pure values
/// recomputed inside it are reused until it closes (one per state change).
struct RecomputeScope {
  AdjointState &st;
  explicit RecomputeScope(AdjointState &s) : st(s) { st.recovered.pushRecomputeScope(); }
  ~RecomputeScope() { st.recovered.popRecomputeScope(); }
};

/// The current value of shadow[idx].
Value loadShadow(OpBuilder &b, Location loc, Value shadow, ValueRange idx) {
  return memref::LoadOp::create(b, loc, shadow, idx);
}

/// (d a'/dt, d b'/dt) of (a', b') = rot(a, b, t) (irot with `inverse`), from
/// the state before.
std::pair<Value, Value> rotThetaDerivative(FloatOps &f, bool inverse, Value a, Value b,
                                           Value t) {
  Value c = f.cos(t), s = f.sin(t);
  if (!inverse) // (a c - b s, a s + b c)' = (-a s - b c, a c - b s)
    return {f.neg(f.add(f.mul(a, s), f.mul(b, c))), f.sub(f.mul(a, c), f.mul(b, s))};
  // (a c + b s, -a s + b c)' = (-a s + b c, -a c - b s)
  return {f.sub(f.mul(b, c), f.mul(a, s)), f.neg(f.add(f.mul(a, c), f.mul(b, s)))};
}

/// abar * d a'/dt + bbar * d b'/dt: the seed of theta's adjoint.
Value rotThetaSeed(FloatOps &f, std::pair<Value, Value> d, Value abar, Value bbar) {
  return f.add(f.mul(abar, d.first), f.mul(bbar, d.second));
}
} // namespace

namespace {
FailureOr<Value> tangentShadow(TangentState &st, Value memref, Operation *op) {
  if (Value s = st.shadows.lookup(memref))
    return s;
  return op->emitOpError("cannot differentiate: this memref has no tangent (only float "
                         "memref arguments of the function get one)");
}

SmallVector<Value> mapAll(TangentState &st, ValueRange values) {
  return llvm::map_to_vector(values, [&](Value v) { return st.map.lookup(v); });
}

} // namespace

//===----------------------------------------------------------------------===//
// Updates: one rule per UpdateRule (RevUpdateKinds.td), never per kind
//===----------------------------------------------------------------------===//
//
// Additive (y += s*d, s = kUpdateSign): the adjoint of y is unchanged and
//   d's leaves get s*ybar; the tangent is the same update on the tangents.
// Scaling (y *= d^s): ybar becomes ybar * d^s (the same update on the
//   adjoint) and d's leaves get ybar * y0 * s * d^(s-1); the tangent is
//   ydot * d^s + y0 * s * d^(s-1) * ddot.
// Bitwise: integers only, nothing to differentiate.

namespace {
template <typename OpT>
constexpr bool isDifferentiable() {
  return OpT::kUpdateRule != UpdateRule::Bitwise;
}

/// `acc += term` (sign > 0) or `acc -= term` as a rev update of a variable.
Value additiveUpdate(OpBuilder &b, Location loc, int sign, Value acc, Value term) {
  if (sign > 0)
    return AddOp::create(b, loc, acc, term).getResult();
  return SubOp::create(b, loc, acc, term).getResult();
}

template <typename OpT>
LogicalResult adjointScalarUpdate(OpT op, OpBuilder &b, AdjointState &st) {
  if constexpr (!isDifferentiable<OpT>()) {
    return st.uncompute(b, op);
  } else {
    if (!isActiveScalar(op.getType()))
      return st.uncompute(b, op);
    Location loc = op.getLoc();
    FloatOps f{b, loc};
    Value ybar = st.getAdjoint(b, op.getResult());
    // One recomputation of the delta for the uncompute and the partials: the
    // delta never reads the updated variable (the verifier's rule), so its
    // value is the same on both sides of the uncompute.
    RecomputeScope scope(st);
    if (failed(st.uncomputeInScope(b, op)))
      return failure();
    Value seed = OpT::kUpdateSign < 0 ? f.neg(ybar) : ybar;
    Value d;
    if (OpT::kUpdateRule == UpdateRule::Scaling) {
      Value y0 = st.lookup(b, op.getTarget());
      d = st.lookup(b, op.getDelta());
      if (!y0 || !d)
        return failure();
      seed = f.mul(ybar, y0);
      if (OpT::kUpdateSign < 0) // d(y/d)/dd = -y/d^2
        seed = f.neg(f.div(seed, f.mul(d, d)));
    }
    if (failed(st.accumulate(b, op.getDelta(), [&](OpBuilder &) { return seed; }, op)))
      return failure();
    if (OpT::kUpdateRule == UpdateRule::Scaling)
      ybar = OpT::create(b, loc, ybar, d).getResult();
    st.setAdjoint(op.getTarget(), ybar);
    return success();
  }
}

template <typename OpT>
LogicalResult tangentScalarUpdate(OpT op, OpBuilder &b, TangentState &st) {
  if constexpr (isDifferentiable<OpT>()) {
    if (isActiveScalar(op.getType())) {
      Location loc = op.getLoc();
      FloatOps f{b, loc};
      Value ydot = st.getTangentVar(op.getTarget());
      Value y0 = st.map.lookup(op.getTarget()), d = st.map.lookup(op.getDelta());
      bool scaling = OpT::kUpdateRule == UpdateRule::Scaling;
      if (scaling)
        ydot = OpT::create(b, loc, ydot, d).getResult();
      FailureOr<Value> ddot = st.tangentOf(b, op.getDelta(), op);
      if (failed(ddot))
        return failure();
      if (*ddot && !scaling)
        ydot = OpT::create(b, loc, ydot, *ddot).getResult();
      if (*ddot && scaling) { // (y d)' = y' d + y d'; (y / d)' = y' / d - y d' / d^2
        Value term = f.mul(y0, *ddot);
        if (OpT::kUpdateSign < 0)
          term = f.div(term, f.mul(d, d));
        ydot = additiveUpdate(b, loc, OpT::kUpdateSign, ydot, term);
      }
      st.setTangent(op.getResult(), ydot);
    }
  }
  b.clone(*op.getOperation(), st.map);
  return success();
}

/// Whether the pure expression `v` loads from `memref`.
bool deltaLoadsFrom(Value v, Value memref, unsigned depth = 0) {
  Operation *def = v.getDefiningOp();
  if (!def || !isRecomputable(def))
    return false;
  if (auto load = dyn_cast<memref::LoadOp>(def))
    if (load.getMemRef() == memref)
      return true;
  if (depth > 64)
    return true; // deep: assume it does
  if (def->getNumRegions())
    return true; // a pure region op: assume it does
  return llvm::any_of(def->getOperands(),
                      [&](Value o) { return deltaLoadsFrom(o, memref, depth + 1); });
}

template <typename OpT>
LogicalResult adjointElementUpdate(OpT op, OpBuilder &b, AdjointState &st) {
  if constexpr (!isDifferentiable<OpT>()) {
    return st.uncompute(b, op);
  } else {
    if (!isActiveMemRef(op.getRef().getType()))
      return st.uncompute(b, op);
    Location loc = op.getLoc();
    FloatOps f{b, loc};
    FailureOr<Value> shadow = st.getShadow(op.getRef(), op);
    if (failed(shadow))
      return failure();
    // One recomputation of the delta (and the indices) for the uncompute
    // and the partials, when the delta reads nothing from the memref the
    // uncompute writes: its loads then give the same values on both sides.
    // (One that reads other elements of it, A[i] += f(A[j]), recomputes the
    // delta after the store: a value loaded from a memref is not used after
    // the memref is written.)
    std::optional<RecomputeScope> shared;
    if (!deltaLoadsFrom(op.getDelta(), op.getRef())) {
      shared.emplace(st);
      if (failed(st.uncomputeInScope(b, op)))
        return failure();
    } else {
      if (failed(st.uncompute(b, op)))
        return failure();
      shared.emplace(st);
    }
    FailureOr<SmallVector<Value>> idx = st.recovered.lookupAll(b, op.getIndices());
    Value ref = st.lookup(b, op.getRef());
    if (failed(idx) || !ref)
      return failure();
    // The seed: s * Abar[i] (additive), Abar[i] * y0 * s * d^(s-1) (scaling).
    Value factor, d;
    if (OpT::kUpdateRule == UpdateRule::Scaling) {
      factor = memref::LoadOp::create(b, loc, ref, *idx); // the recovered A[i]
      d = st.lookup(b, op.getDelta());
      if (!d)
        return failure();
      if (OpT::kUpdateSign < 0)
        factor = f.neg(f.div(factor, f.mul(d, d)));
    }
    auto seed = [&](OpBuilder &) -> Value {
      Value s = loadShadow(b, loc, *shadow, *idx);
      if (factor)
        return f.mul(s, factor);
      return OpT::kUpdateSign < 0 ? f.neg(s) : s;
    };
    if (failed(st.accumulate(b, op.getDelta(), seed, op)))
      return failure();
    if (OpT::kUpdateRule == UpdateRule::Scaling)
      OpT::create(b, loc, *shadow, *idx, d);
    return success();
  }
}

template <typename OpT>
LogicalResult tangentElementUpdate(OpT op, OpBuilder &b, TangentState &st) {
  if constexpr (isDifferentiable<OpT>()) {
    if (isActiveMemRef(op.getRef().getType())) {
      Location loc = op.getLoc();
      FloatOps f{b, loc};
      FailureOr<Value> shadow = tangentShadow(st, op.getRef(), op);
      if (failed(shadow))
        return failure();
      SmallVector<Value> idx = mapAll(st, op.getIndices());
      Value d = st.map.lookup(op.getDelta());
      bool scaling = OpT::kUpdateRule == UpdateRule::Scaling;
      Value y0;
      if (scaling) {
        y0 = memref::LoadOp::create(b, loc, st.map.lookup(op.getRef()), idx);
        OpT::create(b, loc, *shadow, idx, d);
        st.clearCache();
      }
      FailureOr<Value> ddot = st.tangentOf(b, op.getDelta(), op);
      if (failed(ddot))
        return failure();
      if (*ddot && !scaling)
        OpT::create(b, loc, *shadow, idx, *ddot);
      if (*ddot && scaling) {
        Value term = f.mul(y0, *ddot);
        if (OpT::kUpdateSign < 0)
          term = f.div(term, f.mul(d, d));
        if (OpT::kUpdateSign > 0)
          AddAtOp::create(b, loc, *shadow, idx, term);
        else
          SubAtOp::create(b, loc, *shadow, idx, term);
      }
      st.clearCache();
    }
  }
  b.clone(*op.getOperation(), st.map);
  return success();
}
} // namespace


static LogicalResult adjointRule(NegOp op, OpBuilder &b, AdjointState &st) {
  if (!isActiveScalar(op.getType()))
    return st.uncompute(b, op);
  Value ybar = st.getAdjoint(b, op.getResult());
  if (failed(st.uncompute(b, op)))
    return failure();
  st.setAdjoint(op.getTarget(), NegOp::create(b, op.getLoc(), ybar).getResult());
  return success();
}
static LogicalResult tangentRule(NegOp op, OpBuilder &b, TangentState &st) {
  if (isActiveScalar(op.getType()))
    st.setTangent(op.getResult(),
                  NegOp::create(b, op.getLoc(), st.getTangentVar(op.getTarget())).getResult());
  b.clone(*op.getOperation(), st.map);
  return success();
}

static LogicalResult adjointRule(SwapOp op, OpBuilder &b, AdjointState &st) {
  if (!isActiveScalar(op.getLhs().getType()))
    return st.uncompute(b, op);
  Value abar = st.getAdjoint(b, op.getLhsResult()), bbar = st.getAdjoint(b, op.getRhsResult());
  if (failed(st.uncompute(b, op)))
    return failure();
  st.setAdjoint(op.getLhs(), bbar);
  st.setAdjoint(op.getRhs(), abar);
  return success();
}
static LogicalResult tangentRule(SwapOp op, OpBuilder &b, TangentState &st) {
  if (isActiveScalar(op.getLhs().getType())) {
    Value adot = st.getTangentVar(op.getLhs()), bdot = st.getTangentVar(op.getRhs());
    st.setTangent(op.getLhsResult(), bdot);
    st.setTangent(op.getRhsResult(), adot);
  }
  b.clone(*op.getOperation(), st.map);
  return success();
}

namespace {
template <typename OpT, typename AdjOp>
LogicalResult adjointRot(OpT op, OpBuilder &b, AdjointState &st, bool inverse) {
  Location loc = op.getLoc();
  FloatOps f{b, loc};
  Value abar = st.getAdjoint(b, op.getLhsResult()), bbar = st.getAdjoint(b, op.getRhsResult());
  if (failed(st.uncompute(b, op)))
    return failure();
  RecomputeScope scope(st);
  Value a = st.lookup(b, op.getLhs()), c = st.lookup(b, op.getRhs());
  Value t = st.lookup(b, op.getTheta());
  if (!a || !c || !t)
    return failure();
  Value seed = rotThetaSeed(f, rotThetaDerivative(f, inverse, a, c, t), abar, bbar);
  if (failed(st.accumulate(b, op.getTheta(), [&](OpBuilder &) { return seed; }, op)))
    return failure();
  auto adj = AdjOp::create(b, loc, abar, bbar, t);
  st.setAdjoint(op.getLhs(), adj.getLhsResult());
  st.setAdjoint(op.getRhs(), adj.getRhsResult());
  return success();
}

template <typename OpT>
LogicalResult tangentRot(OpT op, OpBuilder &b, TangentState &st, bool inverse) {
  Location loc = op.getLoc();
  FloatOps f{b, loc};
  Value a = st.map.lookup(op.getLhs()), c = st.map.lookup(op.getRhs());
  Value t = st.map.lookup(op.getTheta());
  auto rot = OpT::create(b, loc, st.getTangentVar(op.getLhs()), st.getTangentVar(op.getRhs()), t);
  Value adot = rot.getLhsResult(), bdot = rot.getRhsResult();
  FailureOr<Value> tdot = st.tangentOf(b, op.getTheta(), op);
  if (failed(tdot))
    return failure();
  if (*tdot) {
    auto [da, db] = rotThetaDerivative(f, inverse, a, c, t);
    adot = AddOp::create(b, loc, adot, f.mul(*tdot, da)).getResult();
    bdot = AddOp::create(b, loc, bdot, f.mul(*tdot, db)).getResult();
  }
  st.setTangent(op.getLhsResult(), adot);
  st.setTangent(op.getRhsResult(), bdot);
  b.clone(*op, st.map);
  return success();
}
} // namespace

static LogicalResult adjointRule(RotOp op, OpBuilder &b, AdjointState &st) {
  return adjointRot<RotOp, IRotOp>(op, b, st, false);
}
static LogicalResult adjointRule(IRotOp op, OpBuilder &b, AdjointState &st) {
  return adjointRot<IRotOp, RotOp>(op, b, st, true);
}
static LogicalResult tangentRule(RotOp op, OpBuilder &b, TangentState &st) {
  return tangentRot(op, b, st, false);
}
static LogicalResult tangentRule(IRotOp op, OpBuilder &b, TangentState &st) {
  return tangentRot(op, b, st, true);
}

static LogicalResult adjointRule(NegAtOp op, OpBuilder &b, AdjointState &st) {
  if (failed(st.uncompute(b, op)))
    return failure();
  if (!isActiveMemRef(op.getRef().getType()))
    return success();
  FailureOr<Value> shadow = st.getShadow(op.getRef(), op);
  if (failed(shadow))
    return failure();
  RecomputeScope scope(st);
  FailureOr<SmallVector<Value>> idx = st.recovered.lookupAll(b, op.getIndices());
  if (failed(idx))
    return failure();
  NegAtOp::create(b, op.getLoc(), *shadow, *idx);
  return success();
}
static LogicalResult tangentRule(NegAtOp op, OpBuilder &b, TangentState &st) {
  if (isActiveMemRef(op.getRef().getType())) {
    FailureOr<Value> shadow = tangentShadow(st, op.getRef(), op);
    if (failed(shadow))
      return failure();
    NegAtOp::create(b, op.getLoc(), *shadow, mapAll(st, op.getIndices()));
  }
  b.clone(*op.getOperation(), st.map);
  return success();
}

static LogicalResult adjointRule(SwapAtOp op, OpBuilder &b, AdjointState &st) {
  if (failed(st.uncompute(b, op)))
    return failure();
  if (!isActiveMemRef(op.getLhs().getType()))
    return success();
  FailureOr<Value> l = st.getShadow(op.getLhs(), op), r = st.getShadow(op.getRhs(), op);
  if (failed(l) || failed(r))
    return failure();
  RecomputeScope scope(st);
  FailureOr<SmallVector<Value>> li = st.recovered.lookupAll(b, op.getLhsIndices());
  FailureOr<SmallVector<Value>> ri = st.recovered.lookupAll(b, op.getRhsIndices());
  if (failed(li) || failed(ri))
    return failure();
  SwapAtOp::create(b, op.getLoc(), *l, *li, *r, *ri);
  return success();
}
static LogicalResult tangentRule(SwapAtOp op, OpBuilder &b, TangentState &st) {
  if (isActiveMemRef(op.getLhs().getType())) {
    FailureOr<Value> l = tangentShadow(st, op.getLhs(), op), r = tangentShadow(st, op.getRhs(), op);
    if (failed(l) || failed(r))
      return failure();
    SwapAtOp::create(b, op.getLoc(), *l, mapAll(st, op.getLhsIndices()), *r,
                     mapAll(st, op.getRhsIndices()));
  }
  b.clone(*op.getOperation(), st.map);
  return success();
}

namespace {
template <typename OpT, typename AdjOp>
LogicalResult adjointRotAt(OpT op, OpBuilder &b, AdjointState &st, bool inverse) {
  Location loc = op.getLoc();
  FloatOps f{b, loc};
  FailureOr<Value> l = st.getShadow(op.getLhs(), op), r = st.getShadow(op.getRhs(), op);
  if (failed(l) || failed(r))
    return failure();
  if (failed(st.uncompute(b, op)))
    return failure();
  RecomputeScope scope(st);
  FailureOr<SmallVector<Value>> li = st.recovered.lookupAll(b, op.getLhsIndices());
  FailureOr<SmallVector<Value>> ri = st.recovered.lookupAll(b, op.getRhsIndices());
  Value lhs = st.lookup(b, op.getLhs()), rhs = st.lookup(b, op.getRhs());
  Value t = st.lookup(b, op.getTheta());
  if (failed(li) || failed(ri) || !lhs || !rhs || !t)
    return failure();
  Value a = memref::LoadOp::create(b, loc, lhs, *li);
  Value c = memref::LoadOp::create(b, loc, rhs, *ri);
  // The derivative is built once, at the first leaf (none for a constant angle).
  std::optional<std::pair<Value, Value>> d;
  auto seed = [&](OpBuilder &) {
    if (!d)
      d = rotThetaDerivative(f, inverse, a, c, t);
    Value abar = loadShadow(b, loc, *l, *li);
    Value bbar = loadShadow(b, loc, *r, *ri);
    return rotThetaSeed(f, *d, abar, bbar);
  };
  if (failed(st.accumulate(b, op.getTheta(), seed, op)))
    return failure();
  AdjOp::create(b, loc, *l, *li, *r, *ri, t);
  return success();
}

template <typename OpT>
LogicalResult tangentRotAt(OpT op, OpBuilder &b, TangentState &st, bool inverse) {
  Location loc = op.getLoc();
  FloatOps f{b, loc};
  FailureOr<Value> l = tangentShadow(st, op.getLhs(), op), r = tangentShadow(st, op.getRhs(), op);
  if (failed(l) || failed(r))
    return failure();
  SmallVector<Value> li = mapAll(st, op.getLhsIndices()), ri = mapAll(st, op.getRhsIndices());
  Value t = st.map.lookup(op.getTheta());
  Value a = memref::LoadOp::create(b, loc, st.map.lookup(op.getLhs()), li);
  Value c = memref::LoadOp::create(b, loc, st.map.lookup(op.getRhs()), ri);
  OpT::create(b, loc, *l, li, *r, ri, t);
  auto [da, db] = rotThetaDerivative(f, inverse, a, c, t);
  for (auto [shadow, idx, dd] : {std::tuple{*l, li, da}, std::tuple{*r, ri, db}}) {
    st.clearCache();
    FailureOr<Value> tdot = st.tangentOf(b, op.getTheta(), op);
    if (failed(tdot))
      return failure();
    if (*tdot)
      AddAtOp::create(b, loc, shadow, idx, f.mul(*tdot, dd));
  }
  st.clearCache();
  b.clone(*op, st.map);
  return success();
}
} // namespace

static LogicalResult adjointRule(RotAtOp op, OpBuilder &b, AdjointState &st) {
  return adjointRotAt<RotAtOp, IRotAtOp>(op, b, st, false);
}
static LogicalResult adjointRule(IRotAtOp op, OpBuilder &b, AdjointState &st) {
  return adjointRotAt<IRotAtOp, RotAtOp>(op, b, st, true);
}
static LogicalResult tangentRule(RotAtOp op, OpBuilder &b, TangentState &st) {
  return tangentRotAt(op, b, st, false);
}
static LogicalResult tangentRule(IRotAtOp op, OpBuilder &b, TangentState &st) {
  return tangentRotAt(op, b, st, true);
}

//===----------------------------------------------------------------------===//
// Ancillas
//===----------------------------------------------------------------------===//

static LogicalResult adjointRule(AllocOp op, OpBuilder &b, AdjointState &st) {
  if (failed(st.uncompute(b, op)))
    return failure();
  if (isActiveScalar(op.getType())) {
    // The adjoint of a constant: not needed, dropped.
    DiscardOp::create(b, op.getLoc(), st.getAdjoint(b, op.getResult()));
    st.eraseAdjoint(op.getResult());
  }
  return success();
}
static LogicalResult tangentRule(AllocOp op, OpBuilder &b, TangentState &st) {
  b.clone(*op.getOperation(), st.map);
  if (isActiveScalar(op.getType())) {
    // The tangent of an adjoint ancilla is released like it (discarded).
    auto alloc = AllocOp::create(b, op.getLoc(), op.getType(), TypedAttr());
    alloc.setAdjoint(op.getAdjoint());
    st.setTangent(op.getResult(), alloc.getResult());
  }
  return success();
}

static LogicalResult adjointRule(FreeOp op, OpBuilder &b, AdjointState &st) {
  if (failed(st.uncompute(b, op)))
    return failure();
  if (isActiveScalar(op.getTarget().getType())) {
    auto alloc = AllocOp::create(b, op.getLoc(), op.getTarget().getType(), TypedAttr());
    alloc.setAdjoint(true);
    st.setAdjoint(op.getTarget(), alloc.getResult());
  }
  return success();
}
static LogicalResult tangentRule(FreeOp op, OpBuilder &b, TangentState &st) {
  // The ancilla is back to a constant, so its tangent is back to zero.
  if (isActiveScalar(op.getTarget().getType()))
    FreeOp::create(b, op.getLoc(), st.getTangentVar(op.getTarget()), TypedAttr());
  b.clone(*op.getOperation(), st.map);
  return success();
}

static LogicalResult adjointRule(DiscardOp op, OpBuilder &, AdjointState &) {
  return op.emitOpError("cannot be differentiated: ") << kDiscardAdvice;
}
static LogicalResult tangentRule(DiscardOp op, OpBuilder &b, TangentState &st) {
  DiscardOp::create(b, op.getLoc(), st.getTangentVar(op.getTarget()));
  b.clone(*op.getOperation(), st.map);
  return success();
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

namespace {
/// The function a call or uncall runs (the callee, or its inverse).
FailureOr<FuncOp> calledFunction(Operation *op, bool uncall) {
  auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(
      op, op->getAttrOfType<FlatSymbolRefAttr>("callee"));
  if (!callee)
    return op->emitOpError("callee is not a rev.func");
  if (!uncall)
    return callee;
  return getOrCreateInverseFunction(callee);
}

LogicalResult adjointCall(Operation *op, OpBuilder &b, AdjointState &st, bool uncall) {
  FailureOr<FuncOp> fn = calledFunction(op, uncall);
  if (failed(fn))
    return failure();
  FailureOr<FuncOp> bwd = getOrCreateBackwardFunction(*fn);
  if (failed(bwd))
    return failure();
  // The backward function's operands: the callee's final state, then the
  // adjoints and shadows at their places in the derivative layout.
  SmallVector<int> pos = derivativeArgPositions(op->getOperandTypes());
  SmallVector<Value> operands(bwd->getNumArguments());
  {
    RecomputeScope scope(st);
    unsigned r = 0;
    for (auto [i, v] : llvm::enumerate(op->getOperands())) {
      Value res = isa<MemRefType>(v.getType()) ? Value() : op->getResult(r++);
      operands[i] = st.lookup(b, res ? res : v);
      if (!operands[i])
        return failure();
      if (pos[i] < 0)
        continue;
      if (res) {
        operands[pos[i]] = st.getAdjoint(b, res);
      } else {
        FailureOr<Value> s = st.getShadow(v, op);
        if (failed(s))
          return failure();
        operands[pos[i]] = *s;
      }
    }
  }
  auto call = CallOp::create(b, op->getLoc(), bwd->getResultTypes(), bwd->getSymName(), operands);
  unsigned r = 0, k = op->getNumResults();
  for (Value v : op->getOperands()) {
    if (isa<MemRefType>(v.getType()))
      continue;
    st.recovered.bind(v, call.getResult(r++));
    if (isActiveScalar(v.getType()))
      st.setAdjoint(v, call.getResult(k++));
  }
  return success();
}

LogicalResult tangentCall(Operation *op, OpBuilder &b, TangentState &st, bool uncall) {
  FailureOr<FuncOp> fn = calledFunction(op, uncall);
  if (failed(fn))
    return failure();
  FailureOr<FuncOp> fwd = getOrCreateTangentFunction(*fn);
  if (failed(fwd))
    return failure();
  SmallVector<int> pos = derivativeArgPositions(op->getOperandTypes());
  SmallVector<Value> operands = mapAll(st, op->getOperands());
  operands.resize(fwd->getNumArguments());
  for (auto [i, v] : llvm::enumerate(op->getOperands())) {
    if (pos[i] < 0)
      continue;
    if (isActiveScalar(v.getType())) {
      operands[pos[i]] = st.getTangentVar(v);
    } else {
      FailureOr<Value> s = tangentShadow(st, v, op);
      if (failed(s))
        return failure();
      operands[pos[i]] = *s;
    }
  }
  auto call = CallOp::create(b, op->getLoc(), fwd->getResultTypes(), fwd->getSymName(), operands);
  unsigned k = op->getNumResults();
  for (auto [i, res] : llvm::enumerate(op->getResults())) {
    st.map.map(res, call.getResult(i));
    if (isActiveScalar(res.getType()))
      st.setTangent(res, call.getResult(k++));
  }
  return success();
}
} // namespace

static LogicalResult adjointRule(CallOp op, OpBuilder &b, AdjointState &st) {
  return adjointCall(op, b, st, false);
}
static LogicalResult adjointRule(UncallOp op, OpBuilder &b, AdjointState &st) {
  return adjointCall(op, b, st, true);
}
static LogicalResult tangentRule(CallOp op, OpBuilder &b, TangentState &st) {
  return tangentCall(op, b, st, false);
}
static LogicalResult tangentRule(UncallOp op, OpBuilder &b, TangentState &st) {
  return tangentCall(op, b, st, true);
}

//===----------------------------------------------------------------------===//
// Out-of-place steps
//===----------------------------------------------------------------------===//

/// Whether `step` only adds to or subtracts from its new state (argument #2)
/// and never reads it: then the value of the new state does not enter the
/// step's backward function.
static bool writesNewStateOnly(FuncOp step) {
  if (step.getBody().empty())
    return false;
  return llvm::all_of(step.getBody().front().getArgument(2).getUses(), [](OpOperand &use) {
    return isa<AddAtOp, SubAtOp>(use.getOwner()) && use.getOperandNumber() == 0;
  });
}

/// out += F(init): uncompute (out -= F(init)) and init_shadow +=
/// F'(init)^T out_shadow with the params' adjoints, both by one
/// rev.steps_adjoint (binomial checkpointing; conversion/LowerSteps.cpp; its
/// first step adjoint recomputes F(init) anyway). out's adjoint is unchanged
/// (as for any `y += f(x)`). The op's schedule (revolve or bennett, with its
/// snapshots or levels) carries over.
static LogicalResult adjointRule(StepsOp op, OpBuilder &b, AdjointState &st) {
  if (op.getSubtract())
    return op.emitOpError("cannot be differentiated with 'subtract' (the inverse of a "
                          "rev.steps): differentiate the forward function instead");
  auto step = SymbolTable::lookupNearestSymbolFrom<FuncOp>(op, op.getStepAttr());
  if (!step)
    return op.emitOpError("step is not a rev.func");
  FailureOr<FuncOp> bwd = getOrCreateBackwardFunction(step);
  if (failed(bwd))
    return failure();
  SmallVector<Value> params, shadows, adjoints, activeScalars;
  Value lb, ub, init, out;
  {
    RecomputeScope scope(st);
    lb = st.lookup(b, op.getLowerBound());
    ub = st.lookup(b, op.getUpperBound());
    init = st.lookup(b, op.getInit());
    out = st.lookup(b, op.getOut());
    if (!lb || !ub || !init || !out)
      return failure();
    for (Value p : op.getParams()) {
      Value q = st.lookup(b, p);
      if (!q)
        return failure();
      params.push_back(q);
    }
  }
  FailureOr<Value> initShadow = st.getShadow(op.getInit(), op);
  FailureOr<Value> outShadow = st.getShadow(op.getOut(), op);
  if (failed(initShadow) || failed(outShadow))
    return failure();
  for (Value p : op.getParams()) {
    if (isActiveMemRef(p.getType())) {
      FailureOr<Value> s = st.getShadow(p, op);
      if (failed(s))
        return failure();
      shadows.push_back(*s);
    } else if (isActiveScalar(p.getType())) {
      adjoints.push_back(st.getAdjoint(b, p));
      activeScalars.push_back(p);
    }
  }
  auto adj = StepsAdjointOp::create(
      b, op.getLoc(), TypeRange(ValueRange(adjoints)), op.getStepAttr(),
      FlatSymbolRefAttr::get(bwd->getSymNameAttr()), lb, ub, init, *initShadow, *outShadow, out,
      params, shadows, adjoints, op.getSnapshotsAttr(), b.getI64IntegerAttr(-1),
      /*check_atol=*/FloatAttr(), writesNewStateOnly(step) ? b.getUnitAttr() : UnitAttr(),
      op.getScheduleAttr(), op.getLevelsAttr());
  for (auto [p, r] : llvm::zip(activeScalars, adj.getResults()))
    st.setAdjoint(p, r);
  return success();
}
/// The steps (mapped) and, with the tangent function of the step, their
/// tangents: one rev.steps_tangent does both (conversion/LowerSteps.cpp).
static LogicalResult tangentRule(StepsOp op, OpBuilder &b, TangentState &st) {
  auto step = SymbolTable::lookupNearestSymbolFrom<FuncOp>(op, op.getStepAttr());
  if (!step)
    return op.emitOpError("step is not a rev.func");
  FailureOr<FuncOp> fwd = getOrCreateTangentFunction(step);
  if (failed(fwd))
    return failure();
  FailureOr<Value> initDot = tangentShadow(st, op.getInit(), op);
  FailureOr<Value> outDot = tangentShadow(st, op.getOut(), op);
  if (failed(initDot) || failed(outDot))
    return failure();
  SmallVector<Value> paramTangents;
  for (Value p : op.getParams()) {
    if (isActiveScalar(p.getType())) {
      paramTangents.push_back(st.getTangentVar(p));
    } else if (isActiveMemRef(p.getType())) {
      FailureOr<Value> s = tangentShadow(st, p, op);
      if (failed(s))
        return failure();
      paramTangents.push_back(*s);
    }
  }
  StepsTangentOp::create(b, op.getLoc(), FlatSymbolRefAttr::get(fwd->getSymNameAttr()),
                         st.map.lookupOrDefault(op.getLowerBound()),
                         st.map.lookupOrDefault(op.getUpperBound()),
                         st.map.lookupOrDefault(op.getInit()), *initDot,
                         st.map.lookupOrDefault(op.getOut()), *outDot,
                         mapAll(st, op.getParams()), paramTangents,
                         op.getSubtract() ? b.getUnitAttr() : UnitAttr());
  return success();
}
/// The generated derivative ops of rev.steps are not differentiated again.
static LogicalResult refuseSecondOrder(Operation *op) {
  return op->emitOpError() << "cannot be differentiated again (it is the generated "
                           << (isa<StepsAdjointOp>(op) ? "checkpointed adjoint" : "tangent")
                           << " of rev.steps)";
}
static LogicalResult adjointRule(StepsAdjointOp op, OpBuilder &, AdjointState &) {
  return refuseSecondOrder(op);
}
static LogicalResult adjointRule(StepsTangentOp op, OpBuilder &, AdjointState &) {
  return refuseSecondOrder(op);
}
static LogicalResult tangentRule(StepsTangentOp op, OpBuilder &, TangentState &) {
  return refuseSecondOrder(op);
}
static LogicalResult tangentRule(StepsAdjointOp op, OpBuilder &, TangentState &) {
  return refuseSecondOrder(op);
}

//===----------------------------------------------------------------------===//
// Region ops
//===----------------------------------------------------------------------===//

namespace {
/// The operands of a backward region op: the final versions, their float
/// adjoints and the adjoints of the captured versions.
FailureOr<SmallVector<Value>> backwardInits(OpBuilder &b, AdjointState &st, ValueRange results,
                                            ArrayRef<Value> captured) {
  SmallVector<Value> inits;
  {
    RecomputeScope scope(st);
    FailureOr<SmallVector<Value>> finals = st.recovered.lookupAll(b, results);
    if (failed(finals))
      return failure();
    inits = *finals;
  }
  for (Value r : results)
    if (isActiveScalar(r.getType()))
      inits.push_back(st.getAdjoint(b, r));
  for (Value c : captured)
    inits.push_back(st.getAdjoint(b, c));
  return inits;
}

/// Binds the forward op's inits to the backward op's results (restored
/// versions, then their adjoints, then the captured adjoints).
void bindBackwardResults(AdjointState &st, ValueRange inits, ValueRange results,
                         ArrayRef<Value> captured) {
  unsigned k = inits.size();
  for (auto [i, v] : llvm::enumerate(inits)) {
    st.recovered.bind(v, results[i]);
    if (isActiveScalar(v.getType()))
      st.setAdjoint(v, results[k++]);
  }
  for (Value c : captured)
    st.setAdjoint(c, results[k++]);
}

/// The operands of a tangent region op: mapped inits, then float tangents.
SmallVector<Value> tangentInits(TangentState &st, ValueRange inits) {
  SmallVector<Value> out = mapAll(st, inits);
  for (Value v : inits)
    if (isActiveScalar(v.getType()))
      out.push_back(st.getTangentVar(v));
  return out;
}

void bindTangentResults(TangentState &st, ValueRange results, ValueRange newResults) {
  unsigned k = results.size();
  for (auto [i, r] : llvm::enumerate(results)) {
    st.map.map(r, newResults[i]);
    if (isActiveScalar(r.getType()))
      st.setTangent(r, newResults[k++]);
  }
}
} // namespace

static LogicalResult adjointRule(ForOp op, OpBuilder &b, AdjointState &st) {
  SmallVector<Value> captured = capturedActiveVersions({&op.getBody()});
  Value lb, ub, step;
  {
    RecomputeScope scope(st);
    lb = st.lookup(b, op.getLowerBound());
    ub = st.lookup(b, op.getUpperBound());
    step = st.lookup(b, op.getStep());
    if (!lb || !ub || !step)
      return failure();
  }
  FailureOr<SmallVector<Value>> inits = backwardInits(b, st, op.getResults(), captured);
  if (failed(inits))
    return failure();
  // Iterations that touch only their own elements (no iter_args, no float
  // scalar read from above whose adjoint they would sum) may be swept back in
  // any order with the same bits: keep the forward's, which the vectorisers
  // and prefetchers handle best. (A loop marked for --rev-tape-loops says so,
  // for the order its tapes are read in.)
  bool reverse = !op.getReverse();
  bool inOrder = op.getInits().empty() && captured.empty() && accessesOwnElementsOnly(op);
  if (inOrder)
    reverse = op.getReverse();
  auto loop = ForOp::create(b, op.getLoc(), lb, ub, step, *inits, reverse);
  if (Attribute id = op->getAttr(kTapeLoopAttr)) {
    loop->setAttr(kTapeAdjointAttr, id);
    if (inOrder)
      loop->setAttr(kTapeInOrderAttr, b.getUnitAttr());
  }
  loop.getBody().getBlocks().clear();
  if (failed(st.adjointRegionInto(b, op.getLoc(), op.getBody(), loop.getBody(), 1, captured)))
    return failure();
  bindBackwardResults(st, op.getInits(), loop.getResults(), captured);
  return success();
}
static LogicalResult tangentRule(ForOp op, OpBuilder &b, TangentState &st) {
  auto loop = ForOp::create(b, op.getLoc(), st.map.lookup(op.getLowerBound()),
                            st.map.lookup(op.getUpperBound()), st.map.lookup(op.getStep()),
                            tangentInits(st, op.getInits()), op.getReverse());
  loop.getBody().getBlocks().clear();
  if (failed(st.tangentRegionInto(b, op.getLoc(), op.getBody(), loop.getBody(), 1)))
    return failure();
  bindTangentResults(st, op.getResults(), loop.getResults());
  return success();
}

/// The backward sweep of a parallel loop is a parallel loop: each iteration
/// uncomputes its own work. The reduce accumulators start from the results
/// (every iteration subtracts what it added); their adjoints are the same in
/// every iteration (an accumulator is only added to), read by each iteration
/// through an ancilla copy that is uncomputed at its end; the adjoints of the
/// outer scalars the body reads become reduce accumulators (a sum over the
/// iterations: scf.reduce when lowered). Adjoints of shared memref data
/// (shadows only added to) are accumulated atomically or per thread, as the
/// loop's `accumulate` says (the verifier of the new loop classifies them).
static LogicalResult adjointRule(ParallelForOp op, OpBuilder &b, AdjointState &st) {
  Location loc = op.getLoc();
  SmallVector<Value> captured = capturedActiveVersions({&op.getBody()});
  Value lb, ub, step;
  SmallVector<Value> inits;
  {
    RecomputeScope scope(st);
    lb = st.lookup(b, op.getLowerBound());
    ub = st.lookup(b, op.getUpperBound());
    step = st.lookup(b, op.getStep());
    if (!lb || !ub || !step)
      return failure();
    FailureOr<SmallVector<Value>> finals = st.recovered.lookupAll(b, op.getResults());
    if (failed(finals))
      return failure();
    inits = *finals;
  }
  SmallVector<Value> resultAdjoints;
  for (Value r : op.getResults())
    if (isActiveScalar(r.getType()))
      resultAdjoints.push_back(st.getAdjoint(b, r));
  for (Value c : captured)
    inits.push_back(st.getAdjoint(b, c));
  auto loop = ParallelForOp::create(b, loc, lb, ub, step, inits);
  loop.setAccumulateAttr(op.getAccumulateAttr());
  loop.getBody().getBlocks().clear();

  Block &srcBlock = op.getBody().front();
  Block *block = new Block();
  loop.getBody().push_back(block);
  st.recovered.bind(op.getInductionVar(),
                    block->addArgument(b.getIndexType(), op.getInductionVar().getLoc()));
  SmallVector<Value> finals;
  for (Value v : srcBlock.getTerminator()->getOperands())
    finals.push_back(block->addArgument(v.getType(), v.getLoc()));
  SmallVector<Value> saved;
  for (Value c : captured) {
    saved.push_back(st.getAdjoint(b, c));
    st.setAdjoint(c, block->addArgument(c.getType(), c.getLoc()));
  }
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(block);
    SmallVector<Value> finalAdjoints = copySeeds(b, loc, resultAdjoints);
    FailureOr<SmallVector<Value>> out = st.adjointBlock(b, srcBlock, finals, finalAdjoints);
    if (failed(out))
      return failure();
    unsigned n = finals.size();
    SmallVector<Value> yields(out->begin(), out->begin() + n);
    releaseSeedCopies(b, loc, ArrayRef<Value>(*out).drop_front(n), resultAdjoints);
    for (Value c : captured)
      yields.push_back(st.getAdjoint(b, c));
    YieldOp::create(b, loc, yields);
  }
  for (auto [c, s] : llvm::zip(captured, saved))
    st.setAdjoint(c, s);

  unsigned n = op.getNumResults(), k = 0;
  for (auto [i, v] : llvm::enumerate(op.getInits())) {
    st.recovered.bind(v, loop.getResult(i));
    if (isActiveScalar(v.getType()))
      st.setAdjoint(v, resultAdjoints[k++]);
  }
  for (auto [i, c] : llvm::enumerate(captured))
    st.setAdjoint(c, loop.getResult(n + i));
  return success();
}
static LogicalResult tangentRule(ParallelForOp op, OpBuilder &b, TangentState &st) {
  auto loop = ParallelForOp::create(b, op.getLoc(), st.map.lookup(op.getLowerBound()),
                                    st.map.lookup(op.getUpperBound()),
                                    st.map.lookup(op.getStep()), tangentInits(st, op.getInits()));
  loop.setAccumulateAttr(op.getAccumulateAttr());
  loop.getBody().getBlocks().clear();
  if (failed(st.tangentRegionInto(b, op.getLoc(), op.getBody(), loop.getBody(), 1)))
    return failure();
  bindTangentResults(st, op.getResults(), loop.getResults());
  return success();
}

static LogicalResult adjointRule(IfOp op, OpBuilder &b, AdjointState &st) {
  SmallVector<Value> captured = capturedActiveVersions({&op.getThenRegion(), &op.getElseRegion()});
  Region &newPre = op.hasPost() ? op.getPost() : op.getPre();
  IRMapping preMap, postMap;
  {
    RecomputeScope scope(st);
    if (failed(st.recovered.lookupCaptures(b, newPre, preMap)) ||
        (op.hasPost() && failed(st.recovered.lookupCaptures(b, op.getPre(), postMap))))
      return failure();
  }
  FailureOr<SmallVector<Value>> inits = backwardInits(b, st, op.getResults(), captured);
  if (failed(inits))
    return failure();
  auto newOp = IfOp::create(b, op.getLoc(), *inits);
  TypeRange types = ValueRange(*inits).getTypes();
  cloneCondRegion(b, newPre, newOp.getPre(), types, preMap);
  if (op.hasPost())
    cloneCondRegion(b, op.getPre(), newOp.getPost(), types, postMap);
  if (failed(st.adjointRegionInto(b, op.getLoc(), op.getThenRegion(), newOp.getThenRegion(), 0,
                                  captured)))
    return failure();
  if (op.hasElse() && failed(st.adjointRegionInto(b, op.getLoc(), op.getElseRegion(),
                                               newOp.getElseRegion(), 0, captured)))
    return failure();
  bindBackwardResults(st, op.getInits(), newOp.getResults(), captured);
  return success();
}
static LogicalResult tangentRule(IfOp op, OpBuilder &b, TangentState &st) {
  SmallVector<Value> inits = tangentInits(st, op.getInits());
  auto newOp = IfOp::create(b, op.getLoc(), inits);
  TypeRange types = ValueRange(inits).getTypes();
  IRMapping preMap = st.map, postMap = st.map;
  cloneCondRegion(b, op.getPre(), newOp.getPre(), types, preMap);
  if (op.hasPost())
    cloneCondRegion(b, op.getPost(), newOp.getPost(), types, postMap);
  if (failed(st.tangentRegionInto(b, op.getLoc(), op.getThenRegion(), newOp.getThenRegion(), 0)))
    return failure();
  if (op.hasElse() &&
      failed(st.tangentRegionInto(b, op.getLoc(), op.getElseRegion(), newOp.getElseRegion(), 0)))
    return failure();
  bindTangentResults(st, op.getResults(), newOp.getResults());
  return success();
}

static LogicalResult adjointRule(WhileOp op, OpBuilder &b, AdjointState &st) {
  SmallVector<Value> captured = capturedActiveVersions({&op.getBody()});
  IRMapping preMap, postMap;
  {
    RecomputeScope scope(st);
    if (failed(st.recovered.lookupCaptures(b, op.getPost(), preMap)) ||
        failed(st.recovered.lookupCaptures(b, op.getPre(), postMap)))
      return failure();
  }
  FailureOr<SmallVector<Value>> inits = backwardInits(b, st, op.getResults(), captured);
  if (failed(inits))
    return failure();
  auto newOp = WhileOp::create(b, op.getLoc(), *inits);
  TypeRange types = ValueRange(*inits).getTypes();
  cloneCondRegion(b, op.getPost(), newOp.getPre(), types, preMap);
  cloneCondRegion(b, op.getPre(), newOp.getPost(), types, postMap);
  if (failed(st.adjointRegionInto(b, op.getLoc(), op.getBody(), newOp.getBody(), 0, captured)))
    return failure();
  bindBackwardResults(st, op.getInits(), newOp.getResults(), captured);
  return success();
}
static LogicalResult tangentRule(WhileOp op, OpBuilder &b, TangentState &st) {
  SmallVector<Value> inits = tangentInits(st, op.getInits());
  auto newOp = WhileOp::create(b, op.getLoc(), inits);
  TypeRange types = ValueRange(inits).getTypes();
  IRMapping preMap = st.map, postMap = st.map;
  cloneCondRegion(b, op.getPre(), newOp.getPre(), types, preMap);
  cloneCondRegion(b, op.getPost(), newOp.getPost(), types, postMap);
  if (failed(st.tangentRegionInto(b, op.getLoc(), op.getBody(), newOp.getBody(), 0)))
    return failure();
  bindTangentResults(st, op.getResults(), newOp.getResults());
  return success();
}

/// Whether every function that `region` uncalls has an inverse (generated
/// here if missing, without diagnostics), and so on through those inverses.
static bool uncalleesAreInvertible(Region &region) {
  ScopedDiagnosticHandler quiet(region.getContext(), [](Diagnostic &) { return success(); });
  SmallVector<Region *> work{&region};
  llvm::SmallPtrSet<Operation *, 8> seen;
  while (!work.empty()) {
    Region *r = work.pop_back_val();
    WalkResult walk = r->walk([&](UncallOp u) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(u, u.getCalleeAttr());
      if (!callee)
        return WalkResult::interrupt();
      // A backward function still being built (a recursive call): its
      // inverse is generated when the program is lowered, as usual.
      Block *entry = callee.getBody().empty() ? nullptr : &callee.getBody().front();
      if (!entry || entry->empty() || !entry->back().hasTrait<OpTrait::IsTerminator>())
        return WalkResult::advance();
      FailureOr<FuncOp> inv = getOrCreateInverseFunction(callee);
      if (failed(inv))
        return WalkResult::interrupt();
      if (seen.insert(*inv).second)
        work.push_back(&inv->getBody());
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return false;
  }
  return true;
}

/// The backward step of (compute C; body B; uncompute C^-1) is
/// bwd(C^-1); bwd(B); bwd(C), and bwd(C^-1) is the inverse of bwd(C) (the
/// adjoint of an inverse is the inverse of the adjoint). So it is again a
/// routine: compute = inverse of bwd(C), body = bwd(B), uncompute = bwd(C).
/// The ancilla adjoints that bwd(C) discards are created as zeros by its
/// inverse, which is exact: C^-1 frees the ancillas, so their adjoints are
/// zero there. This keeps the backward function invertible (and so
/// differentiable again).
///
/// Inverting bwd(C) needs the inverse of the backward function of every
/// function C calls; a callee that drops an ancilla's adjoint outside a
/// routine has none. Then the three sweeps are emitted in sequence instead,
/// bwd(C^-1) built from C^-1 directly: the first-order gradient is the same,
/// and the backward function, like the callee's, cannot be inverted.
static LogicalResult adjointRoutineInline(RoutineOp op, OpBuilder &b, AdjointState &st) {
  Location loc = op.getLoc();
  SmallVector<Value> finals, finalAdjoints;
  {
    RecomputeScope scope(st);
    FailureOr<SmallVector<Value>> looked = st.recovered.lookupAll(b, op.getResults());
    if (failed(looked))
      return failure();
    finals = *looked;
  }
  for (Value r : op.getResults())
    if (isActiveScalar(r.getType()))
      finalAdjoints.push_back(st.getAdjoint(b, r));
  // C^-1, built in a scratch routine beside the forward op.
  OpBuilder sb(op);
  auto scratch = RoutineOp::create(sb, loc, op.getInits());
  InversionState inverter(&op.getCompute());
  if (failed(inverter.invertRegionInto(sb, loc, op.getCompute(), scratch.getCompute(), 0))) {
    scratch.erase();
    return failure();
  }
  // Each sweep returns the restored state and then the adjoints of its floats.
  auto split = [](ArrayRef<Value> out, size_t n) {
    return std::pair{SmallVector<Value>(out.take_front(n)), SmallVector<Value>(out.drop_front(n))};
  };
  FailureOr<SmallVector<Value>> afterBody =
      st.adjointBlock(b, scratch.getCompute().front(), finals, finalAdjoints);
  scratch.erase();
  if (failed(afterBody))
    return failure();
  size_t numMid = op.getBody().front().getNumArguments();
  auto [mid, midAdjoints] = split(*afterBody, numMid);
  FailureOr<SmallVector<Value>> beforeBody =
      st.adjointBlock(b, op.getBody().front(), mid, midAdjoints);
  if (failed(beforeBody))
    return failure();
  auto [mid0, mid0Adjoints] = split(*beforeBody, numMid);
  FailureOr<SmallVector<Value>> restored =
      st.adjointBlock(b, op.getCompute().front(), mid0, mid0Adjoints);
  if (failed(restored))
    return failure();
  size_t numInits = op.getInits().size();
  unsigned k = numInits;
  for (auto [i, v] : llvm::enumerate(op.getInits())) {
    st.recovered.bind(v, (*restored)[i]);
    if (isActiveScalar(v.getType()))
      st.setAdjoint(v, (*restored)[k++]);
  }
  return success();
}

LogicalResult mlir::rev::buildBackwardRoutineCompute(RoutineOp op, RoutineOp newOp, OpBuilder &b,
                                                     AdjointState &st,
                                                     ArrayRef<Value> captured) {
  // bwd(C) in a scratch routine beside the forward op, then inverted into
  // the compute region.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op);
  auto scratch = RoutineOp::create(b, op.getLoc(), newOp.getInits());
  LogicalResult res =
      st.adjointRegionInto(b, op.getLoc(), op.getCompute(), scratch.getCompute(), 0, captured);
  if (succeeded(res)) {
    InversionState inv(&scratch.getCompute());
    inv.allowDiscard = true;
    res = inv.invertRegionInto(b, op.getLoc(), scratch.getCompute(), newOp.getCompute(), 0);
  }
  scratch.erase();
  return res;
}

static LogicalResult adjointRule(RoutineOp op, OpBuilder &b, AdjointState &st) {
  SmallVector<Value> captured = capturedActiveVersions({&op.getCompute(), &op.getBody()});
  FailureOr<SmallVector<Value>> inits = backwardInits(b, st, op.getResults(), captured);
  if (failed(inits))
    return failure();
  auto newOp = RoutineOp::create(b, op.getLoc(), *inits);
  if (failed(st.adjointRegionInto(b, op.getLoc(), op.getBody(), newOp.getBody(), 0, captured)))
    return failure();
  if (failed(buildBackwardRoutineCompute(op, newOp, b, st, captured)))
    return failure();
  if (!uncalleesAreInvertible(newOp.getCompute())) {
    // The inits built for newOp (lookups, zero adjoints) are left to the
    // canonicalizer when unused.
    newOp.erase();
    return adjointRoutineInline(op, b, st);
  }
  bindBackwardResults(st, op.getInits(), newOp.getResults(), captured);
  return success();
}
static LogicalResult tangentRule(RoutineOp op, OpBuilder &b, TangentState &st) {
  auto newOp = RoutineOp::create(b, op.getLoc(), tangentInits(st, op.getInits()));
  if (failed(st.tangentRegionInto(b, op.getLoc(), op.getCompute(), newOp.getCompute(), 0)) ||
      failed(st.tangentRegionInto(b, op.getLoc(), op.getBody(), newOp.getBody(), 0)))
    return failure();
  bindTangentResults(st, op.getResults(), newOp.getResults());
  return success();
}

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

static LogicalResult adjointRule(CheckOp op, OpBuilder &b, AdjointState &st) {
  return st.uncompute(b, op); // the inverse re-checks
}
static LogicalResult tangentRule(CheckOp op, OpBuilder &b, TangentState &st) {
  b.clone(*op.getOperation(), st.map);
  return success();
}

//===----------------------------------------------------------------------===//
// The external models
//===----------------------------------------------------------------------===//

namespace {
template <typename OpT>
struct AdjointModel : public AdjointOpInterface::ExternalModel<AdjointModel<OpT>, OpT> {
  LogicalResult buildAdjoint(Operation *op, OpBuilder &b, AdjointState &st) const {
    if constexpr (OpT::template hasTrait<UpdateOpInterface::Trait>()) {
      if constexpr (OpT::kIsElementUpdate)
        return adjointElementUpdate(cast<OpT>(op), b, st);
      else
        return adjointScalarUpdate(cast<OpT>(op), b, st);
    } else {
      return adjointRule(cast<OpT>(op), b, st);
    }
  }
  LogicalResult buildTangent(Operation *op, OpBuilder &b, TangentState &st) const {
    if constexpr (OpT::template hasTrait<UpdateOpInterface::Trait>()) {
      if constexpr (OpT::kIsElementUpdate)
        return tangentElementUpdate(cast<OpT>(op), b, st);
      else
        return tangentScalarUpdate(cast<OpT>(op), b, st);
    } else {
      return tangentRule(cast<OpT>(op), b, st);
    }
  }
};

/// Attaches AdjointModel to every invertible rev op (the list is ODS's).
template <typename... OpTs>
void attachAdjointModels(MLIRContext *ctx) {
  (
      [&] {
        if constexpr (OpTs::template hasTrait<InvertibleOpInterface::Trait>())
          OpTs::template attachInterface<AdjointModel<OpTs>>(*ctx);
      }(),
      ...);
}
} // namespace

void mlir::rev::attachRevOpDerivativeModels(MLIRContext *ctx) {
  attachAdjointModels<
#define GET_OP_LIST
#include "dialect/RevOps.cpp.inc"
      >(ctx);
}
