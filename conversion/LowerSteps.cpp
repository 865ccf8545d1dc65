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
// @_mlir_rev_steps_counts: [advancing steps, step adjoints, last c, runs].
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

using namespace mlir;
using namespace mlir::rev;

namespace {
using B = ImplicitLocOpBuilder;

Value cidx(B &b, int64_t v) { return arith::ConstantIndexOp::create(b, v); }

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

/// The public global memref<4xi64> of the counters (created once).
Value countsBuffer(B &b, Operation *op, ConversionPatternRewriter &rw) {
  auto module = op->getParentOfType<ModuleOp>();
  auto type = MemRefType::get({4}, b.getI64Type());
  if (!SymbolTable::lookupSymbolIn(module, kCountsGlobal)) {
    OpBuilder::InsertionGuard g(rw);
    rw.setInsertionPointToStart(module.getBody());
    auto init = DenseElementsAttr::get(RankedTensorType::get({4}, b.getI64Type()),
                                       rw.getI64IntegerAttr(0).getValue());
    memref::GlobalOp::create(rw, op->getLoc(), kCountsGlobal, /*sym_visibility=*/StringAttr(), type,
                             init, /*constant=*/false, /*alignment=*/nullptr);
  }
  return memref::GetGlobalOp::create(b, type, kCountsGlobal);
}

void addCount(B &b, Value counts, int64_t slot, Value v, bool set = false) {
  Value idx = cidx(b, slot);
  Value v64 = arith::IndexCastOp::create(b, b.getI64Type(), v);
  if (!set)
    v64 = arith::AddIOp::create(b, memref::LoadOp::create(b, counts, idx), v64);
  memref::StoreOp::create(b, v64, counts, idx);
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
      c = arith::DivUIOp::create(b, cidx(b, op.getMemoryBudgetAttr().getInt()), stateBytes);
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
    SmallVector<Type> types;
    for (Value v : inits)
      types.push_back(v.getType());
    constexpr unsigned kCarried = 7;

    auto loop = scf::WhileOp::create(
        b, types, inits,
        [&](OpBuilder &ob, Location loc, ValueRange args) {
          B ib(loc, ob);
          Value more = arith::CmpIOp::create(ib, arith::CmpIPredicate::ugt, args[0], cidx(ib, 0));
          scf::ConditionOp::create(ib, more, args);
        },
        [&](OpBuilder &ob, Location loc, ValueRange args) {
          B ib(loc, ob);
          Value depth = args[0], advanced = args[1], leaves = args[2];
          Value xc = args[3], xn = args[4], bc = args[5], bt = args[6];
          ValueRange adjs = args.drop_front(kCarried);
          Value top = arith::SubIOp::create(ib, depth, cidx(ib, 1));
          Value base = arith::MulIOp::create(ib, top, cidx(ib, 4));
          auto field = [&](B &fb, Value at, int k) {
            return memref::LoadOp::create(fb, stack, ValueRange{arith::AddIOp::create(fb, at, cidx(fb, k))})
                .getResult();
          };
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
            SmallVector<Value> bwdArgs(callArgs);
            bwdArgs.resize(cast<FunctionType>(bwd.getFunctionType()).getNumInputs());
            unsigned nextShadow = 0, nextAdj = 0;
            for (auto [i, p] : llvm::enumerate(pos)) {
              if (p < 0)
                continue;
              if (i == 1)
                bwdArgs[p] = bt;
              else if (i == 2)
                bwdArgs[p] = bc;
              else if (isa<MemRefType>(stepType.getInput(i)))
                bwdArgs[p] = a.getParamShadows()[nextShadow++];
              else
                bwdArgs[p] = adjs[nextAdj++];
            }
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
    addCount(b, counts, 0, loop.getResult(1));
    addCount(b, counts, 1, loop.getResult(2));
    addCount(b, counts, 2, c, /*set=*/true);
    addCount(b, counts, 3, c1);
    for (Value buf : {cur, nxt, bar, tbar, snaps, stack, last})
      if (buf)
        memref::DeallocOp::create(b, buf);
    rw.replaceOp(op, loop.getResults().drop_front(kCarried));
    return success();
  }
};
} // namespace

void mlir::rev::populateRevStepsPatterns(RewritePatternSet &patterns) {
  patterns.add<StepsLowering, StepsAdjointLowering, StepsTangentLowering>(patterns.getContext());
}
