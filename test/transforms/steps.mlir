// RUN: rev-opt %s --rev-invert | FileCheck %s --check-prefix=INV
// RUN: rev-opt %s --rev-ad | FileCheck %s --check-prefix=BWD
// RUN: rev-opt %s --rev-ad=memory-budget=4096 | FileCheck %s --check-prefix=BUDGET
// RUN: not rev-opt %s --rev-ad=memory-budget=-5 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: rev-opt %s --rev-fwd | FileCheck %s --check-prefix=FWD
// RUN: rev-opt %s --rev-fwd --rev-invert=funcs=run_fwd | FileCheck %s --check-prefix=FWDINV
// RUN: rev-opt %s --rev-fwd --rev-to-llvm > /dev/null
// RUN: rev-opt %s --rev-ad=funcs=run | not rev-opt --rev-ad=funcs=run_grad 2>&1 | FileCheck %s --check-prefix=SECOND

// The inverse, adjoint and tangent of rev.steps.

rev.func @step(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %k: f64,
               %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  %y = memref.load %old[%c0] : memref<?xf64>
  %x = memref.load %xs[%t] : memref<?xf64>
  %s = math.sin %y : f64
  %d = arith.mulf %s, %x : f64
  %e = arith.mulf %d, %k : f64
  %v = arith.addf %y, %e : f64
  rev.add_at %new[%c0], %v : memref<?xf64>
  rev.return %t, %k : index, f64
}

// The inverse subtracts the same state (the user's snapshots carry over).
// INV-LABEL: rev.func @run_inv
// INV: rev.steps @step %{{.*}} to %{{.*}}, %{{.*}} into %{{.*}}(%{{.*}}, %{{.*}}) {snapshots = 3 : i64, subtract}

// The backward sweep: one rev.steps_adjoint uncomputes `out` (its first step
// adjoint recomputes the final state) and applies the checkpointed adjoint
// with the step's backward function; k's adjoint is threaded through it. The
// step only adds to its new state: new_write_only.
// BWD-LABEL: rev.func @step_bwd(
// BWD-SAME: attributes {rev.backward_of = @step}
// BWD-LABEL: rev.func @run_bwd(
// BWD-SAME: %[[T:[^:]*]]: index, %[[K:[^:]*]]: f64, %[[A:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xf64>, %[[XS:[^:]*]]: memref<?xf64>, %[[KB:[^:]*]]: f64, %[[AB:[^:]*]]: memref<?xf64>, %[[BB:[^:]*]]: memref<?xf64>, %[[XSB:[^:]*]]: memref<?xf64>)
// BWD-NOT: rev.steps @step
// BWD: %[[KB1:.*]] = rev.steps_adjoint @step, @step_bwd %{{.*}} to %[[T]], %[[A]], %[[AB]], %[[BB]] uncompute %[[B]] : memref<?xf64>(%[[K]], %[[XS]]) shadows(%[[XSB]]) adjoints(%[[KB]]) {memory_budget = -1 : i64, new_write_only, snapshots = 3 : i64}
// BWD: rev.return %[[T]], %[[K]], %[[KB1]]

// BUDGET-LABEL: rev.func @run_bwd(
// BUDGET: rev.steps_adjoint {{.*}} {memory_budget = 4096 : i64, new_write_only, snapshots = 3 : i64}

// BAD: rev-ad: memory-budget must be a number of bytes (or -1), not -5

// The tangent: one rev.steps_tangent runs the steps with their tangents
// through the step's tangent function.
// FWD-LABEL: rev.func @step_fwd(
// FWD-SAME: attributes {rev.tangent_of = @step}
// FWD-LABEL: rev.func @run_fwd(
// FWD-SAME: %[[T:[^:]*]]: index, %[[K:[^:]*]]: f64, %[[A:[^:]*]]: memref<?xf64>, %[[B:[^:]*]]: memref<?xf64>, %[[XS:[^:]*]]: memref<?xf64>, %[[KD:[^:]*]]: f64, %[[AD:[^:]*]]: memref<?xf64>, %[[BD:[^:]*]]: memref<?xf64>, %[[XSD:[^:]*]]: memref<?xf64>)
// FWD: rev.steps_tangent @step_fwd %{{.*}} to %[[T]], %[[A]], %[[AD]] into %[[B]], %[[BD]](%[[K]], %[[XS]]) tangents(%[[KD]], %[[XSD]]) : memref<?xf64> params(f64, memref<?xf64>) tangents(f64, memref<?xf64>)
// FWD-NOT: rev.steps @step
// FWD: rev.return %[[T]], %[[K]], %[[KD]]
// FWDINV-LABEL: rev.func @run_fwd_inv(
// FWDINV: rev.steps_tangent @step_fwd {{.*}} {subtract}

// SECOND: error: 'rev.steps_adjoint' op cannot be differentiated again
rev.func @run(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>,
              %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %a into %b (%k, %xs) {snapshots = 3} : memref<?xf64>, f64, memref<?xf64>
  rev.return %T, %k : index, f64
}

// schedule = "bennett" (two levels; without them, the budget decides) carries
// over to the adjoint; the inverse keeps it, the tangent ignores it.
// INV-LABEL: rev.func @bennett_inv
// INV: rev.steps @step {{.*}} {levels = 2 : i64, schedule = "bennett", subtract}
// BWD-LABEL: rev.func @bennett_bwd(
// BWD: rev.steps_adjoint @step, @step_bwd {{.*}} {levels = 2 : i64, memory_budget = -1 : i64, new_write_only, schedule = "bennett"}
// BWD-LABEL: rev.func @bennett_budget_bwd(
// BWD: rev.steps_adjoint @step, @step_bwd {{.*}} {memory_budget = -1 : i64, new_write_only, schedule = "bennett"}
// BUDGET-LABEL: rev.func @bennett_budget_bwd(
// BUDGET: rev.steps_adjoint {{.*}} {memory_budget = 4096 : i64, new_write_only, schedule = "bennett"}
// FWD-LABEL: rev.func @bennett_fwd(
// FWD-NOT: bennett"
// FWD: rev.steps_tangent @step_fwd
// FWD-NOT: bennett"
// FWD: rev.return
rev.func @bennett(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>,
                  %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %a into %b (%k, %xs) {schedule = "bennett", levels = 2} : memref<?xf64>, f64, memref<?xf64>
  rev.return %T, %k : index, f64
}
rev.func @bennett_budget(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>,
                         %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %a into %b (%k, %xs) {schedule = "bennett"} : memref<?xf64>, f64, memref<?xf64>
  rev.return %T, %k : index, f64
}
