//===- InverseBuilder.h - what an op needs to build its inverse -*- C++ -*-===//
//
// The contract between InvertibleOpInterface::buildInverse (each op's own
// inverse, in the IR library) and the inversion engine that walks programs
// backwards (transforms/Inversion.h implements it). An InverseBuilder maps
// each SSA value of the forward program to the value that holds it in the
// inverse program at the builder's insertion point.
//
//===----------------------------------------------------------------------===//
#ifndef REV_DIALECT_INVERSEBUILDER_H
#define REV_DIALECT_INVERSEBUILDER_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::rev {
class InverseBuilder {
public:
  virtual ~InverseBuilder() = default;

  /// The inverse-side value of the forward value `v` at the insertion point
  /// of `b` (pure values are recomputed there). Null, after a located error,
  /// when `v` has no value on the inverse side.
  virtual Value lookup(OpBuilder &b, Value v) = 0;

  /// Records that the inverse restored the consumed forward value `original`
  /// as `inverse`.
  virtual void bind(Value original, Value inverse) = 0;

  /// Maps (through lookup() at `b`) the values used in `src` but defined
  /// above it.
  virtual LogicalResult lookupCaptures(OpBuilder &b, Region &src, IRMapping &mapping) = 0;

  /// Inverts the single block of `src` into the empty region `dst`: the new
  /// block takes (the first `numLeading` arguments of `src`, then the final
  /// versions) and yields the restored initial versions.
  virtual LogicalResult invertRegionInto(OpBuilder &b, Location loc, Region &src,
                                         Region &dst, unsigned numLeading) = 0;

  /// Whether a rev.discard may be inverted here (as a zero ancilla): only
  /// where the discarded value is known to be zero again.
  virtual bool allowsDiscard() const = 0;

  /// lookup() of every value; fails if any fails.
  FailureOr<SmallVector<Value>> lookupAll(OpBuilder &b, ValueRange values) {
    SmallVector<Value> out;
    for (Value v : values) {
      Value w = lookup(b, v);
      if (!w)
        return failure();
      out.push_back(w);
    }
    return out;
  }
};
} // namespace mlir::rev

#endif
