// rev.func/return/call to func.func/return/call; functions keep their
// visibility and argument attributes and get llvm.emit_c_interface.
// RUN: rev-opt %s --lower-rev | FileCheck %s

// CHECK-LABEL: func.func private @callee
// CHECK-SAME: (%[[X:.*]]: f64 {test.arg}, %[[A:.*]]: memref<?xf64>) -> f64
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: return %{{.*}} : f64
rev.func private @callee(%x: f64 {test.arg}, %A: memref<?xf64>) -> f64 {
  %c1 = arith.constant 1.0 : f64
  %x1 = rev.add %x, %c1 : f64
  rev.return %x1 : f64
}

// CHECK-LABEL: func.func @caller
// CHECK: %[[R:.*]] = call @callee(%{{.*}}, %{{.*}}) : (f64, memref<?xf64>) -> f64
// CHECK: return %[[R]]
rev.func @caller(%x: f64, %A: memref<?xf64>) -> f64 {
  %r = rev.call @callee(%x, %A) : (f64, memref<?xf64>) -> f64
  rev.return %r : f64
}
