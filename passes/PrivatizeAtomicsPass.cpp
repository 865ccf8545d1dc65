//===- PrivatizeAtomicsPass.cpp - --rev-privatize-atomics -----------------===//
//
// Privatised accumulation for the CPU. A top-level one-dimensional
// scf.parallel (its results, if any, sums: scf.reduce with an addf/addi
// combiner) whose only accesses to some 1-d memref M (defined outside the
// loop) are `memref.atomic_rmw addf|addi` with an unused result becomes
//
//   D = M has no other name (hasNoOtherNames) ? 1 : 0
//   P = alloc((C - D) * size(M))                C = copies (0: the number of
//   scf.parallel (%c) = 0 to C {                OpenMP threads at run time)
//     if (c == 0 and D) {                       chunk 0 adds into M itself
//       scf.for %t = chunk 0 { body, each atomic add to M[j] a plain
//         load/add/store of M[j] }
//     } else {                                  the others into their copy
//       P[(c-D)*size .. (c-D+1)*size) = -0.0 (0 for integers)
//       scf.for %t = chunk c { body, each atomic add to M[j] a plain
//         load/add/store of P[(c-D)*size + j] }
//     }
//   }
//   if (C - D > 0) scf.parallel (%j) = 0 to size(M) { M[j] += P[j] + ... }
//   dealloc P
//
// Sums are carried: each chunk's scf.for adds its values from the identity,
// and the outer loop's scf.reduce adds the chunks' sums to the init values.
//
// A memref with a static size above max-elements is left atomic; otherwise a
// run-time test (a dynamic size <= max-elements, and at least
// min-trips-per-element iterations per element) picks the privatised or the
// original loop.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "passes/AtomicAdds.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVPRIVATIZEATOMICS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {

/// The OpenMP runtime's thread count, declared on demand.
constexpr llvm::StringLiteral kMaxThreadsFn = "omp_get_max_threads";

/// A memref the loop only adds to atomically (one kind for all its updates).
struct Candidate {
  Value memref;
  arith::AtomicRMWKind kind;
};

/// The memrefs of `loop` that qualify, in order of first use.
SmallVector<Candidate> findCandidates(scf::ParallelOp loop) {
  SmallVector<Candidate> out;
  llvm::SmallPtrSet<Value, 8> seen;
  loop.getBody()->walk([&](memref::AtomicRMWOp rmw) {
    Value m = rmw.getMemref();
    if (!seen.insert(m).second)
      return;
    auto type = dyn_cast<MemRefType>(m.getType());
    if (!type || type.getRank() != 1 || !type.getLayout().isIdentity())
      return;
    // Defined outside the loop (an argument or a value from above).
    if (loop->isAncestor(m.getParentRegion()->getParentOp()))
      return;
    arith::AtomicRMWKind kind = rmw.getKind();
    if (kind != arith::AtomicRMWKind::addf && kind != arith::AtomicRMWKind::addi)
      return;
    for (OpOperand &use : m.getUses()) {
      Operation *user = use.getOwner();
      if (!loop->isAncestor(user))
        continue;
      auto other = dyn_cast<memref::AtomicRMWOp>(user);
      if (!other || other.getMemref() != m || other.getKind() != kind ||
          !other.getResult().use_empty())
        return;
      // Not in a nested parallel loop: its iterations could race on the
      // private copy.
      if (other->getParentOfType<scf::ParallelOp>() != loop)
        return;
    }
    out.push_back({m, kind});
  });
  return out;
}

/// Whether a reduction region of scf.reduce is a plain sum of its two
/// arguments: arith.addf (true) or arith.addi (false); nullopt otherwise.
std::optional<bool> sumCombiner(Region &r) {
  if (!r.hasOneBlock() || r.front().getNumArguments() != 2)
    return std::nullopt;
  Block &blk = r.front();
  auto ret = dyn_cast<scf::ReduceReturnOp>(blk.getTerminator());
  if (!ret || !llvm::hasSingleElement(blk.without_terminator()))
    return std::nullopt;
  Operation &op = blk.front();
  if (!isa<arith::AddFOp, arith::AddIOp>(op) || ret.getResult() != op.getResult(0))
    return std::nullopt;
  Value a = blk.getArgument(0), c = blk.getArgument(1);
  Value x = op.getOperand(0), y = op.getOperand(1);
  if (!((x == a && y == c) || (x == c && y == a)))
    return std::nullopt;
  return isa<arith::AddFOp>(op);
}

/// The identity of the sum: -0.0 for floats (x + -0.0 == x, also for
/// x == -0.0), 0 for integers.
Value sumIdentity(OpBuilder &b, Location loc, Type type) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc, b.getFloatAttr(ft, llvm::APFloat::getZero(ft.getFloatSemantics(), true)));
  return arith::ConstantOp::create(b, loc, b.getZeroAttr(type));
}

struct PrivatizeAtomicsPass
    : public rev::impl::RevPrivatizeAtomicsBase<PrivatizeAtomicsPass> {
  using RevPrivatizeAtomicsBase::RevPrivatizeAtomicsBase;

  void runOnOperation() override {
    if (maxElements < 1) {
      getOperation()->emitError("--rev-privatize-atomics: max-elements must be >= 1, got ")
          << maxElements.getValue();
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk([&](scf::ParallelOp loop) {
      if (loop.getNumLoops() != 1 || loop->getParentOfType<scf::ParallelOp>())
        return;
      // rev.parallel_for {accumulate = "atomic"} (--lower-rev marks it).
      if (auto mark = loop->getAttrOfType<StringAttr>("rev.accumulate");
          mark && mark.getValue() == "atomic")
        return;
      // Results only from sums (scf.reduce with an addf/addi combiner).
      auto reduce = cast<scf::ReduceOp>(loop.getBody()->getTerminator());
      for (Region &r : reduce.getReductions())
        if (!sumCombiner(r))
          return;
      loops.push_back(loop);
    });
    for (scf::ParallelOp loop : loops)
      if (failed(privatize(loop)))
        return signalPassFailure();
  }

  /// omp_get_max_threads() as an index (declared in the enclosing module).
  FailureOr<Value> runtimeCopies(OpBuilder &b, Location loc, Operation *op) {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return op->emitError("--rev-privatize-atomics{copies=0} needs an enclosing module "
                           "(it calls omp_get_max_threads)"),
             failure();
    auto i32 = b.getI32Type();
    auto fnType = b.getFunctionType({}, {i32});
    Operation *existing = SymbolTable::lookupSymbolIn(module, kMaxThreadsFn);
    if (!existing) {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(module.getBody());
      auto decl = func::FuncOp::create(b, loc, kMaxThreadsFn, fnType);
      decl.setPrivate();
    } else if (auto fn = dyn_cast<func::FuncOp>(existing);
               !fn || fn.getFunctionType() != fnType) {
      return op->emitError("--rev-privatize-atomics{copies=0}: the symbol @")
                 << kMaxThreadsFn << " is taken by something other than () -> i32",
             failure();
    }
    Value n = func::CallOp::create(b, loc, kMaxThreadsFn, TypeRange{i32}, ValueRange{})
                  .getResult(0);
    Value idx = arith::IndexCastOp::create(b, loc, b.getIndexType(), n);
    // At least one copy, whatever the runtime says.
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    return arith::MaxSIOp::create(b, loc, idx, one).getResult();
  }

  LogicalResult privatize(scf::ParallelOp loop) {
    SmallVector<Candidate> cands = findCandidates(loop);
    // Static sizes above max-elements stay atomic.
    llvm::erase_if(cands, [&](const Candidate &c) {
      auto t = cast<MemRefType>(c.memref.getType());
      return !t.isDynamicDim(0) && t.getDimSize(0) > maxElements;
    });
    if (cands.empty())
      return success();

    Location loc = loop.getLoc();
    OpBuilder b(loop);
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    // Trip count n = max(ceildiv(ub - lb, step), 0).
    Value lb = loop.getLowerBound()[0], ub = loop.getUpperBound()[0],
          step = loop.getStep()[0];
    Value span = arith::SubIOp::create(b, loc, ub, lb);
    Value trips = arith::CeilDivSIOp::create(b, loc, span, step);
    trips = arith::MaxSIOp::create(b, loc, trips, c0);

    // Run-time test: dynamic sizes <= max-elements, and at least
    // min-trips-per-element iterations per element of each memref (the
    // copies cost a few passes over them; fewer updates are cheaper atomic).
    SmallVector<Value> sizes;
    Value worth;
    auto both = [&](Value ok) {
      worth = worth ? arith::AndIOp::create(b, loc, worth, ok).getResult() : ok;
    };
    for (const Candidate &c : cands) {
      Value size = memref::DimOp::create(b, loc, c.memref, 0);
      sizes.push_back(size);
      if (cast<MemRefType>(c.memref.getType()).isDynamicDim(0)) {
        Value max = arith::ConstantIndexOp::create(b, loc, maxElements);
        both(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, size, max));
      }
      // rev.parallel_for {accumulate = "privatize"}: the program asked for
      // copies, whatever the trip count.
      auto mark = loop->getAttrOfType<StringAttr>("rev.accumulate");
      if (minTripsPerElement > 0 && !(mark && mark.getValue() == "privatize")) {
        Value ratio = arith::ConstantIndexOp::create(b, loc, minTripsPerElement);
        Value need = arith::MulIOp::create(b, loc, size, ratio);
        both(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, trips, need));
      }
    }
    scf::IfOp ifOp;
    bool hasResults = loop.getNumResults() > 0;
    if (worth) {
      // Privatised if worth it, otherwise the original loop.
      ifOp = scf::IfOp::create(b, loc, loop.getResultTypes(), worth, /*withElseRegion=*/true);
      if (hasResults) {
        OpBuilder eb = OpBuilder::atBlockEnd(ifOp.elseBlock());
        Operation *orig = eb.clone(*loop.getOperation());
        scf::YieldOp::create(eb, loc, orig->getResults());
        loop->moveBefore(ifOp.thenBlock(), ifOp.thenBlock()->end());
      } else {
        b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
        b.clone(*loop.getOperation());
        loop->moveBefore(ifOp.thenBlock()->getTerminator());
      }
      b.setInsertionPoint(loop);
    }

    Value copies;
    if (numCopies == 0) {
      FailureOr<Value> n = runtimeCopies(b, loc, loop);
      if (failed(n))
        return failure();
      copies = *n;
    } else {
      copies = arith::ConstantIndexOp::create(b, loc, numCopies);
    }
    // chunk = ceildiv(n, C).
    Value chunk = arith::CeilDivSIOp::create(b, loc, trips, copies);

    // The private copies: chunk 0 adds into M itself where M has no other
    // name (no other access to its elements runs in the loop then), chunks
    // 1 .. C-1 (and chunk 0 for the other memrefs) into one buffer of
    // (C-1) * size (C * size) per memref.
    Value others = arith::SubIOp::create(b, loc, copies, c1);
    SmallVector<bool> direct;
    SmallVector<Value> parts, privs;
    for (size_t k = 0; k < cands.size(); ++k) {
      direct.push_back(hasNoOtherNames(cands[k].memref));
      parts.push_back(direct.back() ? others : copies);
      auto elem = cast<MemRefType>(cands[k].memref.getType()).getElementType();
      auto type = MemRefType::get({ShapedType::kDynamic}, elem);
      Value total = arith::MulIOp::create(b, loc, parts.back(), sizes[k]);
      privs.push_back(memref::AllocOp::create(b, loc, type, ValueRange{total}));
    }

    // Each chunk: (copies 1 ..) zero its part of the buffer, then run its
    // iterations with plain adds, into M (chunk 0) or its part.
    // With results (sums): each chunk adds its iterations' values from the
    // identity, and the outer loop's scf.reduce (the original combiners) adds
    // the chunks' partial sums to the init values.
    auto reduce = cast<scf::ReduceOp>(loop.getBody()->getTerminator());
    SmallVector<bool> floatSum;
    for (Region &r : reduce.getReductions())
      floatSum.push_back(*sumCombiner(r));
    auto runChunk = [&](OpBuilder &pb, Location l, Value c, bool first) -> SmallVector<Value> {
          SmallVector<Value> bases;
          for (size_t k = 0; k < cands.size(); ++k) {
            if (first && direct[k]) {
              bases.push_back(Value());
              continue;
            }
            Value part = direct[k] ? arith::SubIOp::create(pb, l, c, c1).getResult() : c;
            Value base = arith::MulIOp::create(pb, l, part, sizes[k]);
            bases.push_back(base);
            // the sum's identity (-0.0 for floats: an element no iteration
            // adds to stays -0.0 when the copy is added to it)
            auto elem = cast<MemRefType>(cands[k].memref.getType()).getElementType();
            Value zero = sumIdentity(pb, l, elem);
            auto zfor = scf::ForOp::create(pb, l, c0, sizes[k], c1);
            OpBuilder zb = OpBuilder::atBlockTerminator(zfor.getBody());
            Value at = arith::AddIOp::create(zb, l, base, zfor.getInductionVar());
            memref::StoreOp::create(zb, l, zero, privs[k], ValueRange{at});
          }
          Value begin = arith::MulIOp::create(pb, l, c, chunk);
          Value end = arith::AddIOp::create(pb, l, begin, chunk);
          end = arith::MinSIOp::create(pb, l, end, trips);
          SmallVector<Value> zeros;
          for (Value v : reduce.getOperands())
            zeros.push_back(sumIdentity(pb, l, v.getType()));
          auto body = scf::ForOp::create(pb, l, begin, end, c1, zeros);
          OpBuilder bb = hasResults ? OpBuilder::atBlockEnd(body.getBody())
                                    : OpBuilder::atBlockTerminator(body.getBody());
          Value t = body.getInductionVar();
          Value iv = arith::AddIOp::create(bb, l, lb, arith::MulIOp::create(bb, l, t, step));
          IRMapping map;
          map.map(loop.getInductionVars()[0], iv);
          for (Operation &op : loop.getBody()->without_terminator())
            bb.clone(op, map);
          if (hasResults) {
            SmallVector<Value> next;
            for (auto [k, v] : llvm::enumerate(reduce.getOperands())) {
              Value acc = body.getRegionIterArgs()[k], x = map.lookupOrDefault(v);
              if (floatSum[k]) {
                // The combiner's flags (reassoc from --lower-rev) carry over.
                auto combiner = cast<arith::AddFOp>(reduce.getReductions()[k].front().front());
                next.push_back(arith::AddFOp::create(bb, l, acc, x, combiner.getFastmath())
                                   .getResult());
              } else {
                next.push_back(arith::AddIOp::create(bb, l, acc, x).getResult());
              }
            }
            scf::YieldOp::create(bb, l, next);
          }
          // The atomic adds to a privatised memref become plain adds.
          SmallVector<memref::AtomicRMWOp> rmws;
          body.getBody()->walk([&](memref::AtomicRMWOp r) { rmws.push_back(r); });
          for (memref::AtomicRMWOp r : rmws) {
            auto it = llvm::find_if(cands, [&](const Candidate &cand) {
              return cand.memref == r.getMemref();
            });
            if (it == cands.end())
              continue;
            size_t k = it - cands.begin();
            if (first && direct[k]) {
              replaceByPlainAdd(r, r.getMemref(), r.getIndices());
              continue;
            }
            OpBuilder rb(r);
            Value at = arith::AddIOp::create(rb, r.getLoc(), bases[k], r.getIndices()[0]);
            replaceByPlainAdd(r, privs[k], ValueRange{at});
          }
          return SmallVector<Value>(body.getResults());
        };
    auto chunkBody = [&](OpBuilder &pb, Location l, Value c) -> SmallVector<Value> {
      Value first = arith::CmpIOp::create(pb, l, arith::CmpIPredicate::eq, c, c0);
      auto branch = scf::IfOp::create(pb, l, reduce.getOperandTypes(), first,
                                      /*withElseRegion=*/true);
      for (bool isFirst : {true, false}) {
        // (with results the builder leaves the blocks without terminators)
        Block *blk = isFirst ? branch.thenBlock() : branch.elseBlock();
        OpBuilder ib = hasResults ? OpBuilder::atBlockEnd(blk) : OpBuilder::atBlockTerminator(blk);
        SmallVector<Value> partials = runChunk(ib, l, c, isFirst);
        if (hasResults)
          scf::YieldOp::create(ib, l, partials);
      }
      return SmallVector<Value>(branch.getResults());
    };
    SmallVector<Value> results;
    if (!hasResults) {
      scf::ParallelOp::create(b, loc, ValueRange{c0}, ValueRange{copies}, ValueRange{c1},
                              [&](OpBuilder &pb, Location l, ValueRange ivs) {
                                chunkBody(pb, l, ivs[0]);
                              });
    } else {
      auto outer = scf::ParallelOp::create(
          b, loc, ValueRange{c0}, ValueRange{copies}, ValueRange{c1}, loop.getInitVals(),
          [&](OpBuilder &pb, Location l, ValueRange ivs, ValueRange) {
            SmallVector<Value> partials = chunkBody(pb, l, ivs[0]);
            auto red = scf::ReduceOp::create(pb, l, partials);
            for (auto [k, r] : llvm::enumerate(reduce.getReductions())) {
              Region &dst = red.getReductions()[k];
              dst.getBlocks().clear();
              IRMapping none;
              r.cloneInto(&dst, none);
            }
          });
      results.assign(outer.getResults().begin(), outer.getResults().end());
    }

    // M[j] += sum over the copies 1 .. C-1 of P[(c-1)*size + j], in parallel
    // over j (no pass at all with one copy).
    for (size_t k = 0; k < cands.size(); ++k) {
      Value m = cands[k].memref, size = sizes[k], priv = privs[k];
      bool isFloat = cands[k].kind == arith::AtomicRMWKind::addf;
      Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, parts[k], c0);
      auto any = scf::IfOp::create(b, loc, TypeRange{}, more, /*withElseRegion=*/false);
      OpBuilder ab = OpBuilder::atBlockTerminator(any.thenBlock());
      scf::ParallelOp::create(
          ab, loc, ValueRange{c0}, ValueRange{size}, ValueRange{c1},
          [&](OpBuilder &pb, Location l, ValueRange ivs) {
            Value j = ivs[0];
            Value init = memref::LoadOp::create(pb, l, m, ValueRange{j});
            auto sum = scf::ForOp::create(pb, l, c0, parts[k], c1, ValueRange{init});
            OpBuilder sb = OpBuilder::atBlockEnd(sum.getBody());
            Value at = arith::AddIOp::create(
                sb, l, arith::MulIOp::create(sb, l, sum.getInductionVar(), size), j);
            Value v = memref::LoadOp::create(sb, l, priv, ValueRange{at});
            Value acc = sum.getRegionIterArgs()[0];
            Value next = isFloat ? arith::AddFOp::create(sb, l, acc, v).getResult()
                                 : arith::AddIOp::create(sb, l, acc, v).getResult();
            scf::YieldOp::create(sb, l, next);
            memref::StoreOp::create(pb, l, sum.getResult(0), m, ValueRange{j});
          });
      memref::DeallocOp::create(b, loc, priv);
    }
    if (hasResults) {
      if (ifOp) {
        OpBuilder tb = OpBuilder::atBlockEnd(ifOp.thenBlock());
        scf::YieldOp::create(tb, loc, results);
        loop->replaceAllUsesWith(ifOp.getResults());
      } else {
        loop->replaceAllUsesWith(results);
      }
    }
    loop.erase();
    return success();
  }
};
} // namespace
