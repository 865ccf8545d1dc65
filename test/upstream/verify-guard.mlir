// Upstream MLIR 22.1.8's scf.reduce.return verifier indexes its region's
// block arguments before scf.reduce's region verifier has checked that they
// exist, and aborts on a region written without them (found by
// scripts/fuzz.py --seed 22). rev-opt's probe (tools/parse-guard) verifies
// the parsed input in a child process too; when the verifier crashes there,
// a second child checks the ops one at a time, enclosing ops first, and
// reports the first that does not verify, located, then a closing error;
// exit 1, no output file, no abort in rev-opt.
// RUN: not rev-opt %s 2>&1 | FileCheck %s --implicit-check-not=Assertion
// RUN: not rev-opt %s --rev-to-llvm -o %t.out 2>&1 | FileCheck %s
// RUN: not test -e %t.out
// RUN: not rev-opt %s -split-input-file 2>&1 | FileCheck %s --check-prefix=SPLIT

// CHECK: verify-guard.mlir:[[@LINE+9]]:5: error: 'scf.reduce' op expected two block arguments with type 'f64' in the 0-th reduction region
// CHECK: verify-guard.mlir: error: input rejected: MLIR's verifier crashes on this input (an upstream verifier bug) instead of reporting the error above; fix that error
// SPLIT: error: 'scf.reduce' op expected two block arguments
// SPLIT: error: input rejected: MLIR's verifier crashes
func.func @sum(%x: memref<?xf64>, %init: f64, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%init) -> f64 {
    %a = memref.load %x[%i] : memref<?xf64>
    scf.reduce(%a : f64) {
      %t = arith.addf %a, %a : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}
