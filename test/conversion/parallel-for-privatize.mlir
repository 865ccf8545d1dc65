// RUN: rev-opt %s --lower-rev --rev-privatize-atomics=copies=2 | FileCheck %s

// The `accumulate` attribute of rev.parallel_for reaches --rev-privatize-atomics
// (through the scf.parallel's rev.accumulate): "atomic" keeps the atomics,
// "privatize" takes per-thread copies whatever the trip count, and a loop
// without it is privatised when the run-time trip-count test says so.

// CHECK-LABEL: func.func @atomic(
// CHECK-NOT: memref.alloc
// CHECK: scf.parallel
// CHECK: memref.atomic_rmw addf
// CHECK: } {rev.accumulate = "atomic"}

// CHECK-LABEL: func.func @privatize(
// CHECK: %[[SMALL:.*]] = arith.cmpi sle, %{{.*}}, %{{.*}} : index
// CHECK-NEXT: scf.if %[[SMALL]] {
// CHECK: memref.alloc
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step

// CHECK-LABEL: func.func @default(
// CHECK: arith.cmpi sle
// CHECK: arith.cmpi sge
// CHECK: scf.if
// CHECK: memref.alloc
rev.func @atomic(%b: memref<?xindex>, %H: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %b, %c0 : memref<?xindex>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %k = memref.load %b[%i] : memref<?xindex>
    %one = arith.constant 1.0 : f64
    rev.add_at %H[%k], %one : memref<?xf64>
  } {accumulate = "atomic"}
  rev.return
}
rev.func @privatize(%b: memref<?xindex>, %H: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %b, %c0 : memref<?xindex>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %k = memref.load %b[%i] : memref<?xindex>
    %one = arith.constant 1.0 : f64
    rev.add_at %H[%k], %one : memref<?xf64>
  } {accumulate = "privatize"}
  rev.return
}
rev.func @default(%b: memref<?xindex>, %H: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %b, %c0 : memref<?xindex>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %k = memref.load %b[%i] : memref<?xindex>
    %one = arith.constant 1.0 : f64
    rev.add_at %H[%k], %one : memref<?xf64>
  }
  rev.return
}
