// RUN: rev-opt %s -split-input-file -verify-diagnostics

// Iterations of a rev.parallel_for must be independent: each error below is
// a race (or an unprovable access) the verifier reports with its location.

rev.func @write_other_element(%Y: memref<?xf64>, %x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %Y, %c0 : memref<?xf64>
  // expected-error @below {{iterations may race on a memref that the body writes}}
  rev.parallel_for %i = %c0 to %n step %c1 {
    %j = arith.muli %i, %c1 : index
    // expected-note @below {{written here, not at the iteration's own element}}
    rev.mul_at %Y[%j], %x : memref<?xf64>
  }
  rev.return %x : f64
}

// -----

rev.func @read_neighbour(%Y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %Y, %c0 : memref<?xf64>
  // expected-error @below {{iterations may race on a memref that the body writes}}
  rev.parallel_for %i = %c1 to %n step %c1 {
    %j = arith.subi %i, %c1 : index
    // expected-note @below {{read here at one own index}}
    %y = memref.load %Y[%j] : memref<?xf64>
    // expected-note @below {{written here at another}}
    rev.add_at %Y[%i], %y : memref<?xf64>
  }
  rev.return
}

// -----

rev.func @read_shared_sum(%idx: memref<?xindex>, %H: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %idx, %c0 : memref<?xindex>
  // expected-error @below {{iterations may race on a memref that the body writes}}
  rev.parallel_for %i = %c0 to %n step %c1 {
    %b = memref.load %idx[%i] : memref<?xindex>
    // expected-note @below {{read here, not at the iteration's own element}}
    %h = memref.load %H[%c0] : memref<?xf64>
    rev.add_at %H[%b], %h : memref<?xf64>
  }
  rev.return
}

// -----

rev.func @scale_shared(%idx: memref<?xindex>, %H: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %idx, %c0 : memref<?xindex>
  // expected-error @below {{iterations may race on a memref that the body writes}}
  rev.parallel_for %i = %c0 to %n step %c1 {
    %b = memref.load %idx[%i] : memref<?xindex>
    %two = arith.constant 2.0 : f64
    // expected-note @below {{written here, not at the iteration's own element}}
    rev.mul_at %H[%b], %two : memref<?xf64>
  }
  rev.return
}

// -----

rev.func @outer_scalar(%Y: memref<?xf64>, %s: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %Y, %c0 : memref<?xf64>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %y = memref.load %Y[%i] : memref<?xf64>
    // expected-error @below {{is a variable defined outside this region}}
    %s1 = rev.add %s, %y : f64
  }
  rev.return %s : f64
}

// -----

rev.func @accumulator_read(%Y: memref<?xf64>, %s: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %Y, %c0 : memref<?xf64>
  // expected-note @below {{the parallel loop}}
  %r = rev.parallel_for %i = %c0 to %n step %c1 reduce(%acc = %s) -> (f64) {
    // expected-error @below {{reads a reduce accumulator of the enclosing rev.parallel_for}}
    %t = arith.mulf %acc, %acc : f64
    rev.add_at %Y[%i], %t : memref<?xf64>
    %one = arith.constant 1.0 : f64
    %acc1 = rev.add %acc, %one : f64
    rev.yield %acc1 : f64
  }
  rev.return %r : f64
}

// -----

rev.func @accumulator_scaled(%s: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-note @below {{the parallel loop}}
  %r = rev.parallel_for %i = %c0 to %c4 step %c1 reduce(%acc = %s) -> (f64) {
    %two = arith.constant 2.0 : f64
    // expected-error @below {{uses a reduce accumulator of the enclosing rev.parallel_for other than as the target of rev.add/rev.sub}}
    %acc1 = rev.mul %acc, %two : f64
    rev.yield %acc1 : f64
  }
  rev.return %r : f64
}

// -----

rev.func @accumulator_in_condition(%s: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @below {{a reduce accumulator is read by a condition}}
  %r = rev.parallel_for %i = %c0 to %c4 step %c1 reduce(%acc = %s) -> (f64) {
    // expected-note @below {{read here}}
    %b = rev.if %acc : f64 pre {
    ^bb0(%u: f64):
      %z = arith.constant 0.0 : f64
      %c = arith.cmpf ogt, %u, %z : f64
      rev.cond %c
    } then {
    ^bb0(%u: f64):
      %one = arith.constant 1.0 : f64
      %u1 = rev.add %u, %one : f64
      rev.yield %u1 : f64
    } post {
    ^bb0(%u: f64):
      %z = arith.constant 0.0 : f64
      %c = arith.cmpf ogt, %u, %z : f64
      rev.cond %c
    }
    rev.yield %b : f64
  }
  rev.return %r : f64
}

// -----

rev.func @accumulators_swapped(%a: f64, %b: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @below {{reduce accumulator #0 is yielded at position 1}}
  %r:2 = rev.parallel_for %i = %c0 to %c4 step %c1 reduce(%x = %a, %y = %b) -> (f64, f64) {
    rev.yield %y, %x : f64, f64
  }
  rev.return %r#0, %r#1 : f64, f64
}

// -----

rev.func @g(%A: memref<?xf64>) {
  rev.return
}

rev.func @memref_to_call(%A: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  rev.parallel_for %i = %c0 to %c4 step %c1 {
    // expected-error @below {{passes a memref to a call inside a rev.parallel_for}}
    rev.call @g(%A) : (memref<?xf64>) -> ()
  }
  rev.return
}

// -----

rev.func @nested(%A: memref<?x?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  rev.parallel_for %i = %c0 to %c4 step %c1 {
    // expected-error @below {{nested rev.parallel_for is not supported}}
    rev.parallel_for %j = %c0 to %c4 step %c1 {
      %one = arith.constant 1.0 : f64
      rev.add_at %A[%i, %j], %one : memref<?x?xf64>
    }
  }
  rev.return
}

// -----

rev.func @bad_strategy(%A: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @below {{'accumulate' must be "atomic" or "privatize", not "locked"}}
  rev.parallel_for %i = %c0 to %c1 step %c1 {
  } {accumulate = "locked"}
  rev.return
}

// -----

rev.func @bounds_written(%A: memref<?xindex>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.load %A[%c0] : memref<?xindex>
  // expected-error @below {{loop bounds read a memref that the loop body writes}}
  rev.parallel_for %i = %c0 to %n step %c1 {
    rev.add_at %A[%i], %c1 : memref<?xindex>
  }
  rev.return
}

// -----

rev.func @types(%s: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @below {{expected as many reduce accumulators as result types (2)}}
  %r = rev.parallel_for %i = %c0 to %c1 step %c1 reduce(%x = %s) -> (f64, f64) {
    rev.yield %x : f64
  }
  rev.return %r : f64
}

// -----

rev.func @zero_step(%A: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  // expected-error @below {{step must be positive, got 0}}
  rev.parallel_for %i = %c0 to %c4 step %c0 {
  }
  rev.return
}

// -----

// An accumulator read inside a nested loop and then added to (the verifier
// used to compare ops of different blocks here and abort).
rev.func @acc_read_in_nested_loop(%X: memref<?xf64>, %Y: memref<?xf64>, %z: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  // expected-note @below {{the parallel loop}}
  %r = rev.parallel_for %i = %c0 to %n step %c1 reduce(%acc = %z) -> (f64) {
    %x = memref.load %X[%i] : memref<?xf64>
    rev.for %j = %c0 to %c2 step %c1 {
      // expected-error @below {{reads a reduce accumulator of the enclosing rev.parallel_for}}
      %t = arith.mulf %acc, %x : f64
      rev.add_at %Y[%i], %t : memref<?xf64>
    }
    %acc1 = rev.add %acc, %x : f64
    rev.yield %acc1 : f64
  }
  rev.return %r : f64
}

// -----

// One memref through two names: %V may be %K, and iteration i writes
// V[i] while every iteration reads K[1] (written by iteration 1).
rev.func @select_alias(%X: memref<?xf64>, %Y: memref<?xf64>, %K: memref<?xi64>, %L: memref<?xi64>, %c: i1) -> i1 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i64
  %n = memref.dim %X, %c0 : memref<?xf64>
  %V = arith.select %c, %K, %L : memref<?xi64>
  // expected-error @below {{accesses one memref through two names}}
  rev.parallel_for %i = %c0 to %n step %c1 {
    // expected-note @below {{through one here}}
    rev.add_at %V[%i], %one : memref<?xi64>
    // expected-note @below {{through another here}}
    %k1 = memref.load %K[%c1] : memref<?xi64>
    %kf = arith.sitofp %k1 : i64 to f64
    rev.add_at %Y[%i], %kf : memref<?xf64>
  }
  rev.return %c : i1
}

// -----

memref.global "private" @G : memref<8xi64> = dense<0>

// Two get_global of one symbol: one memory.
rev.func @global_alias(%Y: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1 : i64
  %n = memref.dim %Y, %c0 : memref<?xf64>
  %G1 = memref.get_global @G : memref<8xi64>
  %G2 = memref.get_global @G : memref<8xi64>
  // expected-error @below {{accesses one memref through two names}}
  rev.parallel_for %i = %c0 to %n step %c1 {
    // expected-note @below {{through one here}}
    rev.add_at %G1[%i], %one : memref<8xi64>
    // expected-note @below {{through another here}}
    %g = memref.load %G2[%c1] : memref<8xi64>
    %gf = arith.sitofp %g : i64 to f64
    rev.add_at %Y[%i], %gf : memref<?xf64>
  }
  rev.return
}
