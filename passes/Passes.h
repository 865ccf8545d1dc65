//===- Passes.h - passes of the rev project -------------------*- C++ -*-===//
#ifndef REV_PASSES_PASSES_H
#define REV_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

#include "dialect/RevDialect.h"

namespace mlir::rev {
#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Options of the `rev-to-llvm` pipeline.
struct RevToLLVMOptions : public PassPipelineOptions<RevToLLVMOptions> {
  PassOptions::Option<bool> checks{*this, "checks",
                                   llvm::cl::desc("Insert run-time reversibility assertions"),
                                   llvm::cl::init(false)};
  PassOptions::Option<double> atol{
      *this, "atol", llvm::cl::desc("Absolute tolerance for float ancillas in checked mode"),
      llvm::cl::init(1e-8)};
  PassOptions::Option<std::string> checkLowering{
      *this, "check-lowering",
      llvm::cl::desc("How a failed check reports (--lower-rev's option): 'libc' (message and "
                     "exit(1)), 'runtime' (librev_runtime.so: an exception in Python) or "
                     "'assert' (cf.assert)"),
      llvm::cl::init("libc")};
  PassOptions::Option<unsigned> unrollMaxTripCount{
      *this, "unroll-max-trip-count",
      llvm::cl::desc("--rev-unroll-small-loops after --lower-rev: fully unroll scf.for loops "
                     "with a constant trip count up to this (0: no unrolling)"),
      llvm::cl::init(32)};
  PassOptions::Option<unsigned> unrollMaxBodyOps{
      *this, "unroll-max-body-ops",
      llvm::cl::desc("--rev-unroll-small-loops: only loops whose body holds at most this many "
                     "ops"),
      llvm::cl::init(64)};
  PassOptions::Option<bool> memrefNoalias{
      *this, "memref-noalias",
      llvm::cl::desc("Mark the memref arguments' pointers of lowered rev functions "
                     "llvm.noalias (--lower-rev{memref-noalias}, --rev-memref-noalias)"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> fastMath{
      *this, "fast-math",
      llvm::cl::desc("Fast-math flags for the float ops of the lowered functions "
                     "(--rev-fast-math{flags}): 'none' (the default: exact IEEE arithmetic), "
                     "'arcp' (reciprocals: x / c may become x * (1 / c)), 'fast' (all), or "
                     "another arith fast-math flag list"),
      llvm::cl::init("none")};
};

/// rev -> func/arith/math/scf/memref -> LLVM dialect, ready for mlir-runner or
/// the ExecutionEngine: --rev-expand-uncalls, --rev-expand-routines,
/// --rev-insert-checks, --lower-rev, --rev-unroll-small-loops (unless
/// unroll-max-trip-count=0), canonicalization and CSE, --rev-fast-math
/// (unless fast-math=none), then the upstream conversions to LLVM, with
/// --rev-memref-noalias after --convert-func-to-llvm (unless memref-noalias=0).
void buildRevToLLVMPipeline(OpPassManager &pm, const RevToLLVMOptions &options);

/// The two halves of rev-to-llvm, for the other targets to share: rev down to
/// func/arith/math/scf/memref (expansions, checks, --lower-rev, unrolling,
/// canonicalize/CSE, fast-math), then the sequential CPU back end
/// (scf to cf, everything to LLVM, --rev-memref-noalias).
void buildRevToStandardPipeline(OpPassManager &pm, const RevToLLVMOptions &options);
void buildStandardToLLVMPipeline(OpPassManager &pm);

/// Registers the passes and the `rev-to-llvm` pipeline.
/// (The derivative rules that --rev-ad and --rev-fwd need are registered with
/// the dialects: registerRevDerivativeModels in transforms/Transforms.h.)
void registerRevPassesAndPipelines();

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"
} // namespace mlir::rev

#endif
