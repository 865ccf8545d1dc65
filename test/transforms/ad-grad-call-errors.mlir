// RUN: rev-opt %s --rev-ad=funcs=g -split-input-file -verify-diagnostics

// A gradient that a rev.grad_call asks for but --rev-ad cannot build: the
// engine's error at the op, and one at the grad_call that asked for it.

rev.func @g(%y: f64) -> f64 {
  rev.return %y : f64
}
rev.func @floor(%y: f64, %x: f64) -> (f64, f64) {
  // expected-error @below {{'math.floor' op has no derivative rule (PartialDerivativeOpInterface)}}
  %f = math.floor %x : f64
  // expected-note @below {{needed by the adjoint of this op}}
  %y1 = rev.add %y, %f : f64
  rev.return %y1, %x : f64, f64
}
func.func @driver(%y: f64, %x: f64) -> (f64, f64, f64, f64) {
  // expected-error @below {{'rev.grad_call' op asks for the gradient of @floor, which could not be generated (the errors above)}}
  %r:4 = rev.grad_call @floor(%y, %x, %y, %x) : (f64, f64, f64, f64) -> (f64, f64, f64, f64)
  return %r#0, %r#1, %r#2, %r#3 : f64, f64, f64, f64
}

// -----

// The two-seed copy of a gradient that --rev-seeds cannot copy (checkpointed
// steps have no N-seed form yet): the Seeder's error, and one at the
// grad_call.
rev.func @g(%y: f64) -> f64 {
  rev.return %y : f64
}
rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %k: f64) -> (index, f64) {
  %c0 = arith.constant 0 : index
  %y = memref.load %old[%c0] : memref<?xf64>
  %s = math.sin %y : f64
  %e = arith.mulf %s, %k : f64
  %v = arith.addf %y, %e : f64
  rev.add_at %new[%c0], %v : memref<?xf64>
  rev.return %t, %k : index, f64
}
// expected-error @+1 {{'rev.call' op calls @run_bwd, whose N-seed function could not be built}}
rev.func @run(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'rev.steps_adjoint' op depends on the adjoints and may write its operand #5, a memref that is not (or may not be) an adjoint buffer}}
  rev.steps @step %c0 to %T, %a into %b (%k) {snapshots = 3} : memref<?xf64>, f64
  rev.return %T, %k : index, f64
}
func.func @driver(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>,
                  %da: memref<?xf64>, %db: memref<?xf64>, %da2: memref<?xf64>, %db2: memref<?xf64>) {
  // expected-error @below {{'rev.grad_call' op asks for the 2-seed gradient of @run, which could not be built (the errors above)}}
  %r:4 = rev.grad_call @run(%T, %k, %a, %b, %k, %da, %db, %k, %da2, %db2) seeds 2
      : (index, f64, memref<?xf64>, memref<?xf64>, f64, memref<?xf64>, memref<?xf64>, f64, memref<?xf64>, memref<?xf64>) -> (index, f64, f64, f64)
  return
}

// -----

// @h only reads A and B, so the verifier lets one memref pass as both; but
// its gradient (not adjoint-only: the adjoint update reads C, which @h
// writes) runs @h forwards with a rev.call, which counts as writing them.
rev.func @g(%y: f64) -> f64 {
  rev.return %y : f64
}
rev.func @h(%y: f64, %A: memref<?xf64>, %B: memref<?xf64>, %C: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %a = memref.load %A[%c0] : memref<?xf64>
  %b = memref.load %B[%c0] : memref<?xf64>
  %p = arith.mulf %a, %b : f64
  rev.add_at %C[%c0], %p : memref<?xf64>
  %c = memref.load %C[%c0] : memref<?xf64>
  %q = math.sin %c : f64
  %y1 = rev.add %y, %q : f64
  rev.return %y1 : f64
}
func.func @d(%y: f64, %A: memref<?xf64>, %C: memref<?xf64>, %dy: f64, %dA: memref<?xf64>,
             %dB: memref<?xf64>, %dC: memref<?xf64>) -> f64 {
  // expected-error @below {{'rev.grad_call' op passes the same memref as operands #1 and #2 and @h_grad writes (or passes to a call) one of them: aliasing is not reversible}}
  %r:2 = rev.grad_call @h(%y, %A, %A, %C, %dy, %dA, %dB, %dC) : (f64, memref<?xf64>, memref<?xf64>, memref<?xf64>, f64, memref<?xf64>, memref<?xf64>, memref<?xf64>) -> (f64, f64)
  return %r#1 : f64
}
