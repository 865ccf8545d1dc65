// RUN: rev-opt %s -split-input-file -verify-diagnostics

rev.func @store(%A: memref<4xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{is not reversible: it changes state but has no inverse}}
  memref.store %x, %A[%c0] : memref<4xf64>
  rev.return %x : f64
}

// -----

func.func private @opaque(f64) -> f64

rev.func @opaque_call(%x: f64) -> f64 {
  // expected-error @below {{is not reversible: it changes state but has no inverse}}
  %y = func.call @opaque(%x) : (f64) -> f64
  rev.return %x : f64
}
