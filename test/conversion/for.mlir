// rev.for to scf.for; a reversed loop visits lb + last - k for k = lb, lb + s, ...
// RUN: rev-opt %s --lower-rev | FileCheck %s

// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[X:.*]]: f64, %[[N:.*]]: index)
// CHECK: %[[R:.*]] = scf.for %[[I:.*]] = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[A:.*]] = %[[X]]) -> (f64) {
// CHECK:   %[[F:.*]] = arith.sitofp
// CHECK:   %[[A1:.*]] = arith.addf %[[A]], %[[F]] : f64
// CHECK:   scf.yield %[[A1]] : f64
// CHECK: return %[[R]], %[[N]]
rev.func @forward(%x: f64, %n: index) -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%a = %x) -> (f64) {
    %ii = arith.index_cast %i : index to i64
    %f = arith.sitofp %ii : i64 to f64
    %a1 = rev.add %a, %f : f64
    rev.yield %a1 : f64
  }
  rev.return %r, %n : f64, index
}

// CHECK-LABEL: func.func @reversed
// CHECK: arith.subi
// CHECK: %[[TRIPS:.*]] = arith.divsi
// CHECK: %[[LAST:.*]] = arith.addi
// CHECK: %[[SUM:.*]] = arith.addi %{{.*}}, %[[LAST]]
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: %[[I:.*]] = arith.subi %[[SUM]], %[[K]] : index
// CHECK: memref.load %{{.*}}[%[[I]]]
rev.func @reversed(%A: memref<?xf64>, %n: index) -> index {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  rev.for reverse %i = %c0 to %n step %c2 {
    %d = arith.constant 1.0 : f64
    rev.add_at %A[%i], %d : memref<?xf64>
  }
  rev.return %n : index
}
