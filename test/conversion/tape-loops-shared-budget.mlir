// One memory budget for a gradient's loops and rev.steps: the loop tapes take
// their bytes from one counter (the first plan that fits), and the schedule
// of a rev.steps adjoint reads its snapshot bytes from the same counter, so
// its snapshots get what the tapes alive at that point leave.
// RUN: rev-opt %s --rev-ad=memory-budget=4096 --lower-rev --canonicalize --cse --rev-tape-loops | FileCheck %s
// Before --rev-tape-loops (and in functions without loops to tape) the
// schedule reads a counter of its own, holding the budget; the pass drops the
// mark.
// RUN: rev-opt %s --rev-ad=memory-budget=4096 --lower-rev --canonicalize --cse | FileCheck %s --check-prefix=OWN

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %xs: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %y = memref.load %old[%c0] : memref<?xf64>
  %x = memref.load %xs[%t] : memref<?xf64>
  %s = math.sin %y : f64
  %d = arith.mulf %s, %x : f64
  %v = arith.addf %y, %d : f64
  rev.add_at %new[%c0], %v : memref<?xf64>
  rev.return %t : index
}

// A loop (y += sin(z) x[t]; z += cos(y) x[t]), then the steps.
rev.func @run(%T: index, %y0: memref<?xf64>, %yT: memref<?xf64>, %xs: memref<?xf64>,
              %y: f64, %z: f64, %X: memref<?xf64>) -> (index, f64, f64) {
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
  rev.steps @step %c0 to %T, %y0 into %yT (%xs) : memref<?xf64>, memref<?xf64>
  rev.return %T, %r#0, %r#1 : index, f64, f64
}

// CHECK-NOT: rev.memory_budget_counter
// CHECK-LABEL: func.func @run_grad(
// CHECK-DAG:     %[[C4096:.*]] = arith.constant 4096 : index
// CHECK:         %[[COUNTER:.*]] = memref.alloca() : memref<index>
// CHECK-NEXT:    memref.store %[[C4096]], %[[COUNTER]][]
// CHECK-NOT:     memref.alloca() : memref<index>
// CHECK:         %[[LEFT:.*]] = memref.load %[[COUNTER]][]
// CHECK:         memref.store %{{.*}}, %[[COUNTER]][]
// The forward loop (a switch on the plan), the steps' forward, then the
// backward sweep: the steps' schedule, c = (bytes left) / (state bytes),
// then the backward loop.
// CHECK:         scf.index_switch
// CHECK:         %[[BYTES:.*]] = memref.load %[[COUNTER]][]
// CHECK-NEXT:    arith.divui %[[BYTES]], %{{.*}} : index
// CHECK:         scf.index_switch
// Then the loop's tapes are freed and their bytes given back.
// CHECK:         memref.dealloc
// CHECK:         %[[NOW:.*]] = memref.load %[[COUNTER]][]
// CHECK:         arith.addi %[[NOW]], %{{.*}} : index
// CHECK:         return

// OWN-LABEL: func.func @run_bwd(
// OWN-DAG:     %[[C4096:.*]] = arith.constant 4096 : index
// OWN:         %[[OWN:.*]] = memref.alloca() {rev.memory_budget_counter} : memref<index>
// OWN-NEXT:    memref.store %[[C4096]], %[[OWN]][]
// OWN:         %[[BYTES:.*]] = memref.load %[[OWN]][]
// OWN-NEXT:    arith.divui %[[BYTES]], %{{.*}} : index
