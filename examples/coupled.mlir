// Shared by benchmarks/coupled_recurrence.py and test/python/test_ad.py.
// The coupled reversible recurrence of an additive-coupling layer:
//   y += sin(z) * x[t];  z += cos(y) * x[t]   for t = 0 .. n-1
// Each update reads only the other variable, so each step is invertible in
// place and its gradient needs no tape.
rev.func @coupled(%y: f64, %z: f64, %X: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %s = math.sin %b : f64
    %d = arith.mulf %s, %x : f64
    %a1 = rev.add %a, %d : f64
    %c = math.cos %a1 : f64
    %e = arith.mulf %c, %x : f64
    %b1 = rev.add %b, %e : f64
    rev.yield %a1, %b1 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
