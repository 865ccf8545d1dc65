// RUN: rev-opt %s -split-input-file -verify-diagnostics

rev.func @mismatch(%x: f64, %y: f32) -> (f64, f32) {
  // expected-error @below {{all of {target, delta, result} have same type}}
  %y1 = "rev.add"(%y, %x) : (f32, f64) -> f32
  rev.return %x, %y1 : f64, f32
}

// -----

// expected-error @below {{results must be the scalar (non-memref) argument types in order}}
rev.func @bad_results(%x: f64, %A: memref<4xf64>) -> (f64, f64) {
  rev.return %x, %x : f64, f64
}

// -----

rev.func @bad_return(%x: f64, %k: i64) -> (f64, i64) {
  // expected-error @below {{returns ('i64', 'f64') but the function's variables are ('f64', 'i64')}}
  rev.return %k, %x : i64, f64
}

// -----

rev.func @int_mul(%x: i64, %y: i64) -> (i64, i64) {
  // expected-error @below {{must be floating-point}}
  %y1 = rev.mul %y, %x : i64
  rev.return %x, %y1 : i64, i64
}

// -----

rev.func @float_xor(%x: f64, %y: f64) -> (f64, f64) {
  // expected-error @below {{must be signless integer or index}}
  %y1 = rev.xor %y, %x : f64
  rev.return %x, %y1 : f64, f64
}

// -----

rev.func @rank(%A: memref<4x4xf64>, %i: index, %d: f64) -> (index, f64) {
  // expected-error @below {{element has 1 indices but the memref has rank 2}}
  rev.add_at %A[%i], %d : memref<4x4xf64>
  rev.return %i, %d : index, f64
}

// -----

rev.func @init_type(%x: f64) -> f64 {
  // expected-error @below {{init value type 'f32' does not match the variable type 'f64'}}
  %t = "rev.alloc"() {init = 1.0 : f32} : () -> f64
  rev.free %t : f64
  rev.return %x : f64
}

// -----

rev.func @bad_init_literal(%x: f64) -> f64 {
  // expected-error @below {{expected an integer or float literal}}
  %t = rev.alloc init "one" : f64
  rev.return %x : f64
}

// -----

// expected-error @below {{must have a body}}
rev.func private @external(%x: f64) -> f64
