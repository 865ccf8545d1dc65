// RUN: rev-opt %s -split-input-file -verify-diagnostics

rev.func @missing(%x: f64) -> f64 {
  // expected-error @below {{callee @nowhere does not exist}}
  %r = rev.call @nowhere(%x) : (f64) -> f64
  rev.return %r : f64
}

// -----

func.func @plain(%x: f64) -> f64 {
  return %x : f64
}

rev.func @uncall_plain(%x: f64) -> f64 {
  // expected-error @below {{callee @plain is a 'func.func', not a rev.func: only reversible functions can be uncalled}}
  %r = rev.uncall @plain(%x) : (f64) -> f64
  rev.return %r : f64
}

// -----

rev.func @g(%x: f64, %k: i64) -> (f64, i64) {
  rev.return %x, %k : f64, i64
}

rev.func @wrong_operands(%x: f64, %k: i32) -> (f64, i32) {
  // expected-error @below {{operand types ('f64', 'i32') do not match @g's arguments ('f64', 'i64')}}
  %r:2 = rev.call @g(%x, %k) : (f64, i32) -> (f64, i32)
  rev.return %r#0, %r#1 : f64, i32
}

// -----

rev.func @g2(%x: f64) -> f64 {
  rev.return %x : f64
}

rev.func @wrong_results(%x: f64) -> f64 {
  // expected-error @below {{results must be the final versions of the scalar operands, in order}}
  %r = rev.call @g2(%x) : (f64) -> i64
  %y = arith.sitofp %r : i64 to f64
  rev.return %x : f64
}
