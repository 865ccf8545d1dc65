// --convert-rev-to-std: rev ops become arith/math/memref/scf/func ops.
// RUN: rev-opt %s --convert-rev-to-std | FileCheck %s
// RUN: rev-opt %s --convert-rev-to-std="checks=true atol=1e-6" | FileCheck %s --check-prefix=CHECKED

// CHECK-LABEL: func.func @scalar
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: arith.addf
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.divf
// CHECK: arith.negf
// CHECK: arith.xori
// CHECK: math.cos
// CHECK: math.sin
// CHECK: return
// CHECKED-LABEL: func.func @scalar
// CHECKED: arith.cmpf une
// CHECKED: scf.if
// CHECKED: memref.get_global @__rev_check_msg_
// CHECKED: call @write
// CHECKED: call @exit
rev.func @scalar(%x: f64, %y: f64, %k: i64) -> (f64, f64, i64) {
  %y1 = rev.add %y, %x : f64
  %y2 = rev.sub %y1, %x : f64
  %y3 = rev.mul %y2, %x : f64
  %y4 = rev.div %y3, %x : f64
  %y5 = rev.neg %y4 : f64
  %one = arith.constant 1 : i64
  %k1 = rev.xor %k, %one : i64
  %t = arith.constant 0.5 : f64
  %r:2 = rev.rot %x, %y5, %t : f64
  rev.return %r#0, %r#1, %k1 : f64, f64, i64
}

// CHECK-LABEL: func.func @elements
// CHECK-SAME: (%[[A:.*]]: memref<?xf64>, %[[I:.*]]: index, %[[J:.*]]: index)
// CHECK: %[[D:.*]] = memref.load %[[A]][%[[J]]] : memref<?xf64>
// CHECK: %[[V:.*]] = memref.load %[[A]][%[[I]]] : memref<?xf64>
// CHECK: %[[S:.*]] = arith.addf %[[V]], %[[D]] : f64
// CHECK: memref.store %[[S]], %[[A]][%[[I]]] : memref<?xf64>
// CHECKED-LABEL: func.func @elements
// CHECKED: arith.cmpi ne
rev.func @elements(%A: memref<?xf64>, %i: index, %j: index) -> (index, index) {
  %v = memref.load %A[%j] : memref<?xf64>
  rev.add_at %A[%i], %v : memref<?xf64>
  rev.return %i, %j : index, index
}

// The reversed loop visits lb + last - k for k = lb, lb + s, ...
// CHECK-LABEL: func.func @reversed
// CHECK: %[[SPAN:.*]] = arith.subi
// CHECK: arith.divsi
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[I:.*]] = arith.subi %{{.*}}, %[[K]] : index
// CHECK: memref.load %{{.*}}[%[[I]]]
rev.func @reversed(%A: memref<?xf64>, %n: index) -> index {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  rev.for reverse %i = %c0 to %n step %c2 {
    %d = arith.constant 1.0 : f64
    rev.add_at %A[%i], %d : memref<?xf64>
  }
  rev.return %n : index
}

// CHECK-LABEL: func.func @branches
// CHECK: %[[C:.*]] = arith.cmpf ogt
// CHECK: scf.if %[[C]] -> (f64)
// CHECK: scf.while
// CHECK: scf.condition
// CHECKED-LABEL: func.func @branches
// CHECKED: scf.if
// CHECKED: arith.cmpi eq
rev.func @branches(%x: f64, %k: i64) -> (f64, i64) {
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
  rev.return %r, %w : f64, i64
}

// A routine expands to compute, body, then the generated uncompute.
// CHECK-LABEL: func.func @routine
// CHECK: %[[T0:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[SQ:.*]] = arith.mulf %[[X:.*]], %[[X]] : f64
// CHECK: %[[T1:.*]] = arith.addf %[[T0]], %[[SQ]] : f64
// CHECK: %[[Y1:.*]] = arith.addf %{{.*}}, %[[T1]] : f64
// CHECK: %[[SQ2:.*]] = arith.mulf %[[X]], %[[X]] : f64
// CHECK: arith.subf %[[T1]], %[[SQ2]] : f64
// CHECK: return %[[X]], %[[Y1]]
// CHECKED-LABEL: func.func @routine
// CHECKED: math.absf
// CHECKED: arith.constant 9.9999999999999995E-7 : f64
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

// CHECK-LABEL: func.func @caller
// CHECK: call @routine(
// CHECK: call @routine_inv(
rev.func @caller(%x: f64, %y: f64) -> (f64, f64) {
  %a:2 = rev.call @routine(%x, %y) : (f64, f64) -> (f64, f64)
  %b:2 = rev.uncall @routine(%a#0, %a#1) : (f64, f64) -> (f64, f64)
  rev.return %b#0, %b#1 : f64, f64
}
