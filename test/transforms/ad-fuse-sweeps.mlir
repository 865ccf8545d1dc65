// RUN: rev-opt %s --rev-ad | FileCheck %s
// RUN: rev-opt %s --rev-ad=fuse-sweeps=0 | FileCheck %s --check-prefix=PLAIN

// rev-ad's fuse-sweeps (the default): where f ends with a loop whose
// iterations are independent, @f_grad runs each iteration's backward sweep
// right after its forward one (one loop, forward order, marked
// rev.fused_sweeps); a routine without inits at the end of such a body (or of
// f) becomes its backward routine with the body run forward at the start of
// its body, so the compute is not uncomputed and recomputed in between. The
// forward update that the backward sweep uncomputes first (add_at then
// sub_at of the same element and value) cancels.

// CHECK-LABEL: rev.func @batch_grad(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[Y:[^:]*]]: memref<?xf64>, %[[XB:[^:]*]]: memref<?xf64>, %[[YB:[^:]*]]: memref<?xf64>)
// CHECK-NOT: rev.call
// CHECK: rev.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: rev.routine compute {
// CHECK: %[[ZB:.*]] = rev.alloc {adjoint} : f64
// CHECK: %[[L1:.*]] = memref.load %[[X]][%[[I]]]
// CHECK: math.cos %[[L1]]
// CHECK: rev.sub_at %[[XB]][%[[I]]]
// CHECK: %[[L2:.*]] = memref.load %[[X]][%[[I]]]
// CHECK: %[[S:.*]] = math.sin %[[L2]]
// CHECK: %[[T:.*]] = rev.add %{{.*}}, %[[S]]
// CHECK: rev.yield %[[T]], %[[ZB]] : f64, f64
// CHECK: } body {
// CHECK-NEXT: ^bb0(%[[TA:.*]]: f64, %[[TB:.*]]: f64):
// CHECK-NOT: rev.add_at
// CHECK-NOT: rev.sub_at
// CHECK: %[[Q:.*]] = arith.addf %[[TA]], %[[TA]]
// CHECK-NEXT: %[[D:.*]] = memref.load %[[YB]][%[[I]]]
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[Q]], %[[D]]
// CHECK-NEXT: %[[TB1:.*]] = rev.add %[[TB]], %[[P]]
// CHECK-NEXT: rev.yield %[[TA]], %[[TB1]]
// CHECK-NEXT: } {rev.fused_sweeps}
// CHECK-NEXT: } {rev.fused_sweeps}
// CHECK-NEXT: rev.return
// The backward function of a loop with independent iterations sweeps them in
// the forward order (any order is right); a dependent one is reversed.
// CHECK-LABEL: rev.func @batch_bwd(
// CHECK: rev.for %{{[^ ]*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// PLAIN-LABEL: rev.func @batch_grad(
// PLAIN-NEXT: rev.call @batch(
// PLAIN-NEXT: rev.call @batch_bwd(
// PLAIN-NEXT: rev.return
// Independent iterations, a routine at the end of the body.
rev.func @batch(%X: memref<?xf64>, %Y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    rev.routine compute {
      %t0 = rev.alloc : f64
      %s = math.sin %x : f64
      %t1 = rev.add %t0, %s : f64
      rev.yield %t1 : f64
    } body {
    ^bb0(%t: f64):
      %q = arith.mulf %t, %t : f64
      rev.add_at %Y[%i], %q : memref<?xf64>
      rev.yield %t : f64
    }
  }
  rev.return
}

// CHECK-LABEL: rev.func @scale_grad(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[Y:[^:]*]]: memref<?xf64>, %[[A:[^:]*]]: f64, %[[AB:[^:]*]]: f64, %[[XB:[^:]*]]: memref<?xf64>, %[[YB:[^:]*]]: memref<?xf64>)
// CHECK: %[[R:.*]] = rev.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[AB]]) -> (f64) {
// CHECK-NOT: rev.add_at %[[Y]]
// CHECK: memref.load %[[YB]][%[[I]]]
// CHECK: %[[ACC1:.*]] = rev.add %[[ACC]],
// CHECK: rev.add_at %[[XB]][%[[I]]]
// CHECK: rev.yield %[[ACC1]] : f64
// CHECK: } {rev.fused_sweeps}
// CHECK: rev.return %[[A]], %[[R]] : f64, f64
// A shared scalar parameter: its adjoint is summed through the loop.
rev.func @scale(%X: memref<?xf64>, %Y: memref<?xf64>, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %p = arith.mulf %a, %x : f64
    rev.add_at %Y[%i], %p : memref<?xf64>
  }
  rev.return %a : f64
}

// An iter_arg only added to (a sum) is an accumulator: fused too. Each
// iteration adds its term and takes it back; the result's adjoint seeds every
// iteration through a copy (alloc, add, ..., sub, free).
// CHECK-LABEL: rev.func @sum_grad(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[Y:[^:]*]]: f64, %[[YB:[^:]*]]: f64, %[[XB:[^:]*]]: memref<?xf64>)
// CHECK: %[[R:.*]] = rev.for %[[I:[^ ]*]] = %{{.*}} iter_args(%[[ACC:.*]] = %[[Y]]) -> (f64) {
// CHECK-NEXT: %[[Z:.*]] = rev.alloc : f64
// CHECK-NEXT: %[[S:.*]] = rev.add %[[Z]], %[[YB]] : f64
// CHECK-NOT: rev.add %[[ACC]]
// CHECK: rev.add_at %[[XB]][%[[I]]], %[[S]]
// CHECK-NEXT: %[[S0:.*]] = rev.sub %[[S]], %[[YB]] : f64
// CHECK-NEXT: rev.free %[[S0]] : f64
// CHECK-NEXT: rev.yield %[[ACC]] : f64
// CHECK-NEXT: } {rev.fused_sweeps}
// CHECK-NEXT: rev.return %[[R]], %[[YB]]
rev.func @sum(%X: memref<?xf64>, %y: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%v = %y) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %v1 = rev.add %v, %x : f64
    rev.yield %v1 : f64
  }
  rev.return %r : f64
}

// A recurrence (an iter_arg read by the body): not fused.
// CHECK-LABEL: rev.func @recur_grad(
// CHECK-NEXT: rev.call @recur(
// CHECK-NEXT: rev.call @recur_bwd(
rev.func @recur(%X: memref<?xf64>, %y: f64, %z: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.for %i = %c0 to %n step %c1 iter_args(%v = %y, %w = %z) -> (f64, f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %w : f64
    %d = arith.mulf %s, %x : f64
    %v1 = rev.add %v, %d : f64
    rev.yield %v1, %w : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// Iteration i reads what iteration i - 1 writes: not fused.
rev.func @shift(%X: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c1 to %n step %c1 {
    %j = arith.subi %i, %c1 : index
    %x = memref.load %X[%j] : memref<?xf64>
    %s = math.sin %x : f64
    rev.add_at %X[%i], %s : memref<?xf64>
  }
  rev.return
}

// CHECK-LABEL: rev.func @pscale_grad(
// CHECK-SAME: %[[AB:[^:]*]]: f64, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>)
// CHECK: %[[R:.*]] = rev.parallel_for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} reduce(%[[ACC:.*]] = %[[AB]]) -> (f64) {
// CHECK: %[[ACC1:.*]] = rev.add %[[ACC]],
// CHECK: rev.yield %[[ACC1]] : f64
// CHECK: } {rev.fused_sweeps}
// CHECK: rev.return %{{.*}}, %[[R]] : f64, f64
// A parallel loop with a shared scale.
rev.func @pscale(%X: memref<?xf64>, %Y: memref<?xf64>, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %p = arith.mulf %a, %x : f64
    rev.add_at %Y[%i], %p : memref<?xf64>
    rev.yield
  }
  rev.return %a : f64
}

// CHECK-LABEL: rev.func @top_grad(
// CHECK-NOT: rev.call
// CHECK: rev.routine compute {
// CHECK: math.exp
// CHECK: } body {
// CHECK-NOT: rev.add_at
// CHECK: rev.yield
// CHECK-NEXT: } {rev.fused_sweeps}
// CHECK-NEXT: rev.return
// A routine at the end of the function, whose compute reads a memref its
// body does not write.
rev.func @top(%X: memref<2xf64>, %Y: memref<2xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  rev.routine compute {
    %x = memref.load %X[%c0] : memref<2xf64>
    %t0 = rev.alloc : f64
    %e = math.exp %x : f64
    %t1 = rev.add %t0, %e : f64
    rev.yield %t1 : f64
  } body {
  ^bb0(%t: f64):
    rev.add_at %Y[%c1], %t : memref<2xf64>
    rev.yield %t : f64
  }
  rev.return
}

// CHECK-LABEL: rev.func @reads_written_grad(
// CHECK-NEXT: rev.call @reads_written(
// CHECK-NEXT: rev.call @reads_written_bwd(
// The compute reads Y, which the body writes: not fused.
rev.func @reads_written(%Y: memref<2xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  rev.routine compute {
    %y = memref.load %Y[%c0] : memref<2xf64>
    %t0 = rev.alloc : f64
    %e = math.exp %y : f64
    %t1 = rev.add %t0, %e : f64
    rev.yield %t1 : f64
  } body {
  ^bb0(%t: f64):
    rev.add_at %Y[%c1], %t : memref<2xf64>
    rev.yield %t : f64
  }
  rev.return
}

// A routine with inits: the compute reads x and passes y through untouched,
// the body adds to y. The fused gradient is one routine whose inits are the
// state before it and the adjoints; its body's forward update and the
// uncompute of it cancel, leaving the adjoint update.
// CHECK-LABEL: rev.func @inits_grad(
// CHECK-SAME: %[[X:[^:]*]]: f64, %[[Y:[^:]*]]: f64, %[[XB:[^:]*]]: f64, %[[YB:[^:]*]]: f64)
// CHECK: %[[R:.*]]:4 = rev.routine %[[X]], %[[Y]], %[[XB]], %[[YB]] : f64, f64, f64, f64 compute {
// CHECK: math.exp
// CHECK: } body {
// CHECK-NEXT: ^bb0(%{{[^:]*}}: f64, %[[B:[^:]*]]: f64, %{{[^:]*}}: f64, %{{[^:]*}}: f64, %[[BB:[^:]*]]: f64, %[[TBAR:[^:]*]]: f64):
// CHECK-NEXT: %[[TB:.*]] = rev.add %[[TBAR]], %[[BB]] : f64
// CHECK-NEXT: rev.yield %{{.*}}, %[[B]], %{{.*}}, %{{.*}}, %[[BB]], %[[TB]]
// CHECK-NEXT: } {rev.fused_sweeps}
// CHECK-NEXT: rev.return %[[R]]#0, %[[R]]#1, %[[R]]#2, %[[R]]#3
// PLAIN-LABEL: rev.func @inits_grad(
// PLAIN-NEXT: rev.call @inits(
rev.func @inits(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %t0 = rev.alloc : f64
    %e = math.exp %a : f64
    %t1 = rev.add %t0, %e : f64
    rev.yield %a, %b, %t1 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64):
    %b1 = rev.add %b, %t : f64
    rev.yield %a, %b1, %t : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// Scratch that every iteration restores: the loop's iterations all write
// S[0] and S[1], but only in the compute of a routine that undoes its compute
// (the body writes nothing the compute reads), so each iteration leaves S
// as it found it and the iterations can run in another order (one after
// another): fused, the loop and the routine at the end of its body (GMM's
// per-point scratch B, MX and Z).
// CHECK-LABEL: rev.func @scratch_grad(
// CHECK: rev.for
// CHECK: rev.routine
// CHECK: } {rev.fused_sweeps}
// CHECK: } {rev.fused_sweeps}
// PLAIN-LABEL: rev.func @scratch_grad(
// PLAIN-NEXT: rev.call @scratch(
rev.func @scratch(%X: memref<?xf64>, %Y: memref<?xf64>, %S: memref<2xf64>, %l: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%a = %l) -> (f64) {
    %o:1 = rev.routine %a : f64 compute {
    ^bb0(%aa: f64):
      %x = memref.load %X[%i] : memref<?xf64>
      %s = math.sin %x : f64
      rev.add_at %S[%c0], %s : memref<2xf64>
      %p = memref.load %S[%c0] : memref<2xf64>
      %e = math.exp %p : f64
      rev.add_at %S[%c1], %e : memref<2xf64>
      rev.yield %aa : f64
    } body {
    ^bb0(%aa: f64):
      %q = memref.load %S[%c1] : memref<2xf64>
      %lg = math.log %q : f64
      %a1 = rev.add %aa, %lg : f64
      %s0 = memref.load %S[%c0] : memref<2xf64>
      %m = arith.mulf %s0, %q : f64
      rev.add_at %Y[%i], %m : memref<?xf64>
      rev.yield %a1 : f64
    }
    rev.yield %o#0 : f64
  }
  rev.return %r : f64
}

// The same, but the body also writes the scratch: no iteration restores it,
// so iteration i + 1 reads what iteration i left: not fused.
// CHECK-LABEL: rev.func @scratch_in_body_grad(
// CHECK-NEXT: rev.call @scratch_in_body(
// CHECK-NEXT: rev.call @scratch_in_body_bwd(
rev.func @scratch_in_body(%X: memref<?xf64>, %S: memref<2xf64>, %l: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%a = %l) -> (f64) {
    %o:1 = rev.routine %a : f64 compute {
    ^bb0(%aa: f64):
      %x = memref.load %X[%i] : memref<?xf64>
      %s = math.sin %x : f64
      rev.add_at %S[%c0], %s : memref<2xf64>
      rev.yield %aa : f64
    } body {
    ^bb0(%aa: f64):
      %q = memref.load %S[%c0] : memref<2xf64>
      %a1 = rev.add %aa, %q : f64
      %e = math.exp %q : f64
      rev.add_at %S[%c1], %e : memref<2xf64>
      rev.yield %a1 : f64
    }
    rev.yield %o#0 : f64
  }
  rev.return %r : f64
}
