// RUN: rev-opt %s --rev-ad | FileCheck %s

// Adjoint rules of the in-place element forms: memrefs get shadow memrefs.
// A shadow element that an adjoint update reads is first copied into a
// scalar ancilla (s = 0; s += Abar[i]) and given back afterwards
// (s -= Abar[i]; free s), so no update reads a shadow element it writes.

// CHECK-LABEL: rev.func @at_bwd(
// CHECK-SAME: %[[A:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xf64>, %[[I:[^:]*]]: index, %[[J:[^:]*]]: index, %[[AB:[^:]*]]: memref<?xf64>, %[[BB:[^:]*]]: memref<?xf64>) -> (index, index)
// neg_at: uncompute, negate the shadow element.
// CHECK: rev.neg_at %[[B]][%[[J]]]
// CHECK-NEXT: rev.neg_at %[[BB]][%[[J]]]
// swap_at: uncompute, swap the shadow elements.
// CHECK-NEXT: rev.swap_at %[[A]][%[[I]]], %[[B]][%[[J]]]
// CHECK-NEXT: rev.swap_at %[[AB]][%[[I]]], %[[BB]][%[[J]]]
// rot_at: copy both shadow elements in, uncompute, theta's adjoint, copy out, rotate the shadows back.
// CHECK: %[[SA0:.*]] = rev.alloc : f64
// CHECK-NEXT: %[[LA:.*]] = memref.load %[[AB]][%[[I]]]
// CHECK-NEXT: %[[SA:.*]] = rev.add %[[SA0]], %[[LA]]
// CHECK: %[[SB:.*]] = rev.add %{{.*}}, %{{.*}}
// CHECK: rev.irot_at %[[A]][%[[I]]], %[[B]][%[[J]]], %[[T:.*]] :
// CHECK: %[[LA2:.*]] = memref.load %[[AB]][%[[I]]]
// CHECK-NEXT: %[[SA1:.*]] = rev.sub %[[SA]], %[[LA2]]
// CHECK-NEXT: rev.free %[[SA1]] : f64
// CHECK: rev.free
// CHECK-NEXT: rev.irot_at %[[AB]][%[[I]]], %[[BB]][%[[J]]], %[[T]]
// mul_at: copy in, uncompute (div_at), B's shadow += s * A[i] * exp(B[j]), copy out, Abar[i] *= exp(B[j]).
// CHECK: %[[S:.*]] = rev.add %{{.*}}, %{{.*}} : f64
// CHECK: rev.div_at %[[A]][%[[I]]], %{{.*}}
// CHECK: %[[Y0:.*]] = memref.load %[[A]][%[[I]]]
// CHECK: %[[E:.*]] = math.exp
// CHECK: %[[SY:.*]] = arith.mulf %[[S]], %[[Y0]]
// CHECK: %[[C:.*]] = arith.mulf %[[E]], %[[SY]]
// CHECK: rev.add_at %[[BB]][%[[J]]], %[[C]]
// CHECK: rev.free
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
// CHECK: %[[S:.*]] = rev.add %{{.*}}, %{{.*}} : f64
// CHECK: rev.add_at %[[A]][%{{.*}}], %[[X]]
// CHECK: %[[N:.*]] = arith.negf %[[S]]
// CHECK: %[[XB1:.*]] = rev.add %[[XB]], %[[N]]
// CHECK: %[[T:.*]] = rev.add %{{.*}}, %{{.*}} : f64
// CHECK: rev.sub_at %[[A]][%{{.*}}], %[[X]]
// CHECK: %[[XB2:.*]] = rev.add %[[XB1]], %[[T]]
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

// div_at: copy in, uncompute (mul_at), x_bar -= s * A[i] / x^2 (A[i] recovered),
// copy out, Abar[i] /= x. xor_at (integers) is only uncomputed.
// CHECK-LABEL: rev.func @div_xor_at_bwd(
// CHECK-SAME: %[[A:[^:]*]]: memref<4xf64>, %[[K:[^:]*]]: memref<4xi64>, %[[X:[^:]*]]: f64, %[[XB:[^:]*]]: f64, %[[AB:[^:]*]]: memref<4xf64>) -> (f64, f64)
// CHECK: %[[S:.*]] = rev.add %{{.*}}, %{{.*}} : f64
// CHECK: rev.mul_at %[[A]][%{{.*}}], %[[X]]
// CHECK: %[[Y0:.*]] = memref.load %[[A]]
// CHECK: %[[P:.*]] = arith.mulf %[[S]], %[[Y0]]
// CHECK: %[[X2:.*]] = arith.mulf %[[X]], %[[X]]
// CHECK: %[[Q:.*]] = arith.divf %[[P]], %[[X2]]
// CHECK: %[[N:.*]] = arith.negf %[[Q]]
// CHECK: %[[XB1:.*]] = rev.add %[[XB]], %[[N]]
// CHECK: rev.free
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
