// --rev-owned-ranges adds plainly into M while the other rows run, so M must
// have no other name: a plain func.func's caller may pass one buffer as %M
// and %N (here N gets atomic adds at the same elements), so the loop is left
// atomic; the same function marked as lowered from a rev.func (its memref
// arguments do not share memory, rev.noalias_ptr_args) gets the owned rows.
// RUN: rev-opt %s --rev-owned-ranges | FileCheck %s

// CHECK-LABEL: func.func @plain(
// CHECK-NOT: rev.owned_ranges
// CHECK: return
func.func @plain(%P: memref<?xindex>, %M: memref<?xf64>, %N: memref<?xf64>, %rows: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = arith.constant 1.0 : f64
  scf.parallel (%r) = (%c0) to (%rows) step (%c1) {
    %r1 = arith.addi %r, %c1 : index
    %lo = memref.load %P[%r] : memref<?xindex>
    %hi = memref.load %P[%r1] : memref<?xindex>
    scf.for %k = %lo to %hi step %c1 {
      %a = memref.atomic_rmw addf %x, %M[%k] : (f64, memref<?xf64>) -> f64
      %b = memref.atomic_rmw addf %x, %N[%k] : (f64, memref<?xf64>) -> f64
    }
    scf.reduce
  }
  return
}

// CHECK-LABEL: func.func @marked(
// CHECK: } {rev.owned_ranges}
func.func @marked(%P: memref<?xindex>, %M: memref<?xf64>, %N: memref<?xf64>, %rows: index)
    attributes {rev.noalias_ptr_args = array<i64: 0, 1, 5, 6, 10, 11>, rev.noalias_arg_count = 16 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = arith.constant 1.0 : f64
  scf.parallel (%r) = (%c0) to (%rows) step (%c1) {
    %r1 = arith.addi %r, %c1 : index
    %lo = memref.load %P[%r] : memref<?xindex>
    %hi = memref.load %P[%r1] : memref<?xindex>
    scf.for %k = %lo to %hi step %c1 {
      %a = memref.atomic_rmw addf %x, %M[%k] : (f64, memref<?xf64>) -> f64
      %b = memref.atomic_rmw addf %x, %N[%k] : (f64, memref<?xf64>) -> f64
    }
    scf.reduce
  }
  return
}
