// rev.if to scf.if (the pre condition evaluated before it; a missing else is
// the identity) and rev.while to scf.while (the pre condition in `before`).
// RUN: rev-opt %s --lower-rev | FileCheck %s

// CHECK-LABEL: func.func @branch
// CHECK-SAME: (%[[X:.*]]: f64)
// CHECK: %[[C:.*]] = arith.cmpf ogt, %[[X]], %{{.*}} : f64
// CHECK: %[[R:.*]] = scf.if %[[C]] -> (f64) {
// CHECK:   %[[X1:.*]] = arith.mulf %[[X]], %{{.*}} : f64
// CHECK:   scf.yield %[[X1]] : f64
// CHECK: } else {
// CHECK:   scf.yield %[[X]] : f64
// CHECK: }
// CHECK: return %[[R]]
rev.func @branch(%x: f64) -> f64 {
  %r = rev.if %x : f64 pre {
  ^bb0(%a: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64):
    %h = arith.constant 2.0 : f64
    %a1 = rev.mul %a, %h : f64
    rev.yield %a1 : f64
  } post {
  ^bb0(%a: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  }
  rev.return %r : f64
}

// CHECK-LABEL: func.func @both_branches
// CHECK: scf.if %{{.*}} -> (i64) {
// CHECK:   arith.addi
// CHECK: } else {
// CHECK:   arith.subi
rev.func @both_branches(%k: i64, %s: i1) -> (i64, i1) {
  %r = rev.if %k : i64 pre {
  ^bb0(%a: i64):
    rev.cond %s
  } then {
  ^bb0(%a: i64):
    %one = arith.constant 1 : i64
    %a1 = rev.add %a, %one : i64
    rev.yield %a1 : i64
  } else {
  ^bb0(%a: i64):
    %one = arith.constant 1 : i64
    %a1 = rev.sub %a, %one : i64
    rev.yield %a1 : i64
  }
  rev.return %r, %s : i64, i1
}

// CHECK-LABEL: func.func @loop
// CHECK: %[[W:.*]] = scf.while (%[[A:.*]] = %{{.*}}) : (i64) -> i64 {
// CHECK:   %[[C:.*]] = arith.cmpi slt, %[[A]], %{{.*}} : i64
// CHECK:   scf.condition(%[[C]]) %[[A]] : i64
// CHECK: } do {
// CHECK: ^bb0(%[[B:.*]]: i64):
// CHECK:   %[[B1:.*]] = arith.addi %[[B]], %{{.*}} : i64
// CHECK:   scf.yield %[[B1]] : i64
// CHECK: return %[[W]]
rev.func @loop(%k: i64) -> i64 {
  %w = rev.while %k : i64 pre {
  ^bb0(%a: i64):
    %n = arith.constant 3 : i64
    %c = arith.cmpi slt, %a, %n : i64
    rev.cond %c
  } do {
  ^bb0(%a: i64):
    %one = arith.constant 1 : i64
    %a1 = rev.add %a, %one : i64
    rev.yield %a1 : i64
  } post {
  ^bb0(%a: i64):
    %z = arith.constant 0 : i64
    %c = arith.cmpi sgt, %a, %z : i64
    rev.cond %c
  }
  rev.return %w : i64
}
