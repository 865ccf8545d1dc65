// RUN: rev-opt %s --rev-divide-by-constants -split-input-file | FileCheck %s

// Two divisions of one vector by constants: one guard (every lane of the
// numerator in [2^-788, 2^955]), then the rest of the block twice: with
// a * RN(1/c) and its FMA corrections, or with the divisions. 1/3 is
// certified for one correction (|3 RN(1/3) - 1| = 2^-54), 1/99 needs two.

// CHECK-LABEL: func.func @two_constants
// CHECK-SAME: (%[[A:.*]]: vector<4xf64>, %[[M:.*]]: memref<4xf64>)
// CHECK: %[[ABS:.*]] = math.absf %[[A]]
// CHECK: %[[LO:.*]] = arith.constant dense<6.1427581497165044E-238> : vector<4xf64>
// CHECK: %[[GE:.*]] = arith.cmpf oge, %[[ABS]], %[[LO]]
// CHECK: %[[HI:.*]] = arith.constant dense<3.0454106285624997E+287> : vector<4xf64>
// CHECK: %[[LE:.*]] = arith.cmpf ole, %[[ABS]], %[[HI]]
// CHECK: %[[IN:.*]] = arith.andi %[[GE]], %[[LE]]
// CHECK: %[[OK:.*]] = vector.reduction <and>, %[[IN]] : vector<4xi1> into i1
// CHECK: %[[R:.*]] = scf.if %[[OK]] -> (vector<4xf64>) {
//   a / 3: one correction
// CHECK-DAG: %[[N3:.*]] = arith.constant dense<-3.000000e+00>
// CHECK-DAG: %[[Y3:.*]] = arith.constant dense<0.33333333333333331>
// CHECK: %[[Q0:.*]] = arith.mulf %[[A]], %[[Y3]]
// CHECK: %[[R0:.*]] = math.fma %[[Q0]], %[[N3]], %[[A]]
// CHECK: %[[Q1:.*]] = math.fma %[[R0]], %[[Y3]], %[[Q0]]
// CHECK-NOT: math.fma
// CHECK: memref.store
//   a / 99: two corrections
// CHECK-DAG: %[[N99:.*]] = arith.constant dense<-9.900000e+01>
// CHECK-DAG: %[[Y99:.*]] = arith.constant dense<0.010101010101010102>
// CHECK: %[[P0:.*]] = arith.mulf %[[A]], %[[Y99]]
// CHECK: %[[S0:.*]] = math.fma %[[P0]], %[[N99]], %[[A]]
// CHECK: %[[P1:.*]] = math.fma %[[S0]], %[[Y99]], %[[P0]]
// CHECK: %[[S1:.*]] = math.fma %[[P1]], %[[N99]], %[[A]]
// CHECK: %[[P2:.*]] = math.fma %[[S1]], %[[Y99]], %[[P1]]
// CHECK: %[[SUM:.*]] = arith.addf %[[Q1]], %[[P2]]
// CHECK: scf.yield %[[SUM]]
// CHECK: } else {
// CHECK: %[[D3:.*]] = arith.divf %[[A]], %{{.*}} : vector<4xf64>
// CHECK: memref.store
// CHECK: %[[D99:.*]] = arith.divf %[[A]], %{{.*}} : vector<4xf64>
// CHECK: %[[DSUM:.*]] = arith.addf %[[D3]], %[[D99]]
// CHECK: scf.yield %[[DSUM]]
// CHECK: }
// CHECK: return %[[R]]
func.func @two_constants(%a: vector<4xf64>, %m: memref<4xf64>) -> vector<4xf64> {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3.0 : f64
  %v3 = vector.broadcast %c3 : f64 to vector<4xf64>
  %q3 = arith.divf %a, %v3 : vector<4xf64>
  vector.store %q3, %m[%c0] : memref<4xf64>, vector<4xf64>
  memref.store %c3, %m[%c0] : memref<4xf64>
  %v99 = arith.constant dense<99.0> : vector<4xf64>
  %q99 = arith.divf %a, %v99 : vector<4xf64>
  %s = arith.addf %q3, %q99 : vector<4xf64>
  return %s : vector<4xf64>
}

// -----

// Left alone: scalars (the branch would keep LLVM from vectorising their
// loop), powers of two (LLVM multiplies already), non-constant or non-splat
// divisors, `arcp` (LLVM may use the reciprocal, inexactly), constants out of
// [2^-64, 2^64], zero, infinity.

// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: scf.if
// CHECK-COUNT-8: arith.divf
// CHECK-NOT: scf.if
// CHECK: return
func.func @left_alone(%a: vector<4xf64>, %b: vector<4xf64>, %s: f64)
    -> (f64, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>) {
  %c3 = arith.constant 3.0 : f64
  %q0 = arith.divf %s, %c3 : f64
  %p2 = arith.constant dense<-0.25> : vector<4xf64>
  %q1 = arith.divf %a, %p2 : vector<4xf64>
  %q2 = arith.divf %a, %b : vector<4xf64>
  %ns = arith.constant dense<[3.0, 5.0, 7.0, 9.0]> : vector<4xf64>
  %q3 = arith.divf %a, %ns : vector<4xf64>
  %v3 = arith.constant dense<3.0> : vector<4xf64>
  %q4 = arith.divf %a, %v3 fastmath<arcp> : vector<4xf64>
  %big = arith.constant dense<3.0e20> : vector<4xf64>
  %q5 = arith.divf %a, %big : vector<4xf64>
  %zero = arith.constant dense<0.0> : vector<4xf64>
  %q6 = arith.divf %a, %zero : vector<4xf64>
  %inf = arith.constant dense<0x7FF0000000000000> : vector<4xf64>
  %q7 = arith.divf %a, %inf : vector<4xf64>
  return %q0, %q1, %q2, %q3, %q4, %q5, %q6, %q7
      : f64, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>, vector<4xf64>
}

// -----

// f32: the guard's range is [2^-46, 2^107]; `contract` is kept on the
// division of the else branch.

// CHECK-LABEL: func.func @single
// CHECK-DAG: arith.constant dense<1.42108547E-14> : vector<8xf32>
// CHECK-DAG: arith.constant dense<1.62259277E+32> : vector<8xf32>
// CHECK: scf.if
// CHECK: math.fma
// CHECK: } else {
// CHECK: arith.divf %{{.*}}, %{{.*}} fastmath<contract> : vector<8xf32>
func.func @single(%a: vector<8xf32>) -> vector<8xf32> {
  %c = arith.constant dense<7.0> : vector<8xf32>
  %q = arith.divf %a, %c fastmath<contract> : vector<8xf32>
  return %q : vector<8xf32>
}

// -----

// Two numerators: the second's guard nests in the first's then branch (its
// else branch keeps both divisions).

// CHECK-LABEL: func.func @two_numerators
// CHECK: scf.if
// CHECK: math.fma
// CHECK: scf.if
// CHECK: math.fma
// CHECK: } else {
// CHECK: arith.divf %arg1
// CHECK: } else {
// CHECK: arith.divf %arg0
// CHECK: arith.divf %arg1
func.func @two_numerators(%a: vector<4xf64>, %b: vector<4xf64>) -> vector<4xf64> {
  %c = arith.constant dense<3.0> : vector<4xf64>
  %qa = arith.divf %a, %c : vector<4xf64>
  %qb = arith.divf %b, %c : vector<4xf64>
  %s = arith.addf %qa, %qb : vector<4xf64>
  return %s : vector<4xf64>
}

// -----

// A quotient divided again: the second group's numerator is the first's
// quotient, which its multiplications replace before the second is
// rewritten (the fuzzer's crash, seed 1, mutant 250).

// CHECK-LABEL: func.func @quotient_of_quotient
// CHECK: %[[OK:.*]] = vector.reduction <and>
// CHECK: scf.if %[[OK]]
// CHECK: %[[Q0:.*]] = arith.mulf %arg0
// CHECK: %[[R0:.*]] = math.fma %[[Q0]], %{{.*}}, %arg0
// CHECK: %[[Q1:.*]] = math.fma %[[R0]], %{{.*}}, %[[Q0]]
// CHECK: math.absf %[[Q1]]
// CHECK: scf.if
// CHECK: arith.mulf %[[Q1]]
// CHECK: } else {
// CHECK: arith.divf %[[Q1]]
// CHECK: } else {
// CHECK: %[[D:.*]] = arith.divf %arg0
// CHECK: arith.divf %[[D]]
func.func @quotient_of_quotient(%a: vector<4xf64>) -> vector<4xf64> {
  %c = arith.constant dense<3.0> : vector<4xf64>
  %qa = arith.divf %a, %c : vector<4xf64>
  %qb = arith.divf %qa, %c : vector<4xf64>
  %s = arith.addf %qa, %qb : vector<4xf64>
  return %s : vector<4xf64>
}
