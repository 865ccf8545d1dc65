// Integer programs wrap around and come back bit-exact; f32 programs come
// back within rounding.
// RUN: rev-opt %s --rev-invert --rev-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

// A reversible integer mixer (Feistel-like rounds on two i32 halves); the
// multiplications overflow on purpose.
rev.func @mix(%a: i32, %b: i32, %rounds: index) -> (i32, i32, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r:2 = rev.for %i = %c0 to %rounds step %c1 iter_args(%x = %a, %y = %b) -> (i32, i32) {
    %k = arith.constant -1640531527 : i32
    %m = arith.muli %y, %k : i32
    %s = arith.constant 13 : i32
    %sh = arith.shrui %m, %s : i32
    %x1 = rev.xor %x, %sh : i32
    %ii = arith.index_cast %i : index to i32
    %d = arith.addi %x1, %ii : i32
    %y1 = rev.add %y, %d : i32
    %p:2 = rev.swap %x1, %y1 : i32
    rev.yield %p#0, %p#1 : i32, i32
  }
  rev.return %r#0, %r#1, %rounds : i32, i32, index
}

rev.func @spin(%u: f32, %v: f32) -> (f32, f32) {
  %t = arith.constant 0.7 : f32
  %r:2 = rev.rot %u, %v, %t : f32
  %h = arith.constant 1.25 : f32
  %a = rev.mul %r#0, %h : f32
  %b = rev.sub %r#1, %a : f32
  rev.return %a, %b : f32, f32
}

func.func @main() {
  %a = arith.constant 123456789 : i32
  %b = arith.constant -42 : i32
  %n = arith.constant 16 : index
  %f:3 = rev.call @mix(%a, %b, %n) : (i32, i32, index) -> (i32, i32, index)
  %g:3 = rev.uncall @mix(%f#0, %f#1, %f#2) : (i32, i32, index) -> (i32, i32, index)
  // CHECK: 123456789, -42
  vector.print %g#0 : i32 punctuation <comma>
  vector.print %g#1 : i32
  %ne = arith.cmpi ne, %f#0, %a : i32
  // CHECK-NEXT: 1
  vector.print %ne : i1
  %u = arith.constant 0.5 : f32
  %v = arith.constant -2.0 : f32
  %p:2 = rev.call @spin(%u, %v) : (f32, f32) -> (f32, f32)
  %q:2 = rev.uncall @spin(%p#0, %p#1) : (f32, f32) -> (f32, f32)
  // CHECK-NEXT: 0.5, -2
  vector.print %q#0 : f32 punctuation <comma>
  vector.print %q#1 : f32
  return
}
