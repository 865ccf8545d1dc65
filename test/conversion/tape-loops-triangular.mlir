// Loop budgets for a triangular nest: the inner loop's bounds change with
// the outer index (k < min(t + 1, K)), so its tape is not trips(outer) x
// trips(inner). Before the top-level loop a counting loop over the outer
// iterations sums the inner trip counts (the tape's length) and stores the
// running sum before each (bases[p], one index per outer iteration); the
// iteration's flat position is bases[outer position] + inner position, in
// both sweeps. The inner bounds must be computed from the outer induction
// variable and values known before the nest by pure, speculatable ops.
// RUN: rev-opt %s --rev-ad=loop-budget=8 --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s

// y += sin(z) x[t] w[k]; z += cos(y) x[t], for k < min(t + 1, K)
rev.func @tri(%y: f64, %z: f64, %X: memref<?xf64>, %W: memref<?xf64>) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %r:2 = rev.for %t = %c0 to %n step %c1 iter_args(%a = %y, %b = %z) -> (f64, f64) {
    %x = memref.load %X[%t] : memref<?xf64>
    %K0 = memref.dim %W, %c0 : memref<?xf64>
    %t1 = arith.addi %t, %c1 : index
    %K = arith.minui %t1, %K0 : index
    %q:2 = rev.for %k = %c0 to %K step %c1 iter_args(%a0 = %a, %b0 = %b) -> (f64, f64) {
      %w = memref.load %W[%k] : memref<?xf64>
      %s = math.sin %b0 : f64
      %d = arith.mulf %s, %x : f64
      %d1 = arith.mulf %d, %w : f64
      %a1 = rev.add %a0, %d1 : f64
      %c = math.cos %a1 : f64
      %e = arith.mulf %c, %x : f64
      %b1 = rev.add %b0, %e : f64
      rev.yield %a1, %b1 : f64, f64
    }
    rev.yield %q#0, %q#1 : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// CHECK: remark: @tri_grad stores 8 (depth 1) bytes per iteration (budget 8) in 1 loop(s)
// CHECK-LABEL: func.func @tri_grad(
// CHECK-SAME:      %[[X:[^:]*]]: memref<?xf64>, %[[W:[^:]*]]: memref<?xf64>
// CHECK:         %[[DIM:.*]] = memref.dim %[[X]]
// CHECK:         %[[N:.*]] = arith.maxsi %[[DIM]], %c0
// CHECK:         %[[BASES:.*]] = memref.alloc(%[[N]]) : memref<?xindex>
// CHECK:         %[[LEN:.*]] = scf.for %[[P:[^ ]*]] = %c0 to %[[N]] step %c1 iter_args(%[[SUM:.*]] = %c0) -> (index) {
// CHECK:           %[[T1:.*]] = arith.addi %[[P]], %c1
// CHECK:           %[[KW:.*]] = memref.dim %[[W]]
// CHECK:           %[[KP:.*]] = arith.minui %[[T1]], %[[KW]]
// CHECK:           %[[TRIPS:.*]] = arith.maxsi %[[KP]], %c0
// CHECK:           memref.store %[[SUM]], %[[BASES]][%[[P]]]
// CHECK:           %[[NEXT:.*]] = arith.addi %[[SUM]], %[[TRIPS]]
// CHECK:           scf.yield %[[NEXT]]
// CHECK:         %[[TAPE:.*]] = memref.alloc(%[[LEN]]) : memref<?xf64>
// CHECK:         scf.for %[[T:[^ ]*]] = %c0 to %[[DIM]]
// CHECK:           scf.for %[[K:[^ ]*]] = %c0 to
// CHECK:             %[[BASE:.*]] = memref.load %[[BASES]][%[[T]]]
// CHECK:             %[[POS:.*]] = arith.addi %[[BASE]], %[[K]]
// CHECK:             %[[COS:.*]] = math.cos
// CHECK:             memref.store %[[COS]], %[[TAPE]][%[[POS]]]
// The backward: outer visited index VT, inner reversed from the inner
// loop's own trip count (min(VT + 1, K) - 1 - k); cos(y) is read, not
// computed (cos(z) of the recovered z still is).
// CHECK:         scf.for %[[BT:[^ ]*]] = %c0 to %[[DIM]]
// CHECK:           %[[VT:.*]] = arith.subi %{{.*}}, %[[BT]]
// CHECK:           %[[VT1:.*]] = arith.addi %[[VT]], %c1
// CHECK:           %[[KB:.*]] = arith.minui %[[VT1]]
// CHECK:           %[[LASTK:.*]] = arith.subi %[[KB]], %c1
// CHECK:           scf.for %[[BK:[^ ]*]] = %c0 to %[[KB]] step %c1 iter_args(%[[YA:[^ ]*]] =
// CHECK:             %[[VK:.*]] = arith.subi %[[LASTK]], %[[BK]]
// CHECK:             %[[BBASE:.*]] = memref.load %[[BASES]][%[[VT]]]
// CHECK:             %[[BPOS:.*]] = arith.addi %[[BBASE]], %[[VK]]
// CHECK:             %[[CY:.*]] = memref.load %[[TAPE]][%[[BPOS]]]
// CHECK-NOT:         math.cos %[[YA]]
// CHECK:             arith.mulf %[[CY]]
// CHECK-NOT:         math.cos %[[YA]]
// CHECK:             scf.yield
// CHECK:         memref.dealloc %[[TAPE]]
// CHECK:         memref.dealloc %[[BASES]]
