//===- LowerRev.h - rev to func/arith/math/scf/memref ----------*- C++ -*-===//
//
// The lowering of rev as conversion patterns, in sets that a target picks
// from: the op patterns (updates, swaps, rotations, ancillas) and functions
// are shared by every target; control flow has a pattern set of its own
// (rev.for/if/while to scf, the place where a parallel or GPU lowering
// differs); run-time checks (rev.check) map to a message and exit(1) on the
// CPU, to a call of the rev runtime (which the Python package turns into an
// exception) or to cf.assert (which also works inside GPU kernels).
//
// The input must be free of rev.routine and rev.uncall (--rev-expand-uncalls
// and --rev-expand-routines run before). Types do not change: scalars and
// memrefs lower to themselves.
//
//===----------------------------------------------------------------------===//
#ifndef REV_CONVERSION_LOWERREV_H
#define REV_CONVERSION_LOWERREV_H

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringRef.h"

namespace mlir {
class ConversionTarget;
class RewritePatternSet;
namespace rev {
/// Set by --lower-rev{memref-noalias} on a rev.func (and kept on its
/// func.func): the positions, in the signature that --convert-func-to-llvm
/// gives it (each ranked memref: allocated and aligned pointer, offset,
/// sizes, strides), of its memref arguments' allocated and aligned
/// pointers, and that signature's length. --rev-memref-noalias, after
/// --convert-func-to-llvm, puts `llvm.noalias` on those pointers.
inline constexpr llvm::StringLiteral kNoaliasPtrArgsAttr = "rev.noalias_ptr_args";
/// On the op that reports a failed run-time check (the scf.if or cf.assert
/// that a rev.check becomes), so that later passes (--rev-tape-loops) can
/// tell checking code from the program; --rev-tape-loops drops it.
inline constexpr llvm::StringLiteral kCheckFailureAttr = "rev.check_failure";
inline constexpr llvm::StringLiteral kNoaliasArgCountAttr = "rev.noalias_arg_count";
/// The `passthrough` entry (key, value) that --lower-rev{prefer-vector-width}
/// puts on the lowered functions (an LLVM function attribute).
inline constexpr llvm::StringLiteral kPreferVectorWidthKey = "prefer-vector-width";
/// The key of an entry of an `llvm.func` `passthrough` array: the string
/// itself, or the first element of a [key, value] pair; empty otherwise.
inline llvm::StringRef passthroughKey(Attribute entry) {
  if (auto key = dyn_cast<StringAttr>(entry))
    return key.getValue();
  auto pair = dyn_cast<ArrayAttr>(entry);
  auto key = pair && !pair.empty() ? dyn_cast<StringAttr>(pair[0]) : StringAttr();
  return key ? key.getValue() : llvm::StringRef();
}
/// Set during the lowering on the element updates of a rev.parallel_for's
/// shared accumulations: lowered to memref.atomic_rmw.
inline constexpr llvm::StringLiteral kAtomicUpdateAttr = "rev.atomic";

/// Updates (every row of the update-kind table), neg, swap, rot/irot and
/// their element forms, alloc/free/discard.
void populateRevOpLoweringPatterns(RewritePatternSet &patterns);
/// rev.func/return/call to func.func/return/call (functions get
/// `llvm.emit_c_interface`).
void populateRevFuncToFuncPatterns(RewritePatternSet &patterns);
/// rev.for/if/while (and their rev.yield) to scf.for/if/while, and
/// rev.parallel_for to scf.parallel, its accumulators to scf.reduce with an
/// add combiner; `reassociateReductions` puts `fastmath<reassoc>` on a float
/// combiner (the sum's order is unspecified; LLVM may then vectorise the
/// loop with partial sums).
void populateRevControlFlowToSCFPatterns(RewritePatternSet &patterns,
                                         bool reassociateReductions = true);
/// rev.steps (two working buffers) and rev.steps_adjoint (binomial
/// checkpointing, conversion/LowerSteps.cpp) to scf/memref/func.call.
void populateRevStepsPatterns(RewritePatternSet &patterns);
/// rev.check to a write(2) of its message and exit(1) (libc; CPU). The libc
/// and runtime sets map checks in host code (a builtin.module); a check in a
/// gpu.module (device code) becomes cf.assert with either.
void populateRevCheckToLibcPatterns(RewritePatternSet &patterns);
/// rev.check to a call of __rev_check_failed(message, length) from
/// librev_runtime.so (runtime/RevRuntime.c): inside rev_guarded_call it
/// returns to the guard (the Python package raises RevError), elsewhere it
/// writes the message and exits(1).
void populateRevCheckToRuntimePatterns(RewritePatternSet &patterns);
/// rev.check to cf.assert with its message (portable; GPU kernels).
void populateRevCheckToAssertPatterns(RewritePatternSet &patterns);
/// Whether `mode` names one of the three mappings above: "libc", "runtime"
/// or "assert" (the passes' check-lowering option).
bool isRevCheckLowering(llvm::StringRef mode);
/// The rev.check patterns of `mode` (one that isRevCheckLowering accepts).
void populateRevCheckPatterns(RewritePatternSet &patterns, llvm::StringRef mode);
/// The dialects rev lowers to are legal, rev is illegal.
void configureRevLoweringTarget(ConversionTarget &target);
} // namespace rev
} // namespace mlir

#endif
