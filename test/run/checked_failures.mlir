// Checked mode turns silent reversibility violations into run-time errors
// that name the op and its source location.
// RUN: rev-opt %s --rev-to-llvm="checks=true" > %t.ll.mlir
// RUN: not mlir-runner %t.ll.mlir -e leak -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=LEAK
// RUN: not mlir-runner %t.ll.mlir -e bad_post -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=POST
// RUN: not mlir-runner %t.ll.mlir -e zero_div -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=DIV
// RUN: not mlir-runner %t.ll.mlir -e alias -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=ALIAS
// RUN: not mlir-runner %t.ll.mlir -e while_entry -entry-point-result=void -shared-libs=%mlir_runner_libs 2>&1 | FileCheck %s --check-prefix=WHILE
// Without checks the same programs run (and silently compute garbage).
// RUN: rev-opt %s --rev-to-llvm | mlir-runner -e leak -entry-point-result=void -shared-libs=%mlir_runner_libs

// An ancilla freed while it still holds x.
rev.func @forgets(%x: f64) -> f64 {
  %t = rev.alloc : f64
  %t1 = rev.add %t, %x : f64
  rev.free %t1 : f64
  rev.return %x : f64
}
// LEAK: ancilla not restored to its initial value (rev.free at loc({{.*}}checked_failures.mlir":16:3))
func.func @leak() {
  %x = arith.constant 3.0 : f64
  %y = rev.call @forgets(%x) : (f64) -> f64
  return
}

// post (x > 1) does not agree with pre (x > 0) for x = 0.5.
rev.func @wrong_post(%x: f64) -> f64 {
  %r = rev.if %x : f64 pre {
  ^bb0(%a: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64):
    rev.yield %a : f64
  } post {
  ^bb0(%a: f64):
    %o = arith.constant 1.0 : f64
    %c = arith.cmpf ogt, %a, %o : f64
    rev.cond %c
  }
  rev.return %r : f64
}
// POST: post-condition disagrees with pre-condition (rev.if at loc({{.*}}checked_failures.mlir":28:8))
func.func @bad_post() {
  %x = arith.constant 0.5 : f64
  %y = rev.call @wrong_post(%x) : (f64) -> f64
  return
}

rev.func @divide(%x: f64, %d: f64) -> (f64, f64) {
  %y = rev.div %x, %d : f64
  rev.return %y, %d : f64, f64
}
// DIV: zero divisor (rev.div at
func.func @zero_div() {
  %x = arith.constant 3.0 : f64
  %d = arith.constant 0.0 : f64
  %y:2 = rev.call @divide(%x, %d) : (f64, f64) -> (f64, f64)
  return
}

// A[i] += A[j] with i == j at run time.
rev.func @accumulate(%A: memref<2xf64>, %i: index, %j: index) -> (index, index) {
  %v = memref.load %A[%j] : memref<2xf64>
  rev.add_at %A[%i], %v : memref<2xf64>
  rev.return %i, %j : index, index
}
// ALIAS: element aliasing: the delta reads the element being updated (rev.add_at at
func.func @alias() {
  %A = memref.alloc() : memref<2xf64>
  %c1 = arith.constant 1 : index
  %r:2 = rev.call @accumulate(%A, %c1, %c1) : (memref<2xf64>, index, index) -> (index, index)
  return
}

// The while post condition (k > 0) must be false on entry.
rev.func @count(%k: i64) -> i64 {
  %r = rev.while %k : i64 pre {
  ^bb0(%a: i64):
    %n = arith.constant 3 : i64
    %c = arith.cmpi slt, %a, %n : i64
    rev.cond %c
  } do {
  ^bb0(%a: i64):
    %one = arith.constant 1 : i64
    %a1 = rev.add %a, %one : i64
    rev.yield %a1 : i64
  } post {
  ^bb0(%a: i64):
    %z = arith.constant 0 : i64
    %c = arith.cmpi sgt, %a, %z : i64
    rev.cond %c
  }
  rev.return %r : i64
}
// WHILE: post-condition holds on entry (rev.while at
func.func @while_entry() {
  %k = arith.constant 1 : i64
  %r = rev.call @count(%k) : (i64) -> i64
  return
}
