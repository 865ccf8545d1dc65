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
  /// Element updates of a rev.parallel_for's shared accumulations: other
  /// iterations add to the same elements, so the updated element is not
  /// read back (that read would race); their deltas are checked.
  llvm::DenseSet<Operation *> sharedUpdates;

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
  void checkDisjointArguments(FuncOp f);
  /// `v` is neither infinite nor NaN.
  void checkFinite(OpBuilder &b, Location loc, Value v, Operation *origin, StringRef rule);
  /// Each index is in [0, size) of its dimension of `ref`.
  void checkInBounds(OpBuilder &b, Location loc, Value ref, ValueRange indices,
                     Operation *origin);
  void checkOp(Operation *op);
  /// Dimension 0 of each of `others` equals that of `ref`.
  void checkSameSize(OpBuilder &b, Location loc, Value ref, ArrayRef<Value> others,
                     Operation *origin, StringRef rule) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value n = memref::DimOp::create(b, loc, ref, zero);
    for (Value other : others)
      check(b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, n,
                                  memref::DimOp::create(b, loc, other, zero)),
            origin, rule);
  }
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

void CheckInserter::checkFinite(OpBuilder &b, Location loc, Value v, Operation *origin,
                                StringRef rule) {
  if (!isa<FloatType>(v.getType()))
    return;
  auto type = cast<FloatType>(v.getType());
  Value inf = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(type, APFloat::getInf(type.getFloatSemantics())));
  // |v| != inf, ordered: false for NaN and for +-inf.
  Value ok = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                   math::AbsFOp::create(b, loc, v), inf);
  check(b, loc, ok, origin, rule);
}

void CheckInserter::checkInBounds(OpBuilder &b, Location loc, Value ref, ValueRange indices,
                                  Operation *origin) {
  for (auto [d, index] : llvm::enumerate(indices)) {
    Value size = memref::DimOp::create(b, loc, ref, d);
    // Unsigned: a negative index is a huge one.
    Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index, size);
    check(b, loc, ok, origin,
          ("index out of bounds in dimension " + Twine(d) + " of the memref").str());
  }
}

/// Two memref arguments of which one is written must not share memory: the
/// function's inverse and derivatives assume they are distinct (checked
/// through their byte ranges, from the strided metadata).
void CheckInserter::checkDisjointArguments(FuncOp f) {
  if (f.getBody().empty())
    return;
  Block &entry = f.getBody().front();
  SmallVector<BlockArgument> memrefs;
  for (BlockArgument a : entry.getArguments())
    if (isa<MemRefType>(a.getType()))
      memrefs.push_back(a);
  if (memrefs.size() < 2)
    return;
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  Location loc = f.getLoc();
  // [lo, hi) in bytes of each memref argument.
  SmallVector<std::pair<Value, Value>> ranges;
  for (BlockArgument a : memrefs) {
    auto type = cast<MemRefType>(a.getType());
    auto meta = memref::ExtractStridedMetadataOp::create(b, loc, a);
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, a);
    // Element sizes: rev's element types are integers, floats and index (64
    // bits on the targets rev lowers to).
    Type elem = type.getElementType();
    unsigned bits = elem.isIndex() ? 64 : elem.getIntOrFloatBitWidth();
    Value elt = arith::ConstantIndexOp::create(b, loc, std::max(1u, bits / 8));
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value last = meta.getOffset(); // the element offset of the last element
    Value empty = arith::ConstantIntOp::create(b, loc, 0, 1);
    for (auto [size, stride] : llvm::zip(meta.getSizes(), meta.getStrides())) {
      Value span = arith::MulIOp::create(b, loc, arith::SubIOp::create(b, loc, size, one), stride);
      last = arith::AddIOp::create(b, loc, last, span);
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      empty = arith::OrIOp::create(
          b, loc, empty, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, size, zero));
    }
    Value lo = arith::AddIOp::create(b, loc, base,
                                     arith::MulIOp::create(b, loc, meta.getOffset(), elt));
    Value hi = arith::AddIOp::create(
        b, loc, base,
        arith::MulIOp::create(b, loc, arith::AddIOp::create(b, loc, last, one), elt));
    // An empty memref occupies nothing.
    hi = arith::SelectOp::create(b, loc, empty, lo, hi);
    ranges.emplace_back(lo, hi);
  }
  for (unsigned i = 0; i < memrefs.size(); ++i)
    for (unsigned j = i + 1; j < memrefs.size(); ++j) {
      if (!writesMemRef(f, memrefs[i]) && !writesMemRef(f, memrefs[j]))
        continue;
      auto [lo1, hi1] = ranges[i];
      auto [lo2, hi2] = ranges[j];
      Value overlap = arith::AndIOp::create(
          b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, lo1, hi2),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, lo2, hi1));
      check(b, loc, negate(b, loc, overlap), f,
            ("memref arguments #" + Twine(memrefs[i].getArgNumber()) + " and #" +
             Twine(memrefs[j].getArgNumber()) + " share memory")
                .str());
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
    Value d = update.getDelta();
    checkFinite(b, loc, d, op, "delta is not finite (inf or NaN)");
    if (update.isElementUpdate()) {
      Value ref = op->getOperand(0);
      ValueRange idx = op->getOperands().drop_front().drop_back();
      checkInBounds(b, loc, ref, idx, op);
      checkNoAlias(b, op, ref, idx);
      if (isa<FloatType>(d.getType()) && !sharedUpdates.contains(op)) {
        b.setInsertionPointAfter(op);
        checkFinite(b, loc, memref::LoadOp::create(b, loc, ref, idx), op,
                    "the updated element is not finite (overflow)");
      }
    } else if (isa<FloatType>(d.getType())) {
      b.setInsertionPointAfter(op);
      checkFinite(b, loc, op->getResult(0), op, "the updated value is not finite (overflow)");
    }
    return;
  }
  if (auto neg = dyn_cast<NegAtOp>(op)) {
    checkInBounds(b, loc, neg.getRef(), neg.getIndices(), op);
    return;
  }
  if (auto swap = dyn_cast<SwapAtOp>(op)) {
    checkInBounds(b, loc, swap.getLhs(), swap.getLhsIndices(), op);
    checkInBounds(b, loc, swap.getRhs(), swap.getRhsIndices(), op);
    return;
  }
  if (auto load = dyn_cast<memref::LoadOp>(op)) {
    checkInBounds(b, loc, load.getMemRef(), load.getIndices(), op);
    return;
  }
  if (isa<RotOp, IRotOp>(op)) {
    checkFinite(b, loc, op->getOperand(2), op, "rotation angle is not finite (inf or NaN)");
    return;
  }
  if (isa<RotAtOp, IRotAtOp>(op)) {
    auto rot = dyn_cast<RotAtOp>(op);
    auto irot = dyn_cast<IRotAtOp>(op);
    Value lhs = rot ? rot.getLhs() : irot.getLhs();
    Value rhs = rot ? rot.getRhs() : irot.getRhs();
    ValueRange li = rot ? rot.getLhsIndices() : irot.getLhsIndices();
    ValueRange ri = rot ? rot.getRhsIndices() : irot.getRhsIndices();
    checkInBounds(b, loc, lhs, li, op);
    checkInBounds(b, loc, rhs, ri, op);
    checkFinite(b, loc, rot ? rot.getTheta() : irot.getTheta(), op,
                "rotation angle is not finite (inf or NaN)");
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
  // rev.steps and its derivative ops: every state-shaped memref has the size
  // of `init` (the lowering indexes them all by init's size).
  if (auto steps = dyn_cast<StepsOp>(op)) {
    checkSameSize(b, loc, steps.getInit(), {steps.getOut()}, op,
                  "'out' does not have the size of 'init'");
    return;
  }
  if (auto tan = dyn_cast<StepsTangentOp>(op)) {
    checkSameSize(b, loc, tan.getInit(), {tan.getOut(), tan.getInitTangent(), tan.getOutTangent()},
                  op, "'out' or a tangent does not have the size of 'init'");
    return;
  }
  if (auto adj = dyn_cast<StepsAdjointOp>(op)) {
    SmallVector<Value> sized{adj.getInitShadow(), adj.getOutShadow()};
    if (Value out = adj.getUncomputeOut())
      sized.push_back(out);
    checkSameSize(b, loc, adj.getInit(), sized, op,
                  "a shadow or 'out' does not have the size of 'init'");
    adj.setCheckAtolAttr(b.getF64FloatAttr(atol));
    return;
  }
  if (isa<ForOp, ParallelForOp>(op)) {
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    check(b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, op->getOperand(2), zero),
          op, "loop step must be positive");
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
  for (FuncOp f : funcs)
    checkDisjointArguments(f);
  for (FuncOp f : funcs)
    f.walk([&](ParallelForOp loop) {
      FailureOr<SmallVector<std::pair<Value, ParallelAccess>>> accesses =
          classifyParallelAccesses(loop, /*emitErrors=*/false);
      if (failed(accesses))
        return;
      for (auto [ref, kind] : *accesses)
        if (kind == ParallelAccess::SharedAccumulate)
          loop.getBody().walk([&](UpdateOpInterface u) {
            if (u.isElementUpdate() && u->getOperand(0) == ref)
              sharedUpdates.insert(u);
          });
    });
  SmallVector<Operation *> ops;
  for (FuncOp f : funcs)
    f.walk([&](Operation *op) {
      // Condition regions stay pure (a check is an effect): loads there are
      // not bounds-checked (a known gap, docs/design.md).
      Block *block = op->getBlock();
      if (block && !block->empty() && isa<CondOp>(block->back()))
        return;
      // So do the regions of other dialects' pure ops (scf.execute_region):
      // a check inside would make the op one that changes state.
      if (Operation *parent = op->getParentOp();
          parent && !isa_and_nonnull<RevDialect>(parent->getDialect()))
        return;
      if (isa<UpdateOpInterface, RotOp, IRotOp, RotAtOp, IRotAtOp, NegAtOp, SwapAtOp,
              memref::LoadOp, FreeOp, ForOp, ParallelForOp, IfOp, WhileOp, StepsOp,
              StepsAdjointOp, StepsTangentOp>(op))
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
    // Checked mode computes every recovery as written, to compare it.
    if (reversibility)
      getOperation()->walk([](UpdateOpInterface op) { op->removeAttr(kRecoveryAttr); });
    CheckInserter(reversibility, atol).run(getOperation());
  }
};
} // namespace
