// Checked mode: deltas and updated values must be finite, indices in bounds,
// and written memref arguments must not share memory
// (../shared/repro/div_by_zero_in_delta.mlir: y += z / x with x == 0).
// RUN: rev-opt %s --rev-to-llvm="checks=true" > %t.ll.mlir
// RUN: not mlir-runner %t.ll.mlir -e div_in_delta -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=DELTA
// RUN: not mlir-runner %t.ll.mlir -e nan_factor -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=NAN
// RUN: not mlir-runner %t.ll.mlir -e overflow -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=OVERFLOW
// RUN: not mlir-runner %t.ll.mlir -e out_of_bounds -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=OOB
// RUN: not mlir-runner %t.ll.mlir -e negative_index -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=NEG
// RUN: not mlir-runner %t.ll.mlir -e shared -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=SHARED
// RUN: mlir-runner %t.ll.mlir -e fine -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s --check-prefix=FINE

rev.func @f(%x: f64, %y: f64, %z: f64) -> (f64, f64, f64) {
  %q = arith.divf %z, %x : f64
  %y1 = rev.add %y, %q : f64
  rev.return %x, %y1, %z : f64, f64, f64
}
// DELTA: rev: delta is not finite (inf or NaN) (rev.add at loc({{.*}}checked_values.mlir":15:9))
func.func @div_in_delta() {
  %x = arith.constant 0.0 : f64
  %y = arith.constant 1.0 : f64
  %z = arith.constant 2.0 : f64
  %r:3 = rev.call @f(%x, %y, %z) : (f64, f64, f64) -> (f64, f64, f64)
  return
}

rev.func @scale(%y: f64, %d: f64) -> (f64, f64) {
  %y1 = rev.mul %y, %d : f64
  rev.return %y1, %d : f64, f64
}
// NAN: rev: delta is not finite (inf or NaN) (rev.mul at
func.func @nan_factor() {
  %y = arith.constant 1.0 : f64
  %d = arith.constant 0x7FF8000000000000 : f64
  %r:2 = rev.call @scale(%y, %d) : (f64, f64) -> (f64, f64)
  return
}
// OVERFLOW: rev: the updated value is not finite (overflow) (rev.mul at
func.func @overflow() {
  %y = arith.constant 1.0e300 : f64
  %d = arith.constant 1.0e300 : f64
  %r:2 = rev.call @scale(%y, %d) : (f64, f64) -> (f64, f64)
  return
}

rev.func @bump(%A: memref<?xf64>, %i: index) -> index {
  %one = arith.constant 1.0 : f64
  rev.add_at %A[%i], %one : memref<?xf64>
  rev.return %i : index
}
// OOB: rev: index out of bounds in dimension 0 of the memref (rev.add_at at
func.func @out_of_bounds() {
  %A = memref.alloc() : memref<3xf64>
  %Ad = memref.cast %A : memref<3xf64> to memref<?xf64>
  %i = arith.constant 3 : index
  %r = rev.call @bump(%Ad, %i) : (memref<?xf64>, index) -> index
  return
}
// NEG: rev: index out of bounds in dimension 0 of the memref (rev.add_at at
func.func @negative_index() {
  %A = memref.alloc() : memref<3xf64>
  %Ad = memref.cast %A : memref<3xf64> to memref<?xf64>
  %i = arith.constant -1 : index
  %r = rev.call @bump(%Ad, %i) : (memref<?xf64>, index) -> index
  return
}

!view = memref<?xf64, strided<[1], offset: ?>>
rev.func @copy_into(%A: !view, %B: !view, %i: index) -> index {
  %v = memref.load %B[%i] : !view
  rev.add_at %A[%i], %v : !view
  rev.return %i : index
}
// Two overlapping views of one buffer (different SSA values: the verifier
// cannot see it).
// SHARED: rev: memref arguments #0 and #1 share memory (rev.func at
func.func @shared() {
  %A = memref.alloc() : memref<4xf64>
  %a = memref.subview %A[0] [3] [1] : memref<4xf64> to memref<3xf64, strided<[1]>>
  %b = memref.subview %A[1] [3] [1] : memref<4xf64> to memref<3xf64, strided<[1], offset: 1>>
  %av = memref.cast %a : memref<3xf64, strided<[1]>> to !view
  %bv = memref.cast %b : memref<3xf64, strided<[1], offset: 1>> to !view
  %i = arith.constant 0 : index
  %r = rev.call @copy_into(%av, %bv, %i) : (!view, !view, index) -> index
  return
}

// Disjoint halves of one buffer are fine, and so are finite values.
// FINE: ok
func.func private @printNewline()
func.func private @printString(!llvm.ptr)
llvm.mlir.global internal constant @ok("ok\00")
func.func @fine() {
  %A = memref.alloc() : memref<4xf64>
  %c0 = arith.constant 0.0 : f64
  %i0 = arith.constant 0 : index
  %i1 = arith.constant 1 : index
  %i2 = arith.constant 2 : index
  %i3 = arith.constant 3 : index
  memref.store %c0, %A[%i0] : memref<4xf64>
  memref.store %c0, %A[%i1] : memref<4xf64>
  memref.store %c0, %A[%i2] : memref<4xf64>
  memref.store %c0, %A[%i3] : memref<4xf64>
  %lo = memref.subview %A[0] [2] [1] : memref<4xf64> to memref<2xf64, strided<[1]>>
  %hi = memref.subview %A[2] [2] [1] : memref<4xf64> to memref<2xf64, strided<[1], offset: 2>>
  %lov = memref.cast %lo : memref<2xf64, strided<[1]>> to !view
  %hiv = memref.cast %hi : memref<2xf64, strided<[1], offset: 2>> to !view
  %r = rev.call @copy_into(%lov, %hiv, %i0) : (!view, !view, index) -> index
  %x = arith.constant 1.0 : f64
  %y = arith.constant 1.0 : f64
  %z = arith.constant 2.0 : f64
  %s:3 = rev.call @f(%x, %y, %z) : (f64, f64, f64) -> (f64, f64, f64)
  %p = llvm.mlir.addressof @ok : !llvm.ptr
  func.call @printString(%p) : (!llvm.ptr) -> ()
  func.call @printNewline() : () -> ()
  return
}
