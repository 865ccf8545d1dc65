// --rev-privatize-atomics: an scf.parallel whose only accesses to a 1-d
// memref are atomic adds runs as `copies` chunks with plain adds, the first
// into the memref itself, each other one into its own zero-initialised copy;
// then the copies are added into the memref in parallel. Other memrefs, other loops and big memrefs stay as
// they are.
// RUN: rev-opt %s --rev-privatize-atomics="copies=2 max-elements=1000 min-trips-per-element=0" | FileCheck %s
// RUN: rev-opt %s --rev-privatize-atomics="copies=2 max-elements=1000 min-trips-per-element=3" | FileCheck %s --check-prefix=RATIO
// RUN: rev-opt %s --rev-privatize-atomics | FileCheck %s --check-prefix=RUNTIME
// RUN: rev-opt %s --rev-to-openmp="num-threads=3" | FileCheck %s --check-prefix=PIPE
// RUN: rev-opt %s --rev-to-openmp="privatize-atomics=0" | FileCheck %s --check-prefix=NOPRIV

// CHECK-LABEL: func.func @scatter(
// CHECK-SAME: %[[V:.*]]: memref<?xf64>, %[[C:.*]]: memref<?xindex>, %[[X:.*]]: memref<?xf64>, %[[N:.*]]: index)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[TRIPS:.*]] = arith.maxsi
// CHECK: %[[SIZE:.*]] = memref.dim %[[X]], %{{.*}} : memref<?xf64>
// CHECK: %[[MAX:.*]] = arith.constant 1000 : index
// CHECK: %[[SMALL:.*]] = arith.cmpi sle, %[[SIZE]], %[[MAX]] : index
// CHECK: scf.if %[[SMALL]] {
// CHECK: %[[COPIES:.*]] = arith.constant 2 : index
// CHECK: %[[CHUNK:.*]] = arith.ceildivsi %[[TRIPS]], %[[COPIES]] : index
// CHECK: %[[OTHERS:.*]] = arith.subi %[[COPIES]], %{{.*}} : index
// CHECK: %[[TOTAL:.*]] = arith.muli %[[OTHERS]], %[[SIZE]] : index
// CHECK: %[[P:.*]] = memref.alloc(%[[TOTAL]]) : memref<?xf64>
// CHECK: scf.parallel (%[[CP:.*]]) = (%{{.*}}) to (%[[COPIES]]) step (%{{.*}}) {
// Chunk 0 adds into X itself, with plain adds.
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[CP]], %{{.*}} : index
// CHECK: scf.if %[[FIRST]] {
// CHECK: scf.for
// CHECK: %[[COL0:.*]] = memref.load %[[C]]
// CHECK: %[[OLD0:.*]] = memref.load %[[X]][%[[COL0]]] : memref<?xf64>
// CHECK: %[[NEW0:.*]] = arith.addf %[[OLD0]], %{{.*}} : f64
// CHECK: memref.store %[[NEW0]], %[[X]][%[[COL0]]] : memref<?xf64>
// The others into their zeroed part of P.
// CHECK: } else {
// CHECK: %[[CM1:.*]] = arith.subi %[[CP]], %{{.*}} : index
// CHECK: %[[BASE:.*]] = arith.muli %[[CM1]], %[[SIZE]] : index
// CHECK: %[[ZERO:.*]] = arith.constant -0.000000e+00 : f64
// CHECK: scf.for %[[Z:.*]] = %{{.*}} to %[[SIZE]] step %{{.*}} {
// CHECK: %[[ZI:.*]] = arith.addi %[[BASE]], %[[Z]] : index
// CHECK: memref.store %[[ZERO]], %[[P]][%[[ZI]]] : memref<?xf64>
// CHECK: %[[BEGIN:.*]] = arith.muli %[[CP]], %[[CHUNK]] : index
// CHECK: %[[END0:.*]] = arith.addi %[[BEGIN]], %[[CHUNK]] : index
// CHECK: %[[END:.*]] = arith.minsi %[[END0]], %[[TRIPS]] : index
// CHECK: scf.for %[[T:.*]] = %[[BEGIN]] to %[[END]] step %{{.*}} {
// CHECK: %[[VAL:.*]] = memref.load %[[V]]
// CHECK: %[[COL:.*]] = memref.load %[[C]]
// CHECK: %[[AT:.*]] = arith.addi %[[BASE]], %[[COL]] : index
// CHECK: %[[OLD:.*]] = memref.load %[[P]][%[[AT]]] : memref<?xf64>
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[VAL]] : f64
// CHECK: memref.store %[[NEW]], %[[P]][%[[AT]]] : memref<?xf64>
// CHECK-NOT: atomic_rmw
// CHECK: scf.reduce
// Then X[j] += P[j] + ... (skipped with one copy).
// CHECK: %[[MORE:.*]] = arith.cmpi sgt, %[[OTHERS]], %{{.*}} : index
// CHECK: scf.if %[[MORE]] {
// CHECK: scf.parallel (%[[J:.*]]) = (%{{.*}}) to (%[[SIZE]]) step (%{{.*}}) {
// CHECK: %[[X0:.*]] = memref.load %[[X]][%[[J]]] : memref<?xf64>
// CHECK: %[[S:.*]] = scf.for %{{.*}} = %{{.*}} to %[[OTHERS]] step %{{.*}} iter_args(%[[ACC:.*]] = %[[X0]]) -> (f64) {
// CHECK: memref.load %[[P]]
// CHECK: arith.addf %[[ACC]]
// CHECK: memref.store %[[S]], %[[X]][%[[J]]] : memref<?xf64>
// CHECK: memref.dealloc %[[P]] : memref<?xf64>
// CHECK: } else {
// CHECK: scf.parallel
// CHECK: memref.atomic_rmw addf %{{.*}}, %[[X]]
// With min-trips-per-element=3: also trips >= 3 * size, else the atomics.
// RATIO-LABEL: func.func @scatter(
// RATIO: %[[TRIPS:.*]] = arith.maxsi
// RATIO: %[[SIZE:.*]] = memref.dim
// RATIO: %[[SMALL:.*]] = arith.cmpi sle, %[[SIZE]], %{{.*}} : index
// RATIO: %[[C3:.*]] = arith.constant 3 : index
// RATIO: %[[NEED:.*]] = arith.muli %[[SIZE]], %[[C3]] : index
// RATIO: %[[MANY:.*]] = arith.cmpi sge, %[[TRIPS]], %[[NEED]] : index
// RATIO: %[[OK:.*]] = arith.andi %[[SMALL]], %[[MANY]] : i1
// RATIO: scf.if %[[OK]] {
// RATIO: memref.alloc
// RATIO: } else {
// RATIO: memref.atomic_rmw addf
// RUNTIME-LABEL: func.func private @omp_get_max_threads() -> i32
// RUNTIME-LABEL: func.func @scatter(
// RUNTIME: %[[T:.*]] = func.call @omp_get_max_threads() : () -> i32
// RUNTIME: %[[TI:.*]] = arith.index_cast %[[T]] : i32 to index
// RUNTIME: %[[COPIES:.*]] = arith.maxsi %[[TI]], %{{.*}} : index
// RUNTIME: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[COPIES]])
// PIPE-LABEL: llvm.func @scatter(
// PIPE-NOT: llvm.atomicrmw
// PIPE: llvm.call @malloc
// PIPE: omp.parallel num_threads
// PIPE: omp.wsloop
// PIPE: llvm.atomicrmw fadd
// PIPE-LABEL: llvm.func @counts(
// NOPRIV-LABEL: llvm.func @scatter(
// NOPRIV-NOT: llvm.call @malloc
// NOPRIV: llvm.atomicrmw fadd
// NOPRIV-LABEL: llvm.func @counts(
// (lowered from a rev.func: its memref arguments do not share memory)
func.func @scatter(%V: memref<?xf64>, %C: memref<?xindex>, %X: memref<?xf64>, %n: index)
    attributes {rev.noalias_ptr_args = array<i64: 0, 1, 5, 6, 10, 11>, rev.noalias_arg_count = 16 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%k) = (%c0) to (%n) step (%c1) {
    %v = memref.load %V[%k] : memref<?xf64>
    %j = memref.load %C[%k] : memref<?xindex>
    %o = memref.atomic_rmw addf %v, %X[%j] : (f64, memref<?xf64>) -> f64
    scf.reduce
  }
  return
}

// Integer adds into a static memref: privatised without a run-time test
// when min-trips-per-element=0 (lower bound 2, step 3: iteration t is 2 + 3 t).
// RATIO-LABEL: func.func @counts(
// RATIO: %[[C48:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// RATIO: arith.cmpi sge, %{{.*}}, %[[C48]] : index
// RATIO-NOT: arith.andi
// RATIO: scf.if
// CHECK-LABEL: func.func @counts(
// CHECK-NOT: scf.if
// CHECK: memref.alloc(%{{.*}}) : memref<?xi64>
// CHECK: arith.constant 0 : i64
// CHECK: scf.for %[[T:.*]] =
// CHECK: %[[OFF:.*]] = arith.muli %[[T]], %{{.*}} : index
// CHECK: %[[K:.*]] = arith.addi %{{.*}}, %[[OFF]] : index
// CHECK: memref.load %{{.*}}[%[[K]]] : memref<?xindex>
// CHECK: arith.addi %{{.*}}, %{{.*}} : i64
// CHECK-NOT: atomic_rmw
// CHECK: return
func.func @counts(%C: memref<?xindex>, %H: memref<16xi64>, %n: index) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %one = arith.constant 1 : i64
  scf.parallel (%k) = (%c2) to (%n) step (%c3) {
    %j = memref.load %C[%k] : memref<?xindex>
    %o = memref.atomic_rmw addi %one, %H[%j] : (i64, memref<16xi64>) -> i64
    scf.reduce
  }
  return
}

// Left atomic: a static size above max-elements; a memref also read in the
// loop; an atomic whose old value is used; a max instead of an add.
// CHECK-LABEL: func.func @left_alone(
// CHECK-NOT: memref.alloc
// CHECK-COUNT-4: memref.atomic_rmw
// CHECK-NOT: memref.alloc
// CHECK: return
func.func @left_alone(%Big: memref<2000xf64>, %R: memref<?xf64>, %U: memref<?xf64>,
                      %M: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = arith.constant 1.0 : f64
  scf.parallel (%k) = (%c0) to (%n) step (%c1) {
    %a = memref.atomic_rmw addf %x, %Big[%k] : (f64, memref<2000xf64>) -> f64
    %r = memref.load %R[%k] : memref<?xf64>
    %b = memref.atomic_rmw addf %r, %R[%c0] : (f64, memref<?xf64>) -> f64
    %c = memref.atomic_rmw addf %x, %U[%k] : (f64, memref<?xf64>) -> f64
    memref.store %c, %M[%k] : memref<?xf64>
    %d = memref.atomic_rmw maximumf %x, %M[%c0] : (f64, memref<?xf64>) -> f64
    scf.reduce
  }
  return
}

// A loop that also sums (scf.reduce with addf): each chunk adds its values
// from -0.0 in an scf.for, the outer loop reduces the chunks' sums into the
// init value with the original combiner; both branches yield the sum.
// CHECK-LABEL: func.func @scatter_and_sum(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[N:.*]]: index, %[[A0:.*]]: f64) -> f64
// CHECK: %[[R:.*]] = scf.if %{{.*}} -> (f64) {
// CHECK: %[[P:.*]] = memref.alloc
// CHECK: %[[OUT:.*]] = scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) init (%[[A0]]) -> f64 {
// CHECK: %[[BR:.*]] = scf.if %{{.*}} -> (f64) {
// CHECK: %[[NZ:.*]] = arith.constant -0.000000e+00 : f64
// CHECK: %[[PART0:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC0:.*]] = %[[NZ]]) -> (f64) {
// CHECK: %[[V0:.*]] = math.sin
// CHECK: memref.store %{{.*}}, %[[X]]
// CHECK: %[[NEXT0:.*]] = arith.addf %[[ACC0]], %[[V0]] : f64
// CHECK: scf.yield %[[NEXT0]] : f64
// CHECK: scf.yield %[[PART0]] : f64
// CHECK: } else {
// CHECK: %[[PART:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f64) {
// CHECK: %[[V:.*]] = math.sin
// CHECK: memref.store %{{.*}}, %[[P]]
// CHECK: %[[NEXT:.*]] = arith.addf %[[ACC]], %[[V]] : f64
// CHECK: scf.yield %[[NEXT]] : f64
// CHECK: scf.yield %[[PART]] : f64
// CHECK: scf.reduce(%[[BR]] : f64) {
// CHECK: ^bb0(%[[L:.*]]: f64, %[[RR:.*]]: f64):
// CHECK: %[[T:.*]] = arith.addf %[[L]], %[[RR]] : f64
// CHECK: scf.reduce.return %[[T]] : f64
// CHECK: memref.dealloc %[[P]]
// CHECK: scf.yield %[[OUT]] : f64
// CHECK: } else {
// CHECK: %[[ORIG:.*]] = scf.parallel {{.*}} init (%[[A0]]) -> f64 {
// CHECK: memref.atomic_rmw addf
// CHECK: scf.yield %[[ORIG]] : f64
// CHECK: return %[[R]] : f64
// PIPE-LABEL: llvm.func @scatter_and_sum(
// PIPE: omp.wsloop reduction(
func.func @scatter_and_sum(%X: memref<?xf64>, %n: index, %a0: f64) -> f64
    attributes {rev.noalias_ptr_args = array<i64: 0, 1>, rev.noalias_arg_count = 7 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.parallel (%k) = (%c0) to (%n) step (%c1) init (%a0) -> f64 {
    %ki = arith.index_cast %k : index to i64
    %kf = arith.sitofp %ki : i64 to f64
    %v = math.sin %kf : f64
    %o = memref.atomic_rmw addf %v, %X[%k] : (f64, memref<?xf64>) -> f64
    scf.reduce(%v : f64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.addf %l, %rr : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}

// A reduction that is not a sum (a product): the loop is left alone.
// CHECK-LABEL: func.func @scatter_and_product(
// CHECK-NOT: memref.alloc
// CHECK: memref.atomic_rmw addf
func.func @scatter_and_product(%X: memref<?xf64>, %n: index, %a0: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  %r = scf.parallel (%k) = (%c0) to (%n) step (%c1) init (%a0) -> f64 {
    %o = memref.atomic_rmw addf %one, %X[%k] : (f64, memref<?xf64>) -> f64
    scf.reduce(%one : f64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.mulf %l, %rr : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}

// Atomics inside a nested parallel loop (whose iterations could race on a
// private copy), in a 2-d loop, or into a memref allocated in the loop: left
// alone.
// CHECK-LABEL: func.func @nested(
// CHECK-NOT: memref.alloc(
// CHECK-COUNT-3: memref.atomic_rmw addf
// CHECK-NOT: memref.alloc(
// CHECK: return
func.func @nested(%X: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.parallel (%j) = (%c0) to (%n) step (%c1) {
      %o = memref.atomic_rmw addf %one, %X[%j] : (f64, memref<?xf64>) -> f64
      scf.reduce
    }
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %n) step (%c1, %c1) {
    %o = memref.atomic_rmw addf %one, %X[%j] : (f64, memref<?xf64>) -> f64
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %L = memref.alloca(%n) : memref<?xf64>
    %o = memref.atomic_rmw addf %one, %L[%i] : (f64, memref<?xf64>) -> f64
    scf.reduce
  }
  return
}

// A memref with another name (here a cast, which the loop could also add to
// atomically), or an argument of a plain func.func (its caller may pass one
// buffer as two arguments): chunk 0 gets a copy too (C copies), since its
// plain adds on the memref itself could race with atomics through the
// other name.
// CHECK-LABEL: func.func @scatter_other_name(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>
// CHECK: %[[COPIES:.*]] = arith.constant 2 : index
// CHECK: %[[TOTAL:.*]] = arith.muli %[[COPIES]], %{{.*}} : index
// CHECK: %[[P:.*]] = memref.alloc(%[[TOTAL]]) : memref<?xf64>
// CHECK: scf.if
// CHECK-NOT: memref.store %{{.*}}, %[[X]]
// CHECK: memref.store %{{.*}}, %[[P]]
// CHECK: } else {
func.func @scatter_other_name(%X: memref<?xf64>, %n: index) -> memref<4xf64>
    attributes {rev.noalias_ptr_args = array<i64: 0, 1>, rev.noalias_arg_count = 6 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = arith.constant 1.0 : f64
  %Y = memref.cast %X : memref<?xf64> to memref<4xf64>
  scf.parallel (%k) = (%c0) to (%n) step (%c1) {
    %a = memref.atomic_rmw addf %x, %X[%c0] : (f64, memref<?xf64>) -> f64
    scf.reduce
  }
  return %Y : memref<4xf64>
}

// CHECK-LABEL: func.func @scatter_plain_func(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>
// CHECK: %[[COPIES:.*]] = arith.constant 2 : index
// CHECK: %[[TOTAL:.*]] = arith.muli %[[COPIES]], %{{.*}} : index
// CHECK: %[[P:.*]] = memref.alloc(%[[TOTAL]]) : memref<?xf64>
// CHECK: scf.if
// CHECK-NOT: memref.store %{{.*}}, %[[X]]
// CHECK: memref.store %{{.*}}, %[[P]]
// CHECK: } else {
func.func @scatter_plain_func(%X: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = arith.constant 1.0 : f64
  scf.parallel (%k) = (%c0) to (%n) step (%c1) {
    %a = memref.atomic_rmw addf %x, %X[%c0] : (f64, memref<?xf64>) -> f64
    scf.reduce
  }
  return
}
