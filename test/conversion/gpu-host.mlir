// rev-to-gpu's host side: the kernels are launched through the MLIR CUDA
// runtime wrappers (mgpu*) on a stream, the reduction's accumulator is
// allocated and copied, and the result translates to LLVM IR (no
// unlowered gpu.alloc/memcpy: gpu-async-region ran first).
// RUN: rev-opt %S/Inputs/gpu-kernels.mlir --rev-to-gpu | FileCheck %s
// RUN: rev-opt %S/Inputs/gpu-kernels.mlir --rev-to-gpu | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVM

// CHECK: llvm.func @axpy2(
// CHECK: llvm.call @mgpuStreamCreate
// CHECK: gpu.launch_func <%{{.*}} : !llvm.ptr> @axpy2_kernel::@axpy2_kernel
// CHECK: llvm.call @mgpuStreamSynchronize
// CHECK: llvm.func @_mlir_ciface_axpy2(
// CHECK: gpu.binary @axpy2_kernel
// CHECK: llvm.func @axpy2_abar(
// CHECK: llvm.call @mgpuMemAlloc
// CHECK: llvm.call @mgpuMemcpy
// CHECK: gpu.launch_func <%{{.*}} : !llvm.ptr> @axpy2_abar_kernel::@axpy2_abar_kernel
// CHECK: llvm.call @mgpuMemcpy
// CHECK: llvm.call @mgpuStreamSynchronize
// CHECK: llvm.call @mgpuMemFree
// CHECK: llvm.func @spmv_t(
// CHECK: gpu.launch_func

// LLVM: define double @axpy2(
// LLVM: call void @mgpuLaunchKernel(ptr %{{.*}}, i64 %{{.*}}, i64 1, i64 1, i64 256, i64 1, i64 1, i32 0,
// LLVM: define void @_mlir_ciface_spmv_t(
// LLVM: define internal void @axpy2_kernel_load()
// LLVM: call ptr @mgpuModuleLoadJIT(ptr @axpy2_kernel_binary
