// RUN: rev-opt %s --rev-invert | FileCheck %s --check-prefix=INV
// RUN: rev-opt %s --rev-ad | FileCheck %s --check-prefix=BWD
// RUN: rev-opt %s --rev-fwd | FileCheck %s --check-prefix=FWD
// RUN: rev-opt %s --rev-ad --rev-invert | rev-opt --rev-ad > /dev/null
// RUN: rev-opt %s --rev-ad=parallel-accumulate=atomic | FileCheck %s --check-prefix=OPT
// RUN: not rev-opt %s --rev-ad=parallel-accumulate=locked 2>&1 | FileCheck %s --check-prefix=BAD

// Inverse, adjoint and tangent of rev.parallel_for: Y[i] += a * X[i] with a
// shared scale a, a sum accumulator r, and a scatter H[b[i]] += X[i]^2.

// The inverse: a parallel loop starting from the results; each iteration
// subtracts what it added.
// INV-LABEL: rev.func @scale_inv(
// INV-SAME: %[[A:[^:]*]]: f64, %[[X:[^:]*]]: memref<?xf64>, %[[Y:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xindex>, %[[H:[^:]*]]: memref<?xf64>, %[[R:[^:]*]]: f64)
// INV: %[[S:.*]] = rev.parallel_for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} reduce(%[[ACC:.*]] = %[[R]]) -> (f64) {
// INV: rev.sub %[[ACC]]
// INV: rev.sub_at %[[H]]
// INV: rev.sub_at %[[Y]][%[[I]]]
// INV: } {accumulate = "privatize"}
// INV: rev.return %[[A]], %[[S]]

// The backward sweep: the restored accumulator and the adjoint of the shared
// scale a are reduce accumulators (a sum over the iterations); the result's
// adjoint is read through a per-iteration ancilla copy, freed at the end;
// Xbar[i] is private; the strategy carries over.
// BWD-LABEL: rev.func @scale_bwd(
// BWD-SAME: %[[A:[^:]*]]: f64, %[[X:[^:]*]]: memref<?xf64>, %[[Y:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xindex>, %[[H:[^:]*]]: memref<?xf64>, %[[R:[^:]*]]: f64, %[[AB:[^:]*]]: f64, %[[RB:[^:]*]]: f64, %[[XB:[^:]*]]: memref<?xf64>, %[[YB:[^:]*]]: memref<?xf64>, %[[HB:[^:]*]]: memref<?xf64>)
// BWD: %[[L:.*]]:2 = rev.parallel_for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} reduce(%[[ACC:.*]] = %[[R]], %[[ABACC:.*]] = %[[AB]]) -> (f64, f64) {
// BWD: %[[T0:.*]] = rev.alloc : f64
// BWD: %[[T:.*]] = rev.add %[[T0]], %[[RB]] : f64
// BWD: rev.sub %[[ACC]]
// BWD: rev.add %[[ABACC]]
// BWD: rev.sub_at %[[H]]
// BWD: rev.add_at %[[XB]][%[[I]]]
// BWD: rev.sub_at %[[Y]][%[[I]]]
// BWD: memref.load %[[YB]][%[[I]]]
// BWD: %[[T1:.*]] = rev.sub %[[T]], %[[RB]] : f64
// BWD: rev.free %[[T1]] : f64
// BWD: rev.yield
// BWD: } {accumulate = "privatize"}
// BWD: rev.return %[[A]], %[[L]]#0, %[[L]]#1, %[[RB]]

// The tangent: the accumulator's tangent is one more accumulator.
// FWD-LABEL: rev.func @scale_fwd(
// FWD: %{{.*}}:2 = rev.parallel_for %{{.*}} reduce(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f64, f64) {
// FWD: rev.add_at
// FWD: rev.add_at
// FWD: rev.add
// FWD: rev.add
// FWD: } {accumulate = "privatize"}
rev.func @scale(%a: f64, %X: memref<?xf64>, %Y: memref<?xf64>, %b: memref<?xindex>,
                %H: memref<?xf64>, %s: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.parallel_for %i = %c0 to %n step %c1 reduce(%acc = %s) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %d = arith.mulf %a, %x : f64
    rev.add_at %Y[%i], %d : memref<?xf64>
    %k = memref.load %b[%i] : memref<?xindex>
    %x2 = arith.mulf %x, %x : f64
    rev.add_at %H[%k], %x2 : memref<?xf64>
    %acc1 = rev.add %acc, %d : f64
    rev.yield %acc1 : f64
  } {accumulate = "privatize"}
  rev.return %a, %r : f64, f64
}

// --rev-ad{parallel-accumulate} sets the strategy of backward loops whose
// forward loop has none, and keeps the others'.
// OPT-LABEL: rev.func @scale_bwd(
// OPT: } {accumulate = "privatize"}
// OPT-LABEL: rev.func @plain_bwd(
// OPT: rev.parallel_for
// OPT: } {accumulate = "atomic"}
// BAD: rev-ad: parallel-accumulate must be 'atomic' or 'privatize', not 'locked'
rev.func @plain(%X: memref<?xf64>, %b: memref<?xindex>, %H: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %k = memref.load %b[%i] : memref<?xindex>
    rev.add_at %H[%k], %x : memref<?xf64>
  }
  rev.return
}
