// A pipelined element loop (--rev-pipeline-sweeps: eight divisions per
// element, then their sum added to Y[i]) inside a time loop of 2^18 steps:
// the pipelined loop's two-slot stack buffer is allocated once, at the
// function's entry, so the stack does not grow with the outer loop (2 KiB
// a step would be 512 MiB). Its divisions by constants become
// multiplications with FMA corrections (--rev-divide-by-constants).
// The divisions are exact (x is a multiple of every divisor), so Y is exact.
// RUN: rev-opt %s --rev-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s
// RUN: rev-opt %s --rev-to-llvm | FileCheck %s --check-prefix=IR
// RUN: rev-opt %s --rev-to-llvm=pipeline-sweeps=0 | FileCheck %s --check-prefix=OFF

// IR-LABEL: llvm.func @f(
// IR: llvm.alloca %{{.*}} x vector<16xf64>
// IR: llvm.br
// IR: llvm.intr.fma{{.*}} : (vector<16xf64>, vector<16xf64>, vector<16xf64>) -> vector<16xf64>
// OFF-LABEL: llvm.func @f(
// OFF-NOT: x vector<16xf64>
// OFF: llvm.return

rev.func @f(%T: index, %X: memref<?xf64>, %Y: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %d0 = arith.constant 3.0 : f64
  %d1 = arith.constant 5.0 : f64
  %d2 = arith.constant 6.0 : f64
  %d3 = arith.constant 7.0 : f64
  %d4 = arith.constant 9.0 : f64
  %d5 = arith.constant 10.0 : f64
  %d6 = arith.constant 11.0 : f64
  %d7 = arith.constant 12.0 : f64
  rev.for %t = %c0 to %T step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %x = memref.load %X[%i] : memref<?xf64>
      %q0 = arith.divf %x, %d0 : f64
      %q1 = arith.divf %x, %d1 : f64
      %q2 = arith.divf %x, %d2 : f64
      %q3 = arith.divf %x, %d3 : f64
      %q4 = arith.divf %x, %d4 : f64
      %q5 = arith.divf %x, %d5 : f64
      %q6 = arith.divf %x, %d6 : f64
      %q7 = arith.divf %x, %d7 : f64
      %s1 = arith.addf %q0, %q1 : f64
      %s2 = arith.addf %s1, %q2 : f64
      %s3 = arith.addf %s2, %q3 : f64
      %s4 = arith.addf %s3, %q4 : f64
      %s5 = arith.addf %s4, %q5 : f64
      %s6 = arith.addf %s5, %q6 : f64
      %s7 = arith.addf %s6, %q7 : f64
      rev.add_at %Y[%i], %s7 : memref<?xf64>
    }
  }
  rev.return %T : index
}

func.func private @printMemrefF64(memref<*xf64>)

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 10 : index
  %T = arith.constant 262144 : index
  %lcm = arith.constant 13860.0 : f64
  %zero = arith.constant 0.0 : f64
  %X = memref.alloc(%n) : memref<?xf64>
  %Y = memref.alloc(%n) : memref<?xf64>
  scf.for %i = %c0 to %n step %c1 {
    %i1 = arith.addi %i, %c1 : index
    %ii = arith.index_cast %i1 : index to i64
    %fi = arith.sitofp %ii : i64 to f64
    %x = arith.mulf %fi, %lcm : f64
    memref.store %x, %X[%i] : memref<?xf64>
    memref.store %zero, %Y[%i] : memref<?xf64>
  }
  %T2 = rev.call @f(%T, %X, %Y) : (index, memref<?xf64>, memref<?xf64>) -> index
  // Y[j - 1] = 2^18 * 17023 * j (the sum of 13860 / c over the eight c is 17023)
  %u = memref.cast %Y : memref<?xf64> to memref<*xf64>
  // CHECK: data =
  // CHECK-NEXT: [4.46248e+09,  8.92495e+09,  1.33874e+10,  1.78499e+10,  2.23124e+10,  2.67749e+10,  3.12373e+10,  3.56998e+10,  4.01623e+10,  4.46248e+10]
  call @printMemrefF64(%u) : (memref<*xf64>) -> ()
  memref.dealloc %X : memref<?xf64>
  memref.dealloc %Y : memref<?xf64>
  return
}
