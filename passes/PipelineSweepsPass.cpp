//===- PipelineSweepsPass.cpp - --rev-pipeline-sweeps ---------------------===//
//
// Software pipelining of element loops whose forward part divides (the
// fused gradient of a series per element: 28 independent divisions, then a
// serial chain of multiply-adds on the adjoints). LLVM vectorises such a
// loop but keeps each element's forward part before its backward part, so
// the divider idles during the chain and the multipliers wait during the
// divisions. Here the loop becomes a loop over vectors whose every step
// runs the forward part of the next vector of elements interleaved with the
// backward part of the current one:
//
//   scf.for %i = %lb to %ub step 1 { F(i); B(i, F's values) }
// ->
//   %nvec = max(%ub - %lb, 0) floordiv VL
//   scf.if %nvec > 0 {
//     %buf = memref.alloca() : memref<2 x N x vector<VL x T>>
//     F(lb) -> buf[0]
//     scf.for %j = 0 to %nvec - 1 {          // p = j mod 2
//       F(lb + (j + 1) VL) -> buf[1 - p]  interleaved with  B(lb + j VL) <- buf[p]
//     }
//     B(lb + (nvec - 1) VL) <- buf[(nvec - 1) mod 2]
//   }
//   scf.for %i = %lb + nvec VL to %ub step 1 { F(i); B(i) }   // the rest
//
// The buffer is allocated at the function's entry (or, under rev-to-openmp,
// at the start of the enclosing scf.parallel's body: one per thread). The
// buffer's parity index is a run-time value, so LLVM cannot tell the
// stores of one half from the loads of the other and keeps the interleaved
// order (with the values in registers, its scheduler gathers the next
// vector's divisions at the end of the step again: measured no faster).
// Exact: each element sees the same operations in the same order.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "conversion/LowerRev.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVPIPELINESWEEPS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
/// A memref argument of the function around `loop` (an entry-block
/// argument), rank 1, identity layout, whose element type is `elem`.
bool isPlainArgument(Value memref, func::FuncOp fn, Type elem) {
  auto arg = dyn_cast<BlockArgument>(memref);
  if (!arg || arg.getOwner() != &fn.getBody().front())
    return false;
  auto type = dyn_cast<MemRefType>(arg.getType());
  return type && type.getRank() == 1 && type.getLayout().isIdentity() &&
         type.getElementType() == elem;
}

/// An arith or math op that maps elementwise onto vectors and has no
/// memory effects or regions.
bool isElementwise(Operation *op) {
  if (!isa<arith::ArithDialect, math::MathDialect>(op->getDialect()))
    return false;
  if (isa<arith::ConstantOp>(op))
    return false;
  return op->hasTrait<OpTrait::Elementwise>() && op->getNumRegions() == 0 &&
         op->getNumResults() == 1 && isMemoryEffectFree(op);
}

/// A division or square root: the ops whose latency the pipelining hides (a
/// division by a constant power of two is not one: LLVM multiplies).
bool isLongLatency(Operation *op) {
  if (isa<math::SqrtOp, math::RsqrtOp>(op))
    return true;
  auto div = dyn_cast<arith::DivFOp>(op);
  if (!div)
    return false;
  FloatAttr c;
  if (matchPattern(div.getRhs(), m_Constant(&c))) {
    const APFloat &v = c.getValue();
    return !(v.isFinite() && !v.isZero() && v.getExactLog2Abs() != INT_MIN);
  }
  return true;
}

/// At most this many carried values (the stack buffer: 2 x 1024 vectors,
/// 64 KiB at 256 bits).
constexpr size_t kMaxCarried = 1024;

/// What the pipelined loop is made of.
struct Plan {
  FloatType elem;
  unsigned lanes = 0;
  SmallVector<Operation *> forward, backward; // program order each
  SmallVector<Value> carried;                 // forward values the backward uses
};

/// The plan for `loop`, or nothing where it does not qualify (see the pass
/// description).
std::optional<Plan> analyseBody(Block *body, Value iv, func::FuncOp fn, unsigned vectorBits,
                                unsigned minDivisions) {
  // The float type: the first load's element type.
  FloatType elem;
  for (Operation &op : body->without_terminator())
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      elem = dyn_cast<FloatType>(load.getType());
      break;
    }
  if (!elem || elem.getWidth() > vectorBits || vectorBits % elem.getWidth() != 0)
    return std::nullopt;
  Plan plan;
  plan.elem = elem;
  plan.lanes = vectorBits / elem.getWidth();
  if (plan.lanes < 2)
    return std::nullopt;

  // Shapes first: every op a load/store at [iv] of a plain memref argument,
  // or an elementwise op on `elem`; operands from outside: `elem` scalars.
  llvm::SmallDenseSet<Value> written;
  for (Operation &op : body->without_terminator()) {
    auto check = [&](Value memref, ValueRange indices) {
      return isPlainArgument(memref, fn, elem) && indices.size() == 1 && indices[0] == iv;
    };
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      if (!check(load.getMemRef(), load.getIndices()))
        return std::nullopt;
      continue;
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      if (!check(store.getMemRef(), store.getIndices()))
        return std::nullopt;
      written.insert(store.getMemRef());
      continue;
    }
    if (!isElementwise(&op))
      return std::nullopt;
    for (Type t : llvm::concat<const Type>(op.getOperandTypes(), op.getResultTypes()))
      if (t != elem)
        return std::nullopt;
  }
  // The induction variable only as the index of loads and stores (checked
  // above for those: any other user is a non-memory op on an index, which
  // the float-only check rejected).
  // Forward-eligible: ops that depend only on loads of memrefs the loop
  // does not write and on values from outside. Distinct memref arguments of
  // a function lowered from a rev.func do not share memory where one is
  // written (kNoaliasArgCountAttr).
  llvm::SmallDenseSet<Operation *> eligible;
  SmallVector<Operation *> worklist;
  for (Operation &op : body->without_terminator()) {
    bool ok;
    if (auto load = dyn_cast<memref::LoadOp>(op))
      ok = !written.contains(load.getMemRef());
    else if (isa<memref::StoreOp>(op))
      ok = false;
    else
      ok = llvm::all_of(op.getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return !def || def->getBlock() != body || eligible.contains(def);
      });
    if (!ok)
      continue;
    eligible.insert(&op);
    if (isLongLatency(&op))
      worklist.push_back(&op);
  }
  unsigned divisions = worklist.size();
  if (divisions < std::max(minDivisions, 1u))
    return std::nullopt;
  // The forward part: the eligible divisions and square roots and what
  // they are computed from (the rest, the uses of their results included,
  // stays in the backward part, which reads the divisions' results from the
  // buffer: the fewest values cross, the most work is left to overlap).
  llvm::SmallDenseSet<Operation *> isForward(worklist.begin(), worklist.end());
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp();
          def && def->getBlock() == body && isForward.insert(def).second)
        worklist.push_back(def);
  }
  for (Operation &op : body->without_terminator())
    (isForward.contains(&op) ? plan.forward : plan.backward).push_back(&op);
  // Work to overlap the divisions with: at least an op per division.
  if (plan.backward.size() < divisions)
    return std::nullopt;
  llvm::SmallDenseSet<Value> seen;
  for (Operation *op : plan.backward)
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp();
          def && isForward.contains(def) && seen.insert(v).second)
        plan.carried.push_back(v);
  // The carried values live in a stack buffer of 2 x carried vectors.
  if (plan.carried.empty() || plan.carried.size() > kMaxCarried)
    return std::nullopt;
  return plan;
}

std::optional<Plan> analyse(scf::ForOp loop, func::FuncOp fn, unsigned vectorBits,
                            unsigned minDivisions) {
  if (loop.getNumResults() != 0 || loop.getUnsignedCmp())
    return std::nullopt;
  std::optional<int64_t> step = getConstantIntValue(loop.getStep());
  if (!step || *step != 1)
    return std::nullopt;
  return analyseBody(loop.getBody(), loop.getInductionVar(), fn, vectorBits, minDivisions);
}

/// A one-dimensional scf.parallel with step 1 and no reductions whose body
/// would qualify as an scf.for's: split into chunks of `chunk` elements
/// (scf.parallel over the chunks, an scf.for over each chunk's elements),
/// the scf.for returned for pipelining.
std::optional<scf::ForOp> chunkParallel(scf::ParallelOp par, func::FuncOp fn,
                                        unsigned vectorBits, unsigned minDivisions,
                                        unsigned chunk) {
  if (par.getNumLoops() != 1 || par.getNumReductions() != 0 || par.getNumResults() != 0)
    return std::nullopt;
  std::optional<int64_t> step = getConstantIntValue(par.getStep()[0]);
  if (!step || *step != 1)
    return std::nullopt;
  std::optional<Plan> plan =
      analyseBody(par.getBody(), par.getInductionVars()[0], fn, vectorBits, minDivisions);
  if (!plan)
    return std::nullopt;
  // whole vectors per chunk
  int64_t size = std::max<int64_t>(chunk, plan->lanes);
  size = (size + plan->lanes - 1) / plan->lanes * plan->lanes;
  OpBuilder b(par);
  Location loc = par.getLoc();
  Value ub = par.getUpperBound()[0];
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value csize = arith::ConstantIndexOp::create(b, loc, size);
  auto chunks = scf::ParallelOp::create(b, loc, ValueRange{par.getLowerBound()[0]},
                                        ValueRange{ub}, ValueRange{csize});
  for (NamedAttribute a : par->getDiscardableAttrs())
    chunks->setAttr(a.getName(), a.getValue());
  b.setInsertionPointToStart(chunks.getBody());
  Value start = chunks.getInductionVars()[0];
  // start + min(size, ub - start): no overflow (start < ub here)
  Value rest = arith::SubIOp::create(b, loc, ub, start);
  Value end = arith::AddIOp::create(b, loc, start, arith::MinUIOp::create(b, loc, csize, rest));
  auto loop = scf::ForOp::create(b, loc, start, end, c1);
  Block *from = par.getBody();
  Block *to = loop.getBody();
  to->getOperations().splice(to->begin(), from->getOperations(), from->begin(),
                             std::prev(from->end()));
  par.getInductionVars()[0].replaceAllUsesWith(loop.getInductionVar());
  par.erase();
  return loop;
}

/// Emits the vector forms of `loop`'s ops.
class Emitter {
public:
  Emitter(OpBuilder &b, scf::ForOp loop, const Plan &plan)
      : b(b), loop(loop), plan(plan),
        vecType(VectorType::get({static_cast<int64_t>(plan.lanes)}, plan.elem)) {
    for (auto [i, v] : llvm::enumerate(plan.carried))
      slot[v] = i;
  }

  VectorType vectorType() const { return vecType; }

  /// Broadcasts of the scalars from outside the loop that the body uses,
  /// at the builder's point (before the pipelined loop).
  void broadcastOutsideValues() {
    for (Operation &op : loop.getBody()->without_terminator())
      for (Value v : op.getOperands()) {
        if (v == loop.getInductionVar() || outside.count(v) || isa<MemRefType>(v.getType()))
          continue;
        Operation *def = v.getDefiningOp();
        if (def && def->getBlock() == loop.getBody())
          continue;
        outside[v] = vector::BroadcastOp::create(b, loop.getLoc(), vecType, v);
      }
  }

  /// One op in vector form at element `base`; `map` holds the vector forms
  /// of the values defined so far in this stage.
  void emit(Operation *op, Value base, IRMapping &map) {
    Location loc = op->getLoc();
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      map.map(load.getResult(), vector::LoadOp::create(b, loc, vecType, load.getMemRef(),
                                                       ValueRange{base}));
      return;
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      vector::StoreOp::create(b, loc, operand(store.getValueToStore(), map), store.getMemRef(),
                              ValueRange{base});
      return;
    }
    // An elementwise op: the same op on vectors (attributes, fast-math
    // flags included, kept).
    Operation *clone = b.clone(*op);
    for (OpOperand &use : clone->getOpOperands())
      use.set(operand(use.get(), map));
    clone->getResult(0).setType(vecType);
    map.map(op->getResult(0), clone->getResult(0));
  }

  /// The vector form of `v` in the stage whose values `map` holds.
  Value operand(Value v, IRMapping &map) {
    if (Value m = map.lookupOrNull(v))
      return m;
    auto it = outside.find(v);
    assert(it != outside.end() && "a body value used before the stage defines it");
    return it->second;
  }

  /// Stores `v`'s vector form into buf[half, slot(v)] if the backward part
  /// uses it.
  void carryOut(Value v, Value buf, Value half, IRMapping &map) {
    auto it = slot.find(v);
    if (it == slot.end())
      return;
    Value idx = arith::ConstantIndexOp::create(b, loop.getLoc(), it->second);
    memref::StoreOp::create(b, loop.getLoc(), map.lookup(v), buf, ValueRange{half, idx});
  }

  /// Loads the carried forward values that `op` uses (and the map does not
  /// hold yet) from buf[half, slot].
  void carryIn(Operation *op, Value buf, Value half, IRMapping &map) {
    for (Value v : op->getOperands()) {
      auto it = slot.find(v);
      if (it == slot.end() || map.contains(v))
        continue;
      Value idx = arith::ConstantIndexOp::create(b, loop.getLoc(), it->second);
      map.map(v, memref::LoadOp::create(b, loop.getLoc(), buf, ValueRange{half, idx}));
    }
  }

  /// The forward part at element `base`, its carried values into buf[half].
  void forward(Value base, Value buf, Value half) {
    IRMapping map;
    for (Operation *op : plan.forward) {
      emit(op, base, map);
      for (Value r : op->getResults())
        carryOut(r, buf, half, map);
    }
  }

  /// The backward part at element `base`, the carried values from buf[half].
  void backward(Value base, Value buf, Value half) {
    IRMapping map;
    for (Operation *op : plan.backward) {
      carryIn(op, buf, half, map);
      emit(op, base, map);
    }
  }

  /// The forward part at `next` (into buf[out]) interleaved with the
  /// backward part at `base` (from buf[in]): each part in its own order,
  /// the two merged in proportion to their lengths, so that the forward's
  /// divisions spread over the backward's chain.
  void interleaved(Value next, Value out, Value base, Value in, Value buf) {
    IRMapping fmap, bmap;
    size_t nf = plan.forward.size(), nb = plan.backward.size(), f = 0, k = 0;
    while (f < nf || k < nb) {
      // the part that is behind (by fraction done) goes next
      bool takeForward = k == nb || (f < nf && f * nb <= k * nf);
      if (takeForward) {
        Operation *op = plan.forward[f++];
        emit(op, next, fmap);
        for (Value r : op->getResults())
          carryOut(r, buf, out, fmap);
      } else {
        Operation *op = plan.backward[k++];
        carryIn(op, buf, in, bmap);
        emit(op, base, bmap);
      }
    }
  }

private:
  OpBuilder &b;
  scf::ForOp loop;
  const Plan &plan;
  VectorType vecType;
  llvm::DenseMap<Value, unsigned> slot;
  llvm::DenseMap<Value, Value> outside;
};

/// Rewrites `loop` as described at the top of the file.
void pipeline(scf::ForOp loop, const Plan &plan, bool perThread) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  Value lb = loop.getLowerBound(), ub = loop.getUpperBound();
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value c2 = arith::ConstantIndexOp::create(b, loc, 2);
  Value vl = arith::ConstantIndexOp::create(b, loc, plan.lanes);
  // ub - lb wraps for extreme bounds; once ub > lb (signed) it is exact as
  // an unsigned number.
  Value nonEmpty = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, ub, lb);
  Value count = arith::SelectOp::create(b, loc, nonEmpty,
                                        arith::SubIOp::create(b, loc, ub, lb), c0);
  Value nvec = arith::DivUIOp::create(b, loc, count, vl);
  Value vecEnd =
      arith::AddIOp::create(b, loc, lb, arith::MulIOp::create(b, loc, nvec, vl));
  Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, nvec, c0);
  Emitter emitter(b, loop, plan);
  auto ifOp = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    emitter.broadcastOutsideValues();
    auto bufType = MemRefType::get({2, static_cast<int64_t>(plan.carried.size())},
                                   emitter.vectorType());
    // The buffer, once per function (at its entry: the loop may sit in
    // another loop, and an alloca there would grow the stack every time),
    // or once per iteration of the enclosing scf.parallel where its
    // iterations run on threads (perThread: rev-to-openmp, which gives each
    // iteration its own stack scope).
    Operation *scope = loop->getParentOfType<func::FuncOp>();
    if (perThread)
      if (auto par = loop->getParentOfType<scf::ParallelOp>())
        scope = par;
    Value buf;
    {
      OpBuilder::InsertionGuard atScope(b);
      b.setInsertionPointToStart(&scope->getRegion(0).front());
      buf = memref::AllocaOp::create(b, loc, bufType);
    }
    emitter.forward(lb, buf, c0);
    Value last = arith::SubIOp::create(b, loc, nvec, c1);
    auto steps = scf::ForOp::create(b, loc, c0, last, c1);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(steps.getBody());
      Value j = steps.getInductionVar();
      Value base = arith::AddIOp::create(b, loc, lb, arith::MulIOp::create(b, loc, j, vl));
      Value next = arith::AddIOp::create(b, loc, base, vl);
      Value in = arith::RemUIOp::create(b, loc, j, c2);
      Value out = arith::SubIOp::create(b, loc, c1, in);
      emitter.interleaved(next, out, base, in, buf);
    }
    Value lastBase =
        arith::AddIOp::create(b, loc, lb, arith::MulIOp::create(b, loc, last, vl));
    emitter.backward(lastBase, buf, arith::RemUIOp::create(b, loc, last, c2));
  }
  // The elements after the last full vector: the original loop.
  loop.getLowerBoundMutable().assign(vecEnd);
}

struct PipelineSweepsPass : public rev::impl::RevPipelineSweepsBase<PipelineSweepsPass> {
  using RevPipelineSweepsBase::RevPipelineSweepsBase;

  void runOnOperation() override {
    if (vectorBits != 128 && vectorBits != 256 && vectorBits != 512 && vectorBits != 1024) {
      getOperation()->emitError()
          << "--rev-pipeline-sweeps: vector-bits must be 128, 256, 512 or 1024, got "
          << static_cast<unsigned>(vectorBits);
      return signalPassFailure();
    }
    SmallVector<std::pair<scf::ForOp, Plan>> todo;
    getOperation()->walk([&](func::FuncOp fn) {
      if (!fn->hasAttr(kNoaliasArgCountAttr))
        return;
      if (parallelChunk > 0) {
        SmallVector<scf::ParallelOp> pars;
        fn.walk([&](scf::ParallelOp par) { pars.push_back(par); });
        for (scf::ParallelOp par : pars)
          (void)chunkParallel(par, fn, vectorBits, minDivisions, parallelChunk);
      }
      fn.walk([&](scf::ForOp loop) {
        // A loop in an scf.parallel's body gets its buffer there (one per
        // iteration, so per thread); that needs the stack scope that
        // convert-scf-to-openmp gives each iteration: only in that mode
        // (parallel-chunk > 0, rev-to-openmp). Otherwise such loops stay.
        if (parallelChunk == 0 && loop->getParentOfType<scf::ParallelOp>())
          return;
        if (std::optional<Plan> plan = analyse(loop, fn, vectorBits, minDivisions))
          todo.emplace_back(loop, std::move(*plan));
      });
    });
    for (auto &[loop, plan] : todo)
      pipeline(loop, plan, /*perThread=*/parallelChunk > 0);
  }
};
} // namespace
