// RUN: rev-opt %s -verify-diagnostics --rev-privatize-atomics

// copies=0 calls omp_get_max_threads(): a symbol of that name with another
// type is an error, not a wrong call.
func.func private @omp_get_max_threads() -> i64

func.func @scatter(%X: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = arith.constant 1.0 : f64
  // expected-error @+1 {{--rev-privatize-atomics{copies=0}: the symbol @omp_get_max_threads is taken by something other than () -> i32}}
  scf.parallel (%k) = (%c0) to (%n) step (%c1) {
    %o = memref.atomic_rmw addf %x, %X[%k] : (f64, memref<?xf64>) -> f64
    scf.reduce
  }
  return
}
