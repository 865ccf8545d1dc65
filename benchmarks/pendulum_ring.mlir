// A ring of N nonlinear pendulums coupled by springs to their neighbours,
// velocity Verlet (kick, drift, kick) for `steps` steps:
//   a_i(X) = -sin(X[i]) + k (X[i+1] - 2 X[i] + X[i-1])   (indices mod N)
//   V += dt/2 a(X);  X += dt V;  V += dt/2 a(X)
// Each kick reads X only and writes V (and the drift the reverse), so every
// update is reversible in place.
rev.func @ring(%X: memref<?xf64>, %V: memref<?xf64>, %k: f64, %dt: f64, %steps: index)
    -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %last = arith.subi %n, %c1 : index
  %half = arith.constant 0.5 : f64
  %two = arith.constant 2.0 : f64
  %h = arith.mulf %dt, %half : f64
  rev.for %s = %c0 to %steps step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %ip1 = arith.addi %i, %c1 : index
      %wrapp = arith.cmpi eq, %i, %last : index
      %ip = arith.select %wrapp, %c0, %ip1 : index
      %im1 = arith.subi %i, %c1 : index
      %wrapm = arith.cmpi eq, %i, %c0 : index
      %im = arith.select %wrapm, %last, %im1 : index
      %x = memref.load %X[%i] : memref<?xf64>
      %xp = memref.load %X[%ip] : memref<?xf64>
      %xm = memref.load %X[%im] : memref<?xf64>
      %sx = math.sin %x : f64
      %nb = arith.addf %xp, %xm : f64
      %x2 = arith.mulf %two, %x : f64
      %lap = arith.subf %nb, %x2 : f64
      %kl = arith.mulf %k, %lap : f64
      %a = arith.subf %kl, %sx : f64
      %dv = arith.mulf %h, %a : f64
      rev.add_at %V[%i], %dv : memref<?xf64>
    }
    rev.for %i = %c0 to %n step %c1 {
      %v = memref.load %V[%i] : memref<?xf64>
      %dx = arith.mulf %v, %dt : f64
      rev.add_at %X[%i], %dx : memref<?xf64>
    }
    rev.for %i = %c0 to %n step %c1 {
      %ip1 = arith.addi %i, %c1 : index
      %wrapp = arith.cmpi eq, %i, %last : index
      %ip = arith.select %wrapp, %c0, %ip1 : index
      %im1 = arith.subi %i, %c1 : index
      %wrapm = arith.cmpi eq, %i, %c0 : index
      %im = arith.select %wrapm, %last, %im1 : index
      %x = memref.load %X[%i] : memref<?xf64>
      %xp = memref.load %X[%ip] : memref<?xf64>
      %xm = memref.load %X[%im] : memref<?xf64>
      %sx = math.sin %x : f64
      %nb = arith.addf %xp, %xm : f64
      %x2 = arith.mulf %two, %x : f64
      %lap = arith.subf %nb, %x2 : f64
      %kl = arith.mulf %k, %lap : f64
      %a = arith.subf %kl, %sx : f64
      %dv = arith.mulf %h, %a : f64
      rev.add_at %V[%i], %dv : memref<?xf64>
    }
  }
  rev.return %k, %dt, %steps : f64, f64, index
}
