//===- Expansion.h - expanding uncalls and routines -----------*- C++ -*-===//
//
// Rewrites that leave a program without rev.uncall and rev.routine, the two
// ops whose meaning is "run an inverse": the lowering (conversion/) only
// has to handle ops that run forwards.
//
//===----------------------------------------------------------------------===//
#ifndef REV_TRANSFORMS_EXPANSION_H
#define REV_TRANSFORMS_EXPANSION_H

#include "mlir/IR/Operation.h"

namespace mlir::rev {
/// Replaces every rev.uncall @f under `root` by a rev.call of f's inverse,
/// generated (in f's symbol table) when there is none; repeats on the
/// generated inverses until no uncall is left.
LogicalResult expandUncalls(Operation *root);

/// Expands every rev.routine under `root` in place: compute, body, then the
/// inverse of compute. The uncompute step may hold uncalls (the inverse of a
/// call), and the inverses these need may hold routines, so it expands
/// uncalls too (expandUncalls) until neither is left.
LogicalResult expandRoutines(Operation *root);
} // namespace mlir::rev

#endif
