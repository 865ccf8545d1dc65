// RUN: rev-opt %s --rev-ad -split-input-file -verify-diagnostics
// RUN: not rev-opt %s --rev-ad=funcs=nope -split-input-file 2>&1 | FileCheck %s --check-prefix=NAME

// NAME: error: --rev-ad: no rev.func named @nope

// An op without a derivative rule in a delta: located at the op, with a note
// at the update that needs it.
rev.func @floor(%y: f64, %x: f64) -> (f64, f64) {
  // expected-error @below {{'math.floor' op has no derivative rule (PartialDerivativeOpInterface)}}
  %f = math.floor %x : f64
  // expected-note @below {{needed by the adjoint of this op}}
  %y1 = rev.add %y, %f : f64
  rev.return %y1, %x : f64, f64
}
