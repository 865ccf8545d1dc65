// --rev-expand-uncalls: each rev.uncall @f becomes a rev.call of f's
// inverse, generated when missing, also for uncalls inside the inverses.
// RUN: rev-opt %s --rev-expand-uncalls | FileCheck %s

// CHECK-LABEL: rev.func @inc
rev.func @inc(%x: f64) -> f64 {
  %c = arith.constant 1.0 : f64
  %x1 = rev.add %x, %c : f64
  rev.return %x1 : f64
}

// CHECK-LABEL: rev.func @inc_inv(%{{.*}}: f64) -> f64 attributes {rev.inverse_of = @inc}
// CHECK: rev.sub
// CHECK-LABEL: rev.func @twice(
// CHECK: rev.call @inc(
// CHECK: rev.call @inc(
// The inverse of @twice (generated for the uncall) calls @inc's inverse.
// CHECK-LABEL: rev.func @twice_inv(%{{.*}}: f64) -> f64 attributes {rev.inverse_of = @twice}
// CHECK: rev.call @inc_inv(
// CHECK: rev.call @inc_inv(
rev.func @twice(%x: f64) -> f64 {
  %a = rev.call @inc(%x) : (f64) -> f64
  %b = rev.call @inc(%a) : (f64) -> f64
  rev.return %b : f64
}

// CHECK-LABEL: rev.func @user
// CHECK: %[[R:.*]] = rev.call @twice_inv(%{{.*}}) : (f64) -> f64
// CHECK-NOT: rev.uncall
rev.func @user(%x: f64) -> f64 {
  %r = rev.uncall @twice(%x) : (f64) -> f64
  rev.return %r : f64
}
