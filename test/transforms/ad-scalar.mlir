// RUN: rev-opt %s --rev-ad=adjoint-only=0 | FileCheck %s
// RUN: rev-opt %s --rev-ad --rev-invert | rev-opt | FileCheck %s --check-prefix=ROUNDTRIP

// Adjoint rules of the scalar instructions: each backward step first
// uncomputes the op through its inverse, then applies its adjoint update.

// ROUNDTRIP-LABEL: rev.func @add_bwd_inv

// CHECK-LABEL: rev.func @add_grad(
// CHECK-SAME: %[[X:.*]]: f64, %[[Y:.*]]: f64, %[[XB:.*]]: f64, %[[YB:.*]]: f64) -> (f64, f64, f64, f64)
// CHECK-SAME: attributes {rev.gradient_of = @add}
// CHECK: %[[F:.*]]:2 = rev.call @add(%[[X]], %[[Y]])
// CHECK: %[[B:.*]]:4 = rev.call @add_bwd(%[[F]]#0, %[[F]]#1, %[[XB]], %[[YB]])
// CHECK: rev.return %[[B]]#0, %[[B]]#1, %[[B]]#2, %[[B]]#3
// CHECK-LABEL: rev.func @add_bwd(
// CHECK-SAME: %[[Y:.*]]: f64, %[[X:.*]]: f64, %[[YB:.*]]: f64, %[[XB:.*]]: f64)
// CHECK-SAME: attributes {rev.backward_of = @add}
// CHECK: %[[S:.*]] = math.sin %[[X]]
// CHECK: %[[Y0:.*]] = rev.sub %[[Y]], %[[S]]
// CHECK: %[[C:.*]] = math.cos %[[X]]
// CHECK: %[[D:.*]] = arith.mulf %[[C]], %[[YB]]
// CHECK: %[[XB1:.*]] = rev.add %[[XB]], %[[D]]
// CHECK: rev.return %[[Y0]], %[[X]], %[[YB]], %[[XB1]]
rev.func @add(%y: f64, %x: f64) -> (f64, f64) {
  %s = math.sin %x : f64
  %y1 = rev.add %y, %s : f64
  rev.return %y1, %x : f64, f64
}

// CHECK-LABEL: rev.func @sub_bwd(
// CHECK-SAME: %[[Y:.*]]: f64, %[[X:.*]]: f64, %[[YB:.*]]: f64, %[[XB:.*]]: f64)
// CHECK: %[[Y0:.*]] = rev.add %[[Y]], %[[X]]
// CHECK: %[[N:.*]] = arith.negf %[[YB]]
// CHECK: %[[XB1:.*]] = rev.add %[[XB]], %[[N]]
// CHECK: rev.return %[[Y0]], %[[X]], %[[YB]], %[[XB1]]
rev.func @sub(%y: f64, %x: f64) -> (f64, f64) {
  %y1 = rev.sub %y, %x : f64
  rev.return %y1, %x : f64, f64
}

// y *= x: x_bar += y_bar * y (the recovered y), then y_bar *= x.
// CHECK-LABEL: rev.func @mul_bwd(
// CHECK-SAME: %[[Y:.*]]: f64, %[[X:.*]]: f64, %[[YB:.*]]: f64, %[[XB:.*]]: f64)
// CHECK: %[[Y0:.*]] = rev.div %[[Y]], %[[X]]
// CHECK: %[[P:.*]] = arith.mulf %[[YB]], %[[Y0]]
// CHECK: %[[XB1:.*]] = rev.add %[[XB]], %[[P]]
// CHECK: %[[YB1:.*]] = rev.mul %[[YB]], %[[X]]
// CHECK: rev.return %[[Y0]], %[[X]], %[[YB1]], %[[XB1]]
rev.func @mul(%y: f64, %x: f64) -> (f64, f64) {
  %y1 = rev.mul %y, %x : f64
  rev.return %y1, %x : f64, f64
}

// y /= x: x_bar -= y_bar * y / x^2, then y_bar /= x.
// CHECK-LABEL: rev.func @div_bwd(
// CHECK-SAME: %[[Y:.*]]: f64, %[[X:.*]]: f64, %[[YB:.*]]: f64, %[[XB:.*]]: f64)
// CHECK: %[[Y0:.*]] = rev.mul %[[Y]], %[[X]]
// CHECK: %[[P:.*]] = arith.mulf %[[YB]], %[[Y0]]
// CHECK: %[[X2:.*]] = arith.mulf %[[X]], %[[X]]
// CHECK: %[[Q:.*]] = arith.divf %[[P]], %[[X2]]
// CHECK: %[[N:.*]] = arith.negf %[[Q]]
// CHECK: %[[XB1:.*]] = rev.add %[[XB]], %[[N]]
// CHECK: %[[YB1:.*]] = rev.div %[[YB]], %[[X]]
// CHECK: rev.return %[[Y0]], %[[X]], %[[YB1]], %[[XB1]]
rev.func @div(%y: f64, %x: f64) -> (f64, f64) {
  %y1 = rev.div %y, %x : f64
  rev.return %y1, %x : f64, f64
}

// swap exchanges the adjoints (no op needed); neg negates its adjoint.
// CHECK-LABEL: rev.func @neg_swap_bwd(
// CHECK-SAME: %[[A:.*]]: f64, %[[B:.*]]: f64, %[[AB:.*]]: f64, %[[BB:.*]]: f64)
// CHECK: %[[L:.*]], %[[R:.*]] = rev.swap %[[A]], %[[B]]
// CHECK: %[[A0:.*]] = rev.neg %[[L]]
// CHECK: %[[AB0:.*]] = rev.neg %[[BB]]
// CHECK: rev.return %[[A0]], %[[R]], %[[AB0]], %[[AB]]
rev.func @neg_swap(%a: f64, %b: f64) -> (f64, f64) {
  %a1 = rev.neg %a : f64
  %a2, %b1 = rev.swap %a1, %b : f64
  rev.return %a2, %b1 : f64, f64
}

// irot: uncompute with rot, theta_bar += ..., rotate the adjoints with rot;
// rot: uncompute with irot, theta_bar += ..., rotate the adjoints with irot.
// CHECK-LABEL: rev.func @rot_bwd(
// CHECK-SAME: %[[A:.*]]: f64, %[[B:.*]]: f64, %[[T:.*]]: f64, %[[AB:.*]]: f64, %[[BB:.*]]: f64, %[[TB:.*]]: f64)
// CHECK: %[[A1:.*]], %[[B1:.*]] = rev.rot %[[A]], %[[B]], %[[T]]
// CHECK: %[[TB1:.*]] = rev.add %[[TB]], %{{.*}}
// CHECK: %[[AB1:.*]], %[[BB1:.*]] = rev.rot %[[AB]], %[[BB]], %[[T]]
// CHECK: %[[A0:.*]], %[[B0:.*]] = rev.irot %[[A1]], %[[B1]], %[[T]]
// CHECK: %[[TB2:.*]] = rev.add %[[TB1]], %{{.*}}
// CHECK: %[[AB0:.*]], %[[BB0:.*]] = rev.irot %[[AB1]], %[[BB1]], %[[T]]
// CHECK: rev.return %[[A0]], %[[B0]], %[[T]], %[[AB0]], %[[BB0]], %[[TB2]]
rev.func @rot(%a: f64, %b: f64, %t: f64) -> (f64, f64, f64) {
  %a1, %b1 = rev.rot %a, %b, %t : f64
  %a2, %b2 = rev.irot %a1, %b1, %t : f64
  rev.return %a2, %b2, %t : f64, f64, f64
}

// Integers are inactive: they get no adjoint and are only uncomputed.
// CHECK-LABEL: rev.func @inactive_bwd(
// CHECK-SAME: %[[K:.*]]: i64, %[[X:.*]]: f64, %[[XB:.*]]: f64) -> (i64, f64, f64)
// CHECK: %[[K1:.*]] = rev.sub %[[K]]
// CHECK: %[[K0:.*]] = rev.xor %[[K1]]
// CHECK: rev.return %[[K0]], %[[X]], %[[XB]]
rev.func @inactive(%k: i64, %x: f64) -> (i64, f64) {
  %c = arith.constant 5 : i64
  %k1 = rev.xor %k, %c : i64
  %k2 = rev.add %k1, %c : i64
  rev.return %k2, %x : i64, f64
}
