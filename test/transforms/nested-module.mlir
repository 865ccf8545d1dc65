// A rev.func inside a nested module is inverted and differentiated like a
// top-level one, its generated functions placed in its own symbol table
// (and the outer @f, a different function, is not mistaken for it).
// RUN: rev-opt %s --rev-invert --rev-ad --rev-fwd | FileCheck %s

// CHECK-LABEL: module @inner
// CHECK: rev.func @f(%{{.*}}: f64, %{{.*}}: f64) -> (f64, f64)
// CHECK-DAG: rev.func @f_inv({{.*}}) -> (f64, f64) attributes {rev.inverse_of = @f}
// CHECK-DAG: rev.func @f_bwd({{.*}}) -> (f64, f64, f64, f64) attributes {rev.backward_of = @f}
// CHECK-DAG: rev.func @f_grad({{.*}}) -> (f64, f64, f64, f64) attributes {{{.*}}rev.gradient_of = @f}
// CHECK-DAG: rev.func @f_fwd({{.*}}) -> (f64, f64, f64, f64) attributes {rev.tangent_of = @f}
// CHECK: }
module @inner {
  rev.func @f(%x: f64, %y: f64) -> (f64, f64) {
    %s = math.sin %x : f64
    %y1 = rev.add %y, %s : f64
    rev.return %x, %y1 : f64, f64
  }
}

// The outer @f gets its own inverse and derivatives, in the outer module.
// CHECK-LABEL: rev.func @f(%{{.*}}: f64) -> f64
// CHECK-DAG: rev.func @f_inv(%{{.*}}: f64) -> f64 attributes {rev.inverse_of = @f}
// CHECK-DAG: rev.func @f_grad(%{{.*}}: f64, %{{.*}}: f64) -> (f64, f64) attributes {{{.*}}rev.gradient_of = @f}
rev.func @f(%x: f64) -> f64 {
  %c = arith.constant 3.0 : f64
  %x1 = rev.mul %x, %c : f64
  rev.return %x1 : f64
}
