//===- GpuPreparePass.cpp - --rev-gpu-prepare -----------------------------===//
//
// Before the outermost scf.parallel loops become GPU kernels (rev-to-gpu):
// failed-check reports of the host check lowerings inside them become
// cf.assert (the device's __assertfail after --convert-gpu-to-nvvm), calls
// go to device variants of their callees (`@f_device`: the same, with
// cf.assert checks; gpu-kernel-outlining copies them into the kernel's
// gpu.module), and
// what a kernel cannot do (call an external function, touch a buffer that
// lives on the host) is a located error instead of a failure later, in the
// NVPTX back end or the driver, or a crash on the device. A loop without
// reductions runs only when its range is not empty (a launch of 0 blocks is
// an error in CUDA).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialect/RevOps.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVGPUPREPARE
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
bool isCheckReport(StringRef callee) {
  return callee == "write" || callee == "exit" || callee == "__rev_check_failed";
}

/// The message of a host check report `ifOp` (an scf.if without else whose
/// then-block gets a `__rev_check_msg_*` global and calls the reporting
/// functions), or nullopt if `ifOp` is something else.
std::optional<std::string> checkReportMessage(scf::IfOp ifOp, ModuleOp module) {
  if (ifOp.getNumResults() != 0 || !ifOp.getElseRegion().empty())
    return std::nullopt;
  std::optional<std::string> message;
  for (Operation &op : ifOp.getThenRegion().front()) {
    if (auto get = dyn_cast<memref::GetGlobalOp>(op)) {
      if (!get.getName().starts_with("__rev_check_msg_"))
        return std::nullopt;
      auto global = module.lookupSymbol<memref::GlobalOp>(get.getNameAttr());
      auto init = global ? dyn_cast_or_null<DenseElementsAttr>(global.getInitialValueAttr())
                         : DenseElementsAttr();
      if (!init || !init.getElementType().isInteger(8))
        return std::nullopt;
      std::string text;
      for (APInt c : init.getValues<APInt>())
        text.push_back(static_cast<char>(c.getZExtValue()));
      if (!text.empty() && text.back() == '\n')
        text.pop_back();
      message = text;
    } else if (auto call = dyn_cast<func::CallOp>(op)) {
      if (!isCheckReport(call.getCallee()))
        return std::nullopt;
    } else if (!isa<memref::ExtractAlignedPointerAsIndexOp, arith::IndexCastOp,
                    arith::ConstantOp, scf::YieldOp>(op)) {
      return std::nullopt;
    }
  }
  return message;
}

/// The value `v` is (a view of) a block argument of the function.
bool isFunctionArgument(Value v, Region *funcBody) {
  auto arg = dyn_cast<BlockArgument>(viewRoot(v));
  return arg && arg.getOwner()->getParent() == funcBody;
}

struct GpuPreparePass : public rev::impl::RevGpuPrepareBase<GpuPreparePass> {
  using RevGpuPrepareBase::RevGpuPrepareBase;

  /// The device variants of the functions that kernels call.
  llvm::DenseMap<Operation *, func::FuncOp> deviceVariants;

  /// Replaces the check reports under `root` by cf.assert.
  static void reportsToAsserts(Operation *root, ModuleOp module) {
    SmallVector<scf::IfOp> reports;
    root->walk([&](scf::IfOp ifOp) {
      if (checkReportMessage(ifOp, module))
        reports.push_back(ifOp);
    });
    for (scf::IfOp ifOp : reports) {
      std::string text = *checkReportMessage(ifOp, module);
      OpBuilder b(ifOp);
      Location loc = ifOp.getLoc();
      Value one = arith::ConstantIntOp::create(b, loc, 1, 1);
      Value ok = arith::XOrIOp::create(b, loc, ifOp.getCondition(), one);
      cf::AssertOp::create(b, loc, ok, text);
      ifOp.erase();
    }
  }

  /// Points the calls under `root` at device variants of their callees; an
  /// external callee is an error at the call.
  LogicalResult redirectCalls(Operation *root, ModuleOp module) {
    WalkResult r = root->walk([&](Operation *op) -> WalkResult {
      auto call = dyn_cast<CallOpInterface>(op);
      if (!call)
        return WalkResult::advance();
      auto callee = dyn_cast_or_null<FunctionOpInterface>(call.resolveCallable());
      if (!callee || callee.isExternal()) {
        op->emitOpError("is not supported in a GPU kernel (the body of a parallel loop): it "
                        "calls an external function, which has no device code");
        return WalkResult::interrupt();
      }
      auto funcCall = dyn_cast<func::CallOp>(op);
      auto funcCallee = dyn_cast<func::FuncOp>(callee.getOperation());
      if (!funcCall || !funcCallee)
        return WalkResult::advance();
      FailureOr<func::FuncOp> variant = deviceVariant(funcCallee, module);
      if (failed(variant))
        return WalkResult::interrupt();
      funcCall.setCallee(variant->getSymName());
      return WalkResult::advance();
    });
    return failure(r.wasInterrupted());
  }

  /// The device variant of `callee`: a private copy `@<name>_device` whose
  /// check reports are cf.assert and whose calls go to device variants (the
  /// host keeps the original, with its host check lowering). A recursive
  /// call goes to the variant being built.
  FailureOr<func::FuncOp> deviceVariant(func::FuncOp callee, ModuleOp module) {
    if (auto it = deviceVariants.find(callee); it != deviceVariants.end())
      return it->second;
    auto variant = callee.clone();
    variant.setSymName((callee.getSymName() + "_device").str());
    variant.setPrivate();
    variant->removeAttr("llvm.emit_c_interface");
    SymbolTable(module).insert(variant, std::next(Block::iterator(callee)));
    deviceVariants[callee] = variant;
    WalkResult nested = variant.walk([](scf::ParallelOp inner) {
      inner.emitOpError("is not supported in a function called from a GPU kernel (the body "
                        "of a parallel loop): only the outermost parallel loops become kernels");
      return WalkResult::interrupt();
    });
    if (nested.wasInterrupted())
      return failure();
    reportsToAsserts(variant, module);
    if (failed(redirectCalls(variant, module)))
      return failure();
    return variant;
  }

  LogicalResult prepare(scf::ParallelOp loop, ModuleOp module) {
    // 1. Check reports become cf.assert, calls go to device variants.
    reportsToAsserts(loop, module);
    if (failed(redirectCalls(loop, module)))
      return failure();
    // 2. Buffers of the host.
    auto func = loop->getParentOfType<FunctionOpInterface>();
    Region *funcBody = func ? &func.getFunctionBody() : nullptr;
    WalkResult r = loop->walk([&](Operation *op) -> WalkResult {
      for (Value v : op->getOperands()) {
        if (!isa<BaseMemRefType>(v.getType()))
          continue;
        // Defined inside the loop: a view or a kernel-local buffer.
        if (loop->isAncestor(v.getParentRegion()->getParentOp()))
          continue;
        if (funcBody && isFunctionArgument(v, funcBody))
          continue;
        InFlightDiagnostic diag =
            op->emitOpError("is not supported in a GPU kernel (the body of a parallel loop): "
                            "it uses a buffer of the host; only the memref arguments of the "
                            "function are device memory");
        if (Operation *def = v.getDefiningOp())
          diag.attachNote(def->getLoc()) << "the buffer is defined here";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return failure(r.wasInterrupted());
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module->walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>() && !loop->getParentOfType<gpu::GPUModuleOp>() &&
          !loop->getParentOfType<gpu::LaunchOp>())
        loops.push_back(loop);
    });
    bool failedAny = false;
    for (scf::ParallelOp loop : loops)
      failedAny |= failed(prepare(loop, module));
    if (failedAny)
      return signalPassFailure();
    // An empty loop launches no kernel: CUDA rejects a grid of 0 blocks
    // (the reducing loops get at least one block, --rev-gpu-reductions).
    for (scf::ParallelOp loop : loops) {
      if (loop.getNumResults() > 0)
        continue;
      OpBuilder b(loop);
      Location loc = loop.getLoc();
      Value nonEmpty;
      for (auto [lb, ub] : llvm::zip(loop.getLowerBound(), loop.getUpperBound())) {
        Value c = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, lb, ub);
        nonEmpty = nonEmpty ? arith::AndIOp::create(b, loc, nonEmpty, c).getResult() : c;
      }
      auto guard = scf::IfOp::create(b, loc, TypeRange{}, nonEmpty, /*withElse=*/false);
      loop->moveBefore(guard.thenBlock()->getTerminator());
    }
  }
};
} // namespace
