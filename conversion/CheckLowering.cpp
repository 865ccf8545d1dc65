//===- CheckLowering.cpp - rev.check on the CPU and in kernels ------------===//
//
// Three mappings of a failed run-time check:
//  * libc (CPU): write(2, message) then exit(1), declared in the check's
//    symbol table; the message is a private constant global. exit flushes
//    what the program printed before, and the message survives pipes (which
//    is why this, not cf.assert, is the CPU mapping);
//  * runtime (CPU, the Python package): a call of
//    __rev_check_failed(message, length) from librev_runtime.so (runtime/),
//    which returns control to the guarded call that the Python package made
//    (it raises RevError), or outside a guard writes the message and exits(1)
//    like libc;
//  * assert: cf.assert with the message, which the GPU lowering turns into
//    the device's __assertfail (and the CPU one into abort).
//
//===----------------------------------------------------------------------===//
#include "conversion/LowerRev.h"

#include "dialect/RevOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
/// The external function `name` of type `type`, declared at the start of
/// `table` unless it is already there; a located error if the symbol is
/// something else.
FailureOr<func::FuncOp> declare(ConversionPatternRewriter &rw, Operation *table, Operation *user,
                                StringRef name, FunctionType type, StringRef what) {
  if (Operation *existing = SymbolTable::lookupSymbolIn(table, name)) {
    auto f = dyn_cast<func::FuncOp>(existing);
    if (!f || f.getFunctionType() != type) {
      InFlightDiagnostic diag = user->emitOpError()
                                << "cannot report a failed check: symbol @" << name
                                << " is reserved by checked mode (" << what << " " << name
                                << type << ")";
      diag.attachNote(existing->getLoc()) << "symbol defined here";
      return diag;
    }
    return f;
  }
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(&table->getRegion(0).front());
  auto f = func::FuncOp::create(rw, table->getLoc(), name, type);
  f.setPrivate();
  return f;
}

/// cf.assert with the check's message (without the trailing newline).
LogicalResult lowerToAssert(CheckOp op, Value condition, ConversionPatternRewriter &rw) {
  std::string text = op.getFailureMessage();
  if (!text.empty() && text.back() == '\n')
    text.pop_back();
  auto assertOp = rw.replaceOpWithNewOp<cf::AssertOp>(op, condition, text);
  assertOp->setAttr(kCheckFailureAttr, rw.getUnitAttr());
  return success();
}

/// The message of a failed check as a private constant global, and a branch
/// taken when the check fails, in which `report(b, loc, ptr, len)` gets the
/// message's address and length (i64 both). The branch must not return to
/// the program (the callees exit or jump back to a guard).
template <typename Derived>
struct CheckToCall : public OpConversionPattern<CheckOp> {
  using OpConversionPattern::OpConversionPattern;
  mutable unsigned nextMessage = 0;

  LogicalResult matchAndRewrite(CheckOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Operation *table = SymbolTable::getNearestSymbolTable(op);
    // Host code only: a check in a gpu.module (a kernel) has no libc or
    // runtime to call, it becomes cf.assert.
    if (!isa<ModuleOp>(table))
      return lowerToAssert(op, adaptor.getCondition(), rw);
    auto report = static_cast<const Derived *>(this)->declareCallees(rw, table, op);
    if (failed(report))
      return failure();

    Type i8 = rw.getI8Type(), i64 = rw.getI64Type();
    std::string text = op.getFailureMessage();
    auto type = MemRefType::get({static_cast<int64_t>(text.size())}, i8);
    auto data = DenseElementsAttr::get(RankedTensorType::get(type.getShape(), i8),
                                       llvm::ArrayRef<char>(text.data(), text.size()));
    // The next free name, probing from where the last check of this
    // conversion stopped (each probe is a walk of the module's symbols: from
    // 0 each time, checked code with thousands of checks took seconds).
    std::string name;
    for (;; ++nextMessage) {
      name = "__rev_check_msg_" + std::to_string(nextMessage);
      if (!SymbolTable::lookupSymbolIn(table, name))
        break;
    }
    ++nextMessage;
    {
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(&table->getRegion(0).front());
      memref::GlobalOp::create(rw, loc, name, rw.getStringAttr("private"), type, data,
                               /*constant=*/true, /*alignment=*/IntegerAttr());
    }
    Value one = arith::ConstantIntOp::create(rw, loc, 1, 1);
    Value failedCond = arith::XOrIOp::create(rw, loc, adaptor.getCondition(), one);
    auto ifOp = scf::IfOp::create(rw, loc, failedCond, [&](OpBuilder &b, Location l) {
      Value msg = memref::GetGlobalOp::create(b, l, type, name);
      Value ptr = memref::ExtractAlignedPointerAsIndexOp::create(b, l, msg);
      Value ptr64 = arith::IndexCastOp::create(b, l, i64, ptr);
      Value len = arith::ConstantIntOp::create(b, l, text.size(), 64);
      static_cast<const Derived *>(this)->emitReport(b, l, *report, ptr64, len);
      scf::YieldOp::create(b, l);
    });
    ifOp->setAttr(kCheckFailureAttr, rw.getUnitAttr());
    rw.eraseOp(op);
    return success();
  }
};

/// write(2, msg, len); exit(1).
struct CheckToLibc : public CheckToCall<CheckToLibc> {
  using CheckToCall::CheckToCall;
  using Callees = std::pair<func::FuncOp, func::FuncOp>;

  FailureOr<Callees> declareCallees(ConversionPatternRewriter &rw, Operation *table,
                                    CheckOp op) const {
    MLIRContext *ctx = op.getContext();
    Type i32 = rw.getI32Type(), i64 = rw.getI64Type();
    FailureOr<func::FuncOp> write = declare(rw, table, op, "write",
                                            FunctionType::get(ctx, {i32, i64, i64}, {i64}),
                                            "C library");
    FailureOr<func::FuncOp> exitFn =
        declare(rw, table, op, "exit", FunctionType::get(ctx, {i32}, {}), "C library");
    if (failed(write) || failed(exitFn))
      return failure();
    return Callees{*write, *exitFn};
  }

  void emitReport(OpBuilder &b, Location l, const Callees &fns, Value ptr, Value len) const {
    Value fd = arith::ConstantIntOp::create(b, l, 2, 32);
    func::CallOp::create(b, l, fns.first, ValueRange{fd, ptr, len});
    Value code = arith::ConstantIntOp::create(b, l, 1, 32);
    func::CallOp::create(b, l, fns.second, ValueRange{code});
  }
};

/// __rev_check_failed(msg, len) (librev_runtime.so).
struct CheckToRuntime : public CheckToCall<CheckToRuntime> {
  using CheckToCall::CheckToCall;

  FailureOr<func::FuncOp> declareCallees(ConversionPatternRewriter &rw, Operation *table,
                                         CheckOp op) const {
    Type i64 = rw.getI64Type();
    return declare(rw, table, op, "__rev_check_failed",
                   FunctionType::get(op.getContext(), {i64, i64}, {}), "rev runtime");
  }

  void emitReport(OpBuilder &b, Location l, func::FuncOp fn, Value ptr, Value len) const {
    func::CallOp::create(b, l, fn, ValueRange{ptr, len});
  }
};

struct CheckToAssert : public OpConversionPattern<CheckOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(CheckOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    return lowerToAssert(op, adaptor.getCondition(), rw);
  }
};
} // namespace

void mlir::rev::populateRevCheckToLibcPatterns(RewritePatternSet &patterns) {
  patterns.add<CheckToLibc>(patterns.getContext());
}

void mlir::rev::populateRevCheckToRuntimePatterns(RewritePatternSet &patterns) {
  patterns.add<CheckToRuntime>(patterns.getContext());
}

void mlir::rev::populateRevCheckToAssertPatterns(RewritePatternSet &patterns) {
  patterns.add<CheckToAssert>(patterns.getContext());
}

bool mlir::rev::isRevCheckLowering(StringRef mode) {
  return mode == "libc" || mode == "runtime" || mode == "assert";
}

void mlir::rev::populateRevCheckPatterns(RewritePatternSet &patterns, StringRef mode) {
  if (mode == "libc")
    populateRevCheckToLibcPatterns(patterns);
  else if (mode == "runtime")
    populateRevCheckToRuntimePatterns(patterns);
  else
    populateRevCheckToAssertPatterns(patterns);
}
