// RUN: rev-opt %s --rev-seeds -split-input-file -verify-diagnostics
// RUN: not rev-opt %s --rev-seeds=count=0 -split-input-file 2>&1 | FileCheck %s --check-prefix=COUNT
// RUN: not rev-opt %s --rev-seeds=funcs=nope -split-input-file 2>&1 | FileCheck %s --check-prefix=NAME
// RUN: not rev-opt %s --rev-seeds=funcs=c -split-input-file 2>&1 | FileCheck %s --check-prefix=PRIMAL

// What --rev-seeds cannot copy safely is a located error (the gradients
// here are written by hand in the derivative layout).

// COUNT: error: rev-seeds: count must be in 1..64, not 0
// NAME: error: --rev-seeds: no rev.func named @nope
// PRIMAL: error: 'rev.func' op is not a generated gradient or backward function (rev.gradient_of, rev.backward_of): --rev-seeds copies the adjoints of those

// A condition that reads an adjoint: the seeds would take different branches.
rev.func @c(%x: f64) -> f64 {
  rev.return %x : f64
}
rev.func @c_grad(%x: f64, %xb: f64) -> (f64, f64) attributes {rev.gradient_of = @c} {
  %zero = arith.constant 0.0 : f64
  %r = rev.if %xb : f64 pre {
  ^bb0(%a: f64):
    %p = arith.cmpf ogt, %a, %zero : f64
    // expected-error @below {{'rev.cond' op depends on the adjoints: the seeds would take different branches (--rev-seeds)}}
    rev.cond %p
  } then {
  ^bb0(%a: f64):
    %a1 = rev.add %a, %x : f64
    rev.yield %a1 : f64
  } post {
  ^bb0(%a: f64):
    %p = arith.cmpf ogt, %a, %x : f64
    rev.cond %p
  }
  rev.return %x, %r : f64, f64
}

// -----

// A loop bound computed from an adjoint.
rev.func @b(%x: f64, %y: f64) -> (f64, f64) {
  rev.return %x, %y : f64, f64
}
rev.func @b_grad(%x: f64, %y: f64, %xb: f64, %yb: f64) -> (f64, f64, f64, f64) attributes {rev.gradient_of = @b} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %i = arith.fptosi %xb : f64 to i64
  %n = arith.index_cast %i : i64 to index
  // expected-error @below {{'rev.for' op has a bound that depends on the adjoints: the seeds would need different trip counts (--rev-seeds)}}
  %r = rev.for %j = %c0 to %n step %c1 iter_args(%a = %yb) -> (f64) {
    %a1 = rev.add %a, %x : f64
    rev.yield %a1 : f64
  }
  rev.return %x, %y, %xb, %r : f64, f64, f64, f64
}

// -----

// An adjoint-dependent write into a primal array: one array, N seeds.
rev.func @w(%A: memref<4xf64>) {
  rev.return
}
rev.func @w_grad(%A: memref<4xf64>, %Ab: memref<4xf64>) attributes {rev.gradient_of = @w} {
  %c0 = arith.constant 0 : index
  %v = memref.load %Ab[%c0] : memref<4xf64>
  // expected-error @below {{'rev.add_at' op depends on the adjoints and may write its operand #0, a memref that is not (or may not be) an adjoint buffer: the N-seed function (--rev-seeds) cannot share it between the seeds}}
  rev.add_at %A[%c0], %v : memref<4xf64>
  rev.return
}

// -----

// An adjoint-dependent update of a primal argument (the only way a primal
// result can come to depend on the adjoints): each seed would need its own
// copy of the argument.
rev.func @q(%x: f64) -> f64 {
  rev.return %x : f64
}
rev.func @q_grad(%x: f64, %xb: f64) -> (f64, f64) attributes {rev.gradient_of = @q} {
  // expected-error @below {{'rev.add' op depends on the adjoints and updates the primal argument #0: its seeds would need copies of it (--rev-seeds)}}
  %y = rev.add %x, %xb : f64
  rev.return %y, %xb : f64, f64
}

// -----

// A while loop whose condition reads an adjoint.
rev.func @st(%x: f64) -> f64 {
  rev.return %x : f64
}
rev.func @st_grad(%x: f64, %xb: f64) -> (f64, f64) attributes {rev.gradient_of = @st} {
  %r:2 = rev.while %x, %xb : f64, f64 pre {
  ^bb0(%a: f64, %b: f64):
    %c = arith.cmpf olt, %b, %a : f64
    // expected-error @below {{'rev.cond' op depends on the adjoints: the seeds would take different branches (--rev-seeds)}}
    rev.cond %c
  } do {
  ^bb0(%a: f64, %b: f64):
    %b1 = rev.add %b, %a : f64
    rev.yield %a, %b1 : f64, f64
  } post {
  ^bb0(%a: f64, %b: f64):
    %c = arith.cmpf ogt, %b, %a : f64
    rev.cond %c
  }
  rev.return %r#0, %r#1 : f64, f64
}

// -----

// An adjoint passed to a function that is not a generated derivative.
rev.func @h(%x: f64) -> f64 {
  rev.return %x : f64
}
rev.func @h_grad(%x: f64, %xb: f64) -> (f64, f64) attributes {rev.gradient_of = @h} {
  // expected-error @below {{'rev.call' op passes adjoint-dependent values to @h, which is not a generated gradient or backward function: the N-seed function (--rev-seeds) cannot copy its effects}}
  %y = rev.call @h(%xb) : (f64) -> f64
  rev.return %x, %y : f64, f64
}

// -----

// Memory that depends on the adjoints but is primal: a select between the
// primal array and a shadow (the review's repro), and a view of the primal
// array at an offset computed from an adjoint.
rev.func @sel(%A: memref<4xf64>) {
  rev.return
}
rev.func @sel_grad(%A: memref<4xf64>, %Ab: memref<4xf64>) attributes {rev.gradient_of = @sel} {
  %c0 = arith.constant 0 : index
  %t = arith.constant true
  %m = arith.select %t, %A, %Ab : memref<4xf64>
  %one = arith.constant 1.0 : f64
  // expected-error @below {{'rev.add_at' op depends on the adjoints and may write its operand #0, a memref that is not (or may not be) an adjoint buffer}}
  rev.add_at %m[%c0], %one : memref<4xf64>
  rev.return
}

// -----

rev.func @sv(%A: memref<4xf64>) {
  rev.return
}
rev.func @sv_grad(%A: memref<4xf64>, %Ab: memref<4xf64>) attributes {rev.gradient_of = @sv} {
  %c0 = arith.constant 0 : index
  %b = memref.load %Ab[%c0] : memref<4xf64>
  %i = arith.fptosi %b : f64 to i64
  %off = arith.index_cast %i : i64 to index
  %v = memref.subview %A[%off] [2] [1] : memref<4xf64> to memref<2xf64, strided<[1], offset: ?>>
  %one = arith.constant 1.0 : f64
  // expected-error @below {{'rev.add_at' op depends on the adjoints and may write its operand #0, a memref that is not (or may not be) an adjoint buffer}}
  rev.add_at %v[%c0], %one : memref<2xf64, strided<[1], offset: ?>>
  rev.return
}
