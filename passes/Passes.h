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

/// Options of the `rev-to-openmp` pipeline: those of `rev-to-llvm` and the
/// OpenMP back end's.
struct RevToOpenMPOptions : public RevToLLVMOptions {
  PassOptions::Option<unsigned> numThreads{
      *this, "num-threads",
      llvm::cl::desc("Threads of each parallel region (--convert-scf-to-openmp's num-threads: "
                     "an omp.parallel num_threads clause); 0: the OpenMP runtime's choice "
                     "(OMP_NUM_THREADS, omp_set_num_threads, else one per core)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> privatizeAtomics{
      *this, "privatize-atomics",
      llvm::cl::desc("Run --rev-privatize-atomics before --convert-scf-to-openmp: private "
                     "copies instead of atomic adds into 1-d memrefs"),
      llvm::cl::init(true)};
  PassOptions::Option<unsigned> privatizeCopies{
      *this, "privatize-copies",
      llvm::cl::desc("--rev-privatize-atomics{copies}; 0: num-threads if set, else "
                     "omp_get_max_threads() at run time"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> privatizeMaxElements{
      *this, "privatize-max-elements",
      llvm::cl::desc("--rev-privatize-atomics{max-elements}: larger memrefs stay atomic"),
      llvm::cl::init(4194304)};
  PassOptions::Option<unsigned> privatizeMinTripsPerElement{
      *this, "privatize-min-trips-per-element",
      llvm::cl::desc("--rev-privatize-atomics{min-trips-per-element}: privatise only loops "
                     "with at least this many iterations per element (run-time test)"),
      llvm::cl::init(1)};
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

/// The multicore CPU target: buildRevToStandardPipeline, then
/// --rev-privatize-atomics (unless privatize-atomics=0),
/// --convert-scf-to-openmp (scf.parallel to omp.parallel + omp.wsloop,
/// scf.reduce to omp.declare_reduction), and the conversions to LLVM with
/// --finalize-memref-to-llvm before --convert-scf-to-cf (the omp loop bodies
/// are in memref.alloca_scope) and --convert-openmp-to-llvm. The code calls
/// the LLVM OpenMP runtime (libomp.so.5: __kmpc_fork_call, ...).
void buildRevToOpenMPPipeline(OpPassManager &pm, const RevToOpenMPOptions &options);

/// Registers the passes and the `rev-to-llvm` and `rev-to-openmp` pipelines.
/// (The derivative rules that --rev-ad and --rev-fwd need are registered with
/// the dialects: registerRevDerivativeModels in transforms/Transforms.h.)
void registerRevPassesAndPipelines();

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"
} // namespace mlir::rev

#endif
