// The loop budget: rev-ad{loop-budget=B} marks the loops and the gradient,
// --rev-tape-loops (after --lower-rev) stores the chosen values.
// RUN: rev-opt %s --rev-ad=loop-budget=16 | FileCheck %s --check-prefix=MARK
// RUN: rev-opt %s --rev-ad | FileCheck %s --check-prefix=NOMARK
// RUN: rev-opt %s --rev-ad=memory-budget=0 | FileCheck %s --check-prefix=NOMARK
// RUN: rev-opt %s --rev-ad=memory-budget=8000 --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s --check-prefix=TOTAL
// RUN: rev-opt %s --rev-ad=loop-budget=8 --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s --check-prefix=B8
// RUN: rev-opt %s --rev-ad=loop-budget=64 --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s --check-prefix=B64
// RUN: rev-opt %s --rev-ad=loop-budget=64 --rev-insert-checks --lower-rev --canonicalize --cse "--rev-tape-loops=checks=1 check-lowering=assert" | FileCheck %s --check-prefix=CHECKED
// RUN: rev-opt %s --rev-ad --rev-to-llvm | FileCheck %s --check-prefix=NONE
// RUN: not rev-opt %s --rev-ad=loop-budget=-1 2>&1 | FileCheck %s --check-prefix=ERR
// RUN: not rev-opt %s "--rev-tape-loops=check-lowering=exit" 2>&1 | FileCheck %s --check-prefix=ERR-LOWERING
// RUN: rev-opt %s --rev-insert-checks --rev-tape-loops | FileCheck %s --check-prefix=KEEP

// y += sin(z) * x[t];  z += cos(y) * x[t]
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

// MARK-LABEL: rev.func @coupled(
// MARK:         rev.for
// MARK:         } {rev.tape_loop = 0 : i64}
// MARK-LABEL: rev.func @coupled_grad(
// MARK-SAME:    rev.loop_budget = 16 : i64
// MARK-LABEL: rev.func @coupled_bwd(
// MARK:         rev.for reverse
// MARK:         } {rev.tape_adjoint = 0 : i64}

// NOMARK-NOT: rev.tape_loop
// NOMARK-NOT: rev.loop_budget

// 8 bytes: cos(y_{t+1}), on the uncompute chain of z and a partial derivative.
// B8: remark: @coupled_grad stores 8 bytes per iteration (budget 8) in 1 loop(s)
// B8-LABEL: func.func @coupled_grad(
// B8:         %[[N:.*]] = arith.maxsi
// B8:         %[[TAPE:.*]] = memref.alloc(%[[N]]) : memref<?xf64>
// B8:         scf.for %[[J:.*]] = {{.*}} iter_args(
// B8:           %[[SIN:.*]] = math.sin
// B8:           %[[Y1:.*]] = arith.addf
// B8:           %[[COS:.*]] = math.cos %[[Y1]]
// B8:           memref.store %[[COS]], %[[TAPE]][%[[J]]]
// B8:           scf.yield
// B8:         scf.for
// B8-NEXT:      %[[P:.*]] = arith.subi
// B8-NEXT:      %[[C:.*]] = memref.load %[[TAPE]][%[[P]]]
// B8-NOT:       math.cos %arg
// B8:           scf.yield
// B8:         memref.dealloc %[[TAPE]]
// B8-NOT:     rev.tape

// 64 bytes: the sines and cosines of y_{t+1} and z_t (32 bytes), each
// sincos pair stored together (one of a pair alone saves little while the
// other is still computed): cos(y_{t+1}) and sin(z_t) are on the uncompute
// chains, and the forward loop gets -sin(y_{t+1}) and cos(z_t) from the
// sincos calls LLVM forms of its own cos(y_{t+1}) and sin(z_t)
// (kSincosExtraCost). The backward loop then has no transcendental left; the
// states are not stored (their uncompute from the stored values costs less
// than a store and a load).
// B64: remark: @coupled_grad stores 32 bytes per iteration (budget 64) in 1 loop(s)
// B64-LABEL: func.func @coupled_grad(
// B64-COUNT-4: memref.alloc
// B64:         scf.for
// B64:           %[[S:.*]] = math.sin %arg
// B64:           %[[Y1:.*]] = arith.addf
// B64:           %[[C:.*]] = math.cos %[[Y1]]
// B64:           memref.store %[[S]], %alloc[
// B64:           %[[C2:.*]] = math.cos %arg
// B64:           memref.store %[[C2]], %alloc_0[
// B64:           %[[S2:.*]] = math.sin %[[Y1]]
// B64:           memref.store %[[S2]], %alloc_1[
// B64:           memref.store %[[C]], %alloc_2[
// B64:           scf.yield
// B64:         scf.for
// B64-COUNT-4:   memref.load %alloc
// B64-NOT:       math.
// B64:           scf.yield
// B64-COUNT-4: memref.dealloc

// A budget in bytes in all: one counter of the bytes no tape holds (8000 at
// the start); before the forward loop the first plan whose trip count x
// bytes per iteration fits in it is chosen (32, 24, 16 or 8 bytes per
// iteration, largest first; 4: none) and taken from the counter; both loops
// become a switch on the choice (a copy per plan, storing and reading that
// plan's tapes, allocated with the trip count when chosen and empty
// otherwise; the reverse-computing pair by default); after the backward loop
// the tapes are freed and the bytes given back. (Without a per-iteration
// budget the largest plan is the four partial derivatives, not the states as
// well: the states' uncompute from them is two multiply-adds, less than a
// store and a load each.)
// TOTAL: remark: @coupled_grad stores 32|24|16|8 bytes per iteration (budget 1073741824) in 1 loop(s), the first plan (largest first) whose tapes fit in what is left of 8000 bytes
// TOTAL-LABEL: func.func @coupled_grad(
// TOTAL-DAG:     %[[C32:.*]] = arith.constant 32 : index
// TOTAL-DAG:     %[[NOPLAN:.*]] = arith.constant 4 : index
// TOTAL-DAG:     %[[C8000:.*]] = arith.constant 8000 : index
// TOTAL:         %[[COUNTER:.*]] = memref.alloca() : memref<index>
// TOTAL:         memref.store %[[C8000]], %[[COUNTER]][]
// TOTAL:         %[[N:.*]] = arith.maxsi
// TOTAL:         %[[LEFT:.*]] = memref.load %[[COUNTER]][]
// TOTAL:         arith.select %{{.*}}, %{{.*}}, %[[NOPLAN]] : index
// TOTAL:         %[[MOST:.*]] = arith.divsi %[[LEFT]], %[[C32]] : index
// TOTAL:         %[[FITS:.*]] = arith.cmpi sle, %[[N]], %[[MOST]] : index
// TOTAL:         %[[CHOICE:.*]] = arith.select %[[FITS]], %{{.*}}, %{{.*}} : index
// TOTAL:         %[[NEED:.*]] = arith.muli %[[N]], %[[C32]] : index
// TOTAL:         %[[TAKEN:.*]] = arith.select %[[FITS]], %[[NEED]], %{{.*}} : index
// TOTAL:         %[[REST:.*]] = arith.subi %[[LEFT]], %[[TAKEN]] : index
// TOTAL:         memref.store %[[REST]], %[[COUNTER]][]
// TOTAL-COUNT-10: memref.alloc(
// TOTAL:         %[[F:.*]]:2 = scf.index_switch %[[CHOICE]] -> f64, f64
// TOTAL:         case 0 {
// TOTAL:           scf.for
// TOTAL-COUNT-4:     memref.store %{{.*}}, %alloc
// TOTAL:         case 1 {
// TOTAL:         case 2 {
// TOTAL:         case 3 {
// TOTAL:         default {
// TOTAL-NOT:       memref.store
// TOTAL:         }
// TOTAL:         scf.index_switch %[[CHOICE]] -> f64, f64, f64, f64
// TOTAL:         case 0 {
// TOTAL:           scf.for {{.*}} iter_args(%{{.*}} = %[[F]]#0, %{{.*}} = %[[F]]#1,
// TOTAL-COUNT-4:     memref.load %alloc
// TOTAL:         default {
// TOTAL-NOT:       memref.load %alloc
// TOTAL:         }
// TOTAL-COUNT-10: memref.dealloc
// TOTAL:         %[[NOW:.*]] = memref.load %[[COUNTER]][]
// TOTAL:         %[[BACK:.*]] = arith.addi %[[NOW]], %[[TAKEN]] : index
// TOTAL:         memref.store %[[BACK]], %[[COUNTER]][]
// TOTAL:         return

// Checked mode keeps the recomputation and compares.
// CHECKED-LABEL: func.func @coupled_grad(
// CHECKED:         scf.for
// CHECKED:         scf.for
// CHECKED:           math.absf
// CHECKED:           arith.cmpf ole
// CHECKED:           cf.assert %{{.*}}, "rev: a value stored for the backward sweep differs from its recomputation (rev.for at

// Without the budget nothing is stored.
// NONE-NOT: llvm.call @malloc

// The pass lowers only the checks it creates: others (here rev-level ones,
// without marks) stay as they are.
// KEEP-LABEL: rev.func @coupled(
// KEEP:         rev.check %{{.*}}, "loop step must be positive" for "rev.for"
// KEEP:         rev.check %{{.*}}, "delta is not finite (inf or NaN)" for "rev.add"
// KEEP-NOT:     func.call

// ERR: rev-ad: loop-budget must be a number of bytes per iteration >= 0, not -1
// ERR-LOWERING: --rev-tape-loops: check-lowering must be 'libc', 'runtime' or 'assert', got 'exit'
