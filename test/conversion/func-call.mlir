// rev.func/return/call to func.func/return/call; functions keep their
// visibility and argument attributes and get llvm.emit_c_interface (and the
// positions of their memref pointers for --rev-memref-noalias).
// RUN: rev-opt %s --lower-rev | FileCheck %s

// CHECK-LABEL: func.func private @callee
// CHECK-SAME: (%[[X:.*]]: f64 {test.arg}, %[[A:.*]]: memref<?xf64>) -> f64
// CHECK-SAME: attributes {llvm.emit_c_interface,
// CHECK-SAME: rev.noalias_arg_count = 6 : i64, rev.noalias_ptr_args = array<i64: 1, 2>}
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
