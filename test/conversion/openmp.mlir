// --rev-to-openmp: rev-to-llvm's front half, then scf.parallel on OpenMP
// threads. Forward loops become omp.parallel + omp.wsloop, scf.reduce an
// omp.declare_reduction (init = the combiner's neutral element, the loop's
// init value added after the loop), memref.atomic_rmw an atomicrmw; the
// outlined bodies call the LLVM OpenMP runtime (__kmpc_*). rev functions keep
// their llvm.noalias memref pointers on the function itself.
// RUN: rev-opt %s --rev-to-openmp=privatize-atomics=0 | FileCheck %s
// RUN: rev-opt %s --rev-to-openmp="privatize-atomics=0 num-threads=2" | FileCheck %s --check-prefix=THREADS
// RUN: rev-opt %s --rev-to-openmp=privatize-atomics=0 | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR
// RUN: rev-opt %s --rev-to-llvm | FileCheck %s --check-prefix=SEQ

// CHECK-LABEL: llvm.func @scale(
// CHECK: omp.parallel {
// CHECK-NEXT: omp.wsloop {
// CHECK-NEXT: omp.loop_nest (%{{.*}}) : i64 = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK: llvm.fmul
// CHECK: llvm.store
// CHECK: omp.yield
// CHECK: omp.terminator
// THREADS-LABEL: llvm.func @scale(
// THREADS: %[[N:.*]] = llvm.mlir.constant(2 : i32) : i32
// THREADS: omp.parallel num_threads(%[[N]] : i32) {
// SEQ-LABEL: llvm.func @scale(
// SEQ-NOT: omp.
// SEQ: llvm.return
// LLVMIR-LABEL: define void @scale(
// LLVMIR: call void {{.*}} @__kmpc_fork_call(ptr @{{[0-9]+}}, i32 1, ptr @scale..omp_par,
func.func @scale(%A: memref<?xf64>, %B: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %a = memref.load %A[%i] : memref<?xf64>
    %b = arith.mulf %a, %a : f64
    memref.store %b, %B[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// CHECK-LABEL: omp.declare_reduction @__scf_reduction : f64 init {
// CHECK: llvm.mlir.constant(0.000000e+00 : f64) : f64
// CHECK: } combiner {
// CHECK: llvm.fadd
// CHECK-LABEL: llvm.func @sum(
// CHECK-SAME: %[[A0:arg6]]: f64) -> f64
// CHECK: %[[ACC:.*]] = llvm.alloca %{{.*}} x f64
// CHECK: llvm.store %[[A0]], %[[ACC]]
// CHECK: omp.parallel {
// CHECK-NEXT: omp.wsloop reduction(@__scf_reduction %[[ACC]] -> %[[PRIV:.*]] : !llvm.ptr) {
// CHECK: llvm.load %[[PRIV]]
// CHECK: llvm.fadd
// CHECK: llvm.store %{{.*}}, %[[PRIV]]
// CHECK: omp.terminator
// CHECK: %[[R:.*]] = llvm.load %[[ACC]] : !llvm.ptr -> f64
// CHECK: llvm.return %[[R]] : f64
// LLVMIR-LABEL: define internal void @sum..omp_par(
// LLVMIR: call i32 @__kmpc_reduce(
func.func @sum(%A: memref<?xf64>, %n: index, %a0: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%a0) -> f64 {
    %a = memref.load %A[%i] : memref<?xf64>
    scf.reduce(%a : f64) {
    ^bb0(%l: f64, %r: f64):
      %t = arith.addf %l, %r : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}

// CHECK-LABEL: llvm.func @scatter(
// CHECK: omp.parallel {
// CHECK: omp.wsloop {
// CHECK: llvm.atomicrmw fadd %{{.*}}, %{{.*}} acq_rel : !llvm.ptr, f64
// LLVMIR-LABEL: define internal void @scatter..omp_par(
// LLVMIR: atomicrmw fadd ptr %{{.*}}, double %{{.*}} acq_rel
func.func @scatter(%V: memref<?xf64>, %C: memref<?xindex>, %X: memref<?xf64>, %n: index) {
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

// A rev function in the same module: lowered as by rev-to-llvm, its memref
// pointers marked llvm.noalias.
// CHECK-LABEL: llvm.func @rev_scale(
// CHECK-SAME: %{{arg[0-9]+}}: !llvm.ptr {llvm.noalias}, %{{arg[0-9]+}}: !llvm.ptr {llvm.noalias},
// CHECK-NOT: rev.noalias
rev.func @rev_scale(%A: memref<?xf64>, %x: f64, %i: index) -> (f64, index) {
  rev.mul_at %A[%i], %x : memref<?xf64>
  rev.return %x, %i : f64, index
}
