// --rev-invert on in-place element updates and ancillas.
// RUN: rev-opt %s --rev-invert | FileCheck %s

// CHECK-LABEL: rev.func @f_inv
// CHECK: %[[T:.*]] = rev.alloc init 1.000000e+00 : f64
// CHECK: %[[L:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<4xf64>
// CHECK: %[[T1:.*]] = rev.sub %[[T]], %[[L]] : f64
// CHECK: rev.free %[[T1]] init 1.000000e+00 : f64
// CHECK: rev.rot_at %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>, memref<4xf64>, f64
// CHECK: rev.swap_at %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}] : memref<4xf64>, memref<4xf64>
// CHECK: rev.neg_at %{{.*}}[%{{.*}}] : memref<4xf64>
// CHECK: rev.xor_at %{{.*}}[%{{.*}}], %{{.*}} : memref<4xi32>
// CHECK: rev.mul_at %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>
// CHECK: rev.div_at %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>
// CHECK: rev.add_at %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>
// CHECK: rev.sub_at %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>
// CHECK: rev.return
rev.func @f(%A: memref<4xf64>, %K: memref<4xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d = arith.constant 2.0 : f64
  %e = arith.constant 3 : i32
  rev.add_at %A[%c0], %d : memref<4xf64>
  rev.sub_at %A[%c1], %d : memref<4xf64>
  rev.mul_at %A[%c0], %d : memref<4xf64>
  rev.div_at %A[%c1], %d : memref<4xf64>
  rev.xor_at %K[%c0], %e : memref<4xi32>
  rev.neg_at %A[%c0] : memref<4xf64>
  rev.swap_at %A[%c0], %A[%c1] : memref<4xf64>, memref<4xf64>
  rev.irot_at %A[%c0], %A[%c1], %d : memref<4xf64>, memref<4xf64>, f64
  %t = rev.alloc init 1.0 : f64
  %v = memref.load %A[%c0] : memref<4xf64>
  %t1 = rev.add %t, %v : f64
  rev.free %t1 init 1.0 : f64
  rev.return
}
