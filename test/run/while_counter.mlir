// rev.while with the usual counter ancilla: k = 0; while (k < n) { k += 1;
// x = x * 1.5 + k } (k > 0); k -= n; free k. The inverse loop runs while k > 0.
// RUN: rev-opt %s --rev-invert --rev-to-llvm="checks=true" | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

rev.func @f(%x: f64, %n: i64) -> (f64, i64) {
  %k0 = rev.alloc : i64
  %r:2 = rev.while %k0, %x : i64, f64 pre {
  ^bb0(%k: i64, %a: f64):
    %c = arith.cmpi slt, %k, %n : i64
    rev.cond %c
  } do {
  ^bb0(%k: i64, %a: f64):
    %one = arith.constant 1 : i64
    %k1 = rev.add %k, %one : i64
    %s = arith.constant 1.5 : f64
    %a1 = rev.mul %a, %s : f64
    %kf = arith.sitofp %k1 : i64 to f64
    %a2 = rev.add %a1, %kf : f64
    rev.yield %k1, %a2 : i64, f64
  } post {
  ^bb0(%k: i64, %a: f64):
    %zero = arith.constant 0 : i64
    %c = arith.cmpi sgt, %k, %zero : i64
    rev.cond %c
  }
  %k2 = rev.sub %r#0, %n : i64
  rev.free %k2 : i64
  rev.return %r#1, %n : f64, i64
}

func.func @main() {
  %x = arith.constant 1.0 : f64
  %n = arith.constant 4 : i64
  %a:2 = rev.call @f(%x, %n) : (f64, i64) -> (f64, i64)
  // x: 1 -> 2.5 -> 5.75 -> 11.625 -> 21.4375
  // CHECK: 21.4375
  vector.print %a#0 : f64
  %b:2 = rev.uncall @f(%a#0, %a#1) : (f64, i64) -> (f64, i64)
  // CHECK-NEXT: 1
  vector.print %b#0 : f64
  return
}
