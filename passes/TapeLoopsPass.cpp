//===- TapeLoopsPass.cpp - --rev-tape-loops -------------------------------===//
//
// Stores chosen values of a forward loop for its backward sweep, within the
// per-iteration budget that rev-ad{loop-budget=B} put on the gradient (see
// Passes.td and docs/memory.md, "Loops"). Runs on lowered code (func/scf/
// arith/math/memref), where a tape is just a memref:
//
//   fwd: scf.for %j = lb to ub step s iter_args(state)       {rev.tape_loop}
//   bwd: scf.for %j = lb to ub step s iter_args(state, adjs) {rev.tape_adjoint}
//
// The backward loop's k-th iteration reverses the forward's (n-1-k)-th; its
// first region iter_args are the state after that forward iteration, and its
// yield's first operands the state before it (recovered by uncomputing).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "conversion/LowerRev.h"
#include "dialect/RevOps.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <deque>
#include <map>
#include <functional>

namespace mlir::rev {
#define GEN_PASS_DEF_REVTAPELOOPS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
/// The static cost model: what recomputing one op costs, roughly in cycles
/// of a scalar add (a libm transcendental ~20, a division or root ~6).
int64_t opCost(Operation *op) {
  if (op->hasTrait<OpTrait::ConstantLike>())
    return 0;
  if (isa<math::SinOp, math::CosOp, math::TanOp, math::ExpOp, math::Exp2Op, math::ExpM1Op,
          math::LogOp, math::Log1pOp, math::Log2Op, math::Log10Op, math::AtanOp, math::Atan2Op,
          math::TanhOp, math::SinhOp, math::CoshOp, math::AsinOp, math::AcosOp, math::PowFOp,
          math::ErfOp>(op))
    return 20;
  if (isa<math::SqrtOp, math::RsqrtOp, arith::DivFOp, arith::RemFOp, arith::DivSIOp,
          arith::DivUIOp, arith::RemSIOp, arith::RemUIOp, arith::CeilDivSIOp,
          arith::FloorDivSIOp>(op))
    return 6;
  return 1;
}

/// A stored value's store in the forward loop and load in the backward one:
/// a tape is a stream that does not stay in cache (8 MB per value at a
/// million iterations), about 3 adds each.
constexpr int64_t kStoreLoadCost = 8;

/// The sine of a value whose cosine is computed anyway (or the reverse):
/// LLVM makes the pair one `sincos` call, which costs little more than one.
constexpr int64_t kSincosExtraCost = 4;

/// The cosine of `v` (by default op's operand) if `op` is a sine, or the
/// sine if it is a cosine: an op of `block` other than `op`, with the
/// attributes `attrs` if given; null if there is none (or `op` is neither).
Operation *sincosPartner(Operation *op, Block *block, Value v = {}, DictionaryAttr attrs = {}) {
  bool sine = isa<math::SinOp>(op);
  if (!sine && !isa<math::CosOp>(op))
    return nullptr;
  if (!v)
    v = op->getOperand(0);
  for (Operation *user : v.getUsers())
    if (user != op && user->getBlock() == block &&
        (sine ? isa<math::CosOp>(user) : isa<math::SinOp>(user)) &&
        (!attrs || user->getAttrDictionary() == attrs))
      return user;
  return nullptr;
}

/// How much more an op on the loop-carried uncompute chain costs: its latency
/// adds up over the iterations, where other ops overlap.
constexpr int64_t kChainFactor = 3;

/// Bytes per stored value, or 0 if a value of this type is not stored (i1,
/// the conditions, e.g. of checked mode's checks, and other sub-byte
/// integers: a memref of them has no byte-addressed lowering).
int64_t storedBytes(Type t) {
  if (isa<IndexType>(t))
    return 8;
  if (auto i = dyn_cast<IntegerType>(t))
    return i.getWidth() % 8 == 0 ? i.getWidth() / 8 : 0;
  if (auto f = dyn_cast<FloatType>(t))
    return f.getWidth() % 8 == 0 ? f.getWidth() / 8 : 0;
  return 0;
}

/// A memref argument of `fn` that nothing in `fn` writes: only loads, dims
/// and pointer queries use it, or calls of functions that only read it in
/// turn (to a depth of 4 calls). rev forbids a written memref argument to
/// alias another argument, so its contents are the same during the whole
/// call.
bool isReadOnlyArgument(Value m, func::FuncOp fn, int depth = 0) {
  auto arg = dyn_cast<BlockArgument>(m);
  if (!arg || arg.getOwner() != &fn.getBody().front() || !isa<MemRefType>(m.getType()))
    return false;
  // (checked mode's aliasing checks read its pointer and size)
  return llvm::all_of(m.getUses(), [&](OpOperand &use) {
    Operation *user = use.getOwner();
    if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(user))
      return meta.getBaseBuffer().use_empty();
    if (auto call = dyn_cast<func::CallOp>(user)) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(call, call.getCalleeAttr());
      return depth < 4 && callee && !callee.isExternal() &&
             callee.getBody().hasOneBlock() &&
             isReadOnlyArgument(callee.getArgument(use.getOperandNumber()), callee, depth + 1);
    }
    return isa<memref::LoadOp, memref::DimOp, memref::ExtractAlignedPointerAsIndexOp>(user);
  });
}

/// The memref `v` is a view of (through casts, subviews, reshapes): its
/// allocation or the function argument it comes from.
Value memrefRoot(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      v = view.getViewSource();
    else if (auto cast = dyn_cast<memref::CastOp>(def))
      v = cast.getSource();
    else
      break;
  }
  return v;
}

/// Whether a write to `a` may change what `b` holds in `fn`: the same root,
/// or a root that is not a distinct argument or allocation (rev forbids a
/// written memref argument to alias another argument; the gradient's
/// shadows are arguments too).
bool mayAlias(Value a, Value b, func::FuncOp fn) {
  a = memrefRoot(a);
  b = memrefRoot(b);
  if (a == b)
    return true;
  auto distinct = [&](Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v))
      return arg.getOwner() == &fn.getBody().front();
    Operation *def = v.getDefiningOp();
    return def && isa<memref::AllocOp, memref::AllocaOp>(def);
  };
  return !distinct(a) || !distinct(b);
}

/// Whether `op` or an op nested in it may write (or free) memory that the
/// memref `m` holds; ops with unknown effects (calls) may. Checked mode's
/// failure reports (`rev.check_failure`: they print and end the program, or
/// record the failure in the runtime) write nothing the sweeps read.
bool mayWrite(Operation *op, Value m, func::FuncOp fn) {
  WalkResult r = op->walk<WalkOrder::PreOrder>([&](Operation *o) {
    if (o->hasAttr(kCheckFailureAttr))
      return WalkResult::skip();
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(o)) {
      SmallVector<MemoryEffects::EffectInstance> list;
      effects.getEffects(list);
      for (auto &e : list) {
        if (!isa<MemoryEffects::Write, MemoryEffects::Free>(e.getEffect()))
          continue;
        Value v = e.getValue();
        if (!v || !isa<BaseMemRefType>(v.getType()) || mayAlias(v, m, fn))
          return WalkResult::interrupt();
      }
      return WalkResult::advance();
    }
    if (o->hasTrait<OpTrait::HasRecursiveMemoryEffects>() || o->hasTrait<OpTrait::IsTerminator>())
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return r.wasInterrupted();
}

/// On the index ops that compute a tape position (Nest::position): never
/// part of a slice, so that a loop does not store the
/// position its own tapes (or its children's) are read at.
constexpr llvm::StringLiteral kTapePositionAttr = "rev.tape_position";

/// A marked pair of loops, at the gradient's top level or nested directly in
/// the bodies of a parent pair. A tape of a nested pair holds one value per
/// iteration of the whole nest: the flat position of an iteration is its
/// parent's flat position x its own trip count + its own position, so the
/// nested loops' bounds must be known before the top-level forward loop.
struct Nest {
  scf::ForOp fwd, bwd;
  Nest *parent = nullptr;
  /// The backward loop visits the iterations in the forward's order.
  bool inOrder = false;
  int depth = 0;
  /// Before the top-level forward loop: the own iteration count (may be
  /// negative), max(count, 0), and the product of that over the nest (the
  /// tapes' length).
  Value count, trips, flat;
  /// count - 1 (only used inside the loops, which run when count > 0).
  Value last;
  /// The flat position of the current iteration, at the start of the
  /// forward ([0]) and the backward ([1]) body.
  Value pos[2];

  /// The forward loop's bounds before the top-level forward loop (hoisted
  /// there, e.g. an inlined callee's `memref.dim`, for a nested pair).
  Value lb, ub, step;
  /// A pair nested in a top-level pair whose bounds change with the parent's
  /// iteration (a triangular nest: `for k < t`): lb, ub and step stay null;
  /// before the top-level loop a counting loop sums the trip counts over
  /// the parent's iterations into `flat` and stores the running sum before
  /// each into `bases` (one index per parent iteration): the iteration's
  /// flat position is bases[parent position] + own position.
  bool varying = false;
  Value bases;

  /// The ops of the function's body that hold the nest's top-level forward
  /// and backward loops: the loops themselves, or the `scf.if`s they are in.
  /// Tapes are allocated before the first and freed after the second.
  Operation *topFwd() { return functionLevel(parent ? parent->topFwd() : fwd.getOperation()); }
  Operation *topBwd() { return functionLevel(parent ? parent->topBwd() : bwd.getOperation()); }
  static Operation *functionLevel(Operation *op) {
    while (!isa<func::FuncOp>(op->getParentOp()))
      op = op->getParentOp();
    return op;
  }
  bool hoistBounds(DominanceInfo &dom);
  void computeCounts();
  Value lastIn(scf::ForOp loop, OpBuilder &b);
  Value position(scf::ForOp loop, bool backward);
};

/// Whether `def` (may be null) is an op inside `top` that may be cloned
/// before it: pure, speculatable, no regions (only ops that may run where
/// the loops would not: no division by a value that may be zero, e.g. when
/// the outer loop is empty).
bool isHoistable(Operation *def, Operation *top) {
  return def && top->isProperAncestor(def) && def->getNumRegions() == 0 &&
         isMemoryEffectFree(def) && isSpeculatable(def);
}

/// `v` before `top`: itself if it dominates `top`, else a clone there of its
/// pure, speculatable defining ops inside `top` (loop-invariant: none reads
/// an induction variable or a loop-carried value); null if there is none.
/// With `at` given: a clone at `at` (by default before `top`), where the
/// values `map` holds already (e.g. an induction variable) are known.
Value hoistBefore(Value v, Operation *top, DominanceInfo &dom, IRMapping &map,
                  OpBuilder *at = nullptr) {
  if (Value m = map.lookupOrNull(v))
    return m;
  if (dom.properlyDominates(v, top))
    return v;
  Operation *def = v.getDefiningOp();
  if (!isHoistable(def, top))
    return {};
  for (Value o : def->getOperands())
    if (!hoistBefore(o, top, dom, map, at))
      return {};
  OpBuilder b(top);
  (at ? *at : b).clone(*def, map);
  return map.lookup(v);
}

/// Whether hoistBefore(v, top) would succeed where `known` (if given) is
/// mapped.
bool canHoistBefore(Value v, Operation *top, DominanceInfo &dom, Value known) {
  if (v == known || dom.properlyDominates(v, top))
    return true;
  Operation *def = v.getDefiningOp();
  return isHoistable(def, top) &&
         llvm::all_of(def->getOperands(),
                      [&](Value o) { return canHoistBefore(o, top, dom, known); });
}

/// Sets lb, ub and step (the parent's first); false if a nested pair's
/// bounds cannot be known before the top-level loop.
bool Nest::hoistBounds(DominanceInfo &dom) {
  if (lb || varying)
    return true;
  if (parent && !parent->hoistBounds(dom))
    return false;
  IRMapping map;
  Value l = hoistBefore(fwd.getLowerBound(), topFwd(), dom, map);
  Value u = hoistBefore(fwd.getUpperBound(), topFwd(), dom, map);
  Value s = hoistBefore(fwd.getStep(), topFwd(), dom, map);
  if (l && u && s) {
    lb = l;
    ub = u;
    step = s;
    return true;
  }
  // Bounds computed from the top-level parent's induction variable (cloned
  // where that is known once computeCounts() builds the counting loop).
  if (!parent || parent->parent)
    return false;
  Value iv = parent->fwd.getInductionVar();
  varying = llvm::all_of(ValueRange{fwd.getLowerBound(), fwd.getUpperBound(), fwd.getStep()},
                         [&](Value v) { return canHoistBefore(v, topFwd(), dom, iv); });
  return varying;
}

/// ceil((ub - lb) / step): the iteration count of a loop, negative when it
/// does not run. A step of 0 (a loop that never runs, e.g. in an empty outer
/// loop) counts as 1, so that this does not trap where it is hoisted.
Value iterationCount(OpBuilder &b, Location loc, Value lb, Value ub, Value step) {
  Value span = arith::SubIOp::create(b, loc, ub, lb);
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value zeroStep = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, step, c0);
  Value safeStep = arith::SelectOp::create(b, loc, zeroStep, c1, step);
  return arith::CeilDivSIOp::create(b, loc, span, safeStep);
}

void Nest::computeCounts() {
  if (count || bases)
    return;
  if (parent)
    parent->computeCounts();
  Location loc = fwd.getLoc();
  OpBuilder b(topFwd());
  if (varying) {
    // for p in [0, parent trips): bases[p] = sum of the trip counts before
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    bases = memref::AllocOp::create(b, loc, MemRefType::get({ShapedType::kDynamic},
                                                            b.getIndexType()),
                                    ValueRange{parent->trips});
    auto counting = scf::ForOp::create(b, loc, c0, parent->trips, c1, ValueRange{c0});
    OpBuilder in = OpBuilder::atBlockBegin(counting.getBody());
    Value p = counting.getInductionVar();
    Value j = arith::AddIOp::create(in, loc, parent->lb,
                                    arith::MulIOp::create(in, loc, p, parent->step));
    DominanceInfo dom(fwd->getParentOfType<func::FuncOp>());
    IRMapping map;
    map.map(parent->fwd.getInductionVar(), j);
    Value l = hoistBefore(fwd.getLowerBound(), topFwd(), dom, map, &in);
    Value u = hoistBefore(fwd.getUpperBound(), topFwd(), dom, map, &in);
    Value st = hoistBefore(fwd.getStep(), topFwd(), dom, map, &in);
    Value n = arith::MaxSIOp::create(in, loc, iterationCount(in, loc, l, u, st), c0);
    Value sum = counting.getRegionIterArgs()[0];
    memref::StoreOp::create(in, loc, sum, bases, p);
    scf::YieldOp::create(in, loc, ValueRange{arith::AddIOp::create(in, loc, sum, n)});
    flat = counting.getResult(0);
    OpBuilder afterBwd(topBwd()->getBlock(), std::next(topBwd()->getIterator()));
    memref::DeallocOp::create(afterBwd, loc, bases);
    return;
  }
  count = iterationCount(b, loc, lb, ub, step);
  trips = arith::MaxSIOp::create(b, loc, count, arith::ConstantIndexOp::create(b, loc, 0));
  flat = parent ? arith::MulIOp::create(b, loc, parent->flat, trips).getResult() : trips;
  last = arith::SubIOp::create(b, loc, count, arith::ConstantIndexOp::create(b, loc, 1));
}

/// Marks the ops of the index expression `pos` built in one body (down to
/// the values it reads from elsewhere) with kTapePositionAttr.
void markPosition(Value pos) {
  SmallVector<Operation *> work;
  if (Operation *def = pos.getDefiningOp())
    work.push_back(def);
  Block *block = work.empty() ? nullptr : work.front()->getBlock();
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (op->getBlock() != block || op->hasAttr(kTapePositionAttr))
      continue;
    op->setAttr(kTapePositionAttr, UnitAttr::get(op->getContext()));
    for (Value o : op->getOperands())
      if (Operation *def = o.getDefiningOp())
        work.push_back(def);
  }
}

/// The flat position of the current iteration of `loop`: this nest's
/// forward (backward) loop or a copy of it in the same parent body; memoized
/// for the nest's own loops only. The backward loop's k-th iteration
/// reverses the forward's (n-1-k)-th (the k-th if in order).
Value Nest::position(scf::ForOp loop, bool backward) {
  bool own = loop == (backward ? bwd : fwd);
  if (own && pos[backward])
    return pos[backward];
  computeCounts();
  Location loc = loop.getLoc();
  OpBuilder b = OpBuilder::atBlockBegin(loop.getBody());
  Value p = arith::DivSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, loop.getInductionVar(), loop.getLowerBound()),
      loop.getStep());
  if (backward && !inOrder)
    p = arith::SubIOp::create(b, loc, lastIn(loop, b), p);
  if (parent) {
    Value ppos = parent->position(backward ? parent->bwd : parent->fwd, backward);
    Value base = varying ? memref::LoadOp::create(b, loc, bases, ppos).getResult()
                         : arith::MulIOp::create(b, loc, ppos, trips).getResult();
    p = arith::AddIOp::create(b, loc, base, p);
  }
  markPosition(p);
  if (own)
    pos[backward] = p;
  return p;
}

/// The own iteration count - 1 of `loop` (this nest's loop or a copy), at
/// `b` in its body: hoisted before the nest, or for a varying nest from the
/// loop's own bounds (only used where the loop runs, so its step is not 0).
Value Nest::lastIn(scf::ForOp loop, OpBuilder &b) {
  if (!varying)
    return last;
  Location loc = loop.getLoc();
  Value n = arith::CeilDivSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, loop.getUpperBound(), loop.getLowerBound()),
      loop.getStep());
  return arith::SubIOp::create(b, loc, n, arith::ConstantIndexOp::create(b, loc, 1));
}

/// An op of `block` (before `before`, if given) that computes what `op`
/// computes on `operands` (the same name, attributes, result types, no
/// regions), found among the users of the first operand the way CSE would;
/// null if there is none.
Operation *findTwin(Operation &op, ArrayRef<Value> operands, Block *block,
                    Operation *before = nullptr) {
  for (Operation *user : operands.front().getUsers())
    if (user->getBlock() == block && (!before || user->isBeforeInBlock(before)) &&
        user->getName() == op.getName() && user->getAttrDictionary() == op.getAttrDictionary() &&
        user->getResultTypes() == op.getResultTypes() &&
        llvm::equal(user->getOperands(), operands) && user->getNumRegions() == 0)
      return user;
  return nullptr;
}

/// One marked pair of loops in one gradient function.
class LoopTaper {
public:
  /// `counter` (a `memref<index>`, or null): the bytes of the gradient's
  /// memory budget that no tape holds yet; with it, the pair is versioned on
  /// what fits at run time.
  /// `nest`: where the pair sits (`fwd` and `bwd` are its loops or copies
  /// of them).
  LoopTaper(func::FuncOp fn, Nest &nest, scf::ForOp fwd, scf::ForOp bwd, int64_t budget,
            Value counter, std::optional<double> checkAtol, SmallVectorImpl<Operation *> &checks)
      : fn(fn), nest(nest), fwd(fwd), bwd(bwd), topFwd(nest.topFwd()), topBwd(nest.topBwd()),
        budget(budget), counter(counter), checkAtol(checkAtol), checks(checks), dom(fn),
        body(bwd.getBody()), numState(fwd.getNumRegionIterArgs()) {
    mapParent(parentTwins);
  }

  /// Chooses and stores; the bytes per iteration of each plan, largest first
  /// (empty: the pair is left as it was). Without a counter there is one
  /// plan, applied in place.
  SmallVector<int64_t> run();

private:
  bool isAvailableOutside(Value v);
  bool isAvailable(Value v);
  bool isParentBody(Operation *op) {
    return nest.parent && op && op->getBlock() == nest.parent->bwd.getBody();
  }
  /// If `v` is the state before the parent's iteration (an operand of the
  /// parent backward body's yield, recovered there), its forward value: the
  /// parent forward loop's region iter_arg.
  Value parentPreState(Value v) {
    if (!nest.parent || !isParentBody(v.getDefiningOp()))
      return {};
    Operation *yield = nest.parent->bwd.getBody()->getTerminator();
    unsigned n = nest.parent->fwd.getNumRegionIterArgs();
    for (unsigned i = 0; i < n && i < yield->getNumOperands(); ++i)
      if (yield->getOperand(i) == v &&
          v.getType() == nest.parent->fwd.getRegionIterArgs()[i].getType())
        return nest.parent->fwd.getRegionIterArgs()[i];
    return {};
  }
  /// The backward values with a known forward counterpart: the visited
  /// index of the loop (the lowering's `rev.tape_index` op, or the induction
  /// variable of a loop in the forward's order) and, of the parent, also the
  /// state before its iteration.
  void mapVisitedIndices(IRMapping &map) {
    for (Operation &op : *body)
      if (op.hasAttr(kTapeIndexAttr) && op.getNumResults() == 1)
        map.map(op.getResult(0), fwd.getInductionVar());
    if (nest.inOrder)
      map.map(bwd.getInductionVar(), fwd.getInductionVar());
    mapParent(map);
  }
  void mapParent(IRMapping &map) {
    if (!nest.parent)
      return;
    Block *pbody = nest.parent->bwd.getBody();
    for (Operation &op : *pbody)
      if (op.hasAttr(kTapeIndexAttr) && op.getNumResults() == 1)
        map.map(op.getResult(0), nest.parent->fwd.getInductionVar());
    if (nest.parent->inOrder)
      map.map(nest.parent->bwd.getInductionVar(), nest.parent->fwd.getInductionVar());
    for (Value v : pbody->getTerminator()->getOperands())
      if (Value f = parentPreState(v))
        map.map(v, f);
  }
  bool readsStateAfterIteration(memref::LoadOp load);
  bool forwardMayWrite(Value m, Operation *after = nullptr);
  void findSlice();
  int64_t savedCost(const llvm::SetVector<Value> &stored);
  void findTwins();
  int64_t addedForwardCost(const llvm::SetVector<Value> &stored);
  int64_t netGain(const llvm::SetVector<Value> &stored) {
    return savedCost(stored) - addedForwardCost(stored) -
           kStoreLoadCost * int64_t(stored.size());
  }
  int64_t planBytes(const llvm::SetVector<Value> &stored) const;
  llvm::SetVector<Value> choose(int64_t limit);
  Value materialize(Value v, OpBuilder &inFwd, OpBuilder &beforeFwd, IRMapping &map);
  SmallVector<Value> apply(const llvm::SetVector<Value> &stored);
  void versionOnCounter(ArrayRef<llvm::SetVector<Value>> plans);
  Value branchRuns(OpBuilder &b);
  void addCheck(Value recomputed, Value loaded);

  func::FuncOp fn;
  Nest &nest;
  scf::ForOp fwd, bwd;
  /// Nest::topFwd() and topBwd(): the function-level ops holding the
  /// nest's top-level loops (fwd and bwd themselves at the top, or the
  /// branches they are in).
  Operation *topFwd, *topBwd;
  int64_t budget;
  Value counter;
  std::optional<double> checkAtol;
  /// The checks of checked mode this taper creates (the pass lowers those,
  /// and no other rev.check).
  SmallVectorImpl<Operation *> &checks;
  DominanceInfo dom;
  Block *body;
  unsigned numState;
  DenseMap<Value, bool> outsideMemo;
  /// mapParent's values (the parent's visited index and pre-state).
  IRMapping parentTwins;
  /// findTwins' backward values with their forward counterparts (what
  /// apply() stores instead of computing them again).
  IRMapping twins;
  llvm::DenseSet<Operation *> slice;
  /// Slice ops on the loop-carried uncompute chain (from the state after the
  /// iteration to the state before it): their latency is serial.
  llvm::DenseSet<Operation *> chain;
  llvm::DenseSet<Operation *> checkOnly;
  SmallVector<Value> candidates;
  /// What apply() allocates (the nest's flat length, or 0 for a plan not
  /// chosen at run time); null: the flat length.
  Value allocLength;
  /// Slice ops whose value the forward body already has (the same op on the
  /// corresponding operands) or that are mapped onto its state: storing them
  /// adds nothing to the forward loop but the store.
  llvm::DenseSet<Operation *> freeInForward;
  /// Slice sines (cosines) whose operand's cosine (sine) the forward body
  /// computes: LLVM fuses the two into one sincos call, so computing them in
  /// the forward loop adds kSincosExtraCost, not a transcendental.
  llvm::DenseSet<Operation *> sincosInForward;
};

/// A value defined outside the backward loop that the forward loop can use:
/// it dominates the top-level forward loop, or it is a pure op of the
/// function's top level (e.g. the backward loop's recomputed bounds) that
/// can be cloned before that; in a nested pair also an op of the parent's
/// backward body computed from its visited index (the parent forward's
/// induction variable) and such values: pure ops and loads of read-only
/// arguments, cloned in the parent's forward body before the loop.
bool LoopTaper::isAvailableOutside(Value v) {
  if (auto it = outsideMemo.find(v); it != outsideMemo.end())
    return it->second;
  bool ok = false;
  Operation *def = v.getDefiningOp();
  if (dom.properlyDominates(v, topFwd)) {
    ok = true;
  } else if (def && def->getBlock() == topFwd->getBlock() && def->getNumRegions() == 0 &&
             isMemoryEffectFree(def)) {
    outsideMemo[v] = false; // no cycles through here
    ok = llvm::all_of(def->getOperands(), [&](Value o) { return isAvailableOutside(o); });
  } else if (parentTwins.contains(v)) {
    ok = true;
  } else if (isParentBody(def) && def->getNumRegions() == 0 &&
             (isMemoryEffectFree(def) ||
              (isa<memref::LoadOp>(def) &&
               isReadOnlyArgument(cast<memref::LoadOp>(def).getMemRef(), fn)))) {
    outsideMemo[v] = false;
    ok = llvm::all_of(def->getOperands(), [&](Value o) { return isAvailableOutside(o); });
  }
  outsideMemo[v] = ok;
  return ok;
}

/// A value the slice may read: the induction variable, the state after the
/// iteration, a slice op's result, or an outside value the forward sees.
bool LoopTaper::isAvailable(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getOwner() == body)
      return arg.getArgNumber() == 0 || arg.getArgNumber() <= numState;
  } else if (Operation *def = v.getDefiningOp(); def->getBlock() == body) {
    return slice.contains(def);
  }
  // Defined in a region nested in the backward loop, or an adjoint iter_arg.
  if (bwd->isAncestor(v.getParentBlock()->getParentOp()))
    return false;
  return isAvailableOutside(v);
}

/// Whether the forward body (with its nested regions; after `after`, if
/// given) may write `m`.
bool LoopTaper::forwardMayWrite(Value m, Operation *after) {
  Block *fbody = fwd.getBody();
  auto from = after ? std::next(after->getIterator()) : fbody->begin();
  return llvm::any_of(llvm::make_range(from, fbody->end()),
                      [&](Operation &op) { return mayWrite(&op, m, fn); });
}

/// A load in the backward body that reads memory as the forward iteration
/// left it: the backward iteration starts from the state after the forward
/// one (the primal memory included: the sweep is its mirror image), and
/// nothing before the load in the backward body may write the memref. A
/// clone at the end of the forward body (where apply() computes stored
/// values) reads the same. The memref must be an argument of the gradient
/// that the forward loops use: a primal one (a shadow, which the backward
/// sweep accumulates into, holds something else there). A backward loop in
/// the forward's order starts where the earlier iterations' elements are
/// restored already, so there the forward body must not write it at all.
bool LoopTaper::readsStateAfterIteration(memref::LoadOp load) {
  Value m = load.getMemRef();
  if (!isa<BlockArgument>(m) || cast<BlockArgument>(m).getOwner() != &fn.getBody().front())
    return false;
  if (llvm::none_of(m.getUsers(), [&](Operation *user) { return topFwd->isAncestor(user); }))
    return false;
  for (Operation &op : *body) {
    if (&op == load.getOperation())
      break;
    if (mayWrite(&op, m, fn))
      return false;
  }
  return !nest.inOrder || !forwardMayWrite(m);
}

void LoopTaper::findSlice() {
  // Checked mode's code: the ops reporting failed checks and the pure ops
  // that only feed them. It neither keeps a value alive nor counts as saved
  // work, so that checked code stores what unchecked code stores.
  for (Operation &op : llvm::reverse(*body)) {
    if (op.hasAttr(kCheckFailureAttr) ||
        (isMemoryEffectFree(&op) && op.getNumRegions() == 0 && !op.use_empty() &&
         llvm::all_of(op.getUsers(), [&](Operation *user) {
           Operation *top = body->findAncestorOpInBlock(*user);
           return top && checkOnly.contains(top);
         })))
      checkOnly.insert(&op);
  }
  for (Operation &op : body->without_terminator()) {
    if (checkOnly.contains(&op) || op.hasAttr(kTapePositionAttr))
      continue;
    if (op.getNumRegions() != 0)
      continue;
    bool readOnly = isMemoryEffectFree(&op);
    if (auto load = dyn_cast<memref::LoadOp>(op))
      readOnly = isReadOnlyArgument(load.getMemRef(), fn) || readsStateAfterIteration(load);
    if (!readOnly ||
        !llvm::all_of(op.getOperands(), [&](Value v) { return isAvailable(v); }))
      continue;
    slice.insert(&op);
  }
  // The chain: slice ops reachable from the state block arguments that reach
  // the yielded state.
  llvm::DenseSet<Operation *> fromState, toState;
  for (Operation &op : body->without_terminator())
    if (slice.contains(&op) && llvm::any_of(op.getOperands(), [&](Value v) {
          if (auto arg = dyn_cast<BlockArgument>(v))
            return arg.getOwner() == body && arg.getArgNumber() >= 1 &&
                   arg.getArgNumber() <= numState;
          return fromState.contains(v.getDefiningOp());
        }))
      fromState.insert(&op);
  SmallVector<Operation *> work;
  for (Value v : body->getTerminator()->getOperands().take_front(numState))
    if (Operation *def = v.getDefiningOp(); def && slice.contains(def))
      work.push_back(def);
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!toState.insert(op).second)
      continue;
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp(); def && slice.contains(def))
        work.push_back(def);
  }
  for (Operation *op : fromState)
    if (toState.contains(op))
      chain.insert(op);
  // Candidates: slice values used outside the slice (by the adjoint updates,
  // the yield, nested regions), and inside it the results of expensive ops
  // (a transcendental, a division or root: storing one may pay where each
  // value computed from it, stored alone, does not).
  for (Operation &op : body->without_terminator()) {
    if (!slice.contains(&op))
      continue;
    for (Value r : op.getResults()) {
      if (storedBytes(r.getType()) == 0)
        continue;
      bool external = llvm::any_of(r.getUsers(), [&](Operation *user) {
        Operation *top = body->findAncestorOpInBlock(*user);
        return !top || (!slice.contains(top) && !checkOnly.contains(top));
      });
      if (external || opCost(&op) >= 6)
        candidates.push_back(r);
    }
  }
}

/// The cost of the slice ops that are dead once `stored` are read from tapes.
int64_t LoopTaper::savedCost(const llvm::SetVector<Value> &stored) {
  llvm::DenseSet<Operation *> live;
  SmallVector<Operation *> deadOps;
  for (Operation &op : llvm::reverse(*body)) {
    if (checkOnly.contains(&op))
      continue;
    bool isLive = !slice.contains(&op);
    for (Value r : op.getResults()) {
      if (isLive)
        break;
      if (stored.contains(r))
        continue;
      isLive = llvm::any_of(r.getUsers(), [&](Operation *user) {
        Operation *top = body->findAncestorOpInBlock(*user);
        return top && live.contains(top);
      });
    }
    if (isLive)
      live.insert(&op);
    else
      deadOps.push_back(&op);
  }
  // A sine and a cosine of one value are one sincos call: the pair costs a
  // transcendental plus kSincosExtraCost, so removing one of them while the
  // other stays saves only kSincosExtraCost.
  llvm::DenseSet<Operation *> dead(deadOps.begin(), deadOps.end());
  int64_t saved = 0;
  for (Operation *op : deadOps) {
    int64_t cost = opCost(op);
    if (Operation *other = sincosPartner(op, body)) {
      if (!dead.contains(other))
        cost = kSincosExtraCost;
      else if (isa<math::CosOp>(op))
        cost = kSincosExtraCost; // the pair: the sine's 20 and this
    }
    saved += cost * (chain.contains(op) ? kChainFactor : 1);
  }
  return saved;
}

int64_t LoopTaper::planBytes(const llvm::SetVector<Value> &stored) const {
  int64_t bytes = 0;
  for (Value v : stored)
    bytes += storedBytes(v.getType());
  return bytes;
}

/// Greedy by net time saved per byte (what the backward sweep no longer
/// computes, minus what the forward loop must compute in addition, minus a
/// store and a load per value, kStoreLoadCost), then drop the values whose saving later
/// choices made redundant.
llvm::SetVector<Value> LoopTaper::choose(int64_t limit) {
  // Moves: one candidate, or the sine and the cosine of one value together
  // (removing one of a sincos pair saves little while the other stays).
  SmallVector<SmallVector<Value, 2>> moves;
  for (Value c : candidates) {
    moves.push_back({c});
    Operation *def = c.getDefiningOp();
    if (isa<math::SinOp>(def))
      if (Operation *other = sincosPartner(def, body))
        if (llvm::is_contained(candidates, other->getResult(0)))
          moves.push_back({c, other->getResult(0)});
  }
  llvm::SetVector<Value> stored;
  int64_t gain = 0, bytes = 0;
  while (true) {
    ArrayRef<Value> best;
    double bestRatio = 0;
    int64_t bestGain = 0, bestBytes = 0;
    for (ArrayRef<Value> move : moves) {
      int64_t mb = 0;
      for (Value c : move)
        mb += storedBytes(c.getType());
      if (llvm::any_of(move, [&](Value c) { return stored.contains(c); }) ||
          bytes + mb > limit)
        continue;
      for (Value c : move)
        stored.insert(c);
      int64_t g = netGain(stored);
      for (size_t i = 0; i < move.size(); ++i)
        stored.pop_back();
      double ratio = double(g - gain) / double(mb);
      if (ratio > bestRatio) {
        best = move;
        bestRatio = ratio;
        bestGain = g;
        bestBytes = mb;
      }
    }
    if (best.empty())
      break;
    for (Value c : best)
      stored.insert(c);
    gain = bestGain;
    bytes += bestBytes;
  }
  for (Value c : SmallVector<Value>(stored.begin(), stored.end())) {
    stored.remove(c);
    int64_t g = netGain(stored);
    if (g < gain)
      stored.insert(c);
    else
      gain = g;
  }
  return stored;
}

/// The forward loop's counterparts of the slice ops, found the way CSE would
/// find them after cloning (same op, same attributes, same mapped operands).
void LoopTaper::findTwins() {
  Block *fbody = fwd.getBody();
  IRMapping &map = twins;
  mapVisitedIndices(map);
  // The backward sweep's constants (of the inlined backward function, after
  // the forward loop) as the forward's equal ones before it.
  DenseMap<std::pair<Attribute, Type>, Value> constants;
  for (Operation &op : fn.getBody().front()) {
    if (&op == topFwd)
      break;
    Attribute value;
    if (op.getNumResults() == 1 && matchPattern(op.getResult(0), m_Constant(&value)))
      constants.try_emplace({value, op.getResult(0).getType()}, op.getResult(0));
  }
  for (Operation &op : *body)
    for (Value v : op.getOperands()) {
      Attribute value;
      if (map.contains(v) || dom.properlyDominates(v, fwd) ||
          !matchPattern(v, m_Constant(&value)))
        continue;
      if (Value f = constants.lookup({value, v.getType()}))
        map.map(v, f);
    }
  for (Operation &op : *body)
    if (op.hasAttr(kTapeIndexAttr) && op.getNumResults() == 1)
      freeInForward.insert(&op);
  if (nest.parent) {
    // The parent's backward-body values the forward's parent body has before
    // the loop.
    Block *pfbody = nest.parent->fwd.getBody();
    // (the loop, or the branch it is in)
    Operation *fwdInParent = pfbody->findAncestorOpInBlock(*fwd);
    for (Operation &op : *nest.parent->bwd.getBody()) {
      if (op.getNumResults() != 1 || map.contains(op.getResult(0)))
        continue;
      if (op.getNumRegions() != 0 || !isAvailableOutside(op.getResult(0)) || op.getNumOperands() == 0)
        continue;
      SmallVector<Value> operands;
      for (Value v : op.getOperands())
        operands.push_back(map.lookupOrDefault(v));
      if (Operation *twin = fwdInParent ? findTwin(op, operands, pfbody, fwdInParent) : nullptr)
        map.map(op.getResult(0), twin->getResult(0));
    }
  }
  auto bwdYield = body->getTerminator();
  auto fwdYield = fbody->getTerminator();
  for (unsigned i = 0; i < numState; ++i) {
    map.map(bwd.getRegionIterArgs()[i], fwdYield->getOperand(i));
    Value pre = bwdYield->getOperand(i);
    if (Operation *def = pre.getDefiningOp(); def && def->getBlock() == body &&
                                              !map.contains(pre)) {
      map.map(pre, fwd.getRegionIterArgs()[i]);
      freeInForward.insert(def);
    }
  }
  for (Operation &op : body->without_terminator()) {
    if (!slice.contains(&op) || freeInForward.contains(&op))
      continue;
    SmallVector<Value> operands;
    bool mapped = true;
    for (Value v : op.getOperands()) {
      if (Value m = map.lookupOrNull(v))
        operands.push_back(m);
      else if (!bwd->isAncestor(v.getParentBlock()->getParentOp()) &&
               dom.properlyDominates(v, fwd))
        operands.push_back(v);
      else
        mapped = false;
    }
    if (!mapped)
      continue;
    // (a constant is free wherever it is)
    Operation *twin = operands.empty() ? &op : findTwin(op, operands, fbody);
    // (a load's twin must read what the end of the forward body would: no
    // op after it there may write the memref)
    if (auto load = dyn_cast<memref::LoadOp>(op);
        twin && load && !isReadOnlyArgument(load.getMemRef(), fn) &&
        forwardMayWrite(load.getMemRef(), twin))
      twin = nullptr;
    if (!twin) {
      // sin(v) where the forward body has cos(v), or the reverse.
      if (operands.size() == 1 &&
          sincosPartner(&op, fbody, operands.front(), op.getAttrDictionary()))
        sincosInForward.insert(&op);
      continue;
    }
    if (twin != &op)
      map.map(op.getResults(), twin->getResults());
    freeInForward.insert(&op);
  }
}

/// What computing `stored` in the forward loop adds there: the slice ops they
/// need that the forward body does not have yet.
int64_t LoopTaper::addedForwardCost(const llvm::SetVector<Value> &stored) {
  llvm::DenseSet<Operation *> seen;
  SmallVector<Operation *> work;
  for (Value v : stored)
    if (Operation *def = v.getDefiningOp(); def && def->getBlock() == body)
      work.push_back(def);
  int64_t cost = 0;
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!seen.insert(op).second || freeInForward.contains(op))
      continue;
    cost += sincosInForward.contains(op) ? kSincosExtraCost : opCost(op);
    for (Value o : op->getOperands())
      if (Operation *def = o.getDefiningOp(); def && def->getBlock() == body)
        work.push_back(def);
  }
  return cost;
}

/// `v` (a slice value of the backward body, or an outside value) as the
/// forward loop's body computes it.
Value LoopTaper::materialize(Value v, OpBuilder &inFwd, OpBuilder &beforeFwd, IRMapping &map) {
  if (Value m = map.lookupOrNull(v))
    return m;
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != body) {
    if (dom.properlyDominates(v, topFwd))
      return v;
    for (Value o : def->getOperands())
      materialize(o, inFwd, beforeFwd, map);
    if (isParentBody(def)) {
      // An op of the parent's backward body: clone it in the parent's forward
      // body, before the loop.
      OpBuilder beforeLoop(fwd);
      beforeLoop.clone(*def, map);
    } else {
      // A pure op of the function's top level: clone it before the top loop.
      beforeFwd.clone(*def, map);
    }
    return map.lookup(v);
  }
  for (Value o : def->getOperands())
    materialize(o, inFwd, beforeFwd, map);
  inFwd.clone(*def, map);
  return map.lookup(v);
}

/// Checked mode: `recomputed` (still computed) against `loaded`, right after
/// the recomputation.
void LoopTaper::addCheck(Value recomputed, Value loaded) {
  OpBuilder b(recomputed.getContext());
  b.setInsertionPointAfterValue(recomputed);
  Location loc = bwd.getLoc();
  Type t = recomputed.getType();
  Value ok;
  if (isa<FloatType>(t)) {
    Value diff = math::AbsFOp::create(b, loc, arith::SubFOp::create(b, loc, loaded, recomputed));
    Value one = arith::ConstantOp::create(b, loc, b.getFloatAttr(t, 1.0));
    Value scale = arith::MaximumFOp::create(b, loc, math::AbsFOp::create(b, loc, recomputed), one);
    // atol, but at least 64 ulps of the type: one step of a float32 loop's
    // uncomputation ((a + d) - d) is already ~1e-7 off, above the default
    // atol of 1e-8 (which is meant for float64).
    int precision = llvm::APFloat::semanticsPrecision(cast<FloatType>(t).getFloatSemantics());
    double tolerance = std::max(*checkAtol, std::ldexp(64.0, 1 - precision));
    Value tol = arith::MulFOp::create(
        b, loc, scale, arith::ConstantOp::create(b, loc, b.getFloatAttr(t, tolerance)));
    ok = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, diff, tol);
  } else {
    ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, loaded, recomputed);
  }
  checks.push_back(CheckOp::create(b, loc, ok,
                                   "a value stored for the backward sweep differs from its "
                                   "recomputation",
                                   "rev.for"));
}

/// Stores `stored` in the forward loop and reads them in the backward one;
/// returns the tapes (allocated before the forward loop, for the caller to
/// free after the backward one).
SmallVector<Value> LoopTaper::apply(const llvm::SetVector<Value> &stored) {
  Location loc = fwd.getLoc();
  OpBuilder beforeFwd(topFwd);
  nest.computeCounts();
  SmallVector<Value> tapes;
  // (a pair in branches that do not run allocates nothing)
  Value length = allocLength;
  if (!length) {
    length = nest.flat;
    if (Value runs = branchRuns(beforeFwd))
      length = arith::SelectOp::create(beforeFwd, loc, runs, length,
                                       arith::ConstantIndexOp::create(beforeFwd, loc, 0));
  }
  for (Value v : stored)
    tapes.push_back(memref::AllocOp::create(
        beforeFwd, loc, MemRefType::get({ShapedType::kDynamic}, v.getType()),
        ValueRange{length}));

  // Forward body: own position p = (j - lb) / s; the backward visits it with
  // j' = lb + (n - 1 - p) s (j' = j in order). The tapes are indexed by the
  // flat position in the nest.
  auto fwdYield = cast<scf::YieldOp>(fwd.getBody()->getTerminator());
  OpBuilder inFwd(fwdYield);
  Value jf = fwd.getInductionVar();
  Value pos = nest.position(fwd, /*backward=*/false);
  // findTwins' mapping: the visited indices (the lowering's index of the
  // reversed loop is the forward's induction variable, the parent's
  // likewise), the state after and before the iteration, and what the
  // forward body has already (CSE would not merge a load across the body's
  // stores to other memrefs).
  IRMapping map = twins;
  if (!nest.inOrder) {
    Value lb = fwd.getLowerBound(), step = fwd.getStep();
    Value own = arith::DivSIOp::create(inFwd, loc, arith::SubIOp::create(inFwd, loc, jf, lb), step);
    map.map(bwd.getInductionVar(),
            arith::AddIOp::create(
                inFwd, loc, lb,
                arith::MulIOp::create(
                    inFwd, loc, arith::SubIOp::create(inFwd, loc, nest.lastIn(fwd, inFwd), own),
                    step)));
  }
  for (auto [v, tape] : llvm::zip(stored, tapes))
    memref::StoreOp::create(inFwd, loc, materialize(v, inFwd, beforeFwd, map), tape, pos);

  // Backward body: the same position, read back.
  Value bpos = nest.position(bwd, /*backward=*/true);
  OpBuilder inBwd(body, std::next(bpos.getDefiningOp()->getIterator()));
  for (auto [v, tape] : llvm::zip(stored, tapes)) {
    Value loaded = memref::LoadOp::create(inBwd, loc, tape, bpos);
    Value(v).replaceAllUsesWith(loaded);
    if (checkAtol)
      addCheck(v, loaded);
  }
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*body)))
    if (slice.contains(&op) && op.use_empty())
      op.erase();
  return tapes;
}

/// For a top-level pair in branches of a function-level scf.if: whether
/// they run, from the conditions of the enclosing scf.ifs known before that
/// one (at `b`, before it); null otherwise.
Value LoopTaper::branchRuns(OpBuilder &b) {
  if (nest.parent || topFwd == fwd.getOperation())
    return {};
  Location loc = fwd.getLoc();
  Value runs;
  for (Operation *op = fwd->getParentOp();; op = op->getParentOp()) {
    if (auto branch = dyn_cast<scf::IfOp>(op);
        branch && dom.properlyDominates(branch.getCondition(), topFwd)) {
      Value c = branch.getCondition();
      if (!branch.getThenRegion().isAncestor(fwd->getParentRegion()))
        c = arith::XOrIOp::create(b, loc, c,
                                  arith::ConstantOp::create(b, loc, b.getBoolAttr(true)));
      runs = runs ? arith::AndIOp::create(b, loc, runs, c).getResult() : c;
    }
    if (op == topFwd)
      break;
  }
  return runs;
}

/// At most this many plans per loop when the budget is checked at run time
/// (each is one more copy of the pair).
constexpr size_t kMaxPlans = 4;

SmallVector<int64_t> LoopTaper::run() {
  // The pair must be the mirror image that the AD pass builds.
  if (bwd.getNumRegionIterArgs() < numState || !isa<IndexType>(fwd.getStep().getType()) ||
      !dom.properlyDominates(topFwd, topBwd))
    return {};
  // A nested pair's tapes are sized before the top-level loop.
  if (!nest.hoistBounds(dom))
    return {};
  dom.invalidate();
  for (unsigned i = 0; i < numState; ++i)
    if (fwd.getRegionIterArgs()[i].getType() != bwd.getRegionIterArgs()[i].getType())
      return {};
  findSlice();
  findTwins();
  SmallVector<llvm::SetVector<Value>> plans;
  plans.push_back(choose(budget));
  if (plans.back().empty())
    return {};
  // With a budget in bytes in all, also the best plans in fewer bytes per
  // iteration, for when the largest does not fit.
  while (counter && plans.size() < kMaxPlans) {
    llvm::SetVector<Value> smaller = choose(planBytes(plans.back()) - 1);
    if (smaller.empty())
      break;
    plans.push_back(std::move(smaller));
  }
  SmallVector<int64_t> bytes;
  for (const llvm::SetVector<Value> &plan : plans)
    bytes.push_back(planBytes(plan));
  nest.computeCounts();
  if (!counter) {
    SmallVector<Value> tapes = apply(plans.front());
    OpBuilder afterBwd(topBwd->getBlock(), std::next(topBwd->getIterator()));
    for (Value tape : tapes)
      memref::DeallocOp::create(afterBwd, fwd.getLoc(), tape);
  } else {
    versionOnCounter(plans);
  }
  return bytes;
}

/// With a budget in bytes in all (the gradient's counter of bytes no tape
/// holds): before the forward loop, the first plan (largest first) whose
/// tapes, trip count x bytes per iteration, fit in what the counter holds is
/// chosen and taken from it; after the backward loop it is given back. The
/// forward and the backward loop each become an `scf.index_switch` on the
/// choice: one copy of the pair per plan, storing and reading that plan's
/// tapes (allocated with the trip count if chosen, empty otherwise), and the
/// pair as it was (reverse computing) when none fits.
void LoopTaper::versionOnCounter(ArrayRef<llvm::SetVector<Value>> plans) {
  Location loc = fwd.getLoc();
  OpBuilder b(topFwd);
  Value trips = nest.flat;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value left = memref::LoadOp::create(b, loc, counter, ValueRange{});
  Value choice = arith::ConstantIndexOp::create(b, loc, plans.size());
  Value taken = zero;
  // A top-level pair in branches draws only when they run.
  Value runs = branchRuns(b);
  for (int64_t p = int64_t(plans.size()) - 1; p >= 0; --p) {
    int64_t bytes = planBytes(plans[p]);
    // trips x bytes <= left, without overflow
    Value most = arith::DivSIOp::create(b, loc, left, arith::ConstantIndexOp::create(b, loc, bytes));
    Value fits = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, trips, most);
    if (runs)
      fits = arith::AndIOp::create(b, loc, fits, runs);
    choice = arith::SelectOp::create(b, loc, fits, arith::ConstantIndexOp::create(b, loc, p), choice);
    Value need = arith::MulIOp::create(b, loc, trips, arith::ConstantIndexOp::create(b, loc, bytes));
    taken = arith::SelectOp::create(b, loc, fits, need, taken);
  }
  memref::StoreOp::create(b, loc, arith::SubIOp::create(b, loc, left, taken), counter,
                          ValueRange{});

  // One copy of the pair per plan, next to the pair (the copies of the
  // backward loop still read the forward loop's results, which the switch
  // below takes over).
  SmallVector<scf::ForOp> fwds, bwds;
  SmallVector<Value> tapes;
  for (auto [p, plan] : llvm::enumerate(plans)) {
    IRMapping fmap, bmap;
    OpBuilder fb(fwd), bb(bwd);
    auto f = cast<scf::ForOp>(fb.clone(*fwd, fmap));
    auto g = cast<scf::ForOp>(bb.clone(*bwd, bmap));
    llvm::SetVector<Value> mapped;
    for (Value v : plan)
      mapped.insert(bmap.lookup(v));
    LoopTaper copy(fn, nest, f, g, budget, Value(), checkAtol, checks);
    Value chosen = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, choice,
                                         arith::ConstantIndexOp::create(b, loc, p));
    copy.allocLength = arith::SelectOp::create(b, loc, chosen, trips, zero);
    copy.findSlice();
    copy.findTwins();
    llvm::append_range(tapes, copy.apply(mapped));
    fwds.push_back(f);
    bwds.push_back(g);
  }
  fwds.push_back(fwd);
  bwds.push_back(bwd);

  // Each loop of the pair becomes a switch over its copies.
  SmallVector<int64_t> cases = llvm::to_vector(llvm::seq<int64_t>(0, plans.size()));
  auto makeSwitch = [&](ArrayRef<scf::ForOp> loops) {
    scf::ForOp last = loops.back();
    OpBuilder sb(last->getBlock(), std::next(last->getIterator()));
    auto sw = scf::IndexSwitchOp::create(sb, loc, last.getResultTypes(), choice, cases,
                                         cases.size());
    for (auto [i, constLoop] : llvm::enumerate(loops)) {
      scf::ForOp loop = constLoop;
      Region &region = i < cases.size() ? sw.getCaseRegions()[i] : sw.getDefaultRegion();
      Block *block = &region.emplaceBlock();
      loop->moveBefore(block, block->end());
      OpBuilder yb = OpBuilder::atBlockEnd(block);
      scf::YieldOp::create(yb, loc, loop.getResults());
    }
    last.getResults().replaceUsesWithIf(sw.getResults(), [&](OpOperand &use) {
      return !sw->isAncestor(use.getOwner());
    });
    return sw;
  };
  bool atTop = topBwd == bwd.getOperation();
  makeSwitch(fwds);
  scf::IndexSwitchOp bsw = makeSwitch(bwds);
  // (after the switch that took the backward loop's place at the function's
  // top level, else after the function-level op that holds it)
  Operation *end = atTop ? bsw.getOperation() : topBwd;
  OpBuilder after(end->getBlock(), std::next(end->getIterator()));
  for (Value tape : tapes)
    memref::DeallocOp::create(after, loc, tape);
  Value now = memref::LoadOp::create(after, loc, counter, ValueRange{});
  memref::StoreOp::create(after, loc, arith::AddIOp::create(after, loc, now, taken), counter,
                          ValueRange{});
  dom.invalidate();
}

/// The marked loops of `fwdBlock` (`rev.tape_loop`) and `bwdBlock`
/// (`rev.tape_adjoint`), directly or in scf.if branches there (recursively),
/// paired, in the forward's program order. A loop has k copies when its
/// function is called k times (inlined): the copies in the same branches
/// (the same then/else path from the block) pair in reverse order, the i-th
/// forward copy with the (k-1-i)-th backward one (the backward sweep runs
/// the calls' backward functions in reverse order, and the backward scf.ifs
/// keep their branches).
SmallVector<std::pair<scf::ForOp, scf::ForOp>> pairLoops(Block &fwdBlock, Block &bwdBlock) {
  using Key = std::pair<const void *, std::string>;
  std::map<Key, SmallVector<scf::ForOp>> fwds, bwds;
  SmallVector<std::pair<scf::ForOp, Key>> order;
  std::function<void(Block &, bool, const std::string &)> find =
      [&](Block &block, bool forward, const std::string &path) {
        for (Operation &op : block) {
          if (auto loop = dyn_cast<scf::ForOp>(op)) {
            if (Attribute id = loop->getAttr(forward ? kTapeLoopAttr : kTapeAdjointAttr)) {
              Key key{id.getAsOpaquePointer(), path};
              (forward ? fwds : bwds)[key].push_back(loop);
              if (forward)
                order.push_back({loop, key});
            }
          } else if (auto branch = dyn_cast<scf::IfOp>(op)) {
            if (!branch.getThenRegion().empty())
              find(branch.getThenRegion().front(), forward, path + "t");
            if (!branch.getElseRegion().empty())
              find(branch.getElseRegion().front(), forward, path + "e");
          }
        }
      };
  find(fwdBlock, true, "");
  find(bwdBlock, false, "");
  SmallVector<std::pair<scf::ForOp, scf::ForOp>> pairs;
  for (auto &[f, key] : order) {
    const SmallVector<scf::ForOp> &fs = fwds[key];
    auto it = bwds.find(key);
    if (it == bwds.end() || it->second.size() != fs.size())
      continue;
    size_t i = llvm::find(fs, f) - fs.begin();
    pairs.push_back({f, it->second[fs.size() - 1 - i]});
  }
  return pairs;
}

/// Whether `f` (a single-block function) holds a marked loop or a rev.steps
/// budget counter (lowered at its top level) at its top level, itself or
/// through the top-level calls of functions that do.
bool holdsMarkedLoops(func::FuncOp f, SymbolTable &symbols,
                      llvm::DenseSet<Operation *> &visiting) {
  if (!f || f.isExternal() || !f.getBody().hasOneBlock() || !visiting.insert(f).second)
    return false;
  std::function<bool(Block &)> holds = [&](Block &block) {
    return llvm::any_of(block, [&](Operation &o) {
      if (o.hasAttr(kTapeLoopAttr) || o.hasAttr(kTapeAdjointAttr) ||
          o.hasAttr(kMemoryBudgetCounterAttr))
        return true;
      if (auto branch = dyn_cast<scf::IfOp>(o))
        return llvm::any_of(branch->getRegions(), [&](Region &r) {
          return !r.empty() && holds(r.front());
        });
      auto call = dyn_cast<func::CallOp>(o);
      return call && holdsMarkedLoops(symbols.lookup<func::FuncOp>(call.getCallee()), symbols,
                                      visiting);
    });
  };
  bool found = holds(f.getBody().front());
  visiting.erase(f);
  return found;
}

/// Inlines the top-level calls of single-block functions that hold marked
/// loops or rev.steps budget counters (at their top level, or through their
/// own such calls: the gradient's calls of f and f_bwd, then f's calls of g
/// and f_bwd's of g_bwd, ...), and such calls in the bodies of marked loops,
/// so that each marked pair ends up at the gradient's top level or nested
/// in a marked pair, and each rev.steps schedule reads the gradient's
/// counter.
/// At most kMaxInlineRounds rounds (a callee that calls itself
/// unconditionally at its top level would never stop).
constexpr int kMaxInlineRounds = 8;

/// One round in `block`, in the bodies of the marked loops in it and in the
/// branches of its scf.ifs (recursively): a call inside a marked loop is
/// inlined too, so that the callee's loops become nested pairs of that loop,
/// and a call in a top-level branch, so that they become pairs in branches.
bool inlineMarkedCallsIn(Block &block, SymbolTable &symbols) {
  bool inlined = false;
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      if (loop->hasAttr(kTapeLoopAttr) || loop->hasAttr(kTapeAdjointAttr))
        inlined |= inlineMarkedCallsIn(*loop.getBody(), symbols);
      continue;
    }
    // (and in branches, at the top level or inside such a loop)
    if (auto branch = dyn_cast<scf::IfOp>(op)) {
      for (Region *r : {&branch.getThenRegion(), &branch.getElseRegion()})
        if (!r->empty())
          inlined |= inlineMarkedCallsIn(r->front(), symbols);
      continue;
    }
    auto call = dyn_cast<func::CallOp>(op);
    if (!call)
      continue;
    auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
    llvm::DenseSet<Operation *> visiting;
    if (!holdsMarkedLoops(callee, symbols, visiting))
      continue;
    Block &entry = callee.getBody().front();
    IRMapping map;
    map.map(entry.getArguments(), call.getOperands());
    OpBuilder b(call);
    for (Operation &o : entry.without_terminator())
      b.clone(o, map);
    for (auto [r, v] : llvm::zip(call.getResults(), entry.getTerminator()->getOperands()))
      r.replaceAllUsesWith(map.lookupOrDefault(v));
    call.erase();
    inlined = true;
  }
  return inlined;
}

void inlineMarkedCalls(func::FuncOp fn, SymbolTable &symbols) {
  for (int round = 0; round < kMaxInlineRounds; ++round)
    if (!inlineMarkedCallsIn(fn.getBody().front(), symbols))
      return;
}

struct RevTapeLoopsPass : public rev::impl::RevTapeLoopsBase<RevTapeLoopsPass> {
  using RevTapeLoopsBase::RevTapeLoopsBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!isRevCheckLowering(checkLowering)) {
      module.emitError() << "--rev-tape-loops: check-lowering must be 'libc', 'runtime' or "
                            "'assert', got '"
                         << checkLowering << "'";
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> grads;
    module.walk([&](func::FuncOp f) {
      if (f->hasAttr(kLoopBudgetAttr))
        grads.push_back(f);
    });
    MLIRContext *ctx = &getContext();
    SmallVector<func::FuncOp> changed;
    SmallVector<Operation *> checkOps;
    for (func::FuncOp fn : grads) {
      auto budgetAttr = fn->getAttrOfType<IntegerAttr>(kLoopBudgetAttr);
      if (!budgetAttr || budgetAttr.getInt() < 0) {
        fn.emitError() << "--rev-tape-loops: '" << kLoopBudgetAttr
                       << "' must be an integer number of bytes per iteration >= 0, got "
                       << fn->getAttr(kLoopBudgetAttr);
        return signalPassFailure();
      }
      int64_t budget = budgetAttr.getInt();
      fn->removeAttr(kLoopBudgetAttr);
      std::optional<int64_t> total;
      if (Attribute a = fn->getAttr(kLoopBudgetTotalAttr)) {
        auto t = dyn_cast<IntegerAttr>(a);
        if (!t || t.getInt() <= 0) {
          fn.emitError() << "--rev-tape-loops: '" << kLoopBudgetTotalAttr
                         << "' must be an integer number of bytes > 0, got " << a;
          return signalPassFailure();
        }
        total = t.getInt();
        fn->removeAttr(kLoopBudgetTotalAttr);
      }
      inlineMarkedCalls(fn, symbols);
      // Pairs at the top level or in branches there (a loop of a top-level
      // rev.if: its tapes are allocated before the forward scf.if and freed
      // after the backward one, used when the branch runs), in program
      // order, so that the loops draw on the budget's counter as they run.
      SmallVector<std::pair<scf::ForOp, scf::ForOp>> pairs =
          pairLoops(fn.getBody().front(), fn.getBody().front());
      // With a budget in bytes in all: one counter of the bytes no tape
      // holds, at the function's start; the schedules of the rev.steps
      // adjoints inlined here read it instead of their own constant (so their
      // snapshots get what the loop tapes alive at that point leave).
      Value counter;
      if (total) {
        OpBuilder b = OpBuilder::atBlockBegin(&fn.getBody().front());
        Location loc = fn.getLoc();
        counter = memref::AllocaOp::create(b, loc, MemRefType::get({}, b.getIndexType()));
        memref::StoreOp::create(b, loc, arith::ConstantIndexOp::create(b, loc, *total), counter,
                                ValueRange{});
        SmallVector<memref::AllocaOp> own;
        fn.walk([&](memref::AllocaOp a) {
          if (a->hasAttr(kMemoryBudgetCounterAttr))
            own.push_back(a);
        });
        for (memref::AllocaOp a : own) {
          for (Operation *user : llvm::make_early_inc_range(a->getUsers()))
            if (isa<memref::StoreOp>(user))
              user->erase();
          a.replaceAllUsesWith(counter);
          a.erase();
        }
      }
      // The pairs nested in each pair's bodies (a forward loop marked N
      // directly in the forward body, its backward loop directly in the
      // backward body), innermost first: a parent's copies (with a counter)
      // then copy its children's stores and loads.
      std::deque<Nest> nests;
      SmallVector<Nest *> order;
      std::function<void(Nest &)> collect = [&](Nest &parent) {
        // (directly in the bodies, or in branches there: a tape slot per
        // iteration of the nest, used when the branch runs)
        for (auto [f, g] : pairLoops(*parent.fwd.getBody(), *parent.bwd.getBody())) {
          Nest &child = nests.emplace_back();
          child.fwd = f;
          child.bwd = g;
          child.parent = &parent;
          child.depth = parent.depth + 1;
          child.inOrder = child.bwd->hasAttr(kTapeInOrderAttr);
          collect(child);
        }
        order.push_back(&parent);
      };
      for (auto [f, g] : pairs) {
        Nest &top = nests.emplace_back();
        top.fwd = f;
        top.bwd = g;
        top.inOrder = g->hasAttr(kTapeInOrderAttr);
        collect(top);
      }
      SmallVector<std::pair<SmallVector<int64_t>, int>> perLoop;
      for (Nest *nest : order) {
        LoopTaper taper(fn, *nest, nest->fwd, nest->bwd, budget, counter,
                        checks ? std::optional<double>(atol) : std::nullopt, checkOps);
        SmallVector<int64_t> plans = taper.run();
        if (!plans.empty())
          perLoop.push_back({std::move(plans), nest->depth});
      }
      if (!perLoop.empty()) {
        if (remarks) {
          InFlightDiagnostic remark = emitRemark(fn.getLoc()) << "@" << fn.getSymName() << " stores ";
          llvm::interleaveComma(perLoop, remark, [&](auto &loop) {
            llvm::interleave(loop.first, remark, "|");
            if (loop.second > 0)
              remark << " (depth " << loop.second << ")";
          });
          remark << " bytes per iteration (budget " << budget << ") in "
                 << perLoop.size() << " loop(s)";
          if (total)
            remark << ", the first plan (largest first) whose tapes fit in what is left of "
                   << *total << " bytes";
        }
        changed.push_back(fn);
      }
    }
    // The checks of checked mode, lowered as --lower-rev lowers the others
    // (only those created here: any other rev.check is left alone).
    if (!checkOps.empty()) {
      RewritePatternSet patterns(ctx);
      populateRevCheckPatterns(patterns, checkLowering);
      ConversionTarget target(*ctx);
      target.addIllegalOp<CheckOp>();
      target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
      if (failed(applyPartialConversion(checkOps, target, std::move(patterns))))
        return signalPassFailure();
    }
    module.walk([](Operation *op) {
      op->removeAttr(kTapeLoopAttr);
      op->removeAttr(kTapeAdjointAttr);
      op->removeAttr(kTapeIndexAttr);
      op->removeAttr(kTapeInOrderAttr);
      op->removeAttr(kTapePositionAttr);
      op->removeAttr(kCheckFailureAttr);
      op->removeAttr(kMemoryBudgetCounterAttr);
    });
    // Clean up what the taping left: the uncompute chains and slices it made
    // dead, the clones in the forward loop (CSE with its own values).
    if (changed.empty())
      return;
    RewritePatternSet patterns(ctx);
    for (Dialect *d : ctx->getLoadedDialects())
      d->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      op.getCanonicalizationPatterns(patterns, ctx);
    FrozenRewritePatternSet frozen(std::move(patterns));
    IRRewriter rewriter(ctx);
    for (func::FuncOp fn : changed) {
      (void)applyPatternsGreedily(fn, frozen);
      DominanceInfo dom(fn);
      eliminateCommonSubExpressions(rewriter, dom, fn);
    }
  }
};
} // namespace
