// The three GPU kernel kinds, in the standard IR that --lower-rev produces
// for a rev.parallel_for (the input contract of rev-to-gpu): an elementwise
// forward loop, a shared scalar adjoint (scf.reduce with arith.addf) and an
// indirectly indexed adjoint (memref.atomic_rmw addf: a scatter). Used by
// gpu-ptx.mlir, gpu-ptxas.mlir and test/python/test_cuda_host.py.

// y[i] += a * x[i]^2 (elementwise forward)
func.func @axpy2(%a: f64, %x: memref<?xf64>, %y: memref<?xf64>) -> f64
    attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf64>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %xi = memref.load %x[%i] : memref<?xf64>
    %yi = memref.load %y[%i] : memref<?xf64>
    %sq = arith.mulf %xi, %xi : f64
    %t = arith.mulf %a, %sq : f64
    %s = arith.addf %yi, %t : f64
    memref.store %s, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return %a : f64
}

// abar + sum_i x[i]^2 * ybar[i] (the adjoint of a in axpy2: a shared scalar)
func.func @axpy2_abar(%abar: f64, %x: memref<?xf64>, %ybar: memref<?xf64>) -> f64
    attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf64>
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%abar) -> f64 {
    %xi = memref.load %x[%i] : memref<?xf64>
    %bi = memref.load %ybar[%i] : memref<?xf64>
    %sq = arith.mulf %xi, %xi : f64
    %p = arith.mulf %sq, %bi : f64
    scf.reduce(%p : f64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.addf %l, %rr : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}

// xbar[col[k]] += val[k] * ybar[row[k]] (the adjoint of a COO SpMV: a scatter)
func.func @spmv_t(%val: memref<?xf64>, %row: memref<?xi64>, %col: memref<?xi64>,
                  %ybar: memref<?xf64>, %xbar: memref<?xf64>)
    attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %nnz = memref.dim %val, %c0 : memref<?xf64>
  scf.parallel (%k) = (%c0) to (%nnz) step (%c1) {
    %v = memref.load %val[%k] : memref<?xf64>
    %r64 = memref.load %row[%k] : memref<?xi64>
    %c64 = memref.load %col[%k] : memref<?xi64>
    %r = arith.index_cast %r64 : i64 to index
    %c = arith.index_cast %c64 : i64 to index
    %yb = memref.load %ybar[%r] : memref<?xf64>
    %p = arith.mulf %v, %yb : f64
    %old = memref.atomic_rmw addf %p, %xbar[%c] : (f64, memref<?xf64>) -> f64
    scf.reduce
  }
  return
}
