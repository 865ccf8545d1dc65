// RUN: rev-opt %s -split-input-file -verify-diagnostics

rev.func @pre_without_cond(%x: f64) -> f64 {
  // expected-error @below {{'pre' region must end with rev.cond}}
  %r = rev.if %x : f64 pre {
  ^bb0(%a: f64):
    rev.yield %a : f64
  } then {
  ^bb0(%a: f64):
    rev.yield %a : f64
  }
  rev.return %r : f64
}

// -----

rev.func @impure_condition(%x: f64, %A: memref<2xf64>) -> f64 {
  %r = rev.if %x : f64 pre {
  ^bb0(%a: f64):
    %c0 = arith.constant 0 : index
    // expected-error @below {{is not allowed in the 'pre' condition of 'rev.if': conditions must be pure}}
    memref.store %a, %A[%c0] : memref<2xf64>
    %t = arith.constant true
    rev.cond %t
  } then {
  ^bb0(%a: f64):
    rev.yield %a : f64
  }
  rev.return %r : f64
}

// -----

rev.func @missing_post(%x: f64) -> f64 {
  // expected-error @below {{has no 'post' condition but its branches change variable #0, which 'pre' reads}}
  %r = rev.if %x : f64 pre {
  ^bb0(%a: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64):
    %a1 = rev.neg %a : f64
    rev.yield %a1 : f64
  }
  rev.return %r : f64
}

// -----

rev.func @region_args(%x: f64) -> f64 {
  // expected-error @below {{'then' region arguments ('f32') must be ('f64')}}
  %r = rev.if %x : f64 pre {
  ^bb0(%a: f64):
    %t = arith.constant true
    rev.cond %t
  } then {
  ^bb0(%a: f32):
    rev.yield %a : f32
  }
  rev.return %r : f64
}

// -----

rev.func @yield_types(%x: f64, %k: i64) -> (f64, i64) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  %r:2 = rev.for %i = %c0 to %c4 step %c1 iter_args(%a = %x, %b = %k) -> (f64, i64) {
    // expected-error @below {{yields ('i64', 'f64') but 'body' of 'rev.for' expects ('f64', 'i64')}}
    rev.yield %b, %a : i64, f64
  }
  rev.return %r#0, %r#1 : f64, i64
}

// -----

rev.func @bounds_written(%A: memref<4xindex>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.load %A[%c0] : memref<4xindex>
  // expected-error @below {{loop bounds read a memref that the loop body writes}}
  rev.for %i = %c0 to %n step %c1 {
    rev.add_at %A[%c1], %c1 : memref<4xindex>
  }
  rev.return
}

// -----

rev.func @while_post_missing_cond(%k: i64) -> i64 {
  // expected-error @below {{'post' region must end with rev.cond}}
  %r = rev.while %k : i64 pre {
  ^bb0(%a: i64):
    %t = arith.constant false
    rev.cond %t
  } do {
  ^bb0(%a: i64):
    rev.yield %a : i64
  } post {
  ^bb0(%a: i64):
    rev.yield %a : i64
  }
  rev.return %r : i64
}

// -----

rev.func @routine_body(%x: f64) -> f64 {
  // expected-error @below {{'body' region arguments ('f64') must be ('f64', 'f64')}}
  %r = rev.routine %x : f64 compute {
  ^bb0(%a: f64):
    %t = rev.alloc : f64
    rev.yield %a, %t : f64, f64
  } body {
  ^bb0(%a: f64):
    rev.yield %a : f64
  }
  rev.return %r : f64
}
