// invert(invert(f)) is f up to canonicalisation.
// RUN: rev-opt %s --rev-invert --rev-invert="funcs=f_inv" --canonicalize | FileCheck %s

// CHECK-LABEL: rev.func @f(
// CHECK-LABEL: rev.func @f_inv_inv(
// CHECK-SAME: attributes {rev.inverse_of = @f_inv}
// CHECK: %[[S:.*]] = math.sin
// CHECK: %[[Y1:.*]] = rev.add %{{.*}}, %[[S]] : f64
// CHECK: %[[R:.*]] = rev.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[A:.*]] = %[[Y1]]) -> (f64) {
// CHECK: rev.mul %[[A]], %{{.*}} : f64
// CHECK: }
// CHECK: rev.swap %{{.*}}, %[[R]] : f64
rev.func @f(%x: f64, %y: f64) -> (f64, f64) {
  %s = math.sin %x : f64
  %y1 = rev.add %y, %s : f64
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = rev.for %i = %c0 to %c3 step %c1 iter_args(%a = %y1) -> (f64) {
    %h = arith.constant 1.5 : f64
    %a1 = rev.mul %a, %h : f64
    rev.yield %a1 : f64
  }
  %q:2 = rev.swap %x, %r : f64
  rev.return %q#0, %q#1 : f64, f64
}
