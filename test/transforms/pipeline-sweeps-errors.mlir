// RUN: not rev-opt %s --rev-pipeline-sweeps=vector-bits=100 2>&1 | FileCheck %s

// CHECK: error: --rev-pipeline-sweeps: vector-bits must be 128, 256, 512 or 1024, got 100
module {
}
