// A Jacobian driver in a func.func: for each row of P, rev.grad_call runs the
// two-seed gradient of @obs (resolved by --rev-ad into a rev.call of
// @obs_grad_x2) on stack copies of the row and stack shadows, so both rows
// of the 2 x 3 block come out of one sweep with no whole-array shadow.
// RUN: rev-opt %s --rev-ad --rev-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s
// The same with the plain (not fused, not adjoint-only) gradient.
// RUN: rev-opt %s "--rev-ad=adjoint-only=0 fuse-sweeps=0" --rev-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

// e0 += s sin(p0) p1, e1 += p0^2: d e0 = (s cos(p0) p1, s sin(p0); sin(p0) p1),
// d e1 = (2 p0, 0; 0) (columns p0, p1; s).
rev.func @obs(%s: f64, %p: memref<2xf64>, %e: memref<2xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %p0 = memref.load %p[%c0] : memref<2xf64>
  %p1 = memref.load %p[%c1] : memref<2xf64>
  %sn = math.sin %p0 : f64
  %a = arith.mulf %sn, %p1 : f64
  %b = arith.mulf %s, %a : f64
  rev.add_at %e[%c0], %b : memref<2xf64>
  %q = arith.mulf %p0, %p0 : f64
  rev.add_at %e[%c1], %q : memref<2xf64>
  rev.return %s : f64
}

// Closed form (columns d/dp0, d/dp1, d/ds for e0, then for e1), rows
// (0.5, 2), (1, -1), (-0.25, 3), s = 1.5:
// CHECK: 2.63275, 0.719138, 0.958851, 1, 0, 0
// CHECK-NEXT: -0.810453, 1.26221, -0.841471, 2, 0, 0
// CHECK-NEXT: 4.36011, -0.371106, -0.742212, -0.5, 0, 0
func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %s = arith.constant 1.5 : f64
  %P = memref.alloca() : memref<3x2xf64>
  %v00 = arith.constant 0.5 : f64
  %v01 = arith.constant 2.0 : f64
  %v10 = arith.constant 1.0 : f64
  %v11 = arith.constant -1.0 : f64
  %v20 = arith.constant -0.25 : f64
  %v21 = arith.constant 3.0 : f64
  memref.store %v00, %P[%c0, %c0] : memref<3x2xf64>
  memref.store %v01, %P[%c0, %c1] : memref<3x2xf64>
  memref.store %v10, %P[%c1, %c0] : memref<3x2xf64>
  memref.store %v11, %P[%c1, %c1] : memref<3x2xf64>
  %c2 = arith.constant 2 : index
  memref.store %v20, %P[%c2, %c0] : memref<3x2xf64>
  memref.store %v21, %P[%c2, %c1] : memref<3x2xf64>
  // Stack arrays allocated once, outside the loop (an alloca in a loop body
  // grows the stack every iteration).
  %p = memref.alloca() : memref<2xf64>
  %e = memref.alloca() : memref<2xf64>
  %dp0 = memref.alloca() : memref<2xf64>
  %dp1 = memref.alloca() : memref<2xf64>
  %de0 = memref.alloca() : memref<2xf64>
  %de1 = memref.alloca() : memref<2xf64>
  scf.for %i = %c0 to %c3 step %c1 {
    %x0 = memref.load %P[%i, %c0] : memref<3x2xf64>
    %x1 = memref.load %P[%i, %c1] : memref<3x2xf64>
    memref.store %x0, %p[%c0] : memref<2xf64>
    memref.store %x1, %p[%c1] : memref<2xf64>
    scf.for %k = %c0 to %c2 step %c1 {
      memref.store %zero, %e[%k] : memref<2xf64>
      memref.store %zero, %dp0[%k] : memref<2xf64>
      memref.store %zero, %dp1[%k] : memref<2xf64>
      memref.store %zero, %de0[%k] : memref<2xf64>
      memref.store %zero, %de1[%k] : memref<2xf64>
    }
    memref.store %one, %de0[%c0] : memref<2xf64>
    memref.store %one, %de1[%c1] : memref<2xf64>
    %r:3 = rev.grad_call @obs(%s, %p, %e, %zero, %dp0, %de0, %zero, %dp1, %de1) seeds 2
        : (f64, memref<2xf64>, memref<2xf64>, f64, memref<2xf64>, memref<2xf64>, f64, memref<2xf64>, memref<2xf64>) -> (f64, f64, f64)
    %a0 = memref.load %dp0[%c0] : memref<2xf64>
    %a1 = memref.load %dp0[%c1] : memref<2xf64>
    %b0 = memref.load %dp1[%c0] : memref<2xf64>
    %b1 = memref.load %dp1[%c1] : memref<2xf64>
    vector.print %a0 : f64 punctuation <comma>
    vector.print %a1 : f64 punctuation <comma>
    vector.print %r#1 : f64 punctuation <comma>
    vector.print %b0 : f64 punctuation <comma>
    vector.print %b1 : f64 punctuation <comma>
    vector.print %r#2 : f64
  }
  return
}
