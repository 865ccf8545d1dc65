// RUN: rev-opt %s | FileCheck %s
// RUN: rev-opt %s | rev-opt | FileCheck %s

// rev.steps and rev.steps_adjoint round-trip through their assembly formats.

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

// CHECK-LABEL: rev.func @steps
// CHECK: rev.steps @step %{{.*}} to %{{.*}}, %{{.*}} into %{{.*}}(%{{.*}}, %{{.*}}) : memref<?xf64>, f64, memref<?xf64>
// CHECK: rev.steps @step %{{.*}} to %{{.*}}, %{{.*}} into %{{.*}}(%{{.*}}, %{{.*}}) {snapshots = 4 : i64, subtract} : memref<?xf64>, f64, memref<?xf64>
// CHECK: rev.steps @step %{{.*}} to %{{.*}}, %{{.*}} into %{{.*}}(%{{.*}}, %{{.*}}) {levels = 3 : i64, schedule = "bennett"} : memref<?xf64>, f64, memref<?xf64>
// CHECK: rev.steps @step %{{.*}} to %{{.*}}, %{{.*}} into %{{.*}}(%{{.*}}, %{{.*}}) {schedule = "revolve", snapshots = 2 : i64} : memref<?xf64>, f64, memref<?xf64>
rev.func @steps(%T: index, %k: f64, %a: memref<?xf64>, %b: memref<?xf64>,
                %xs: memref<?xf64>) -> (index, f64) {
  %c0 = arith.constant 0 : index
  rev.steps @step %c0 to %T, %a into %b (%k, %xs) : memref<?xf64>, f64, memref<?xf64>
  rev.steps @step %c0 to %T, %a into %b (%k, %xs) {subtract, snapshots = 4} : memref<?xf64>, f64, memref<?xf64>
  rev.steps @step %c0 to %T, %a into %b (%k, %xs) {schedule = "bennett", levels = 3} : memref<?xf64>, f64, memref<?xf64>
  rev.steps @step %c0 to %T, %a into %b (%k, %xs) {schedule = "revolve", snapshots = 2} : memref<?xf64>, f64, memref<?xf64>
  rev.return %T, %k : index, f64
}

rev.func @step_bwd(%t: index, %old: memref<?xf64>, %new: memref<?xf64>, %k: f64,
                   %xs: memref<?xf64>, %kb: f64, %oldb: memref<?xf64>, %newb: memref<?xf64>,
                   %xsb: memref<?xf64>) -> (index, f64, f64) attributes {rev.backward_of = @step} {
  rev.return %t, %k, %kb : index, f64, f64
}

// CHECK-LABEL: rev.func @adjoint
// CHECK: %{{.*}} = rev.steps_adjoint @step, @step_bwd %{{.*}} to %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}(%{{.*}}, %{{.*}}) shadows(%{{.*}}) adjoints(%{{.*}}) {memory_budget = 4096 : i64} : memref<?xf64> params(f64, memref<?xf64>) shadows(memref<?xf64>) adjoints(f64) -> (f64)
// CHECK: rev.steps_adjoint @step, @step_bwd %{{.*}} to %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} uncompute %{{.*}} : memref<?xf64>(%{{.*}}, %{{.*}}) shadows(%{{.*}}) adjoints(%{{.*}}) {memory_budget = -1 : i64, new_write_only} :
// CHECK: rev.steps_adjoint @step, @step_bwd {{.*}} {levels = 2 : i64, memory_budget = -1 : i64, schedule = "bennett"} :
rev.func @adjoint(%T: index, %k: f64, %a: memref<?xf64>, %ab: memref<?xf64>,
                  %bb: memref<?xf64>, %xs: memref<?xf64>, %xsb: memref<?xf64>, %kb: f64,
                  %out: memref<?xf64>)
    -> (index, f64, f64) {
  %c0 = arith.constant 0 : index
  %kb1 = rev.steps_adjoint @step, @step_bwd %c0 to %T, %a, %ab, %bb (%k, %xs) shadows(%xsb)
      adjoints(%kb) {memory_budget = 4096 : i64}
      : memref<?xf64> params(f64, memref<?xf64>) shadows(memref<?xf64>) adjoints(f64) -> (f64)
  %kb2 = rev.steps_adjoint @step, @step_bwd %c0 to %T, %a, %ab, %bb uncompute %out : memref<?xf64>
      (%k, %xs) shadows(%xsb) adjoints(%kb1) {memory_budget = -1 : i64, new_write_only}
      : memref<?xf64> params(f64, memref<?xf64>) shadows(memref<?xf64>) adjoints(f64) -> (f64)
  %kb3 = rev.steps_adjoint @step, @step_bwd %c0 to %T, %a, %ab, %bb uncompute %out : memref<?xf64>
      (%k, %xs) shadows(%xsb) adjoints(%kb2) {memory_budget = -1 : i64, schedule = "bennett", levels = 2}
      : memref<?xf64> params(f64, memref<?xf64>) shadows(memref<?xf64>) adjoints(f64) -> (f64)
  rev.return %T, %k, %kb3 : index, f64, f64
}
