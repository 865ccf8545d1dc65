// Shared by scripts/demo.py and test/python/test_jit.py.
// x(t), v(t) of particles in a harmonic potential, velocity Verlet.
rev.func @leapfrog(%X: memref<?xf64>, %V: memref<?xf64>, %k: f64, %dt: f64, %steps: index)
    -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %half = arith.constant 0.5 : f64
  %kdt = arith.mulf %k, %dt : f64
  %kh = arith.mulf %kdt, %half : f64
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
