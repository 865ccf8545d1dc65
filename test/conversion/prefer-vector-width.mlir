// prefer-vector-width (opt-in): every lowered rev function asks LLVM for
// vectors of that many bits (an LLVM function attribute through llvm.func's
// passthrough; an entry already there is replaced); user func.func are left
// alone; 0 (the default) adds nothing.
// RUN: rev-opt %s --rev-to-llvm | FileCheck %s --check-prefix=NONE
// RUN: rev-opt %s --rev-to-llvm="prefer-vector-width=512" | FileCheck %s
// RUN: rev-opt %s --rev-to-llvm="prefer-vector-width=512" | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR
// RUN: rev-opt %s --rev-to-openmp="prefer-vector-width=256" | FileCheck %s --check-prefix=OMP
// RUN: not rev-opt %s --lower-rev="prefer-vector-width=100" 2>&1 | FileCheck %s --check-prefix=BAD

// NONE-LABEL: llvm.func @scale(
// NONE-NOT: passthrough
// NONE: llvm.return

// CHECK-LABEL: llvm.func @scale(
// CHECK-SAME: passthrough = {{\[\["prefer-vector-width", "512"\]\]}}
// The C wrapper stays out of line (an ExecutionEngine's packed wrapper has
// no width of its own and would inline it).
// CHECK-LABEL: llvm.func @_mlir_ciface_scale(
// CHECK-SAME: passthrough = {{\[\["prefer-vector-width", "512"\], "noinline"\]}}

// LLVMIR: define double @scale({{.*}}) #[[ATTRS:[0-9]+]] {
// LLVMIR: attributes #[[ATTRS]] = { {{.*}}"prefer-vector-width"="512"

// OMP-LABEL: llvm.func @scale(
// OMP-SAME: passthrough = {{\[\["prefer-vector-width", "256"\]\]}}

// BAD: --lower-rev: prefer-vector-width must be 0, 128, 256 or 512, got 100

rev.func @scale(%a: f64, %X: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    rev.mul_at %X[%i], %a : memref<?xf64>
  }
  rev.return %a : f64
}

// CHECK-LABEL: llvm.func @given(
// CHECK-SAME: passthrough = {{\[}}"nounwind", ["prefer-vector-width", "512"]]
rev.func @given(%a: f64) -> f64 attributes {passthrough = ["nounwind", ["prefer-vector-width", "128"]]} {
  rev.return %a : f64
}

// CHECK-LABEL: llvm.func @plain(
// CHECK-NOT: passthrough
// CHECK: llvm.return
func.func @plain(%x: f64) -> f64 {
  return %x : f64
}
