//===- InsertChecksPass.cpp - --rev-insert-checks -------------------------===//
//
// Checked mode as IR: before each op whose reversibility depends on run-time
// values, a `rev.check` of the condition that makes it reversible, naming
// the rule and the op. The lowering maps rev.check to what fits the target
// (--lower-rev check-lowering=libc|assert). Runs after routine and uncall
// expansion, so the checks also cover uncompute steps and generated
// inverses.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialect/RevOps.h"
#include "transforms/Differentiation.h"
#include "transforms/MarkedFunctions.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVINSERTCHECKS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
class CheckInserter {
public:
  CheckInserter(bool reversibility, double atol) : reversibility(reversibility), atol(atol) {}

  void run(Operation *root);

private:
  bool reversibility;
  double atol;
  /// The loads in the pure slices of each *_at op's delta/angle, collected
  /// before any check is inserted.
  llvm::DenseMap<Operation *, SmallVector<memref::LoadOp>> sliceLoads;

  void check(OpBuilder &b, Location loc, Value cond, Operation *origin, StringRef rule) {
    CheckOp::create(b, loc, cond, b.getStringAttr(rule),
                    b.getStringAttr(origin->getName().getStringRef()));
  }
  Value negate(OpBuilder &b, Location loc, Value c) {
    Value one = arith::ConstantIntOp::create(b, loc, 1, 1);
    return arith::XOrIOp::create(b, loc, c, one);
  }
  Value anyDiffer(OpBuilder &b, Location loc, ValueRange a, ValueRange c);

  void checkShadowShapes(FuncOp f);
  void checkOp(Operation *op);
  void checkNoAlias(OpBuilder &b, Operation *op, Value ref, ValueRange indices);
};

Value CheckInserter::anyDiffer(OpBuilder &b, Location loc, ValueRange a, ValueRange c) {
  Value acc;
  for (auto [x, y] : llvm::zip(a, c)) {
    Value ne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x, y);
    acc = acc ? arith::OrIOp::create(b, loc, acc, ne).getResult() : ne;
  }
  return acc ? acc : arith::ConstantIntOp::create(b, loc, /*value=*/0, /*width=*/1);
}

/// A derivative function's shadow memrefs must have their memrefs' shapes (a
/// shorter shadow would be read out of bounds).
void CheckInserter::checkShadowShapes(FuncOp f) {
  FuncOp primal = differentiatedFunction(f);
  if (!primal || f.getBody().empty())
    return;
  Block &entry = f.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  Location loc = f.getLoc();
  SmallVector<int> pos = derivativeArgPositions(primal.getArgumentTypes());
  for (auto [i, t] : llvm::enumerate(primal.getArgumentTypes())) {
    if (!isActiveMemRef(t))
      continue;
    auto type = cast<MemRefType>(t);
    Value a = entry.getArgument(i), s = entry.getArgument(pos[i]);
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d))
        continue;
      Value di = arith::ConstantIndexOp::create(b, loc, d);
      Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       memref::DimOp::create(b, loc, a, di),
                                       memref::DimOp::create(b, loc, s, di));
      check(b, loc, ok, f,
            ("the shadow of memref argument #" + Twine(i) + " has a different size in "
             "dimension " + Twine(d))
                .str());
    }
  }
}

void CheckInserter::checkNoAlias(OpBuilder &b, Operation *op, Value ref, ValueRange indices) {
  for (memref::LoadOp load : sliceLoads.lookup(op)) {
    if (load.getMemRef() != ref)
      continue;
    check(b, op->getLoc(), anyDiffer(b, op->getLoc(), indices, load.getIndices()), op,
          "element aliasing: the delta reads the element being updated");
  }
}

void CheckInserter::checkOp(Operation *op) {
  OpBuilder b(op);
  Location loc = op->getLoc();
  if (auto update = dyn_cast<UpdateOpInterface>(op)) {
    StringRef message = update.getNonZeroCheckMessage();
    if (!message.empty()) {
      Value d = update.getDelta();
      Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(d.getType()));
      check(b, loc, arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, d, zero), op,
            message);
    }
    if (update.isElementUpdate())
      checkNoAlias(b, op, op->getOperand(0), op->getOperands().drop_front().drop_back());
    return;
  }
  if (isa<RotAtOp, IRotAtOp>(op)) {
    auto rot = dyn_cast<RotAtOp>(op);
    auto irot = dyn_cast<IRotAtOp>(op);
    Value lhs = rot ? rot.getLhs() : irot.getLhs();
    Value rhs = rot ? rot.getRhs() : irot.getRhs();
    ValueRange li = rot ? rot.getLhsIndices() : irot.getLhsIndices();
    ValueRange ri = rot ? rot.getRhsIndices() : irot.getRhsIndices();
    if (lhs == rhs)
      check(b, loc, anyDiffer(b, loc, li, ri), op,
            "element aliasing: both rotated elements are the same");
    checkNoAlias(b, op, lhs, li);
    checkNoAlias(b, op, rhs, ri);
    return;
  }
  if (auto free = dyn_cast<FreeOp>(op)) {
    Value v = free.getTarget();
    Value init = arith::ConstantOp::create(b, loc, free.getInitValue());
    Value ok;
    if (isa<FloatType>(v.getType())) {
      Value mag = math::AbsFOp::create(b, loc, arith::SubFOp::create(b, loc, v, init));
      Value tol = arith::ConstantOp::create(b, loc, b.getFloatAttr(v.getType(), atol));
      ok = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, mag, tol);
    } else {
      ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v, init);
    }
    check(b, loc, ok, op, "ancilla not restored to its initial value");
    return;
  }
  if (auto loop = dyn_cast<ForOp>(op)) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    check(b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, loop.getStep(), zero), op,
          "loop step must be positive");
    return;
  }
  if (auto ifOp = dyn_cast<IfOp>(op)) {
    // pre == post, checked at the end of each branch (where pre's value is
    // known: true in `then`, false in `else`), so that no value is read
    // after the if consumed it. A missing `else` becomes the identity.
    Region &post = ifOp.hasPost() ? ifOp.getPost() : ifOp.getPre();
    if (!ifOp.hasElse()) {
      Block *block = b.createBlock(&ifOp.getElseRegion());
      for (Value v : ifOp.getInits())
        block->addArgument(v.getType(), v.getLoc());
      YieldOp::create(b, loc, block->getArguments());
    }
    for (auto [branch, expected] :
         {std::pair{&ifOp.getThenRegion(), true}, std::pair{&ifOp.getElseRegion(), false}}) {
      Operation *yield = branch->front().getTerminator();
      b.setInsertionPoint(yield);
      Value holds = cloneCondition(b, post, yield->getOperands());
      check(b, loc, expected ? holds : negate(b, loc, holds), op,
            "post-condition disagrees with pre-condition");
    }
    return;
  }
  if (auto loop = dyn_cast<WhileOp>(op)) {
    check(b, loc, negate(b, loc, cloneCondition(b, loop.getPost(), loop.getInits())), op,
          "post-condition holds on entry");
    Operation *yield = loop.getBody().front().getTerminator();
    b.setInsertionPoint(yield);
    check(b, loc, cloneCondition(b, loop.getPost(), yield->getOperands()), op,
          "post-condition false after an iteration");
    return;
  }
}

void CheckInserter::run(Operation *root) {
  SmallVector<FuncOp> funcs = collectRevFuncs(root);
  for (FuncOp f : funcs)
    checkShadowShapes(f);
  if (!reversibility)
    return;
  SmallVector<Operation *> ops;
  for (FuncOp f : funcs)
    f.walk([&](Operation *op) {
      if (isa<UpdateOpInterface, RotAtOp, IRotAtOp, FreeOp, ForOp, IfOp, WhileOp>(op))
        ops.push_back(op);
    });
  for (Operation *op : ops) {
    Value read;
    if (auto update = dyn_cast<UpdateOpInterface>(op); update && update.isElementUpdate())
      read = update.getDelta();
    else if (auto rot = dyn_cast<RotAtOp>(op))
      read = rot.getTheta();
    else if (auto irot = dyn_cast<IRotAtOp>(op))
      read = irot.getTheta();
    if (!read)
      continue;
    llvm::SetVector<Operation *> loads;
    walkPureSlice(read, [&](Value x) {
      if (auto load = x.getDefiningOp<memref::LoadOp>())
        loads.insert(load);
    });
    for (Operation *l : loads)
      sliceLoads[op].push_back(cast<memref::LoadOp>(l));
  }
  for (Operation *op : ops)
    checkOp(op);
}

struct RevInsertChecksPass : public rev::impl::RevInsertChecksBase<RevInsertChecksPass> {
  using RevInsertChecksBase::RevInsertChecksBase;
  void runOnOperation() override {
    CheckInserter(reversibility, atol).run(getOperation());
  }
};
} // namespace
