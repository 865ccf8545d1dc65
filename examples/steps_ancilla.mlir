// The recurrence of examples/steps.mlir, y <- y + sin(y) * x[t], with one
// fresh ancilla per step instead of rev.steps: the states live in ys (length
// T+1, ys[0] = y0, the rest zero) and step t adds y_t + sin(y_t) * x[t] into
// the zero ys[t+1]. Reversible without checkpointing (the inverse subtracts
// from ys[t+1], last step first) at the price of memory linear in T.
// benchmarks/steps_checkpointing.py runs it beside rev.steps.
rev.func @recurrence_ancilla(%T: index, %ys: memref<?xf64>, %xs: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  rev.for %t = %c0 to %T step %c1 {
    %y = memref.load %ys[%t] : memref<?xf64>
    %x = memref.load %xs[%t] : memref<?xf64>
    %s = math.sin %y : f64
    %d = arith.mulf %s, %x : f64
    %v = arith.addf %y, %d : f64
    %t1 = arith.addi %t, %c1 : index
    rev.add_at %ys[%t1], %v : memref<?xf64>
    rev.yield
  }
  rev.return %T : index
}
