// rev.routine (compute - use - uncompute): the ancilla t = x*x + A[0] is
// computed, used to update y and A[1], then uncomputed and freed
// automatically; the inverse keeps compute and inverts the body.
// RUN: rev-opt %s --rev-to-llvm="checks=true" | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

rev.func @f(%x: f64, %y: f64, %A: memref<2xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %t = rev.alloc : f64
    %sq = arith.mulf %a, %a : f64
    %t1 = rev.add %t, %sq : f64
    %a0 = memref.load %A[%c0] : memref<2xf64>
    %t2 = rev.add %t1, %a0 : f64
    rev.yield %a, %b, %t2 : f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64):
    %b1 = rev.add %b, %t : f64
    %s = math.sin %t : f64
    rev.add_at %A[%c1], %s : memref<2xf64>
    rev.yield %a, %b1, %t : f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

func.func private @printMemrefF64(memref<*xf64>)

func.func @main() {
  %A = memref.alloc() : memref<2xf64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  %zero = arith.constant 0.0 : f64
  memref.store %one, %A[%c0] : memref<2xf64>
  memref.store %zero, %A[%c1] : memref<2xf64>
  %x = arith.constant 2.0 : f64
  %y = arith.constant 0.5 : f64
  %a:2 = rev.call @f(%x, %y, %A) : (f64, f64, memref<2xf64>) -> (f64, f64)
  // t = 4 + 1 = 5: y = 5.5, A[1] = sin(5)
  // CHECK: 2, 5.5
  vector.print %a#0 : f64 punctuation <comma>
  vector.print %a#1 : f64
  %u = memref.cast %A : memref<2xf64> to memref<*xf64>
  // CHECK: data =
  // CHECK-NEXT: [1,  -0.958924]
  call @printMemrefF64(%u) : (memref<*xf64>) -> ()
  %b:2 = rev.uncall @f(%a#0, %a#1, %A) : (f64, f64, memref<2xf64>) -> (f64, f64)
  // CHECK: 2, 0.5
  vector.print %b#0 : f64 punctuation <comma>
  vector.print %b#1 : f64
  // CHECK: data =
  // CHECK-NEXT: [1,  0]
  call @printMemrefF64(%u) : (memref<*xf64>) -> ()
  return
}
