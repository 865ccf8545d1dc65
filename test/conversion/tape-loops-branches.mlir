// Loop budgets for loops in top-level branches: rev-ad marks the loops of a
// top-level rev.if's branches (--rev-tape-loops inlines calls there), each
// branch's loop is a pair whose tapes are allocated before the forward
// scf.if and freed after the backward one. With a budget in bytes in all,
// a branch's loop draws from the counter only if its branch runs (the
// condition is known before the scf.if).
// RUN: rev-opt %s --rev-ad="funcs=branchy loop-budget=16" --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s
// RUN: rev-opt %s --rev-ad="funcs=branchy memory-budget=100000" --lower-rev --canonicalize --cse --rev-tape-loops 2>&1 | FileCheck %s --check-prefix=TOTAL
// RUN: rev-opt %s --rev-ad="funcs=branchy loop-budget=16" | FileCheck %s --check-prefix=MARK

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

// p > 0: the recurrence with x[t] p in the then branch; else a call.
rev.func @branchy(%y: f64, %z: f64, %X: memref<?xf64>, %p: f64) -> (f64, f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.if %y, %z : f64, f64 pre {
  ^bb0(%u0: f64, %v0: f64):
    %pos = arith.cmpf ogt, %p, %zero : f64
    rev.cond %pos
  } then {
  ^bb0(%u: f64, %v: f64):
    %q:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %u, %b = %v) -> (f64, f64) {
      %x = memref.load %X[%t] : memref<?xf64>
      %xp = arith.mulf %x, %p : f64
      %s = math.sin %b : f64
      %d = arith.mulf %s, %xp : f64
      %a1 = rev.add %a, %d : f64
      %c = math.cos %a1 : f64
      %e = arith.mulf %c, %x : f64
      %b1 = rev.add %b, %e : f64
      rev.yield %a1, %b1 : f64, f64
    }
    rev.yield %q#0, %q#1 : f64, f64
  } else {
  ^bb0(%u: f64, %v: f64):
    %q:2 = rev.call @coupled(%u, %v, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
    rev.yield %q#0, %q#1 : f64, f64
  }
  rev.return %r#0, %r#1, %p : f64, f64, f64
}

// MARK-LABEL: rev.func @branchy(
// MARK:         rev.if
// MARK:           rev.for
// MARK:           } {rev.tape_loop = [[ID:[0-9]+]] : i64}
// MARK-LABEL: rev.func @branchy_bwd(
// MARK:         rev.if
// MARK:           rev.for reverse
// MARK:           } {rev.tape_adjoint = [[ID]] : i64}

// CHECK: remark: @branchy_grad stores 16, 16 bytes per iteration (budget 16) in 2 loop(s)
// The tapes of the branch that does not run are empty.
// CHECK-LABEL: func.func @branchy_grad(
// CHECK:         %[[COND:.*]] = arith.cmpf ogt
// CHECK:         %[[N:.*]] = arith.maxsi
// CHECK:         %[[NT:.*]] = arith.select %[[COND]], %[[N]], %c0 : index
// CHECK:         %[[T1:.*]] = memref.alloc(%[[NT]]) : memref<?xf64>
// CHECK:         %[[T2:.*]] = memref.alloc(%[[NT]]) : memref<?xf64>
// CHECK:         %[[NE:.*]] = arith.select %[[COND]], %c0, %[[N]] : index
// CHECK:         %[[E1:.*]] = memref.alloc(%[[NE]]) : memref<?xf64>
// CHECK:         %[[E2:.*]] = memref.alloc(%[[NE]]) : memref<?xf64>
// CHECK:         scf.if %[[COND]]
// CHECK:           scf.for
// CHECK:             memref.store %{{.*}}, %[[T1]][
// CHECK:             memref.store %{{.*}}, %[[T2]][
// CHECK:         } else {
// CHECK:           scf.for
// CHECK:             memref.store %{{.*}}, %[[E1]][
// CHECK:             memref.store %{{.*}}, %[[E2]][
// CHECK:         scf.if %[[COND]]
// CHECK:           scf.for
// CHECK:             memref.load %[[T1]][
// CHECK:             memref.load %[[T2]][
// CHECK:         } else {
// CHECK:           scf.for
// CHECK:             memref.load %[[E1]][
// CHECK:             memref.load %[[E2]][
// CHECK:         memref.dealloc
// CHECK:         memref.dealloc
// CHECK:         memref.dealloc
// CHECK:         memref.dealloc
// CHECK-NEXT:    return

// TOTAL-LABEL: func.func @branchy_grad(
// TOTAL:         %[[COUNTER:.*]] = memref.alloca() : memref<index>
// TOTAL:         %[[COND:.*]] = arith.cmpf ogt
// TOTAL:         %[[LEFT:.*]] = memref.load %[[COUNTER]][]
// TOTAL:         %[[FITS:.*]] = arith.cmpi sle
// TOTAL:         %[[RUNS:.*]] = arith.andi %[[FITS]], %[[COND]] : i1
// TOTAL:         arith.select %[[RUNS]]
// TOTAL:         %[[LEFT2:.*]] = memref.load %[[COUNTER]][]
// TOTAL:         %[[NOT:.*]] = arith.xori %[[COND]], %true
// TOTAL:         %[[FITS2:.*]] = arith.cmpi sle
// TOTAL:         arith.andi %[[FITS2]], %[[NOT]] : i1
// TOTAL:         scf.if %[[COND]]
// TOTAL:           scf.index_switch
// TOTAL:         scf.if %[[COND]]
// TOTAL:           scf.index_switch
// TOTAL:         memref.store %{{.*}}, %[[COUNTER]][]
// TOTAL:         memref.store %{{.*}}, %[[COUNTER]][]
// TOTAL:         return
