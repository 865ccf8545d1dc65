// --rev-invert on region ops: loops run backwards, if/while swap pre and
// post, routines keep compute and invert body, nested regions recurse.
// RUN: rev-opt %s --rev-invert | FileCheck %s

// CHECK-LABEL: rev.func @loops_inv
// CHECK: %[[R:.*]] = rev.for reverse %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[A:.*]] = %{{.*}}) -> (f64) {
// CHECK: rev.for reverse %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: rev.sub_at
// CHECK: }
// CHECK: %[[L:.*]] = memref.load %{{.*}}[%[[I]], %{{.*}}]
// CHECK: rev.sub %[[A]], %[[L]] : f64
// CHECK: rev.yield
// CHECK: rev.return %[[R]]
rev.func @loops(%x: f64, %A: memref<4x4xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = rev.for %i = %c0 to %c4 step %c1 iter_args(%a = %x) -> (f64) {
    %v = memref.load %A[%i, %c0] : memref<4x4xf64>
    %a1 = rev.add %a, %v : f64
    rev.for %j = %c1 to %c4 step %c1 {
      rev.add_at %A[%i, %j], %a1 : memref<4x4xf64>
    }
    rev.yield %a1 : f64
  }
  rev.return %r : f64
}

// CHECK-LABEL: rev.func @loops_reversed_inv
// CHECK: rev.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
rev.func @loops_reversed(%A: memref<4xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  rev.for reverse %i = %c0 to %c4 step %c1 {
    %d = arith.constant 1.0 : f64
    rev.add_at %A[%i], %d : memref<4xf64>
  }
  rev.return
}

// CHECK-LABEL: rev.func @branch_inv
// CHECK: rev.if %{{.*}} : f64 pre {
// CHECK: arith.constant 1.000000e+01 : f64
// CHECK: rev.cond
// CHECK: } then {
// CHECK: rev.sub %{{.*}}, %{{.*}} : f64
// CHECK: } else {
// CHECK: rev.div %{{.*}}, %{{.*}} : f64
// CHECK: } post {
// CHECK: arith.constant 0.000000e+00 : f64
// CHECK: rev.cond
// CHECK: }
rev.func @branch(%x: f64) -> f64 {
  %r = rev.if %x : f64 pre {
  ^bb0(%a: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64):
    %h = arith.constant 10.0 : f64
    %a1 = rev.add %a, %h : f64
    rev.yield %a1 : f64
  } else {
  ^bb0(%a: f64):
    %h = arith.constant 2.0 : f64
    %a1 = rev.mul %a, %h : f64
    rev.yield %a1 : f64
  } post {
  ^bb0(%a: f64):
    %h = arith.constant 10.0 : f64
    %c = arith.cmpf ogt, %a, %h : f64
    rev.cond %c
  }
  rev.return %r : f64
}

// Without post, the inverse keeps pre and has no post either.
// CHECK-LABEL: rev.func @branch_nopost_inv
// CHECK: rev.if %{{.*}}, %{{.*}} : i64, f64 pre {
// CHECK: arith.cmpi sgt
// CHECK: } then {
// CHECK: rev.neg
// CHECK-NOT: post
// CHECK: rev.return
rev.func @branch_nopost(%k: i64, %x: f64) -> (i64, f64) {
  %r:2 = rev.if %k, %x : i64, f64 pre {
  ^bb0(%a: i64, %b: f64):
    %z = arith.constant 0 : i64
    %c = arith.cmpi sgt, %a, %z : i64
    rev.cond %c
  } then {
  ^bb0(%a: i64, %b: f64):
    %b1 = rev.neg %b : f64
    rev.yield %a, %b1 : i64, f64
  }
  rev.return %r#0, %r#1 : i64, f64
}

// CHECK-LABEL: rev.func @loop_while_inv
// CHECK: rev.while %{{.*}}, %{{.*}} : i64, f64 pre {
// CHECK: arith.cmpi sgt
// CHECK: } do {
// CHECK: rev.sub %{{.*}}, %{{.*}} : f64
// CHECK: rev.sub %{{.*}}, %{{.*}} : i64
// CHECK: } post {
// CHECK: arith.cmpi slt
// CHECK: }
rev.func @loop_while(%k: i64, %x: f64) -> (i64, f64) {
  %r:2 = rev.while %k, %x : i64, f64 pre {
  ^bb0(%a: i64, %b: f64):
    %n = arith.constant 5 : i64
    %c = arith.cmpi slt, %a, %n : i64
    rev.cond %c
  } do {
  ^bb0(%a: i64, %b: f64):
    %one = arith.constant 1 : i64
    %a1 = rev.add %a, %one : i64
    %h = arith.constant 0.5 : f64
    %b1 = rev.add %b, %h : f64
    rev.yield %a1, %b1 : i64, f64
  } post {
  ^bb0(%a: i64, %b: f64):
    %z = arith.constant 0 : i64
    %c = arith.cmpi sgt, %a, %z : i64
    rev.cond %c
  }
  rev.return %r#0, %r#1 : i64, f64
}

// CHECK-LABEL: rev.func @routine_inv
// CHECK: rev.routine %{{.*}}, %{{.*}} : f64, f64 compute {
// CHECK: rev.alloc : f64
// CHECK: rev.add
// CHECK: } body {
// CHECK: rev.sub
// CHECK: }
rev.func @routine(%x: f64, %y: f64) -> (f64, f64) {
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
