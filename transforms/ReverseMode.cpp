//===- ReverseMode.cpp - the backward sweep by reverse computing ----------===//
#include "transforms/ReverseMode.h"
#include "transforms/DerivativeInterfaces.h"
#include "transforms/MarkedFunctions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::rev;

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
  recovered.pushRecomputeScope();
  LogicalResult res = uncomputeInScope(b, op);
  recovered.popRecomputeScope();
  return res;
}

LogicalResult AdjointState::uncomputeInScope(OpBuilder &b, Operation *op) {
  auto invertible = dyn_cast<InvertibleOpInterface>(op);
  if (!invertible)
    return op->emitOpError("cannot differentiate: it has no inverse");
  // The ops the inverse is built from are recoveries (kRecoveryAttr).
  return buildInverseOf(invertible, b, recovered, kRecoveryAttr);
}

LogicalResult AdjointState::accumulate(OpBuilder &b, Value root,
                                       function_ref<Value(OpBuilder &)> seed, Operation *user) {
  if (!isActiveScalar(root.getType()))
    return success();
  Location loc = user->getLoc();
  Operation *opaque = nullptr; // an op computing a float from inputs no rule sees
  // Whether the reverse sweep ends at `v` (a variable version, a load, a
  // value computed from integers only).
  auto isLeaf = [](Value v) {
    Operation *def = v.getDefiningOp();
    return !def || !isRecomputable(def) || isa<memref::LoadOp>(def) ||
           llvm::none_of(def->getOperandTypes(), isActiveScalar);
  };
  // Post-order over the float pure ops of the DAG under `top`; leaves in
  // first-seen order. Values for which `stopAt` holds (never `top`) are not
  // entered: they go to `stops`.
  auto collect = [&](Value top, SmallVectorImpl<Operation *> &order,
                     llvm::SetVector<Value> &leaves, function_ref<bool(Value)> stopAt,
                     llvm::SetVector<Value> &stops) {
    llvm::SmallPtrSet<Operation *, 16> visited;
    std::function<void(Value)> visit = [&](Value v) {
      if (!isActiveScalar(v.getType()))
        return;
      Operation *def = v.getDefiningOp();
      if (def && !opaque && hidesFloatInputs(def))
        opaque = def;
      if (isLeaf(v)) {
        leaves.insert(v);
        return;
      }
      if (v != top && stopAt(v)) {
        stops.insert(v);
        return;
      }
      if (!visited.insert(def).second)
        return;
      for (Value operand : def->getOperands())
        visit(operand);
      order.push_back(def);
    };
    visit(top);
  };
  // `partial * sens` as a `to`; a sensitivity equal to `unit` (a sweep's top,
  // standing for one) is never materialised.
  auto times = [&](Value partial, Value sens, Value unit, Type to) {
    return sens == unit ? castFloat(b, loc, partial, to) : chainProduct(b, loc, partial, sens, to);
  };
  auto addTo = [&](llvm::DenseMap<Value, Value> &bars, Value v, Value contrib) {
    Value &acc = bars[v];
    acc = acc ? arith::AddFOp::create(b, loc, acc, contrib).getResult() : contrib;
  };
  // Sensitivities d top / d v into `bars`; `top` stands for its own
  // sensitivity (one).
  auto sweep = [&](Value top, ArrayRef<Operation *> order,
                   llvm::DenseMap<Value, Value> &bars) -> LogicalResult {
    bars[top] = top;
    for (Operation *op : llvm::reverse(order)) {
      Value rbar = bars.lookup(op->getResult(0));
      if (!rbar)
        continue; // only reached through non-differentiable operands
      FailureOr<PartialDerivativeOpInterface> iface = derivativeRule(op, loc, "adjoint");
      if (failed(iface))
        return failure();
      FailureOr<SmallVector<Value>> operands = recovered.lookupAll(b, op->getOperands());
      Value result = recovered.lookup(b, op->getResult(0));
      if (failed(operands) || !result)
        return failure();
      SmallVector<Value> partials = iface->buildPartials(b, *operands, result);
      for (auto [operand, partial] : llvm::zip(op->getOperands(), partials)) {
        if (!partial || !isActiveScalar(operand.getType()))
          continue;
        addTo(bars, operand, times(partial, rbar, top, operand.getType()));
      }
    }
    return success();
  };

  // The root's DAG, cut where it reaches a value computed by a pure op
  // outside the block of `user` (a region reads it from above).
  SmallVector<Operation *> order;
  llvm::SetVector<Value> leaves, cuts;
  collect(
      root, order, leaves,
      [&](Value v) {
        Operation *def = v.getDefiningOp();
        return def->getBlock() != user->getBlock() && def->getNumRegions() == 0;
      },
      cuts);
  if (opaque)
    return emitHiddenFloatInputs(opaque, loc, "adjoint");
  Value one = root;
  llvm::DenseMap<Value, Value> bars;
  if (failed(sweep(root, order, bars)))
    return failure();
  // Each value read from above: d root / d leaf = d root / d v * d v / d leaf,
  // with d v / d leaf built from v's own expression alone, so that it is the
  // same in every iteration of a loop around (LLVM hoists it; after
  // unrolling, CSE keeps one) instead of a chain product per use. Below the
  // cuts, values that several ops read (or that are cuts themselves) are cut
  // too, and the cuts are swept in topological order (a cut's sensitivity is
  // complete before its own sweep): every op is swept once, as in one sweep.
  if (!cuts.empty()) {
    llvm::SetVector<Value> stops(cuts.begin(), cuts.end());
    {
      llvm::DenseMap<Value, llvm::SmallPtrSet<Operation *, 2>> readers;
      llvm::SmallPtrSet<Operation *, 32> seen;
      SmallVector<Value> stack(cuts.begin(), cuts.end());
      while (!stack.empty()) {
        Value v = stack.pop_back_val();
        if (!isActiveScalar(v.getType()) || isLeaf(v))
          continue;
        Operation *def = v.getDefiningOp();
        if (!seen.insert(def).second)
          continue;
        for (Value operand : def->getOperands()) {
          if (!isActiveScalar(operand.getType()))
            continue;
          readers[operand].insert(def);
          stack.push_back(operand);
        }
      }
      for (auto &[v, ops] : readers)
        if (ops.size() > 1 && !isLeaf(v) && v.getDefiningOp()->getNumRegions() == 0)
          stops.insert(v);
    }
    struct Cut {
      SmallVector<Operation *> order;
      llvm::SetVector<Value> leaves, below;
    };
    llvm::DenseMap<Value, Cut> info;
    llvm::DenseMap<Value, unsigned> above; // how many cuts read this one
    for (Value v : stops) {
      Cut &c = info[v];
      collect(v, c.order, c.leaves, [&](Value w) { return stops.contains(w); }, c.below);
      for (Value w : c.below)
        ++above[w];
    }
    if (opaque)
      return emitHiddenFloatInputs(opaque, loc, "adjoint");
    SmallVector<Value> ready;
    for (Value v : stops)
      if (!above.lookup(v))
        ready.push_back(v);
    while (!ready.empty()) {
      Value v = ready.pop_back_val();
      Cut &c = info[v];
      Value sv = bars.lookup(v);
      if (sv) {
        llvm::DenseMap<Value, Value> vbars;
        if (failed(sweep(v, c.order, vbars)))
          return failure();
        // d root / d to += d v / d to * d root / d v
        auto chain = [&](Value to) {
          Value j = vbars.lookup(to);
          if (j)
            addTo(bars, to, times(j, sv, one, to.getType()));
          return bool(j);
        };
        for (Value w : c.below)
          chain(w);
        for (Value leaf : c.leaves)
          if (chain(leaf))
            leaves.insert(leaf);
      }
      for (Value w : c.below)
        if (--above[w] == 0)
          ready.push_back(w);
    }
  }
  for (Value leaf : leaves) {
    Value sens = bars.lookup(leaf);
    if (!sens)
      continue;
    auto load = leaf.getDefiningOp<memref::LoadOp>();
    if (!load && (!isVersion(leaf) || isConstantArgument(leaf)))
      continue; // a constant (or a value of integers only, or a rev.const argument)
    if (load && isConstantMemref(load.getMemRef()))
      continue; // a rev.const memref: no adjoint accumulated into its shadow
    Value bar = sens == one ? castFloat(b, loc, seed(b), leaf.getType())
                            : chainProduct(b, loc, sens, seed(b), leaf.getType());
    if (load) {
      FailureOr<Value> shadow = getShadow(load.getMemRef(), user);
      FailureOr<SmallVector<Value>> idx = recovered.lookupAll(b, load.getIndices());
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
    recovered.bind(orig, fin);
    if (isActiveScalar(orig.getType()))
      setAdjoint(orig, finalAdjoints[k++]);
  }
  SmallVector<Operation *> ops;
  for (Operation &op : src.without_terminator())
    ops.push_back(&op);
  if (failed(adjointOps(b, ops)))
    return failure();
  return restoredArgs(b, src);
}

LogicalResult AdjointState::adjointOps(OpBuilder &b, ArrayRef<Operation *> ops) {
  for (Operation *op : llvm::reverse(ops)) {
    if (isRecomputable(op))
      continue;
    auto ad = dyn_cast<AdjointOpInterface>(op);
    if (!ad)
      return op->emitOpError("cannot differentiate: the op has no adjoint rule");
    if (failed(ad.buildAdjoint(b, *this)))
      return failure();
  }
  return success();
}

FailureOr<SmallVector<Value>> AdjointState::restoredArgs(OpBuilder &b, Block &src) {
  SmallVector<Value> threaded;
  for (BlockArgument a : getThreadedArgs(src))
    if (!isa<MemRefType>(a.getType()))
      threaded.push_back(a);
  recovered.pushRecomputeScope();
  FailureOr<SmallVector<Value>> out = recovered.lookupAll(b, threaded);
  recovered.popRecomputeScope();
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
    recovered.bind(a, block->addArgument(a.getType(), a.getLoc()));
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


SmallVector<Value> mlir::rev::copySeeds(OpBuilder &b, Location loc, ValueRange seeds) {
  SmallVector<Value> copies;
  for (Value seed : seeds) {
    Value t = AllocOp::create(b, loc, seed.getType(), TypedAttr()).getResult();
    copies.push_back(AddOp::create(b, loc, t, seed).getResult());
  }
  return copies;
}

void mlir::rev::releaseSeedCopies(OpBuilder &b, Location loc, ValueRange copies,
                                  ValueRange seeds) {
  for (auto [copy, seed] : llvm::zip(copies, seeds)) {
    Value t = SubOp::create(b, loc, copy, seed).getResult();
    FreeOp::create(b, loc, t, TypedAttr());
  }
}

//===----------------------------------------------------------------------===//
// Functions
//===----------------------------------------------------------------------===//

FailureOr<FuncOp> mlir::rev::buildBackwardFunction(FuncOp func, StringRef name) {
  FuncOp bwd = createDerivativeFunction(func, name, kBackwardOfAttr);
  Block &src = func.getBody().front();
  Block *dst = &bwd.getBody().front();
  AdjointState st;
  SmallVector<Value> finals, finalAdjoints;
  SmallVector<int> pos = derivativeArgPositions(src.getArgumentTypes());
  for (auto [a, p] : llvm::zip(src.getArguments(), pos)) {
    Value na = dst->getArgument(a.getArgNumber());
    bool memref = isa<MemRefType>(a.getType());
    if (memref)
      st.recovered.bind(a, na);
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
  FuncOp grad = createDerivativeFunction(func, name, kGradientOfAttr);
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

FailureOr<FuncOp> mlir::rev::getOrCreateBackwardFunction(FuncOp func) {
  if (FuncOp found = findMarkedFunction(func, kBackwardOfAttr))
    return found;
  return buildBackwardFunction(func, uniqueSymbolName(func, func.getSymName() + "_bwd"));
}

