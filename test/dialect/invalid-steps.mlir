// RUN: rev-opt %s -split-input-file -verify-diagnostics

// rev.steps: the step function's contract and the operands, each error
// located.

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %y = memref.load %old[%c0] : memref<?xf64>
  rev.add_at %new[%c0], %y : memref<?xf64>
  rev.return %t : index
}
rev.func @same(%T: index, %a: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{'init' and 'out' are the same memref: the steps need distinct storage}}
  rev.steps @step %c0 to %T, %a into %a () : memref<?xf64>
  rev.return %T : index
}

// -----

func.func @notrev(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %b: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{step @notrev is not a rev.func}}
  rev.steps @notrev %c0 to %T, %a into %b () : memref<?xf64>
  rev.return %T : index
}

// -----

// expected-note @below {{@step is here}}
rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  // expected-error @below {{step @step must take (index, state, state, params...) = ('index', 'memref<?xf64>', 'memref<?xf64>', 'f64'), it takes ('index', 'memref<?xf64>', 'memref<?xf64>')}}
  rev.steps @step %c0 to %T, %a into %b (%k) : memref<?xf64>, f64
  rev.return %T, %k : index, f64
}

// -----

// expected-note @below {{@step is here}}
rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %y = memref.load %new[%c0] : memref<?xf64>
  rev.add_at %old[%c0], %y : memref<?xf64>
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %b: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{step @step writes its argument #1 (the old state): a step may only write the new state (argument #2)}}
  rev.steps @step %c0 to %T, %a into %b () : memref<?xf64>
  rev.return %T : index
}

// -----

// expected-note @below {{@step is here}}
rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %p: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  %y = memref.load %old[%c0] : memref<?xf64>
  rev.add_at %p[%c0], %y : memref<?xf64>
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %b: memref<?xf64>, %p: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{step @step writes its argument #3 (a param)}}
  rev.steps @step %c0 to %T, %a into %b (%p) : memref<?xf64>, memref<?xf64>
  rev.return %T : index
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %k: f64) -> (index, f64) {
  %c0 = arith.constant 0 : index
  %y = memref.load %old[%c0] : memref<?xf64>
  %k1 = rev.add %k, %y : f64
  // expected-note @below {{returned here}}
  rev.return %t, %k1 : index, f64
}
rev.func @f(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  // expected-error @below {{step @step updates its scalar argument #3: the step index and the params of a step are read-only}}
  rev.steps @step %c0 to %T, %a into %b (%k) : memref<?xf64>, f64
  rev.return %T, %k : index, f64
}

// -----

rev.func @step(%t: index, %old: memref<?xi64>, %new: memref<?xi64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xi64>, %b: memref<?xi64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{state must be a rank-1 memref of floats, got 'memref<?xi64>'}}
  rev.steps @step %c0 to %T, %a into %b () : memref<?xi64>
  rev.return %T : index
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %b: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{snapshots must be at least 1, got 0}}
  rev.steps @step %c0 to %T, %a into %b () {snapshots = 0} : memref<?xf64>
  rev.return %T : index
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %p: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %b: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{'out' is also passed as a param}}
  rev.steps @step %c0 to %T, %a into %b (%b) : memref<?xf64>, memref<?xf64>
  rev.return %T : index
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %k: f64) -> (index, f64) {
  rev.return %t, %k : index, f64
}
rev.func @f(%T: index, %k: f64, %a: memref<?xf64>, %ab: memref<?xf64>, %bb: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  // expected-error @below {{expects one adjoint and one result per float scalar param (1)}}
  rev.steps_adjoint @step, @step %c0 to %T, %a, %ab, %bb (%k) shadows() adjoints()
      {memory_budget = -1 : i64} : memref<?xf64> params(f64)
  rev.return %T, %k : index, f64
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %ab: memref<?xf64>, %bb: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{step_backward @step must be a rev.func of type '(index, memref<?xf64>, memref<?xf64>, memref<?xf64>, memref<?xf64>) -> index'}}
  rev.steps_adjoint @step, @step %c0 to %T, %a, %ab, %bb () shadows() adjoints()
      {memory_budget = -1 : i64} : memref<?xf64>
  rev.return %T : index
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %ad: memref<?xf64>, %b: memref<?xf64>, %bd: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{step_tangent @step must be a rev.func marked rev.tangent_of a step}}
  rev.steps_tangent @step %c0 to %T, %a, %ad into %b, %bd () tangents() : memref<?xf64>
  rev.return %T : index
}

// -----

// The schedule attributes.
rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %b: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{schedule must be "revolve" or "bennett", got "pebbles"}}
  rev.steps @step %c0 to %T, %a into %b () {schedule = "pebbles"} : memref<?xf64>
  rev.return %T : index
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %b: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{levels needs schedule = "bennett"}}
  rev.steps @step %c0 to %T, %a into %b () {levels = 2} : memref<?xf64>
  rev.return %T : index
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %b: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{levels must be in [1, 64], got 0}}
  rev.steps @step %c0 to %T, %a into %b () {schedule = "bennett", levels = 0} : memref<?xf64>
  rev.return %T : index
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %b: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{snapshots is the revolve schedule's parameter: the bennett schedule takes 'levels'}}
  rev.steps @step %c0 to %T, %a into %b () {schedule = "bennett", snapshots = 4} : memref<?xf64>
  rev.return %T : index
}

// -----

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @step_bwd(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %oldb: memref<?xf64>,
                   %newb: memref<?xf64>) -> index {
  rev.return %t : index
}
rev.func @f(%T: index, %a: memref<?xf64>, %ab: memref<?xf64>, %bb: memref<?xf64>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{levels must be in [1, 64], got 65}}
  rev.steps_adjoint @step, @step_bwd %c0 to %T, %a, %ab, %bb () shadows() adjoints()
      {memory_budget = -1 : i64, schedule = "bennett", levels = 65} : memref<?xf64>
  rev.return %T : index
}
