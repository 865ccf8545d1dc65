// RUN: rev-opt %s "--rev-ad=adjoint-only=0 fuse-sweeps=0" | FileCheck %s

// Activity: the backward sweep emits adjoint updates only along the
// derivative paths of update deltas, so a float argument whose value reaches
// no derivative (a threshold only compared, through a float op) gets no
// accumulation: its adjoint is threaded through the loop unchanged (the
// lowering's canonicalization then drops the loop-carried copy) and comes
// back as seeded, as a `rev.const` argument's does.

// CHECK-LABEL: rev.func @clip_bwd(
// CHECK-SAME: %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %[[TOL:[^:]*]]: f64, %[[A:[^:]*]]: f64, %[[TOLB:[^:]*]]: f64, %[[AB:[^:]*]]: f64,
// CHECK: %[[L:.*]]:2 = rev.for reverse %{{.*}} iter_args(%[[TA:.*]] = %[[TOLB]], %[[AA:.*]] = %[[AB]])
// CHECK-NOT: %[[TA]]
// CHECK: rev.add %{{.*}}, %{{.*}} : f64
// CHECK-NOT: %[[TA]]
// CHECK: rev.yield %[[TA]], %{{.*}} : f64, f64
// CHECK: rev.return %[[TOL]], %[[A]], %[[L]]#0, %[[L]]#1
rev.func @clip(%X: memref<?xf64>, %Y: memref<?xf64>, %tol: f64, %a: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %t2 = arith.mulf %tol, %tol : f64
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    rev.if pre {
      %ax = math.absf %x : f64
      %p = arith.cmpf ogt, %ax, %t2 : f64
      rev.cond %p
    } then {
      %d = arith.mulf %a, %x : f64
      rev.add_at %Y[%i], %d : memref<?xf64>
      rev.yield
    }
  }
  rev.return %tol, %a : f64, f64
}
