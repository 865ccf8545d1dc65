// --rev-invert recomputes a pure value once for all the ops of the inverse
// that use it, where it is invariant: it reads no memref the function writes
// (here A and x). A value that reads a written memref (B) is recomputed right
// before each op that needs it, after the state it reads is restored. A copy
// made inside a region serves that region only.
// RUN: rev-opt %s --rev-invert | FileCheck %s

// CHECK-LABEL: rev.func @shared_inv(
// CHECK-SAME: %[[A:[^:]*]]: memref<4xf64>, %[[B:[^:]*]]: memref<4xf64>, %[[X:[^:]*]]: f64
// CHECK: %[[L:.*]] = memref.load %[[A]]
// CHECK: %[[S:.*]] = math.sin %[[L]] : f64
// CHECK: %[[P:.*]] = arith.mulf %[[S]], %[[X]] : f64
// CHECK: rev.sub_at %[[B]][%{{.*}}], %[[P]]
// CHECK-NOT: math.sin
// CHECK: rev.sub_at %[[B]][%{{.*}}], %[[P]]
// CHECK-NOT: math.sin
// CHECK: rev.sub_at %[[B]][%{{.*}}], %[[S]]
// CHECK: rev.return
rev.func @shared(%A: memref<4xf64>, %B: memref<4xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %a = memref.load %A[%c0] : memref<4xf64>
  %s = math.sin %a : f64
  %p = arith.mulf %s, %x : f64
  rev.add_at %B[%c0], %s : memref<4xf64>
  rev.add_at %B[%c1], %p : memref<4xf64>
  rev.add_at %B[%c2], %p : memref<4xf64>
  rev.return %x : f64
}

// B is written (after the last use of the load), so sin(B[3]) is
// recomputed right before each op that needs it.
// CHECK-LABEL: rev.func @written_inv(
// CHECK-SAME: %[[B:[^:]*]]: memref<4xf64>
// CHECK: rev.sub_at %[[B]][
// CHECK: memref.load %[[B]]
// CHECK: math.sin
// CHECK: rev.sub_at
// CHECK: memref.load %[[B]]
// CHECK: math.sin
// CHECK: rev.sub_at
// CHECK: rev.return
rev.func @written(%B: memref<4xf64>, %C: memref<4xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %b = memref.load %B[%c3] : memref<4xf64>
  %s = math.sin %b : f64
  rev.add_at %C[%c0], %s : memref<4xf64>
  rev.add_at %C[%c1], %s : memref<4xf64>
  rev.add_at %B[%c0], %x : memref<4xf64>
  rev.return %x : f64
}

// The copy of sin(A[0]) made before the rev.if serves its branch; the copy
// of cos(A[1]) made inside the branch does not serve the op after the if
// (it does not dominate it), which gets one of its own.
// CHECK-LABEL: rev.func @regions_inv(
// CHECK: %[[S:.*]] = math.sin
// CHECK: rev.sub_at %{{.*}}[%{{.*}}], %[[S]]
// CHECK: rev.if pre {
// CHECK: } then {
// CHECK-NOT: math.sin
// CHECK: math.cos
// CHECK: rev.sub_at
// CHECK: rev.sub_at %{{.*}}[%{{.*}}], %[[S]]
// CHECK: rev.yield
// CHECK: }
// CHECK: math.cos
// CHECK: rev.sub_at
// CHECK: rev.return
rev.func @regions(%A: memref<4xf64>, %B: memref<4xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %a0 = memref.load %A[%c0] : memref<4xf64>
  %s = math.sin %a0 : f64
  %a1 = memref.load %A[%c1] : memref<4xf64>
  %k = math.cos %a1 : f64
  rev.add_at %B[%c1], %k : memref<4xf64>
  rev.if pre {
    %pos = arith.cmpf ogt, %x, %zero : f64
    rev.cond %pos
  } then {
    rev.add_at %B[%c0], %s : memref<4xf64>
    rev.add_at %B[%c2], %k : memref<4xf64>
    rev.yield
  }
  rev.add_at %B[%c3], %s : memref<4xf64>
  rev.return %x : f64
}

// A memref reached through arith.select may be A, which the function
// writes: the value loaded from it is recomputed before each use.
// CHECK-LABEL: rev.func @selected_inv(
// CHECK: rev.sub_at
// CHECK: math.sin
// CHECK: rev.sub_at
// CHECK: math.sin
// CHECK: rev.sub_at
// CHECK: rev.return
rev.func @selected(%A: memref<4xf64>, %B: memref<4xf64>, %C: memref<4xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %pos = arith.cmpf ogt, %x, %zero : f64
  %m = arith.select %pos, %A, %B : memref<4xf64>
  %b = memref.load %m[%c1] : memref<4xf64>
  %s = math.sin %b : f64
  rev.add_at %C[%c0], %s : memref<4xf64>
  rev.add_at %C[%c1], %s : memref<4xf64>
  rev.add_at %A[%c0], %x : memref<4xf64>
  rev.return %x : f64
}

// Scalar ancillas write no memref: sin(A[0]) is still shared.
// CHECK-LABEL: rev.func @ancilla_inv(
// CHECK: math.sin
// CHECK-NOT: math.sin
// CHECK: rev.return
rev.func @ancilla(%A: memref<4xf64>, %B: memref<4xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.load %A[%c0] : memref<4xf64>
  %s = math.sin %a : f64
  rev.add_at %B[%c0], %s : memref<4xf64>
  rev.add_at %B[%c1], %s : memref<4xf64>
  %t = rev.alloc : f64
  %t1 = rev.add %t, %s : f64
  %t2 = rev.sub %t1, %s : f64
  rev.free %t2 : f64
  rev.return %x : f64
}
