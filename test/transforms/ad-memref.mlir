// RUN: rev-opt %s --rev-ad | FileCheck %s

// Adjoint rules of the in-place element forms: memrefs get shadow memrefs.
// A shadow element that seeds adjoint updates (Abar[i] for A[i] += d) is
// loaded afresh right before each update that uses it.

// CHECK-LABEL: rev.func @at_bwd(
// CHECK-SAME: %[[A:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xf64>, %[[I:[^:]*]]: index, %[[J:[^:]*]]: index, %[[AB:[^:]*]]: memref<?xf64>, %[[BB:[^:]*]]: memref<?xf64>) -> (index, index)
// neg_at: uncompute, negate the shadow element.
// CHECK: rev.neg_at %[[B]][%[[J]]]
// CHECK-NEXT: rev.neg_at %[[BB]][%[[J]]]
// swap_at: uncompute, swap the shadow elements.
// CHECK-NEXT: rev.swap_at %[[A]][%[[I]]], %[[B]][%[[J]]]
// CHECK-NEXT: rev.swap_at %[[AB]][%[[I]]], %[[BB]][%[[J]]]
// rot_at by a constant angle: uncompute, rotate the shadows back.
// CHECK: rev.irot_at %[[A]][%[[I]]], %[[B]][%[[J]]], %[[T:.*]] :
// CHECK: rev.irot_at %[[AB]][%[[I]]], %[[BB]][%[[J]]], %{{.*}} :
// mul_at: uncompute (div_at), Bbar[j] += exp(B[j]) * Abar[i] * A[i], Abar[i] *= exp(B[j]);
// the delta exp(B[j]) is recomputed once, for the uncompute and the partials.
// CHECK: %[[E:.*]] = math.exp
// CHECK-NEXT: rev.div_at %[[A]][%[[I]]], %[[E]]
// CHECK-NEXT: %[[Y0:.*]] = memref.load %[[A]][%[[I]]]
// CHECK-NOT: math.exp
// CHECK: %[[S:.*]] = memref.load %[[AB]][%[[I]]]
// CHECK: %[[SY:.*]] = arith.mulf %[[S]], %[[Y0]]
// CHECK: %[[C:.*]] = arith.mulf %[[E]], %[[SY]]
// CHECK: rev.add_at %[[BB]][%[[J]]], %[[C]]
// CHECK-NEXT: rev.mul_at %[[AB]][%[[I]]], %[[E]]
// CHECK-NEXT: rev.return %[[I]], %[[J]]
rev.func @at(%A: memref<?xf64>, %B: memref<?xf64>, %i: index, %j: index) -> (index, index) {
  %b = memref.load %B[%j] : memref<?xf64>
  %e = math.exp %b : f64
  rev.mul_at %A[%i], %e : memref<?xf64>
  %t = arith.constant 0.5 : f64
  rev.rot_at %A[%i], %B[%j], %t : memref<?xf64>, memref<?xf64>, f64
  rev.swap_at %A[%i], %B[%j] : memref<?xf64>, memref<?xf64>
  rev.neg_at %B[%j] : memref<?xf64>
  rev.return %i, %j : index, index
}

// add_at / sub_at: the delta's leaves get +/- the shadow element; integer
// memrefs get no shadow.
// CHECK-LABEL: rev.func @add_sub_at_bwd(
// CHECK-SAME: %[[A:[^:]*]]: memref<4xf64>, %[[K:[^:]*]]: memref<4xi32>, %[[X:[^:]*]]: f64, %[[XB:[^:]*]]: f64, %[[AB:[^:]*]]: memref<4xf64>) -> (f64, f64)
// CHECK: rev.add_at %[[K]]
// CHECK: rev.add_at %[[A]][%{{.*}}], %[[X]]
// CHECK: %[[S1:.*]] = memref.load %[[AB]]
// CHECK: %[[N:.*]] = arith.negf %[[S1]]
// CHECK: %[[XB1:.*]] = rev.add %[[XB]], %[[N]]
// CHECK: rev.sub_at %[[A]][%{{.*}}], %[[X]]
// CHECK: %[[S0:.*]] = memref.load %[[AB]]
// CHECK: %[[XB2:.*]] = rev.add %[[XB1]], %[[S0]]
// CHECK: rev.return %[[X]], %[[XB2]]
rev.func @add_sub_at(%A: memref<4xf64>, %K: memref<4xi32>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i32
  rev.add_at %A[%c0], %x : memref<4xf64>
  rev.sub_at %A[%c1], %x : memref<4xf64>
  rev.sub_at %K[%c1], %one : memref<4xi32>
  rev.return %x : f64
}

// div_at: uncompute (mul_at), x_bar += Abar[i] * -(A[i] / x^2) (A[i]
// recovered), Abar[i] /= x. xor_at (integers) is only uncomputed.
// CHECK-LABEL: rev.func @div_xor_at_bwd(
// CHECK-SAME: %[[A:[^:]*]]: memref<4xf64>, %[[K:[^:]*]]: memref<4xi64>, %[[X:[^:]*]]: f64, %[[XB:[^:]*]]: f64, %[[AB:[^:]*]]: memref<4xf64>) -> (f64, f64)
// CHECK: rev.mul_at %[[A]][%{{.*}}], %[[X]]
// CHECK: %[[Y0:.*]] = memref.load %[[A]]
// CHECK: %[[X2:.*]] = arith.mulf %[[X]], %[[X]]
// CHECK: %[[Q:.*]] = arith.divf %[[Y0]], %[[X2]]
// CHECK: %[[N:.*]] = arith.negf %[[Q]]
// CHECK: %[[S:.*]] = memref.load %[[AB]]
// CHECK: %[[P:.*]] = arith.mulf %[[S]], %[[N]]
// CHECK: %[[XB1:.*]] = rev.add %[[XB]], %[[P]]
// CHECK-NEXT: rev.div_at %[[AB]][%{{.*}}], %[[X]]
// CHECK: rev.xor_at %[[K]]
// CHECK-NEXT: rev.return %[[X]], %[[XB1]]
rev.func @div_xor_at(%A: memref<4xf64>, %K: memref<4xi64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %k = memref.load %K[%c1] : memref<4xi64>
  rev.xor_at %K[%c0], %k : memref<4xi64>
  rev.div_at %A[%c0], %x : memref<4xf64>
  rev.return %x : f64
}

// rot_at by a variable angle: theta's adjoint is seeded with shadow elements
// loaded after the uncompute.
// CHECK-LABEL: rev.func @rot_at_bwd(
// CHECK-SAME: %[[A:[^:]*]]: memref<2xf64>, %[[T:[^:]*]]: f64, %[[TB:[^:]*]]: f64, %[[AB:[^:]*]]: memref<2xf64>) -> (f64, f64)
// CHECK: rev.irot_at %[[A]][%{{.*}}], %[[A]][%{{.*}}], %[[T]]
// CHECK: %[[I:.*]] = arith.constant 0 : index
// CHECK: %[[J:.*]] = arith.constant 1 : index
// CHECK: %[[SA:.*]] = memref.load %[[AB]][%[[I]]]
// CHECK-NEXT: %[[SB:.*]] = memref.load %[[AB]][%[[J]]]
// CHECK: %[[TB1:.*]] = rev.add %[[TB]], %{{.*}}
// CHECK-NEXT: rev.irot_at %[[AB]][%[[I]]], %[[AB]][%[[J]]], %[[T]]
// CHECK-NEXT: rev.return %[[T]], %[[TB1]]
rev.func @rot_at(%A: memref<2xf64>, %t: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  rev.rot_at %A[%c0], %A[%c1], %t : memref<2xf64>, memref<2xf64>, f64
  rev.return %t : f64
}
