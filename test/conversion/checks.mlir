// rev.check: a message on stderr and exit(1) (libc, the CPU default), or
// cf.assert (which the GPU lowering maps to the device's assert).
// RUN: rev-opt %s --lower-rev | FileCheck %s --check-prefix=LIBC
// RUN: rev-opt %s --lower-rev=check-lowering=assert | FileCheck %s --check-prefix=ASSERT

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
