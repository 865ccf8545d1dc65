// Memref arguments of rev functions are llvm.noalias on their descriptor
// pointers (allocated and aligned) after --convert-func-to-llvm, at the
// positions --lower-rev recorded; rev forbids a written memref argument to
// share memory with another argument. Functions that are not rev functions
// and the C wrappers are not marked; memref-noalias=0 turns it off.
// RUN: rev-opt %s --lower-rev | FileCheck %s --check-prefix=LOWER
// RUN: rev-opt %s --rev-to-llvm | FileCheck %s
// RUN: rev-opt %s --rev-to-llvm="memref-noalias=0" | FileCheck %s --check-prefix=OFF
// RUN: rev-opt %s --rev-to-llvm | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR

// f64 (1), memref<?xf64> (5: two pointers, offset, size, stride),
// memref<2x3xf64> (7), index (1): pointers at 1, 2, 6, 7 of 14.
// LOWER-LABEL: func.func @f(
// LOWER-SAME: rev.noalias_arg_count = 14 : i64
// LOWER-SAME: rev.noalias_ptr_args = array<i64: 1, 2, 6, 7>
// CHECK-LABEL: llvm.func @f(
// CHECK-SAME: %{{arg[0-9]+}}: f64,
// CHECK-SAME: %{{arg[0-9]+}}: !llvm.ptr {llvm.noalias}, %{{arg[0-9]+}}: !llvm.ptr {llvm.noalias}, %{{arg[0-9]+}}: i64, %{{arg[0-9]+}}: i64, %{{arg[0-9]+}}: i64,
// CHECK-SAME: %{{arg[0-9]+}}: !llvm.ptr {llvm.noalias}, %{{arg[0-9]+}}: !llvm.ptr {llvm.noalias}, %{{arg[0-9]+}}: i64, %{{arg[0-9]+}}: i64, %{{arg[0-9]+}}: i64, %{{arg[0-9]+}}: i64, %{{arg[0-9]+}}: i64,
// CHECK-SAME: %{{arg[0-9]+}}: i64)
// CHECK-NOT: rev.noalias
// CHECK-LABEL: llvm.func @_mlir_ciface_f(
// CHECK-NOT: noalias
// CHECK-SAME: {
// OFF-LABEL: llvm.func @f(
// OFF-NOT: noalias
// OFF-SAME: {
// LLVMIR-LABEL: define { double, i64 } @f(double %0, ptr noalias %1, ptr noalias %2, i64 %3, i64 %4, i64 %5, ptr noalias %6, ptr noalias %7, i64 %8, i64 %9, i64 %10, i64 %11, i64 %12, i64 %13)
// LLVMIR-LABEL: define void @_mlir_ciface_f(ptr %0, double %1, ptr %2, ptr %3, i64 %4)
rev.func @f(%x: f64, %A: memref<?xf64>, %B: memref<2x3xf64>, %i: index) -> (f64, index) {
  %c0 = arith.constant 0 : index
  %b = memref.load %B[%c0, %c0] : memref<2x3xf64>
  %d = arith.mulf %x, %b : f64
  rev.add_at %A[%i], %d : memref<?xf64>
  rev.return %x, %i : f64, index
}

// Scalars only: nothing to mark.
// LOWER-LABEL: func.func @scalars(
// LOWER-NOT: rev.noalias
// LOWER-SAME: {
rev.func @scalars(%x: f64, %y: f64) -> (f64, f64) {
  %y1 = rev.add %y, %x : f64
  rev.return %x, %y1 : f64, f64
}

// A func.func is not a rev function: its memrefs may alias.
// CHECK-LABEL: llvm.func @caller(
// CHECK-NOT: noalias
// CHECK-SAME: {
func.func @caller(%A: memref<?xf64>, %B: memref<2x3xf64>) {
  %x = arith.constant 2.0 : f64
  %c1 = arith.constant 1 : index
  %r:2 = rev.call @f(%x, %A, %B, %c1) : (f64, memref<?xf64>, memref<2x3xf64>, index) -> (f64, index)
  return
}
