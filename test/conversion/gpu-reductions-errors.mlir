// Reducing loops that --rev-gpu-reductions cannot map: located errors.
// RUN: rev-opt %s --rev-gpu-reductions -split-input-file -verify-diagnostics
// RUN: not rev-opt %s --rev-gpu-reductions=block-size=2000 2>&1 | FileCheck %s --check-prefix=BLOCK
// BLOCK: block-size must be in 1..1024, got 2000

func.func @mul(%x: memref<?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  // expected-error @+1 {{reduction #0 is not supported on the GPU: only additive reductions}}
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%one) -> f64 {
    %a = memref.load %x[%i] : memref<?xf64>
    scf.reduce(%a : f64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.mulf %l, %rr : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}

// -----

func.func @two_d(%x: memref<?x?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  // expected-error @+1 {{only 1-d reducing parallel loops are supported, this one has 2 dimensions}}
  %r = scf.parallel (%i, %j) = (%c0, %c0) to (%n, %n) step (%c1, %c1) init (%z) -> f64 {
    %a = memref.load %x[%i, %j] : memref<?x?xf64>
    scf.reduce(%a : f64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.addf %l, %rr : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}

// -----

func.func @nested(%x: memref<?x?xf64>, %y: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    // expected-error @+1 {{a reducing loop nested in another parallel loop is not supported on the GPU}}
    %r = scf.parallel (%j) = (%c0) to (%n) step (%c1) init (%z) -> f64 {
      %a = memref.load %x[%i, %j] : memref<?x?xf64>
      scf.reduce(%a : f64) {
      ^bb0(%l: f64, %rr: f64):
        %t = arith.addf %l, %rr : f64
        scf.reduce.return %t : f64
      }
    }
    memref.store %r, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

func.func @inner_parallel(%x: memref<?x?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%z) -> f64 {
    // expected-error @+1 {{a parallel loop nested in a reducing parallel loop is not supported on the GPU}}
    scf.parallel (%j) = (%c0) to (%n) step (%c1) {
      memref.store %z, %x[%i, %j] : memref<?x?xf64>
      scf.reduce
    }
    %a = memref.load %x[%i, %i] : memref<?x?xf64>
    scf.reduce(%a : f64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.addf %l, %rr : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}
