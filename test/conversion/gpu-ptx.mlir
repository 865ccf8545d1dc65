// rev-to-gpu: the PTX of each kernel kind (Inputs/gpu-kernels.mlir), for
// sm_90 (default: +ptx80) and sm_80. The PTX is the object of each
// gpu.binary (format=isa), printed by extract_ptx.py.
// RUN: rev-opt %S/Inputs/gpu-kernels.mlir --rev-to-gpu | %PYTHON %S/../extract_ptx.py | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: rev-opt %S/Inputs/gpu-kernels.mlir '--rev-to-gpu=chip=sm_80 features=+ptx70' | %PYTHON %S/../extract_ptx.py | FileCheck %s --check-prefixes=CHECK,SM80
// RUN: rev-opt %S/Inputs/gpu-kernels.mlir '--rev-to-gpu=chip=sm_80 block-size=128' | %PYTHON %S/../extract_ptx.py | FileCheck %s --check-prefix=B128

// Elementwise forward: no atomics, 256 threads per block (the tiling).
// CHECK-LABEL: // ---- gpu.binary @axpy2_kernel
// SM90: .version 8.0
// SM90: .target sm_90
// SM80: .version 7.0
// SM80: .target sm_80
// CHECK: .visible .entry axpy2_kernel(
// CHECK-NOT: atom.
// CHECK: mul.rn.f64
// CHECK-NOT: atom.
// CHECK: st.global.{{[bf]}}64
// CHECK-NOT: atom.
// CHECK: ret;

// The shared scalar adjoint: a block reduction (shuffles, shared memory, a
// barrier), then one atomic add per block.
// CHECK-LABEL: // ---- gpu.binary @axpy2_abar_kernel
// SM90: .target sm_90
// SM80: .target sm_80
// CHECK: .visible .entry axpy2_abar_kernel(
// CHECK: .shared
// CHECK: shfl.sync.bfly.b32
// CHECK: bar.sync
// CHECK: atom.global.add.f64
// CHECK-NOT: atom.
// CHECK: ret;

// The scatter: one atomic add per element.
// CHECK-LABEL: // ---- gpu.binary @spmv_t_kernel
// SM90: .target sm_90
// SM80: .target sm_80
// CHECK: .visible .entry spmv_t_kernel(
// CHECK: ld.global
// CHECK: atom.global.add.f64
// CHECK: ret;

// B128: .maxntid 128, 1, 1
