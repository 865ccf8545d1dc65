// RUN: rev-opt %s --rev-fwd -split-input-file -verify-diagnostics

// Forward mode refuses what reverse mode refuses (ad-errors.mlir): an op
// without a derivative rule, and a float computed by a pure region op from a
// varying float it reads inside (its tangent would be dropped).
rev.func @floor(%y: f64, %x: f64) -> (f64, f64) {
  // expected-error @below {{'math.floor' op has no derivative rule (PartialDerivativeOpInterface)}}
  %f = math.floor %x : f64
  // expected-note @below {{needed by the tangent of this op}}
  %y1 = rev.add %y, %f : f64
  rev.return %y1, %x : f64, f64
}

// -----

rev.func @region_delta(%y: f64, %x: f64) -> (f64, f64) {
  // expected-error @below {{'scf.execute_region' op cannot differentiate: this op computes a float from values it reads inside its regions}}
  %z = scf.execute_region -> f64 {
    %h = arith.mulf %x, %x : f64
    scf.yield %h : f64
  }
  // expected-note @below {{needed by the tangent of this op}}
  %y1 = rev.add %y, %z : f64
  rev.return %y1, %x : f64, f64
}
