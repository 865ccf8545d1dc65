// rev-to-gpu's options are checked before anything runs (the NVPTX back end
// aborts on a PTX version too old for the chip).
// RUN: not rev-opt %s --rev-to-gpu=chip=sm_13 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not rev-opt %s '--rev-to-gpu=chip=sm_90 features=+ptx60' 2>&1 | FileCheck %s --check-prefix=PTX
// RUN: not rev-opt %s --rev-to-gpu=features=ptx80 2>&1 | FileCheck %s --check-prefix=FEAT
// RUN: not rev-opt %s --rev-to-gpu=format=elf 2>&1 | FileCheck %s --check-prefix=FMT
// RUN: not rev-opt %s --rev-to-gpu=block-size=0 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not rev-opt %s '--rev-to-gpu=format=bin toolkit=/nonexistent' 2>&1 | FileCheck %s --check-prefix=TK
// RUN: not rev-opt %s '--rev-to-gpu=toolkit="/a b"' 2>&1 | FileCheck %s --check-prefix=TKSP
// TKSP: rev-to-gpu: toolkit must be a folder without spaces or braces, got '/a b'
// CHIP: rev-to-gpu: unknown chip 'sm_13'
// PTX: rev-to-gpu: PTX 6.0 (features=+ptx60) does not support sm_90: it needs +ptx78 or later
// FEAT: rev-to-gpu: features must be empty
// FMT: rev-to-gpu: format must be isa, bin or fatbin, got 'elf'
// BLOCK: rev-to-gpu: block-size must be in 1..1024, got 0
// TK: rev-to-gpu: format=bin needs ptxas from a CUDA toolkit, and none was found (no bin/ptxas in toolkit=/nonexistent)
func.func @f() {
  return
}
