// --rev-gpu-reductions: a 1-d scf.parallel with additive scf.reduce becomes
// a gpu.launch (block reduction, one atomic per block into a device
// accumulator that starts at the init value); other loops are left alone.
// RUN: rev-opt %s --rev-gpu-reductions | FileCheck %s
// RUN: rev-opt %s --rev-gpu-reductions=block-size=128 | FileCheck %s --check-prefix=B128

// CHECK-LABEL: func.func @dot
// CHECK-SAME: (%[[X:.*]]: memref<?xf64>, %[[Y:.*]]: memref<?xf64>, %[[INIT:.*]]: f64)
// CHECK: %[[N:.*]] = memref.dim %[[X]]
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[B:.*]] = arith.constant 256 : index
// CHECK: %[[SPAN:.*]] = arith.subi %[[N]], %{{.*}}
// CHECK: %[[Q:.*]] = arith.ceildivsi %[[SPAN]], %{{.*}}
// CHECK: %[[TRIP:.*]] = arith.maxsi %[[Q]], %[[C0]]
// CHECK: %[[G:.*]] = arith.ceildivsi %[[TRIP]], %[[B]]
// CHECK: %[[GRID:.*]] = arith.maxsi %[[G]], %[[C1]]
// CHECK: %[[HOST:.*]] = memref.alloca() : memref<1xf64>
// CHECK: memref.store %[[INIT]], %[[HOST]][%[[C0]]]
// CHECK: %[[DEV:.*]] = gpu.alloc () : memref<1xf64>
// CHECK: gpu.memcpy %[[DEV]], %[[HOST]]
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[GRID]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[B]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]])
// CHECK: %[[T0:.*]] = arith.muli %[[BX]]
// CHECK: %[[T:.*]] = arith.addi %[[T0]], %[[TX]]
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[T]], %[[TRIP]]
// CHECK: %[[P:.*]] = scf.if %[[IN]] -> (f64) {
// CHECK: %[[IV:.*]] = arith.addi
// CHECK: memref.load %[[X]][%[[IV]]]
// CHECK: %[[M:.*]] = arith.mulf
// CHECK: scf.yield %[[M]] : f64
// CHECK: } else {
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: scf.yield %[[Z]] : f64
// CHECK: %[[S:.*]] = gpu.all_reduce add %[[P]] uniform {
// CHECK: scf.if
// CHECK: memref.atomic_rmw addf %[[S]], %[[DEV]]
// CHECK: gpu.terminator
// CHECK: gpu.memcpy %[[HOST]], %[[DEV]]
// CHECK: %[[R:.*]] = memref.load %[[HOST]][%[[C0]]]
// CHECK: gpu.dealloc %[[DEV]]
// CHECK: return %[[R]]
// B128-LABEL: func.func @dot
// B128: arith.constant 128 : index
// B128: gpu.launch
func.func @dot(%x: memref<?xf64>, %y: memref<?xf64>, %init: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf64>
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%init) -> f64 {
    %a = memref.load %x[%i] : memref<?xf64>
    %b = memref.load %y[%i] : memref<?xf64>
    %p = arith.mulf %a, %b : f64
    scf.reduce(%p : f64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.addf %l, %rr : f64
      scf.reduce.return %t : f64
    }
  }
  return %r : f64
}

// Two reductions (f64 and i64), a step of 2: one accumulator each.
// CHECK-LABEL: func.func @two
// CHECK-COUNT-2: gpu.alloc ()
// CHECK: gpu.launch
// CHECK: scf.if %{{.*}} -> (f64, i64)
// CHECK: arith.muli %{{.*}}, %[[STEP:.*]] : index
// CHECK: gpu.all_reduce add %{{.*}} uniform {
// CHECK: gpu.all_reduce add %{{.*}} uniform {
// CHECK: memref.atomic_rmw addf
// CHECK: memref.atomic_rmw addi
// CHECK-COUNT-2: gpu.dealloc
func.func @two(%x: memref<?xf64>, %lo: index, %hi: index) -> (f64, i64) {
  %c2 = arith.constant 2 : index
  %f0 = arith.constant 1.5 : f64
  %i0 = arith.constant 7 : i64
  %r:2 = scf.parallel (%i) = (%lo) to (%hi) step (%c2) init (%f0, %i0) -> (f64, i64) {
    %a = memref.load %x[%i] : memref<?xf64>
    %k = arith.index_cast %i : index to i64
    scf.reduce(%a, %k : f64, i64) {
    ^bb0(%l: f64, %rr: f64):
      %t = arith.addf %rr, %l : f64
      scf.reduce.return %t : f64
    }, {
    ^bb0(%l: i64, %rr: i64):
      %t = arith.addi %l, %rr : i64
      scf.reduce.return %t : i64
    }
  }
  return %r#0, %r#1 : f64, i64
}

// A loop without reductions stays for the upstream mapping.
// CHECK-LABEL: func.func @elementwise
// CHECK-NOT: gpu.launch
// CHECK: scf.parallel
func.func @elementwise(%x: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf64>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %a = memref.load %x[%i] : memref<?xf64>
    %b = arith.mulf %a, %a : f64
    memref.store %b, %x[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
