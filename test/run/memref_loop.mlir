// In-place element updates inside a loop: A[i] += x*B[i], swaps, rotations,
// negations, integer xor; f then its inverse gives the arrays back.
// RUN: rev-opt %s --rev-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

rev.func @f(%x: f64, %A: memref<4xf64>, %B: memref<4xf64>, %K: memref<4xi32>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c3 = arith.constant 3 : index
  %t = arith.constant 0.3 : f64
  %m = arith.constant 13 : i32
  rev.for %i = %c0 to %c4 step %c1 {
    %b = memref.load %B[%i] : memref<4xf64>
    %d = arith.mulf %x, %b : f64
    rev.add_at %A[%i], %d : memref<4xf64>
    %j = arith.subi %c3, %i : index
    %ij = arith.index_cast %i : index to i32
    %e = arith.muli %ij, %m : i32
    rev.xor_at %K[%i], %e : memref<4xi32>
    rev.mul_at %B[%i], %x : memref<4xf64>
  }
  rev.swap_at %A[%c0], %B[%c3] : memref<4xf64>, memref<4xf64>
  rev.rot_at %A[%c1], %A[%c3], %t : memref<4xf64>, memref<4xf64>, f64
  rev.neg_at %B[%c1] : memref<4xf64>
  %a2 = memref.load %A[%c1] : memref<4xf64>
  rev.sub_at %A[%c0], %a2 : memref<4xf64>
  rev.return %x : f64
}

func.func private @printMemrefF64(memref<*xf64>)
func.func private @printMemrefI32(memref<*xi32>)

func.func @main() {
  %A = memref.alloc() : memref<4xf64>
  %B = memref.alloc() : memref<4xf64>
  %K = memref.alloc() : memref<4xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f64
    %one = arith.constant 1.0 : f64
    %g = arith.addf %f, %one : f64
    memref.store %g, %A[%i] : memref<4xf64>
    %h = arith.mulf %g, %g : f64
    memref.store %h, %B[%i] : memref<4xf64>
    memref.store %ii, %K[%i] : memref<4xi32>
  }
  %x = arith.constant 2.0 : f64
  %ua = memref.cast %A : memref<4xf64> to memref<*xf64>
  %ub = memref.cast %B : memref<4xf64> to memref<*xf64>
  %uk = memref.cast %K : memref<4xi32> to memref<*xi32>
  %x1 = rev.call @f(%x, %A, %B, %K) : (f64, memref<4xf64>, memref<4xf64>, memref<4xi32>) -> f64
  // CHECK: data =
  // CHECK-NEXT: [{{.*}}]
  call @printMemrefF64(%ua) : (memref<*xf64>) -> ()
  %x2 = rev.uncall @f(%x1, %A, %B, %K) : (f64, memref<4xf64>, memref<4xf64>, memref<4xi32>) -> f64
  // CHECK: data =
  // CHECK-NEXT: [1,  2,  3,  4]
  call @printMemrefF64(%ua) : (memref<*xf64>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [1,  4,  9,  16]
  call @printMemrefF64(%ub) : (memref<*xf64>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [0,  1,  2,  3]
  call @printMemrefI32(%uk) : (memref<*xi32>) -> ()
  // CHECK-NEXT: 2
  vector.print %x2 : f64
  return
}
