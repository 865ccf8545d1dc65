// Every rev op prints and parses back identically.
// RUN: rev-opt %s | FileCheck %s
// RUN: rev-opt %s | rev-opt | FileCheck %s
// RUN: rev-opt %s > %t.1.mlir && rev-opt %t.1.mlir > %t.2.mlir && diff %t.1.mlir %t.2.mlir
// RUN: rev-opt %s -mlir-print-op-generic | rev-opt | FileCheck %s

// CHECK-LABEL: rev.func @scalar_updates
// CHECK-SAME: (%[[X:.*]]: f64, %[[Y:.*]]: f64, %[[K:.*]]: i64, %[[N:.*]]: index) -> (f64, f64, i64, index)
rev.func @scalar_updates(%x: f64, %y: f64, %k: i64, %n: index) -> (f64, f64, i64, index) {
  // CHECK: %[[Y1:.*]] = rev.add %[[Y]], %[[X]] : f64
  %y1 = rev.add %y, %x : f64
  // CHECK: %[[Y2:.*]] = rev.sub %[[Y1]], %[[X]] : f64
  %y2 = rev.sub %y1, %x : f64
  // CHECK: %[[Y3:.*]] = rev.mul %[[Y2]], %[[X]] : f64
  %y3 = rev.mul %y2, %x : f64
  // CHECK: %[[Y4:.*]] = rev.div %[[Y3]], %[[X]] : f64
  %y4 = rev.div %y3, %x : f64
  // CHECK: %[[Y5:.*]] = rev.neg %[[Y4]] : f64
  %y5 = rev.neg %y4 : f64
  // CHECK: %[[A0:.*]], %[[A1:.*]] = rev.swap %[[X]], %[[Y5]] : f64
  %a:2 = rev.swap %x, %y5 : f64
  %t = arith.constant 0.5 : f64
  // CHECK: %[[B0:.*]], %[[B1:.*]] = rev.rot %[[A0]], %[[A1]], %{{.*}} : f64
  %b:2 = rev.rot %a#0, %a#1, %t : f64
  // CHECK: rev.irot %[[B0]], %[[B1]], %{{.*}} : f64
  %c:2 = rev.irot %b#0, %b#1, %t : f64
  %one = arith.constant 1 : i64
  // CHECK: %[[K1:.*]] = rev.xor %[[K]], %{{.*}} : i64
  %k1 = rev.xor %k, %one : i64
  // CHECK: rev.add %[[K1]], %{{.*}} : i64
  %k2 = rev.add %k1, %one : i64
  // CHECK: rev.neg %{{.*}} : i64
  %k3 = rev.neg %k2 : i64
  %c1 = arith.constant 1 : index
  // CHECK: rev.add %[[N]], %{{.*}} : index
  %n1 = rev.add %n, %c1 : index
  rev.return %c#0, %c#1, %k3, %n1 : f64, f64, i64, index
}

// CHECK-LABEL: rev.func @element_updates
rev.func @element_updates(%A: memref<4xf64>, %B: memref<?x?xf64>, %I: memref<4xi32>) {
  %i = arith.constant 0 : index
  %j = arith.constant 1 : index
  %d = arith.constant 2.0 : f64
  %e = arith.constant 3 : i32
  // CHECK: rev.add_at %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>
  rev.add_at %A[%i], %d : memref<4xf64>
  // CHECK: rev.sub_at %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}} : memref<?x?xf64>
  rev.sub_at %B[%i, %j], %d : memref<?x?xf64>
  // CHECK: rev.mul_at %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>
  rev.mul_at %A[%j], %d : memref<4xf64>
  // CHECK: rev.div_at %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>
  rev.div_at %A[%j], %d : memref<4xf64>
  // CHECK: rev.xor_at %{{.*}}[%{{.*}}], %{{.*}} : memref<4xi32>
  rev.xor_at %I[%j], %e : memref<4xi32>
  // CHECK: rev.neg_at %{{.*}}[%{{.*}}] : memref<4xf64>
  rev.neg_at %A[%i] : memref<4xf64>
  // CHECK: rev.swap_at %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}, %{{.*}}] : memref<4xf64>, memref<?x?xf64>
  rev.swap_at %A[%i], %B[%i, %j] : memref<4xf64>, memref<?x?xf64>
  // CHECK: rev.rot_at %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>, memref<4xf64>, f64
  rev.rot_at %A[%i], %A[%j], %d : memref<4xf64>, memref<4xf64>, f64
  // CHECK: rev.irot_at %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}], %{{.*}} : memref<4xf64>, memref<4xf64>, f64
  rev.irot_at %A[%i], %A[%j], %d : memref<4xf64>, memref<4xf64>, f64
  rev.return
}

// CHECK-LABEL: rev.func @ancillas
rev.func @ancillas(%x: f32) -> f32 {
  // CHECK: %[[T:.*]] = rev.alloc : f32
  %t = rev.alloc : f32
  // CHECK: %[[U:.*]] = rev.alloc init 2.500000e+00 : f32
  %u = rev.alloc init 2.5 : f32
  // CHECK: %[[K:.*]] = rev.alloc init 7 : i64
  %k = rev.alloc init 7 : i64
  %t1 = rev.add %t, %x : f32
  %t2 = rev.sub %t1, %x : f32
  // CHECK: rev.free %{{.*}} : f32
  rev.free %t2 : f32
  // CHECK: rev.free %[[U]] init 2.500000e+00 : f32
  rev.free %u init 2.5 : f32
  // CHECK: rev.free %[[K]] init 7 : i64
  rev.free %k init 7 : i64
  rev.return %x : f32
}

// CHECK-LABEL: rev.func @calls
rev.func @calls(%x: f64, %A: memref<?xf64>) -> f64 {
  // CHECK: %[[R:.*]] = rev.call @ancillas64(%{{.*}}, %{{.*}}) : (f64, memref<?xf64>) -> f64
  %r = rev.call @ancillas64(%x, %A) : (f64, memref<?xf64>) -> f64
  // CHECK: rev.uncall @ancillas64(%[[R]], %{{.*}}) : (f64, memref<?xf64>) -> f64
  %s = rev.uncall @ancillas64(%r, %A) : (f64, memref<?xf64>) -> f64
  rev.return %s : f64
}

rev.func private @ancillas64(%x: f64, %A: memref<?xf64>) -> f64 {
  rev.return %x : f64
}

// CHECK-LABEL: rev.func @regions
rev.func @regions(%x: f64, %k: i64, %n: index, %A: memref<?xf64>) -> (f64, i64, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // CHECK: rev.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[XA:.*]] = %{{.*}}) -> (f64) {
  // CHECK: rev.yield %{{.*}} : f64
  %x1 = rev.for %i = %c0 to %n step %c1 iter_args(%xa = %x) -> (f64) {
    %v = memref.load %A[%i] : memref<?xf64>
    %xb = rev.add %xa, %v : f64
    rev.yield %xb : f64
  }
  // CHECK: rev.for reverse %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
  rev.for reverse %i = %c0 to %n step %c1 {
    %d = arith.constant 1.0 : f64
    rev.add_at %A[%i], %d : memref<?xf64>
  }
  // CHECK: rev.if %{{.*}} : f64 pre {
  // CHECK: rev.cond
  // CHECK: } then {
  // CHECK: } else {
  // CHECK: } post {
  %x2 = rev.if %x1 : f64 pre {
  ^bb0(%a: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  } then {
  ^bb0(%a: f64):
    %two = arith.constant 2.0 : f64
    %a1 = rev.mul %a, %two : f64
    rev.yield %a1 : f64
  } else {
  ^bb0(%a: f64):
    %a1 = rev.neg %a : f64
    rev.yield %a1 : f64
  } post {
  ^bb0(%a: f64):
    %z = arith.constant 0.0 : f64
    %c = arith.cmpf ogt, %a, %z : f64
    rev.cond %c
  }
  // CHECK: rev.while %{{.*}}, %{{.*}} : i64, f64 pre {
  // CHECK: } do {
  // CHECK: } post {
  %r:2 = rev.while %k, %x2 : i64, f64 pre {
  ^bb0(%j: i64, %a: f64):
    %ten = arith.constant 10 : i64
    %c = arith.cmpi slt, %j, %ten : i64
    rev.cond %c
  } do {
  ^bb0(%j: i64, %a: f64):
    %one = arith.constant 1 : i64
    %j1 = rev.add %j, %one : i64
    %h = arith.constant 0.5 : f64
    %a1 = rev.add %a, %h : f64
    rev.yield %j1, %a1 : i64, f64
  } post {
  ^bb0(%j: i64, %a: f64):
    %zero = arith.constant 0 : i64
    %c = arith.cmpi sgt, %j, %zero : i64
    rev.cond %c
  }
  // CHECK: rev.routine %{{.*}} : index compute {
  // CHECK: } body {
  %n2 = rev.routine %n : index compute {
  ^bb0(%m: index):
    %t = rev.alloc : f64
    %v = memref.load %A[%c0] : memref<?xf64>
    %t1 = rev.add %t, %v : f64
    rev.yield %m, %t1 : index, f64
  } body {
  ^bb0(%m: index, %t: f64):
    rev.add_at %A[%c1], %t : memref<?xf64>
    rev.yield %m, %t : index, f64
  }
  rev.return %r#1, %r#0, %n2 : f64, i64, index
}

// rev.grad_call (outside rev.funcs): `seeds 1` is the default and not printed.
// CHECK-LABEL: func.func @grad_driver
// CHECK: rev.grad_call @grad_target(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64)
// CHECK: rev.grad_call @grad_target(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) seeds 2 :
rev.func @grad_target(%x: f64, %A: memref<?xf64>) -> f64 {
  rev.return %x : f64
}
func.func @grad_driver(%x: f64, %A: memref<?xf64>, %d: f64, %dA: memref<?xf64>, %dB: memref<?xf64>) {
  %r:2 = rev.grad_call @grad_target(%x, %A, %d, %dA) seeds 1 : (f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64)
  %t:3 = rev.grad_call @grad_target(%x, %A, %d, %dA, %d, %dB) seeds 2 : (f64, memref<?xf64>, f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64, f64)
  return
}
