// rev.if whose branch changes its own condition variable: the post condition
// (x > 100) differs from the pre condition (x > 0) as an expression but
// agrees with it on every run. Checked mode verifies that agreement.
// RUN: rev-opt %s --rev-to-llvm="checks=true" | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

rev.func @f(%x: f64, %n: i64) -> (f64, i64) {
  %r:2 = rev.if %x, %n : f64, i64 pre {
  ^bb0(%a: f64, %k: i64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64, %k: i64):
    %h = arith.constant 100.0 : f64
    %a1 = rev.add %a, %h : f64
    %one = arith.constant 1 : i64
    %k1 = rev.add %k, %one : i64
    rev.yield %a1, %k1 : f64, i64
  } else {
  ^bb0(%a: f64, %k: i64):
    %a1 = rev.neg %a : f64
    %a2 = rev.neg %a1 : f64
    %two = arith.constant 2 : i64
    %k1 = rev.sub %k, %two : i64
    rev.yield %a2, %k1 : f64, i64
  } post {
  ^bb0(%a: f64, %k: i64):
    %h = arith.constant 100.0 : f64
    %c = arith.cmpf ogt, %a, %h : f64
    rev.cond %c
  }
  rev.return %r#0, %r#1 : f64, i64
}

func.func @run(%x: f64) {
  %n = arith.constant 10 : i64
  %a:2 = rev.call @f(%x, %n) : (f64, i64) -> (f64, i64)
  vector.print %a#0 : f64 punctuation <comma>
  vector.print %a#1 : i64
  %b:2 = rev.uncall @f(%a#0, %a#1) : (f64, i64) -> (f64, i64)
  vector.print %b#0 : f64 punctuation <comma>
  vector.print %b#1 : i64
  return
}

func.func @main() {
  %p = arith.constant 2.5 : f64
  %m = arith.constant -3.0 : f64
  // CHECK: 102.5, 11
  // CHECK-NEXT: 2.5, 10
  call @run(%p) : (f64) -> ()
  // CHECK-NEXT: -3, 8
  // CHECK-NEXT: -3, 10
  call @run(%m) : (f64) -> ()
  return
}
