//===- CheckMemrefCastsPass.cpp - --rev-check-memref-casts ----------------===//
//
// A memref.cast to a static size of a buffer whose size is a known constant
// of another value always fails; canonicalisation would turn it into a
// static-to-static cast the verifier rejects (invalid IR after a pass), so
// this pass reports it first, at the cast and the allocation.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVCHECKMEMREFCASTS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
/// The sizes of `value`'s buffer that are known constants (nullopt where
/// not), and the op that fixes them.
struct KnownShape {
  SmallVector<std::optional<int64_t>> sizes;
  Operation *origin = nullptr;
};

KnownShape knownShape(Value value) {
  KnownShape known;
  auto type = dyn_cast<MemRefType>(value.getType());
  if (!type)
    return known;
  known.sizes.assign(type.getRank(), std::nullopt);
  for (auto [d, size] : llvm::enumerate(type.getShape()))
    if (!ShapedType::isDynamic(size))
      known.sizes[d] = size;
  Operation *def = value.getDefiningOp();
  if (!def)
    return known;
  known.origin = def;
  if (isa<memref::AllocOp, memref::AllocaOp>(def)) {
    ValueRange dynamicSizes = isa<memref::AllocOp>(def)
                                  ? cast<memref::AllocOp>(def).getDynamicSizes()
                                  : cast<memref::AllocaOp>(def).getDynamicSizes();
    unsigned next = 0;
    for (auto [d, size] : llvm::enumerate(type.getShape())) {
      if (!ShapedType::isDynamic(size))
        continue;
      APInt c;
      if (next < dynamicSizes.size() && matchPattern(dynamicSizes[next], m_ConstantInt(&c)))
        known.sizes[d] = c.getSExtValue();
      ++next;
    }
    return known;
  }
  if (auto cast = dyn_cast<memref::CastOp>(def)) {
    KnownShape source = knownShape(cast.getSource());
    if (source.sizes.size() == known.sizes.size()) {
      for (auto [d, size] : llvm::enumerate(source.sizes))
        if (!known.sizes[d])
          known.sizes[d] = size;
      known.origin = source.origin;
    }
  }
  return known;
}

struct CheckMemrefCastsPass : public rev::impl::RevCheckMemrefCastsBase<CheckMemrefCastsPass> {
  using RevCheckMemrefCastsBase::RevCheckMemrefCastsBase;

  void runOnOperation() override {
    bool failed = false;
    getOperation()->walk([&](memref::CastOp cast) {
      auto result = dyn_cast<MemRefType>(cast.getType());
      if (!result)
        return;
      KnownShape source = knownShape(cast.getSource());
      if (source.sizes.size() != static_cast<size_t>(result.getRank()))
        return;
      for (auto [d, size] : llvm::enumerate(result.getShape())) {
        if (ShapedType::isDynamic(size) || !source.sizes[d] || *source.sizes[d] == size)
          continue;
        InFlightDiagnostic diag = cast.emitOpError()
                                  << "casts a buffer whose dimension " << d << " has size "
                                  << *source.sizes[d] << " to " << result
                                  << ": the cast always fails at run time";
        if (source.origin)
          diag.attachNote(source.origin->getLoc()) << "the size is fixed here";
        failed = true;
        return;
      }
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
