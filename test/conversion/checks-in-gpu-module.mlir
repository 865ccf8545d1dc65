// A check in device code (a gpu.module) has no libc or runtime to call: with
// the host mappings (libc, runtime) it becomes cf.assert, in the gpu.module,
// which declares nothing (scripts/fuzz.py found a memref.get_global of a
// message global that did not resolve there).
// RUN: rev-opt %s --rev-insert-checks --lower-rev | FileCheck %s
// RUN: rev-opt %s --rev-insert-checks --lower-rev=check-lowering=runtime | FileCheck %s

// CHECK: gpu.module @kernels {
// CHECK-NOT: memref.global
// CHECK-NOT: @write
// CHECK: func.func @f
// CHECK: cf.assert %{{.*}}, "rev: zero divisor (rev.div at
// CHECK: arith.divf
// CHECK: }
// CHECK-LABEL: func.func @host
// CHECK: scf.if
// CHECK: call @{{write|__rev_check_failed}}
module attributes {gpu.container_module} {
  gpu.module @kernels {
    rev.func @f(%y: f64, %d: f64) -> (f64, f64) {
      %y1 = rev.div %y, %d : f64
      rev.return %y1, %d : f64, f64
    }
  }
  rev.func @host(%y: f64, %d: f64) -> (f64, f64) {
    %y1 = rev.div %y, %d : f64
    rev.return %y1, %d : f64, f64
  }
}
