// A step that is not injective in place, y <- y + sin(y) * x[t], written out
// of place: each step computes the next state into fresh zeroed storage.
// rev.steps runs T of them (no ancilla per step); its gradient reverses them
// by binomial checkpointing (docs/memory.md).
rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %xs: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %y = memref.load %old[%c0] : memref<?xf64>
  %x = memref.load %xs[%t] : memref<?xf64>
  %s = math.sin %y : f64
  %d = arith.mulf %s, %x : f64
  %v = arith.addf %y, %d : f64
  rev.add_at %new[%c0], %v : memref<?xf64>
  rev.return %t : index
}

rev.func @recurrence(%T: index, %y0: memref<?xf64>, %yT: memref<?xf64>, %xs: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %y0 into %yT (%xs) : memref<?xf64>, memref<?xf64>
  rev.return %T : index
}
