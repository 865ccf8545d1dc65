// Reversible leapfrog (velocity Verlet) integration of N particles in a
// harmonic potential, 1000 steps forward, then the same steps backward:
// positions and velocities come back to their initial values up to rounding.
// RUN: rev-opt %s --rev-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

// One step: v += -k x dt/2; x += v dt; v += -k x dt/2 (each update reads
// only the other variable, so it is reversible in place).
rev.func @leapfrog(%X: memref<?xf64>, %V: memref<?xf64>, %k: f64, %dt: f64, %steps: index) -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %half = arith.constant 0.5 : f64
  %hdt = arith.mulf %half, %dt : f64
  %kh = arith.mulf %k, %hdt : f64
  rev.for %s = %c0 to %steps step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %x = memref.load %X[%i] : memref<?xf64>
      %f = arith.mulf %kh, %x : f64
      rev.sub_at %V[%i], %f : memref<?xf64>
      %v = memref.load %V[%i] : memref<?xf64>
      %dx = arith.mulf %v, %dt : f64
      rev.add_at %X[%i], %dx : memref<?xf64>
      %x2 = memref.load %X[%i] : memref<?xf64>
      %f2 = arith.mulf %kh, %x2 : f64
      rev.sub_at %V[%i], %f2 : memref<?xf64>
    }
  }
  rev.return %k, %dt, %steps : f64, f64, index
}

func.func private @printMemrefF64(memref<*xf64>)

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %X = memref.alloc(%c3) : memref<?xf64>
  %V = memref.alloc(%c3) : memref<?xf64>
  %zero = arith.constant 0.0 : f64
  scf.for %i = %c0 to %c3 step %c1 {
    %ii = arith.index_cast %i : index to i64
    %f = arith.sitofp %ii : i64 to f64
    %one = arith.constant 1.0 : f64
    %x = arith.addf %f, %one : f64
    memref.store %x, %X[%i] : memref<?xf64>
    memref.store %zero, %V[%i] : memref<?xf64>
  }
  %k = arith.constant 1.0 : f64
  %dt = arith.constant 0.01 : f64
  %steps = arith.constant 1000 : index
  %r:3 = rev.call @leapfrog(%X, %V, %k, %dt, %steps) : (memref<?xf64>, memref<?xf64>, f64, f64, index) -> (f64, f64, index)
  %ux = memref.cast %X : memref<?xf64> to memref<*xf64>
  %uv = memref.cast %V : memref<?xf64> to memref<*xf64>
  // After t = 10: x = x0 cos(10) = -0.839 x0 (energy-conserving scheme).
  // CHECK: data =
  // CHECK-NEXT: [-0.83{{[0-9]*}},  -1.67{{[0-9]*}},  -2.51{{[0-9]*}}]
  call @printMemrefF64(%ux) : (memref<*xf64>) -> ()
  %q:3 = rev.uncall @leapfrog(%X, %V, %r#0, %r#1, %r#2) : (memref<?xf64>, memref<?xf64>, f64, f64, index) -> (f64, f64, index)
  // CHECK: data =
  // CHECK-NEXT: [1,  2,  3]
  call @printMemrefF64(%ux) : (memref<*xf64>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [{{-?}}{{[0-9.e-]+}},  {{-?}}{{[0-9.e-]+}},  {{-?}}{{[0-9.e-]+}}]
  call @printMemrefF64(%uv) : (memref<*xf64>) -> ()
  return
}
