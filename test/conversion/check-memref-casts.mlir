// ../shared/repro/10-upstream-canonicalize-memref-cast.mlir: a cast to a
// static size of a buffer of another constant size always fails at run time.
// Upstream canonicalisation (in every rev pipeline) would make it invalid IR
// (test/upstream/canonicalize-memref-cast.mlir); --rev-check-memref-casts,
// the pipelines' first pass, reports it at the user's op.
// RUN: rev-opt %s -split-input-file -verify-diagnostics --rev-check-memref-casts
// RUN: not rev-opt %s -split-input-file --rev-to-llvm 2>&1 | FileCheck %s --check-prefix=PIPE
// RUN: not rev-opt %s -split-input-file --rev-to-openmp 2>&1 | FileCheck %s --check-prefix=PIPE
// PIPE: error: 'memref.cast' op casts a buffer whose dimension 0 has size 3 to 'memref<0xf64>': the cast always fails at run time
// PIPE-NOT: cast incompatible

func.func @alloc_size(%arg: index) -> memref<0xf64> {
  %c3 = arith.constant 3 : index
  // expected-note @below {{the size is fixed here}}
  %X = memref.alloc(%c3) : memref<?xf64>
  // expected-error @below {{'memref.cast' op casts a buffer whose dimension 0 has size 3 to 'memref<0xf64>': the cast always fails at run time}}
  %u = memref.cast %X : memref<?xf64> to memref<0xf64>
  return %u : memref<0xf64>
}

// -----

// Through another cast, and an alloca, in the second dimension.
func.func @through_cast() {
  %c4 = arith.constant 4 : index
  %c2 = arith.constant 2 : index
  // expected-note @below {{the size is fixed here}}
  %A = memref.alloca(%c2, %c4) : memref<?x?xf64>
  %B = memref.cast %A : memref<?x?xf64> to memref<2x?xf64>
  // expected-error @below {{casts a buffer whose dimension 1 has size 4 to 'memref<2x5xf64>'}}
  %C = memref.cast %B : memref<2x?xf64> to memref<2x5xf64>
  return
}

// -----

// Consistent or unknown sizes pass untouched.
func.func @fine(%n: index, %M: memref<?xf64>) -> (memref<3xf64>, memref<7xf64>) {
  %c3 = arith.constant 3 : index
  %X = memref.alloc(%c3) : memref<?xf64>
  %u = memref.cast %X : memref<?xf64> to memref<3xf64>
  %v = memref.cast %M : memref<?xf64> to memref<7xf64>
  %Y = memref.alloc(%n) : memref<?xf64>
  %w = memref.cast %Y : memref<?xf64> to memref<5xf64>
  memref.dealloc %w : memref<5xf64>
  return %u, %v : memref<3xf64>, memref<7xf64>
}
