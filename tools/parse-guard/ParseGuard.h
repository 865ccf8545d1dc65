//===- ParseGuard.h - parse untrusted MLIR text without crashing ----------===//
//
// Some upstream MLIR op parsers (generated and hand-written alike: smt.check,
// scf.reduce, omp.*, gpu.all_reduce, tensor.generate, ...) abort the process
// on one malformed input: a forward reference resolved by a block argument of
// a region the op then fails to finish parsing (the region is destroyed while
// the outer use still refers to its argument; "Cannot destroy a value that
// still has uses"). rev's own ops reject that input with a located error
// (dialect/RevOps.cpp), but an input may reach any registered dialect.
//
// probeParse parses the text once in a forked child process, in a fresh
// context built from the caller's registry, and verifies it (some upstream
// verifiers crash too: scf.reduce.return on a region without its block
// arguments), and reports whether the parser or the verifier died there and
// the diagnostics printed before. The caller parses
// the text itself only when the probe survived, so a parser abort becomes an
// ordinary error in rev-opt and a RevError in Python.
//
//===----------------------------------------------------------------------===//
#ifndef REV_TOOLS_PARSEGUARD_H
#define REV_TOOLS_PARSEGUARD_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/MemoryBufferRef.h"

#include <string>

namespace mlir::rev {

struct ParseProbe {
  /// The parser, or MLIR's verifier after it, did not finish in the child
  /// (killed by a signal).
  bool crashed = false;
  /// The crash was in the verifier (the parse finished). `diagnostics` then
  /// holds the first op that does not verify, when checking the ops one at
  /// a time, enclosing ops first, found one before any crash;
  /// `crashLocation` the op being verified when it crashed.
  bool inVerifier = false;
  std::string crashLocation;
  /// What the parser reported before (source-manager format, with locations).
  std::string diagnostics;
};

/// Parses `buffer` in a forked child; `splitMarker` non-empty splits it as
/// `-split-input-file` does. Fails (and the caller should parse as usual) only
/// when no child could be started.
FailureOr<ParseProbe> probeParse(llvm::MemoryBufferRef buffer,
                                 const DialectRegistry &registry,
                                 bool allowUnregisteredDialects,
                                 StringRef splitMarker = "");

/// The message that closes a crashed probe's diagnostics.
std::string parserCrashMessage(const ParseProbe &probe);

} // namespace mlir::rev

#endif // REV_TOOLS_PARSEGUARD_H
