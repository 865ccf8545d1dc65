// RUN: rev-opt %s -split-input-file -verify-diagnostics

// expected-error @below {{argument #0 is marked 'rev.const' but is a memref: only scalar arguments can be constants}}
rev.func @memref_const(%X: memref<?xf64> {rev.const}) {
  rev.return
}

// -----

// expected-error @below {{argument #1 is marked 'rev.const' but the function updates it: a constant must be returned as it came}}
rev.func @updated(%x: f64, %k: f64 {rev.const}) -> (f64, f64) {
  %k1 = rev.add %k, %x : f64
  rev.return %x, %k1 : f64, f64
}
