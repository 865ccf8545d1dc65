// The backward sweep recovers earlier values by inverse updates; rev-ad
// marks them (rev.recovery), --lower-rev keeps the mark on their arith
// ops, and --rev-fold-recoveries cancels each against the
// forward op it undoes where that op is in reach: here the routine's
// compute `t = h * x` and the backward's `t / x`, so the gradient divides
// nowhere. fold-recoveries=0 and checked mode keep every recovery as written.
// RUN: rev-opt %s --rev-ad=funcs=sq | rev-opt --rev-expand-routines | FileCheck %s --check-prefix=MARKS
// RUN: rev-opt %s --rev-ad=funcs=sq | rev-opt --rev-expand-routines --lower-rev | FileCheck %s --check-prefix=LOWER
// RUN: rev-opt %s --rev-ad=funcs=sq | rev-opt --rev-expand-routines --lower-rev="mark-recoveries=0" | FileCheck %s --check-prefix=NOFLAGS
// RUN: rev-opt %s --rev-ad=funcs=sq | rev-opt --rev-to-llvm | FileCheck %s --check-prefix=FOLD
// RUN: rev-opt %s --rev-ad=funcs=sq | rev-opt --rev-to-llvm="fold-recoveries=0" | FileCheck %s --check-prefix=KEEP
// RUN: rev-opt %s --rev-ad=funcs=sq | rev-opt --rev-to-llvm="checks=1" | FileCheck %s --check-prefix=CHECKED

rev.func @sq(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %h = arith.mulf %a, %a : f64
    %t0 = rev.alloc : f64
    %t1 = rev.add %t0, %h : f64
    %t2 = rev.mul %t1, %a : f64
    rev.yield %a, %b, %t2 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64):
    %b1 = rev.add %b, %t : f64
    rev.yield %a, %b1, %t : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// The backward routine's compute redoes the forward updates (marked
// rev.recomputation: the inverse of a recovery); its uncompute undoes them
// again (rev.recovery). The adjoint updates (ybar * x) are not marked.
// MARKS-LABEL: rev.func @sq_grad(
// MARKS: %[[H:.*]] = rev.add %{{.*}}, %{{.*}} {rev.recomputation} : f64
// MARKS: %[[T:.*]] = rev.mul %[[H]], %arg0 {rev.recomputation} : f64
// MARKS: %[[R:.*]] = rev.div %[[T]], %arg0 {rev.recovery} : f64
// MARKS: rev.mul %{{.*}}, %arg0 : f64
// MARKS: rev.sub %[[R]], %{{.*}} {rev.recovery} : f64
// MARKS-LABEL: rev.func @sq_bwd(

// LOWER-LABEL: func.func @sq_grad(
// LOWER: %[[T:.*]] = arith.mulf %{{[0-9]+}}, %arg0 : f64
// LOWER: arith.divf %[[T]], %arg0 {rev.recovery} : f64
// LOWER: arith.subf %{{.*}}, %{{.*}} {rev.recovery} : f64
// LOWER-LABEL: func.func @sq_bwd(

// NOFLAGS-LABEL: func.func @sq_grad(
// NOFLAGS-NOT: rev.recovery
// NOFLAGS: return

// FOLD-LABEL: llvm.func @sq_grad(
// FOLD-NOT: llvm.fdiv
// FOLD-NOT: rev.recovery
// FOLD: llvm.return

// KEEP-LABEL: llvm.func @sq_grad(
// KEEP: llvm.fdiv %{{.*}}, %{{.*}} : f64
// KEEP-NOT: rev.recovery
// KEEP: llvm.return

// CHECKED-LABEL: llvm.func @sq_grad(
// CHECKED-NOT: rev.recovery
// CHECKED: llvm.fdiv %{{.*}}, %{{.*}} : f64
// CHECKED: llvm.return
