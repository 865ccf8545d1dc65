// Used by scripts/demo.py.
// exp(x) by its Taylor series: term *= x / i; s += term, for i = 1..n.
// The term is a variable too, so the whole loop runs backwards exactly.
rev.func @exp_series(%x: f64, %s: f64, %term: f64, %n: index) -> (f64, f64, f64, index) {
  %c1 = arith.constant 1 : index
  %n1 = arith.addi %n, %c1 : index
  %r:2 = rev.for %i = %c1 to %n1 step %c1 iter_args(%a = %s, %t = %term) -> (f64, f64) {
    %ii = arith.index_cast %i : index to i64
    %fi = arith.sitofp %ii : i64 to f64
    %q = arith.divf %x, %fi : f64
    %t1 = rev.mul %t, %q : f64
    %a1 = rev.add %a, %t1 : f64
    rev.yield %a1, %t1 : f64, f64
  }
  rev.return %x, %r#0, %r#1, %n : f64, f64, f64, index
}
