//===- ZeroAdjoints.h - folding updates by known-zero adjoints -*- C++ -*-===//
//
// A small activity analysis for generated derivative code: the adjoint (or
// tangent) of an ancilla starts as an exact structural zero
// (`rev.alloc {adjoint}`), and stays one through the updates that keep zero
// zero. Updates whose delta is then a product with such a zero are no-ops
// and are removed. See docs/ad.md, "Known-zero adjoints".
//
//===----------------------------------------------------------------------===//
#ifndef REV_TRANSFORMS_ZEROADJOINTS_H
#define REV_TRANSFORMS_ZEROADJOINTS_H

#include "mlir/IR/Operation.h"

namespace mlir::rev {
/// Statistics of foldZeroAdjoints.
struct ZeroAdjointStats {
  unsigned removedUpdates = 0;     // rev.add/sub(_at) with a zero delta
  unsigned forwardedZeros = 0;     // rev.mul/div/neg/add/sub of a zero target
  unsigned skippedFunctions = 0;   // functions still holding routines/uncalls
};

/// Folds the updates by known-zero adjoints in every rev.func under `root`
/// that holds no rev.routine and no rev.uncall (run after
/// --rev-expand-uncalls and --rev-expand-routines; others are skipped and
/// counted). Only the lowering should see the result: the inverse of a
/// folded function is not the inverse of the original one where the
/// original drops adjoints (`rev.discard`).
ZeroAdjointStats foldZeroAdjoints(Operation *root);
} // namespace mlir::rev

#endif
