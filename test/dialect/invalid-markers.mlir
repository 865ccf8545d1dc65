// Markers of generated functions are checked against their target (the
// passes rely on them): ../shared/repro/01-08 crashed or produced invalid IR.
// RUN: rev-opt %s -split-input-file -verify-diagnostics

// repro 01: a backward function without f's shadow.
// expected-note @below {{@f is here}}
rev.func @f(%a: f64, %V: memref<?xf64>) -> f64 {
  rev.return %a : f64
}
// expected-error @below {{is marked 'rev.backward_of = @f' but has type '(f64, memref<?xf64>) -> f64'; a derivative function has its function's derivative layout: '(f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64)'}}
rev.func @g(%a: f64, %V: memref<?xf64>) -> f64 attributes {rev.backward_of = @f} {
  rev.return %a : f64
}

// -----

// repro 02/06: a backward function with f's own signature.
// expected-note @below {{@f is here}}
rev.func @f(%x: f64) -> f64 {
  rev.return %x : f64
}
// expected-error @below {{is marked 'rev.backward_of = @f' but has type '(f64) -> f64'}}
rev.func @g(%x: f64) -> f64 attributes {rev.backward_of = @f} {
  rev.return %x : f64
}

// -----

// repro 03: an inverse with another type than its function.
// expected-note @below {{@f is here}}
rev.func @f(%A: memref<?xf64>) {
  rev.return
}
// expected-error @below {{is marked 'rev.inverse_of = @f' but has type '(f64) -> f64'; an inverse has the type of its function: '(memref<?xf64>) -> ()'}}
rev.func @g(%x: f64) -> f64 attributes {rev.inverse_of = @f} {
  rev.return %x : f64
}

// -----

// repro 04: the same, with fewer arguments than the function.
// expected-error @below {{is marked 'rev.inverse_of = @h' but has type '(f64) -> f64'}}
rev.func @f(%x: f64) -> f64 attributes {rev.inverse_of = @h} {
  rev.return %x : f64
}
// expected-note @below {{@h is here}}
rev.func @h(%x: f64, %y: f64) -> (f64, f64) {
  rev.return %x, %y : f64, f64
}

// -----

// repro 05: a tangent function with f's own signature.
// expected-note @below {{@f is here}}
rev.func @f(%x: f64) -> f64 {
  rev.return %x : f64
}
// expected-error @below {{is marked 'rev.tangent_of = @f' but has type '(f64) -> f64'}}
rev.func @g(%x: f64) -> f64 attributes {rev.tangent_of = @f} {
  rev.return %x : f64
}

// -----

// A gradient function too.
// expected-note @below {{@f is here}}
rev.func @f(%x: f64, %k: i64) -> (f64, i64) {
  rev.return %x, %k : f64, i64
}
// expected-error @below {{is marked 'rev.gradient_of = @f' but has type '(f64, i64) -> (f64, i64)'; a derivative function has its function's derivative layout: '(f64, i64, f64) -> (f64, i64, f64)'}}
rev.func @g(%x: f64, %k: i64) -> (f64, i64) attributes {rev.gradient_of = @f} {
  rev.return %x, %k : f64, i64
}

// -----

// expected-error @below {{'rev.inverse_of' names @nope, which is not a rev.func of this symbol table}}
rev.func @g(%x: f64) -> f64 attributes {rev.inverse_of = @nope} {
  rev.return %x : f64
}

// -----

func.func @h(%x: f64) -> f64 {
  return %x : f64
}
// expected-error @below {{'rev.inverse_of' names @h, which is not a rev.func of this symbol table}}
rev.func @g(%x: f64) -> f64 attributes {rev.inverse_of = @h} {
  rev.return %x : f64
}

// -----

// expected-error @below {{'rev.inverse_of' names the function itself}}
rev.func @g(%x: f64) -> f64 attributes {rev.inverse_of = @g} {
  rev.return %x : f64
}

// -----

// expected-error @below {{'rev.tangent_of' must name a rev.func (@f), got "f"}}
rev.func @g(%x: f64) -> f64 attributes {rev.tangent_of = "f"} {
  rev.return %x : f64
}

// -----

rev.func @f(%x: f64) -> f64 {
  rev.return %x : f64
}
// expected-error @below {{carries more than one of rev.inverse_of, rev.backward_of, rev.gradient_of and rev.tangent_of}}
rev.func @g(%x: f64, %xb: f64) -> (f64, f64) attributes {rev.backward_of = @f, rev.tangent_of = @f} {
  rev.return %x, %xb : f64, f64
}

// -----

// A marker names a function of its own symbol table: the nested @f is not
// the outer one.
rev.func @f(%x: f64) -> f64 {
  rev.return %x : f64
}
module @inner {
  // expected-error @below {{'rev.inverse_of' names @f, which is not a rev.func of this symbol table}}
  rev.func @g(%x: f64) -> f64 attributes {rev.inverse_of = @f} {
    rev.return %x : f64
  }
}

// -----

// repro 07: {adjoint} on an integer.
rev.func @f(%x: f64) -> f64 {
  // expected-error @below {{'adjoint' marks the adjoint of a float ancilla, not of a 'i64'}}
  %k = rev.alloc {adjoint} : i64
  rev.free %k : i64
  rev.return %x : f64
}

// -----

// repro 08: {adjoint} in user code (its inverse would drop the value
// unchecked).
rev.func @f(%x: f64) -> f64 {
  // expected-error @below {{may only appear in generated backward, gradient or tangent functions}}
  %t = rev.alloc {adjoint} : f64
  %t1 = rev.add %t, %x : f64
  rev.free %t1 : f64
  rev.return %x : f64
}

// -----

// repro 08: a rev.discard in a function that claims to be an inverse of a
// user function.
rev.func @f(%x: f64) -> f64 {
  %t = rev.alloc : f64
  %t1 = rev.add %t, %x : f64
  %t2 = rev.sub %t1, %x : f64
  rev.free %t2 : f64
  rev.return %x : f64
}
rev.func @g(%x: f64) -> f64 attributes {rev.inverse_of = @f} {
  %t = rev.alloc : f64
  %t1 = rev.add %t, %x : f64
  // expected-error @below {{may only appear in generated backward, gradient or tangent functions}}
  rev.discard %t1 : f64
  rev.return %x : f64
}

// -----

// An N-seed copy (--rev-seeds) has its gradient's primal arguments once and
// its adjoint arguments N times.
rev.func @s(%x: f64) -> f64 {
  rev.return %x : f64
}
rev.func @s_grad(%x: f64, %xb: f64) -> (f64, f64) attributes {rev.gradient_of = @s} {
  rev.return %x, %xb : f64, f64
}
// expected-error @below {{is the 2-seed copy of @s_grad but has type '(f64, f64) -> (f64, f64)'; expected '(f64, f64, f64) -> (f64, f64, f64)'}}
rev.func @s_grad_x2(%x: f64, %xb: f64) -> (f64, f64) attributes {rev.seeds_of = @s_grad, rev.seeds = 2} {
  rev.return %x, %xb : f64, f64
}

// -----

// A huge count (found by the fuzzer: the verifier spelt the expected type
// out 2^32 times): the sizes are compared first.
rev.func @s(%x: f64) -> f64 {
  rev.return %x : f64
}
rev.func @s_grad(%x: f64, %xb: f64) -> (f64, f64) attributes {rev.gradient_of = @s} {
  rev.return %x, %xb : f64, f64
}
// expected-error @below {{is the 4294967296-seed copy of @s_grad but has 2 arguments and 2 results; expected 1 + 4294967296 x 1 arguments and 1 + 4294967296 x 1 results}}
rev.func @s_grad_x2(%x: f64, %xb: f64) -> (f64, f64) attributes {rev.seeds_of = @s_grad, rev.seeds = 4294967296} {
  rev.return %x, %xb : f64, f64
}

// -----

rev.func @t(%x: f64) -> f64 {
  rev.return %x : f64
}
// expected-error @below {{'rev.seeds_of' names @t, which is not a gradient or backward rev.func of this symbol table}}
rev.func @t_x2(%x: f64, %y: f64) -> (f64, f64) attributes {rev.seeds_of = @t, rev.seeds = 2} {
  rev.return %x, %y : f64, f64
}

// -----

rev.func @u(%x: f64) -> f64 {
  rev.return %x : f64
}
// expected-error @below {{'rev.seeds_of' must name a rev.func (@g) and 'rev.seeds' be an integer >= 1}}
rev.func @u_x2(%x: f64) -> f64 attributes {rev.seeds_of = @u} {
  rev.return %x : f64
}
