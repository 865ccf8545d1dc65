// check-lowering=runtime outside the Python package's guard (here:
// mlir-runner with librev_runtime.so) behaves like libc: the message on
// stderr, exit status 1. (In Python the same failure raises RevError:
// test/python/test_checked_errors.py.)
// RUN: rev-opt %S/checked_failures.mlir --rev-to-llvm="checks=true check-lowering=runtime" > %t.ll.mlir
// RUN: not mlir-runner %t.ll.mlir -e leak -entry-point-result=void -shared-libs=%mlir_runner_libs,%rev_runtime_lib 2>&1 | FileCheck %s --check-prefix=LEAK
// RUN: not mlir-runner %t.ll.mlir -e zero_div -entry-point-result=void -shared-libs=%mlir_runner_libs,%rev_runtime_lib 2>&1 | FileCheck %s --check-prefix=DIV
// RUN: not mlir-runner %t.ll.mlir -e while_entry -entry-point-result=void -shared-libs=%mlir_runner_libs,%rev_runtime_lib 2>&1 | FileCheck %s --check-prefix=WHILE

// LEAK: rev: ancilla not restored to its initial value (rev.free at loc({{.*}}checked_failures.mlir":16:3))
// DIV: rev: zero divisor (rev.div at loc({{.*}}checked_failures.mlir":52:8))
// WHILE: rev: post-condition holds on entry (rev.while at loc({{.*}}checked_failures.mlir":79:8))
