// RUN: rev-opt %s | FileCheck %s
// RUN: rev-opt %s | rev-opt | FileCheck %s

// The forms of rev.parallel_for that the verifier accepts: own-element
// writes (%i, %i + c, %i - c, one index of several), reads of data the loop
// does not write, add-only shared memrefs at any index, reduce accumulators
// added to directly and through nested region ops.

// CHECK-LABEL: rev.func @own_elements
// CHECK: rev.parallel_for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: rev.add_at %{{.*}}[%[[I]]]
// CHECK: rev.swap_at
rev.func @own_elements(%X: memref<?xf64>, %Y: memref<?xf64>, %M: memref<?x4xf64>, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %m = arith.subi %n, %c1 : index
  rev.parallel_for %i = %c0 to %m step %c1 {
    %ip = arith.addi %i, %c1 : index
    %x = memref.load %X[%ip] : memref<?xf64>
    %x0 = memref.load %X[%i] : memref<?xf64>
    %d = arith.mulf %x, %a : f64
    rev.add_at %Y[%i], %d : memref<?xf64>
    %c2 = arith.constant 2 : index
    rev.swap_at %M[%i, %c0], %M[%i, %c2] : memref<?x4xf64>, memref<?x4xf64>
    %e = arith.mulf %x0, %x0 : f64
    rev.add_at %M[%i, %c1], %e : memref<?x4xf64>
  }
  rev.return %a : f64
}

// CHECK-LABEL: rev.func @shifted
rev.func @shifted(%Y: memref<?xf64>) {
  %c1 = arith.constant 1 : index
  %n = memref.dim %Y, %c1 : memref<?xf64>
  rev.parallel_for %i = %c1 to %n step %c1 {
    %one = arith.constant 1 : index
    %j = arith.subi %i, %one : index
    %y = memref.load %Y[%j] : memref<?xf64>
    %two = arith.constant 2.0 : f64
    rev.mul_at %Y[%j], %two : memref<?xf64>
  }
  rev.return
}

// CHECK-LABEL: rev.func @histogram
// CHECK: rev.parallel_for {{.*}} {
// CHECK: rev.add_at %{{.*}}[%{{.*}}]
// CHECK: } {accumulate = "privatize"}
rev.func @histogram(%bin: memref<?xindex>, %w: memref<?xf64>, %H: memref<8xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %bin, %c0 : memref<?xindex>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %b = memref.load %bin[%i] : memref<?xindex>
    %x = memref.load %w[%i] : memref<?xf64>
    rev.add_at %H[%b], %x : memref<8xf64>
    rev.sub_at %H[%c0], %x : memref<8xf64>
  } {accumulate = "privatize"}
  rev.return
}

// CHECK-LABEL: rev.func @reductions
// CHECK: %[[R:.*]]:2 = rev.parallel_for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} reduce(%[[S:.*]] = %{{.*}}, %[[K:.*]] = %{{.*}}) -> (f64, i64) {
// CHECK: rev.for
// CHECK: rev.yield
rev.func @reductions(%X: memref<?x3xf64>, %s: f64, %k: i64) -> (f64, i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %n = memref.dim %X, %c0 : memref<?x3xf64>
  %r:2 = rev.parallel_for %i = %c0 to %n step %c1 reduce(%acc = %s, %cnt = %k) -> (f64, i64) {
    %one = arith.constant 1 : i64
    %cnt1 = rev.add %cnt, %one : i64
    %inner = rev.for %j = %c0 to %c3 step %c1 iter_args(%t = %acc) -> (f64) {
      %x = memref.load %X[%i, %j] : memref<?x3xf64>
      %x2 = arith.mulf %x, %x : f64
      %t1 = rev.add %t, %x2 : f64
      rev.yield %t1 : f64
    }
    %z = arith.constant 0.0 : f64
    %x0 = memref.load %X[%i, %c0] : memref<?x3xf64>
    %pos = arith.cmpf ogt, %x0, %z : f64
    %b = rev.if %inner : f64 pre {
    ^bb0(%u: f64):
      rev.cond %pos
    } then {
    ^bb0(%u: f64):
      %u1 = rev.sub %u, %x0 : f64
      rev.yield %u1 : f64
    }
    rev.yield %b, %cnt1 : f64, i64
  }
  rev.return %r#0, %r#1 : f64, i64
}
