// The coupled recurrence in a branch: for p > 0 the then branch runs it
// with x[t] scaled by p, else the else branch calls @coupled. With a loop
// budget each branch's loop stores (its tapes are allocated before the
// forward branch and freed after the backward one; used when it runs).
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
rev.func @branchy(%y: f64, %z: f64, %X: memref<?xf64>, %p: f64) -> (f64, f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.if %y, %z : f64, f64 pre {
  ^bb0(%u0: f64, %v0: f64):
    %pos = arith.cmpf ogt, %p, %zero : f64
    rev.cond %pos
  } then {
  ^bb0(%u: f64, %v: f64):
    %q:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %u, %b = %v) -> (f64, f64) {
      %x = memref.load %X[%t] : memref<?xf64>
      %xp = arith.mulf %x, %p : f64
      %s = math.sin %b : f64
      %d = arith.mulf %s, %xp : f64
      %a1 = rev.add %a, %d : f64
      %c = math.cos %a1 : f64
      %e = arith.mulf %c, %x : f64
      %b1 = rev.add %b, %e : f64
      rev.yield %a1, %b1 : f64, f64
    }
    rev.yield %q#0, %q#1 : f64, f64
  } else {
  ^bb0(%u: f64, %v: f64):
    %q:2 = rev.call @coupled(%u, %v, %X) : (f64, f64, memref<?xf64>) -> (f64, f64)
    rev.yield %q#0, %q#1 : f64, f64
  }
  rev.return %r#0, %r#1, %p : f64, f64, f64
}
