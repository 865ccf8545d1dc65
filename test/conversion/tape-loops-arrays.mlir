// Loop budgets for loops whose state is in memrefs: a load in a backward
// body may be part of what the forward loop stores when it reads memory as
// the forward iteration left it (nothing before it in the backward body may
// write the memref; the memref is one the forward loops use, never a
// shadow; a backward loop in the forward's order needs a memref that the
// forward body does not write at all). The forward stores at the end of its
// body, reusing a load there when nothing after it writes the memref.
// RUN: rev-opt %s --rev-ad=loop-budget=16 --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s
// RUN: rev-opt %s --rev-ad=loop-budget=4096 --lower-rev --canonicalize --cse --rev-tape-loops 2>&1 | FileCheck %s --check-prefix=ALL
// RUN: rev-opt %s --rev-ad=loop-budget=0 --lower-rev --canonicalize --cse --rev-tape-loops=remarks=1 2>&1 | FileCheck %s --check-prefix=ZERO

// ZERO-NOT: remark
// ZERO-NOT: memref.alloc

// CHECK-DAG: remark: @kick_drift_grad stores 16 (depth 1) bytes per iteration (budget 16) in 1 loop(s)
// CHECK-DAG: remark: @two_grad stores 16 (depth 1) bytes per iteration (budget 16) in 1 loop(s)
// CHECK-DAG: remark: @shadow_grad stores 8 (depth 1), 16 (depth 1) bytes per iteration (budget 16) in 2 loop(s)
// CHECK-DAG: remark: @three_grad stores 8 (depth 1) bytes per iteration (budget 16) in 1 loop(s)
// CHECK-NOT: remark: @two_in_order_grad

// Kick and drift: V[i] += h (k (X[i+1] - X[i]) - sin X[i]);  X[i] += h V[i].
// The kick reads X, which only the drift writes: its backward body reads X
// as the forward kick left it, and sin(X[i]) and cos(X[i]) are stored.
rev.func @kick_drift(%X: memref<?xf64>, %V: memref<?xf64>, %k: f64, %h: f64, %T: index)
    -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %last = arith.subi %n, %c1 : index
  rev.for %t = %c0 to %T step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %ip1 = arith.addi %i, %c1 : index
      %wrap = arith.cmpi eq, %i, %last : index
      %ip = arith.select %wrap, %c0, %ip1 : index
      %x = memref.load %X[%i] : memref<?xf64>
      %xp = memref.load %X[%ip] : memref<?xf64>
      %s = math.sin %x : f64
      %d = arith.subf %xp, %x : f64
      %kd = arith.mulf %k, %d : f64
      %a = arith.subf %kd, %s : f64
      %dv = arith.mulf %h, %a : f64
      rev.add_at %V[%i], %dv : memref<?xf64>
    }
    rev.for %i = %c0 to %n step %c1 {
      %v = memref.load %V[%i] : memref<?xf64>
      %dx = arith.mulf %v, %h : f64
      rev.add_at %X[%i], %dx : memref<?xf64>
    }
  }
  rev.return %k, %h, %T : f64, f64, index
}

// CHECK-LABEL: func.func @kick_drift_grad(
// CHECK-SAME:      %[[X:[^:]*]]: memref<?xf64>, %[[V:[^:]*]]: memref<?xf64>
// CHECK:         %[[SIN:.*]] = memref.alloc(%[[LEN:.*]]) : memref<?xf64>
// CHECK:         %[[COS:.*]] = memref.alloc(%[[LEN]]) : memref<?xf64>
// CHECK:         scf.for %[[T:[^ ]*]] =
// CHECK:           scf.for %[[I:[^ ]*]] =
// CHECK:             %[[P:.*]] = arith.addi %{{.*}}, %[[I]] : index
// CHECK:             %[[XI:.*]] = memref.load %[[X]][%[[I]]]
// CHECK:             %[[S:.*]] = math.sin %[[XI]]
// CHECK:             memref.store %{{.*}}, %[[V]][%[[I]]]
// CHECK-NEXT:        memref.store %[[S]], %[[SIN]][%[[P]]]
// CHECK-NEXT:        %[[C:.*]] = math.cos %[[XI]]
// CHECK-NEXT:        memref.store %[[C]], %[[COS]][%[[P]]]
// CHECK-NEXT:      }
// The drift stores nothing; the backward kick reads both tapes instead of
// computing sin and cos (it still loads X[i+1] and X[i] for k's adjoint).
// CHECK:           scf.for
// CHECK-NOT:         alloc
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK-NOT:         math.
// CHECK:           scf.for
// CHECK:             memref.load %[[SIN]][
// CHECK:             memref.load %[[COS]][
// CHECK-NOT:         math.
// CHECK:             scf.yield
// CHECK:         memref.dealloc %[[SIN]] :
// CHECK:         memref.dealloc %[[COS]] :

// A[i] += c sin(B[i]);  B[i] += c cos(A[i]). The backward body recovers B
// first, reading A as the forward iteration left it: sin(A[i]) and cos(A[i])
// are stored, from the forward's own load of A[i] after its store. Then it
// recovers A, reading B after writing it: sin(B[i]) and cos(B[i]) are
// recomputed.
rev.func @two(%A: memref<?xf64>, %B: memref<?xf64>, %c: f64, %T: index) -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  rev.for %t = %c0 to %T step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %b = memref.load %B[%i] : memref<?xf64>
      %s = math.sin %b : f64
      %cs = arith.mulf %c, %s : f64
      rev.add_at %A[%i], %cs : memref<?xf64>
      %a = memref.load %A[%i] : memref<?xf64>
      %co = math.cos %a : f64
      %cc = arith.mulf %c, %co : f64
      rev.add_at %B[%i], %cc : memref<?xf64>
    }
  }
  rev.return %c, %T : f64, index
}

// CHECK-LABEL: func.func @two_grad(
// CHECK-SAME:      %[[A:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xf64>
// CHECK:         %[[TS:.*]] = memref.alloc
// CHECK:         %[[TC:.*]] = memref.alloc
// CHECK:         scf.for
// CHECK:           scf.for %[[I:[^ ]*]] =
// CHECK:             memref.store %{{.*}}, %[[A]][%[[I]]]
// CHECK-NEXT:        %[[AI:.*]] = memref.load %[[A]][%[[I]]]
// CHECK-NEXT:        %[[CA:.*]] = math.cos %[[AI]]
// CHECK:             memref.store %{{.*}}, %[[B]][%[[I]]]
// CHECK-NEXT:        %[[SA:.*]] = math.sin %[[AI]]
// CHECK-NEXT:        memref.store %[[SA]], %[[TS]][
// CHECK-NEXT:        memref.store %[[CA]], %[[TC]][
// CHECK:         scf.for
// CHECK:           scf.for %{{.*}} iter_args
// CHECK:             memref.load %[[TS]][
// CHECK:             memref.load %[[TC]][
// CHECK:             memref.store %{{.*}}, %[[B]]
// CHECK:             %[[BI:.*]] = memref.load %[[B]]
// CHECK-NEXT:        math.sin %[[BI]]
// CHECK:             memref.store %{{.*}}, %[[A]]
// CHECK-NEXT:        math.cos %[[BI]]

// The same with a constant c: each iteration touches only its own elements,
// the backward loop runs in the forward's order (earlier iterations'
// elements restored already), so no load of A or B is stored.
rev.func @two_in_order(%A: memref<?xf64>, %B: memref<?xf64>, %T: index) -> index {
  %c = arith.constant 0.5 : f64
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  rev.for %t = %c0 to %T step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %b = memref.load %B[%i] : memref<?xf64>
      %s = math.sin %b : f64
      %cs = arith.mulf %c, %s : f64
      rev.add_at %A[%i], %cs : memref<?xf64>
      %a = memref.load %A[%i] : memref<?xf64>
      %co = math.cos %a : f64
      %cc = arith.mulf %c, %co : f64
      rev.add_at %B[%i], %cc : memref<?xf64>
    }
  }
  rev.return %T : index
}

// CHECK-LABEL: func.func @two_in_order_grad(
// CHECK-NOT:     memref.alloc
// CHECK:         return

// y += exp(C[i]) beside A[i] += h sin(B[i]), then B[i] += h cos(A[i]): the
// first loop stores exp(C[i]) and its backward body still adds to C's shadow
// (whose contents there are not the forward's: the forward loops never
// touch a shadow); the second loop (in the forward's order, reading A that
// it does not write) stores sin(A[i]) and cos(A[i]).
rev.func @shadow(%A: memref<?xf64>, %B: memref<?xf64>, %C: memref<?xf64>, %y: f64, %T: index)
    -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %h = arith.constant 0.5 : f64
  %n = memref.dim %A, %c0 : memref<?xf64>
  %r = rev.for %t = %c0 to %T step %c1 iter_args(%ys = %y) -> (f64) {
    %l = rev.for %i = %c0 to %n step %c1 iter_args(%z = %ys) -> (f64) {
      %b = memref.load %B[%i] : memref<?xf64>
      %s = math.sin %b : f64
      %d = arith.mulf %h, %s : f64
      rev.add_at %A[%i], %d : memref<?xf64>
      %u = memref.load %C[%i] : memref<?xf64>
      %e = math.exp %u : f64
      %z1 = rev.add %z, %e : f64
      rev.yield %z1 : f64
    }
    rev.for %i = %c0 to %n step %c1 {
      %a = memref.load %A[%i] : memref<?xf64>
      %co = math.cos %a : f64
      %d = arith.mulf %h, %co : f64
      rev.add_at %B[%i], %d : memref<?xf64>
    }
    rev.yield %l : f64
  }
  rev.return %r, %T : f64, index
}

// CHECK-LABEL: func.func @shadow_grad(
// CHECK-SAME:      %[[AB:[^:]*]]: memref<?xf64>, %[[BB:[^:]*]]: memref<?xf64>, %[[CB:[^:]*]]: memref<?xf64>) -> (f64, index, f64)
// CHECK:         %[[TE:.*]] = memref.alloc
// CHECK:         scf.for
// CHECK-NOT:       %[[CB]]
// CHECK:           %[[E:.*]] = math.exp
// CHECK:           memref.store %[[E]], %[[TE]][
// CHECK-NOT:       %[[CB]]
// CHECK:         }
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:           scf.for
// CHECK:             %[[LE:.*]] = memref.load %[[TE]][
// CHECK:             %[[ADJ:.*]] = arith.mulf %[[LE]]
// CHECK:             %[[OLD:.*]] = memref.load %[[CB]]
// CHECK:             %[[NEW:.*]] = arith.addf %[[OLD]], %[[ADJ]]
// CHECK:             memref.store %[[NEW]], %[[CB]]

// C[i] += c exp(B[i]);  B[i] += c sin(A[i]);  D[i] += c exp(B[i]). The
// backward body recovers D reading B as the forward iteration left it, where
// the forward's second exp(B[i]) is: stored; then B; then C, reading B after
// writing it (the B of before the iteration): that exp is recomputed, though
// the same op on the same operands is stored a few lines above.
rev.func @three(%A: memref<?xf64>, %B: memref<?xf64>, %C: memref<?xf64>, %D: memref<?xf64>,
                %c: f64, %T: index) -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  rev.for %t = %c0 to %T step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %b = memref.load %B[%i] : memref<?xf64>
      %e = math.exp %b : f64
      %ce = arith.mulf %c, %e : f64
      rev.add_at %C[%i], %ce : memref<?xf64>
      %a = memref.load %A[%i] : memref<?xf64>
      %s = math.sin %a : f64
      %cs = arith.mulf %c, %s : f64
      rev.add_at %B[%i], %cs : memref<?xf64>
      %b2 = memref.load %B[%i] : memref<?xf64>
      %e2 = math.exp %b2 : f64
      %ce2 = arith.mulf %c, %e2 : f64
      rev.add_at %D[%i], %ce2 : memref<?xf64>
    }
  }
  rev.return %c, %T : f64, index
}

// ALL-LABEL: func.func @three_grad(
// ALL-SAME:      %[[A:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xf64>, %[[C:[^:]*]]: memref<?xf64>, %[[D:[^:]*]]: memref<?xf64>
// ALL:         %[[TE:.*]] = memref.alloc
// ALL:         scf.for
// ALL:           scf.for
// ALL:             memref.store %{{.*}}, %[[B]][
// ALL-NEXT:        %[[B2:.*]] = memref.load %[[B]][
// ALL-NEXT:        %[[E2:.*]] = math.exp %[[B2]]
// ALL:             memref.store %[[E2]], %[[TE]][
// ALL:         scf.for
// ALL:           scf.for
// ALL:             %[[LE:.*]] = memref.load %[[TE]][
// ALL:             arith.mulf %{{.*}}, %[[LE]]
// ALL:             memref.store %{{.*}}, %[[D]][
// ALL:             memref.store %{{.*}}, %[[B]][
// ALL:             %[[B1:.*]] = memref.load %[[B]][
// ALL-NEXT:        math.exp %[[B1]]
// ALL:             memref.store %{{.*}}, %[[C]][
