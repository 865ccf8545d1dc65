// RUN: rev-opt %s --rev-invert -verify-diagnostics

// Inverting a backward function that dropped an ancilla's adjoint outside a
// routine is refused: the dropped value cannot be recovered.
rev.func @anc_bwd(%x: f64, %y: f64, %xb: f64, %yb: f64) -> (f64, f64, f64, f64)
    attributes {rev.backward_of = @anc} {
  %t = rev.alloc : f64
  %tb = rev.alloc {adjoint} : f64
  %t1 = rev.add %t, %x : f64
  %y0 = rev.sub %y, %t1 : f64
  %tb1 = rev.add %tb, %yb : f64
  %t2 = rev.sub %t1, %x : f64
  %xb1 = rev.add %xb, %tb1 : f64
  rev.free %t2 : f64
  // expected-error @below {{cannot be inverted: rev.discard dropped an ancilla's adjoint}}
  rev.discard %tb1 : f64
  rev.return %x, %y0, %xb1, %yb : f64, f64, f64, f64
}

// The function @anc_bwd is the backward sweep of (its marker is checked
// against this signature).
rev.func @anc(%x: f64, %y: f64) -> (f64, f64) {
  %t = rev.alloc : f64
  %t1 = rev.add %t, %x : f64
  %y1 = rev.add %y, %t1 : f64
  %t2 = rev.sub %t1, %x : f64
  rev.free %t2 : f64
  rev.return %x, %y1 : f64, f64
}
