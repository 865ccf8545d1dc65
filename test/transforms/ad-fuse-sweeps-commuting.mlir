// RUN: rev-opt %s --rev-ad | FileCheck %s

// A loop (or routine) whose sweeps can be fused need not be the last op of
// its block: rev-ad fuses the last such op that commutes with every op after
// it (no later op uses its results or updates a variable it reads, and no
// memory one writes is read or written by the other). The later ops then run
// forward before the fused loop and backward after it, as if f had been
// written with the loop last. Where one of these conditions fails (or a
// later op calls a function), the gradient stays plain.

// CHECK-LABEL: rev.func @later_scalar_grad(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[Y:[^:]*]]: memref<?xf64>, %[[Z:[^:]*]]: memref<?xf64>, %[[A:[^:]*]]: f64, %[[B:[^:]*]]: f64, %[[AB:[^:]*]]: f64, %[[BB:[^:]*]]: f64
// CHECK: %[[B1:.*]] = rev.add %[[B]], %{{.*}} : f64
// CHECK: rev.add_at %[[Z]][%{{.*}}], %{{.*}} : memref<?xf64>
// CHECK: %[[R:.*]] = rev.for %{{.*}} iter_args(%{{.*}} = %[[AB]]) -> (f64) {
// CHECK: } {rev.fused_sweeps}
// CHECK: rev.sub_at %[[Z]]
// CHECK: rev.sub %[[B1]], %{{.*}} : f64
// CHECK: %[[AB1:.*]] = rev.add %[[R]], %{{.*}} : f64
// CHECK: rev.return %[[A]], %{{.*}}, %[[AB1]], %[[BB]]
// The loop reads X and a; the later ops read X, Z[0] and a, write Z[1] and b.
rev.func @later_scalar(%X: memref<?xf64>, %Y: memref<?xf64>, %Z: memref<?xf64>, %a: f64, %b: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %x : f64
    %p = arith.mulf %a, %s : f64
    rev.add_at %Y[%i], %p : memref<?xf64>
  }
  %z = memref.load %Z[%c0] : memref<?xf64>
  %x0 = memref.load %X[%c0] : memref<?xf64>
  %q = arith.mulf %z, %x0 : f64
  %e = math.exp %a : f64
  %q2 = arith.mulf %q, %e : f64
  %b1 = rev.add %b, %q2 : f64
  rev.add_at %Z[%c1], %x0 : memref<?xf64>
  rev.return %a, %b1 : f64, f64
}

// A later recurrence (not fusable itself) runs forward before the fused loop
// and backward after it.
// CHECK-LABEL: rev.func @later_recurrence_grad(
// CHECK: %[[F:.*]]:2 = rev.for %{{.*}} iter_args
// CHECK: rev.for %{{.*}} {
// CHECK: } {rev.fused_sweeps}
// CHECK: rev.for reverse %{{.*}} iter_args(%{{.*}} = %[[F]]#0, %{{.*}} = %[[F]]#1,
rev.func @later_recurrence(%X: memref<?xf64>, %Y: memref<?xf64>, %W: memref<?xf64>, %u: f64, %v: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %x : f64
    rev.add_at %Y[%i], %s : memref<?xf64>
  }
  %m = memref.dim %W, %c0 : memref<?xf64>
  %r:2 = rev.for %j = %c0 to %m step %c1 iter_args(%p = %u, %q = %v) -> (f64, f64) {
    %w = memref.load %W[%j] : memref<?xf64>
    %c = math.cos %q : f64
    %d = arith.mulf %c, %w : f64
    %p1 = rev.add %p, %d : f64
    %s = math.sin %p1 : f64
    %e = arith.mulf %s, %w : f64
    %q1 = rev.add %q, %e : f64
    rev.yield %p1, %q1 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// Plain gradients: a later op reads what the loop writes, updates a variable
// the loop reads, uses the loop's result, or calls a function.
// CHECK-LABEL: rev.func @later_reads_written_grad(
// CHECK-NOT: rev.fused_sweeps
// CHECK: rev.return
// CHECK-LABEL: rev.func @later_updates_read_grad(
// CHECK-NOT: rev.fused_sweeps
// CHECK: rev.return
// CHECK-LABEL: rev.func @later_uses_result_grad(
// CHECK-NOT: rev.fused_sweeps
// CHECK: rev.return
// CHECK-LABEL: rev.func @later_call_grad(
// CHECK-NOT: rev.fused_sweeps
// CHECK: rev.return
rev.func @later_reads_written(%X: memref<?xf64>, %Y: memref<?xf64>, %b: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %x : f64
    rev.add_at %Y[%i], %s : memref<?xf64>
  }
  %y0 = memref.load %Y[%c0] : memref<?xf64>
  %b1 = rev.add %b, %y0 : f64
  rev.return %b1 : f64
}
rev.func @later_updates_read(%X: memref<?xf64>, %Y: memref<?xf64>, %a: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %p = arith.mulf %a, %x : f64
    rev.add_at %Y[%i], %p : memref<?xf64>
  }
  %x0 = memref.load %X[%c0] : memref<?xf64>
  %a1 = rev.add %a, %x0 : f64
  rev.return %a1 : f64
}
rev.func @later_uses_result(%X: memref<?xf64>, %s: f64, %b: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%v = %s) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %v1 = rev.add %v, %x : f64
    rev.yield %v1 : f64
  }
  %q = math.sin %r : f64
  %b1 = rev.add %b, %q : f64
  rev.return %r, %b1 : f64, f64
}
rev.func @sq(%x: f64, %y: f64) -> (f64, f64) {
  %s = arith.mulf %x, %x : f64
  %y1 = rev.add %y, %s : f64
  rev.return %x, %y1 : f64, f64
}
rev.func @later_call(%X: memref<?xf64>, %Y: memref<?xf64>, %b: f64, %c: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %x : f64
    rev.add_at %Y[%i], %s : memref<?xf64>
  }
  %r:2 = rev.call @sq(%b, %c) : (f64, f64) -> (f64, f64)
  rev.return %r#0, %r#1 : f64, f64
}

// The loop reads K through a pure region op (its index): the later write of K
// is a conflict, so the gradient stays plain (it was fused: the backward
// reloaded K after the write).
// CHECK-LABEL: rev.func @later_writes_region_read_grad(
// CHECK-NOT: rev.fused_sweeps
// CHECK: rev.return
rev.func @later_writes_region_read(%X: memref<?xf64>, %Y: memref<?xf64>, %K: memref<?xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %Y, %c0 : memref<?xf64>
  %k = scf.execute_region -> i64 {
    %l = memref.load %K[%c0] : memref<?xi64>
    scf.yield %l : i64
  }
  %ki = arith.index_cast %k : i64 to index
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%ki] : memref<?xf64>
    %s = math.sin %x : f64
    rev.add_at %Y[%i], %s : memref<?xf64>
  }
  %one = arith.constant 1 : i64
  rev.add_at %K[%c0], %one : memref<?xi64>
  rev.return
}
