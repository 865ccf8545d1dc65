// --rev-fold-recoveries on hand-written functions: a marked recovery (or an
// op with `reassoc`) that undoes the op making its operand becomes that
// op's other operand; loads are forwarded first where no write of their
// memory comes between; the marks are dropped.
// RUN: rev-opt %s --rev-fold-recoveries --split-input-file | FileCheck %s

// The four inverse pairs, either operand order of the commutative forward op.
// CHECK-LABEL: func.func @pairs(
// CHECK-SAME: %[[A:[^:]*]]: f64, %[[B:[^:]*]]: f64)
// CHECK-NEXT: return %[[A]], %[[A]], %[[A]], %[[A]], %[[A]], %[[A]] :
func.func @pairs(%a: f64, %b: f64) -> (f64, f64, f64, f64, f64, f64) {
  %m = arith.mulf %a, %b : f64
  %r1 = arith.divf %m, %b {rev.recovery} : f64
  %m2 = arith.mulf %b, %a : f64
  %r2 = arith.divf %m2, %b {rev.recovery} : f64
  %d = arith.divf %a, %b : f64
  %r3 = arith.mulf %d, %b {rev.recovery} : f64
  %s = arith.addf %b, %a : f64
  %r4 = arith.subf %s, %b {rev.recovery} : f64
  %t = arith.subf %a, %b : f64
  %r5 = arith.addf %b, %t {rev.recovery} : f64
  %r6 = arith.addf %t, %b fastmath<fast> : f64
  return %r1, %r2, %r3, %r4, %r5, %r6 : f64, f64, f64, f64, f64, f64
}

// -----

// Unmarked without reassoc (an exact op, or only arcp), and for a different divisor
// or a division whose dividend is the divisor's quotient, nothing changes.
// CHECK-LABEL: func.func @kept(
// CHECK: %[[M:.*]] = arith.mulf
// CHECK-NEXT: arith.divf %[[M]], %{{[a-z0-9_]+}} : f64
// CHECK-NEXT: arith.divf %[[M]], %{{[a-z0-9_]+}} fastmath<arcp> : f64
// CHECK-NEXT: arith.divf %[[M]], %{{[a-z0-9_]+}} : f64
// CHECK-NEXT: %[[D:.*]] = arith.divf %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} : f64
// CHECK-NEXT: arith.divf %[[D]], %{{[a-z0-9_]+}} : f64
func.func @kept(%a: f64, %b: f64, %c: f64) -> (f64, f64, f64, f64) {
  %m = arith.mulf %a, %b : f64
  %r1 = arith.divf %m, %b : f64
  %r2 = arith.divf %m, %b fastmath<arcp> : f64
  %r3 = arith.divf %m, %c {rev.recovery} : f64
  %d = arith.divf %a, %b : f64
  %r4 = arith.divf %d, %b {rev.recovery} : f64
  return %r1, %r2, %r3, %r4 : f64, f64, f64, f64
}

// -----

// A chain (the backward of a series' terms) folds in one walk; the
// divisor reloaded from memory after a store to another argument of a
// lowered rev function (rev.noalias_arg_count) is the forward's load.
// CHECK-LABEL: func.func @chain(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[G:[^:]*]]: memref<?xf64>, %[[T:[^:]*]]: f64
// CHECK: %[[D:.*]] = memref.load %[[X]]
// CHECK-NOT: memref.load %[[X]]
// CHECK-NOT: arith.divf
// CHECK: return %[[T]] : f64
func.func @chain(%x: memref<?xf64>, %g: memref<?xf64>, %t: f64) -> f64
    attributes {rev.noalias_arg_count = 10 : i64} {
  %c0 = arith.constant 0 : index
  %d = memref.load %x[%c0] : memref<?xf64>
  %t1 = arith.mulf %t, %d : f64
  %t2 = arith.mulf %t1, %d : f64
  memref.store %t2, %g[%c0] : memref<?xf64>
  %e = memref.load %x[%c0] : memref<?xf64>
  %r2 = arith.divf %t2, %e {rev.recovery} : f64
  %r1 = arith.divf %r2, %e {rev.recovery} : f64
  return %r1 : f64
}

// -----

// No forwarding across a store that may write the loaded memory: the same
// memref, another argument of a function not lowered from rev (the two may
// be one buffer), or a call; so the recovery stays.
// CHECK-LABEL: func.func @same_memref(
// CHECK: memref.store
// CHECK: %[[E:.*]] = memref.load
// CHECK: arith.divf %{{.*}}, %[[E]] :
func.func @same_memref(%x: memref<?xf64>, %t: f64, %i: index) -> f64
    attributes {rev.noalias_arg_count = 10 : i64} {
  %c0 = arith.constant 0 : index
  %d = memref.load %x[%c0] : memref<?xf64>
  %t1 = arith.mulf %t, %d : f64
  memref.store %t1, %x[%i] : memref<?xf64>
  %e = memref.load %x[%c0] : memref<?xf64>
  %r = arith.divf %t1, %e {rev.recovery} : f64
  return %r : f64
}
// CHECK-LABEL: func.func @plain_func(
// CHECK: memref.store
// CHECK: %[[E:.*]] = memref.load
// CHECK: arith.divf %{{.*}}, %[[E]] :
func.func @plain_func(%x: memref<?xf64>, %g: memref<?xf64>, %t: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %d = memref.load %x[%c0] : memref<?xf64>
  %t1 = arith.mulf %t, %d : f64
  memref.store %t1, %g[%c0] : memref<?xf64>
  %e = memref.load %x[%c0] : memref<?xf64>
  %r = arith.divf %t1, %e {rev.recovery} : f64
  return %r : f64
}
func.func private @touch(memref<?xf64>)
// CHECK-LABEL: func.func @call_between(
// CHECK: call @touch
// CHECK: %[[E:.*]] = memref.load
// CHECK: arith.divf %{{.*}}, %[[E]] :
func.func @call_between(%x: memref<?xf64>, %g: memref<?xf64>, %t: f64) -> f64
    attributes {rev.noalias_arg_count = 10 : i64} {
  %c0 = arith.constant 0 : index
  %d = memref.load %x[%c0] : memref<?xf64>
  %t1 = arith.mulf %t, %d : f64
  call @touch(%g) : (memref<?xf64>) -> ()
  %e = memref.load %x[%c0] : memref<?xf64>
  %r = arith.divf %t1, %e {rev.recovery} : f64
  return %r : f64
}
// A value stored is the value a later load of that element reads.
// CHECK-LABEL: func.func @store_to_load(
// CHECK-SAME: %[[T:[^:]*]]: f64
// CHECK-NOT: arith.divf
// CHECK: return %[[T]] : f64
func.func @store_to_load(%x: memref<?xf64>, %t: f64, %d: f64) -> f64
    attributes {rev.noalias_arg_count = 10 : i64} {
  %c0 = arith.constant 0 : index
  %t1 = arith.mulf %t, %d : f64
  memref.store %t1, %x[%c0] : memref<?xf64>
  %y = memref.load %x[%c0] : memref<?xf64>
  %r = arith.divf %y, %d {rev.recovery} : f64
  return %r : f64
}

// -----

// Folding can leave a whole loop dead (its result was only the divisor of a
// folded recovery) around a folded recovery of its own: both go, once.
// CHECK-LABEL: func.func @dead_loop(
// CHECK-SAME: %[[A:[^:]*]]: f64
// CHECK-NOT: scf.for
// CHECK: return %[[A]] : f64
func.func @dead_loop(%a: f64, %b: f64, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%x = %b) -> (f64) {
    %m2 = arith.mulf %x, %a : f64
    %q2 = arith.divf %m2, %a {rev.recovery} : f64
    %y = arith.addf %q2, %a : f64
    scf.yield %y : f64
  }
  %m = arith.mulf %a, %r : f64
  %q = arith.divf %m, %r {rev.recovery} : f64
  return %q : f64
}

// -----

// Only the entry block's arguments are the function's arguments: a block
// argument bound to %A may be %A, so the load after the store to it stays.
// CHECK-LABEL: func.func @block_argument(
// CHECK: memref.store
// CHECK-NEXT: %[[Y:.*]] = memref.load
// CHECK-NEXT: return %[[Y]]
func.func @block_argument(%A: memref<2xf64>, %b: f64) -> f64 attributes {rev.noalias_arg_count = 7 : i64} {
  cf.br ^bb1(%A : memref<2xf64>)
^bb1(%m: memref<2xf64>):
  %c0 = arith.constant 0 : index
  %x = memref.load %A[%c0] : memref<2xf64>
  %p = arith.mulf %x, %b : f64
  memref.store %p, %m[%c0] : memref<2xf64>
  %y = memref.load %A[%c0] : memref<2xf64>
  %q = arith.divf %y, %b {rev.recovery} : f64
  return %y : f64
}
