// RUN: rev-opt %s "--rev-ad=adjoint-only=0 fuse-sweeps=0" | FileCheck %s
// RUN: rev-opt %s "--rev-ad=adjoint-only=0 fuse-sweeps=0" --rev-invert --rev-to-llvm > /dev/null

// A float that a region reads from above, computed by a pure op (here
// h2 = (x/2)^2, 3*a*a): an update inside the region that uses it adds
// d root/d h2 * d h2/d x to x's adjoint, d h2/d x built from h2's own
// expression alone. That factor is the same in every iteration (LLVM hoists
// it; CSE keeps one copy once the loop is unrolled) where the chain product
// from the update down to x (h * k + h * k, times 1/2) was not. The adjoint
// code stays invertible (--rev-invert runs on it).

// CHECK-LABEL: rev.func @loop_bwd(
// CHECK-SAME: %[[X:[^:]*]]: f64,
// CHECK: rev.for reverse
// CHECK: %[[H:.*]] = arith.mulf %[[X]], %[[HALF:.*]] : f64
// CHECK: %[[KF:.*]] = arith.sitofp
// CHECK: %[[J2:.*]] = arith.addf %[[H]], %[[H]] : f64
// CHECK-NEXT: %[[J:.*]] = arith.mulf %[[HALF]], %[[J2]] : f64
// CHECK: %[[P:.*]] = arith.mulf %[[J]], %[[KF]] : f64
// CHECK: %[[C:.*]] = arith.mulf %[[P]], %{{.*}} : f64
// CHECK-NEXT: rev.add %{{.*}}, %[[C]] : f64
// CHECK: rev.yield
rev.func @loop(%x: f64, %y: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 4 : index
  %half = arith.constant 0.5 : f64
  %h = arith.mulf %x, %half : f64
  %h2 = arith.mulf %h, %h : f64
  %r = rev.for %k = %c1 to %n step %c1 iter_args(%t = %y) -> (f64) {
    %ki = arith.index_cast %k : index to i64
    %kf = arith.sitofp %ki : i64 to f64
    %q = arith.mulf %h2, %kf : f64
    %t1 = rev.mul %t, %q : f64
    rev.yield %t1 : f64
  }
  rev.return %x, %r : f64, f64
}

// In a parallel loop: d(a*a*3)/da (from a alone) times x times the seed,
// summed into a's adjoint (a reduce accumulator).
// CHECK-LABEL: rev.func @parallel_bwd(
// CHECK-SAME: %[[A:[^:]*]]: f64, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %[[AB:[^:]*]]: f64,
// CHECK: rev.parallel_for %{{.*}} reduce(%[[ABI:.*]] = %[[AB]]) -> (f64) {
// CHECK: %[[X:.*]] = memref.load
// CHECK: %[[J1:.*]] = arith.mulf %[[A]], %[[THREE:.*]] : f64
// CHECK-NEXT: %[[J2:.*]] = arith.mulf %[[A]], %[[THREE]] : f64
// CHECK-NEXT: %[[J:.*]] = arith.addf %[[J1]], %[[J2]] : f64
// CHECK: %[[P:.*]] = arith.mulf %[[J]], %[[X]] : f64
// CHECK: %[[C:.*]] = arith.mulf %[[P]], %{{.*}} : f64
// CHECK-NEXT: %[[ABN:.*]] = rev.add %[[ABI]], %[[C]] : f64
// CHECK: rev.yield %[[ABN]] : f64
rev.func @parallel(%a: f64, %X: memref<?xf64>, %Y: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %three = arith.constant 3.0 : f64
  %a1 = arith.mulf %a, %a : f64
  %a2 = arith.mulf %three, %a1 : f64
  rev.parallel_for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %d = arith.mulf %a2, %x : f64
    rev.add_at %Y[%i], %d : memref<?xf64>
  }
  rev.return %a : f64
}

// In the same block the chain product runs through as before (h2 is not read
// from above): the update's partial enters it first.
// CHECK-LABEL: rev.func @same_block_bwd(
// CHECK-SAME: %[[X:[^:]*]]: f64,
// CHECK: rev.sub
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[X]], %[[C:.*]] : f64
// CHECK-NEXT: %[[P2:.*]] = arith.mulf %[[X]], %[[C]] : f64
// CHECK-NEXT: arith.addf %[[P]], %[[P2]] : f64
rev.func @same_block(%x: f64, %y: f64) -> (f64, f64) {
  %c = arith.constant 3.0 : f64
  %h2 = arith.mulf %x, %x : f64
  %q = arith.mulf %h2, %c : f64
  %y1 = rev.add %y, %q : f64
  rev.return %x, %y1 : f64, f64
}
