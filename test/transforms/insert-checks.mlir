// --rev-insert-checks: a rev.check naming the rule and the op before each op
// whose reversibility depends on run-time values.
// RUN: rev-opt %s --rev-insert-checks | FileCheck %s
// RUN: rev-opt %s --rev-insert-checks=reversibility=false | FileCheck %s --check-prefix=OFF

// Function entry: memref arguments of which one is written must not share
// memory (byte ranges from the strided metadata).
// CHECK-LABEL: rev.func @two_arrays
// CHECK: memref.extract_strided_metadata
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: rev.check %{{.*}}, "memref arguments #0 and #1 share memory" for "rev.func"
// CHECK: rev.check %{{.*}}, "memref arguments #0 and #2 share memory" for "rev.func"
// CHECK-NOT: "memref arguments #1 and #2
// CHECK: rev.add_at
rev.func @two_arrays(%A: memref<?xf64>, %B: memref<4xf64>, %C: memref<?x?xf64>, %i: index)
    -> index {
  %v = memref.load %B[%i] : memref<4xf64>
  rev.add_at %A[%i], %v : memref<?xf64>
  rev.return %i : index
}

// OFF-LABEL: rev.func @updates
// OFF-NOT: rev.check
// CHECK-LABEL: rev.func @updates
// CHECK: %[[Z:.*]] = arith.constant 0.0
// CHECK: %[[NZ:.*]] = arith.cmpf une, %[[D:.*]], %[[Z]]
// CHECK: rev.check %[[NZ]], "zero multiplier: multiplying by 0 is not reversible" for "rev.mul"
// CHECK: rev.check %{{.*}}, "delta is not finite (inf or NaN)" for "rev.mul"
// CHECK: rev.mul
// CHECK: %[[ABSY:.*]] = math.absf %{{.*}} : f64
// CHECK: %[[FIN:.*]] = arith.cmpf one, %[[ABSY]], %{{.*}} : f64
// CHECK: rev.check %[[FIN]], "the updated value is not finite (overflow)" for "rev.mul"
// CHECK: rev.check %{{.*}}, "zero divisor" for "rev.div"
// CHECK: rev.div
// CHECK: rev.check %{{.*}}, "index out of bounds in dimension 0 of the memref" for "memref.load"
// CHECK: memref.load
// CHECK: rev.check %{{.*}}, "index out of bounds in dimension 0 of the memref" for "rev.add_at"
// CHECK: %[[NE:.*]] = arith.cmpi ne, %[[I:.*]], %[[J:.*]] : index
// CHECK: rev.check %[[NE]], "element aliasing: the delta reads the element being updated" for "rev.add_at"
// CHECK: rev.add_at
// CHECK: rev.check %{{.*}}, "the updated element is not finite (overflow)" for "rev.add_at"
rev.func @updates(%y: f64, %d: f64, %A: memref<?xf64>, %i: index, %j: index)
    -> (f64, f64, index, index) {
  %y1 = rev.mul %y, %d : f64
  %y2 = rev.div %y1, %d : f64
  %v = memref.load %A[%j] : memref<?xf64>
  rev.add_at %A[%i], %v : memref<?xf64>
  rev.return %y2, %d, %i, %j : f64, f64, index, index
}

// CHECK-LABEL: rev.func @ancilla
// CHECK: rev.sub
// CHECK: %[[TOL:.*]] = arith.constant 1.000000e-08 : f64
// CHECK: %[[OK:.*]] = arith.cmpf ole, %{{.*}}, %[[TOL]]
// CHECK: rev.check %[[OK]], "ancilla not restored to its initial value" for "rev.free"
// CHECK-NEXT: rev.free
rev.func @ancilla(%x: f64) -> f64 {
  %t = rev.alloc : f64
  %t1 = rev.add %t, %x : f64
  %t2 = rev.sub %t1, %x : f64
  rev.free %t2 : f64
  rev.return %x : f64
}

// The if's post condition is checked at the end of each branch (true in
// `then`, false in the `else` added as the identity).
// CHECK-LABEL: rev.func @branch
// CHECK: } then {
// CHECK: rev.check %{{.*}}, "post-condition disagrees with pre-condition" for "rev.if"
// CHECK: rev.yield
// CHECK: } else {
// CHECK: arith.xori
// CHECK: rev.check %{{.*}}, "post-condition disagrees with pre-condition" for "rev.if"
// CHECK: rev.yield
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

// CHECK-LABEL: rev.func @loops
// CHECK: rev.check %{{.*}}, "loop step must be positive" for "rev.for"
// CHECK: rev.for
// CHECK: rev.check %{{.*}}, "post-condition holds on entry" for "rev.while"
// CHECK: rev.while
// CHECK: rev.check %{{.*}}, "post-condition false after an iteration" for "rev.while"
// CHECK-NEXT: rev.yield
rev.func @loops(%k: i64, %n: index, %s: index) -> (i64, index, index) {
  %c0 = arith.constant 0 : index
  rev.for %i = %c0 to %n step %s {
  }
  %w = rev.while %k : i64 pre {
  ^bb0(%a: i64):
    %m = arith.constant 3 : i64
    %c = arith.cmpi slt, %a, %m : i64
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
  rev.return %w, %n, %s : i64, index, index
}

// The region of another dialect's pure op (scf.execute_region) gets no check:
// one there would make the op change state, which a rev.func forbids (the
// output used to fail the verifier). Its load is not bounds-checked (as in
// condition regions); the loop's own load is.
// CHECK-LABEL: rev.func @pure_region(
// CHECK: scf.execute_region -> i64 {
// CHECK-NEXT: memref.load
// CHECK-NEXT: scf.yield
// CHECK: rev.check %{{.*}}, "index out of bounds
// CHECK: memref.load %{{.*}} : memref<?xf64>
rev.func @pure_region(%X: memref<?xf64>, %Y: memref<?xf64>, %K: memref<?xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %Y, %c0 : memref<?xf64>
  %k = scf.execute_region -> i64 {
    %l = memref.load %K[%c0] : memref<?xi64>
    scf.yield %l : i64
  }
  %ki = arith.index_cast %k : i64 to index
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%ki] : memref<?xf64>
    %s = math.sin %x : f64
    rev.add_at %Y[%i], %s : memref<?xf64>
  }
  %one = arith.constant 1 : i64
  rev.add_at %K[%c0], %one : memref<?xi64>
  rev.return
}
