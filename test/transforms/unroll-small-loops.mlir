// --rev-unroll-small-loops: scf.for loops with a constant trip count up to
// max-trip-count and a body of at most max-body-ops ops are fully unrolled,
// innermost first; loops with a run-time trip count, bigger loops and loops
// that still hold a loop stay.
// RUN: rev-opt %s --rev-unroll-small-loops | FileCheck %s --check-prefix=DEF
// RUN: rev-opt %s --rev-unroll-small-loops="max-trip-count=3" | FileCheck %s --check-prefix=TRIP3
// RUN: rev-opt %s --rev-unroll-small-loops="max-trip-count=0" | FileCheck %s --check-prefix=OFF
// RUN: rev-opt %s --rev-unroll-small-loops="max-body-ops=2" | FileCheck %s --check-prefix=BODY2
// The pipeline runs it after --lower-rev, and unroll-max-trip-count=0 turns it off.
// RUN: rev-opt %s --rev-ad="funcs=series" --rev-to-llvm | FileCheck %s --check-prefix=PIPE
// RUN: rev-opt %s --rev-ad="funcs=series" --rev-to-llvm="unroll-max-trip-count=0" | FileCheck %s --check-prefix=PIPEOFF

// A term loop (4 iterations) inside an element loop (run-time trip count):
// the term loop goes, the element loop stays and is now innermost.
// DEF-LABEL: func.func @nested
// DEF: scf.for
// DEF-NOT: scf.for
// DEF-COUNT-4: arith.mulf
// DEF-NOT: arith.mulf
// DEF: return
// TRIP3-LABEL: func.func @nested
// TRIP3-COUNT-2: scf.for
// OFF-LABEL: func.func @nested
// OFF-COUNT-2: scf.for
// BODY2-LABEL: func.func @nested
// BODY2-COUNT-2: scf.for
func.func @nested(%A: memref<?xf64>, %x: f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  scf.for %i = %c0 to %n step %c1 {
    %a = memref.load %A[%i] : memref<?xf64>
    %r = scf.for %k = %c0 to %c4 step %c1 iter_args(%t = %a) -> (f64) {
      %m = arith.mulf %t, %x : f64
      %ki = arith.index_cast %k : index to i64
      %kf = arith.sitofp %ki : i64 to f64
      %s = arith.addf %m, %kf : f64
      scf.yield %s : f64
    }
    memref.store %r, %A[%i] : memref<?xf64>
  }
  return
}

// Two constant loops nested (2 x 3): the inner one first, then the outer
// one, whose body is small enough once the inner one is unrolled.
// DEF-LABEL: func.func @both_constant
// DEF-NOT: scf.for
// DEF-COUNT-6: arith.addf
// DEF-NOT: arith.addf
// DEF: return
// TRIP3-LABEL: func.func @both_constant
// TRIP3-NOT: scf.for
// TRIP3: return
// With max-body-ops=2 the inner loop (1 op) goes, the outer one (3 ops then)
// stays.
// BODY2-LABEL: func.func @both_constant
// BODY2: scf.for
// BODY2-NOT: scf.for
// BODY2-COUNT-3: arith.addf
// BODY2-NOT: arith.addf
// BODY2: return
func.func @both_constant(%x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%u = %x) -> (f64) {
    %v = scf.for %j = %c0 to %c3 step %c1 iter_args(%w = %u) -> (f64) {
      %s = arith.addf %w, %x : f64
      scf.yield %s : f64
    }
    scf.yield %v : f64
  }
  return %r : f64
}

// 40 iterations: over the default limit (32).
// DEF-LABEL: func.func @long
// DEF: scf.for
// TRIP3-LABEL: func.func @long
// TRIP3: scf.for
func.func @long(%x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c40 = arith.constant 40 : index
  %r = scf.for %i = %c0 to %c40 step %c1 iter_args(%u = %x) -> (f64) {
    %s = arith.addf %u, %x : f64
    scf.yield %s : f64
  }
  return %r : f64
}

// A rev.func: the series loop of a routine (5 terms) in the backward sweep.
// PIPE-LABEL: llvm.func @series_bwd(
// PIPE-NOT: llvm.cond_br
// PIPE: llvm.return
// PIPE-NEXT: }
// PIPEOFF-LABEL: llvm.func @series_bwd(
// PIPEOFF: llvm.cond_br
rev.func @series(%x: f64, %y: f64) -> (f64, f64) {
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %l = rev.for %k = %c1 to %c6 step %c1 iter_args(%t = %y) -> (f64) {
    %tn = rev.mul %t, %x : f64
    rev.yield %tn : f64
  }
  rev.return %x, %l : f64, f64
}
