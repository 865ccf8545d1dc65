// rev-to-llvm{pooled-alloc}: memref.alloc/dealloc (here a loop's tapes) call
// the generic allocation functions that librev_runtime.so serves from its
// pool; without the option, malloc and free.
// RUN: rev-opt %s --rev-ad=loop-budget=8 "--rev-to-llvm=pooled-alloc=1" | FileCheck %s
// RUN: rev-opt %s --rev-ad=loop-budget=8 "--rev-to-openmp=pooled-alloc=1" | FileCheck %s
// RUN: rev-opt %s --rev-ad=loop-budget=8 "--rev-to-gpu=pooled-alloc=1" | FileCheck %s
// RUN: rev-opt %s --rev-ad=loop-budget=8 "--rev-to-llvm=pooled-alloc=1" | FileCheck %s --check-prefix=DECL
// RUN: rev-opt %s --rev-ad=loop-budget=8 --rev-to-llvm | FileCheck %s --check-prefix=MALLOC

rev.func @coupled(%y: f64, %z: f64, %X: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %s = math.sin %b : f64
    %d = arith.mulf %s, %x : f64
    %a1 = rev.add %a, %d : f64
    %c = math.cos %a1 : f64
    %e = arith.mulf %c, %x : f64
    %b1 = rev.add %b, %e : f64
    rev.yield %a1, %b1 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// CHECK-LABEL: llvm.func @coupled_grad(
// CHECK:         llvm.call @_mlir_memref_to_llvm_alloc(
// CHECK:         llvm.call @_mlir_memref_to_llvm_free(
// CHECK-NOT:     llvm.call @malloc
// (the result is fresh memory, as malloc's)
// DECL-DAG:   llvm.func @_mlir_memref_to_llvm_alloc(i64) -> (!llvm.ptr {llvm.noalias})
// DECL-DAG:   llvm.func @_mlir_memref_to_llvm_free(!llvm.ptr)

// MALLOC-LABEL: llvm.func @coupled_grad(
// MALLOC:         llvm.call @malloc(
// MALLOC:         llvm.call @free(
// MALLOC-NOT:     _mlir_memref_to_llvm
