// What a GPU kernel cannot do: located errors from --rev-gpu-prepare.
// RUN: rev-opt %s --rev-gpu-prepare -split-input-file -verify-diagnostics

func.func private @ext(f64) -> f64

func.func @calls_external(%x: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %a = memref.load %x[%i] : memref<?xf64>
    // expected-error @+1 {{'func.call' op is not supported in a GPU kernel (the body of a parallel loop): it calls an external function, which has no device code}}
    %b = func.call @ext(%a) : (f64) -> f64
    memref.store %b, %x[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

func.func @host_buffer(%x: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-note @+1 {{the buffer is defined here}}
  %tmp = memref.alloc(%n) : memref<?xf64>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %a = memref.load %x[%i] : memref<?xf64>
    // expected-error @+1 {{'memref.store' op is not supported in a GPU kernel (the body of a parallel loop): it uses a buffer of the host; only the memref arguments of the function are device memory}}
    memref.store %a, %tmp[%i] : memref<?xf64>
    scf.reduce
  }
  memref.dealloc %tmp : memref<?xf64>
  return
}

// -----

// Views of arguments and buffers local to an iteration are fine.
func.func @fine(%x: memref<?x4xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %flat = memref.collapse_shape %x [[0, 1]] : memref<?x4xf64> into memref<?xf64>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %local = memref.alloca() : memref<2xf64>
    %a = memref.load %flat[%i] : memref<?xf64>
    memref.store %a, %local[%c0] : memref<2xf64>
    %b = memref.load %local[%c0] : memref<2xf64>
    memref.store %b, %flat[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

func.func private @ext2(f64) -> f64

func.func @calls_ext(%a: f64) -> f64 {
  // expected-error @+1 {{'func.call' op is not supported in a GPU kernel (the body of a parallel loop): it calls an external function, which has no device code}}
  %b = func.call @ext2(%a) : (f64) -> f64
  return %b : f64
}

func.func @indirect_external(%x: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %a = memref.load %x[%i] : memref<?xf64>
    %b = func.call @calls_ext(%a) : (f64) -> f64
    memref.store %b, %x[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

func.func @has_parallel(%y: memref<?xf64>, %n: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  // expected-error @+1 {{'scf.parallel' op is not supported in a function called from a GPU kernel (the body of a parallel loop): only the outermost parallel loops become kernels}}
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %z, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return %z : f64
}

func.func @calls_parallel(%x: memref<?xf64>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %b = func.call @has_parallel(%x, %n) : (memref<?xf64>, index) -> f64
    memref.store %b, %x[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
