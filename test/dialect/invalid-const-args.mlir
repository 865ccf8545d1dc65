// RUN: rev-opt %s -split-input-file -verify-diagnostics

// A constant memref is only read: written directly, through a view, or
// passed to a call (which may write it), it is refused with the writer.
// expected-error @below {{argument #0 is marked 'rev.const' but the function may write it: a constant memref is only read (loads and dims, through views)}}
rev.func @memref_written(%X: memref<?xf64> {rev.const}, %y: f64) -> f64 {
  %c0 = arith.constant 0 : index
  // expected-note @below {{may be written here}}
  rev.add_at %X[%c0], %y : memref<?xf64>
  rev.return %y : f64
}

// -----

// expected-error @below {{argument #0 is marked 'rev.const' but the function may write it}}
rev.func @memref_view_written(%X: memref<?xf64> {rev.const}, %y: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %v = memref.subview %X[1] [2] [1] : memref<?xf64> to memref<2xf64, strided<[1], offset: 1>>
  // expected-note @below {{may be written here}}
  rev.add_at %v[%c0], %y : memref<2xf64, strided<[1], offset: 1>>
  rev.return %y : f64
}

// -----

rev.func @reader(%X: memref<?xf64>, %y: f64) -> f64 {
  rev.return %y : f64
}
// expected-error @below {{argument #0 is marked 'rev.const' but the function may write it}}
rev.func @memref_passed(%X: memref<?xf64> {rev.const}, %y: f64) -> f64 {
  // expected-note @below {{may be written here}}
  %r = rev.call @reader(%X, %y) : (memref<?xf64>, f64) -> f64
  rev.return %r : f64
}

// -----

// Only read: accepted.
rev.func @memref_read(%X: memref<?xf64> {rev.const}, %y: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %x = memref.load %X[%c0] : memref<?xf64>
  %y1 = rev.add %y, %x : f64
  rev.return %y1 : f64
}

// -----

// expected-error @below {{argument #1 is marked 'rev.const' but the function updates it: a constant must be returned as it came}}
rev.func @updated(%x: f64, %k: f64 {rev.const}) -> (f64, f64) {
  %k1 = rev.add %k, %x : f64
  rev.return %x, %k1 : f64, f64
}
