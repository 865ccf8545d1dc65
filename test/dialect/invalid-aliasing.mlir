// RUN: rev-opt %s -split-input-file -verify-diagnostics

rev.func @same_element(%A: memref<4xf64>, %i: index) -> index {
  // expected-note @below {{element read here}}
  %v = memref.load %A[%i] : memref<4xf64>
  %s = math.sin %v : f64
  // expected-error @below {{delta reads the element it updates}}
  rev.add_at %A[%i], %s : memref<4xf64>
  rev.return %i : index
}

// -----

rev.func @rot_same_element(%A: memref<4xf64>, %i: index, %t: f64) -> (index, f64) {
  // expected-error @below {{rotates an element with itself}}
  rev.rot_at %A[%i], %A[%i], %t : memref<4xf64>, memref<4xf64>, f64
  rev.return %i, %t : index, f64
}

// -----

rev.func @stale_load(%A: memref<4xf64>, %i: index, %j: index) -> (index, index) {
  // expected-note @below {{loaded here}}
  %v = memref.load %A[%i] : memref<4xf64>
  %one = arith.constant 1.0 : f64
  // expected-note @below {{written here}}
  rev.add_at %A[%i], %one : memref<4xf64>
  // expected-error @below {{uses a value loaded from a memref after the memref was written}}
  rev.add_at %A[%j], %v : memref<4xf64>
  rev.return %i, %j : index, index
}

// -----

rev.func @load_before_loop(%A: memref<4xf64>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  // expected-note @below {{loaded here}}
  %v = memref.load %A[%c0] : memref<4xf64>
  rev.for %i = %c1 to %c4 step %c1 {
    // expected-error @below {{uses a value loaded before 'rev.for' from a memref that it writes}}
    rev.add_at %A[%i], %v : memref<4xf64>
  }
  rev.return
}

// -----

rev.func @writes(%A: memref<4xf64>, %B: memref<4xf64>) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f64
  rev.add_at %A[%c0], %one : memref<4xf64>
  rev.return
}

rev.func @aliased_call(%A: memref<4xf64>) {
  // expected-error @below {{passes the same memref as operands #0 and #1 and the callee writes it}}
  rev.call @writes(%A, %A) : (memref<4xf64>, memref<4xf64>) -> ()
  rev.return
}

// -----

rev.func @writes_dyn(%A: memref<?xf64>, %B: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f64
  rev.add_at %A[%c0], %one : memref<?xf64>
  rev.return
}

// The same memory through casts (whole-memref views): aliasing too.
rev.func @aliased_through_casts(%A: memref<?xf64>) {
  %s = memref.cast %A : memref<?xf64> to memref<4xf64>
  %d = memref.cast %s : memref<4xf64> to memref<?xf64>
  // expected-error @below {{passes the same memref as operands #0 and #1 and the callee writes it}}
  rev.call @writes_dyn(%A, %d) : (memref<?xf64>, memref<?xf64>) -> ()
  rev.return
}
