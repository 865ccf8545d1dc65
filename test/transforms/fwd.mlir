// RUN: rev-opt %s --rev-fwd | FileCheck %s
// RUN: rev-opt %s --rev-fwd --rev-invert | rev-opt | FileCheck %s --check-prefix=INV

// Tangent (forward-mode) rules: each op is emitted with its tangent update;
// the tangent function is a rev.func with the gradient's argument layout.

// INV-LABEL: rev.func @t_fwd_inv(

// CHECK-LABEL: rev.func @t_fwd(
// CHECK-SAME: %[[Y:[^:]*]]: f64, %[[X:[^:]*]]: f64, %[[A:[^:]*]]: f64, %[[B:[^:]*]]: f64, %[[M:[^:]*]]: memref<2xf64>, %[[N:[^:]*]]: index,
// CHECK-SAME: %[[YD:[^:]*]]: f64, %[[XD:[^:]*]]: f64, %[[AD:[^:]*]]: f64, %[[BD:[^:]*]]: f64, %[[MD:[^:]*]]: memref<2xf64>)
// CHECK-SAME: -> (f64, f64, f64, f64, index, f64, f64, f64, f64) attributes {rev.tangent_of = @t}
// y *= sin(x): y' = y' sin(x) + y cos(x) x'
// CHECK: %[[S:.*]] = math.sin %[[X]]
// CHECK: %[[YD1:.*]] = rev.mul %[[YD]], %[[S]]
// CHECK: %[[C:.*]] = math.cos %[[X]]
// CHECK: %[[SD:.*]] = arith.mulf %[[C]], %[[XD]]
// CHECK: %[[P:.*]] = arith.mulf %[[Y]], %[[SD]]
// CHECK: %[[YD2:.*]] = rev.add %[[YD1]], %[[P]]
// CHECK: %[[Y1:.*]] = rev.mul %[[Y]], %[[S]]
// rot: rotate the tangents, add theta' times the derivative in theta.
// CHECK: %[[AD1:.*]], %[[BD1:.*]] = rev.rot %[[AD]], %[[BD]], %[[X]]
// CHECK: %[[AD2:.*]] = rev.add %[[AD1]], %{{.*}}
// CHECK: %[[BD2:.*]] = rev.add %[[BD1]], %{{.*}}
// CHECK: %[[A1:.*]], %[[B1:.*]] = rev.rot %[[A]], %[[B]], %[[X]]
// loops carry the tangents of their variables; loads of memrefs read the tangent memref.
// CHECK: %[[R:.*]]:2 = rev.for %{{.*}} = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[V:.*]] = %[[Y1]], %[[VD:.*]] = %[[YD2]]) -> (f64, f64) {
// CHECK: %[[E:.*]] = memref.load %[[M]]
// CHECK: %[[ED:.*]] = memref.load %[[MD]]
// CHECK: %[[VD1:.*]] = rev.add %[[VD]], %[[ED]]
// CHECK: %[[V1:.*]] = rev.add %[[V]], %[[E]]
// CHECK: rev.yield %[[V1]], %[[VD1]]
// CHECK: rev.add_at %[[MD]][%{{.*}}], %[[XD]]
// CHECK: rev.add_at %[[M]][%{{.*}}], %[[X]]
// CHECK: rev.return %[[R]]#0, %[[X]], %[[A1]], %[[B1]], %[[N]], %[[R]]#1, %[[XD]], %[[AD2]], %[[BD2]]
rev.func @t(%y: f64, %x: f64, %a: f64, %b: f64, %A: memref<2xf64>, %n: index) -> (f64, f64, f64, f64, index) {
  %s = math.sin %x : f64
  %y1 = rev.mul %y, %s : f64
  %a1, %b1 = rev.rot %a, %b, %x : f64
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = rev.for %i = %c0 to %n step %c1 iter_args(%v = %y1) -> (f64) {
    %e = memref.load %A[%c1] : memref<2xf64>
    %v1 = rev.add %v, %e : f64
    rev.yield %v1 : f64
  }
  rev.add_at %A[%c0], %x : memref<2xf64>
  rev.return %r, %x, %a1, %b1, %n : f64, f64, f64, f64, index
}
