// --rev-expand-routines: compute, body, then the generated uncompute; the
// uncompute of a call is a call of the callee's inverse.
// RUN: rev-opt %s --rev-expand-routines | FileCheck %s

// CHECK-LABEL: rev.func @square_into
// CHECK-SAME: (%[[X:.*]]: f64, %[[Y:.*]]: f64)
// CHECK: %[[T:.*]] = rev.alloc : f64
// CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : f64
// CHECK: %[[T1:.*]] = rev.add %[[T]], %[[SQ]] : f64
// CHECK: %[[Y1:.*]] = rev.add %[[Y]], %[[T1]] : f64
// CHECK: %[[SQ2:.*]] = arith.mulf %[[X]], %[[X]] : f64
// CHECK: %[[T0:.*]] = rev.sub %[[T1]], %[[SQ2]] : f64
// CHECK: rev.free %[[T0]] : f64
// CHECK-NOT: rev.routine
// CHECK: rev.return %[[X]], %[[Y1]]
rev.func @square_into(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %t = rev.alloc : f64
    %sq = arith.mulf %a, %a : f64
    %t1 = rev.add %t, %sq : f64
    rev.yield %a, %b, %t1 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64):
    %b1 = rev.add %b, %t : f64
    rev.yield %a, %b1, %t : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// The inverse generated for the uncompute of @with_call holds no routine
// either.
// CHECK-LABEL: rev.func @square_into_inv
// CHECK-NOT: rev.routine
// CHECK-LABEL: rev.func @with_call
// CHECK: rev.call @square_into(
// CHECK: rev.add
// CHECK: rev.call @square_into_inv(
// CHECK-NOT: rev.uncall
rev.func @with_call(%x: f64, %y: f64, %z: f64) -> (f64, f64, f64) {
  %r:3 = rev.routine %x, %y, %z : f64, f64, f64 compute {
  ^bb0(%a: f64, %b: f64, %c: f64):
    %o:2 = rev.call @square_into(%a, %b) : (f64, f64) -> (f64, f64)
    rev.yield %o#0, %o#1, %c : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %c: f64):
    %c1 = rev.add %c, %b : f64
    rev.yield %a, %b, %c1 : f64, f64, f64
  }
  rev.return %r#0, %r#1, %r#2 : f64, f64, f64
}
