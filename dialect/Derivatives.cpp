//===- Derivatives.cpp - reverse and forward mode AD ----------------------===//
#include "dialect/Derivatives.h"
#include "dialect/RevOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::rev;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

bool mlir::rev::isActiveScalar(Type type) { return isa<FloatType>(type); }

bool mlir::rev::isActiveMemRef(Type type) {
  auto m = dyn_cast<MemRefType>(type);
  return m && isa<FloatType>(m.getElementType());
}

SmallVector<int> mlir::rev::derivativeArgPositions(TypeRange primalInputs) {
  SmallVector<int> pos(primalInputs.size(), -1);
  int next = primalInputs.size();
  for (auto [i, t] : llvm::enumerate(primalInputs))
    if (isActiveScalar(t))
      pos[i] = next++;
  for (auto [i, t] : llvm::enumerate(primalInputs))
    if (isActiveMemRef(t))
      pos[i] = next++;
  return pos;
}

FunctionType mlir::rev::derivativeFunctionType(FunctionType primal) {
  SmallVector<Type> inputs(primal.getInputs());
  SmallVector<int> pos = derivativeArgPositions(primal.getInputs());
  inputs.resize(inputs.size() + llvm::count_if(pos, [](int p) { return p >= 0; }));
  for (auto [i, p] : llvm::enumerate(pos))
    if (p >= 0)
      inputs[p] = inputs[i];
  return FunctionType::get(primal.getContext(), inputs, FuncOp::stateTypes(inputs));
}

FuncOp mlir::rev::differentiatedFunction(FuncOp derivative) {
  for (StringRef attr : {kGradientOfAttr, kBackwardOfAttr, kTangentOfAttr})
    if (auto of = derivative->getAttrOfType<FlatSymbolRefAttr>(attr))
      return SymbolTable::lookupNearestSymbolFrom<FuncOp>(derivative, of);
  return {};
}

/// A variable version: a block argument or the result of a state-changing op.
static bool isVersion(Value v) {
  Operation *def = v.getDefiningOp();
  return !def || !isRecomputable(def);
}

SmallVector<Value> mlir::rev::capturedActiveVersions(ArrayRef<Region *> regions) {
  llvm::SetVector<Value> used, out;
  for (Region *r : regions)
    if (!r->empty())
      getUsedValuesDefinedAbove(*r, used);
  for (Value v : used)
    walkPureSlice(v, [&](Value x) {
      if (isActiveScalar(x.getType()) && isVersion(x))
        out.insert(x);
    });
  return out.takeVector();
}

Value FloatOps::add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
Value FloatOps::sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
Value FloatOps::mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
Value FloatOps::div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
Value FloatOps::neg(Value x) { return arith::NegFOp::create(b, loc, x); }
Value FloatOps::sin(Value x) { return math::SinOp::create(b, loc, x); }
Value FloatOps::cos(Value x) { return math::CosOp::create(b, loc, x); }

static Value castFloat(OpBuilder &b, Location loc, Value v, Type to) {
  if (v.getType() == to)
    return v;
  if (cast<FloatType>(to).getWidth() > cast<FloatType>(v.getType()).getWidth())
    return arith::ExtFOp::create(b, loc, to, v);
  return arith::TruncFOp::create(b, loc, to, v);
}

Value mlir::rev::chainProduct(OpBuilder &b, Location loc, Value partial, Value bar, Type to) {
  Value p = arith::MulFOp::create(b, loc, partial, castFloat(b, loc, bar, partial.getType()));
  return castFloat(b, loc, p, to);
}

void mlir::rev::cloneCondRegion(OpBuilder &b, Region &src, Region &dst, TypeRange types,
                                IRMapping &mapping) {
  Block *block = new Block();
  dst.push_back(block);
  for (Type t : types)
    block->addArgument(t, src.getLoc());
  for (auto [a, n] : llvm::zip(src.front().getArguments(), block->getArguments()))
    mapping.map(a, n);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(block);
  for (Operation &op : src.front())
    b.clone(op, mapping);
}

//===----------------------------------------------------------------------===//
// AdjointState
//===----------------------------------------------------------------------===//

Value AdjointState::getAdjoint(OpBuilder &b, Value v) {
  if (Value a = adjoints.lookup(v))
    return a;
  auto alloc = AllocOp::create(b, v.getLoc(), v.getType(), TypedAttr());
  alloc.setAdjoint(true);
  Value zero = alloc.getResult();
  adjoints[v] = zero;
  return zero;
}

FailureOr<Value> AdjointState::getShadow(Value memref, Operation *user) {
  if (Value s = shadows.lookup(memref))
    return s;
  InFlightDiagnostic diag = user->emitOpError()
                            << "cannot differentiate: this memref has no shadow (only "
                               "float memref arguments of the function get one)";
  diag.attachNote(memref.getLoc()) << "memref defined here";
  return failure();
}

LogicalResult AdjointState::uncompute(OpBuilder &b, Operation *op) {
  auto invertible = dyn_cast<InvertibleOpInterface>(op);
  if (!invertible)
    return op->emitOpError("cannot differentiate: it has no inverse");
  inv.pushMemo();
  LogicalResult res = invertible.buildInverse(b, inv);
  inv.popMemo();
  return res;
}

/// The derivative rule of a pure op in an expression that `user` (at
/// `userLoc`) differentiates in `mode` ("adjoint" or "tangent"); a located
/// error if it has none.
static FailureOr<PartialDerivativeOpInterface> derivativeRule(Operation *op, Location userLoc,
                                                              StringRef mode) {
  auto iface = dyn_cast<PartialDerivativeOpInterface>(op);
  if (iface && op->getNumResults() == 1 && op->getNumRegions() == 0)
    return iface;
  auto diag = op->emitOpError("has no derivative rule (PartialDerivativeOpInterface)");
  diag.attachNote(userLoc) << "needed by the " << mode << " of this op";
  return diag;
}

LogicalResult AdjointState::accumulate(OpBuilder &b, Value root,
                                       function_ref<Value(OpBuilder &)> seed, Operation *user) {
  if (!isActiveScalar(root.getType()))
    return success();
  Location loc = user->getLoc();
  // Post-order over the float pure ops of the DAG; leaves in first-seen order.
  SmallVector<Operation *> order;
  llvm::SetVector<Value> leaves;
  llvm::SmallPtrSet<Operation *, 16> visited;
  std::function<void(Value)> visit = [&](Value v) {
    if (!isActiveScalar(v.getType()))
      return;
    Operation *def = v.getDefiningOp();
    if (!def || !isRecomputable(def) || isa<memref::LoadOp>(def) ||
        llvm::none_of(def->getOperandTypes(), isActiveScalar)) {
      leaves.insert(v);
      return;
    }
    if (!visited.insert(def).second)
      return;
    for (Value operand : def->getOperands())
      visit(operand);
    order.push_back(def);
  };
  visit(root);

  // Sensitivities d root / d v (the seed is applied at the leaves); `one`
  // stands for the root's own sensitivity and is never materialised.
  Value one = root;
  auto times = [&](Value partial, Value sens, Type to) {
    return sens == one ? castFloat(b, loc, partial, to) : chainProduct(b, loc, partial, sens, to);
  };
  llvm::DenseMap<Value, Value> bars;
  bars[root] = one;
  for (Operation *op : llvm::reverse(order)) {
    Value rbar = bars.lookup(op->getResult(0));
    if (!rbar)
      continue; // only reached through non-differentiable operands
    FailureOr<PartialDerivativeOpInterface> iface = derivativeRule(op, loc, "adjoint");
    if (failed(iface))
      return failure();
    FailureOr<SmallVector<Value>> operands = inv.lookupAll(b, op->getOperands());
    Value result = inv.lookup(b, op->getResult(0));
    if (failed(operands) || !result)
      return failure();
    SmallVector<Value> partials = iface->buildPartials(b, *operands, result);
    for (auto [operand, partial] : llvm::zip(op->getOperands(), partials)) {
      if (!partial || !isActiveScalar(operand.getType()))
        continue;
      Value contrib = times(partial, rbar, operand.getType());
      Value &acc = bars[operand];
      acc = acc ? arith::AddFOp::create(b, loc, acc, contrib).getResult() : contrib;
    }
  }
  for (Value leaf : leaves) {
    Value sens = bars.lookup(leaf);
    if (!sens)
      continue;
    auto load = leaf.getDefiningOp<memref::LoadOp>();
    if (!load && !isVersion(leaf))
      continue; // a constant (or a value of integers only)
    Value bar = sens == one ? castFloat(b, loc, seed(b), leaf.getType())
                            : chainProduct(b, loc, sens, seed(b), leaf.getType());
    if (load) {
      FailureOr<Value> shadow = getShadow(load.getMemRef(), user);
      FailureOr<SmallVector<Value>> idx = inv.lookupAll(b, load.getIndices());
      if (failed(shadow) || failed(idx))
        return failure();
      AddAtOp::create(b, loc, *shadow, *idx, bar);
    } else {
      Value a = getAdjoint(b, leaf);
      setAdjoint(leaf, AddOp::create(b, loc, a, bar).getResult());
    }
  }
  return success();
}

FailureOr<SmallVector<Value>> AdjointState::adjointBlock(OpBuilder &b, Block &src,
                                                         ValueRange finals,
                                                         ValueRange finalAdjoints) {
  Operation *terminator = src.getTerminator();
  unsigned k = 0;
  for (auto [orig, fin] : llvm::zip(terminator->getOperands(), finals)) {
    inv.bind(orig, fin);
    if (isActiveScalar(orig.getType()))
      setAdjoint(orig, finalAdjoints[k++]);
  }
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(src.without_terminator()))) {
    if (isRecomputable(&op))
      continue;
    auto ad = dyn_cast<AdjointOpInterface>(&op);
    if (!ad)
      return op.emitOpError("cannot differentiate: the op has no adjoint rule");
    if (failed(ad.buildAdjoint(b, *this)))
      return failure();
  }
  SmallVector<Value> threaded;
  for (BlockArgument a : getThreadedArgs(src))
    if (!isa<MemRefType>(a.getType()))
      threaded.push_back(a);
  inv.pushMemo();
  FailureOr<SmallVector<Value>> out = inv.lookupAll(b, threaded);
  inv.popMemo();
  if (failed(out))
    return failure();
  for (Value a : threaded)
    if (isActiveScalar(a.getType()))
      out->push_back(getAdjoint(b, a));
  return out;
}

LogicalResult AdjointState::adjointRegionInto(OpBuilder &b, Location loc, Region &src,
                                              Region &dst, unsigned numLeading,
                                              ArrayRef<Value> captured) {
  Block &srcBlock = src.front();
  Block *block = new Block();
  dst.push_back(block);
  for (BlockArgument a : srcBlock.getArguments().take_front(numLeading))
    inv.bind(a, block->addArgument(a.getType(), a.getLoc()));
  SmallVector<Value> finals, finalAdjoints;
  Operation *terminator = srcBlock.getTerminator();
  for (Value v : terminator->getOperands())
    finals.push_back(block->addArgument(v.getType(), v.getLoc()));
  for (Value v : terminator->getOperands())
    if (isActiveScalar(v.getType()))
      finalAdjoints.push_back(block->addArgument(v.getType(), v.getLoc()));
  // Inside the region the captured versions' adjoints are block arguments.
  SmallVector<Value> saved;
  for (Value c : captured) {
    saved.push_back(adjoints.lookup(c));
    setAdjoint(c, block->addArgument(c.getType(), c.getLoc()));
  }
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(block);
  FailureOr<SmallVector<Value>> out = adjointBlock(b, srcBlock, finals, finalAdjoints);
  if (failed(out))
    return failure();
  for (Value c : captured)
    out->push_back(getAdjoint(b, c));
  YieldOp::create(b, loc, *out);
  for (auto [c, s] : llvm::zip(captured, saved))
    setAdjoint(c, s);
  return success();
}

//===----------------------------------------------------------------------===//
// TangentState
//===----------------------------------------------------------------------===//

Value TangentState::getTangentVar(Value v) { return tangents.lookup(v); }

FailureOr<Value> TangentState::tangentOf(OpBuilder &b, Value v, Operation *user) {
  if (!isActiveScalar(v.getType()))
    return Value();
  if (auto it = cache.find(v); it != cache.end())
    return it->second;
  Location loc = user->getLoc();
  Value result;
  Operation *def = v.getDefiningOp();
  if (isVersion(v)) {
    result = tangents.lookup(v);
    if (!result) {
      emitError(v.getLoc()) << "internal error: no tangent for this variable version";
      return failure();
    }
  } else if (auto load = dyn_cast<memref::LoadOp>(def)) {
    Value shadow = shadows.lookup(load.getMemRef());
    if (!shadow) {
      auto diag = user->emitOpError("cannot differentiate: a memref read here has no "
                                    "tangent (only float memref arguments get one)");
      return diag;
    }
    SmallVector<Value> idx;
    for (Value i : load.getIndices())
      idx.push_back(map.lookup(i));
    result = memref::LoadOp::create(b, loc, shadow, idx);
  } else if (llvm::any_of(def->getOperandTypes(), isActiveScalar)) {
    FailureOr<PartialDerivativeOpInterface> iface = derivativeRule(def, loc, "tangent");
    if (failed(iface))
      return failure();
    SmallVector<Value> operands;
    for (Value o : def->getOperands())
      operands.push_back(map.lookup(o));
    SmallVector<Value> partials = iface->buildPartials(b, operands, map.lookup(v));
    for (auto [o, partial] : llvm::zip(def->getOperands(), partials)) {
      if (!partial)
        continue;
      FailureOr<Value> dot = tangentOf(b, o, user);
      if (failed(dot))
        return failure();
      if (!*dot)
        continue;
      Value term = chainProduct(b, loc, partial, *dot, v.getType());
      result = result ? arith::AddFOp::create(b, loc, result, term).getResult() : term;
    }
  }
  cache[v] = result;
  return result;
}

FailureOr<SmallVector<Value>> TangentState::tangentBlock(OpBuilder &b, Block &src) {
  for (Operation &op : src.without_terminator()) {
    clearCache();
    if (isRecomputable(&op)) {
      b.clone(op, map);
      continue;
    }
    auto ad = dyn_cast<AdjointOpInterface>(&op);
    if (!ad)
      return op.emitOpError("cannot differentiate: the op has no tangent rule");
    if (failed(ad.buildTangent(b, *this)))
      return failure();
  }
  clearCache();
  SmallVector<Value> out;
  Operation *terminator = src.getTerminator();
  for (Value v : terminator->getOperands())
    out.push_back(map.lookup(v));
  for (Value v : terminator->getOperands())
    if (isActiveScalar(v.getType()))
      out.push_back(tangents.lookup(v));
  return out;
}

LogicalResult TangentState::tangentRegionInto(OpBuilder &b, Location loc, Region &src,
                                              Region &dst, unsigned numLeading) {
  Block &srcBlock = src.front();
  Block *block = new Block();
  dst.push_back(block);
  for (BlockArgument a : srcBlock.getArguments())
    map.map(a, block->addArgument(a.getType(), a.getLoc()));
  for (BlockArgument a : srcBlock.getArguments().drop_front(numLeading))
    if (isActiveScalar(a.getType()))
      setTangent(a, block->addArgument(a.getType(), a.getLoc()));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(block);
  FailureOr<SmallVector<Value>> out = tangentBlock(b, srcBlock);
  if (failed(out))
    return failure();
  YieldOp::create(b, loc, *out);
  return success();
}

//===----------------------------------------------------------------------===//
// Functions
//===----------------------------------------------------------------------===//

/// Creates `@name` with the derivative layout of `func`, right after it.
static FuncOp createDerivativeFunc(FuncOp func, StringRef name, StringRef attr) {
  return createMarkedFunction(func, name, derivativeFunctionType(func.getFunctionType()), attr);
}

FailureOr<FuncOp> mlir::rev::buildBackwardFunction(FuncOp func, StringRef name) {
  FuncOp bwd = createDerivativeFunc(func, name, kBackwardOfAttr);
  Block &src = func.getBody().front();
  Block *dst = &bwd.getBody().front();
  AdjointState st;
  SmallVector<Value> finals, finalAdjoints;
  SmallVector<int> pos = derivativeArgPositions(src.getArgumentTypes());
  for (auto [a, p] : llvm::zip(src.getArguments(), pos)) {
    Value na = dst->getArgument(a.getArgNumber());
    bool memref = isa<MemRefType>(a.getType());
    if (memref)
      st.inv.bind(a, na);
    else
      finals.push_back(na);
    if (p < 0)
      continue;
    if (memref)
      st.shadows[a] = dst->getArgument(p);
    else
      finalAdjoints.push_back(dst->getArgument(p));
  }
  OpBuilder b = OpBuilder::atBlockBegin(dst);
  FailureOr<SmallVector<Value>> out = st.adjointBlock(b, src, finals, finalAdjoints);
  if (failed(out)) {
    bwd.erase();
    return failure();
  }
  ReturnOp::create(b, func.getLoc(), *out);
  return bwd;
}

FailureOr<FuncOp> mlir::rev::buildGradientFunction(FuncOp func, FuncOp bwd, StringRef name) {
  FuncOp grad = createDerivativeFunc(func, name, kGradientOfAttr);
  Block *block = &grad.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(block);
  Location loc = func.getLoc();
  unsigned n = func.getNumArguments();
  auto args = block->getArguments();
  auto fwd = CallOp::create(b, loc, func.getResultTypes(), func.getSymName(),
                            ValueRange(args.take_front(n)));
  SmallVector<Value> operands;
  unsigned r = 0;
  for (Value a : args.take_front(n))
    operands.push_back(isa<MemRefType>(a.getType()) ? a : fwd.getResult(r++));
  llvm::append_range(operands, args.drop_front(n));
  auto back = CallOp::create(b, loc, bwd.getResultTypes(), bwd.getSymName(), operands);
  ReturnOp::create(b, loc, back.getResults());
  return grad;
}

FailureOr<FuncOp> mlir::rev::buildTangentFunction(FuncOp func, StringRef name) {
  FuncOp fwd = createDerivativeFunc(func, name, kTangentOfAttr);
  Block &src = func.getBody().front();
  Block *dst = &fwd.getBody().front();
  TangentState st;
  SmallVector<int> pos = derivativeArgPositions(src.getArgumentTypes());
  for (auto [a, p] : llvm::zip(src.getArguments(), pos)) {
    st.map.map(a, dst->getArgument(a.getArgNumber()));
    if (p < 0)
      continue;
    if (isa<MemRefType>(a.getType()))
      st.shadows[a] = dst->getArgument(p);
    else
      st.setTangent(a, dst->getArgument(p));
  }
  OpBuilder b = OpBuilder::atBlockBegin(dst);
  FailureOr<SmallVector<Value>> out = st.tangentBlock(b, src);
  if (failed(out)) {
    fwd.erase();
    return failure();
  }
  ReturnOp::create(b, func.getLoc(), *out);
  return fwd;
}

FailureOr<FuncOp> mlir::rev::getOrCreateBackwardFunction(FuncOp func) {
  if (FuncOp found = findMarkedFunction(func, kBackwardOfAttr))
    return found;
  return buildBackwardFunction(func, uniqueSymbolName(func, func.getSymName() + "_bwd"));
}

FailureOr<FuncOp> mlir::rev::getOrCreateTangentFunction(FuncOp func) {
  if (FuncOp found = findMarkedFunction(func, kTangentOfAttr))
    return found;
  return buildTangentFunction(func, uniqueSymbolName(func, func.getSymName() + "_fwd"));
}
