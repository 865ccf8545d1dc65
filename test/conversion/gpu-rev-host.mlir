// rev-to-gpu takes rev input: the front half is rev-to-llvm's (expansions,
// checks, --lower-rev); a function without parallel loops is host code only
// (no kernel), in checked mode with the host check lowering.
// RUN: rev-opt %s --rev-invert --rev-to-gpu | FileCheck %s --implicit-check-not=gpu.binary --implicit-check-not=gpu.launch
// RUN: rev-opt %s --rev-to-gpu=checks=1 | FileCheck %s --check-prefix=CHECKED

// CHECK-LABEL: llvm.func @scale(
// CHECK: llvm.fdiv
// CHECK-LABEL: llvm.func @_mlir_ciface_scale(
// CHECK-LABEL: llvm.func @scale_inv(
// CHECK: llvm.fmul
// CHECKED-LABEL: llvm.func @scale(
// CHECKED: llvm.call @write
// CHECKED: llvm.call @exit
rev.func @scale(%d: f64, %x: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    rev.div_at %x[%i], %d : memref<?xf64>
  }
  rev.return %d : f64
}
