// Malformed input and unknown ops give a located error and a non-zero exit.
// RUN: not rev-opt %s -split-input-file 2>&1 | FileCheck %s

// CHECK: bad-input.mlir:[[@LINE+2]]:{{[0-9]+}}: error: custom op 'rev.frobnicate' is unknown
rev.func @f(%x: f64) -> f64 {
  %y = rev.frobnicate %x : f64
  rev.return %y : f64
}

// -----

// CHECK: bad-input.mlir:[[@LINE+2]]:{{[0-9]+}}: error: expected ','
rev.func @g(%x: f64, %y: f64) -> (f64, f64) {
  %z = rev.add %x
  rev.return %z, %y : f64, f64
}

// -----

// CHECK: bad-input.mlir:[[@LINE+3]]:{{[0-9]+}}: error: 'rev.for' op 'body' region arguments ('index', 'i64') must be ('index', 'f64')
rev.func @h(%x: f64) -> f64 {
  %c0 = arith.constant 0 : index
  %r = "rev.for"(%c0, %c0, %c0, %x) ({
  ^bb0(%i: index, %a: i64):
    "rev.yield"(%a) : (i64) -> ()
  }) : (index, index, index, f64) -> f64
  rev.return %r : f64
}

// -----

// CHECK: bad-input.mlir:[[@LINE+2]]:{{[0-9]+}}: error: 'rev.yield' op expects parent op to be one of
rev.func @k(%x: f64) -> f64 {
  rev.yield %x : f64
}
