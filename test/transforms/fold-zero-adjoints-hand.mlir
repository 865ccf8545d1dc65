// RUN: rev-opt %s --rev-fold-zero-adjoints --canonicalize | FileCheck %s --check-prefix=HAND

// Hand-written backward-like code: which zeros are known.
// (@hand has @p's derivative layout: a backward function may drop adjoints.)
// HAND-LABEL: rev.func @hand(
// HAND-SAME: %{{[^:]*}}: memref<?xf64>, %[[I:[^:]*]]: index, %[[N:[^:]*]]: index, %[[Y:[^:]*]]: f64, %[[Z:[^:]*]]: f64, %[[A:[^:]*]]: memref<?xf64>)
rev.func @p(%P: memref<?xf64>, %i: index, %n: index, %y: f64) -> (index, index, f64) {
  rev.return %i, %n, %y : index, index, f64
}
rev.func @hand(%P: memref<?xf64>, %i: index, %n: index, %y: f64, %z: f64, %A: memref<?xf64>)
    -> (index, index, f64, f64) attributes {rev.backward_of = @p} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = rev.alloc {adjoint} : f64
  %b = rev.alloc {adjoint} : f64
  // a product with a zero: removed
  // HAND-NOT: rev.sub_at
  %g = arith.mulf %y, %a : f64
  rev.sub_at %A[%i], %g : memref<?xf64>
  // zero - zero: removed; zero / y: removed
  %c = rev.sub %a, %b : f64
  %d = rev.div %c, %y : f64
  // y -= d (zero): removed
  %y1 = rev.sub %y, %d : f64
  // A loop whose first iter_arg stays zero (divided, plus a zero) and whose
  // second becomes non-zero (plus y): the first one's update of A goes, the
  // second's stays.
  // HAND: %[[L:.*]]:2 = rev.for %{{.*}} = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[U:[^ ]*]] = %{{[^ ]*}}, %[[V:[^ ]*]] = %{{[^ ]*}}) -> (f64, f64) {
  // HAND-NEXT: %[[V1:.*]] = rev.add %[[V]], %[[Y]]
  // HAND-NEXT: %[[P:.*]] = arith.mulf %[[V1]], %[[Y]]
  // HAND-NEXT: rev.add_at %[[A]][%[[I]]], %[[P]]
  // HAND-NEXT: rev.yield %[[U]], %[[V1]]
  %e = rev.alloc {adjoint} : f64
  %l:2 = rev.for %k = %c0 to %n step %c1 iter_args(%u = %d, %v = %b) -> (f64, f64) {
    %u1 = rev.div %u, %y1 : f64
    %u2 = rev.add %u1, %e : f64
    %w = arith.mulf %u2, %y1 : f64
    rev.add_at %A[%i], %w : memref<?xf64>
    %v1 = rev.add %v, %y1 : f64
    %p = arith.mulf %v1, %y1 : f64
    rev.add_at %A[%i], %p : memref<?xf64>
    rev.yield %u2, %v1 : f64, f64
  }
  // The loop's first result is zero: z += it is removed; its second is not.
  // HAND: %[[Z1:.*]] = rev.add %[[Z]], %[[L]]#1
  %z1 = rev.add %z, %l#0 : f64
  %z2 = rev.add %z1, %l#1 : f64
  rev.discard %l#0 : f64
  rev.discard %l#1 : f64
  rev.discard %e : f64
  // HAND: rev.return %{{.*}}, %{{.*}}, %[[Y]], %[[Z1]]
  rev.return %i, %n, %y1, %z2 : index, index, f64, f64
}
