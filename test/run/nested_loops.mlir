// Nested loops (a matrix-vector accumulation y += M x, then a shift of M's
// rows), and a reversed loop with a step that does not divide the range.
// RUN: rev-opt %s --rev-invert --rev-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s

rev.func @matvec(%M: memref<3x3xf64>, %x: memref<3xf64>, %y: memref<3xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  rev.for %i = %c0 to %c3 step %c1 {
    rev.for %j = %c0 to %c3 step %c1 {
      %m = memref.load %M[%i, %j] : memref<3x3xf64>
      %v = memref.load %x[%j] : memref<3xf64>
      %p = arith.mulf %m, %v : f64
      rev.add_at %y[%i], %p : memref<3xf64>
    }
    // x[i] depends on the y just computed: order matters on the way back.
    %yi = memref.load %y[%i] : memref<3xf64>
    rev.add_at %x[%i], %yi : memref<3xf64>
  }
  rev.return
}

// s accumulates i*i over i = 1, 4, 7 (step 3, upper bound 9): the reverse
// loop must visit 7, 4, 1.
rev.func @steps(%s: i64, %o: f64) -> (i64, f64) {
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c9 = arith.constant 9 : index
  %r:2 = rev.for %i = %c1 to %c9 step %c3 iter_args(%a = %s, %b = %o) -> (i64, f64) {
    %ii = arith.index_cast %i : index to i64
    %sq = arith.muli %ii, %ii : i64
    %a1 = rev.add %a, %sq : i64
    // b := (b + i) * 2 does not commute across iterations: a wrong visiting
    // order on the way back would not give b = 0.
    %fi = arith.sitofp %ii : i64 to f64
    %two = arith.constant 2.0 : f64
    %b1 = rev.add %b, %fi : f64
    %b2 = rev.mul %b1, %two : f64
    rev.yield %a1, %b2 : i64, f64
  }
  rev.return %r#0, %r#1 : i64, f64
}

func.func private @printMemrefF64(memref<*xf64>)

func.func @main() {
  %M = memref.alloc() : memref<3x3xf64>
  %x = memref.alloc() : memref<3xf64>
  %y = memref.alloc() : memref<3xf64>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f64
  scf.for %i = %c0 to %c3 step %c1 {
    %ii = arith.index_cast %i : index to i64
    %fi = arith.sitofp %ii : i64 to f64
    memref.store %fi, %x[%i] : memref<3xf64>
    memref.store %zero, %y[%i] : memref<3xf64>
    scf.for %j = %c0 to %c3 step %c1 {
      %jj = arith.index_cast %j : index to i64
      %fj = arith.sitofp %jj : i64 to f64
      %v = arith.addf %fi, %fj : f64
      memref.store %v, %M[%i, %j] : memref<3x3xf64>
    }
  }
  %ux = memref.cast %x : memref<3xf64> to memref<*xf64>
  %uy = memref.cast %y : memref<3xf64> to memref<*xf64>
  rev.call @matvec(%M, %x, %y) : (memref<3x3xf64>, memref<3xf64>, memref<3xf64>) -> ()
  // y0 = 0*0+1*1+2*2 = 5, x0 = 5; y1 = 1*5+2*1+3*2 = 13, x1 = 14; y2 = 2*5+3*14+4*2 = 60, x2 = 62
  // CHECK: data =
  // CHECK-NEXT: [5,  14,  62]
  call @printMemrefF64(%ux) : (memref<*xf64>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [5,  13,  60]
  call @printMemrefF64(%uy) : (memref<*xf64>) -> ()
  rev.uncall @matvec(%M, %x, %y) : (memref<3x3xf64>, memref<3xf64>, memref<3xf64>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [0,  1,  2]
  call @printMemrefF64(%ux) : (memref<*xf64>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [0,  0,  0]
  call @printMemrefF64(%uy) : (memref<*xf64>) -> ()

  %s = arith.constant 0 : i64
  %o = arith.constant 0.0 : f64
  %r:2 = rev.call @steps(%s, %o) : (i64, f64) -> (i64, f64)
  // 1 + 16 + 49 = 66; ((0+1)*2 + 4)*2 = 12, (12 + 7)*2 = 38
  // CHECK-NEXT: 66
  // CHECK-NEXT: 38
  vector.print %r#0 : i64
  vector.print %r#1 : f64
  %b:2 = rev.uncall @steps(%r#0, %r#1) : (i64, f64) -> (i64, f64)
  // CHECK-NEXT: 0
  // CHECK-NEXT: 0
  vector.print %b#0 : i64
  vector.print %b#1 : f64
  return
}
