// RUN: rev-opt %s --rev-pipeline-sweeps=min-divisions=2 -split-input-file | FileCheck %s
// RUN: rev-opt %s --rev-pipeline-sweeps="min-divisions=2 vector-bits=512" -split-input-file | FileCheck %s --check-prefix=W512
// RUN: rev-opt %s --rev-pipeline-sweeps -split-input-file | FileCheck %s --check-prefix=DEFAULT
// RUN: rev-opt %s --rev-pipeline-sweeps="min-divisions=2 parallel-chunk=10" -split-input-file | FileCheck %s --check-prefix=CHUNK

// A forward part of two divisions of X[i] (independent of the adjoints) and a
// backward chain on Yb[i] that reads them and accumulates into Xb[i]: the loop
// becomes a vector loop whose steps run the next vector's divisions
// interleaved with the current vector's chain, through a two-slot buffer
// indexed by the step's parity; the rest of the elements run in the original
// loop.

// CHECK-LABEL: func.func @pipelined
// CHECK-SAME: (%[[X:.*]]: memref<?xf64>, %[[YB:.*]]: memref<?xf64>, %[[XB:.*]]: memref<?xf64>, %[[LB:.*]]: index, %[[UB:.*]]: index)
//   the buffer: once, at the function's entry
// CHECK-NEXT: %[[BUF:.*]] = memref.alloca() : memref<2x2xvector<4xf64>>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
//   the trip count, 0 when ub <= lb (ub - lb is then exact as an unsigned number)
// CHECK: %[[NONEMPTY:.*]] = arith.cmpi sgt, %[[UB]], %[[LB]]
// CHECK: %[[N:.*]] = arith.subi %[[UB]], %[[LB]]
// CHECK: %[[COUNT:.*]] = arith.select %[[NONEMPTY]], %[[N]], %[[C0]]
// CHECK: %[[NVEC:.*]] = arith.divui %[[COUNT]], %[[C4]]
// CHECK: %[[FULL:.*]] = arith.muli %[[NVEC]], %[[C4]]
// CHECK: %[[END:.*]] = arith.addi %[[LB]], %[[FULL]]
// CHECK: %[[ANY:.*]] = arith.cmpi ne, %[[NVEC]], %[[C0]]
// CHECK: scf.if %[[ANY]] {
// CHECK-NEXT: %[[D0:.*]] = vector.broadcast %{{.*}} : f64 to vector<4xf64>
// CHECK-NEXT: %[[D1:.*]] = vector.broadcast %{{.*}} : f64 to vector<4xf64>
//   the first vector's forward part, into half 0
// CHECK: %[[X0:.*]] = vector.load %[[X]][%[[LB]]] : memref<?xf64>, vector<4xf64>
// CHECK: %[[Q0:.*]] = arith.divf %[[X0]], %[[D0]] : vector<4xf64>
// CHECK: memref.store %[[Q0]], %[[BUF]][%[[C0]], %{{.*}}]
// CHECK: %[[Q1:.*]] = arith.divf %[[X0]], %[[D1]] : vector<4xf64>
// CHECK: memref.store %[[Q1]], %[[BUF]][%[[C0]], %{{.*}}]
//   the steps: the next vector's forward part (into half 1 - parity)
//   interleaved with this one's backward part (from half parity)
// CHECK: %[[LAST:.*]] = arith.subi %[[NVEC]], %{{.*}}
// CHECK: scf.for %[[J:.*]] = %[[C0]] to %[[LAST]] step %{{.*}} {
// CHECK: %[[JV:.*]] = arith.muli %[[J]], %[[C4]]
// CHECK: %[[BASE:.*]] = arith.addi %[[LB]], %[[JV]]
// CHECK: %[[NEXT:.*]] = arith.addi %[[BASE]], %[[C4]]
// CHECK: %[[IN:.*]] = arith.remui %[[J]], %[[C2]]
// CHECK: %[[OUT:.*]] = arith.subi %{{.*}}, %[[IN]]
// CHECK: %[[XN:.*]] = vector.load %[[X]][%[[NEXT]]]
// CHECK: %[[Y:.*]] = vector.load %[[YB]][%[[BASE]]]
// CHECK: %[[P0:.*]] = memref.load %[[BUF]][%[[IN]], %{{.*}}]
// CHECK: %[[M0:.*]] = arith.mulf %[[Y]], %[[P0]] : vector<4xf64>
// CHECK: %[[A0:.*]] = arith.addf %[[M0]], %[[Y]]
// CHECK: %[[N0:.*]] = arith.divf %[[XN]], %[[D0]]
// CHECK: memref.store %[[N0]], %[[BUF]][%[[OUT]], %{{.*}}]
// CHECK: %[[P1:.*]] = memref.load %[[BUF]][%[[IN]], %{{.*}}]
// CHECK: %[[M1:.*]] = arith.mulf %[[A0]], %[[P1]]
// CHECK: %[[A1:.*]] = arith.addf %[[M1]], %[[Y]]
// CHECK: %[[O:.*]] = vector.load %[[XB]][%[[BASE]]]
// CHECK: %[[N1:.*]] = arith.divf %[[XN]], %[[D1]]
// CHECK: memref.store %[[N1]], %[[BUF]][%[[OUT]], %{{.*}}]
// CHECK: %[[S:.*]] = arith.addf %[[O]], %[[A1]]
// CHECK: vector.store %[[S]], %[[XB]][%[[BASE]]] : memref<?xf64>, vector<4xf64>
// CHECK: }
//   the last vector's backward part
// CHECK: arith.muli %[[LAST]], %[[C4]]
// CHECK: %[[LASTIN:.*]] = arith.remui %[[LAST]], %[[C2]]
// CHECK: memref.load %[[BUF]][%[[LASTIN]], %{{.*}}]
// CHECK: vector.store
// CHECK: }
//   the elements after the last full vector: the original loop
// CHECK: scf.for %{{.*}} = %[[END]] to %[[UB]] step %{{.*}} {
// CHECK: arith.divf %{{.*}} : f64
// CHECK: memref.store %{{.*}}, %[[XB]]

// W512-LABEL: func.func @pipelined
// W512: memref.alloca() : memref<2x2xvector<8xf64>>
// W512: arith.divf {{.*}} : vector<8xf64>

// Two divisions: under the default minimum (8), left alone.
// DEFAULT-LABEL: func.func @pipelined
// DEFAULT-NOT: vector
// DEFAULT: return
func.func @pipelined(%X: memref<?xf64>, %Yb: memref<?xf64>, %Xb: memref<?xf64>, %lb: index, %ub: index) attributes {rev.noalias_arg_count = 17 : i64} {
  %d0 = arith.constant 3.0 : f64
  %d1 = arith.constant 5.0 : f64
  %c1 = arith.constant 1 : index
  scf.for %i = %lb to %ub step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %yb = memref.load %Yb[%i] : memref<?xf64>
    %q0 = arith.divf %x, %d0 : f64
    %q1 = arith.divf %x, %d1 : f64
    %m0 = arith.mulf %yb, %q0 : f64
    %a0 = arith.addf %m0, %yb : f64
    %m1 = arith.mulf %a0, %q1 : f64
    %a1 = arith.addf %m1, %yb : f64
    %o = memref.load %Xb[%i] : memref<?xf64>
    %s = arith.addf %o, %a1 : f64
    memref.store %s, %Xb[%i] : memref<?xf64>
  }
  return
}

// -----

// f32: 8 lanes in 256 bits; a square root counts as a division; a value
// from outside the loop is broadcast once.
// CHECK-LABEL: func.func @f32_sqrt
// CHECK: memref.alloca() : memref<2x2xvector<8xf32>>
// CHECK: vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK: math.sqrt %{{.*}} : vector<8xf32>
// CHECK: arith.divf %{{.*}} : vector<8xf32>
func.func @f32_sqrt(%X: memref<?xf32>, %Yb: memref<?xf32>, %Xb: memref<?xf32>, %n: index, %k: f32) attributes {rev.noalias_arg_count = 16 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf32>
    %yb = memref.load %Yb[%i] : memref<?xf32>
    %r = math.sqrt %x : f32
    %q = arith.divf %x, %k : f32
    %m0 = arith.mulf %yb, %r : f32
    %a0 = arith.addf %m0, %yb : f32
    %m1 = arith.mulf %a0, %q : f32
    %a1 = arith.addf %m1, %yb : f32
    memref.store %a1, %Xb[%i] : memref<?xf32>
  }
  return
}

// -----

// Left alone: a plain func.func (no rev.noalias_arg_count: its memref
// arguments may share memory), divisions by powers of two (LLVM multiplies),
// the induction variable used as a value, a loop with results, a step other
// than 1, a strided memref, a loaded memref the loop also writes (the
// divisions then depend on the backward part's memory).
// CHECK-LABEL: func.func @not_rev
// CHECK-NOT: vector
// CHECK: return
func.func @not_rev(%X: memref<?xf64>, %Xb: memref<?xf64>, %n: index, %d0: f64, %d1: f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %q0 = arith.divf %x, %d0 : f64
    %q1 = arith.divf %x, %d1 : f64
    %m = arith.mulf %q0, %q1 : f64
    %a = arith.addf %m, %q0 : f64
    memref.store %a, %Xb[%i] : memref<?xf64>
  }
  return
}

// CHECK-LABEL: func.func @powers_of_two
// CHECK-NOT: vector
// CHECK: return
func.func @powers_of_two(%X: memref<?xf64>, %Xb: memref<?xf64>, %n: index) attributes {rev.noalias_arg_count = 11 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %two = arith.constant 2.0 : f64
  %quarter = arith.constant 0.25 : f64
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %q0 = arith.divf %x, %two : f64
    %q1 = arith.divf %x, %quarter : f64
    %m = arith.mulf %q0, %q1 : f64
    %a = arith.addf %m, %q0 : f64
    memref.store %a, %Xb[%i] : memref<?xf64>
  }
  return
}

// CHECK-LABEL: func.func @index_as_value
// CHECK-NOT: vector
// CHECK: return
func.func @index_as_value(%X: memref<?xf64>, %Xb: memref<?xf64>, %n: index, %d0: f64, %d1: f64) attributes {rev.noalias_arg_count = 13 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %ii = arith.index_cast %i : index to i64
    %fi = arith.sitofp %ii : i64 to f64
    %q0 = arith.divf %x, %d0 : f64
    %q1 = arith.divf %fi, %d1 : f64
    %m = arith.mulf %q0, %q1 : f64
    %a = arith.addf %m, %q0 : f64
    memref.store %a, %Xb[%i] : memref<?xf64>
  }
  return
}

// CHECK-LABEL: func.func @with_results
// CHECK-NOT: vector
// CHECK: return
func.func @with_results(%X: memref<?xf64>, %Xb: memref<?xf64>, %n: index, %d0: f64, %d1: f64) -> f64 attributes {rev.noalias_arg_count = 13 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    %q0 = arith.divf %x, %d0 : f64
    %q1 = arith.divf %x, %d1 : f64
    %m = arith.mulf %q0, %q1 : f64
    %a = arith.addf %m, %acc : f64
    memref.store %a, %Xb[%i] : memref<?xf64>
    scf.yield %a : f64
  }
  return %r : f64
}

// CHECK-LABEL: func.func @step_two
// CHECK-NOT: vector
// CHECK: return
func.func @step_two(%X: memref<?xf64>, %Xb: memref<?xf64>, %n: index, %d0: f64, %d1: f64) attributes {rev.noalias_arg_count = 13 : i64} {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  scf.for %i = %c0 to %n step %c2 {
    %x = memref.load %X[%i] : memref<?xf64>
    %q0 = arith.divf %x, %d0 : f64
    %q1 = arith.divf %x, %d1 : f64
    %m = arith.mulf %q0, %q1 : f64
    %a = arith.addf %m, %q0 : f64
    memref.store %a, %Xb[%i] : memref<?xf64>
  }
  return
}

// CHECK-LABEL: func.func @strided
// CHECK-NOT: vector
// CHECK: return
func.func @strided(%X: memref<?xf64, strided<[2]>>, %Xb: memref<?xf64>, %n: index, %d0: f64, %d1: f64) attributes {rev.noalias_arg_count = 13 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64, strided<[2]>>
    %q0 = arith.divf %x, %d0 : f64
    %q1 = arith.divf %x, %d1 : f64
    %m = arith.mulf %q0, %q1 : f64
    %a = arith.addf %m, %q0 : f64
    memref.store %a, %Xb[%i] : memref<?xf64>
  }
  return
}

// CHECK-LABEL: func.func @unsigned_loop
// CHECK-NOT: vector
// CHECK: return
func.func @unsigned_loop(%X: memref<?xf64>, %Xb: memref<?xf64>, %n: index, %d0: f64, %d1: f64) attributes {rev.noalias_arg_count = 13 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for unsigned %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %q0 = arith.divf %x, %d0 : f64
    %q1 = arith.divf %x, %d1 : f64
    %m = arith.mulf %q0, %q1 : f64
    %a = arith.addf %m, %q0 : f64
    memref.store %a, %Xb[%i] : memref<?xf64>
  }
  return
}

// In an scf.parallel's body, without parallel-chunk (whose pipeline gives
// each iteration a stack scope): left alone, a buffer at the function's
// entry would be shared by the threads.
// CHECK-LABEL: func.func @in_parallel_body
// CHECK-NOT: vector
// CHECK: return
func.func @in_parallel_body(%X: memref<?xf64>, %Xb: memref<?xf64>, %n: index, %d0: f64, %d1: f64) attributes {rev.noalias_arg_count = 13 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%r) = (%c0) to (%c4) step (%c1) {
    scf.for %i = %c0 to %n step %c1 {
      %x = memref.load %X[%i] : memref<?xf64>
      %q0 = arith.divf %x, %d0 : f64
      %q1 = arith.divf %x, %d1 : f64
      %m = arith.mulf %q0, %q1 : f64
      %a = arith.addf %m, %q0 : f64
      memref.store %a, %Xb[%i] : memref<?xf64>
    }
    scf.reduce
  }
  return
}

// CHECK-LABEL: func.func @in_place
// CHECK-NOT: vector
// CHECK: return
func.func @in_place(%X: memref<?xf64>, %n: index, %d0: f64, %d1: f64) attributes {rev.noalias_arg_count = 7 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %q0 = arith.divf %x, %d0 : f64
    %q1 = arith.divf %x, %d1 : f64
    %m = arith.mulf %q0, %q1 : f64
    %a = arith.addf %m, %q0 : f64
    memref.store %a, %X[%i] : memref<?xf64>
  }
  return
}

// -----

// parallel-chunk: a one-dimensional scf.parallel (no reductions) whose body
// qualifies becomes an scf.parallel over chunks of that many elements
// (rounded up to whole vectors: 10 -> 12), each chunk's elements an scf.for
// that is pipelined, the buffer at the start of the chunk's body (one per
// thread once the chunks run on threads). Without the option, scf.parallel
// is left alone.
// CHECK-LABEL: func.func @chunked
// CHECK-SAME: (%[[X:.*]]: memref<?xf64>, %{{.*}}: memref<?xf64>, %[[N:.*]]: index
// CHECK-NOT: vector
// CHECK: scf.parallel
// CHECK-NOT: vector
// CHECK: return
// CHUNK-LABEL: func.func @chunked
// CHUNK-SAME: (%[[X:.*]]: memref<?xf64>, %{{.*}}: memref<?xf64>, %[[N:.*]]: index
// CHUNK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHUNK-DAG: %[[C12:.*]] = arith.constant 12 : index
// CHUNK: scf.parallel (%[[S:.*]]) = (%[[C0]]) to (%[[N]]) step (%[[C12]]) {
// CHUNK-NEXT: memref.alloca() : memref<2x2xvector<4xf64>>
// CHUNK-NEXT: %[[REST:.*]] = arith.subi %[[N]], %[[S]]
// CHUNK-NEXT: %[[SIZE:.*]] = arith.minui %[[C12]], %[[REST]]
// CHUNK-NEXT: %[[E:.*]] = arith.addi %[[S]], %[[SIZE]]
// CHUNK: arith.cmpi sgt, %[[E]], %[[S]]
// CHUNK: scf.if
// CHUNK: vector.load %[[X]][%[[S]]]
// CHUNK: scf.for
// CHUNK: arith.remui
// CHUNK: scf.for %{{.*}} = %{{.*}} to %[[E]]
// CHUNK: scf.reduce
func.func @chunked(%X: memref<?xf64>, %Xb: memref<?xf64>, %n: index, %d0: f64, %d1: f64) attributes {rev.noalias_arg_count = 13 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %x = memref.load %X[%i] : memref<?xf64>
    %q0 = arith.divf %x, %d0 : f64
    %q1 = arith.divf %x, %d1 : f64
    %m = arith.mulf %q0, %q1 : f64
    %a = arith.addf %m, %q0 : f64
    memref.store %a, %Xb[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
