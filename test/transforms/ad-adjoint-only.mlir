// RUN: rev-opt %s --rev-ad | FileCheck %s
// RUN: rev-opt %s --rev-ad=adjoint-only=0 | FileCheck %s --check-prefix=PLAIN
// RUN: rev-opt %s --rev-ad --rev-to-llvm > /dev/null

// Adjoint-only gradients: where no adjoint update reads a value that f
// changes, @f_grad runs the adjoint updates alone (no forward sweep, no
// uncomputation; the primal state stays the input).

// The leapfrog with k and dt constant: a linear map of (X, V). Only the
// shadows are updated, in the backward loops' order; X and V are not touched.
// CHECK-LABEL: rev.func @leapfrog_grad(
// CHECK-SAME: %[[X:[^:]*]]: memref<?xf64>, %[[V:[^:]*]]: memref<?xf64>, %[[K:[^:]*]]: f64, %[[DT:[^:]*]]: f64, %[[T:[^:]*]]: index, %[[KB:[^:]*]]: f64, %[[DTB:[^:]*]]: f64, %[[XB:[^:]*]]: memref<?xf64>, %[[VB:[^:]*]]: memref<?xf64>)
// CHECK-SAME: attributes {rev.adjoint_only, rev.gradient_of = @leapfrog}
// CHECK-NOT: rev.call
// CHECK: rev.for reverse %{{.*}} = %{{.*}} to %[[T]]
// CHECK: rev.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK: rev.add_at %[[XB]][%[[I]]]
// CHECK: rev.add_at %[[VB]][%[[I]]]
// CHECK: rev.add_at %[[XB]][%[[I]]]
// CHECK-NOT: %[[X]]{{\[}}
// CHECK-NOT: %[[V]]{{\[}}
// CHECK: rev.return %[[K]], %[[DT]], %[[T]], %[[KB]], %[[DTB]]
// PLAIN-LABEL: rev.func @leapfrog_grad(
// PLAIN-NOT: rev.adjoint_only
// PLAIN: rev.call @leapfrog(
// PLAIN: rev.call @leapfrog_bwd(
rev.func @leapfrog(%X: memref<?xf64>, %V: memref<?xf64>, %k: f64 {rev.const},
                   %dt: f64 {rev.const}, %steps: index) -> (f64, f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  %half = arith.constant 0.5 : f64
  %kdt = arith.mulf %k, %dt : f64
  %kh = arith.mulf %kdt, %half : f64
  rev.for %s = %c0 to %steps step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %x = memref.load %X[%i] : memref<?xf64>
      %f = arith.mulf %kh, %x : f64
      rev.sub_at %V[%i], %f : memref<?xf64>
      %v = memref.load %V[%i] : memref<?xf64>
      %dx = arith.mulf %v, %dt : f64
      rev.add_at %X[%i], %dx : memref<?xf64>
    }
  }
  rev.return %k, %dt, %steps : f64, f64, index
}

// With k active its adjoint reads X: both sweeps stay.
// CHECK-LABEL: rev.func @leapfrog_active_k_grad(
// CHECK-NOT: rev.adjoint_only
// CHECK: rev.call @leapfrog_active_k(
// CHECK: rev.call @leapfrog_active_k_bwd(
rev.func @leapfrog_active_k(%X: memref<?xf64>, %V: memref<?xf64>, %k: f64, %steps: index)
    -> (f64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %s = %c0 to %steps step %c1 {
    rev.for %i = %c0 to %n step %c1 {
      %x = memref.load %X[%i] : memref<?xf64>
      %f = arith.mulf %k, %x : f64
      rev.sub_at %V[%i], %f : memref<?xf64>
      %v = memref.load %V[%i] : memref<?xf64>
      rev.add_at %X[%i], %v : memref<?xf64>
    }
  }
  rev.return %k, %steps : f64, index
}

// A fused gradient (f ends with a loop whose iterations are independent):
// y += sin(x) changes y only, and the adjoint reads x, which f never writes.
// The fused forward update and its uncompute go.
// CHECK-LABEL: rev.func @scale_grad(
// CHECK-SAME: %[[XS:[^:]*]]: memref<?xf64>, %[[YS:[^:]*]]: memref<?xf64>, %[[XSB:[^:]*]]: memref<?xf64>, %[[YSB:[^:]*]]: memref<?xf64>)
// CHECK-SAME: rev.adjoint_only
// CHECK: rev.for %[[J:.*]] = 
// CHECK-NOT: rev.add_at %[[YS]]
// CHECK-NOT: rev.sub_at %[[YS]]
// CHECK: math.cos
// CHECK: rev.add_at %[[XSB]][%[[J]]]
// CHECK: } {rev.fused_sweeps}
rev.func @scale(%X: memref<?xf64>, %Y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %x : f64
    rev.add_at %Y[%i], %s : memref<?xf64>
  }
  rev.return
}

// A scalar that f updates and the adjoint side reads (y *= 2, then
// z += sin(y)): its intermediate version is primal state. (z += y * c with c
// constant would be linear: adjoint-only.)
// CHECK-LABEL: rev.func @reads_updated_grad(
// CHECK-NOT: rev.adjoint_only
// CHECK: rev.call @reads_updated(
rev.func @reads_updated(%y: f64, %z: f64) -> (f64, f64) {
  %two = arith.constant 2.0 : f64
  %y1 = rev.mul %y, %two : f64
  %p = math.sin %y1 : f64
  %z1 = rev.add %z, %p : f64
  rev.return %y1, %z1 : f64, f64
}

// A loop bound that f changes (n += 1 before the loop): the backward loop's
// bound is primal state.
// CHECK-LABEL: rev.func @bound_grad(
// CHECK-NOT: rev.adjoint_only
// CHECK: %[[N1:.*]] = rev.add %{{.*}}, %{{.*}} : index
// CHECK: rev.for %{{.*}} = %{{.*}} to %[[N1]]
rev.func @bound(%A: memref<?xf64>, %B: memref<?xf64>, %n: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n1 = rev.add %n, %c1 : index
  rev.for %i = %c0 to %n1 step %c1 {
    %a = memref.load %A[%i] : memref<?xf64>
    rev.add_at %B[%i], %a : memref<?xf64>
  }
  rev.return %n1 : index
}

// A condition on state that f changes: the branch taken in the backward
// sweep depends on it.
// CHECK-LABEL: rev.func @cond_grad(
// CHECK-NOT: rev.adjoint_only
// CHECK: rev.call @cond(
rev.func @cond(%A: memref<1xf64>, %y: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f64
  %a = memref.load %A[%c0] : memref<1xf64>
  %y1 = rev.add %y, %a : f64
  %y2 = rev.if %y1 : f64 pre {
  ^bb0(%v: f64):
    %p = arith.cmpf ogt, %v, %zero : f64
    rev.cond %p
  } then {
  ^bb0(%v: f64):
    %two = arith.constant 2.0 : f64
    %v1 = rev.mul %v, %two : f64
    rev.yield %v1 : f64
  } post {
  ^bb0(%v: f64):
    %p = arith.cmpf ogt, %v, %zero : f64
    rev.cond %p
  }
  rev.return %y2 : f64
}

// A condition on an input f does not change (i < m): the branch's primal
// ops go, the adjoint updates stay under the same condition.
// CHECK-LABEL: rev.func @masked_grad(
// CHECK-SAME: rev.adjoint_only
// CHECK: rev.if
// CHECK: arith.cmpi
// CHECK: rev.add_at
// CHECK-NOT: rev.sub_at
// CHECK: rev.return
rev.func @masked(%A: memref<?xf64>, %B: memref<?xf64>, %m: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %A, %c0 : memref<?xf64>
  rev.for %i = %c0 to %n step %c1 {
    rev.if pre {
      %p = arith.cmpi ult, %i, %m : index
      rev.cond %p
    } then {
      %a = memref.load %A[%i] : memref<?xf64>
      %c3 = arith.constant 3.0 : f64
      %d = arith.mulf %a, %c3 : f64
      rev.add_at %B[%i], %d : memref<?xf64>
      rev.yield
    }
  }
  rev.return %m : index
}

// A memref reached through a non-view op (arith.select) may be an argument
// that f writes: a condition reading A[0] through it keeps both sweeps
// (found by the adversarial review: it was rewritten, and the branch the
// backward sweep took no longer matched f's).
// CHECK-LABEL: rev.func @through_select_grad(
// CHECK-NOT: rev.adjoint_only
// CHECK: rev.call @through_select(
rev.func @through_select(%A: memref<?xf64>, %B: memref<?xf64>, %C: memref<?xf64>,
                         %c: f64 {rev.const}) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %one = arith.constant 1.0 : f64
  %half = arith.constant 0.5 : f64
  %t = arith.constant true
  rev.add_at %A[%c0], %one : memref<?xf64>
  %M = arith.select %t, %A, %C : memref<?xf64>
  rev.if pre {
    %x = memref.load %M[%c0] : memref<?xf64>
    %p = arith.cmpf ogt, %x, %half : f64
    rev.cond %p
  } then {
    %w = memref.load %C[%c2] : memref<?xf64>
    %d = arith.mulf %c, %w : f64
    rev.add_at %B[%c1], %d : memref<?xf64>
    rev.yield
  }
  rev.return %c : f64
}
