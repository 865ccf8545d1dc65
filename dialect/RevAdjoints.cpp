//===- RevAdjoints.cpp - AdjointOpInterface of the rev ops ----------------===//
//
// Each op's backward step (uncompute through the inverse, then the adjoint
// update, DESIGN.md's AD section) and its tangent step. Adjoint and tangent
// updates are rev ops, so derivative programs stay reversible.
//
// A shadow element that seeds adjoint updates (Abar[i] for A[i] += d) is
// loaded afresh right before each update (AdjointState::accumulate builds the
// seed per leaf), so no update uses a load taken before a write of the same
// memref, and no ancilla is needed.
//
//===----------------------------------------------------------------------===//
#include "dialect/Derivatives.h"
#include "dialect/RevOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
/// Opens a recomputation scope of the backward program's state.
struct Memo {
  AdjointState &st;
  explicit Memo(AdjointState &s) : st(s) { st.inv.pushMemo(); }
  ~Memo() { st.inv.popMemo(); }
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

//===----------------------------------------------------------------------===//
// Scalar updates
//===----------------------------------------------------------------------===//

namespace {
enum class Kind { Add, Sub, Mul, Div };

template <typename OpT>
LogicalResult adjointUpdate(OpT op, OpBuilder &b, AdjointState &st, Kind kind) {
  if (!isActiveScalar(op.getType()))
    return st.uncompute(b, op);
  Location loc = op.getLoc();
  FloatOps f{b, loc};
  Value ybar = st.getAdjoint(b, op.getResult());
  if (failed(st.uncompute(b, op)))
    return failure();
  Memo memo(st);
  Value seed = ybar;
  if (kind == Kind::Sub)
    seed = f.neg(ybar);
  Value y0, d;
  if (kind == Kind::Mul || kind == Kind::Div) {
    y0 = st.lookup(b, op.getTarget());
    d = st.lookup(b, op.getDelta());
    if (!y0 || !d)
      return failure();
    seed = f.mul(ybar, y0);
    if (kind == Kind::Div) // d(y/d)/dd = -y/d^2
      seed = f.neg(f.div(seed, f.mul(d, d)));
  }
  if (failed(st.accumulate(b, op.getDelta(), [&](OpBuilder &) { return seed; }, op)))
    return failure();
  if (kind == Kind::Mul)
    ybar = MulOp::create(b, loc, ybar, d).getResult();
  else if (kind == Kind::Div)
    ybar = DivOp::create(b, loc, ybar, d).getResult();
  st.setAdjoint(op.getTarget(), ybar);
  return success();
}

template <typename OpT>
LogicalResult tangentUpdate(OpT op, OpBuilder &b, TangentState &st, Kind kind) {
  if (isActiveScalar(op.getType())) {
    Location loc = op.getLoc();
    FloatOps f{b, loc};
    Value ydot = st.getTangentVar(op.getTarget());
    Value y0 = st.map.lookup(op.getTarget()), d = st.map.lookup(op.getDelta());
    if (kind == Kind::Mul)
      ydot = MulOp::create(b, loc, ydot, d).getResult();
    else if (kind == Kind::Div)
      ydot = DivOp::create(b, loc, ydot, d).getResult();
    FailureOr<Value> ddot = st.tangentOf(b, op.getDelta(), op);
    if (failed(ddot))
      return failure();
    if (*ddot) {
      switch (kind) {
      case Kind::Add:
        ydot = AddOp::create(b, loc, ydot, *ddot).getResult();
        break;
      case Kind::Sub:
        ydot = SubOp::create(b, loc, ydot, *ddot).getResult();
        break;
      case Kind::Mul: // (y d)' = y' d + y d'
        ydot = AddOp::create(b, loc, ydot, f.mul(y0, *ddot)).getResult();
        break;
      case Kind::Div: // (y / d)' = y' / d - y d' / d^2
        ydot = SubOp::create(b, loc, ydot, f.div(f.mul(y0, *ddot), f.mul(d, d))).getResult();
        break;
      }
    }
    st.setTangent(op.getResult(), ydot);
  }
  b.clone(*op, st.map);
  return success();
}
} // namespace

/// Both rules of OP through shared templates, `KIND` selecting the update.
#define REV_AD_VIA(OP, ADJOINT, TANGENT, KIND)                                 \
  LogicalResult OP::buildAdjoint(OpBuilder &b, AdjointState &st) {             \
    return ADJOINT(*this, b, st, KIND);                                        \
  }                                                                            \
  LogicalResult OP::buildTangent(OpBuilder &b, TangentState &st) {             \
    return TANGENT(*this, b, st, KIND);                                        \
  }
/// Integer-only ops are inactive: uncomputed backwards, copied forwards.
#define REV_INACTIVE_AD(OP)                                                    \
  LogicalResult OP::buildAdjoint(OpBuilder &b, AdjointState &st) {             \
    return st.uncompute(b, *this);                                             \
  }                                                                            \
  LogicalResult OP::buildTangent(OpBuilder &b, TangentState &st) {             \
    b.clone(**this, st.map);                                                   \
    return success();                                                          \
  }
REV_AD_VIA(AddOp, adjointUpdate, tangentUpdate, Kind::Add)
REV_AD_VIA(SubOp, adjointUpdate, tangentUpdate, Kind::Sub)
REV_AD_VIA(MulOp, adjointUpdate, tangentUpdate, Kind::Mul)
REV_AD_VIA(DivOp, adjointUpdate, tangentUpdate, Kind::Div)
REV_INACTIVE_AD(XorOp)

LogicalResult NegOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  if (!isActiveScalar(getType()))
    return st.uncompute(b, *this);
  Value ybar = st.getAdjoint(b, getResult());
  if (failed(st.uncompute(b, *this)))
    return failure();
  st.setAdjoint(getTarget(), NegOp::create(b, getLoc(), ybar).getResult());
  return success();
}
LogicalResult NegOp::buildTangent(OpBuilder &b, TangentState &st) {
  if (isActiveScalar(getType()))
    st.setTangent(getResult(),
                  NegOp::create(b, getLoc(), st.getTangentVar(getTarget())).getResult());
  b.clone(**this, st.map);
  return success();
}

LogicalResult SwapOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  if (!isActiveScalar(getLhs().getType()))
    return st.uncompute(b, *this);
  Value abar = st.getAdjoint(b, getLhsResult()), bbar = st.getAdjoint(b, getRhsResult());
  if (failed(st.uncompute(b, *this)))
    return failure();
  st.setAdjoint(getLhs(), bbar);
  st.setAdjoint(getRhs(), abar);
  return success();
}
LogicalResult SwapOp::buildTangent(OpBuilder &b, TangentState &st) {
  if (isActiveScalar(getLhs().getType())) {
    Value adot = st.getTangentVar(getLhs()), bdot = st.getTangentVar(getRhs());
    st.setTangent(getLhsResult(), bdot);
    st.setTangent(getRhsResult(), adot);
  }
  b.clone(**this, st.map);
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
  Memo memo(st);
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

LogicalResult RotOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  return adjointRot<RotOp, IRotOp>(*this, b, st, false);
}
LogicalResult IRotOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  return adjointRot<IRotOp, RotOp>(*this, b, st, true);
}
LogicalResult RotOp::buildTangent(OpBuilder &b, TangentState &st) {
  return tangentRot(*this, b, st, false);
}
LogicalResult IRotOp::buildTangent(OpBuilder &b, TangentState &st) {
  return tangentRot(*this, b, st, true);
}

//===----------------------------------------------------------------------===//
// In-place element updates
//===----------------------------------------------------------------------===//

namespace {
template <typename OpT>
LogicalResult adjointUpdateAt(OpT op, OpBuilder &b, AdjointState &st, Kind kind) {
  if (!isActiveMemRef(op.getRef().getType()))
    return st.uncompute(b, op);
  Location loc = op.getLoc();
  FloatOps f{b, loc};
  FailureOr<Value> shadow = st.getShadow(op.getRef(), op);
  if (failed(shadow))
    return failure();
  if (failed(st.uncompute(b, op)))
    return failure();
  Memo memo(st);
  FailureOr<SmallVector<Value>> idx = st.inv.lookupAll(b, op.getIndices());
  Value ref = st.lookup(b, op.getRef());
  if (failed(idx) || !ref)
    return failure();
  // The seed: +-Abar[i], or Abar[i] * y (mul), -Abar[i] * y / d^2 (div).
  Value factor, d;
  if (kind == Kind::Mul || kind == Kind::Div) {
    factor = memref::LoadOp::create(b, loc, ref, *idx); // the recovered A[i]
    d = st.lookup(b, op.getDelta());
    if (!d)
      return failure();
    if (kind == Kind::Div)
      factor = f.neg(f.div(factor, f.mul(d, d)));
  }
  auto seed = [&](OpBuilder &) -> Value {
    Value s = loadShadow(b, loc, *shadow, *idx);
    if (kind == Kind::Sub)
      return f.neg(s);
    return factor ? f.mul(s, factor) : s;
  };
  if (failed(st.accumulate(b, op.getDelta(), seed, op)))
    return failure();
  if (kind == Kind::Mul)
    MulAtOp::create(b, loc, *shadow, *idx, d);
  else if (kind == Kind::Div)
    DivAtOp::create(b, loc, *shadow, *idx, d);
  return success();
}

FailureOr<Value> tangentShadow(TangentState &st, Value memref, Operation *op) {
  if (Value s = st.shadows.lookup(memref))
    return s;
  return op->emitOpError("cannot differentiate: this memref has no tangent (only float "
                         "memref arguments of the function get one)");
}

SmallVector<Value> mapAll(TangentState &st, ValueRange values) {
  return llvm::map_to_vector(values, [&](Value v) { return st.map.lookup(v); });
}

template <typename OpT>
LogicalResult tangentUpdateAt(OpT op, OpBuilder &b, TangentState &st, Kind kind) {
  if (isActiveMemRef(op.getRef().getType())) {
    Location loc = op.getLoc();
    FloatOps f{b, loc};
    FailureOr<Value> shadow = tangentShadow(st, op.getRef(), op);
    if (failed(shadow))
      return failure();
    SmallVector<Value> idx = mapAll(st, op.getIndices());
    Value d = st.map.lookup(op.getDelta());
    Value y0;
    if (kind == Kind::Mul || kind == Kind::Div) {
      y0 = memref::LoadOp::create(b, loc, st.map.lookup(op.getRef()), idx);
      if (kind == Kind::Mul)
        MulAtOp::create(b, loc, *shadow, idx, d);
      else
        DivAtOp::create(b, loc, *shadow, idx, d);
      st.clearCache();
    }
    FailureOr<Value> ddot = st.tangentOf(b, op.getDelta(), op);
    if (failed(ddot))
      return failure();
    if (*ddot) {
      switch (kind) {
      case Kind::Add:
        AddAtOp::create(b, loc, *shadow, idx, *ddot);
        break;
      case Kind::Sub:
        SubAtOp::create(b, loc, *shadow, idx, *ddot);
        break;
      case Kind::Mul:
        AddAtOp::create(b, loc, *shadow, idx, f.mul(y0, *ddot));
        break;
      case Kind::Div:
        SubAtOp::create(b, loc, *shadow, idx, f.div(f.mul(y0, *ddot), f.mul(d, d)));
        break;
      }
    }
    st.clearCache();
  }
  b.clone(*op, st.map);
  return success();
}
} // namespace

REV_AD_VIA(AddAtOp, adjointUpdateAt, tangentUpdateAt, Kind::Add)
REV_AD_VIA(SubAtOp, adjointUpdateAt, tangentUpdateAt, Kind::Sub)
REV_AD_VIA(MulAtOp, adjointUpdateAt, tangentUpdateAt, Kind::Mul)
REV_AD_VIA(DivAtOp, adjointUpdateAt, tangentUpdateAt, Kind::Div)
REV_INACTIVE_AD(XorAtOp)

LogicalResult NegAtOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  if (failed(st.uncompute(b, *this)))
    return failure();
  if (!isActiveMemRef(getRef().getType()))
    return success();
  FailureOr<Value> shadow = st.getShadow(getRef(), *this);
  if (failed(shadow))
    return failure();
  Memo memo(st);
  FailureOr<SmallVector<Value>> idx = st.inv.lookupAll(b, getIndices());
  if (failed(idx))
    return failure();
  NegAtOp::create(b, getLoc(), *shadow, *idx);
  return success();
}
LogicalResult NegAtOp::buildTangent(OpBuilder &b, TangentState &st) {
  if (isActiveMemRef(getRef().getType())) {
    FailureOr<Value> shadow = tangentShadow(st, getRef(), *this);
    if (failed(shadow))
      return failure();
    NegAtOp::create(b, getLoc(), *shadow, mapAll(st, getIndices()));
  }
  b.clone(**this, st.map);
  return success();
}

LogicalResult SwapAtOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  if (failed(st.uncompute(b, *this)))
    return failure();
  if (!isActiveMemRef(getLhs().getType()))
    return success();
  FailureOr<Value> l = st.getShadow(getLhs(), *this), r = st.getShadow(getRhs(), *this);
  if (failed(l) || failed(r))
    return failure();
  Memo memo(st);
  FailureOr<SmallVector<Value>> li = st.inv.lookupAll(b, getLhsIndices());
  FailureOr<SmallVector<Value>> ri = st.inv.lookupAll(b, getRhsIndices());
  if (failed(li) || failed(ri))
    return failure();
  SwapAtOp::create(b, getLoc(), *l, *li, *r, *ri);
  return success();
}
LogicalResult SwapAtOp::buildTangent(OpBuilder &b, TangentState &st) {
  if (isActiveMemRef(getLhs().getType())) {
    FailureOr<Value> l = tangentShadow(st, getLhs(), *this), r = tangentShadow(st, getRhs(), *this);
    if (failed(l) || failed(r))
      return failure();
    SwapAtOp::create(b, getLoc(), *l, mapAll(st, getLhsIndices()), *r,
                     mapAll(st, getRhsIndices()));
  }
  b.clone(**this, st.map);
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
  Memo memo(st);
  FailureOr<SmallVector<Value>> li = st.inv.lookupAll(b, op.getLhsIndices());
  FailureOr<SmallVector<Value>> ri = st.inv.lookupAll(b, op.getRhsIndices());
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

LogicalResult RotAtOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  return adjointRotAt<RotAtOp, IRotAtOp>(*this, b, st, false);
}
LogicalResult IRotAtOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  return adjointRotAt<IRotAtOp, RotAtOp>(*this, b, st, true);
}
LogicalResult RotAtOp::buildTangent(OpBuilder &b, TangentState &st) {
  return tangentRotAt(*this, b, st, false);
}
LogicalResult IRotAtOp::buildTangent(OpBuilder &b, TangentState &st) {
  return tangentRotAt(*this, b, st, true);
}

//===----------------------------------------------------------------------===//
// Ancillas
//===----------------------------------------------------------------------===//

LogicalResult AllocOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  if (failed(st.uncompute(b, *this)))
    return failure();
  if (isActiveScalar(getType())) {
    // The adjoint of a constant: not needed, dropped.
    DiscardOp::create(b, getLoc(), st.getAdjoint(b, getResult()));
    st.eraseAdjoint(getResult());
  }
  return success();
}
LogicalResult AllocOp::buildTangent(OpBuilder &b, TangentState &st) {
  b.clone(**this, st.map);
  if (isActiveScalar(getType())) {
    // The tangent of an adjoint ancilla is released like it (discarded).
    auto alloc = AllocOp::create(b, getLoc(), getType(), TypedAttr());
    alloc.setAdjoint(getAdjoint());
    st.setTangent(getResult(), alloc.getResult());
  }
  return success();
}

LogicalResult FreeOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  if (failed(st.uncompute(b, *this)))
    return failure();
  if (isActiveScalar(getTarget().getType())) {
    auto alloc = AllocOp::create(b, getLoc(), getTarget().getType(), TypedAttr());
    alloc.setAdjoint(true);
    st.setAdjoint(getTarget(), alloc.getResult());
  }
  return success();
}
LogicalResult FreeOp::buildTangent(OpBuilder &b, TangentState &st) {
  // The ancilla is back to a constant, so its tangent is back to zero.
  if (isActiveScalar(getTarget().getType()))
    FreeOp::create(b, getLoc(), st.getTangentVar(getTarget()), TypedAttr());
  b.clone(**this, st.map);
  return success();
}

static constexpr const char *kDiscardAdvice =
    "rev.discard dropped an ancilla's adjoint, which is not recoverable: allocate "
    "and release the ancilla inside a rev.routine (whose adjoint uncomputes it) to "
    "differentiate or invert this backward function";

LogicalResult DiscardOp::verify() {
  auto func = (*this)->getParentOfType<FuncOp>();
  if (!func || !(func->hasAttr(kBackwardOfAttr) || func->hasAttr(kTangentOfAttr) ||
                 func->hasAttr(kInverseOfAttr)))
    return emitOpError("may only appear in generated derivative functions (rev.backward_of, "
                       "rev.tangent_of or their inverses): it drops information");
  return success();
}
SmallVector<OpOperand *> DiscardOp::getConsumedOperands() { return {&getTargetMutable()}; }
LogicalResult DiscardOp::buildInverse(OpBuilder &b, InversionState &st) {
  if (!st.allowDiscard)
    return emitOpError("cannot be inverted: ") << kDiscardAdvice;
  auto alloc = AllocOp::create(b, getLoc(), getTarget().getType(), TypedAttr());
  alloc.setAdjoint(true);
  st.bind(getTarget(), alloc.getResult());
  return success();
}
LogicalResult DiscardOp::buildAdjoint(OpBuilder &, AdjointState &) {
  return emitOpError("cannot be differentiated: ") << kDiscardAdvice;
}
LogicalResult DiscardOp::buildTangent(OpBuilder &b, TangentState &st) {
  DiscardOp::create(b, getLoc(), st.getTangentVar(getTarget()));
  b.clone(**this, st.map);
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
    Memo memo(st);
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
    st.inv.bind(v, call.getResult(r++));
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

LogicalResult CallOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  return adjointCall(*this, b, st, false);
}
LogicalResult UncallOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  return adjointCall(*this, b, st, true);
}
LogicalResult CallOp::buildTangent(OpBuilder &b, TangentState &st) {
  return tangentCall(*this, b, st, false);
}
LogicalResult UncallOp::buildTangent(OpBuilder &b, TangentState &st) {
  return tangentCall(*this, b, st, true);
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
    Memo memo(st);
    FailureOr<SmallVector<Value>> finals = st.inv.lookupAll(b, results);
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
    st.inv.bind(v, results[i]);
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

LogicalResult ForOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  SmallVector<Value> captured = capturedActiveVersions({&getBody()});
  Value lb, ub, step;
  {
    Memo memo(st);
    lb = st.lookup(b, getLowerBound());
    ub = st.lookup(b, getUpperBound());
    step = st.lookup(b, getStep());
    if (!lb || !ub || !step)
      return failure();
  }
  FailureOr<SmallVector<Value>> inits = backwardInits(b, st, getResults(), captured);
  if (failed(inits))
    return failure();
  auto loop = ForOp::create(b, getLoc(), lb, ub, step, *inits, !getReverse());
  loop.getBody().getBlocks().clear();
  if (failed(st.adjointRegionInto(b, getLoc(), getBody(), loop.getBody(), 1, captured)))
    return failure();
  bindBackwardResults(st, getInits(), loop.getResults(), captured);
  return success();
}
LogicalResult ForOp::buildTangent(OpBuilder &b, TangentState &st) {
  auto loop = ForOp::create(b, getLoc(), st.map.lookup(getLowerBound()),
                            st.map.lookup(getUpperBound()), st.map.lookup(getStep()),
                            tangentInits(st, getInits()), getReverse());
  loop.getBody().getBlocks().clear();
  if (failed(st.tangentRegionInto(b, getLoc(), getBody(), loop.getBody(), 1)))
    return failure();
  bindTangentResults(st, getResults(), loop.getResults());
  return success();
}

LogicalResult IfOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  SmallVector<Value> captured = capturedActiveVersions({&getThenRegion(), &getElseRegion()});
  Region &newPre = hasPost() ? getPost() : getPre();
  IRMapping preMap, postMap;
  {
    Memo memo(st);
    if (failed(st.inv.lookupCaptures(b, newPre, preMap)) ||
        (hasPost() && failed(st.inv.lookupCaptures(b, getPre(), postMap))))
      return failure();
  }
  FailureOr<SmallVector<Value>> inits = backwardInits(b, st, getResults(), captured);
  if (failed(inits))
    return failure();
  auto op = IfOp::create(b, getLoc(), *inits);
  TypeRange types = ValueRange(*inits).getTypes();
  cloneCondRegion(b, newPre, op.getPre(), types, preMap);
  if (hasPost())
    cloneCondRegion(b, getPre(), op.getPost(), types, postMap);
  if (failed(st.adjointRegionInto(b, getLoc(), getThenRegion(), op.getThenRegion(), 0,
                                  captured)))
    return failure();
  if (hasElse() && failed(st.adjointRegionInto(b, getLoc(), getElseRegion(),
                                               op.getElseRegion(), 0, captured)))
    return failure();
  bindBackwardResults(st, getInits(), op.getResults(), captured);
  return success();
}
LogicalResult IfOp::buildTangent(OpBuilder &b, TangentState &st) {
  SmallVector<Value> inits = tangentInits(st, getInits());
  auto op = IfOp::create(b, getLoc(), inits);
  TypeRange types = ValueRange(inits).getTypes();
  IRMapping preMap = st.map, postMap = st.map;
  cloneCondRegion(b, getPre(), op.getPre(), types, preMap);
  if (hasPost())
    cloneCondRegion(b, getPost(), op.getPost(), types, postMap);
  if (failed(st.tangentRegionInto(b, getLoc(), getThenRegion(), op.getThenRegion(), 0)))
    return failure();
  if (hasElse() &&
      failed(st.tangentRegionInto(b, getLoc(), getElseRegion(), op.getElseRegion(), 0)))
    return failure();
  bindTangentResults(st, getResults(), op.getResults());
  return success();
}

LogicalResult WhileOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  SmallVector<Value> captured = capturedActiveVersions({&getBody()});
  IRMapping preMap, postMap;
  {
    Memo memo(st);
    if (failed(st.inv.lookupCaptures(b, getPost(), preMap)) ||
        failed(st.inv.lookupCaptures(b, getPre(), postMap)))
      return failure();
  }
  FailureOr<SmallVector<Value>> inits = backwardInits(b, st, getResults(), captured);
  if (failed(inits))
    return failure();
  auto op = WhileOp::create(b, getLoc(), *inits);
  TypeRange types = ValueRange(*inits).getTypes();
  cloneCondRegion(b, getPost(), op.getPre(), types, preMap);
  cloneCondRegion(b, getPre(), op.getPost(), types, postMap);
  if (failed(st.adjointRegionInto(b, getLoc(), getBody(), op.getBody(), 0, captured)))
    return failure();
  bindBackwardResults(st, getInits(), op.getResults(), captured);
  return success();
}
LogicalResult WhileOp::buildTangent(OpBuilder &b, TangentState &st) {
  SmallVector<Value> inits = tangentInits(st, getInits());
  auto op = WhileOp::create(b, getLoc(), inits);
  TypeRange types = ValueRange(inits).getTypes();
  IRMapping preMap = st.map, postMap = st.map;
  cloneCondRegion(b, getPre(), op.getPre(), types, preMap);
  cloneCondRegion(b, getPost(), op.getPost(), types, postMap);
  if (failed(st.tangentRegionInto(b, getLoc(), getBody(), op.getBody(), 0)))
    return failure();
  bindTangentResults(st, getResults(), op.getResults());
  return success();
}

/// The backward step of (compute C; body B; uncompute C^-1) is
/// bwd(C^-1); bwd(B); bwd(C), and bwd(C^-1) is the inverse of bwd(C) (the
/// adjoint of an inverse is the inverse of the adjoint). So it is again a
/// routine: compute = inverse of bwd(C), body = bwd(B), uncompute = bwd(C).
/// The ancilla adjoints that bwd(C) discards are created as zeros by its
/// inverse, which is exact: C^-1 frees the ancillas, so their adjoints are
/// zero there.
LogicalResult RoutineOp::buildAdjoint(OpBuilder &b, AdjointState &st) {
  SmallVector<Value> captured = capturedActiveVersions({&getCompute(), &getBody()});
  FailureOr<SmallVector<Value>> inits = backwardInits(b, st, getResults(), captured);
  if (failed(inits))
    return failure();
  auto op = RoutineOp::create(b, getLoc(), *inits);
  if (failed(st.adjointRegionInto(b, getLoc(), getBody(), op.getBody(), 0, captured)))
    return failure();
  // bwd(C) in a scratch routine, then inverted into the compute region.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op);
  auto scratch = RoutineOp::create(b, getLoc(), *inits);
  LogicalResult res =
      st.adjointRegionInto(b, getLoc(), getCompute(), scratch.getCompute(), 0, captured);
  if (succeeded(res)) {
    InversionState inv(&scratch.getCompute());
    inv.allowDiscard = true;
    res = invertRegionInto(b, inv, getLoc(), scratch.getCompute(), op.getCompute(), 0);
  }
  scratch.erase();
  if (failed(res))
    return failure();
  bindBackwardResults(st, getInits(), op.getResults(), captured);
  return success();
}
LogicalResult RoutineOp::buildTangent(OpBuilder &b, TangentState &st) {
  auto op = RoutineOp::create(b, getLoc(), tangentInits(st, getInits()));
  if (failed(st.tangentRegionInto(b, getLoc(), getCompute(), op.getCompute(), 0)) ||
      failed(st.tangentRegionInto(b, getLoc(), getBody(), op.getBody(), 0)))
    return failure();
  bindTangentResults(st, getResults(), op.getResults());
  return success();
}
