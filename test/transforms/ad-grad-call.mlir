// RUN: rev-opt %s --rev-ad=funcs=g | FileCheck %s
// RUN: rev-opt %s --rev-ad=funcs=g --rev-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: rev-opt %s --rev-ad=only-grad-calls=1 | FileCheck %s --check-prefix=ONLY

// only-grad-calls: @f's gradients for the grad_calls, nothing for @g.
// ONLY-NOT: rev.func @g_grad
// ONLY: rev.func @f_grad(
// ONLY-NOT: rev.func @g_grad
// ONLY: rev.call @f_grad_x2(

// rev.grad_call names @f, whose gradient does not exist when the module is
// written; --rev-ad generates it (and, for `seeds 2`, its two-seed copy) even
// though `funcs` selects only @g, and replaces each grad_call by a rev.call.

rev.func @f(%x: f64, %A: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %s = math.sin %x : f64
  rev.add_at %A[%c0], %s : memref<?xf64>
  rev.return %x : f64
}

rev.func @g(%y: f64) -> f64 {
  %c = arith.constant 2.0 : f64
  %y1 = rev.mul %y, %c : f64
  rev.return %y1 : f64
}

// CHECK-LABEL: rev.func @f_grad(
// CHECK-SAME: rev.gradient_of = @f
// CHECK-LABEL: rev.func @f_grad_x2(
// CHECK-SAME: rev.seeds = 2 : i64, rev.seeds_of = @f_grad

// The resolved calls are marked always_inline, down to the LLVM call sites
// (an LLVM call-site attribute: the gradient is inlined into the driver).
// LLVM-LABEL: llvm.func @driver(
// LLVM: llvm.call @f_grad({{.*}}) {always_inline}
// LLVM: llvm.call @f_grad_x2({{.*}}) {always_inline}
// CHECK-LABEL: func.func @driver(
// CHECK-SAME: %[[X:[^:]*]]: f64, %[[A:[^:]*]]: memref<?xf64>, %[[DA:[^:]*]]: memref<?xf64>, %[[DB:[^:]*]]: memref<?xf64>)
// CHECK: %[[Z:.*]] = arith.constant 0.0
// CHECK: %[[R:.*]]:2 = rev.call @f_grad(%[[X]], %[[A]], %[[Z]], %[[DA]]) {always_inline} : (f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64)
// CHECK: rev.call @f_grad_x2(%[[R]]#0, %[[A]], %[[Z]], %[[DA]], %[[R]]#1, %[[DB]]) {always_inline} : (f64, memref<?xf64>, f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64, f64)
func.func @driver(%x: f64, %A: memref<?xf64>, %dA: memref<?xf64>, %dB: memref<?xf64>) -> (f64, f64, f64) {
  %z = arith.constant 0.0 : f64
  %r:2 = rev.grad_call @f(%x, %A, %z, %dA) : (f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64)
  %t:3 = rev.grad_call @f(%r#0, %A, %z, %dA, %r#1, %dB) seeds 2
      : (f64, memref<?xf64>, f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64, f64)
  return %t#0, %t#1, %t#2 : f64, f64, f64
}
// CHECK-NOT: rev.grad_call
