// The memref arguments of rev functions are llvm.noalias (--rev-memref-noalias),
// which is an LLVM promise about written memory only: one array passed as two
// read-only arguments is still allowed and computes the same (here at O3 in
// mlir-runner: dot(A, A) = sum A[i]^2 = 1 + 4 + 9 + 16 + 25 = 55).
// RUN: rev-opt %s --rev-to-llvm | mlir-runner -O3 -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

rev.func @dot(%A: memref<?xf64>, %B: memref<?xf64>, %y: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%s = %y) -> (f64) {
    %a = memref.load %A[%i] : memref<?xf64>
    %b = memref.load %B[%i] : memref<?xf64>
    %p = arith.mulf %a, %b : f64
    %s1 = rev.add %s, %p : f64
    rev.yield %s1 : f64
  }
  rev.return %r : f64
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %A = memref.alloc(%c5) : memref<?xf64>
  scf.for %i = %c0 to %c5 step %c1 {
    %i1 = arith.addi %i, %c1 : index
    %ii = arith.index_cast %i1 : index to i64
    %f = arith.sitofp %ii : i64 to f64
    memref.store %f, %A[%i] : memref<?xf64>
  }
  %zero = arith.constant 0.0 : f64
  %r = rev.call @dot(%A, %A, %zero) : (memref<?xf64>, memref<?xf64>, f64) -> f64
  // CHECK: 55
  vector.print %r : f64
  memref.dealloc %A : memref<?xf64>
  return
}
