// RUN: rev-opt %s --rev-ad --rev-expand-uncalls --rev-expand-routines --rev-fold-zero-adjoints --canonicalize --cse | FileCheck %s
// RUN: rev-opt %s --rev-ad --rev-fold-zero-adjoints | FileCheck %s --check-prefix=SKIP

// A routine per element (a running power series): the backward step's
// compute (the inverse of bwd(C)) starts the ancillas' adjoints at zero, so
// all its adjoint updates are by zeros and go; the uncompute (bwd(C)) keeps
// its updates, and so does the body.

// CHECK-LABEL: rev.func @series_bwd(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[Y:[^:]*]]: memref<?xf64>, %{{[^:]*}}: index, %[[XB:[^:]*]]: memref<?xf64>, %[[YB:[^:]*]]: memref<?xf64>)
// (independent iterations: the backward loop keeps the forward order)
// CHECK: rev.for %[[I:[^ ]*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// The recomputed compute: the primal series alone.
// CHECK-NOT: %[[XB]]
// CHECK: rev.for %{{.*}} iter_args(%{{.*}}) -> (f64, f64) {
// CHECK-NEXT: memref.load %[[X]]
// CHECK-NEXT: rev.mul
// CHECK-NEXT: rev.yield
// CHECK-NEXT: }
// The body's backward step, then bwd(C) with its updates of X's shadow.
// CHECK-NEXT: rev.sub_at %[[Y]][%[[I]]]
// CHECK-NEXT: memref.load %[[YB]][%[[I]]]
// CHECK: rev.for reverse
// CHECK: rev.add_at %[[XB]][%[[I]]]
// CHECK: }
// CHECK: rev.add_at %[[XB]][%[[I]]]
rev.func @series(%X: memref<?xf64>, %Y: memref<?xf64>, %n: index) -> (index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    rev.routine compute {
      %t0 = rev.alloc : f64
      %t1 = rev.add %t0, %x : f64
      %l = rev.for %k = %c1 to %n step %c1 iter_args(%t = %t1) -> (f64) {
        %xk = memref.load %X[%i] : memref<?xf64>
        %tn = rev.mul %t, %xk : f64
        rev.yield %tn : f64
      }
      rev.yield %l : f64
    } body {
    ^bb0(%t: f64):
      rev.add_at %Y[%i], %t : memref<?xf64>
      rev.yield %t : f64
    }
  }
  rev.return %n : index
}

// Before expansion the routines are left alone (their uncompute is the
// inverse of the compute, which runs with adjoints that are not zero).
// SKIP-LABEL: rev.func @series_bwd(
// SKIP: rev.routine compute {
// SKIP: rev.alloc {adjoint}
// SKIP: rev.sub_at
