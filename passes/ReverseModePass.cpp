//===- ReverseModePass.cpp - --rev-ad -------------------------------------===//
#include "passes/Passes.h"

#include "transforms/MarkedFunctions.h"
#include "transforms/ReverseMode.h"

#include <functional>

namespace mlir::rev {
#define GEN_PASS_DEF_REVAD
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
/// Whether `f` holds a marked top-level forward loop, itself or in a function
/// it calls (rev.call) at its top level, transitively: --rev-tape-loops
/// inlines such calls into the gradient and stores for their loops too.
bool holdsMarkedLoops(FuncOp f, llvm::DenseSet<Operation *> &visiting) {
  if (f.getBody().empty() || !visiting.insert(f).second)
    return false;
  std::function<bool(Block &)> holds = [&](Block &block) {
    return llvm::any_of(block, [&](Operation &op) {
      if (isa<ForOp>(op))
        return op.hasAttr(kTapeLoopAttr);
      // (a loop or a call in a top-level branch)
      if (auto branch = dyn_cast<IfOp>(op))
        return llvm::any_of(op.getRegions(),
                            [&](Region &r) { return !r.empty() && holds(r.front()); });
      if (auto call = dyn_cast<CallOp>(op))
        if (auto callee =
                SymbolTable::lookupNearestSymbolFrom<FuncOp>(call, call.getCalleeAttr()))
          return holdsMarkedLoops(callee, visiting);
      return false;
    });
  };
  bool found = holds(f.getBody().front());
  visiting.erase(f);
  return found;
}

struct RevADPass : public rev::impl::RevADBase<RevADPass> {
  using RevADBase::RevADBase;

  /// Replaces every rev.grad_call by a rev.call of the gradient (or its
  /// N-seed copy) of its callee, generating the gradients it lacks with
  /// `generate`. (A rev.grad_call stands outside rev.funcs, so no function
  /// being differentiated holds one.)
  LogicalResult resolveGradCalls(function_ref<FailureOr<FuncOp>(FuncOp)> generate) {
    SmallVector<GradCallOp> calls;
    getOperation()->walk([&](GradCallOp op) { calls.push_back(op); });
    for (GradCallOp call : calls) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(call, call.getCalleeAttr());
      if (!callee)
        return call.emitOpError() << "callee " << call.getCalleeAttr() << " is not a rev.func";
      FuncOp grad = findMarkedFunction(callee, kGradientOfAttr);
      if (!grad) {
        FailureOr<FuncOp> made = generate(callee);
        if (failed(made))
          return call.emitOpError() << "asks for the gradient of " << call.getCalleeAttr()
                                    << ", which could not be generated (the errors above)";
        grad = *made;
      }
      if (call.getSeeds() > 1) {
        FailureOr<FuncOp> seeded =
            getOrCreateSeededFunction(grad, static_cast<unsigned>(call.getSeeds()));
        if (failed(seeded))
          return call.emitOpError() << "asks for the " << call.getSeeds() << "-seed gradient of "
                                    << call.getCalleeAttr()
                                    << ", which could not be built (the errors above)";
        grad = *seeded;
      }
      if (!llvm::equal(grad.getArgumentTypes(), call.getOperandTypes()))
        return call.emitOpError() << "operand types (" << call.getOperandTypes()
                                  << ") do not match @" << grad.getSymName() << "'s arguments ("
                                  << TypeRange(grad.getArgumentTypes()) << ")";
      // The verifier's aliasing rule, against the gradient itself: it may
      // write a primal memref that @f only reads (a gradient that runs @f
      // forwards passes it to a rev.call, which counts as a write).
      Block &entry = grad.getBody().front();
      if (auto pair = findWrittenAlias(call.getOperands(), [&](unsigned i) {
            return writesMemRef(grad, entry.getArgument(i));
          }))
        return call.emitOpError() << "passes the same memref as operands #" << pair->first
                                  << " and #" << pair->second << " and @" << grad.getSymName()
                                  << " writes (or passes to a call) one of them: "
                                  << "aliasing is not reversible";
      OpBuilder b(call);
      auto resolved = CallOp::create(b, call.getLoc(), call.getResultTypes(),
                                     FlatSymbolRefAttr::get(grad.getSymNameAttr()),
                                     call.getOperands());
      // A driver calls a gradient per element: inlined, its stack shadows
      // become registers (LLVM ignores the mark where inlining is impossible).
      resolved->setAttr(kAlwaysInlineAttr, b.getUnitAttr());
      call.replaceAllUsesWith(resolved.getResults());
      call.erase();
    }
    return success();
  }

  void runOnOperation() override {
    if (!parallelAccumulate.empty() && parallelAccumulate != "atomic" &&
        parallelAccumulate != "privatize") {
      getOperation().emitError() << "rev-ad: parallel-accumulate must be 'atomic' or "
                                    "'privatize', not '"
                                 << parallelAccumulate << "'";
      return signalPassFailure();
    }
    if (memoryBudget < -1) {
      getOperation().emitError() << "rev-ad: memory-budget must be a number of bytes (or -1), not "
                                 << static_cast<int64_t>(memoryBudget);
      return signalPassFailure();
    }
    FailureOr<SmallVector<FuncOp>> selected =
        selectRevFuncs(getOperation(), funcs, "rev-ad", [](FuncOp f) {
          return !f->hasAttr(kBackwardOfAttr) && !findMarkedFunction(f, kGradientOfAttr);
        });
    if (failed(selected))
      return signalPassFailure();
    if (loopBudget < 0) {
      getOperation().emitError() << "rev-ad: loop-budget must be a number of bytes per "
                                    "iteration >= 0, not "
                                 << static_cast<int64_t>(loopBudget);
      return signalPassFailure();
    }
    // Marks for --rev-tape-loops: the top-level forward loops of every
    // function whose backward sweep does not exist yet (the selected ones and
    // the callees whose backward sweeps are generated on demand, so that a
    // later rev-ad of a callee still finds its marked pair); their backward
    // loops inherit the mark in the adjoint rule of rev.for. Ids are unique
    // in the module (earlier runs' marks included).
    // Loops store values with a per-iteration budget (loop-budget), or with
    // a budget in bytes in all (memory-budget > 0; without loop-budget each
    // iteration may store whatever pays), or both. memory-budget=0 stores
    // nothing anywhere.
    bool tapeLoops = memoryBudget != 0 && (loopBudget > 0 || memoryBudget > 0);
    int64_t perIteration = loopBudget > 0 ? int64_t(loopBudget) : (int64_t(1) << 30);
    if (tapeLoops) {
      int64_t nextTapeId = 0;
      getOperation().walk([&](ForOp loop) {
        if (auto id = loop->getAttrOfType<IntegerAttr>(kTapeLoopAttr))
          nextTapeId = std::max(nextTapeId, id.getInt() + 1);
      });
      getOperation().walk([&](FuncOp g) {
        if (g->hasAttr(kBackwardOfAttr) || findMarkedFunction(g, kBackwardOfAttr) ||
            g.getBody().empty())
          return;
        // The top-level loops (directly or in top-level branches), and the
        // loops nested in the body of a marked loop, directly or in its
        // branches (their tapes hold one value per iteration of the nest).
        std::function<void(Block &)> mark = [&](Block &block) {
          for (Operation &op : block) {
            if (auto loop = dyn_cast<ForOp>(op); loop && !loop.getReverse()) {
              if (!loop->hasAttr(kTapeLoopAttr))
                loop->setAttr(kTapeLoopAttr, IntegerAttr::get(IntegerType::get(&getContext(), 64),
                                                              nextTapeId++));
              mark(loop.getBody().front());
            } else if (auto branch = dyn_cast<IfOp>(op)) {
              for (Region *r : {&branch.getThenRegion(), &branch.getElseRegion()})
                if (!r->empty())
                  mark(r->front());
            }
          }
        };
        mark(g.getBody().front());
      });
    }
    // The gradient of one function, with the pass's options.
    auto generate = [&](FuncOp f) -> FailureOr<FuncOp> {
      llvm::DenseSet<Operation *> visiting;
      bool marked = tapeLoops && holdsMarkedLoops(f, visiting);
      FailureOr<FuncOp> bwd = getOrCreateBackwardFunction(f);
      if (failed(bwd))
        return failure();
      std::string gradName = uniqueSymbolName(f, f.getSymName() + "_grad");
      FailureOr<FuncOp> grad = FuncOp();
      if (fuseSweeps) {
        // A fusion the rules allow but the engine cannot build falls back to
        // the plain gradient (which reports real errors itself).
        ScopedDiagnosticHandler quiet(&getContext(), [](Diagnostic &) { return success(); });
        grad = buildFusedGradientFunction(f, gradName);
      }
      if (failed(grad) || !*grad)
        grad = buildGradientFunction(f, *bwd, gradName);
      if (failed(grad))
        return failure();
      if (adjointOnly)
        makeAdjointOnly(f, *grad);
      if (marked) {
        auto i64 = IntegerType::get(&getContext(), 64);
        (*grad)->setAttr(kLoopBudgetAttr, IntegerAttr::get(i64, perIteration));
        if (memoryBudget > 0)
          (*grad)->setAttr(kLoopBudgetTotalAttr, IntegerAttr::get(i64, memoryBudget));
      }
      return grad;
    };
    if (failed(resolveGradCalls(generate)))
      return signalPassFailure();
    if (onlyGradCalls)
      selected->clear();
    for (FuncOp f : *selected) {
      if (findMarkedFunction(f, kGradientOfAttr))
        continue;
      if (failed(generate(f)))
        return signalPassFailure();
    }
    if (memoryBudget >= 0)
      getOperation().walk([&](StepsAdjointOp op) {
        if (op.getMemoryBudgetAttr().getInt() == -1)
          op.setMemoryBudgetAttr(IntegerAttr::get(IntegerType::get(op.getContext(), 64), memoryBudget));
      });
    if (parallelAccumulate.empty())
      return;
    // Backward loops whose forward loop set no strategy (also in the callees'
    // backward functions generated on demand).
    StringAttr strategy = StringAttr::get(&getContext(), parallelAccumulate);
    getOperation().walk([&](FuncOp f) {
      bool grad = f->hasAttr(kGradientOfAttr);
      if (!f->hasAttr(kBackwardOfAttr) && !grad)
        return;
      f.walk([&](ParallelForOp loop) {
        // In a gradient: its fused loops only (the others are forward loops).
        if (grad && !loop->hasAttr(kFusedSweepsAttr))
          return;
        if (!loop.getAccumulateAttr())
          loop.setAccumulateAttr(strategy);
      });
    });
  }
};
} // namespace
