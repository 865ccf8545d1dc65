// RUN: rev-opt %s -split-input-file -verify-diagnostics

rev.func @use_after_consume(%x: f64, %y: f64) -> (f64, f64) {
  // expected-note @below {{consumed here}}
  %y1 = rev.add %y, %x : f64
  // expected-error @below {{uses a variable version after it was consumed (operand #0)}}
  %z = arith.addf %y, %x : f64
  %y2 = rev.add %y1, %z : f64
  rev.return %x, %y2 : f64, f64
}

// -----

rev.func @consumed_twice(%x: f64, %y: f64) -> (f64, f64) {
  // expected-note @below {{first consumed here}}
  %y1 = rev.add %y, %x : f64
  // expected-error @below {{updated operand #0 was already consumed}}
  %y2 = rev.sub %y, %x : f64
  rev.return %y1, %y2 : f64, f64
}

// -----

rev.func @returned_twice(%x: f64, %y: f64) -> (f64, f64) {
  // expected-error @below {{operand #1 was already consumed}}
  // expected-note @below {{first consumed here}}
  rev.return %x, %x : f64, f64
}

// -----

rev.func @leaked_ancilla(%x: f64) -> f64 {
  // expected-error @below {{variable version is never consumed}}
  %t = rev.alloc : f64
  rev.return %x : f64
}

// -----

rev.func @update_pure_value(%x: f64) -> f64 {
  %c = arith.constant 1.0 : f64
  // expected-error @below {{updated operand #0 is not a variable}}
  %c1 = rev.add %c, %x : f64
  rev.return %c1 : f64
}

// -----

rev.func @return_pure_value(%x: f64) -> f64 {
  %c = arith.mulf %x, %x : f64
  // expected-error @below {{operand #0 is not a variable}}
  rev.return %c : f64
}

// -----

rev.func @update_outer_variable(%x: f64, %y: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  rev.for %i = %c0 to %c4 step %c1 {
    // expected-error @below {{updated operand #0 is a variable defined outside this region}}
    %y1 = rev.add %y, %x : f64
    rev.yield
  }
  rev.return %x, %y : f64, f64
}
