// The Bessel function J_2(x) by its power series (30 terms), after NiLang's
// ibesselj: y += sum_k (-1)^k (x/2)^(2k+2) / (k! (k+2)!).
// The running term and the partial sum are ancillas of a routine: computed,
// added to y, then uncomputed (term_k = term_(k-1) * -(x/2)^2 / (k (k+2)) is
// undone by a division), so nothing is left behind. Needs x != 0.
rev.func @besselj2(%x: f64, %y: f64) -> (f64, f64) {
  %r:2 = rev.routine %x, %y : f64, f64 compute {
  ^bb0(%a: f64, %b: f64):
    %c1 = arith.constant 1 : index
    %n = arith.constant 30 : index
    %two = arith.constant 2.0 : f64
    %h = arith.divf %a, %two : f64
    %h2 = arith.mulf %h, %h : f64
    %first = arith.divf %h2, %two : f64
    %t0 = rev.alloc : f64
    %t1 = rev.add %t0, %first : f64
    %s0 = rev.alloc : f64
    %s1 = rev.add %s0, %t1 : f64
    %l:2 = rev.for %k = %c1 to %n step %c1 iter_args(%t = %t1, %s = %s1) -> (f64, f64) {
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
    rev.yield %a, %b, %l#0, %l#1 : f64, f64, f64, f64
  } body {
  ^bb0(%a: f64, %b: f64, %t: f64, %s: f64):
    %b1 = rev.add %b, %s : f64
    rev.yield %a, %b1, %t, %s : f64, f64, f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
