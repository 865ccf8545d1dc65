// RUN: rev-opt %s -split-input-file -verify-diagnostics

// rev.grad_call's verifier: the callee is a rev.func, the operands follow the
// gradient's layout (f's arguments, then per seed an adjoint per float scalar
// and a shadow per float memref), the results are the final scalars, and the
// op stands outside rev.funcs.

func.func @missing(%x: f64) -> (f64, f64) {
  // expected-error @+1 {{'rev.grad_call' op callee @nope does not exist}}
  %r:2 = rev.grad_call @nope(%x, %x) : (f64, f64) -> (f64, f64)
  return %r#0, %r#1 : f64, f64
}

// -----

func.func private @plain(f64) -> f64
func.func @not_rev(%x: f64) -> (f64, f64) {
  // expected-error @+1 {{callee @plain is a 'func.func', not a rev.func: only a rev.func has a generated gradient}}
  %r:2 = rev.grad_call @plain(%x, %x) : (f64, f64) -> (f64, f64)
  return %r#0, %r#1 : f64, f64
}

// -----

rev.func @f(%x: f64, %n: index, %A: memref<?xf64>) -> (f64, index) {
  rev.return %x, %n : f64, index
}
func.func @no_shadow(%x: f64, %n: index, %A: memref<?xf64>) {
  // expected-error @+1 {{operand types ('f64', 'index', 'memref<?xf64>', 'f64') do not match the gradient of @f: expected ('f64', 'index', 'memref<?xf64>', 'f64', 'memref<?xf64>') (its arguments, then an adjoint per float scalar argument and a shadow per float memref argument)}}
  %r:3 = rev.grad_call @f(%x, %n, %A, %x) : (f64, index, memref<?xf64>, f64) -> (f64, index, f64)
  return
}

// -----

rev.func @f(%x: f64, %A: memref<?xf64>) -> f64 {
  rev.return %x : f64
}
func.func @one_set_for_two_seeds(%x: f64, %A: memref<?xf64>) {
  // expected-error @+1 {{do not match the 2-seed gradient of @f: expected ('f64', 'memref<?xf64>', 'f64', 'memref<?xf64>', 'f64', 'memref<?xf64>') (its arguments, then per seed an adjoint}}
  %r:2 = rev.grad_call @f(%x, %A, %x, %A) seeds 2 : (f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64)
  return
}

// -----

rev.func @f(%x: f64) -> f64 {
  rev.return %x : f64
}
func.func @results(%x: f64) {
  // expected-error @+1 {{results must be the final versions of the scalar operands, in order: expected ('f64', 'f64'), got ('f64')}}
  %r = rev.grad_call @f(%x, %x) : (f64, f64) -> f64
  return
}

// -----

rev.func @f(%x: f64) -> f64 {
  rev.return %x : f64
}
func.func @seeds(%x: f64) {
  // expected-error @+1 {{attribute 'seeds' failed to satisfy constraint}}
  %r:2 = rev.grad_call @f(%x, %x) seeds 0 : (f64, f64) -> (f64, f64)
  return
}

// -----

rev.func @f(%x: f64) -> f64 {
  rev.return %x : f64
}
rev.func @inside(%x: f64, %d: f64) -> (f64, f64) {
  // expected-error @+1 {{'rev.grad_call' op may not appear in a rev.func (here @inside): it has no inverse before --rev-ad resolves it; call the generated gradient with rev.call instead}}
  %r:2 = rev.grad_call @f(%x, %d) : (f64, f64) -> (f64, f64)
  rev.return %r#0, %r#1 : f64, f64
}

// -----

// The gradient writes its shadows: one memref as an input and as its own
// shadow is aliasing.
rev.func @f(%x: f64, %A: memref<?xf64>) -> f64 {
  rev.return %x : f64
}
func.func @aliased(%x: f64, %A: memref<?xf64>) {
  // expected-error @+1 {{passes the same memref as operands #1 and #3 and the gradient writes one of them: aliasing is not reversible}}
  %r:2 = rev.grad_call @f(%x, %A, %x, %A) : (f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64)
  return
}

// -----

// Two primal inputs may share a memref that f only reads.
rev.func @g(%A: memref<?xf64>, %B: memref<?xf64>) {
  rev.return
}
func.func @shared_input(%A: memref<?xf64>, %dA: memref<?xf64>, %dB: memref<?xf64>) {
  rev.grad_call @g(%A, %A, %dA, %dB) : (memref<?xf64>, memref<?xf64>, memref<?xf64>, memref<?xf64>) -> ()
  return
}
