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

// -----

// A float computed inside a pure region op from what its region reads (here
// a load): no derivative rule sees inside it, so it is refused (it used to
// count as a constant and drop Z's adjoint).
rev.func @region_delta(%y: f64, %Z: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{'scf.execute_region' op cannot differentiate: this op computes a float from values it reads inside its regions or from memory other than by memref.load}}
  %z = scf.execute_region -> f64 {
    %l = memref.load %Z[%c0] : memref<?xf64>
    scf.yield %l : f64
  }
  // expected-note @below {{needed by the adjoint of this op}}
  %y1 = rev.add %y, %z : f64
  rev.return %y1 : f64
}

// -----

// The same for a float read from memory by another op than memref.load.
rev.func @affine_delta(%y: f64, %Z: memref<?xf64>) -> f64 {
  // expected-error @below {{'affine.load' op cannot differentiate}}
  %z = affine.load %Z[0] : memref<?xf64>
  // expected-note @below {{needed by the adjoint of this op}}
  %y1 = rev.add %y, %z : f64
  rev.return %y1 : f64
}
