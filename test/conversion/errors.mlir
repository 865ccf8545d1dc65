// RUN: rev-opt %s --lower-rev -split-input-file -verify-diagnostics
// RUN: not rev-opt %s --lower-rev=check-lowering=nope -split-input-file 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: --lower-rev: check-lowering must be 'libc', 'runtime' or 'assert', got 'nope'

rev.func @f(%x: f64) -> f64 {
  %c = arith.constant 1.0 : f64
  %x1 = rev.add %x, %c : f64
  rev.return %x1 : f64
}
rev.func @g(%x: f64) -> f64 {
  // expected-error @below {{must be expanded before --lower-rev}}
  %x1 = rev.uncall @f(%x) : (f64) -> f64
  rev.return %x1 : f64
}

// -----

// The libc mapping declares write/exit: a symbol of that name that is
// something else is an error, never a wrong call.
// expected-note @below {{symbol defined here}}
func.func private @write(f64) -> f64
rev.func @h(%y: f64, %d: f64) -> (f64, f64) {
  %z = arith.constant 0.0 : f64
  %ok = arith.cmpf une, %d, %z : f64
  // expected-error @below {{symbol @write is reserved by checked mode}}
  // expected-error @below {{failed to legalize operation 'rev.check'}}
  rev.check %ok, "zero divisor" for "rev.div"
  %y1 = rev.div %y, %d : f64
  rev.return %y1, %d : f64, f64
}

// -----

// A gradient call that --rev-ad did not resolve (it generates @f_grad).
rev.func @f(%x: f64) -> f64 {
  rev.return %x : f64
}
func.func @driver(%x: f64) -> (f64, f64) {
  // expected-error @below {{'rev.grad_call' op must be resolved before --lower-rev: run --rev-ad, which generates the gradient of @f and calls it}}
  %r:2 = rev.grad_call @f(%x, %x) : (f64, f64) -> (f64, f64)
  return %r#0, %r#1 : f64, f64
}
