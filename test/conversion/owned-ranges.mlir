// --rev-owned-ranges: the CSR SpMV gradient's atomic adds into valsbar[k],
// k over the row's range [rowptr[r], rowptr[r + 1]), become plain adds in a
// copy of the loop run when rowptr is non-decreasing (a run-time test); the
// adds into xbar[col[k]] stay atomic, and the original loop runs otherwise.
// RUN: rev-opt %s --rev-ad --lower-rev --rev-owned-ranges | FileCheck %s
// RUN: rev-opt %s --rev-ad --rev-to-openmp > /dev/null
// RUN: rev-opt %s --rev-ad --rev-to-openmp=owned-ranges=0 | FileCheck %s --check-prefix=OFF

// CHECK-LABEL: func.func @csr_grad(
// CHECK-SAME: %[[ROWPTR:[^:]*]]: memref<?xindex>, %[[COL:[^:]*]]: memref<?xindex>, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %{{[^:]*}}: memref<?xf64>, %[[VB:[^:]*]]: memref<?xf64>, %[[XB:[^:]*]]: memref<?xf64>,
// CHECK: %[[TRUE:.*]] = arith.constant true
// CHECK: %[[OK:.*]] = scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[TRUE]]) -> (i1) {
// CHECK:   %[[A:.*]] = memref.load %[[ROWPTR]][%[[R]]]
// CHECK:   %[[B:.*]] = memref.load %[[ROWPTR]][%{{.*}}]
// CHECK:   %[[LE:.*]] = arith.cmpi sle, %[[A]], %[[B]] : index
// CHECK:   arith.andi %[[ACC]], %[[LE]] : i1
// CHECK: scf.if %[[OK]] {
// CHECK:   scf.parallel
// CHECK:     scf.for %[[K:.*]] =
// CHECK:       %[[OLD:.*]] = memref.load %[[VB]][%[[K]]]
// CHECK:       %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f64
// CHECK:       memref.store %[[NEW]], %[[VB]][%[[K]]]
// CHECK:       memref.atomic_rmw addf %{{.*}}, %[[XB]][%{{.*}}]
// CHECK:   } {rev.owned_ranges}
// CHECK: } else {
// CHECK:   scf.parallel
// CHECK:     memref.atomic_rmw addf %{{.*}}, %[[VB]][%{{.*}}]
// CHECK:     memref.atomic_rmw addf %{{.*}}, %[[XB]][%{{.*}}]
// CHECK: }
// OFF-LABEL: llvm.func @csr_grad(
// OFF-NOT: rev.owned_ranges
// OFF: llvm.return
rev.func @csr(%rowptr: memref<?xindex>, %col: memref<?xindex>, %vals: memref<?xf64>,
              %x: memref<?xf64>, %y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %y, %c0 : memref<?xf64>
  rev.parallel_for %r = %c0 to %n step %c1 {
    %r1 = arith.addi %r, %c1 : index
    %lo = memref.load %rowptr[%r] : memref<?xindex>
    %hi = memref.load %rowptr[%r1] : memref<?xindex>
    rev.for %k = %lo to %hi step %c1 {
      %j = memref.load %col[%k] : memref<?xindex>
      %v = memref.load %vals[%k] : memref<?xf64>
      %xj = memref.load %x[%j] : memref<?xf64>
      %p = arith.mulf %v, %xj : f64
      rev.add_at %y[%r], %p : memref<?xf64>
    }
  }
  rev.return
}

// A histogram whose index is not a row range: left alone.
// CHECK-LABEL: func.func @hist_grad(
// CHECK-NOT: scf.if
// CHECK: memref.atomic_rmw
// CHECK: return
rev.func @hist(%idx: memref<?xindex>, %w: memref<?xf64>, %h: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %idx, %c0 : memref<?xindex>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %j = memref.load %idx[%i] : memref<?xindex>
    %v = memref.load %w[%i] : memref<?xf64>
    rev.add_at %h[%j], %v : memref<?xf64>
  }
  rev.return
}
