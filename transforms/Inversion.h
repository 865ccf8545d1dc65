//===- Inversion.h - the inversion engine ---------------------*- C++ -*-===//
//
// The engine behind --rev-invert, the expansion of rev.uncall and
// rev.routine, and the uncompute steps of the AD engines. It implements the
// IR's InverseBuilder (dialect/InverseBuilder.h), through which each op's
// InvertibleOpInterface::buildInverse builds its own inverse.
//
// The inverse of a block walks its ops backwards. An InversionState maps each
// SSA value of the forward program to the value holding it in the inverse
// program at the current point: variable versions are bound as the inverse
// restores them; pure values (arith, math, memref.load, ...) are recomputed
// right before the op that needs them, never cached across a state change,
// except (with shareInvariants) values that hold the same number at every
// point: those are reused wherever an earlier copy dominates.
//
//===----------------------------------------------------------------------===//
#ifndef REV_TRANSFORMS_INVERSION_H
#define REV_TRANSFORMS_INVERSION_H

#include "dialect/InverseBuilder.h"
#include "dialect/RevOps.h"

namespace mlir::rev {

/// Builds the inverse of `op` at the insertion point of `b`; the update ops
/// it creates get the attribute `mark` (kRecoveryAttr: the value they
/// compute undoes a forward update; kRecomputationAttr: they redo one; see
/// dialect/RevOps.h) unless it is empty.
LogicalResult buildInverseOf(InvertibleOpInterface op, OpBuilder &b, InverseBuilder &st,
                             StringRef mark);

class InversionState : public InverseBuilder {
public:
  /// Values defined outside `scope` that are not bound map to themselves
  /// (used when an inverse is built in place, e.g. to uncompute a routine).
  explicit InversionState(Region *identityOutside = nullptr)
      : identityOutside(identityOutside) {}

  /// The inverse-side value of the forward value `v` at the insertion point
  /// of `b`. Pure values are recomputed there. Returns null (after emitting an
  /// error at `v`'s location) when `v` has no value on the inverse side.
  Value lookup(OpBuilder &b, Value v) override;

  /// Records that the inverse restored the forward value `original` as `inv`.
  void bind(Value original, Value inv) override { bindings.map(original, inv); }

  /// Emits the inverse of the ops of `src` at the insertion point of `b`.
  /// `finals` are the inverse-side values of the terminator's operands; the
  /// result holds the inverse-side values of `initials` (usually the block's
  /// threaded arguments) once everything is undone.
  FailureOr<SmallVector<Value>> invertBlock(OpBuilder &b, Block &src,
                                            ValueRange finals,
                                            ValueRange initials);

  /// Clones `src` into the empty region `dst`, mapping the values it uses
  /// from above through lookup() at the insertion point of `b` (call this
  /// before the op owning `dst` is inserted... the lookups are emitted at the
  /// builder's insertion point).
  LogicalResult cloneRegion(OpBuilder &b, Region &src, Region &dst);

  /// Looks up the values used in `src` but defined above it, at `b`.
  LogicalResult lookupCaptures(OpBuilder &b, Region &src, IRMapping &mapping) override;

  /// Inverts the single block of `src` into the empty region `dst`: the new
  /// block takes (the first `numLeading` arguments of `src`, bound to their
  /// copies, then the final versions) and yields the restored initial versions.
  LogicalResult invertRegionInto(OpBuilder &b, Location loc, Region &src, Region &dst,
                                 unsigned numLeading) override;

  bool allowsDiscard() const override { return allowDiscard; }

  /// Opens/closes a recomputation cache: values recomputed by lookup() are
  /// reused until the matching popRecomputeScope() (open one per state change).
  void pushRecomputeScope() { recomputed.emplace_back(); }
  void popRecomputeScope() { recomputed.pop_back(); }

  /// Whether a rev.discard may be inverted (as a zero rev.alloc): only set
  /// while the AD pass inverts a backward sweep whose discarded adjoints are
  /// known to be zero again (the compute part of a routine).
  bool allowDiscard = false;

  /// Reuse recomputed *invariant* values across the ops of the inverse: a
  /// value whose recomputation reads no memref that the function writes
  /// (pure arithmetic over variable versions, block arguments and loads of
  /// memrefs only read) is the same number at every point of the inverse, so
  /// a copy made for one op serves every later op it dominates, instead of
  /// a copy per op (the inverse of a gradient whose partial derivatives feed
  /// many updates grew 10x without it). Set by buildInverseFunction.
  bool shareInvariants = false;

private:
  /// Whether the forward value `v` (defined by a recomputable op) holds the
  /// same number at every point of the inverse (see shareInvariants).
  bool isInvariant(Value v);
  /// Whether `op` (recomputable) reads only memrefs that its function never
  /// writes.
  bool readsOnlyUnwritten(Operation *op);
  /// A copy of the invariant value `v` made earlier that dominates the
  /// insertion point of `b`, or null.
  Value findShared(OpBuilder &b, Value v);

  IRMapping bindings;
  /// One recomputation cache per op being inverted (innermost last).
  SmallVector<IRMapping> recomputed;
  Region *identityOutside;
  /// shareInvariants: the copies made of each invariant forward value.
  DenseMap<Value, SmallVector<Value, 1>> shared;
  DenseMap<Value, bool> invariant;
  /// Per function: the view roots of the memrefs it writes (unknown: an op
  /// whose writes cannot be told; then every memref counts as written).
  struct Written {
    llvm::SmallDenseSet<Value, 8> roots;
    bool unknown = false;
  };
  DenseMap<Operation *, Written> written;
};

/// The inverse of `func` if the module has one (a function marked
/// `rev.inverse_of = @func`, or the function `func` is the inverse of).
FuncOp findInverseFunction(FuncOp func);

/// Builds `@name`, the inverse of `func`, right after it in the symbol table
/// parent, marked `rev.inverse_of = @func`.
FailureOr<FuncOp> buildInverseFunction(FuncOp func, StringRef name);

/// Returns the inverse of `func` in its module, generating it (as
/// `<name>_inv`, made unique) if none exists yet.
FailureOr<FuncOp> getOrCreateInverseFunction(FuncOp func);
} // namespace mlir::rev

#endif
