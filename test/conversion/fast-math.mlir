// Fast-math flags are opt-in: --rev-to-llvm leaves the float ops exact
// unless fast-math= asks; --rev-fast-math sets the flags on the arith/math
// ops, and the conversion to LLVM carries them to the instructions.
// RUN: rev-opt %s --rev-to-llvm | FileCheck %s --check-prefix=NONE
// RUN: rev-opt %s --rev-to-llvm="fast-math=none" | FileCheck %s --check-prefix=NONE
// RUN: rev-opt %s --rev-to-llvm="fast-math=arcp" | FileCheck %s --check-prefix=ARCP
// RUN: rev-opt %s --rev-to-llvm="fast-math=fast" | FileCheck %s --check-prefix=FAST
// RUN: rev-opt %s --rev-to-llvm="fast-math=arcp" | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR
// RUN: rev-opt %s --lower-rev --rev-fast-math="flags=arcp,contract" | FileCheck %s --check-prefix=PASS
// RUN: not rev-opt %s --rev-fast-math="flags=bogus" 2>&1 | FileCheck %s --check-prefix=BAD

// NONE-LABEL: llvm.func @f(
// NONE-NOT: fastmath
// NONE: llvm.return

// ARCP-LABEL: llvm.func @f(
// ARCP: llvm.fdiv %{{.*}}, %{{.*}} {fastmathFlags = #llvm.fastmath<arcp>} : f64
// ARCP: llvm.fmul %{{.*}}, %{{.*}} {fastmathFlags = #llvm.fastmath<arcp>} : f64
// ARCP: llvm.intr.sqrt(%{{.*}}) {fastmathFlags = #llvm.fastmath<arcp>} : (f64) -> f64

// FAST-LABEL: llvm.func @f(
// FAST: llvm.fdiv %{{.*}}, %{{.*}} {fastmathFlags = #llvm.fastmath<fast>} : f64

// LLVMIR-LABEL: define { double, double } @f(
// LLVMIR: fdiv arcp double
// LLVMIR: fmul arcp double

// PASS-LABEL: func.func @f(
// PASS: arith.divf %{{.*}}, %{{.*}} fastmath<arcp,contract> : f64
// PASS: arith.mulf %{{.*}}, %{{.*}} fastmath<arcp,contract> : f64

// BAD: --rev-fast-math: unknown flags 'bogus'
rev.func @f(%X: memref<?xf64>, %a: f64, %b: f64) -> (f64, f64) {
  %c0 = arith.constant 0 : index
  %q = arith.divf %a, %b : f64
  %p = arith.mulf %q, %a : f64
  %r = math.sqrt %p : f64
  rev.add_at %X[%c0], %r : memref<?xf64>
  rev.return %a, %b : f64, f64
}
