// Shared by benchmarks/loop_budget_nested.py and test/python/test_loop_budget_nested.py.
// A nest of reversible loops: the coupled recurrence of examples/coupled.mlir
// run K = len(W) times per element of X, with an update of the outer level
// before and after the inner loop:
//   a += 0.1 tanh(b) x[t];  K times { a += sin(b) x[t] w[k]; b += cos(a) x[t] };
//   b += 0.1 sin(a)
// With a loop budget the gradient stores for the inner loop too (one tape
// per nest, docs/memory.md "Nested loops").
rev.func @nested(%y: f64, %z: f64, %X: memref<?xf64>, %W: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %tenth = arith.constant 0.1 : f64
  %n = memref.dim %X, %c0 : memref<?xf64>
  %K = memref.dim %W, %c0 : memref<?xf64>
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %th = math.tanh %b : f64
    %u = arith.mulf %th, %x : f64
    %u1 = arith.mulf %u, %tenth : f64
    %a0 = rev.add %a, %u1 : f64
    %q:2 = rev.for %k = %c0 to %K step %c1 iter_args(%p = %a0, %s = %b) -> (f64, f64) {
      %w = memref.load %W[%k] : memref<?xf64>
      %sn = math.sin %s : f64
      %d = arith.mulf %sn, %x : f64
      %d1 = arith.mulf %d, %w : f64
      %p1 = rev.add %p, %d1 : f64
      %c = math.cos %p1 : f64
      %e = arith.mulf %c, %x : f64
      %s1 = rev.add %s, %e : f64
      rev.yield %p1, %s1 : f64, f64
    }
    %v = math.sin %q#0 : f64
    %v1 = arith.mulf %v, %tenth : f64
    %b2 = rev.add %q#1, %v1 : f64
    rev.yield %q#0, %b2 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}
