// ../shared/repro/09-upstream-smt-check.mlir: upstream MLIR 22.1.8 aborts in
// smt.check's parser on a forward reference resolved into its region ("Cannot
// destroy a value that still has uses"; the same bug rev's own region ops
// turn into a parse error: test/dialect/invalid-forward-ref.mlir). rev-opt
// probe-parses every input in a child process (tools/parse-guard), so the
// abort becomes the parser's own error plus a closing one, exit 1 (the
// message names no signal: nothing crashed in rev-opt).
// RUN: not rev-opt %s 2>&1 | FileCheck %s --implicit-check-not=Abort
// RUN: not rev-opt %s --rev-to-llvm -o %t.out 2>&1 | FileCheck %s
// RUN: not test -e %t.out
// RUN: cat %s | not rev-opt 2>&1 | FileCheck %s --check-prefix=STDIN
// RUN: not rev-opt %s -split-input-file 2>&1 | FileCheck %s --check-prefix=SPLIT

// CHECK: parse-guard.mlir:[[@LINE+12]]:5: error: custom op 'smt.check' expected 'unknown'
// CHECK: parse-guard.mlir: error: input rejected: the MLIR parser cannot recover from the error above
// CHECK-NOT: Assertion
// STDIN: <stdin>:[[@LINE+9]]:5: error: custom op 'smt.check'
// STDIN: -: error: input rejected: the MLIR parser cannot recover from the error above
// SPLIT: error: custom op 'smt.check' expected 'unknown'
// SPLIT: error: input rejected
func.func @g() {
  %u = arith.addf %n, %n : f32
  smt.check sat {
  ^bb0(%n: f32):
    smt.yield
  } junk
  return
}

// -----

func.func @fine() {
  return
}
