// Update ops, one pattern for every row of the update-kind table: the
// arithmetic of the row, on scalars and (load, op, store) on elements.
// RUN: rev-opt %s --lower-rev | FileCheck %s

// CHECK-LABEL: func.func @scalar_floats
// CHECK-SAME: (%[[Y:.*]]: f64, %[[D:.*]]: f64)
// CHECK: %[[A:.*]] = arith.addf %[[Y]], %[[D]] : f64
// CHECK: %[[S:.*]] = arith.subf %[[A]], %[[D]] : f64
// CHECK: %[[M:.*]] = arith.mulf %[[S]], %[[D]] : f64
// CHECK: %[[V:.*]] = arith.divf %[[M]], %[[D]] : f64
// CHECK: return %[[V]], %[[D]]
// CHECK-NOT: rev.
rev.func @scalar_floats(%y: f64, %d: f64) -> (f64, f64) {
  %y1 = rev.add %y, %d : f64
  %y2 = rev.sub %y1, %d : f64
  %y3 = rev.mul %y2, %d : f64
  %y4 = rev.div %y3, %d : f64
  rev.return %y4, %d : f64, f64
}

// CHECK-LABEL: func.func @scalar_integers
// CHECK-SAME: (%[[K:.*]]: i32, %[[D:.*]]: i32)
// CHECK: %[[A:.*]] = arith.addi %[[K]], %[[D]] : i32
// CHECK: %[[S:.*]] = arith.subi %[[A]], %[[D]] : i32
// CHECK: %[[X:.*]] = arith.xori %[[S]], %[[D]] : i32
// CHECK: return %[[X]], %[[D]]
rev.func @scalar_integers(%k: i32, %d: i32) -> (i32, i32) {
  %k1 = rev.add %k, %d : i32
  %k2 = rev.sub %k1, %d : i32
  %k3 = rev.xor %k2, %d : i32
  rev.return %k3, %d : i32, i32
}

// CHECK-LABEL: func.func @elements
// CHECK-SAME: (%[[A:.*]]: memref<4xf64>, %[[N:.*]]: memref<4xi64>, %[[I:.*]]: index, %[[D:.*]]: f64, %[[K:.*]]: i64)
// CHECK: %[[L0:.*]] = memref.load %[[A]][%[[I]]]
// CHECK: %[[R0:.*]] = arith.addf %[[L0]], %[[D]] : f64
// CHECK: memref.store %[[R0]], %[[A]][%[[I]]]
// CHECK: %[[L1:.*]] = memref.load %[[A]][%[[I]]]
// CHECK: arith.subf %[[L1]], %[[D]] : f64
// CHECK: memref.store
// CHECK: arith.mulf
// CHECK: arith.divf
// CHECK: %[[L4:.*]] = memref.load %[[N]][%[[I]]]
// CHECK: %[[R4:.*]] = arith.xori %[[L4]], %[[K]] : i64
// CHECK: memref.store %[[R4]], %[[N]][%[[I]]]
rev.func @elements(%A: memref<4xf64>, %N: memref<4xi64>, %i: index, %d: f64, %k: i64)
    -> (index, f64, i64) {
  rev.add_at %A[%i], %d : memref<4xf64>
  rev.sub_at %A[%i], %d : memref<4xf64>
  rev.mul_at %A[%i], %d : memref<4xf64>
  rev.div_at %A[%i], %d : memref<4xf64>
  rev.xor_at %N[%i], %k : memref<4xi64>
  rev.return %i, %d, %k : index, f64, i64
}
