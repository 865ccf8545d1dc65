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

// A memref that the function only reads, marked rev.const: no shadow update
// for it; the other memref's shadow still gets its adjoint.
// CHECK-LABEL: rev.func @weighted_grad(
// CHECK-SAME: %[[Y:[^:]*]]: f64, %[[X:[^:]*]]: memref<?xf64>, %[[W:[^:]*]]: memref<?xf64>, %[[YB:[^:]*]]: f64, %[[XB:[^:]*]]: memref<?xf64>, %[[WB:[^:]*]]: memref<?xf64>)
// CHECK-NOT: rev.add_at %[[XB]]
// CHECK: rev.add_at %[[WB]]
// CHECK-NOT: rev.add_at %[[XB]]
// CHECK: rev.return
rev.func @weighted(%y: f64, %X: memref<?xf64> {rev.const}, %W: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%a = %y) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %w = memref.load %W[%i] : memref<?xf64>
    %s = math.sin %x : f64
    %t = arith.mulf %s, %w : f64
    %a1 = rev.add %a, %t : f64
    rev.yield %a1 : f64
  }
  rev.return %r : f64
}
