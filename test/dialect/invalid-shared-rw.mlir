// RUN: rev-opt %s -split-input-file -verify-diagnostics

rev.func @self_update(%y: f64) -> f64 {
  %s = math.sin %y : f64
  // expected-error @below {{delta is computed from the variable it updates}}
  %y1 = rev.add %y, %s : f64
  rev.return %y1 : f64
}

// -----

rev.func @self_square(%y: f64) -> f64 {
  // expected-error @below {{delta is computed from the variable it updates}}
  %y1 = rev.mul %y, %y : f64
  rev.return %y1 : f64
}

// -----

rev.func @rot_angle(%a: f64, %b: f64) -> (f64, f64) {
  %t = arith.negf %a : f64
  // expected-error @below {{angle is computed from a rotated variable}}
  %r:2 = rev.rot %a, %b, %t : f64
  rev.return %r#0, %r#1 : f64, f64
}

// -----

rev.func @swap_self(%a: f64) -> f64 {
  // expected-error @below {{swaps a variable with itself}}
  %r:2 = rev.swap %a, %a : f64
  rev.return %r#0 : f64
}

// -----

rev.func @loop_reads_threaded(%x: f64, %y: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  // expected-note @below {{consumed here}}
  %r = rev.for %i = %c0 to %c4 step %c1 iter_args(%a = %y) -> (f64) {
    // expected-error @below {{reads a variable version that the enclosing 'rev.for' consumes}}
    %a1 = rev.add %a, %y : f64
    rev.yield %a1 : f64
  }
  rev.return %x, %r : f64, f64
}
