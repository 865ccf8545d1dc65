// --rev-invert on scalar instructions: reverse order, each op replaced by its
// inverse, pure operands recomputed before the op that needs them.
// RUN: rev-opt %s --rev-invert | FileCheck %s
// RUN: rev-opt %s --rev-invert="funcs=f suffix=_back" | FileCheck %s --check-prefix=SEL

// CHECK-LABEL: rev.func @f_inv
// CHECK-SAME: (%[[X:.*]]: f64, %[[Y:.*]]: f64, %[[K:.*]]: i32) -> (f64, f64, i32)
// CHECK-SAME: attributes {rev.inverse_of = @f}
// CHECK: %[[K1:.*]] = rev.neg %[[K]] : i32
// CHECK: %[[K2:.*]] = rev.xor %[[K1]], %{{.*}} : i32
// CHECK: %[[R0:.*]], %[[R1:.*]] = rev.rot %[[X]], %[[Y]], %{{.*}} : f64
// CHECK: %[[S0:.*]], %[[S1:.*]] = rev.swap %[[R0]], %[[R1]] : f64
// CHECK: %[[T0:.*]], %[[T1:.*]] = rev.irot %[[S0]], %[[S1]], %{{.*}} : f64
// CHECK: %[[Y1:.*]] = rev.neg %[[T1]] : f64
// CHECK: %[[Y2:.*]] = rev.mul %[[Y1]], %[[T0]] : f64
// CHECK: %[[Y3:.*]] = rev.div %[[Y2]], %{{.*}} : f64
// CHECK: %[[SQ:.*]] = arith.mulf %[[T0]], %[[T0]] : f64
// CHECK: %[[Y4:.*]] = rev.add %[[Y3]], %[[SQ]] : f64
// CHECK: %[[E:.*]] = math.exp %[[T0]] : f64
// CHECK: %[[Y5:.*]] = rev.sub %[[Y4]], %[[E]] : f64
// CHECK: rev.return %[[T0]], %[[Y5]], %[[K2]] : f64, f64, i32

// SEL-LABEL: rev.func @f_back
// SEL-NOT: rev.func @g_back
rev.func @f(%x: f64, %y: f64, %k: i32) -> (f64, f64, i32) {
  %e = math.exp %x : f64
  %y1 = rev.add %y, %e : f64
  %sq = arith.mulf %x, %x : f64
  %y2 = rev.sub %y1, %sq : f64
  %c = arith.constant 3.0 : f64
  %y3 = rev.mul %y2, %c : f64
  %y4 = rev.div %y3, %x : f64
  %y5 = rev.neg %y4 : f64
  %t = arith.constant 0.5 : f64
  %r:2 = rev.rot %x, %y5, %t : f64
  %s:2 = rev.swap %r#0, %r#1 : f64
  %q:2 = rev.irot %s#0, %s#1, %t : f64
  %m = arith.constant 5 : i32
  %k1 = rev.xor %k, %m : i32
  %k2 = rev.neg %k1 : i32
  rev.return %q#0, %q#1, %k2 : f64, f64, i32
}

rev.func @g(%x: f64) -> f64 {
  rev.return %x : f64
}
