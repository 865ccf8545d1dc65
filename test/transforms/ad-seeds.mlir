// RUN: rev-opt %s --rev-ad --rev-seeds | FileCheck %s
// RUN: rev-opt %s "--rev-ad=adjoint-only=0 fuse-sweeps=0" --rev-seeds | FileCheck %s --check-prefix=PLAIN
// RUN: rev-opt %s --rev-ad --rev-seeds=count=3 | FileCheck %s --check-prefix=THREE
// RUN: rev-opt %s "--rev-ad=adjoint-only=0 fuse-sweeps=0" --rev-seeds=count=3 --rev-to-llvm > /dev/null
// RUN: rev-opt %S/ad-routine-recursive.mlir --rev-ad --rev-seeds | FileCheck %s --check-prefix=REC

// A recursive function whose routine's compute calls itself: the backward
// routine uncalls @g_bwd, which the two-seed copy replaces by the copy being
// built (found by its marker).
// REC-LABEL: rev.func @g_bwd_x2(
// REC: rev.alloc {adjoint}
// REC: rev.alloc {adjoint}
// REC: rev.uncall @g_bwd_x2(

// --rev-seeds: @g_xN takes g's primal arguments once and N sets of its
// adjoint arguments; what depends on the adjoints is copied N times, the
// rest (forward sweep, uncomputation, partial derivatives) runs once.

// A loop carrying a scalar adjoint, linear in the state (adjoint-only): the
// cosine is computed once, the adjoint chain twice (two iter_args, two
// shadow updates), the primal results once.
// CHECK-LABEL: rev.func @f_grad_x2(
// CHECK-SAME: %[[X:[^:]*]]: f64, %[[K:[^:]*]]: f64, %[[N:[^:]*]]: index, %[[A:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xf64>, %[[XB0:[^:]*]]: f64, %[[KB0:[^:]*]]: f64, %[[AB0:[^:]*]]: memref<?xf64>, %[[BB0:[^:]*]]: memref<?xf64>, %[[XB1:[^:]*]]: f64, %[[KB1:[^:]*]]: f64, %[[AB1:[^:]*]]: memref<?xf64>, %[[BB1:[^:]*]]: memref<?xf64>)
// CHECK-SAME: -> (f64, f64, index, f64, f64, f64, f64)
// CHECK-SAME: rev.seeds = 2 : i64, rev.seeds_of = @f_grad
// CHECK: %[[R:.*]]:3 = rev.for reverse %[[I:.*]] = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[XI:.*]] = %[[X]], %[[S0:.*]] = %[[XB0]], %[[S1:.*]] = %[[XB1]]) -> (f64, f64, f64)
// CHECK-DAG: %[[L0:.*]] = memref.load %[[BB0]][%[[I]]]
// CHECK-DAG: %[[L1:.*]] = memref.load %[[BB1]][%[[I]]]
// CHECK-DAG: %[[T0:.*]] = rev.add %[[S0]], %[[L0]]
// CHECK-DAG: %[[T1:.*]] = rev.add %[[S1]], %[[L1]]
// CHECK: math.cos
// CHECK-NOT: math.cos
// CHECK-DAG: rev.add_at %[[AB0]][%[[I]]]
// CHECK-DAG: rev.add_at %[[AB1]][%[[I]]]
// CHECK: rev.yield %[[XI]], %[[T0]], %[[T1]] : f64, f64, f64
// CHECK: rev.return %[[R]]#0, %[[K]], %[[N]], %[[R]]#1, %[[KB0]], %[[R]]#2, %[[KB1]]
// PLAIN-LABEL: rev.func @f_grad_x2(
// PLAIN: rev.call @f(
// PLAIN: rev.call @f_bwd_x2(
// PLAIN-LABEL: rev.func @f_bwd_x2(
// PLAIN-SAME: rev.seeds_of = @f_bwd
// PLAIN: rev.for reverse
// The uncomputation runs once.
// PLAIN: rev.sub_at
// PLAIN-NOT: rev.sub_at
// PLAIN: math.sin
// PLAIN-NOT: math.sin
// PLAIN: rev.sub %
// PLAIN-NOT: rev.sub %
// PLAIN: rev.yield %{{.*}}, %{{.*}}, %{{.*}} : f64, f64, f64
// THREE-LABEL: rev.func @f_grad_x3(
// THREE-SAME: -> (f64, f64, index, f64, f64, f64, f64, f64, f64)
// THREE: rev.for reverse {{.*}} -> (f64, f64, f64, f64)
rev.func @f(%x: f64, %k: f64 {rev.const}, %n: index, %A: memref<?xf64>, %B: memref<?xf64>) -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = rev.for %i = %c0 to %n step %c1 iter_args(%x2 = %x) -> (f64) {
    %a = memref.load %A[%i] : memref<?xf64>
    %s = math.sin %a : f64
    %t = arith.mulf %s, %k : f64
    %x3 = rev.add %x2, %t : f64
    rev.add_at %B[%i], %x3 : memref<?xf64>
    rev.yield %x3 : f64
  }
  rev.return %y, %k, %n : f64, f64, index
}

// A nonlinear update under a rev.if whose branch carries the adjoint of y:
// the rev.if is copied once, with one block argument, yielded value and
// result per seed; the condition and the partial derivative run once.
// CHECK-LABEL: rev.func @g_grad_x2(
// CHECK: rev.call @g(
// CHECK: rev.call @g_bwd_x2(
// CHECK-LABEL: rev.func @g_bwd_x2(
// CHECK-SAME: %[[GX:[^:]*]]: f64, %[[GY:[^:]*]]: f64, %[[GXB0:[^:]*]]: f64, %[[GYB0:[^:]*]]: f64, %[[GXB1:[^:]*]]: f64, %[[GYB1:[^:]*]]: f64)
// CHECK: %[[GR:.*]]:6 = rev.if %[[GX]], %[[GY]], %[[GXB0]], %[[GXB1]], %[[GYB0]], %[[GYB1]] : f64, f64, f64, f64, f64, f64 pre
// CHECK: } then {
// CHECK: %[[E:.*]] = math.exp
// CHECK-NOT: math.exp
// CHECK: rev.sub %{{.*}}, %[[E]]
// CHECK-NOT: rev.sub
// CHECK: arith.mulf %[[E]]
// CHECK: arith.mulf %[[E]]
// CHECK: } else {
// CHECK: arith.negf
// CHECK: arith.negf
// CHECK: rev.return %[[GR]]#0, %[[GR]]#1, %[[GR]]#2, %[[GR]]#4, %[[GR]]#3, %[[GR]]#5
// PLAIN-LABEL: rev.func @g_bwd_x2(
// PLAIN: rev.if
// PLAIN: math.exp
// PLAIN-NOT: math.exp
// PLAIN: } else {
rev.func @g(%x: f64, %y: f64) -> (f64, f64) {
  %zero = arith.constant 0.0 : f64
  %r:2 = rev.if %x, %y : f64, f64 pre {
  ^bb0(%a: f64, %b: f64):
    %c = arith.cmpf ogt, %a, %zero : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64, %b: f64):
    %e = math.exp %a : f64
    %b1 = rev.add %b, %e : f64
    rev.yield %a, %b1 : f64, f64
  } else {
  ^bb0(%a: f64, %b: f64):
    %b1 = rev.sub %b, %a : f64
    rev.yield %a, %b1 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// A routine: copied once; the backward routine's compute holds the adjoint
// ancillas (one per seed) and the primal ancilla (once); sin and cos of the
// ancilla are computed once for both seeds.
// CHECK-LABEL: rev.func @r_bwd_x2(
// CHECK-SAME: %[[RX:[^:]*]]: f64, %[[RY:[^:]*]]: f64, %[[RA:[^:]*]]: memref<2xf64>, %[[RXB0:[^:]*]]: f64, %[[RYB0:[^:]*]]: f64, %[[RAB0:[^:]*]]: memref<2xf64>, %[[RXB1:[^:]*]]: f64, %[[RYB1:[^:]*]]: f64, %[[RAB1:[^:]*]]: memref<2xf64>)
// CHECK: rev.routine %[[RX]], %[[RY]], %[[RXB0]], %[[RXB1]], %[[RYB0]], %[[RYB1]] : f64, f64, f64, f64, f64, f64 compute {
// CHECK: rev.alloc {adjoint} : f64
// CHECK: rev.alloc {adjoint} : f64
// CHECK: rev.alloc : f64
// CHECK-NOT: rev.alloc
// CHECK: rev.sub_at %[[RAB0]]
// CHECK: rev.sub_at %[[RAB1]]
// CHECK: } body {
// CHECK: math.sin
// CHECK-NOT: math.sin
// CHECK: math.cos
// CHECK-NOT: math.cos
// CHECK: memref.load %[[RAB0]]
// CHECK: memref.load %[[RAB1]]
// CHECK: rev.return
rev.func @r(%x: f64, %y: f64, %A: memref<2xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %t = rev.alloc : f64
    %sq = arith.mulf %a, %a : f64
    %t1 = rev.add %t, %sq : f64
    %a0 = memref.load %A[%c0] : memref<2xf64>
    %t2 = rev.add %t1, %a0 : f64
    rev.yield %a, %b, %t2 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64):
    %b1 = rev.add %b, %t : f64
    %s = math.sin %t : f64
    rev.add_at %A[%c1], %s : memref<2xf64>
    rev.yield %a, %b1, %t : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
