// Loop budgets for nested loops: rev-ad marks the rev.for loops nested
// directly in a marked loop's body too; --rev-tape-loops stores for them in
// tapes of one value per iteration of the whole nest (sized before the
// top-level loop: outer trips x inner trips), at the flat position
// outer position x inner trips + inner position.
// RUN: rev-opt %s --rev-ad=loop-budget=8 | FileCheck %s --check-prefix=MARK
// RUN: rev-opt %s --rev-ad=loop-budget=8 --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s --check-prefix=B8
// RUN: rev-opt %s --rev-ad=memory-budget=100000 --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s --check-prefix=TOTAL

// y += sin(z) x[t]; z += cos(y) x[t], K times per element of X
rev.func @nested(%y: f64, %z: f64, %X: memref<?xf64>, %K: index) -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %q:2 = rev.for %k = %c0 to %K step %c1 iter_args(%a0 = %a, %b0 = %b) -> (f64, f64) {
      %s = math.sin %b0 : f64
      %d = arith.mulf %s, %x : f64
      %a1 = rev.add %a0, %d : f64
      %c = math.cos %a1 : f64
      %e = arith.mulf %c, %x : f64
      %b1 = rev.add %b0, %e : f64
      rev.yield %a1, %b1 : f64, f64
    }
    rev.yield %q#0, %q#1 : f64, f64
  }
  rev.return %r#0, %r#1, %K : f64, f64, index
}

// MARK-LABEL: rev.func @nested(
// MARK:           rev.for
// MARK:           } {rev.tape_loop = 1 : i64}
// MARK:         } {rev.tape_loop = 0 : i64}
// MARK-LABEL: rev.func @nested_bwd(
// MARK:           rev.for reverse
// MARK:           } {rev.tape_adjoint = 1 : i64}
// MARK:         } {rev.tape_adjoint = 0 : i64}

// 8 bytes per inner iteration: cos(y), as in the coupled recurrence; the
// outer body has nothing worth storing.
// B8: remark: @nested_grad stores 8 (depth 1) bytes per iteration (budget 8) in 1 loop(s)
// B8-LABEL: func.func @nested_grad(
// B8-SAME:      %[[X:[^:]*]]: memref<?xf64>, %[[K:[^:]*]]: index
// B8:         %[[DIM:.*]] = memref.dim %[[X]]
// B8:         %[[N:.*]] = arith.maxsi %[[DIM]], %c0
// B8:         %[[LASTT:.*]] = arith.subi %[[DIM]], %c1
// B8:         %[[KT:.*]] = arith.maxsi %[[K]], %c0
// B8:         %[[LEN:.*]] = arith.muli %[[N]], %[[KT]]
// B8:         %[[LASTK:.*]] = arith.subi %[[K]], %c1
// B8:         %[[TAPE:.*]] = memref.alloc(%[[LEN]]) : memref<?xf64>
// B8:         scf.for %[[T:.*]] = %c0 to %[[DIM]]
// B8:           scf.for %[[KK:.*]] = %c0 to %[[K]]
// B8:             %[[ROW:.*]] = arith.muli %[[T]], %[[KT]]
// B8:             %[[P:.*]] = arith.addi %[[ROW]], %[[KK]]
// B8:             %[[COS:.*]] = math.cos
// B8:             memref.store %[[COS]], %[[TAPE]][%[[P]]]
// B8:         scf.for %[[BT:[^ ]*]] = %c0
// B8:           %[[VT:.*]] = arith.subi %[[LASTT]], %[[BT]]
// B8:           scf.for %[[BK:[^ ]*]] = %c0
// B8:             %[[VK:.*]] = arith.subi %[[LASTK]], %[[BK]]
// B8:             %[[BROW:.*]] = arith.muli %[[VT]], %[[KT]]
// B8:             %[[BP:.*]] = arith.addi %[[BROW]], %[[VK]]
// B8:             memref.load %[[TAPE]][%[[BP]]]
// B8-NOT:         math.cos %arg
// B8:         memref.dealloc %[[TAPE]]

// A budget in bytes in all: the inner loop's plans are chosen before the
// top-level loop (trip count of the nest x bytes), its forward and backward
// loops become switches inside the outer bodies, and the bytes are given back
// after the outer backward loop.
// TOTAL: remark: @nested_grad stores 32|24|16|8 (depth 1) bytes per iteration (budget 1073741824) in 1 loop(s), the first plan (largest first) whose tapes fit in what is left of 100000 bytes
// TOTAL-LABEL: func.func @nested_grad(
// TOTAL:         %[[COUNTER:.*]] = memref.alloca() : memref<index>
// TOTAL:         %[[LEFT:.*]] = memref.load %[[COUNTER]][]
// TOTAL:         memref.store %{{.*}}, %[[COUNTER]][]
// TOTAL:         scf.for
// TOTAL:           scf.index_switch
// TOTAL:           case 0 {
// TOTAL:             scf.for
// TOTAL:         scf.for
// TOTAL:           scf.index_switch
// TOTAL:           case 0 {
// TOTAL:             scf.for
// TOTAL-COUNT-10: memref.dealloc
// TOTAL:         %[[NOW:.*]] = memref.load %[[COUNTER]][]
// TOTAL:         arith.addi %[[NOW]]
// TOTAL:         memref.store %{{.*}}, %[[COUNTER]][]
// TOTAL:         return
