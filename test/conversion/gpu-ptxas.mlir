// REQUIRES: ptxas
// The PTX of every kernel kind assembles with ptxas (CUDA toolkit), for
// sm_90 and sm_80; format=bin (the serializer runs ptxas) gives cubins (ELF),
// format=fatbin fat binaries (magic 0xBA55ED50).
// RUN: rev-opt %S/Inputs/gpu-kernels.mlir --rev-to-gpu | %PYTHON %S/../extract_ptx.py --ptxas sm_90 | FileCheck %s
// RUN: rev-opt %S/Inputs/gpu-kernels.mlir '--rev-to-gpu=chip=sm_80 features=+ptx70' | %PYTHON %S/../extract_ptx.py --ptxas sm_80 | FileCheck %s
// RUN: rev-opt %S/Inputs/gpu-kernels.mlir --rev-to-gpu=format=bin | FileCheck %s --check-prefix=BIN
// RUN: rev-opt %S/Inputs/gpu-kernels.mlir --rev-to-gpu=format=fatbin | FileCheck %s --check-prefix=FATBIN

// CHECK: ptxas -arch=sm_{{[89]}}0 @axpy2_kernel: rc 0
// CHECK: Used {{[0-9]+}} registers
// CHECK: ptxas -arch=sm_{{[89]}}0 @axpy2_abar_kernel: rc 0
// CHECK: Used {{[0-9]+}} registers
// CHECK: ptxas -arch=sm_{{[89]}}0 @spmv_t_kernel: rc 0
// CHECK: Used {{[0-9]+}} registers

// BIN: gpu.binary @axpy2_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, properties = {{.*}}, bin = "\7FELF
// FATBIN: gpu.binary @axpy2_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, properties = {{.*}}, "P\EDU\BA
