// Ancillas: rev.alloc is its initial value, rev.free leaves nothing (its
// check, in checked mode, is a rev.check inserted before it).
// RUN: rev-opt %s --lower-rev | FileCheck %s

// CHECK-LABEL: func.func @ancilla
// CHECK-SAME: (%[[X:.*]]: f64, %[[Y:.*]]: f64)
// CHECK: %[[T:.*]] = arith.constant 2.500000e+00 : f64
// CHECK: %[[T1:.*]] = arith.addf %[[T]], %[[X]]
// CHECK: %[[Y1:.*]] = arith.addf %[[Y]], %[[T1]]
// CHECK: %[[T2:.*]] = arith.subf %[[T1]], %[[X]]
// CHECK-NOT: rev.
// CHECK: return %[[X]], %[[Y1]]
rev.func @ancilla(%x: f64, %y: f64) -> (f64, f64) {
  %t = rev.alloc init 2.5 : f64
  %t1 = rev.add %t, %x : f64
  %y1 = rev.add %y, %t1 : f64
  %t2 = rev.sub %t1, %x : f64
  rev.free %t2 init 2.5 : f64
  rev.return %x, %y1 : f64, f64
}

// CHECK-LABEL: func.func @zero_int
// CHECK: arith.constant 0 : i16
rev.func @zero_int(%k: i16) -> i16 {
  %t = rev.alloc : i16
  %k1 = rev.xor %k, %t : i16
  rev.free %t : i16
  rev.return %k1 : i16
}
