// Scoped alias metadata (--rev-memref-noalias): one alias scope per memref
// argument of a rev function, every load/store through one of its pointers
// in that scope and noalias with the others, OpenMP reduction variables in a
// scope of their own. Unlike the arguments' llvm.noalias, the metadata stays
// on the instructions when OpenMP outlines the parallel loop's body.
// RUN: rev-opt %s --rev-ad --rev-to-openmp | FileCheck %s
// RUN: rev-opt %s --rev-to-llvm | FileCheck %s --check-prefix=SEQ
// RUN: rev-opt %s --rev-to-llvm="memref-noalias=0" | FileCheck %s --check-prefix=OFF
// RUN: rev-opt %s --rev-ad --rev-to-openmp | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR

// CHECK-DAG: #[[DOM:.*]] = #llvm.alias_scope_domain<id = {{.*}}, description = "rev memref arguments of scale_grad">
// CHECK-DAG: #[[SX:alias_scope[0-9]*]] = #llvm.alias_scope<id = {{.*}}, domain = #[[DOM]], description = "argument 1">
// CHECK-DAG: #[[SY:alias_scope[0-9]*]] = #llvm.alias_scope<id = {{.*}}, domain = #[[DOM]], description = "argument 6">
// CHECK-DAG: #[[SXB:alias_scope[0-9]*]] = #llvm.alias_scope<id = {{.*}}, domain = #[[DOM]], description = "argument 12">
// CHECK-DAG: #[[SYB:alias_scope[0-9]*]] = #llvm.alias_scope<id = {{.*}}, domain = #[[DOM]], description = "argument 17">
// CHECK-DAG: #[[SR:alias_scope[0-9]*]] = #llvm.alias_scope<id = {{.*}}, domain = #[[DOM]], description = "reduction">
// CHECK-LABEL: llvm.func @scale_grad(
// CHECK: omp.wsloop reduction(@{{.*}} -> %[[PRIV:.*]] : !llvm.ptr)
// CHECK: llvm.load %{{.*}} {alias_scopes = [#[[SX]]], noalias_scopes = [#[[SY]], #[[SXB]], #[[SYB]], #[[SR]]]} : !llvm.ptr -> f64
// CHECK: llvm.load %{{.*}} {alias_scopes = [#[[SYB]]], noalias_scopes = [#[[SX]], #[[SY]], #[[SXB]], #[[SR]]]}
// CHECK: llvm.store %{{.*}}, %{{.*}} {alias_scopes = [#[[SXB]]], noalias_scopes = [#[[SX]], #[[SY]], #[[SYB]], #[[SR]]]}
// CHECK: llvm.load %[[PRIV]] {alias_scopes = [#[[SR]]], noalias_scopes = [#[[SX]], #[[SY]], #[[SXB]], #[[SYB]]]}
// CHECK: llvm.store %{{.*}}, %[[PRIV]] {alias_scopes = [#[[SR]]],
// CHECK-LABEL: llvm.func @_mlir_ciface_scale_grad(
// CHECK-NOT: alias_scopes
// CHECK: llvm.return

// SEQ-LABEL: llvm.func @scale(
// SEQ: llvm.load %{{.*}} {alias_scopes = [#[[X:.*]]], noalias_scopes = [#[[Y:.*]]]} : !llvm.ptr -> f64
// SEQ: llvm.store %{{.*}}, %{{.*}} {alias_scopes = [#[[Y]]], noalias_scopes = [#[[X]]]} : f64, !llvm.ptr
// OFF-NOT: alias_scope

// LLVMIR-LABEL: define internal void @scale_grad..omp_par(
// LLVMIR: load double, ptr %{{.*}}, align 8, !alias.scope ![[A:[0-9]+]], !noalias ![[NA:[0-9]+]]
// LLVMIR: store double %{{.*}}, ptr %{{.*}}, align 8, !alias.scope !{{[0-9]+}}, !noalias !{{[0-9]+}}
rev.func @scale(%a: f64, %X: memref<?xf64>, %Y: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %X, %c0 : memref<?xf64>
  rev.parallel_for %i = %c0 to %n step %c1 {
    %x = memref.load %X[%i] : memref<?xf64>
    %s = math.sin %x : f64
    %d = arith.mulf %a, %s : f64
    rev.add_at %Y[%i], %d : memref<?xf64>
  }
  rev.return %a : f64
}
