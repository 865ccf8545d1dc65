// neg, swap and the rotations, on scalars and elements.
// RUN: rev-opt %s --lower-rev | FileCheck %s

// CHECK-LABEL: func.func @scalars
// CHECK-SAME: (%[[X:.*]]: f64, %[[Y:.*]]: f64, %[[K:.*]]: i64)
// CHECK: %[[NX:.*]] = arith.negf %[[X]] : f64
// CHECK: %[[Z:.*]] = arith.constant 0 : i64
// CHECK: %[[NK:.*]] = arith.subi %[[Z]], %[[K]] : i64
// CHECK: %[[T:.*]] = arith.constant 5.0
// CHECK: %[[C:.*]] = math.cos %[[T]]
// CHECK: %[[S:.*]] = math.sin %[[T]]
// CHECK: %[[YC:.*]] = arith.mulf %[[Y]], %[[C]]
// CHECK: %[[YS:.*]] = arith.mulf %[[Y]], %[[S]]
// CHECK: %[[XC:.*]] = arith.mulf %[[NX]], %[[C]]
// CHECK: %[[XS:.*]] = arith.mulf %[[NX]], %[[S]]
// CHECK: %[[A:.*]] = arith.subf %[[YC]], %[[XS]]
// CHECK: %[[B:.*]] = arith.addf %[[YS]], %[[XC]]
// irot rotates by -theta:
// CHECK: math.cos
// CHECK: math.sin
// CHECK: arith.addf
// CHECK: arith.subf
// CHECK: return
rev.func @scalars(%x: f64, %y: f64, %k: i64) -> (f64, f64, i64) {
  %x1 = rev.neg %x : f64
  %k1 = rev.neg %k : i64
  %a, %b = rev.swap %x1, %y : f64
  %t = arith.constant 0.5 : f64
  %r:2 = rev.rot %a, %b, %t : f64
  %q:2 = rev.irot %r#0, %r#1, %t : f64
  rev.return %q#0, %q#1, %k1 : f64, f64, i64
}

// CHECK-LABEL: func.func @elements
// CHECK-SAME: (%[[A:.*]]: memref<4xf64>, %[[I:.*]]: index, %[[J:.*]]: index)
// CHECK: %[[V:.*]] = memref.load %[[A]][%[[I]]]
// CHECK: %[[NV:.*]] = arith.negf %[[V]]
// CHECK: memref.store %[[NV]], %[[A]][%[[I]]]
// CHECK: %[[L:.*]] = memref.load %[[A]][%[[I]]]
// CHECK: %[[R:.*]] = memref.load %[[A]][%[[J]]]
// CHECK: memref.store %[[R]], %[[A]][%[[I]]]
// CHECK: memref.store %[[L]], %[[A]][%[[J]]]
// CHECK: math.cos
// CHECK: memref.store
// CHECK: memref.store
// CHECK: math.cos
// CHECK: memref.store
// CHECK: memref.store
rev.func @elements(%A: memref<4xf64>, %i: index, %j: index) -> (index, index) {
  rev.neg_at %A[%i] : memref<4xf64>
  rev.swap_at %A[%i], %A[%j] : memref<4xf64>, memref<4xf64>
  %t = arith.constant 0.25 : f64
  rev.rot_at %A[%i], %A[%j], %t : memref<4xf64>, memref<4xf64>, f64
  rev.irot_at %A[%i], %A[%j], %t : memref<4xf64>, memref<4xf64>, f64
  rev.return %i, %j : index, index
}
