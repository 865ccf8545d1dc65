//===- Pipelines.cpp - registration, rev-to-llvm and rev-to-openmp ---------===//
#include "passes/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::rev::buildRevToStandardPipeline(OpPassManager &pm, const RevToLLVMOptions &options) {
  // Before the canonicalizer can turn such a cast into invalid IR.
  pm.addPass(createRevCheckMemrefCasts());
  pm.addPass(createRevExpandUncalls());
  pm.addPass(createRevExpandRoutines());
  RevInsertChecksOptions checks;
  checks.reversibility = options.checks;
  checks.atol = options.atol;
  pm.addPass(createRevInsertChecks(checks));
  // After expansion (it skips functions with routines or uncalls left) and
  // the checks (which keep testing the ops' own preconditions).
  if (options.foldZeroAdjoints)
    pm.addPass(createRevFoldZeroAdjoints());
  LowerRevOptions lower;
  lower.checkLowering = options.checkLowering;
  lower.memrefNoalias = options.memrefNoalias;
  lower.markRecoveries = options.foldRecoveries;
  lower.reassociateReductions = options.reassociateReductions;
  lower.preferVectorWidth = options.preferVectorWidth;
  pm.addPass(createLowerRev(lower));
  if (options.unrollMaxTripCount > 0) {
    RevUnrollSmallLoopsOptions unroll;
    unroll.maxTripCount = options.unrollMaxTripCount;
    unroll.maxBodyOps = options.unrollMaxBodyOps;
    pm.addPass(createRevUnrollSmallLoops(unroll));
  }
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Gradients marked by rev-ad{loop-budget=...} only (a no-op otherwise);
  // after CSE, so that its cost model sees each value once.
  RevTapeLoopsOptions tape;
  tape.checks = options.checks;
  tape.atol = options.atol;
  tape.checkLowering = options.checkLowering;
  pm.addPass(createRevTapeLoops(tape));
  if (options.foldRecoveries)
    pm.addPass(createRevFoldRecoveries());
  if (options.fastMath != "none") {
    RevFastMathOptions fastMath;
    fastMath.flags = options.fastMath;
    pm.addPass(createRevFastMath(fastMath));
  }
}

/// finalize-memref-to-llvm, with the generic allocation functions for
/// pooled-alloc.
static std::unique_ptr<Pass> memrefToLLVM(bool pooledAlloc) {
  FinalizeMemRefToLLVMConversionPassOptions options;
  options.useGenericFunctions = pooledAlloc;
  return createFinalizeMemRefToLLVMConversionPass(options);
}

void mlir::rev::buildStandardToLLVMPipeline(OpPassManager &pm, bool pooledAlloc) {
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLLVMPass());
  // math-to-libm splits a vector op (--rev-pipeline-sweeps makes them) into
  // vector.extract/insert around scalar calls: vector-to-llvm comes after.
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(memrefToLLVM(pooledAlloc));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  // Also without memref-noalias: it removes --lower-rev's marks.
  pm.addPass(createRevMemrefNoalias());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

/// --rev-pipeline-sweeps's vector width: sweep-vector-bits, else 1024 bits.
/// Wider than the registers, LLVM splits each vector op into independent
/// parts (4 x 256 or 2 x 512 bits), so that several chains of the backward
/// sweep are in flight per step: with --rev-divide-by-constants the Bessel
/// gradient is bound by the latency of that chain, not by the divider
/// (measured 22.2 ns per element at 256 bits, 15.5 at 512, 12.6 at 1024).
static unsigned sweepVectorBits(const mlir::rev::RevToLLVMOptions &options) {
  return options.sweepVectorBits ? unsigned(options.sweepVectorBits) : 1024u;
}

void mlir::rev::buildRevToLLVMPipeline(OpPassManager &pm, const RevToLLVMOptions &options) {
  buildRevToStandardPipeline(pm, options);
  // One thread runs every parallel loop here: no atomics needed.
  pm.addPass(createRevSerialAtomics());
  if (options.pipelineSweeps) {
    RevPipelineSweepsOptions pipe;
    pipe.vectorBits = sweepVectorBits(options);
    pm.addPass(createRevPipelineSweeps(pipe));
  }
  if (options.divideByConstants)
    pm.addPass(createRevDivideByConstants());
  buildStandardToLLVMPipeline(pm, options.pooledAlloc);
}

void mlir::rev::buildRevToOpenMPPipeline(OpPassManager &pm, const RevToOpenMPOptions &options) {
  buildRevToStandardPipeline(pm, options);
  if (options.ownedRanges)
    pm.addPass(createRevOwnedRanges());
  if (options.privatizeAtomics) {
    RevPrivatizeAtomicsOptions priv;
    // With a fixed thread count, one copy per thread.
    priv.numCopies = options.privatizeCopies ? options.privatizeCopies : options.numThreads;
    priv.maxElements = options.privatizeMaxElements;
    priv.minTripsPerElement = options.privatizeMinTripsPerElement;
    pm.addPass(createRevPrivatizeAtomics(priv));
  }
  if (options.pipelineSweeps) {
    RevPipelineSweepsOptions pipe;
    pipe.vectorBits = sweepVectorBits(options);
    pipe.parallelChunk = 4096;
    pm.addPass(createRevPipelineSweeps(pipe));
  }
  if (options.divideByConstants)
    pm.addPass(createRevDivideByConstants());
  ConvertSCFToOpenMPPassOptions omp;
  omp.numThreads = options.numThreads;
  pm.addPass(createConvertSCFToOpenMPPass(omp));
  // convert-scf-to-openmp wraps every loop body in memref.alloca_scope (a
  // stack save/restore per iteration once lowered); canonicalisation inlines
  // the scopes that hold no alloca. (Measured: no change in the 1-thread
  // Bessel gradient, which stays ~1.3x the sequential build's; the cause is
  // elsewhere, docs/parallel.md.)
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  // Before --convert-scf-to-cf: --convert-scf-to-openmp wraps each loop body
  // in memref.alloca_scope, whose region must stay a single block.
  pm.addPass(memrefToLLVM(options.pooledAlloc));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  // Also without memref-noalias: it removes --lower-rev's marks.
  pm.addPass(createRevMemrefNoalias());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::rev::registerRevPassesAndPipelines() {
  registerRevPasses();
  PassPipelineRegistration<RevToLLVMOptions>(
      "rev-to-llvm",
      "Lower rev through the standard dialects to the LLVM dialect (options: checks, atol, "
      "check-lowering, unroll-max-trip-count, unroll-max-body-ops, memref-noalias, "
      "fold-zero-adjoints, fold-recoveries, reassociate-reductions, prefer-vector-width, "
      "fast-math, pooled-alloc)",
      buildRevToLLVMPipeline);
  registerRevToGPUPipeline();
  PassPipelineRegistration<RevToOpenMPOptions>(
      "rev-to-openmp",
      "Lower rev to the LLVM dialect with scf.parallel loops on OpenMP threads (the LLVM "
      "OpenMP runtime, libomp): rev-to-llvm's options, plus num-threads, privatize-atomics, "
      "privatize-copies, privatize-max-elements, privatize-min-trips-per-element",
      buildRevToOpenMPPipeline);
}
