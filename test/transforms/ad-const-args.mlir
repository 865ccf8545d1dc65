// RUN: rev-opt %s --rev-ad | FileCheck %s

// A `rev.const` argument is not differentiated: no adjoint is accumulated
// for it (so no loop threads one), and its adjoint argument comes back as
// it came. Without the mark, the loop threads and sums d/dk.

// CHECK-LABEL: rev.func @scale_bwd(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[K:[^:]*]]: f64, %[[N:[^:]*]]: index, %[[KB:[^:]*]]: f64, %[[XB:[^:]*]]: memref<?xf64>)
// (iterations that touch only their own elements and sum no adjoint of an
// outer scalar: the backward loop keeps the forward order)
// CHECK: rev.for %{{[^ ]*}} = %{{.*}} to %[[N]] step %{{.*}} {
// CHECK-NOT: rev.add %
// CHECK: rev.div_at %[[X]]
// CHECK: rev.mul_at %[[XB]]
// CHECK: }
// CHECK: rev.return %[[K]], %[[N]], %[[KB]] : f64, index, f64
rev.func @scale(%X: memref<?xf64>, %k: f64 {rev.const}, %n: index) -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  rev.for %i = %c0 to %n step %c1 {
    rev.mul_at %X[%i], %k : memref<?xf64>
  }
  rev.return %k, %n : f64, index
}

// CHECK-LABEL: rev.func @scale_active_bwd(
// (it sums d/dk over the iterations: their order stays reversed)
// CHECK: %[[L:.*]] = rev.for reverse %{{.*}} iter_args(%[[A:.*]] = %{{.*}}) -> (f64) {
// CHECK: rev.add %[[A]]
rev.func @scale_active(%X: memref<?xf64>, %k: f64, %n: index) -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  rev.for %i = %c0 to %n step %c1 {
    rev.mul_at %X[%i], %k : memref<?xf64>
  }
  rev.return %k, %n : f64, index
}
