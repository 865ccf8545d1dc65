// RUN: rev-opt %s --rev-ad=funcs=run --lower-rev --canonicalize | FileCheck %s
// RUN: rev-opt %s --rev-ad=funcs=run --rev-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: rev-opt %s --rev-ad=funcs=run --rev-insert-checks | FileCheck %s --check-prefix=CHECKED
// RUN: rev-opt %s --rev-ad=funcs=run --rev-insert-checks --lower-rev | FileCheck %s --check-prefix=CHECKED-LOWER
// RUN: rev-opt %s --rev-ad=funcs=bennett --lower-rev --canonicalize | FileCheck %s --check-prefix=BENNETT
// RUN: rev-opt %s --rev-ad=funcs=bennett --rev-insert-checks --lower-rev | FileCheck %s --check-prefix=BENNETT-CHECKED
// RUN: rev-opt %s --rev-ad=funcs=bennett --rev-to-llvm > /dev/null

// rev.steps lowers to two working buffers that swap roles through scf.for
// iter_args, then out += state; rev.steps_adjoint to the checkpointing loop
// (scf.while over an explicit stack of frames) calling the step and its
// backward function, with the counters in a public global.

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %k: f64,
               %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  %y = memref.load %old[%c0] : memref<?xf64>
  %x = memref.load %xs[%t] : memref<?xf64>
  %s = math.sin %y : f64
  %d = arith.mulf %s, %x : f64
  %e = arith.mulf %d, %k : f64
  %v = arith.addf %y, %e : f64
  rev.add_at %new[%c0], %v : memref<?xf64>
  rev.return %t, %k : index, f64
}

// CHECK: memref.global @_mlir_rev_steps_counts : memref<8xi64> = dense<0>

// CHECK-LABEL: func.func @run(
// CHECK: %[[CUR:.*]] = memref.alloc
// CHECK: %[[NXT:.*]] = memref.alloc
// CHECK: %[[FIN:.*]]:2 = scf.for %[[T:.*]] = {{.*}} iter_args(%[[A:.*]] = %[[CUR]], %[[B:.*]] = %[[NXT]])
// CHECK:   memref.store %{{.*}}, %[[B]]
// CHECK:   func.call @step(%[[T]], %[[A]], %[[B]],
// CHECK:   scf.yield %[[B]], %[[A]]
// CHECK: memref.load %[[FIN]]#0
// CHECK: arith.addf
// CHECK: memref.dealloc %[[CUR]]
// CHECK: memref.dealloc %[[NXT]]

// CHECK-LABEL: func.func @run_grad(
// CHECK-LABEL: func.func @run_bwd(
// The checkpointed adjoint: c from the budget rule, the frame loop.
// CHECK: memref.get_global @_mlir_rev_steps_counts
// CHECK: scf.while
// CHECK: scf.if
// Split: save, advance (working buffers swap roles), push.
// CHECK: scf.for {{.*}} iter_args
// CHECK: func.call @step(
// CHECK: } else {
// Leaf: only the first (at ub - 1) recomputes the final state, for the
// uncompute of out (the step only adds to its new state); then the step's
// backward function.
// CHECK: %[[FIRST:.*]] = arith.cmpi eq
// CHECK: scf.if %[[FIRST]] {
// CHECK:   func.call @step(
// CHECK:   arith.subf
// CHECK: func.call @step_bwd(

// Checked mode: sizes, and the recomputed states compared along the way.
// CHECKED-LABEL: rev.func @run(
// CHECKED: rev.check %{{.*}}, "'out' does not have the size of 'init'" for "rev.steps"
// CHECKED-LABEL: rev.func @run_bwd(
// CHECKED: rev.check %{{.*}}, "a shadow or 'out' does not have the size of 'init'" for "rev.steps_adjoint"
// CHECKED: rev.steps_adjoint {{.*}}check_atol = 1.000000e-08
// CHECKED-LOWER-LABEL: func.func @run_bwd(
// CHECKED-LOWER: scf.while
// CHECKED-LOWER: math.absf
// CHECKED-LOWER: arith.cmpf ugt
// CHECKED-LOWER: memref.get_global @__rev_check_msg_

// LLVM: llvm.mlir.global external @_mlir_rev_steps_counts
// LLVM-LABEL: llvm.func @run_bwd(
// LLVM: llvm.call @step_bwd(
rev.func @run(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>,
              %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %a into %b (%k, %xs) : memref<?xf64>, f64, memref<?xf64>
  rev.return %T, %k : index, f64
}

// schedule = "bennett": b = ceil(T^(1/3)) by binary search, the pebbles as
// views into one byte buffer of k (b-1) states, a stack of (k + 2) frames of
// 7 indices, one scf.while: a one-step frame computes into a zeroed pebble,
// or uncomputes (the step into the zeroed scratch state, subtracted from the
// pebble or, for the final state, from `out`) and, in the gradient's frames,
// calls the step's backward function; a longer frame pushes its next chunk.
// BENNETT-LABEL: func.func @bennett_bwd(
// BENNETT: memref.get_global @_mlir_rev_steps_counts : memref<8xi64>
// BENNETT: scf.while
// BENNETT: arith.ceildivui
// BENNETT: %[[PEBBLES:.*]] = memref.alloc(%{{.*}}) : memref<?xi8>
// BENNETT: %[[SCRATCH:.*]] = memref.alloc(%{{.*}}) : memref<?xf64>
// BENNETT: %[[STACK:.*]] = memref.alloc() : memref<35xindex>
// BENNETT: scf.while
// BENNETT: scf.if
// BENNETT: %[[OLD:.*]] = memref.view %[[PEBBLES]][%{{.*}}][%{{.*}}] : memref<?xi8> to memref<?xf64>
// BENNETT: arith.select %{{.*}}, %{{.*}}, %[[OLD]] : memref<?xf64>
// BENNETT: scf.if
// BENNETT: %[[INTO:.*]] = memref.view %[[PEBBLES]]
// BENNETT: memref.store %{{.*}}, %[[INTO]]
// BENNETT: func.call @step(%{{.*}}, %{{.*}}, %[[INTO]],
// BENNETT: } else {
// BENNETT: memref.store %{{.*}}, %[[SCRATCH]]
// BENNETT: func.call @step(%{{.*}}, %{{.*}}, %[[SCRATCH]],
// BENNETT: arith.subf
// BENNETT: } else {
// BENNETT: memref.view %[[PEBBLES]]
// BENNETT: arith.subf
// BENNETT: func.call @step_bwd(
// BENNETT: } else {
// BENNETT: memref.store %{{.*}}, %[[STACK]]
// BENNETT: memref.store %c3_i64, %{{.*}}[%c7] : memref<8xi64>
// BENNETT: memref.dealloc %[[PEBBLES]]

// Checked mode: every uncomputed pebble must be zero within check_atol.
// BENNETT-CHECKED-LABEL: func.func @bennett_bwd(
// BENNETT-CHECKED: scf.while
// BENNETT-CHECKED: func.call @step(
// BENNETT-CHECKED: arith.subf
// BENNETT-CHECKED: math.absf
// BENNETT-CHECKED: arith.cmpf ugt
// BENNETT-CHECKED: memref.get_global @__rev_check_msg_
// BENNETT-CHECKED: func.call @step_bwd(
rev.func @bennett(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>,
                  %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %a into %b (%k, %xs) {schedule = "bennett", levels = 3} : memref<?xf64>, f64, memref<?xf64>
  rev.return %T, %k : index, f64
}
