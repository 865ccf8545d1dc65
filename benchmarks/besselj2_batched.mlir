// Batched Bessel J_2: Y[i] += J_2(X[i]) for every element, the per-element
// routine of examples/besselj2.mlir (30-term power series; the running term
// and the partial sum are ancillas, computed, added to Y[i], uncomputed)
// inside a rev.for over the elements. Needs X[i] != 0.
rev.func @besselj2_batched(%X: memref<?xf64>, %Y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    rev.routine compute {
    ^bb0:
      %c1k = arith.constant 1 : index
      %nk = arith.constant 30 : index
      %two = arith.constant 2.0 : f64
      %h = arith.divf %x, %two : f64
      %h2 = arith.mulf %h, %h : f64
      %first = arith.divf %h2, %two : f64
      %t0 = rev.alloc : f64
      %t1 = rev.add %t0, %first : f64
      %s0 = rev.alloc : f64
      %s1 = rev.add %s0, %t1 : f64
      %l:2 = rev.for %k = %c1k to %nk step %c1k iter_args(%t = %t1, %s = %s1) -> (f64, f64) {
        %ki = arith.index_cast %k : index to i64
        %kf = arith.sitofp %ki : i64 to f64
        %k2 = arith.addf %kf, %two : f64
        %den = arith.mulf %kf, %k2 : f64
        %q = arith.divf %h2, %den : f64
        %d = arith.negf %q : f64
        %tn = rev.mul %t, %d : f64
        %sn = rev.add %s, %tn : f64
        rev.yield %tn, %sn : f64, f64
      }
      rev.yield %l#0, %l#1 : f64, f64
    } body {
    ^bb0(%t: f64, %s: f64):
      rev.add_at %Y[%i], %s : memref<?xf64>
      rev.yield %t, %s : f64, f64
    }
  }
  rev.return
}
