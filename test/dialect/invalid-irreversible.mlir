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

// -----

// rev.discard drops information: only generated derivative functions use it.
rev.func @user_discard(%x: f64) -> f64 {
  %t = rev.alloc : f64
  %t1 = rev.add %t, %x : f64
  // expected-error @below {{may only appear in generated derivative functions}}
  rev.discard %t1 : f64
  rev.return %x : f64
}

// -----

// The non-injective step y <- y + sin(y) * x[t] of docs/ad.md: not
// reversible in place (it needs a fresh ancilla per step).
rev.func @noninjective(%y: f64, %X: memref<?xf64>, %n: index) -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y) -> (f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %s = math.sin %a : f64
    %d = arith.mulf %s, %x : f64
    // expected-error @below {{delta is computed from the variable it updates}}
    %a1 = rev.add %a, %d : f64
    rev.yield %a1 : f64
  }
  rev.return %r, %n : f64, index
}
