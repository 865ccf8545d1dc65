//===- GpuReductionsPass.cpp - --rev-gpu-reductions -----------------------===//
//
// Upstream --convert-parallel-loops-to-gpu cannot lower an scf.parallel that
// reduces (scf.reduce: "failed to legalize unresolved materialization"). The
// rev lowering of a parallel loop with shared scalar adjoints produces exactly
// that form, so this pass rewrites each 1-d scf.parallel whose reductions are
// all additive (an arith.addf or arith.addi combiner) into a gpu.launch:
//
//   grid  = max(ceildiv(trip count, block-size), 1) blocks of block-size
//           threads (x only);
//   each thread computes its element's partial sums (0 outside the range),
//   `gpu.all_reduce add` sums them over the block, and thread 0 of each block
//   adds the block's sum into a one-element device accumulator
//   (`memref.atomic_rmw addf/addi`: one atomic per block);
//   the accumulator starts at the loop's init value (copied to the device
//   before the launch) and is copied back after it, so the result is
//   init + sum, as scf.parallel defines it (up to the summation order).
//
// Loops without reductions are left for the upstream mapping (tiling,
// gpu-map-parallel-loops, convert-parallel-loops-to-gpu); a reducing loop
// of another shape (several dimensions, another combiner, inside a kernel)
// is an error at its location: it would otherwise fail later, unlocated.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVGPUREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
/// The additive combiner of reduction region `r` (arith.addf or arith.addi of
/// its two arguments, returned), or null.
Operation *additiveCombiner(Region &r) {
  if (!r.hasOneBlock())
    return nullptr;
  Block &b = r.front();
  if (b.getNumArguments() != 2 || b.getOperations().size() != 2)
    return nullptr;
  Operation *add = &b.front();
  if (!isa<arith::AddFOp, arith::AddIOp>(add))
    return nullptr;
  auto ret = dyn_cast<scf::ReduceReturnOp>(b.getTerminator());
  if (!ret || ret.getResult() != add->getResult(0))
    return nullptr;
  Value x = add->getOperand(0), y = add->getOperand(1);
  if (!((x == b.getArgument(0) && y == b.getArgument(1)) ||
        (x == b.getArgument(1) && y == b.getArgument(0))))
    return nullptr;
  return add;
}

LogicalResult checkShape(scf::ParallelOp loop) {
  if (loop->getParentOfType<gpu::LaunchOp>() || loop->getParentOfType<gpu::GPUModuleOp>())
    return loop.emitOpError("rev-gpu-reductions: a reducing loop inside a GPU kernel is not "
                            "supported (only outermost parallel loops are mapped to the GPU)");
  if (loop.getNumLoops() != 1)
    return loop.emitOpError("rev-gpu-reductions: only 1-d reducing parallel loops are "
                            "supported, this one has ")
           << loop.getNumLoops() << " dimensions";
  if (loop->getParentOfType<scf::ParallelOp>())
    return loop.emitOpError("rev-gpu-reductions: a reducing loop nested in another parallel "
                            "loop is not supported on the GPU");
  WalkResult inner = loop.getBody()->walk([](scf::ParallelOp nested) {
    nested.emitOpError("rev-gpu-reductions: a parallel loop nested in a reducing parallel "
                       "loop is not supported on the GPU");
    return WalkResult::interrupt();
  });
  if (inner.wasInterrupted())
    return failure();
  auto reduce = cast<scf::ReduceOp>(loop.getBody()->getTerminator());
  for (auto [k, region] : llvm::enumerate(reduce.getReductions())) {
    Type t = reduce.getOperands()[k].getType();
    if (!additiveCombiner(region) || !(isa<FloatType>(t) || t.isInteger(32) || t.isInteger(64)))
      return loop.emitOpError("rev-gpu-reductions: reduction #")
             << k << " is not supported on the GPU: only additive reductions (an arith.addf "
             << "or arith.addi combiner) of f16/f32/f64/i32/i64 scalars are (got " << t << ")";
  }
  return success();
}

void rewrite(scf::ParallelOp loop, int64_t blockSize) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  auto reduce = cast<scf::ReduceOp>(loop.getBody()->getTerminator());
  Value lb = loop.getLowerBound()[0], ub = loop.getUpperBound()[0], step = loop.getStep()[0];
  auto cst = [&](OpBuilder &bb, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(bb, loc, v);
  };
  Value c0 = cst(b, 0), c1 = cst(b, 1), cb = cst(b, blockSize);
  Value span = arith::SubIOp::create(b, loc, ub, lb);
  Value trip = arith::MaxSIOp::create(b, loc, arith::CeilDivSIOp::create(b, loc, span, step), c0);
  // One block at least: a launch of no block is an error in CUDA.
  Value grid =
      arith::MaxSIOp::create(b, loc, arith::CeilDivSIOp::create(b, loc, trip, cb), c1);

  // The accumulators: init on the host, copied to the device.
  SmallVector<Value> hostBufs, devBufs;
  for (auto [k, init] : llvm::enumerate(loop.getInitVals())) {
    auto type = MemRefType::get({1}, init.getType());
    Value host = memref::AllocaOp::create(b, loc, type);
    memref::StoreOp::create(b, loc, init, host, ValueRange{c0});
    Value dev = gpu::AllocOp::create(b, loc, type, /*asyncToken=*/Type(), ValueRange{},
                                     ValueRange{}, ValueRange{})
                    .getResult(0);
    gpu::MemcpyOp::create(b, loc, /*asyncToken=*/Type(), ValueRange{}, dev, host);
    hostBufs.push_back(host);
    devBufs.push_back(dev);
  }

  auto launch = gpu::LaunchOp::create(b, loc, grid, c1, c1, cb, c1, c1);
  Block &body = launch.getBody().front();
  OpBuilder kb = OpBuilder::atBlockEnd(&body);
  Value bx = launch.getBlockIds().x, tx = launch.getThreadIds().x;
  Value kcb = cst(kb, blockSize);
  Value t = arith::AddIOp::create(kb, loc, arith::MulIOp::create(kb, loc, bx, kcb), tx);
  Value inRange = arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::slt, t, trip);
  SmallVector<Type> types(loop.getResultTypes());
  auto guard = scf::IfOp::create(kb, loc, types, inRange, /*withElse=*/true);
  {
    OpBuilder tb = guard.getThenBodyBuilder();
    Value iv = arith::AddIOp::create(tb, loc, lb, arith::MulIOp::create(tb, loc, t, step));
    IRMapping map;
    map.map(loop.getInductionVars()[0], iv);
    for (Operation &op : loop.getBody()->without_terminator())
      tb.clone(op, map);
    SmallVector<Value> partials;
    for (Value v : reduce.getOperands())
      partials.push_back(map.lookupOrDefault(v));
    scf::YieldOp::create(tb, loc, partials);
    OpBuilder eb = guard.getElseBodyBuilder();
    SmallVector<Value> zeros;
    for (Type ty : types)
      zeros.push_back(arith::ConstantOp::create(eb, loc, ty, eb.getZeroAttr(ty)));
    scf::YieldOp::create(eb, loc, zeros);
  }
  Value isLeader = arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::eq, tx, cst(kb, 0));
  SmallVector<Value> sums;
  for (Value p : guard.getResults())
    sums.push_back(gpu::AllReduceOp::create(
        kb, loc, p, gpu::AllReduceOperationAttr::get(kb.getContext(), gpu::AllReduceOperation::ADD),
        /*uniform=*/true));
  auto leader = scf::IfOp::create(kb, loc, TypeRange{}, isLeader, /*withElse=*/false);
  {
    OpBuilder lb2 = leader.getThenBodyBuilder();
    Value z = cst(lb2, 0);
    for (auto [k, s] : llvm::enumerate(sums)) {
      auto kind = isa<FloatType>(s.getType()) ? arith::AtomicRMWKind::addf
                                              : arith::AtomicRMWKind::addi;
      memref::AtomicRMWOp::create(lb2, loc, kind, s, devBufs[k], ValueRange{z});
    }
  }
  gpu::TerminatorOp::create(kb, loc);

  SmallVector<Value> results;
  for (auto [k, dev] : llvm::enumerate(devBufs)) {
    gpu::MemcpyOp::create(b, loc, Type(), ValueRange{}, hostBufs[k], dev);
    results.push_back(memref::LoadOp::create(b, loc, hostBufs[k], ValueRange{c0}));
    gpu::DeallocOp::create(b, loc, Type(), ValueRange{}, dev);
  }
  loop.replaceAllUsesWith(results);
  loop.erase();
}

struct GpuReductionsPass : public rev::impl::RevGpuReductionsBase<GpuReductionsPass> {
  using RevGpuReductionsBase::RevGpuReductionsBase;

  void runOnOperation() override {
    if (blockSize < 1 || blockSize > 1024) {
      getOperation().emitError() << "--rev-gpu-reductions: block-size must be in 1..1024, got "
                                 << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk([&](scf::ParallelOp loop) {
      if (loop.getNumResults() > 0)
        loops.push_back(loop);
    });
    bool failedAny = false;
    for (scf::ParallelOp loop : loops)
      failedAny |= failed(checkShape(loop));
    if (failedAny)
      return signalPassFailure();
    for (scf::ParallelOp loop : loops)
      rewrite(loop, blockSize);
  }
};
} // namespace
