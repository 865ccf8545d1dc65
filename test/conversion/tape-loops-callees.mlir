// Loops in callees: @twice has no loop of its own, but calls @coupled twice.
// rev-ad marks @twice_grad (it holds marked loops through its calls);
// --rev-tape-loops inlines the calls of @twice / @twice_bwd, then their calls
// of @coupled / @coupled_bwd, and pairs the copies in mirror order: the
// first forward copy (over X) with the last backward copy.
// RUN: rev-opt %s "--rev-ad=funcs=twice loop-budget=8" | FileCheck %s --check-prefix=MARK
// RUN: rev-opt %s "--rev-ad=funcs=twice loop-budget=8" --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s
// RUN: rev-opt %s "--rev-ad=funcs=twice" --lower-rev --canonicalize --cse --rev-tape-loops | FileCheck %s --check-prefix=NONE

rev.func @coupled(%y: f64, %z: f64, %X: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %s = math.sin %b : f64
    %d = arith.mulf %s, %x : f64
    %a1 = rev.add %a, %d : f64
    %c = math.cos %a1 : f64
    %e = arith.mulf %c, %x : f64
    %b1 = rev.add %b, %e : f64
    rev.yield %a1, %b1 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

rev.func @twice(%y: f64, %z: f64, %X: memref<?xf64>, %W: memref<?xf64>) -> (f64, f64) {
  %a:2 = rev.call @coupled(%y, %z, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
  %b:2 = rev.call @coupled(%a#1, %a#0, %W) : (f64, f64, memref<?xf64>) -> (f64, f64)
  rev.return %b#0, %b#1 : f64, f64
}

// MARK: rev.func @twice_grad({{.*}} attributes {rev.gradient_of = @twice, rev.loop_budget = 8 : i64}

// CHECK: remark: @twice_grad stores 8, 8 bytes per iteration (budget 8) in 2 loop(s)
// CHECK-LABEL: func.func @twice_grad(
// CHECK-SAME:      %[[Y:[a-z0-9]+]]: f64, %[[Z:[a-z0-9]+]]: f64, %[[X:[a-z0-9]+]]: memref<?xf64>, %[[W:[a-z0-9]+]]: memref<?xf64>
// CHECK-NOT:     call
// CHECK:         %[[TX:.*]] = memref.alloc
// CHECK:         scf.for {{.*}} iter_args(%{{.*}} = %[[Y]], %{{.*}} = %[[Z]])
// CHECK:           memref.load %[[X]]
// CHECK:           memref.store %{{.*}}, %[[TX]]
// CHECK:         %[[TW:.*]] = memref.alloc
// CHECK:         scf.for
// CHECK:           memref.load %[[W]]
// CHECK:           memref.store %{{.*}}, %[[TW]]
// The backward copies in reverse order: W's loop first, reading W's tape.
// CHECK:         scf.for
// CHECK:           memref.load %[[TW]]
// CHECK:           memref.load %[[W]]
// CHECK:         memref.dealloc %[[TW]]
// CHECK:         scf.for
// CHECK:           memref.load %[[TX]]
// CHECK:           memref.load %[[X]]
// CHECK:         memref.dealloc %[[TX]]
// CHECK:         return

// Without a budget the gradient is not marked and its calls stay.
// NONE-LABEL: func.func @twice_grad(
// NONE:         call @twice(
// NONE:         call @twice_bwd(
