// rev.check: a message on stderr and exit(1) (libc, the CPU default), a call
// of the rev runtime (Python: an exception), or cf.assert (which the GPU
// lowering maps to the device's assert).
// RUN: rev-opt %s --lower-rev | FileCheck %s --check-prefix=LIBC
// RUN: rev-opt %s --lower-rev=check-lowering=runtime | FileCheck %s --check-prefix=RUNTIME
// RUN: rev-opt %s --lower-rev=check-lowering=assert | FileCheck %s --check-prefix=ASSERT
// The pipeline passes the option on.
// RUN: rev-opt %s --rev-to-llvm="check-lowering=runtime" | FileCheck %s --check-prefix=PIPELINE

// LIBC-DAG: memref.global "private" constant @__rev_check_msg_0 : memref<{{[0-9]+}}xi8> = dense<
// LIBC-DAG: func.func private @write(i32, i64, i64) -> i64
// LIBC-DAG: func.func private @exit(i32)
// LIBC-LABEL: func.func @checked
// LIBC: %[[OK:.*]] = arith.cmpf une
// LIBC: %[[BAD:.*]] = arith.xori %[[OK]], %{{.*}} : i1
// LIBC: scf.if %[[BAD]] {
// LIBC:   memref.get_global @__rev_check_msg_0
// LIBC:   call @write
// LIBC:   call @exit
// RUNTIME-DAG: memref.global "private" constant @__rev_check_msg_0 : memref<[[N:[0-9]+]]xi8> = dense<
// RUNTIME-DAG: func.func private @__rev_check_failed(i64, i64)
// RUNTIME-LABEL: func.func @checked
// RUNTIME: %[[OK:.*]] = arith.cmpf une
// RUNTIME: %[[BAD:.*]] = arith.xori %[[OK]], %{{.*}} : i1
// RUNTIME: scf.if %[[BAD]] {
// RUNTIME:   %[[MSG:.*]] = memref.get_global @__rev_check_msg_0
// RUNTIME:   %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[MSG]]
// RUNTIME:   %[[P64:.*]] = arith.index_cast %[[P]] : index to i64
// RUNTIME:   %[[LEN:.*]] = arith.constant [[N]] : i64
// RUNTIME:   call @__rev_check_failed(%[[P64]], %[[LEN]]) : (i64, i64) -> ()
// RUNTIME-NOT: @write
// RUNTIME-NOT: @exit
// PIPELINE: llvm.func @__rev_check_failed(i64, i64)
// PIPELINE: llvm.call @__rev_check_failed
// PIPELINE-NOT: @exit
// ASSERT-LABEL: func.func @checked
// ASSERT: %[[OK:.*]] = arith.cmpf une
// ASSERT: cf.assert %[[OK]], "rev: zero divisor (rev.div at loc({{.*}}checks.mlir{{.*}}))"
// ASSERT-NOT: @write
rev.func @checked(%y: f64, %d: f64) -> (f64, f64) {
  %z = arith.constant 0.0 : f64
  %ok = arith.cmpf une, %d, %z : f64
  rev.check %ok, "zero divisor" for "rev.div"
  %y1 = rev.div %y, %d : f64
  rev.return %y1, %d : f64, f64
}
