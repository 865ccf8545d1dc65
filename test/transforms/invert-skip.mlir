// RUN: rev-opt %s --rev-invert=skip-uninvertible=1 | FileCheck %s

// With skip-uninvertible, a function that cannot be inverted (here a
// backward function that dropped an ancilla's adjoint) gets no inverse, nor
// does a function whose inverse would uncall it; the others are inverted.

// CHECK-LABEL: rev.func @anc_bwd(
// CHECK-NOT: rev.func @anc_bwd_inv
// CHECK-LABEL: rev.func @caller(
// CHECK-NOT: rev.func @caller_inv
// CHECK-LABEL: rev.func @plain(
// CHECK-LABEL: rev.func @plain_inv(
// CHECK-SAME: attributes {rev.inverse_of = @plain}
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
  rev.discard %tb1 : f64
  rev.return %x, %y0, %xb1, %yb : f64, f64, f64, f64
}

rev.func @caller(%x: f64, %y: f64, %xb: f64, %yb: f64) -> (f64, f64, f64, f64) {
  %r:4 = rev.call @anc_bwd(%x, %y, %xb, %yb) : (f64, f64, f64, f64) -> (f64, f64, f64, f64)
  rev.return %r#0, %r#1, %r#2, %r#3 : f64, f64, f64, f64
}

rev.func @plain(%x: f64, %y: f64) -> (f64, f64) {
  %y1 = rev.add %y, %x : f64
  rev.return %x, %y1 : f64, f64
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
