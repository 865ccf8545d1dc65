// Generated functions are named <f><suffix>, or <f><suffix>_<i> when that
// symbol is taken, in every pass (../shared/repro/11: --rev-invert failed
// where --rev-ad picked @f_inv_0); the marker says what they are.
// RUN: rev-opt %s --rev-invert | FileCheck %s
// RUN: rev-opt %s --rev-ad --rev-invert | FileCheck %s --check-prefix=AD

// CHECK-LABEL: rev.func @f(
// CHECK: rev.func @f_inv_0(%{{.*}}: f64) -> f64 attributes {rev.inverse_of = @f}
// CHECK: rev.func @f_inv(%{{.*}}: i64) -> i64 {
// CHECK: rev.func @f_inv_inv(%{{.*}}: i64) -> i64 attributes {rev.inverse_of = @f_inv}
// AD: rev.func @f_inv_0(%{{.*}}: f64) -> f64 attributes {rev.inverse_of = @f}
// AD-NOT: rev.func @f_inv_1
rev.func @f(%x: f64) -> f64 {
  %c = arith.constant 2.0 : f64
  %y = rev.mul %x, %c : f64
  rev.return %y : f64
}
rev.func @f_inv(%x: i64) -> i64 {
  rev.return %x : i64
}
