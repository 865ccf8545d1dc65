// RUN: rev-opt %s --lower-rev=check-lowering=runtime -verify-diagnostics

// The runtime mapping declares __rev_check_failed(i64, i64): a symbol of that
// name that is something else is an error, never a wrong call.
// expected-note @below {{symbol defined here}}
func.func private @__rev_check_failed(f64)
rev.func @h(%y: f64, %d: f64) -> (f64, f64) {
  %z = arith.constant 0.0 : f64
  %ok = arith.cmpf une, %d, %z : f64
  // expected-error @below {{symbol @__rev_check_failed is reserved by checked mode (rev runtime}}
  // expected-error @below {{failed to legalize operation 'rev.check'}}
  rev.check %ok, "zero divisor" for "rev.div"
  %y1 = rev.div %y, %d : f64
  rev.return %y1, %d : f64, f64
}
