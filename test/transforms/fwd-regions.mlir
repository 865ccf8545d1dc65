// RUN: rev-opt %s --rev-fwd | FileCheck %s

// Tangents through region ops and calls: the region op threads each float
// variable's tangent after the variables; conditions read the variables only.

// CHECK-LABEL: rev.func @cond_fwd(
// CHECK-SAME: %[[X:[^:]*]]: f64, %[[Y:[^:]*]]: f64, %[[XD:[^:]*]]: f64, %[[YD:[^:]*]]: f64)
// CHECK: %[[R:.*]]:4 = rev.if %[[X]], %[[Y]], %[[XD]], %[[YD]] : f64, f64, f64, f64 pre {
// CHECK: } then {
// CHECK-NEXT: ^bb0(%[[A:.*]]: f64, %[[B:.*]]: f64, %[[AD:.*]]: f64, %[[BD:.*]]: f64):
// CHECK: %[[BD1:.*]] = rev.mul %[[BD]], %[[A]]
// CHECK: %[[BD2:.*]] = rev.add %[[BD1]], %{{.*}}
// CHECK: %[[B1:.*]] = rev.mul %[[B]], %[[A]]
// CHECK: rev.yield %[[A]], %[[B1]], %[[AD]], %[[BD2]]
// CHECK: } post {
// CHECK: rev.return %[[R]]#0, %[[R]]#1, %[[R]]#2, %[[R]]#3
rev.func @cond(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.if %x, %y : f64, f64 pre {
  ^bb0(%a: f64, %b: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %b, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64, %b: f64):
    %b1 = rev.mul %b, %a : f64
    rev.yield %a, %b1 : f64, f64
  } post {
  ^bb0(%a: f64, %b: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %b, %z : f64
    rev.cond %c
  }
  rev.return %r#0, %r#1 : f64, f64
}

// CHECK-LABEL: rev.func @loopw_fwd(
// CHECK-SAME: %[[X:[^:]*]]: f64, %[[K:[^:]*]]: i64, %[[XD:[^:]*]]: f64) -> (f64, i64, f64)
// CHECK: rev.while %[[X]], %[[K]], %[[XD]] : f64, i64, f64 pre {
// CHECK: } do {
// CHECK-NEXT: ^bb0(%[[A:.*]]: f64, %[[N:.*]]: i64, %[[AD:.*]]: f64):
// CHECK: %[[AD1:.*]] = rev.mul %[[AD]], %[[G:.*]] : f64
// CHECK: %[[A1:.*]] = rev.mul %[[A]], %[[G]] : f64
// CHECK: %[[N1:.*]] = rev.add %[[N]], %{{.*}} : i64
// CHECK: rev.yield %[[A1]], %[[N1]], %[[AD1]]
// CHECK: } post {
rev.func @loopw(%x: f64, %k: i64) -> (f64, i64) {
  %w:2 = rev.while %x, %k : f64, i64 pre {
  ^bb0(%a: f64, %n: i64):
    %lim = arith.constant 10.0 : f64
    %c = arith.cmpf olt, %a, %lim : f64
    rev.cond %c
  } do {
  ^bb0(%a: f64, %n: i64):
    %g = arith.constant 2.0 : f64
    %a1 = rev.mul %a, %g : f64
    %one = arith.constant 1 : i64
    %n1 = rev.add %n, %one : i64
    rev.yield %a1, %n1 : f64, i64
  } post {
  ^bb0(%a: f64, %n: i64):
    %zero = arith.constant 0 : i64
    %c = arith.cmpi sgt, %n, %zero : i64
    rev.cond %c
  }
  rev.return %w#0, %w#1 : f64, i64
}

// The tangent routine's compute carries the ancillas' tangents; its
// generated uncompute releases them.
// CHECK-LABEL: rev.func @rt_fwd(
// CHECK: rev.routine %{{.*}} compute {
// CHECK-NEXT: ^bb0(%[[P:.*]]: f64, %[[Q:.*]]: f64, %[[PD:.*]]: f64, %[[QD:.*]]: f64):
// CHECK-NEXT: %[[T0:.*]] = rev.alloc : f64
// CHECK-NEXT: %[[TD0:.*]] = rev.alloc : f64
// CHECK: %[[TD1:.*]] = rev.add %[[TD0]], %{{.*}}
// CHECK: %[[T1:.*]] = rev.add %[[T0]], %{{.*}}
// CHECK: rev.yield %[[P]], %[[Q]], %[[T1]], %[[PD]], %[[QD]], %[[TD1]]
// CHECK: } body {
rev.func @rt(%x: f64, %y: f64) -> (f64, f64) {
  %o:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %t0 = rev.alloc : f64
    %s = math.sin %a : f64
    %t1 = rev.add %t0, %s : f64
    rev.yield %a, %b, %t1 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64):
    %b1 = rev.add %b, %t : f64
    rev.yield %a, %b1, %t : f64, f64, f64
  }
  rev.return %o#0, %o#1 : f64, f64
}

// Calls use the callee's tangent function; an uncall the tangent of the inverse.
// CHECK-LABEL: rev.func @g_fwd(
// CHECK-LABEL: rev.func @f_fwd(
// CHECK-SAME: %[[X:[^:]*]]: f64, %[[Y:[^:]*]]: f64, %[[V:[^:]*]]: memref<2xf64>, %[[XD:[^:]*]]: f64, %[[YD:[^:]*]]: f64, %[[VD:[^:]*]]: memref<2xf64>)
// CHECK: %[[C:.*]]:4 = rev.call @g_fwd(%[[X]], %[[Y]], %[[V]], %[[XD]], %[[YD]], %[[VD]])
// CHECK: %[[U:.*]]:4 = rev.call @g_inv_fwd(%[[C]]#1, %[[C]]#0, %[[V]], %[[C]]#3, %[[C]]#2, %[[VD]])
// CHECK: rev.return %[[U]]#1, %[[U]]#0, %[[U]]#3, %[[U]]#2
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
