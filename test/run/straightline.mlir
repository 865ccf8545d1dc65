// Straight-line scalar updates: f then f_inv restores the inputs exactly.
// RUN: rev-opt %s --rev-invert --rev-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

rev.func @f(%x: f64, %y: f64, %k: i64) -> (f64, f64, i64) {
  %c3 = arith.constant 3.0 : f64
  %sq = arith.mulf %x, %x : f64
  %y1 = rev.add %y, %sq : f64
  %y2 = rev.mul %y1, %c3 : f64
  %t = arith.constant 0.25 : f64
  %r:2 = rev.rot %x, %y2, %t : f64
  %s:2 = rev.swap %r#0, %r#1 : f64
  %x3 = rev.neg %s#0 : f64
  %e = math.exp %x3 : f64
  %y4 = rev.div %s#1, %e : f64
  %seven = arith.constant 7 : i64
  %k1 = rev.xor %k, %seven : i64
  %k2 = rev.sub %k1, %seven : i64
  rev.return %x3, %y4, %k2 : f64, f64, i64
}

func.func @main() {
  %x = arith.constant 1.5 : f64
  %y = arith.constant -0.75 : f64
  %k = arith.constant 41 : i64
  %a:3 = rev.call @f(%x, %y, %k) : (f64, f64, i64) -> (f64, f64, i64)
  // x3 = -(1.5 sin .25 + 4.5 cos .25), y4 = (1.5 cos .25 - 4.5 sin .25) / exp(x3), k = (41 ^ 7) - 7
  // CHECK: -4.73121, 38.573, 39
  vector.print %a#0 : f64 punctuation <comma>
  vector.print %a#1 : f64 punctuation <comma>
  vector.print %a#2 : i64
  %b:3 = rev.uncall @f(%a#0, %a#1, %a#2) : (f64, f64, i64) -> (f64, f64, i64)
  // CHECK-NEXT: 1.5, -0.75, 41
  vector.print %b#0 : f64 punctuation <comma>
  vector.print %b#1 : f64 punctuation <comma>
  vector.print %b#2 : i64
  return
}
