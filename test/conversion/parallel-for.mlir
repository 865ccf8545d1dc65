// RUN: rev-opt %s --lower-rev | FileCheck %s
// RUN: rev-opt %s --rev-ad --lower-rev | FileCheck %s --check-prefix=BWD
// RUN: rev-opt %s --rev-ad --rev-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: rev-opt %s --lower-rev --rev-serial-atomics | FileCheck %s --check-prefix=SERIAL
// RUN: rev-opt %s --lower-rev=reassociate-reductions=0 | FileCheck %s --check-prefix=ORDERED

// rev.parallel_for -> scf.parallel: accumulators start at zero in each
// iteration and are summed by scf.reduce; own-element updates stay plain
// loads and stores; shared accumulations become memref.atomic_rmw (no plain
// store to a shared memref: that would be a race).

// CHECK-LABEL: func.func @scatter(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[Y:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xindex>, %[[H:[^:]*]]: memref<?xf64>, %[[S:[^:]*]]: f64)
// CHECK: %[[R:.*]] = scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) init (%[[S]]) -> f64 {
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[Y0:.*]] = memref.load %[[Y]][%[[I]]]
// CHECK: memref.store %{{.*}}, %[[Y]][%[[I]]]
// CHECK: %[[K:.*]] = memref.load %[[B]][%[[I]]]
// CHECK-NOT: memref.store
// CHECK: memref.atomic_rmw addf %{{.*}}, %[[H]][%[[K]]] : (f64, memref<?xf64>) -> f64
// CHECK: %[[NEG:.*]] = arith.negf
// CHECK: memref.atomic_rmw addf %[[NEG]], %[[H]][%{{.*}}]
// CHECK: %[[P:.*]] = arith.addf %[[ZERO]], %{{.*}} : f64
// CHECK: scf.reduce(%[[P]] : f64) {
// CHECK: ^bb0(%[[L:.*]]: f64, %[[RR:.*]]: f64):
// CHECK: %[[SUM:.*]] = arith.addf %[[L]], %[[RR]] fastmath<reassoc> : f64
// CHECK: scf.reduce.return %[[SUM]] : f64
// CHECK: return %[[R]]

// The combiner alone carries `reassoc` (the sum's order is unspecified, so
// LLVM may vectorise the sequential loop with partial sums); with
// reassociate-reductions=0 it is a plain addf (added in iteration order).
// ORDERED-LABEL: func.func @scatter(
// ORDERED-NOT: fastmath
// ORDERED: ^bb0(%[[L:.*]]: f64, %[[RR:.*]]: f64):
// ORDERED-NEXT: %[[SUM:.*]] = arith.addf %[[L]], %[[RR]] : f64
// ORDERED-NEXT: scf.reduce.return %[[SUM]] : f64

// The backward sweep: the restored accumulator is a sum again, and the
// uncompute of the scatter (H[b[i]] -= ...) is atomic too.
// BWD-LABEL: func.func @scatter_bwd(
// BWD: scf.parallel {{.*}} init ({{.*}}) -> f64 {
// BWD: memref.atomic_rmw addf {{.*}} : (f64, memref<?xf64>) -> f64
// BWD: scf.reduce(

// Sequentially (rev-to-llvm: one thread runs the loop) the atomic adds are
// plain again (--rev-serial-atomics).
// LLVM-LABEL: llvm.func @scatter(
// LLVM-NOT: llvm.atomicrmw
// LLVM: llvm.func @scatter_bwd(
rev.func @scatter(%X: memref<?xf64>, %Y: memref<?xf64>, %b: memref<?xindex>,
                  %H: memref<?xf64>, %s: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.parallel_for %i = %c0 to %n step %c1 reduce(%acc = %s) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    rev.add_at %Y[%i], %x : memref<?xf64>
    %k = memref.load %b[%i] : memref<?xindex>
    %x2 = arith.mulf %x, %x : f64
    rev.add_at %H[%k], %x2 : memref<?xf64>
    rev.sub_at %H[%c0], %x : memref<?xf64>
    %acc1 = rev.add %acc, %x : f64
    rev.yield %acc1 : f64
  }
  rev.return %r : f64
}

// accumulate = "privatize" marks the scf.parallel for --rev-privatize-atomics.
// CHECK-LABEL: func.func @marked(
// CHECK: scf.parallel
// CHECK: memref.atomic_rmw addi
// CHECK: } {rev.accumulate = "privatize"}
rev.func @marked(%b: memref<?xindex>, %H: memref<?xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %b, %c0 : memref<?xindex>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %k = memref.load %b[%i] : memref<?xindex>
    %one = arith.constant 1 : i64
    rev.add_at %H[%k], %one : memref<?xi64>
  } {accumulate = "privatize"}
  rev.return
}

// SERIAL-LABEL: func.func @scatter(
// SERIAL: scf.parallel
// SERIAL-NOT: memref.atomic_rmw
// SERIAL: %[[K:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<?xindex>
// SERIAL: %[[OLD:.*]] = memref.load %[[H:.*]][%[[K]]] : memref<?xf64>
// SERIAL: %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f64
// SERIAL: memref.store %[[NEW]], %[[H]][%[[K]]] : memref<?xf64>
// SERIAL-LABEL: func.func @marked(
// SERIAL-NOT: memref.atomic_rmw
// SERIAL: arith.addi
