//===- LowerSteps.cpp - rev.steps and its checkpointed adjoint ------------===//
//
// rev.steps: the steps run in two working buffers that swap roles (scf.for
// iter_args), then the final state is added to (or subtracted from) `out`.
//
// rev.steps_adjoint: binomial checkpointing (Griewank's revolve) as an
// explicit-stack loop. A frame (s, e, c, m) reverses steps s..e-1 starting
// from x_s in `cur`, with c snapshot slots of which slot c-1 is its own:
//   e - s > 1: save x_s in slot c-1, advance cur to x_m, push (m, e, c-1);
//              after that frame, restore x_s and continue with (s, m, c);
//   e - s = 1: step adjoint at s (recompute x_{s+1}, then the step's
//              backward function), pop.
// The split m = s + min(beta(c, r-1), l - beta(c-1, r-1)), with l = e - s,
// r the least repetition count with beta(c, r) = C(c+r, c) >= l, gives
// revolve's minimal number of advancing steps, r*l - beta(c+1, r-1): the
// optimal cost is convex and piecewise linear in l, and that split puts both
// parts on its linear pieces (tested exhaustively against the dynamic
// programme over every split in test/python/test_steps.py). Memory: c + 4 states
// and a stack of 4 (c + 1) indices. The number of snapshots c is the op's
// `snapshots`, else memory_budget / state bytes (at least 1, at most the
// number of steps), else (budget -1) the least c with beta(c, 3) >= steps (at
// most 3 recomputations of a step). Counters in the public global
// @_mlir_rev_steps_counts (enum Count below).
//
// schedule = "bennett": the reversed Bennett pebble game (lowerBennett):
// k levels of b = ceil(T^(1/k)) chunks, pebbles as views into one buffer,
// compute = the step into a zeroed pebble, uncompute = the step into a
// zeroed scratch state subtracted from the pebble; the step adjoints run at
// the one-step uncomputes of the gradient program (docs/memory.md).
//
//===----------------------------------------------------------------------===//
#include "conversion/LowerRev.h"
#include "dialect/RevOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace mlir::rev;

namespace {
using B = ImplicitLocOpBuilder;

Value cidx(B &b, int64_t v) { return arith::ConstantIndexOp::create(b, v); }

/// Field `k` of the frame at `base` of an explicit stack (an index memref).
Value stackField(B &b, Value stack, Value base, int k) {
  return memref::LoadOp::create(b, stack, ValueRange{arith::AddIOp::create(b, base, cidx(b, k))});
}

/// The loop of a schedule over an explicit stack: `body` runs while the
/// stack depth (the first carried value) is > 0, and yields the next values.
scf::WhileOp whileStackNotEmpty(B &b, ValueRange inits,
                                function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  return scf::WhileOp::create(
      b, inits.getTypes(), inits,
      [&](OpBuilder &ob, Location loc, ValueRange args) {
        B ib(loc, ob);
        Value more = arith::CmpIOp::create(ib, arith::CmpIPredicate::ugt, args[0], cidx(ib, 0));
        scf::ConditionOp::create(ib, more, args);
      },
      body);
}

/// The arguments of the step's backward function `bwdType` for one step
/// adjoint: the step call's (`callArgs`), with the derivative slots (`pos`:
/// where each step argument's derivative goes, -1 for none) filled by the
/// adjoint buffers of the old and new states (`bt`, `bc`), then the memref
/// params' shadows and the scalar params' adjoints, in order.
SmallVector<Value> stepBackwardArgs(ArrayRef<Value> callArgs, FunctionType bwdType,
                                    ArrayRef<int> pos, FunctionType stepType, Value bt, Value bc,
                                    ValueRange paramShadows, ValueRange adjs) {
  SmallVector<Value> args(callArgs);
  args.resize(bwdType.getNumInputs());
  unsigned nextShadow = 0, nextAdj = 0;
  for (auto [i, p] : llvm::enumerate(pos)) {
    if (p < 0)
      continue;
    if (i == 1)
      args[p] = bt;
    else if (i == 2)
      args[p] = bc;
    else if (isa<MemRefType>(stepType.getInput(i)))
      args[p] = paramShadows[nextShadow++];
    else
      args[p] = adjs[nextAdj++];
  }
  return args;
}

/// for (i = 0; i < n; ++i) body(i)
void forEach(B &b, Value n, function_ref<void(B &, Value)> body) {
  scf::ForOp::create(b, cidx(b, 0), n, cidx(b, 1), ValueRange(),
                     [&](OpBuilder &ob, Location loc, Value i, ValueRange) {
                       B ib(loc, ob);
                       body(ib, i);
                       scf::YieldOp::create(ib);
                     });
}

Value zeroOf(B &b, Type t) { return arith::ConstantOp::create(b, b.getZeroAttr(t)); }

void fillZero(B &b, Value buf, Value n) {
  Type t = cast<MemRefType>(buf.getType()).getElementType();
  forEach(b, n, [&](B &ib, Value i) { memref::StoreOp::create(ib, zeroOf(ib, t), buf, i); });
}

/// dst[dOff + i] = src[sOff + i], or dst[dOff + i] += / -= src[sOff + i].
void copyElems(B &b, Value dst, Value dOff, Value src, Value sOff, Value n, int mode = 0) {
  forEach(b, n, [&](B &ib, Value i) {
    Value si = arith::AddIOp::create(ib, sOff, i);
    Value di = arith::AddIOp::create(ib, dOff, i);
    Value v = memref::LoadOp::create(ib, src, si);
    if (mode != 0) {
      Value old = memref::LoadOp::create(ib, dst, di);
      v = mode > 0 ? arith::AddFOp::create(ib, old, v).getResult()
                   : arith::SubFOp::create(ib, old, v).getResult();
    }
    memref::StoreOp::create(ib, v, dst, di);
  });
}

Value allocLike(B &b, MemRefType type, Value n) {
  return memref::AllocOp::create(b, type, type.isDynamicDim(0) ? ValueRange{n} : ValueRange{});
}

struct StepsLowering : public OpConversionPattern<StepsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(StepsOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto step = SymbolTable::lookupNearestSymbolFrom<FunctionOpInterface>(op, op.getStepAttr());
    if (!step)
      return rw.notifyMatchFailure(op, "no step function");
    TypeRange results = step.getResultTypes();
    B b(op.getLoc(), rw);
    auto type = cast<MemRefType>(a.getInit().getType());
    Value n = memref::DimOp::create(b, a.getInit(), 0);
    Value cur = allocLike(b, type, n), nxt = allocLike(b, type, n);
    copyElems(b, cur, cidx(b, 0), a.getInit(), cidx(b, 0), n);
    auto loop = scf::ForOp::create(
        b, a.getLowerBound(), a.getUpperBound(), cidx(b, 1), ValueRange{cur, nxt},
        [&](OpBuilder &ob, Location loc, Value t, ValueRange bufs) {
          B ib(loc, ob);
          fillZero(ib, bufs[1], n);
          SmallVector<Value> args{t, bufs[0], bufs[1]};
          llvm::append_range(args, a.getParams());
          func::CallOp::create(ib, op.getStepAttr(), results, args);
          scf::YieldOp::create(ib, ValueRange{bufs[1], bufs[0]});
        });
    copyElems(b, a.getOut(), cidx(b, 0), loop.getResult(0), cidx(b, 0), n,
              op.getSubtract() ? -1 : 1);
    memref::DeallocOp::create(b, cur);
    memref::DeallocOp::create(b, nxt);
    rw.eraseOp(op);
    return success();
  }
};

/// The steps with their tangents: state and tangent each in two buffers
/// that swap roles; @step_fwd computes the next state and its tangent.
struct StepsTangentLowering : public OpConversionPattern<StepsTangentOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(StepsTangentOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    // The tangent function may already be a func.func (no marker left): its
    // leading inputs are the step's (index, state, state, params...).
    auto fwd = SymbolTable::lookupNearestSymbolFrom<FunctionOpInterface>(op, op.getStepTangentAttr());
    if (!fwd)
      return rw.notifyMatchFailure(op, "no tangent function");
    B b(op.getLoc(), rw);
    auto type = cast<MemRefType>(a.getInit().getType());
    Value n = memref::DimOp::create(b, a.getInit(), 0);
    Value c0 = cidx(b, 0);
    SmallVector<Value> bufs;
    for (int i = 0; i < 4; ++i)
      bufs.push_back(allocLike(b, type, n));
    copyElems(b, bufs[0], c0, a.getInit(), c0, n);
    copyElems(b, bufs[2], c0, a.getInitTangent(), c0, n);
    FunctionType fwdType = cast<FunctionType>(fwd.getFunctionType());
    unsigned numPrimal = 3 + a.getParams().size();
    if (fwdType.getNumInputs() < numPrimal)
      return rw.notifyMatchFailure(op, "tangent function with too few arguments");
    SmallVector<int> pos = derivativeArgPositions(fwdType.getInputs().take_front(numPrimal));
    auto loop = scf::ForOp::create(
        b, a.getLowerBound(), a.getUpperBound(), cidx(b, 1), bufs,
        [&](OpBuilder &ob, Location loc, Value t, ValueRange it) {
          B ib(loc, ob);
          // it: cur, nxt, curDot, nxtDot
          fillZero(ib, it[1], n);
          fillZero(ib, it[3], n);
          SmallVector<Value> args{t, it[0], it[1]};
          llvm::append_range(args, a.getParams());
          args.resize(fwdType.getNumInputs());
          unsigned next = 0;
          for (auto [i, p] : llvm::enumerate(pos)) {
            if (p < 0)
              continue;
            if (i == 1)
              args[p] = it[2];
            else if (i == 2)
              args[p] = it[3];
            else
              args[p] = a.getParamTangents()[next++];
          }
          func::CallOp::create(ib, op.getStepTangentAttr(), fwdType.getResults(), args);
          scf::YieldOp::create(ib, ValueRange{it[1], it[0], it[3], it[2]});
        });
    int mode = op.getSubtract() ? -1 : 1;
    copyElems(b, a.getOut(), c0, loop.getResult(0), c0, n, mode);
    copyElems(b, a.getOutTangent(), c0, loop.getResult(2), c0, n, mode);
    for (Value buf : bufs)
      memref::DeallocOp::create(b, buf);
    rw.eraseOp(op);
    return success();
  }
};

/// The counters' global. ExecutionEngine::lookupPacked (Python's raw_lookup)
/// prefixes "_mlir_": so named, the Python package finds it as
/// "rev_steps_counts".
constexpr llvm::StringLiteral kCountsGlobal = "_mlir_rev_steps_counts";

/// The counters, in this order (Python's Program.steps_counts names them).
enum Count : int64_t {
  kAdvances,       // revolve: steps recomputed to reach snapshots
  kStepAdjoints,   // steps reversed
  kSnapshots,      // revolve: c of the last run (0 after a bennett run)
  kRuns,           // rev.steps_adjoint runs
  kComputeMoves,   // bennett: pebble computes
  kUncomputeMoves, // bennett: pebble uncomputes (a step evaluation each)
  kPebbles,        // bennett: the most states held at once in the last run
  kLevels,         // bennett: k of the last run (0 after a revolve run)
  kNumCounts
};

/// The public global memref<8xi64> of the counters (created once).
Value countsBuffer(B &b, Operation *op, ConversionPatternRewriter &rw) {
  auto module = op->getParentOfType<ModuleOp>();
  auto type = MemRefType::get({kNumCounts}, b.getI64Type());
  if (!SymbolTable::lookupSymbolIn(module, kCountsGlobal)) {
    OpBuilder::InsertionGuard g(rw);
    rw.setInsertionPointToStart(module.getBody());
    auto init = DenseElementsAttr::get(RankedTensorType::get({kNumCounts}, b.getI64Type()),
                                       rw.getI64IntegerAttr(0).getValue());
    memref::GlobalOp::create(rw, op->getLoc(), kCountsGlobal, /*sym_visibility=*/StringAttr(), type,
                             init, /*constant=*/false, /*alignment=*/nullptr);
  }
  return memref::GetGlobalOp::create(b, type, kCountsGlobal);
}

/// The bytes a budgeted schedule may keep, read at run time from a
/// `memref<index>` that holds `bytes` (an alloca at the start of the
/// function, marked kMemoryBudgetCounterAttr): --rev-tape-loops makes it the
/// gradient's shared counter, which loop tapes have already drawn on.
Value budgetBytes(B &b, Operation *op, int64_t bytes, ConversionPatternRewriter &rw) {
  auto fn = op->getParentOfType<FunctionOpInterface>();
  auto type = MemRefType::get({}, b.getIndexType());
  Value counter;
  {
    OpBuilder::InsertionGuard g(rw);
    rw.setInsertionPointToStart(&fn.getFunctionBody().front());
    B eb(op->getLoc(), rw);
    auto alloca = memref::AllocaOp::create(eb, type);
    alloca->setAttr(kMemoryBudgetCounterAttr, rw.getUnitAttr());
    memref::StoreOp::create(eb, cidx(eb, bytes), alloca, ValueRange{});
    counter = alloca;
  }
  return memref::LoadOp::create(b, counter, ValueRange{});
}

void addCount(B &b, Value counts, int64_t slot, Value v, bool set = false) {
  Value idx = cidx(b, slot);
  Value v64 = arith::IndexCastOp::create(b, b.getI64Type(), v);
  if (!set)
    v64 = arith::AddIOp::create(b, memref::LoadOp::create(b, counts, idx), v64);
  memref::StoreOp::create(b, v64, counts, idx);
}

/// min(base^k, T) for base >= 1, T >= 1, without overflow.
Value powAtMost(B &b, Value base, Value k, Value T) {
  Value need = arith::CeilDivUIOp::create(b, T, base);
  auto loop = scf::ForOp::create(
      b, cidx(b, 0), k, cidx(b, 1), ValueRange{cidx(b, 1)},
      [&](OpBuilder &ob, Location loc, Value, ValueRange acc) {
        B ib(loc, ob);
        // acc < ceil(T / base) means acc * base < T: no overflow.
        Value big = arith::CmpIOp::create(ib, arith::CmpIPredicate::uge, acc[0], need);
        Value v = arith::SelectOp::create(ib, big, T, arith::MulIOp::create(ib, acc[0], base));
        scf::YieldOp::create(ib, ValueRange{v});
      });
  return loop.getResult(0);
}

/// The least b >= 1 with b^k >= T (T >= 1): binary search in [1, T].
Value ceilRoot(B &b, Value T, Value k) {
  auto loop = scf::WhileOp::create(
      b, TypeRange{b.getIndexType(), b.getIndexType()}, ValueRange{cidx(b, 1), T},
      [&](OpBuilder &ob, Location loc, ValueRange args) {
        B ib(loc, ob);
        Value more = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, args[0], args[1]);
        scf::ConditionOp::create(ib, more, args);
      },
      [&](OpBuilder &ob, Location loc, ValueRange args) {
        B ib(loc, ob);
        Value mid = arith::DivUIOp::create(ib, arith::AddIOp::create(ib, args[0], args[1]),
                                           cidx(ib, 2));
        Value ok = arith::CmpIOp::create(ib, arith::CmpIPredicate::uge,
                                         powAtMost(ib, mid, k, T), T);
        Value lo = arith::SelectOp::create(ib, ok, args[0], arith::AddIOp::create(ib, mid, cidx(ib, 1)));
        Value hi = arith::SelectOp::create(ib, ok, mid, args[1]);
        scf::YieldOp::create(ib, ValueRange{lo, hi});
      });
  return loop.getResult(0);
}

/// i1 -> index (0 or 1).
Value asIndex(B &b, Value flag) {
  return arith::IndexCastUIOp::create(b, b.getIndexType(),
                                      arith::ExtUIOp::create(b, b.getI64Type(), flag));
}

/// beta(c, r) = C(c + r, c), the most steps c snapshots reverse with at most
/// r recomputations each: the least r with beta(c, r) >= l, and beta(c, r).
std::pair<Value, Value> repetitions(B &b, Value c, Value l) {
  auto loop = scf::WhileOp::create(
      b, TypeRange{b.getIndexType(), b.getIndexType()}, ValueRange{cidx(b, 0), cidx(b, 1)},
      [&](OpBuilder &ob, Location loc, ValueRange args) {
        B ib(loc, ob);
        Value more = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, args[1], l);
        scf::ConditionOp::create(ib, more, args);
      },
      [&](OpBuilder &ob, Location loc, ValueRange args) {
        B ib(loc, ob);
        Value r = arith::AddIOp::create(ib, args[0], cidx(ib, 1));
        Value num = arith::MulIOp::create(ib, args[1], arith::AddIOp::create(ib, c, r));
        scf::YieldOp::create(ib, ValueRange{r, arith::DivUIOp::create(ib, num, r).getResult()});
      });
  return {loop.getResult(0), loop.getResult(1)};
}

struct StepsAdjointLowering : public OpConversionPattern<StepsAdjointOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(StepsAdjointOp op, OpAdaptor a,
                                ConversionPatternRewriter &rw) const override {
    auto step = SymbolTable::lookupNearestSymbolFrom<FunctionOpInterface>(op, op.getStepAttr());
    auto bwd =
        SymbolTable::lookupNearestSymbolFrom<FunctionOpInterface>(op, op.getStepBackwardAttr());
    if (!step || !bwd)
      return rw.notifyMatchFailure(op, "no step or step backward function");
    if (op.getSchedule() == "bennett")
      return lowerBennett(op, a, rw, step, bwd);
    B b(op.getLoc(), rw);
    auto type = cast<MemRefType>(a.getInit().getType());
    Type idx = b.getIndexType();
    Value c0 = cidx(b, 0), c1 = cidx(b, 1), c4 = cidx(b, 4);
    Value n = memref::DimOp::create(b, a.getInit(), 0);
    Value lb = a.getLowerBound();
    Value ub = arith::MaxSIOp::create(b, a.getUpperBound(), lb);
    Value steps = arith::SubIOp::create(b, ub, lb);
    Value counts = countsBuffer(b, op, rw);

    // Snapshots: c in [1, max(steps, 1)].
    Value c;
    if (auto s = op.getSnapshots()) {
      c = cidx(b, *s);
    } else if (op.getMemoryBudgetAttr().getInt() >= 0) {
      unsigned bits = type.getElementType().getIntOrFloatBitWidth();
      Value stateBytes = arith::MulIOp::create(b, arith::MaxUIOp::create(b, n, c1),
                                               cidx(b, std::max(1u, bits / 8)));
      c = arith::DivUIOp::create(
          b, budgetBytes(b, op, op.getMemoryBudgetAttr().getInt(), rw), stateBytes);
    } else {
      // The least c with beta(c, 3) = (c+1)(c+2)(c+3)/6 >= steps.
      auto loop = scf::WhileOp::create(
          b, TypeRange{idx}, ValueRange{c1},
          [&](OpBuilder &ob, Location loc, ValueRange args) {
            B ib(loc, ob);
            Value x = args[0];
            Value p = arith::MulIOp::create(
                ib, arith::MulIOp::create(ib, arith::AddIOp::create(ib, x, cidx(ib, 1)),
                                          arith::AddIOp::create(ib, x, cidx(ib, 2))),
                arith::AddIOp::create(ib, x, cidx(ib, 3)));
            Value beta = arith::DivUIOp::create(ib, p, cidx(ib, 6));
            Value more = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, beta, steps);
            scf::ConditionOp::create(ib, more, args);
          },
          [&](OpBuilder &ob, Location loc, ValueRange args) {
            B ib(loc, ob);
            scf::YieldOp::create(ib, ValueRange{arith::AddIOp::create(ib, args[0], cidx(ib, 1))});
          });
      c = loop.getResult(0);
    }
    c = arith::MinUIOp::create(b, c, arith::MaxUIOp::create(b, steps, c1));
    c = arith::MaxUIOp::create(b, c, c1);

    Value cur = allocLike(b, type, n), nxt = allocLike(b, type, n);
    Value bar = allocLike(b, type, n), tbar = allocLike(b, type, n);
    // Checked mode: the state the last step adjoint started from.
    FloatAttr checkAtol = op.getCheckAtolAttr();
    Value last = checkAtol ? allocLike(b, type, n) : Value();
    auto flat = MemRefType::get({ShapedType::kDynamic}, type.getElementType());
    Value snaps = memref::AllocOp::create(b, flat, ValueRange{arith::MulIOp::create(b, c, n)});
    auto stackType = MemRefType::get({ShapedType::kDynamic}, idx);
    Value stack = memref::AllocOp::create(
        b, stackType, ValueRange{arith::MulIOp::create(b, arith::AddIOp::create(b, c, c1), c4)});
    copyElems(b, cur, c0, a.getInit(), c0, n);
    copyElems(b, bar, c0, a.getOutShadow(), c0, n);

    // Root frame.
    memref::StoreOp::create(b, lb, stack, cidx(b, 0));
    memref::StoreOp::create(b, ub, stack, cidx(b, 1));
    memref::StoreOp::create(b, c, stack, cidx(b, 2));
    memref::StoreOp::create(b, lb, stack, cidx(b, 3));
    Value depth0 = arith::SelectOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, steps, c0), c1, c0);

    // Layout of the step's backward function.
    FunctionType stepType = cast<FunctionType>(step.getFunctionType());
    SmallVector<int> pos = derivativeArgPositions(stepType.getInputs());
    unsigned numState = stepType.getNumResults();
    TypeRange bwdResults = cast<FunctionType>(bwd.getFunctionType()).getResults();

    // Loop-carried: depth, advances, step adjoints, then the working state
    // buffers and the two adjoint buffers (they swap roles instead of being
    // copied), then the float params' adjoints.
    SmallVector<Value> inits{depth0, c0, c0, cur, nxt, bar, tbar};
    llvm::append_range(inits, a.getParamAdjoints());
    constexpr unsigned kCarried = 7;

    auto loop = whileStackNotEmpty(
        b, inits,
        [&](OpBuilder &ob, Location loc, ValueRange args) {
          B ib(loc, ob);
          Value depth = args[0], advanced = args[1], leaves = args[2];
          Value xc = args[3], xn = args[4], bc = args[5], bt = args[6];
          ValueRange adjs = args.drop_front(kCarried);
          Value top = arith::SubIOp::create(ib, depth, cidx(ib, 1));
          Value base = arith::MulIOp::create(ib, top, cidx(ib, 4));
          auto field = [&](B &fb, Value at, int k) { return stackField(fb, stack, at, k); };
          Value s = field(ib, base, 0), e = field(ib, base, 1), cc = field(ib, base, 2);
          Value l = arith::SubIOp::create(ib, e, s);
          Value split = arith::CmpIOp::create(ib, arith::CmpIPredicate::ugt, l, cidx(ib, 1));
          auto branch = scf::IfOp::create(ib, TypeRange(args.getTypes()), split, true);
          {
            // Split: save x_s, advance to x_m, push (m, e, cc - 1).
            B tb = B::atBlockEnd(loc, &branch.getThenRegion().front());
            // rest = min(beta(cc, r-1), l - beta(cc-1, r-1)): both parts then
            // lie on the linear pieces of the optimal cost (left: cc snapshots,
            // r-1 repetitions; right: cc-1 snapshots, r repetitions).
            auto [r, beta] = repetitions(tb, cc, l);
            Value b1 = arith::DivUIOp::create(tb, arith::MulIOp::create(tb, beta, r),
                                              arith::AddIOp::create(tb, cc, r));
            Value b2 = arith::DivUIOp::create(
                tb, arith::MulIOp::create(tb, b1, cc),
                arith::SubIOp::create(tb, arith::AddIOp::create(tb, cc, r), cidx(tb, 1)));
            Value rest = arith::MinUIOp::create(tb, b1, arith::SubIOp::create(tb, l, b2));
            Value m = arith::AddIOp::create(tb, s, rest);
            Value slot = arith::MulIOp::create(tb, arith::SubIOp::create(tb, cc, cidx(tb, 1)), n);
            copyElems(tb, snaps, slot, xc, cidx(tb, 0), n);
            auto advance = scf::ForOp::create(
                tb, s, m, cidx(tb, 1), ValueRange{xc, xn},
                [&](OpBuilder &fb, Location floc, Value t, ValueRange bufs) {
                  B sb(floc, fb);
                  fillZero(sb, bufs[1], n);
                  SmallVector<Value> callArgs{t, bufs[0], bufs[1]};
                  llvm::append_range(callArgs, a.getParams());
                  func::CallOp::create(sb, op.getStepAttr(), stepType.getResults(), callArgs);
                  scf::YieldOp::create(sb, ValueRange{bufs[1], bufs[0]});
                });
            memref::StoreOp::create(tb, m, stack, ValueRange{arith::AddIOp::create(tb, base, cidx(tb, 3))});
            Value child = arith::AddIOp::create(tb, base, cidx(tb, 4));
            memref::StoreOp::create(tb, m, stack, ValueRange{child});
            memref::StoreOp::create(tb, e, stack, ValueRange{arith::AddIOp::create(tb, child, cidx(tb, 1))});
            memref::StoreOp::create(tb, arith::SubIOp::create(tb, cc, cidx(tb, 1)), stack,
                                    ValueRange{arith::AddIOp::create(tb, child, cidx(tb, 2))});
            memref::StoreOp::create(tb, m, stack, ValueRange{arith::AddIOp::create(tb, child, cidx(tb, 3))});
            SmallVector<Value> out{arith::AddIOp::create(tb, depth, cidx(tb, 1)),
                                   arith::AddIOp::create(tb, advanced, rest), leaves,
                                   advance.getResult(0), advance.getResult(1), bc, bt};
            llvm::append_range(out, adjs);
            scf::YieldOp::create(tb, out);
          }
          {
            // Leaf: the adjoint of step s, then pop (and restore the parent's x_s).
            B eb = B::atBlockEnd(loc, &branch.getElseRegion().front());
            fillZero(eb, xn, n);
            SmallVector<Value> callArgs{s, xc, xn};
            llvm::append_range(callArgs, a.getParams());
            Value first = arith::CmpIOp::create(eb, arith::CmpIPredicate::eq, leaves, cidx(eb, 0));
            auto recompute = [&](B &rb) {
              func::CallOp::create(rb, op.getStepAttr(), stepType.getResults(), callArgs);
              if (Value out = a.getUncomputeOut()) {
                // The first step adjoint is at ub - 1: x_{s+1} is the final state.
                auto sub = scf::IfOp::create(rb, TypeRange(), first, false);
                B ub2 = B::atBlockBegin(loc, &sub.getThenRegion().front());
                copyElems(ub2, out, cidx(ub2, 0), xn, cidx(ub2, 0), n, -1);
              }
            };
            if (op.getNewWriteOnly() && !checkAtol) {
              // The step's backward function does not read the new state's
              // value: only the first step adjoint computes it (for `out`).
              if (a.getUncomputeOut()) {
                auto onlyFirst = scf::IfOp::create(eb, TypeRange(), first, false);
                B fb = B::atBlockBegin(loc, &onlyFirst.getThenRegion().front());
                recompute(fb);
              }
            } else {
              recompute(eb);
            }
            if (checkAtol) {
              // x_{s+1} recomputed now against x_{s+1} as the previous step
              // adjoint (at s + 1) had it.
              Value hasLast = arith::CmpIOp::create(eb, arith::CmpIPredicate::ugt, leaves, cidx(eb, 0));
              Type et = type.getElementType();
              Value tol = arith::ConstantOp::create(eb, FloatAttr::get(et, checkAtol.getValueAsDouble()));
              Value no = arith::ConstantIntOp::create(eb, eb.getI1Type(), 0);
              auto differs = scf::ForOp::create(
                  eb, cidx(eb, 0), n, cidx(eb, 1), ValueRange{no},
                  [&](OpBuilder &fb, Location floc, Value i, ValueRange acc) {
                    B cb(floc, fb);
                    Value d = arith::SubFOp::create(cb, memref::LoadOp::create(cb, xn, i),
                                                    memref::LoadOp::create(cb, last, i));
                    // Unordered: a NaN on either path is a difference.
                    Value bad = arith::CmpFOp::create(cb, arith::CmpFPredicate::UGT,
                                                      math::AbsFOp::create(cb, d), tol);
                    scf::YieldOp::create(cb, ValueRange{arith::OrIOp::create(cb, acc[0], bad).getResult()});
                  });
              Value failed = arith::AndIOp::create(eb, hasLast, differs.getResult(0));
              Value ok = arith::XOrIOp::create(eb, failed, arith::ConstantIntOp::create(eb, eb.getI1Type(), 1));
              CheckOp::create(eb, ok,
                              eb.getStringAttr("a recomputed state differs from the same state "
                                               "reached through the snapshots (the step is not "
                                               "deterministic)"),
                              eb.getStringAttr("rev.steps"));
            }
            fillZero(eb, bt, n);
            SmallVector<Value> bwdArgs =
                stepBackwardArgs(callArgs, cast<FunctionType>(bwd.getFunctionType()), pos,
                                 stepType, bt, bc, a.getParamShadows(), adjs);
            auto call = func::CallOp::create(eb, op.getStepBackwardAttr(), bwdResults, bwdArgs);
            // bt now holds the adjoint of x_s: it becomes the adjoint buffer.
            if (checkAtol)
              copyElems(eb, last, cidx(eb, 0), xc, cidx(eb, 0), n);
            Value up = arith::SubIOp::create(eb, depth, cidx(eb, 1));
            Value hasParent = arith::CmpIOp::create(eb, arith::CmpIPredicate::ugt, up, cidx(eb, 0));
            auto restore = scf::IfOp::create(eb, TypeRange(), hasParent, false);
            {
              B rb = B::atBlockBegin(loc, &restore.getThenRegion().front());
              Value pbase = arith::SubIOp::create(rb, base, cidx(rb, 4));
              Value pc = field(rb, pbase, 2);
              Value slot = arith::MulIOp::create(rb, arith::SubIOp::create(rb, pc, cidx(rb, 1)), n);
              copyElems(rb, xc, cidx(rb, 0), snaps, slot, n);
              memref::StoreOp::create(rb, field(rb, pbase, 3), stack,
                                      ValueRange{arith::AddIOp::create(rb, pbase, cidx(rb, 1))});
            }
            SmallVector<Value> out{up, advanced, arith::AddIOp::create(eb, leaves, cidx(eb, 1)),
                                   xc, xn, bt, bc};
            for (unsigned k = 0; k < adjs.size(); ++k)
              out.push_back(call.getResult(numState + k));
            scf::YieldOp::create(eb, out);
          }
          scf::YieldOp::create(ib, branch.getResults());
        });
    // No steps: the state is init itself, so its adjoint is out's (and the
    // uncompute subtracts init).
    copyElems(b, a.getInitShadow(), c0, loop.getResult(5), c0, n, 1);
    if (Value out = a.getUncomputeOut()) {
      auto none = scf::IfOp::create(
          b, TypeRange(), arith::CmpIOp::create(b, arith::CmpIPredicate::eq, steps, c0), false);
      B nb = B::atBlockBegin(op.getLoc(), &none.getThenRegion().front());
      copyElems(nb, out, cidx(nb, 0), a.getInit(), cidx(nb, 0), n, -1);
    }
    addCount(b, counts, kAdvances, loop.getResult(1));
    addCount(b, counts, kStepAdjoints, loop.getResult(2));
    addCount(b, counts, kSnapshots, c, /*set=*/true);
    addCount(b, counts, kRuns, c1);
    addCount(b, counts, kPebbles, c0, /*set=*/true);
    addCount(b, counts, kLevels, c0, /*set=*/true);
    for (Value buf : {cur, nxt, bar, tbar, snaps, stack, last})
      if (buf)
        memref::DeallocOp::create(b, buf);
    rw.replaceOp(op, loop.getResults().drop_front(kCarried));
    return success();
  }

  /// Bennett's pebble game, reversed (docs/memory.md). Frames of an explicit
  /// stack (s, n, src, dst, mode, j, base): the program of mode FWD (compute
  /// x_{s+n} into the free slot dst from x_s in src), REV (its reverse: dst
  /// back to zero) or GRAD (REV with the step adjoints), over n steps split
  /// into bp = min(b, n) chunks whose ends (but the last, dst) go to slots
  /// base .. base+bp-2. j counts the children pushed so far:
  ///   FWD:       FWD(chunk 0..bp-1), then REV(chunk bp-2..0);
  ///   REV, GRAD: FWD(chunk 0..bp-2), then the same mode on chunk bp-1..0.
  /// A frame of one step is a move: FWD computes (dst zeroed, then the step
  /// into it), REV and GRAD uncompute (the step into a zeroed scratch state,
  /// subtracted from dst), GRAD then applies the step adjoint. Slot codes:
  /// 0 = init (x_lb), 1 = the final state (held in `out`, uncomputed by the
  /// last step adjoint), 2 + i = pebble i, a view into one buffer of
  /// k (b-1) states.
  LogicalResult lowerBennett(StepsAdjointOp op, OpAdaptor a, ConversionPatternRewriter &rw,
                             FunctionOpInterface step, FunctionOpInterface bwd) const {
    B b(op.getLoc(), rw);
    auto type = cast<MemRefType>(a.getInit().getType());
    auto viewType = MemRefType::get(type.getShape(), type.getElementType(), MemRefLayoutAttrInterface(),
                                    type.getMemorySpace());
    if (viewType != type && !memref::CastOp::areCastCompatible(viewType, type))
      return op.emitOpError() << "the bennett schedule needs a state of identity layout (or one "
                                 "a plain memref casts to), got " << type;
    Type idx = b.getIndexType();
    Value c0 = cidx(b, 0), c1 = cidx(b, 1), c2 = cidx(b, 2);
    Value n = memref::DimOp::create(b, a.getInit(), 0);
    Value lb = a.getLowerBound();
    Value ub = arith::MaxSIOp::create(b, a.getUpperBound(), lb);
    Value steps = arith::SubIOp::create(b, ub, lb);
    Value steps1 = arith::MaxUIOp::create(b, steps, c1);
    Value counts = countsBuffer(b, op, rw);
    unsigned bits = type.getElementType().getIntOrFloatBitWidth();
    Value elemBytes = cidx(b, std::max(1u, bits / 8));

    // Levels: the op's, else the least k <= 8 whose k (b-1) + 1 states fit
    // in the budget (if none does, the k <= 8 with the fewest), else 2.
    Value k;
    if (auto l = op.getLevels()) {
      k = cidx(b, *l);
    } else if (op.getMemoryBudgetAttr().getInt() >= 0) {
      Value stateBytes = arith::MulIOp::create(b, arith::MaxUIOp::create(b, n, c1), elemBytes);
      Value avail = arith::DivUIOp::create(
          b, budgetBytes(b, op, op.getMemoryBudgetAttr().getInt(), rw), stateBytes);
      // Over k = 1..8: the first that fits, and the one with the fewest
      // states (the least such k) for when none fits.
      Value no = arith::ConstantIntOp::create(b, b.getI1Type(), 0);
      auto loop = scf::ForOp::create(
          b, c1, cidx(b, 9), c1, ValueRange{no, c1, c1, cidx(b, std::numeric_limits<int64_t>::max())},
          [&](OpBuilder &ob, Location loc, Value kk, ValueRange it) {
            B ib(loc, ob);
            Value bk = ceilRoot(ib, steps1, kk);
            Value pebbles = arith::AddIOp::create(
                ib, arith::MulIOp::create(ib, kk, arith::SubIOp::create(ib, bk, cidx(ib, 1))),
                cidx(ib, 1));
            Value fits = arith::CmpIOp::create(ib, arith::CmpIPredicate::ule, pebbles, avail);
            Value take = arith::AndIOp::create(
                ib, fits, arith::XOrIOp::create(ib, it[0], arith::ConstantIntOp::create(ib, ib.getI1Type(), 1)));
            Value fewer = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, pebbles, it[3]);
            scf::YieldOp::create(
                ib, ValueRange{arith::OrIOp::create(ib, it[0], fits).getResult(),
                               arith::SelectOp::create(ib, take, kk, it[1]).getResult(),
                               arith::SelectOp::create(ib, fewer, kk, it[2]).getResult(),
                               arith::SelectOp::create(ib, fewer, pebbles, it[3]).getResult()});
          });
      Value chosen = arith::SelectOp::create(b, loop.getResult(0), loop.getResult(1), loop.getResult(2));
      k = chosen;
    } else {
      k = cidx(b, 2);
    }
    Value chunks = ceilRoot(b, steps1, k);
    Value slots = arith::MulIOp::create(b, k, arith::SubIOp::create(b, chunks, c1));
    Value slotBytes = arith::MulIOp::create(b, n, elemBytes);
    auto bytesType = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), MemRefLayoutAttrInterface(),
                                     type.getMemorySpace());
    Value pebbleBuf =
        memref::AllocOp::create(b, bytesType, ValueRange{arith::MulIOp::create(b, slots, slotBytes)});
    auto pebble = [&](B &vb, Value code) -> Value {
      // code >= 2 (a pebble slot); other codes give an unused view.
      Value i = arith::SubIOp::create(vb, arith::MaxUIOp::create(vb, code, cidx(vb, 2)), cidx(vb, 2));
      Value shift = arith::MulIOp::create(vb, i, slotBytes);
      SmallVector<Value> sizes;
      if (type.isDynamicDim(0))
        sizes.push_back(n);
      Value v = memref::ViewOp::create(vb, viewType, pebbleBuf, shift, sizes);
      return viewType == type ? v : memref::CastOp::create(vb, type, v).getResult();
    };

    Value scratch = allocLike(b, type, n);
    Value bar = allocLike(b, type, n), tbar = allocLike(b, type, n);
    copyElems(b, bar, c0, a.getOutShadow(), c0, n);
    constexpr int64_t kFrame = 7;
    enum { S, N, Src, Dst, Mode, J, Base };
    enum { Fwd = 0, Rev = 1, Grad = 2 };
    auto stackType = MemRefType::get({ShapedType::kDynamic}, idx);
    Value stack = memref::AllocOp::create(
        b, stackType, ValueRange{arith::MulIOp::create(b, arith::AddIOp::create(b, k, c2),
                                                       cidx(b, kFrame))});
    for (auto [f, v] : llvm::enumerate(SmallVector<Value>{lb, steps, c0, c1, cidx(b, Grad), c0, c2}))
      memref::StoreOp::create(b, v, stack, cidx(b, f));
    Value some = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, steps, c0);
    Value depth0 = asIndex(b, some);

    FunctionType stepType = cast<FunctionType>(step.getFunctionType());
    SmallVector<int> pos = derivativeArgPositions(stepType.getInputs());
    unsigned numState = stepType.getNumResults();
    FunctionType bwdType = cast<FunctionType>(bwd.getFunctionType());
    FloatAttr checkAtol = op.getCheckAtolAttr();

    // Loop-carried: depth, compute moves, uncompute moves, step adjoints,
    // pebbles held now and at most (x_ub, held in out, counts as one), the
    // two adjoint buffers (they swap roles), the float params' adjoints.
    SmallVector<Value> inits{depth0, c0, c0, c0, depth0, depth0, bar, tbar};
    llvm::append_range(inits, a.getParamAdjoints());
    constexpr unsigned kCarried = 8;

    auto loop = whileStackNotEmpty(
        b, inits,
        [&](OpBuilder &ob, Location loc, ValueRange args) {
          B ib(loc, ob);
          Value depth = args[0];
          Value bc = args[6], bt = args[7];
          ValueRange adjs = args.drop_front(kCarried);
          Value top = arith::MulIOp::create(ib, arith::SubIOp::create(ib, depth, cidx(ib, 1)),
                                            cidx(ib, kFrame));
          auto field = [&](B &fb, Value at, int f) { return stackField(fb, stack, at, f); };
          Value s = field(ib, top, S), len = field(ib, top, N), src = field(ib, top, Src);
          Value dst = field(ib, top, Dst), mode = field(ib, top, Mode);
          Value isLeaf = arith::CmpIOp::create(ib, arith::CmpIPredicate::eq, len, cidx(ib, 1));
          auto branch = scf::IfOp::create(ib, TypeRange(args.getTypes()), isLeaf, true);
          {
            // One step: a move, then pop.
            B lb2 = B::atBlockEnd(loc, &branch.getThenRegion().front());
            Value isFwd = arith::CmpIOp::create(lb2, arith::CmpIPredicate::eq, mode, cidx(lb2, Fwd));
            Value isGrad = arith::CmpIOp::create(lb2, arith::CmpIPredicate::eq, mode, cidx(lb2, Grad));
            Value fromInit = arith::CmpIOp::create(lb2, arith::CmpIPredicate::eq, src, cidx(lb2, 0));
            Value old = arith::SelectOp::create(lb2, fromInit, a.getInit(), pebble(lb2, src));
            SmallVector<Value> bufTypesVals{bc, bt};
            llvm::append_range(bufTypesVals, adjs);
            TypeRange bufTypes = ValueRange(bufTypesVals).getTypes();
            auto move = scf::IfOp::create(lb2, bufTypes, isFwd, true);
            {
              // Compute: pebble dst (free) = F(x_src).
              B cb = B::atBlockEnd(loc, &move.getThenRegion().front());
              Value into = pebble(cb, dst);
              fillZero(cb, into, n);
              SmallVector<Value> callArgs{s, old, into};
              llvm::append_range(callArgs, a.getParams());
              func::CallOp::create(cb, op.getStepAttr(), stepType.getResults(), callArgs);
              scf::YieldOp::create(cb, bufTypesVals);
            }
            {
              // Uncompute: dst -= F(x_src), through the scratch state.
              B ub2 = B::atBlockEnd(loc, &move.getElseRegion().front());
              fillZero(ub2, scratch, n);
              SmallVector<Value> callArgs{s, old, scratch};
              llvm::append_range(callArgs, a.getParams());
              func::CallOp::create(ub2, op.getStepAttr(), stepType.getResults(), callArgs);
              Value toOut = arith::CmpIOp::create(ub2, arith::CmpIPredicate::eq, dst, cidx(ub2, 1));
              auto where = scf::IfOp::create(ub2, TypeRange(), toOut, true);
              if (Value out = a.getUncomputeOut()) {
                B ob2 = B::atBlockBegin(loc, &where.getThenRegion().front());
                copyElems(ob2, out, cidx(ob2, 0), scratch, cidx(ob2, 0), n, -1);
              }
              {
                B pb = B::atBlockBegin(loc, &where.getElseRegion().front());
                Value from = pebble(pb, dst);
                copyElems(pb, from, cidx(pb, 0), scratch, cidx(pb, 0), n, -1);
                if (checkAtol) {
                  Type et = type.getElementType();
                  Value tol = arith::ConstantOp::create(pb, FloatAttr::get(et, checkAtol.getValueAsDouble()));
                  Value no = arith::ConstantIntOp::create(pb, pb.getI1Type(), 0);
                  auto nonzero = scf::ForOp::create(
                      pb, cidx(pb, 0), n, cidx(pb, 1), ValueRange{no},
                      [&](OpBuilder &fb, Location floc, Value i, ValueRange acc) {
                        B cb(floc, fb);
                        Value v = memref::LoadOp::create(cb, from, i);
                        // Unordered: a NaN is not zero.
                        Value bad = arith::CmpFOp::create(cb, arith::CmpFPredicate::UGT,
                                                          math::AbsFOp::create(cb, v), tol);
                        scf::YieldOp::create(cb, ValueRange{arith::OrIOp::create(cb, acc[0], bad).getResult()});
                      });
                  Value ok = arith::XOrIOp::create(pb, nonzero.getResult(0),
                                                  arith::ConstantIntOp::create(pb, pb.getI1Type(), 1));
                  CheckOp::create(pb, ok,
                                  pb.getStringAttr("an uncomputed pebble is not zero: the recomputed "
                                                   "state differs from the stored one (the step is "
                                                   "not deterministic)"),
                                  pb.getStringAttr("rev.steps"));
                }
              }
              auto adjoint = scf::IfOp::create(ub2, bufTypes, isGrad, true);
              {
                // The step adjoint at s: x_s in old, x_{s+1} in scratch.
                B gb = B::atBlockEnd(loc, &adjoint.getThenRegion().front());
                fillZero(gb, bt, n);
                SmallVector<Value> bwdArgs = stepBackwardArgs(
                    callArgs, bwdType, pos, stepType, bt, bc, a.getParamShadows(), adjs);
                auto call = func::CallOp::create(gb, op.getStepBackwardAttr(), bwdType.getResults(), bwdArgs);
                // bt now holds the adjoint of x_s.
                SmallVector<Value> res{bt, bc};
                for (unsigned i = 0; i < adjs.size(); ++i)
                  res.push_back(call.getResult(numState + i));
                scf::YieldOp::create(gb, res);
              }
              {
                B nb = B::atBlockEnd(loc, &adjoint.getElseRegion().front());
                scf::YieldOp::create(nb, bufTypesVals);
              }
              scf::YieldOp::create(ub2, adjoint.getResults());
            }
            Value fwd1 = asIndex(lb2, isFwd);
            Value unc1 = arith::SubIOp::create(lb2, cidx(lb2, 1), fwd1);
            Value held = arith::SubIOp::create(lb2, arith::AddIOp::create(lb2, args[4], fwd1), unc1);
            SmallVector<Value> out{arith::SubIOp::create(lb2, depth, cidx(lb2, 1)),
                                   arith::AddIOp::create(lb2, args[1], fwd1),
                                   arith::AddIOp::create(lb2, args[2], unc1),
                                   arith::AddIOp::create(lb2, args[3], asIndex(lb2, isGrad)),
                                   held, arith::MaxUIOp::create(lb2, args[5], held)};
            llvm::append_range(out, move.getResults());
            scf::YieldOp::create(lb2, out);
          }
          {
            // Several steps: push the next child, or pop after the last.
            B pb = B::atBlockEnd(loc, &branch.getElseRegion().front());
            Value j = field(pb, top, J), base = field(pb, top, Base);
            Value bp = arith::MinUIOp::create(pb, chunks, len);
            Value q = arith::DivUIOp::create(pb, len, bp);
            Value small = arith::SubIOp::create(pb, bp, arith::RemUIOp::create(pb, len, bp));
            Value last = arith::SubIOp::create(pb, bp, cidx(pb, 1));
            Value total = arith::AddIOp::create(pb, bp, last);
            Value more = arith::CmpIOp::create(pb, arith::CmpIPredicate::ult, j, total);
            auto push = scf::IfOp::create(pb, TypeRange(), more, false);
            {
              B hb = B::atBlockBegin(loc, &push.getThenRegion().front());
              Value isFwd = arith::CmpIOp::create(hb, arith::CmpIPredicate::eq, mode, cidx(hb, Fwd));
              Value firstPart = arith::SelectOp::create(hb, isFwd, bp, last);
              Value inFirst = arith::CmpIOp::create(hb, arith::CmpIPredicate::ult, j, firstPart);
              // Chunk i: j in the first part, else 2bp-2-j (backwards).
              Value back = arith::SubIOp::create(hb, arith::SubIOp::create(hb, total, cidx(hb, 1)), j);
              Value i = arith::SelectOp::create(hb, inFirst, j, back);
              Value laterMode = arith::SelectOp::create(hb, isFwd, cidx(hb, Rev), mode);
              Value childMode = arith::SelectOp::create(hb, inFirst, cidx(hb, Fwd), laterMode);
              // Chunks 0..small-1 have q steps, the others q + 1.
              Value big = arith::CmpIOp::create(hb, arith::CmpIPredicate::uge, i, small);
              Value extra = arith::SelectOp::create(hb, big, arith::SubIOp::create(hb, i, small), cidx(hb, 0));
              Value off = arith::AddIOp::create(hb, arith::MulIOp::create(hb, i, q), extra);
              Value size = arith::AddIOp::create(hb, q, asIndex(hb, big));
              Value isFirst = arith::CmpIOp::create(hb, arith::CmpIPredicate::eq, i, cidx(hb, 0));
              Value childSrc = arith::SelectOp::create(
                  hb, isFirst, src, arith::SubIOp::create(hb, arith::AddIOp::create(hb, base, i), cidx(hb, 1)));
              Value isLast = arith::CmpIOp::create(hb, arith::CmpIPredicate::eq, i, last);
              Value childDst = arith::SelectOp::create(hb, isLast, dst, arith::AddIOp::create(hb, base, i));
              Value child = arith::MulIOp::create(hb, depth, cidx(hb, kFrame));
              SmallVector<Value> fields{arith::AddIOp::create(hb, s, off), size, childSrc, childDst,
                                        childMode, cidx(hb, 0), arith::AddIOp::create(hb, base, last)};
              for (auto [f, v] : llvm::enumerate(fields))
                memref::StoreOp::create(hb, v, stack,
                                        ValueRange{arith::AddIOp::create(hb, child, cidx(hb, f))});
              memref::StoreOp::create(hb, arith::AddIOp::create(hb, j, cidx(hb, 1)), stack,
                                      ValueRange{arith::AddIOp::create(hb, top, cidx(hb, J))});
            }
            Value next = arith::SelectOp::create(pb, more, arith::AddIOp::create(pb, depth, cidx(pb, 1)),
                                                 arith::SubIOp::create(pb, depth, cidx(pb, 1)));
            SmallVector<Value> out{next};
            llvm::append_range(out, args.drop_front(1));
            scf::YieldOp::create(pb, out);
          }
          scf::YieldOp::create(ib, branch.getResults());
        });
    copyElems(b, a.getInitShadow(), c0, loop.getResult(6), c0, n, 1);
    if (Value out = a.getUncomputeOut()) {
      auto none = scf::IfOp::create(b, TypeRange(), arith::XOrIOp::create(b, some, arith::ConstantIntOp::create(b, b.getI1Type(), 1)), false);
      B nb = B::atBlockBegin(op.getLoc(), &none.getThenRegion().front());
      copyElems(nb, out, cidx(nb, 0), a.getInit(), cidx(nb, 0), n, -1);
    }
    addCount(b, counts, kStepAdjoints, loop.getResult(3));
    addCount(b, counts, kSnapshots, c0, /*set=*/true);
    addCount(b, counts, kRuns, c1);
    addCount(b, counts, kComputeMoves, loop.getResult(1));
    addCount(b, counts, kUncomputeMoves, loop.getResult(2));
    addCount(b, counts, kPebbles, loop.getResult(5), /*set=*/true);
    addCount(b, counts, kLevels, k, /*set=*/true);
    for (Value buf : {pebbleBuf, scratch, bar, tbar, stack})
      memref::DeallocOp::create(b, buf);
    rw.replaceOp(op, loop.getResults().drop_front(kCarried));
    return success();
  }
};
} // namespace

void mlir::rev::populateRevStepsPatterns(RewritePatternSet &patterns) {
  patterns.add<StepsLowering, StepsAdjointLowering, StepsTangentLowering>(patterns.getContext());
}
