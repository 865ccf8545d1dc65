// RUN: rev-opt %s --rev-ad=funcs=f | FileCheck %s

// Calls use the callee's backward function (generated on demand); the
// backward step of an uncall uses the backward function of the inverse.

// CHECK-LABEL: rev.func @g_bwd(
// CHECK-SAME: attributes {rev.backward_of = @g}
// CHECK-LABEL: rev.func @g_inv(
// CHECK-SAME: attributes {rev.inverse_of = @g}
// CHECK-LABEL: rev.func @g_inv_bwd(
// CHECK-SAME: attributes {rev.backward_of = @g_inv}
// CHECK-LABEL: rev.func @f_grad(
// CHECK-LABEL: rev.func @f_bwd(
// CHECK-SAME: %[[X:[^:]*]]: f64, %[[Y:[^:]*]]: f64, %[[V:[^:]*]]: memref<2xf64>, %[[XB:[^:]*]]: f64, %[[YB:[^:]*]]: f64, %[[VB:[^:]*]]: memref<2xf64>)
// CHECK: %[[U:.*]]:4 = rev.call @g_inv_bwd(%[[Y]], %[[X]], %[[V]], %[[YB]], %[[XB]], %[[VB]])
// CHECK: %[[C:.*]]:4 = rev.call @g_bwd(%[[U]]#1, %[[U]]#0, %[[V]], %[[U]]#3, %[[U]]#2, %[[VB]])
// CHECK: rev.return %[[C]]#0, %[[C]]#1, %[[C]]#2, %[[C]]#3
rev.func @g(%a: f64, %b: f64, %V: memref<2xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %s = math.sin %b : f64
  %a1 = rev.add %a, %s : f64
  rev.add_at %V[%c0], %a1 : memref<2xf64>
  rev.return %a1, %b : f64, f64
}
rev.func @f(%x: f64, %y: f64, %V: memref<2xf64>) -> (f64, f64) {
  %r:2 = rev.call @g(%x, %y, %V) : (f64, f64, memref<2xf64>) -> (f64, f64)
  %s:2 = rev.uncall @g(%r#1, %r#0, %V) : (f64, f64, memref<2xf64>) -> (f64, f64)
  rev.return %s#1, %s#0 : f64, f64
}
