// RUN: rev-opt %s --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_80},gpu.module(convert-gpu-to-nvvm),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})' | FileCheck %s

// rev-opt registers the GPU-to-LLVM-IR translations: a gpu.module goes all
// the way to PTX (NVPTX back end, no GPU or CUDA driver needed).

// CHECK: gpu.binary @kernels [#gpu.object<#nvvm.target<chip = "sm_80">
// CHECK-SAME: .target sm_80
// CHECK-SAME: .visible .entry scale(
// CHECK-SAME: mul.rn.f32
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @scale(%A: memref<16xf32>, %s: f32) kernel {
      %i = gpu.thread_id x
      %a = memref.load %A[%i] : memref<16xf32>
      %b = arith.mulf %a, %s : f32
      memref.store %b, %A[%i] : memref<16xf32>
      gpu.return
    }
  }
}
