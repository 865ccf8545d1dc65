//===- LowerRev.cpp - rev to func/arith/math/scf/memref patterns ----------===//
#include "conversion/LowerRev.h"

#include "dialect/RevOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
Value negate(OpBuilder &b, Location loc, Value y);

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

/// `y op d` of an update op; the arith op of a recovery keeps its mark
/// (kRecoveryAttr), for --rev-fold-recoveries.
static Value buildUpdateArithmetic(UpdateOpInterface op, OpBuilder &b, Location loc, Value y,
                                   Value d) {
  Value r = op.buildArithmetic(b, loc, y, d);
  if (op->hasAttr(kRecoveryAttr) && isa<FloatType>(y.getType()))
    if (Operation *def = r.getDefiningOp())
      def->setAttr(kRecoveryAttr, b.getUnitAttr());
  return r;
}

/// Every update kind, through the arithmetic of its row in the table.
struct UpdateLowering : public OpInterfaceConversionPattern<UpdateOpInterface> {
  using OpInterfaceConversionPattern::OpInterfaceConversionPattern;
  LogicalResult matchAndRewrite(UpdateOpInterface op, ArrayRef<Value> operands,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op->getLoc();
    if (!op.isElementUpdate()) {
      rw.replaceOp(op, buildUpdateArithmetic(op, rw, loc, operands[0], operands[1]));
      return success();
    }
    Value ref = operands.front(), d = operands.back();
    ValueRange idx = ValueRange(operands).drop_front().drop_back();
    if (op->hasAttr(kAtomicUpdateAttr)) {
      // A shared accumulation in a parallel loop (ParallelForLowering).
      bool isFloat = isa<FloatType>(d.getType());
      if (op.getUpdateSign() < 0)
        d = negate(rw, loc, d);
      memref::AtomicRMWOp::create(rw, loc,
                                  isFloat ? arith::AtomicRMWKind::addf
                                          : arith::AtomicRMWKind::addi,
                                  d, ref, idx);
      rw.eraseOp(op);
      return success();
    }
    Value y = memref::LoadOp::create(rw, loc, ref, idx);
    memref::StoreOp::create(rw, loc, buildUpdateArithmetic(op, rw, loc, y, d), ref, idx);
    rw.eraseOp(op);
    return success();
  }
};

Value negate(OpBuilder &b, Location loc, Value y) {
  if (isa<FloatType>(y.getType()))
    return arith::NegFOp::create(b, loc, y);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(y.getType()));
  return arith::SubIOp::create(b, loc, zero, y);
}

/// (x, y) rotated by theta; `inverse` rotates by -theta.
std::pair<Value, Value> rotate(OpBuilder &b, Location loc, Value x, Value y, Value theta,
                               bool inverse) {
  Value c = math::CosOp::create(b, loc, theta), s = math::SinOp::create(b, loc, theta);
  Value xc = arith::MulFOp::create(b, loc, x, c), xs = arith::MulFOp::create(b, loc, x, s);
  Value yc = arith::MulFOp::create(b, loc, y, c), ys = arith::MulFOp::create(b, loc, y, s);
  if (!inverse)
    return {arith::SubFOp::create(b, loc, xc, ys), arith::AddFOp::create(b, loc, xs, yc)};
  return {arith::AddFOp::create(b, loc, xc, ys), arith::SubFOp::create(b, loc, yc, xs)};
}

struct NegLowering : public OpConversionPattern<NegOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(NegOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    rw.replaceOp(op, negate(rw, op.getLoc(), adaptor.getTarget()));
    return success();
  }
};

struct SwapLowering : public OpConversionPattern<SwapOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SwapOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    rw.replaceOp(op, ValueRange{adaptor.getRhs(), adaptor.getLhs()});
    return success();
  }
};

template <typename OpT, bool inverse>
struct RotLowering : public OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  using OpAdaptor = typename OpT::Adaptor;
  LogicalResult matchAndRewrite(OpT op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    auto [x, y] = rotate(rw, op.getLoc(), adaptor.getLhs(), adaptor.getRhs(),
                         adaptor.getTheta(), inverse);
    rw.replaceOp(op, ValueRange{x, y});
    return success();
  }
};

struct NegAtLowering : public OpConversionPattern<NegAtOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(NegAtOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value y = memref::LoadOp::create(rw, loc, adaptor.getRef(), adaptor.getIndices());
    memref::StoreOp::create(rw, loc, negate(rw, loc, y), adaptor.getRef(), adaptor.getIndices());
    rw.eraseOp(op);
    return success();
  }
};

struct SwapAtLowering : public OpConversionPattern<SwapAtOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SwapAtOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value l = memref::LoadOp::create(rw, loc, adaptor.getLhs(), adaptor.getLhsIndices());
    Value r = memref::LoadOp::create(rw, loc, adaptor.getRhs(), adaptor.getRhsIndices());
    memref::StoreOp::create(rw, loc, r, adaptor.getLhs(), adaptor.getLhsIndices());
    memref::StoreOp::create(rw, loc, l, adaptor.getRhs(), adaptor.getRhsIndices());
    rw.eraseOp(op);
    return success();
  }
};

template <typename OpT, bool inverse>
struct RotAtLowering : public OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  using OpAdaptor = typename OpT::Adaptor;
  LogicalResult matchAndRewrite(OpT op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    ValueRange li = adaptor.getLhsIndices(), ri = adaptor.getRhsIndices();
    Value x = memref::LoadOp::create(rw, loc, lhs, li);
    Value y = memref::LoadOp::create(rw, loc, rhs, ri);
    auto [nx, ny] = rotate(rw, loc, x, y, adaptor.getTheta(), inverse);
    memref::StoreOp::create(rw, loc, nx, lhs, li);
    memref::StoreOp::create(rw, loc, ny, rhs, ri);
    rw.eraseOp(op);
    return success();
  }
};

struct AllocLowering : public OpConversionPattern<AllocOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AllocOp op, OpAdaptor,
                                ConversionPatternRewriter &rw) const override {
    rw.replaceOpWithNewOp<arith::ConstantOp>(op, op.getInitValue());
    return success();
  }
};

/// rev.free (its check, if any, is a rev.check before it) and rev.discard
/// (an ancilla's adjoint, dropped unchecked) leave nothing.
template <typename OpT>
struct EraseLowering : public OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  using OpAdaptor = typename OpT::Adaptor;
  LogicalResult matchAndRewrite(OpT op, OpAdaptor,
                                ConversionPatternRewriter &rw) const override {
    rw.eraseOp(op);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Functions
//===----------------------------------------------------------------------===//

struct FuncLowering : public OpConversionPattern<FuncOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(FuncOp op, OpAdaptor,
                                ConversionPatternRewriter &rw) const override {
    auto nf = func::FuncOp::create(rw, op.getLoc(), op.getSymName(), op.getFunctionType());
    if (auto vis = op.getSymVisibilityAttr())
      nf.setSymVisibilityAttr(vis);
    if (auto argAttrs = op.getArgAttrsAttr())
      nf.setArgAttrsAttr(argAttrs);
    nf->setAttr("llvm.emit_c_interface", rw.getUnitAttr());
    for (StringRef name : {StringRef(kNoaliasPtrArgsAttr), StringRef(kNoaliasArgCountAttr),
                           StringRef(kLoopBudgetAttr), StringRef(kLoopBudgetTotalAttr),
                           StringRef("passthrough")})
      if (Attribute a = op->getAttr(name))
        nf->setAttr(name, a);
    rw.inlineRegionBefore(op.getBody(), nf.getBody(), nf.end());
    rw.eraseOp(op);
    return success();
  }
};

struct ReturnLowering : public OpConversionPattern<ReturnOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ReturnOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    rw.replaceOpWithNewOp<func::ReturnOp>(op, adaptor.getOperands());
    return success();
  }
};

struct CallLowering : public OpConversionPattern<CallOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(CallOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    auto call = rw.replaceOpWithNewOp<func::CallOp>(op, op.getCalleeAttr(), op.getResultTypes(),
                                                    adaptor.getOperands());
    // A resolved rev.grad_call asks for its gradient to be inlined: the
    // func-to-LLVM conversion keeps the mark, an LLVM call-site attribute.
    if (op->hasAttr(kAlwaysInlineAttr))
      call->setAttr(kAlwaysInlineAttr, rw.getUnitAttr());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

struct ForLowering : public OpConversionPattern<ForOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ForOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value lb = adaptor.getLowerBound(), ub = adaptor.getUpperBound(),
          step = adaptor.getStep();
    Value sum;
    if (op.getReverse()) {
      // Visit lb + last - k for k = lb, lb+s, ...: last = lb + ((ub-lb-1)/s)*s.
      Value one = arith::ConstantIndexOp::create(rw, loc, 1);
      Value span = arith::SubIOp::create(rw, loc, arith::SubIOp::create(rw, loc, ub, lb), one);
      Value trips = arith::DivSIOp::create(rw, loc, span, step);
      Value last =
          arith::AddIOp::create(rw, loc, lb, arith::MulIOp::create(rw, loc, trips, step));
      sum = arith::AddIOp::create(rw, loc, lb, last);
    }
    auto loop = scf::ForOp::create(rw, loc, lb, ub, step, adaptor.getInits());
    for (StringRef name :
         {StringRef(kTapeLoopAttr), StringRef(kTapeAdjointAttr), StringRef(kTapeInOrderAttr)})
      if (Attribute a = op->getAttr(name))
        loop->setAttr(name, a);
    Block *body = loop.getBody();
    if (!body->empty())
      rw.eraseOp(body->getTerminator());
    rw.setInsertionPointToStart(body);
    Value iv = loop.getInductionVar();
    if (sum) {
      iv = arith::SubIOp::create(rw, loc, sum, iv);
      if (op->hasAttr(kTapeAdjointAttr))
        iv.getDefiningOp()->setAttr(kTapeIndexAttr, rw.getUnitAttr());
    }
    SmallVector<Value> args{iv};
    llvm::append_range(args, loop.getRegionIterArgs());
    rw.mergeBlocks(op.getBodyBlock(), body, args);
    rw.replaceOp(op, loop.getResults());
    return success();
  }
};

/// rev.parallel_for -> scf.parallel. Each iteration's accumulators start at
/// zero and its final values are summed by scf.reduce (init + sum). The
/// element updates of shared accumulations (ParallelAccess::SharedAccumulate)
/// are marked for UpdateLowering to emit memref.atomic_rmw; a loop with an
/// `accumulate` attribute gives the scf.parallel `rev.accumulate` (the same
/// string) for --rev-privatize-atomics, which otherwise decides by itself.
struct ParallelForLowering : public OpConversionPattern<ParallelForOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ParallelForOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FailureOr<SmallVector<std::pair<Value, ParallelAccess>>> accesses =
        classifyParallelAccesses(op, /*emitErrors=*/false);
    if (failed(accesses))
      return rw.notifyMatchFailure(op, "iterations may race (the verifier says why)");
    for (auto [ref, kind] : *accesses) {
      if (kind != ParallelAccess::SharedAccumulate)
        continue;
      op.getBody().walk([&](UpdateOpInterface upd) {
        if (upd.isElementUpdate() && upd->getOperand(0) == ref)
          rw.modifyOpInPlace(upd, [&] { upd->setAttr(kAtomicUpdateAttr, rw.getUnitAttr()); });
      });
    }
    auto par = scf::ParallelOp::create(rw, loc, ValueRange{adaptor.getLowerBound()},
                                       ValueRange{adaptor.getUpperBound()},
                                       ValueRange{adaptor.getStep()}, adaptor.getInits());
    if (StringAttr strategy = op.getAccumulateAttr())
      par->setAttr("rev.accumulate", strategy);
    Block *body = par.getBody();
    if (!body->empty())
      rw.eraseOp(body->getTerminator());
    rw.setInsertionPointToStart(body);
    SmallVector<Value> args{par.getInductionVars().front()};
    for (Value init : adaptor.getInits())
      args.push_back(arith::ConstantOp::create(rw, loc, rw.getZeroAttr(init.getType())));
    rw.mergeBlocks(op.getBodyBlock(), body, args);
    rw.replaceOp(op, par.getResults());
    return success();
  }
};

struct IfLowering : public OpConversionPattern<IfOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(IfOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    ValueRange inits = adaptor.getInits();
    Value pre = cloneCondition(rw, op.getPre(), inits);
    auto sif = scf::IfOp::create(rw, loc, op.getResultTypes(), pre, /*addThenBlock=*/false,
                                 /*addElseBlock=*/false);
    for (auto [src, dst] :
         {std::pair{&op.getThenRegion(), &sif.getThenRegion()},
          std::pair{&op.getElseRegion(), &sif.getElseRegion()}}) {
      Block *block = rw.createBlock(dst);
      if (src->empty())
        scf::YieldOp::create(rw, loc, inits); // no else: the identity
      else
        rw.mergeBlocks(&src->front(), block, inits);
    }
    rw.replaceOp(op, sif.getResults());
    return success();
  }
};

struct WhileLowering : public OpConversionPattern<WhileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(WhileOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    TypeRange types = op.getResultTypes();
    auto loop = scf::WhileOp::create(rw, loc, types, adaptor.getInits());
    SmallVector<Location> locs(types.size(), loc);
    Block *before = rw.createBlock(&loop.getBefore(), {}, types, locs);
    Value c = cloneCondition(rw, op.getPre(), before->getArguments());
    scf::ConditionOp::create(rw, loc, c, before->getArguments());
    Block *after = rw.createBlock(&loop.getAfter(), {}, types, locs);
    rw.mergeBlocks(&op.getBody().front(), after, after->getArguments());
    rw.replaceOp(op, loop.getResults());
    return success();
  }
};

struct YieldLowering : public OpConversionPattern<YieldOp> {
  YieldLowering(MLIRContext *ctx, bool reassociateReductions)
      : OpConversionPattern(ctx), reassociateReductions(reassociateReductions) {}
  /// Whether a float accumulator's combiner carries `reassoc`: the order in
  /// which a parallel loop's iterations add up is not part of its meaning,
  /// and the flag on the combiner alone lets LLVM vectorise the loop with
  /// several partial sums (nothing else in the body is reassociated).
  bool reassociateReductions;
  LogicalResult matchAndRewrite(YieldOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    if (isa<scf::ParallelOp>(op->getParentOp())) {
      // Each iteration's accumulator values, summed.
      auto reduce = rw.replaceOpWithNewOp<scf::ReduceOp>(op, adaptor.getOperands());
      for (Region &r : reduce.getReductions()) {
        Block &block = r.front();
        rw.setInsertionPointToEnd(&block);
        Value lhs = block.getArgument(0), rhs = block.getArgument(1);
        Value sum;
        if (isa<FloatType>(lhs.getType())) {
          auto add = arith::AddFOp::create(rw, op.getLoc(), lhs, rhs);
          if (reassociateReductions)
            add.setFastmath(arith::FastMathFlags::reassoc);
          sum = add.getResult();
        } else {
          sum = arith::AddIOp::create(rw, op.getLoc(), lhs, rhs).getResult();
        }
        scf::ReduceReturnOp::create(rw, op.getLoc(), sum);
      }
      return success();
    }
    if (!isa<scf::ForOp, scf::IfOp, scf::WhileOp>(op->getParentOp()))
      return rw.notifyMatchFailure(op, "the region op is not lowered yet");
    rw.replaceOpWithNewOp<scf::YieldOp>(op, adaptor.getOperands());
    return success();
  }
};
} // namespace

void mlir::rev::populateRevOpLoweringPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<UpdateLowering>(ctx);
  patterns.add<NegLowering, SwapLowering, RotLowering<RotOp, false>, RotLowering<IRotOp, true>,
               NegAtLowering, SwapAtLowering, RotAtLowering<RotAtOp, false>,
               RotAtLowering<IRotAtOp, true>, AllocLowering, EraseLowering<FreeOp>,
               EraseLowering<DiscardOp>>(ctx);
}

void mlir::rev::populateRevFuncToFuncPatterns(RewritePatternSet &patterns) {
  patterns.add<FuncLowering, ReturnLowering, CallLowering>(patterns.getContext());
}

void mlir::rev::populateRevControlFlowToSCFPatterns(RewritePatternSet &patterns,
                                                    bool reassociateReductions) {
  patterns.add<ForLowering, ParallelForLowering, IfLowering, WhileLowering>(patterns.getContext());
  patterns.add<YieldLowering>(patterns.getContext(), reassociateReductions);
}

void mlir::rev::configureRevLoweringTarget(ConversionTarget &target) {
  target.addLegalDialect<arith::ArithDialect, cf::ControlFlowDialect, func::FuncDialect,
                         math::MathDialect, memref::MemRefDialect, scf::SCFDialect>();
  target.addIllegalDialect<RevDialect>();
}
