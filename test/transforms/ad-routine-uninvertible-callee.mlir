// The adjoint of a routine is a routine (compute = the inverse of bwd(compute))
// when every function it needs to invert can be inverted; a callee with an
// ancilla outside a routine has a backward function that cannot be
// (../shared/repro/grad_routine_calls_ancilla_fn.mlir). Then the three sweeps
// bwd(compute^-1), bwd(body), bwd(compute) are emitted in sequence: the
// first-order gradient still compiles (and is right: test_hardening_rev.py).
// RUN: rev-opt %s --rev-ad=funcs=f | FileCheck %s
// RUN: rev-opt %s --rev-ad=funcs=f --rev-to-llvm | FileCheck %s --check-prefix=LOWERED
// RUN: rev-opt %s --rev-ad=funcs=g | FileCheck %s --check-prefix=ROUTINE

rev.func @h(%a: f64, %b: f64) -> (f64, f64) {
  %t0 = rev.alloc : f64
  %s = math.sin %a : f64
  %t1 = rev.add %t0, %s : f64
  %d = arith.mulf %t1, %t1 : f64
  %b1 = rev.add %b, %d : f64
  %s2 = math.sin %a : f64
  %t2 = rev.sub %t1, %s2 : f64
  rev.free %t2 : f64
  rev.return %a, %b1 : f64, f64
}

// CHECK-LABEL: rev.func @f_bwd
// CHECK-NOT: rev.routine
// CHECK: %[[U:.*]] = rev.alloc : f64
// CHECK: rev.call @h_inv_bwd(%{{.*}}, %[[U]],
// CHECK: rev.sub
// CHECK: rev.call @h_bwd(
// CHECK: rev.free
// CHECK: rev.discard
// LOWERED: llvm.func @f_grad
rev.func @f(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %u0 = rev.alloc : f64
    %c:2 = rev.call @h(%a, %u0) : (f64, f64) -> (f64, f64)
    rev.yield %c#0, %b, %c#1 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %u: f64):
    %b1 = rev.add %b, %u : f64
    rev.yield %a, %b1, %u : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// A callee without a loose ancilla: the adjoint stays a routine.
// ROUTINE-LABEL: rev.func @g_bwd
// ROUTINE: rev.routine
// ROUTINE: compute
// ROUTINE: rev.uncall @k_bwd
rev.func @k(%a: f64, %b: f64) -> (f64, f64) {
  %s = math.sin %a : f64
  %b1 = rev.add %b, %s : f64
  rev.return %a, %b1 : f64, f64
}
rev.func @g(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %u0 = rev.alloc : f64
    %c:2 = rev.call @k(%a, %u0) : (f64, f64) -> (f64, f64)
    rev.yield %c#0, %b, %c#1 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %u: f64):
    %b1 = rev.add %b, %u : f64
    rev.yield %a, %b1, %u : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
