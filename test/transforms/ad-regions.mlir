// RUN: rev-opt %s --rev-ad | FileCheck %s

// Adjoints of the region ops: the backward op threads the final versions,
// their adjoints and the adjoints of the float versions it reads from above.
// Loops run backwards, `if` picks the branch by its post condition, `while`
// runs while its post condition holds, and a routine becomes a routine whose
// compute is the inverse of the backward sweep of the original compute.

// CHECK-LABEL: rev.func @loop_bwd(
// CHECK-SAME: %[[Y:[^:]*]]: f64, %[[X:[^:]*]]: f64, %[[N:[^:]*]]: index, %[[YB:[^:]*]]: f64, %[[XB:[^:]*]]: f64)
// CHECK: %[[R:.*]]:3 = rev.for reverse %{{.*}} = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[A:.*]] = %[[Y]], %[[AB:.*]] = %[[YB]], %[[CB:.*]] = %[[XB]]) -> (f64, f64, f64) {
// CHECK: %[[A0:.*]] = rev.sub %[[A]], %{{.*}}
// CHECK: %[[C:.*]] = math.cos %[[X]]
// CHECK: %[[D:.*]] = arith.mulf %[[C]], %[[AB]]
// CHECK: %[[CB1:.*]] = rev.add %[[CB]], %[[D]]
// CHECK: rev.yield %[[A0]], %[[AB]], %[[CB1]]
// CHECK: rev.return %[[R]]#0, %[[X]], %[[N]], %[[R]]#1, %[[R]]#2
rev.func @loop(%y: f64, %x: f64, %n: index) -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%a = %y) -> (f64) {
    %s = math.sin %x : f64
    %a1 = rev.add %a, %s : f64
    rev.yield %a1 : f64
  }
  rev.return %r, %x, %n : f64, f64, index
}
// CHECK-LABEL: rev.func @cond_bwd(
// CHECK: rev.if %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f64, f64, f64, f64 pre {
// CHECK-NEXT: ^bb0(%{{.*}}: f64, %[[B:.*]]: f64, %{{.*}}: f64, %{{.*}}: f64):
// CHECK: arith.cmpf ogt, %[[B]]
// CHECK: } then {
// CHECK: rev.div
// CHECK: rev.add
// CHECK: rev.mul
// CHECK: } post {
// CHECK: arith.cmpf ogt
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

// CHECK-LABEL: rev.func @loopw_bwd(
// CHECK: rev.while %{{.*}}, %{{.*}}, %{{.*}} : f64, i64, f64 pre {
// CHECK: arith.cmpi sgt
// CHECK: } do {
// CHECK: rev.sub %{{.*}}, %{{.*}} : i64
// CHECK: rev.div
// CHECK: rev.mul
// CHECK: } post {
// CHECK: arith.cmpf olt
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

// The ancilla's adjoint starts at zero in the routine's compute (the inverse
// of the discard that ends it in the backward sweep of the compute).
// CHECK-LABEL: rev.func @rt_bwd(
// CHECK: rev.routine %{{.*}} compute {
// CHECK-NEXT: ^bb0(%{{.*}}: f64, %{{.*}}: f64, %[[TB:.*]]: f64, %{{.*}}: f64):
// CHECK-NEXT: %[[TA:.*]] = rev.alloc {adjoint} : f64
// CHECK-NEXT: %[[T0:.*]] = rev.alloc : f64
// CHECK: %[[T1:.*]] = rev.add %[[T0]], %{{.*}}
// CHECK: rev.yield %{{.*}}, %{{.*}}, %[[T1]], %{{.*}}, %{{.*}}, %[[TA]]
// CHECK: } body {
// CHECK: rev.sub
// CHECK: rev.add
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

// An ancilla outside a routine: its adjoint is created at the free and
// dropped (rev.discard) at the alloc.
// CHECK-LABEL: rev.func @anc_bwd(
// CHECK: %[[T:.*]] = rev.alloc : f64
// CHECK-NEXT: %[[TB:.*]] = rev.alloc {adjoint} : f64
// CHECK: rev.free
// CHECK-NEXT: rev.discard %{{.*}} : f64
rev.func @anc(%x: f64, %y: f64) -> (f64, f64) {
  %t0 = rev.alloc : f64
  %t1 = rev.add %t0, %x : f64
  %y1 = rev.add %y, %t1 : f64
  %t2 = rev.sub %t1, %x : f64
  rev.free %t2 : f64
  rev.return %x, %y1 : f64, f64
}

// A pure region op that reads only constants from above is a constant to
// differentiate through (a region reading floats that vary, or float memory,
// is refused: ad-errors.mlir). x's adjoint gets z * ybar.
// CHECK-LABEL: rev.func @const_region_bwd(
// CHECK: %[[Z:.*]] = scf.execute_region -> f64 {
// CHECK: arith.mulf %[[Z]], %{{.*}} : f64
// CHECK: rev.return
rev.func @const_region(%y: f64, %x: f64) -> (f64, f64) {
  %c = arith.constant 2.5 : f64
  %z = scf.execute_region -> f64 {
    %h = arith.mulf %c, %c : f64
    scf.yield %h : f64
  }
  %p = arith.mulf %z, %x : f64
  %y1 = rev.add %y, %p : f64
  rev.return %y1, %x : f64, f64
}
