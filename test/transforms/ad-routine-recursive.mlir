// A routine whose compute calls the function itself: the backward function
// is still being built when the routine's adjoint asks whether it can be
// inverted (found by scripts/fuzz.py: an assertion in invertBlock). Its
// inverse is left to the lowering, as for any recursive call.
// RUN: rev-opt %s --rev-ad | FileCheck %s
// RUN: rev-opt %s --rev-ad --rev-to-llvm | FileCheck %s --check-prefix=LOWERED

// CHECK-LABEL: rev.func @g_bwd
// CHECK: rev.routine
// CHECK: rev.uncall @g_bwd
// LOWERED: llvm.func @g_bwd_inv
rev.func @g(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %u0 = rev.alloc : f64
    %c:2 = rev.call @g(%a, %u0) : (f64, f64) -> (f64, f64)
    rev.yield %c#0, %b, %c#1 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %u: f64):
    %b1 = rev.add %b, %u : f64
    rev.yield %a, %b1, %u : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
