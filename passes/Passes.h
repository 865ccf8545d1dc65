//===- Passes.h - passes of the rev project -------------------*- C++ -*-===//
#ifndef REV_PASSES_PASSES_H
#define REV_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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
  PassOptions::Option<bool> foldZeroAdjoints{
      *this, "fold-zero-adjoints",
      llvm::cl::desc("--rev-fold-zero-adjoints before --lower-rev: remove the updates of "
                     "derivative code by known-zero adjoints (exact, no fast-math)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> foldRecoveries{
      *this, "fold-recoveries",
      llvm::cl::desc("Let the backward sweep read the forward's values where they are at "
                     "hand instead of recovering them by inverse updates (--lower-rev's "
                     "recovery-flags, --rev-fold-recoveries): exact forward values, "
                     "rounding-level changes in gradients"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> reassociateReductions{
      *this, "reassociate-reductions",
      llvm::cl::desc("A rev.parallel_for's float accumulators are summed with "
                     "`fastmath<reassoc>` on the combiner only (--lower-rev's option): "
                     "the sequential loop may then be vectorised with partial sums; "
                     "false: added in iteration order"),
      llvm::cl::init(true)};
  PassOptions::Option<unsigned> preferVectorWidth{
      *this, "prefer-vector-width",
      llvm::cl::desc("Vectors of this many bits for LLVM's vectorisers in the lowered rev "
                     "functions (--lower-rev's option: 128, 256 or 512; 0, the default: "
                     "the target's choice, 256 on x86 with AVX-512). Exact: the same "
                     "operations, in wider lanes (a parallel loop's reassociated float "
                     "sums excepted: their partial sums follow the width)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> pipelineSweeps{
      *this, "pipeline-sweeps",
      llvm::cl::desc("--rev-pipeline-sweeps before the LLVM conversion (CPU: rev-to-llvm, and "
                     "rev-to-openmp on chunks of parallel loops): "
                     "element loops whose forward part divides run as vector loops, the next "
                     "vector's forward part interleaved with the current one's backward part "
                     "(exact: bit-for-bit the same results, fast-math 'fast' aside)"),
      llvm::cl::init(true)};
  PassOptions::Option<unsigned> sweepVectorBits{
      *this, "sweep-vector-bits",
      llvm::cl::desc("--rev-pipeline-sweeps's vector-bits (128, 256, 512 or 1024; 0, the "
                     "default: 1024). Wider than the machine's registers, LLVM splits "
                     "each vector op into independent parts: more chains of the backward "
                     "sweep in flight per step (exact: the same operations per element)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> divideByConstants{
      *this, "divide-by-constants",
      llvm::cl::desc("--rev-divide-by-constants after --rev-pipeline-sweeps: vector divisions "
                     "by constants become multiplications by the reciprocal with FMA "
                     "corrections, proven exact (bit-for-bit the divisions' results)"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> fastMath{
      *this, "fast-math",
      llvm::cl::desc("Fast-math flags for the float ops of the lowered functions "
                     "(--rev-fast-math{flags}): 'none' (the default: exact IEEE arithmetic), "
                     "'arcp' (reciprocals: x / c may become x * (1 / c)), 'fast' (all), or "
                     "another arith fast-math flag list"),
      llvm::cl::init("none")};
  PassOptions::Option<bool> pooledAlloc{
      *this, "pooled-alloc",
      llvm::cl::desc("memref.alloc/dealloc call _mlir_memref_to_llvm_alloc/_free "
                     "(finalize-memref-to-llvm's use-generic-functions) instead of malloc/free: "
                     "librev_runtime.so serves them from a pool that keeps freed large blocks "
                     "(loop tapes, privatised copies) for the next call, so that they are not "
                     "faulted in afresh every call. The host must provide the two functions "
                     "(the Python package does)"),
      llvm::cl::init(false)};
};

/// Options of the `rev-to-gpu` pipeline: rev-to-llvm's, and the NVIDIA
/// target's (passes/GpuPipeline.cpp).
struct RevToGPUOptions : public RevToLLVMOptions {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("NVIDIA architecture of the kernels (sm_70 ... sm_120)"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("NVPTX features: the PTX ISA version (+ptx80 by default; it must be "
                     "recent enough for the chip, and the driver must know it)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Kernel binary format: 'isa' (PTX, compiled by the driver at load time: "
                     "needs only the driver), 'bin' (cubin) or 'fatbin' (both need ptxas from "
                     "a CUDA toolkit at compile time)"),
      llvm::cl::init("isa")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit folder (with bin/ptxas) for format=bin/fatbin; default: "
                     "$CUDA_ROOT, $CUDA_HOME, $CUDA_PATH, /usr/local/cuda, or the folder above "
                     "the ptxas on $PATH"),
      llvm::cl::init("")};
  PassOptions::Option<int64_t> blockSize{
      *this, "block-size", llvm::cl::desc("Threads per block of every kernel (1..1024)"),
      llvm::cl::init(256)};
  PassOptions::Option<unsigned> optLevel{
      *this, "opt-level", llvm::cl::desc("NVPTX optimisation level of the kernels (0..3)"),
      llvm::cl::init(3)};
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
  PassOptions::Option<bool> ownedRanges{
      *this, "owned-ranges",
      llvm::cl::desc("Run --rev-owned-ranges before --rev-privatize-atomics: atomic adds "
                     "into CSR-like row ranges become plain where the row index is "
                     "non-decreasing (a run-time test)"),
      llvm::cl::init(true)};
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
void buildStandardToLLVMPipeline(OpPassManager &pm, bool pooledAlloc = false);

/// rev -> standard (as rev-to-llvm) -> NVIDIA GPU kernels (gpu.binary) and
/// host code in the LLVM dialect calling the MLIR CUDA runtime (mgpu*).
/// Returns failure, with a message through `error`, for invalid options.
LogicalResult buildRevToGPUPipeline(OpPassManager &pm, const RevToGPUOptions &options,
                                    function_ref<LogicalResult(const Twine &)> error);
void registerRevToGPUPipeline();

/// The multicore CPU target: buildRevToStandardPipeline, then
/// --rev-privatize-atomics (unless privatize-atomics=0),
/// --convert-scf-to-openmp (scf.parallel to omp.parallel + omp.wsloop,
/// scf.reduce to omp.declare_reduction), and the conversions to LLVM with
/// --finalize-memref-to-llvm before --convert-scf-to-cf (the omp loop bodies
/// are in memref.alloca_scope) and --convert-openmp-to-llvm. The code calls
/// the LLVM OpenMP runtime (libomp.so.5: __kmpc_fork_call, ...).
void buildRevToOpenMPPipeline(OpPassManager &pm, const RevToOpenMPOptions &options);

/// Registers the passes and the `rev-to-llvm`, `rev-to-openmp` and `rev-to-gpu`
/// pipelines.
/// (The derivative rules that --rev-ad and --rev-fwd need are registered with
/// the dialects: registerRevDerivativeModels in transforms/Transforms.h.)
void registerRevPassesAndPipelines();

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"
} // namespace mlir::rev

#endif
