// Functions in nested symbol tables are lowered too; checks declare their
// runtime in their own symbol table.
// RUN: rev-opt %s --rev-insert-checks --lower-rev | FileCheck %s

// CHECK: module @inner {
// CHECK-DAG: func.func private @write
// CHECK-DAG: memref.global "private" constant @__rev_check_msg_0
// CHECK: func.func @f
// CHECK: arith.divf
module @inner {
  rev.func @f(%y: f64, %d: f64) -> (f64, f64) {
    %y1 = rev.div %y, %d : f64
    rev.return %y1, %d : f64, f64
  }
}
