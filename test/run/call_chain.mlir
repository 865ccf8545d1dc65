// A call/uncall chain: @h calls @g, which calls @f twice and uncalls it
// once. Inverting @h needs the inverses of @g and @f, generated on demand.
// RUN: rev-opt %s --rev-invert --rev-to-llvm | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s
// RUN: rev-opt %s --rev-invert | FileCheck %s --check-prefix=IR

// IR-LABEL: rev.func @g_inv
// IR: rev.call @f
// IR: rev.uncall @f
// IR: rev.uncall @f
// IR-LABEL: rev.func @h_inv
// IR: rev.swap
// IR: rev.uncall @g

rev.func @f(%x: f64, %y: f64) -> (f64, f64) {
  %c = arith.constant 0.5 : f64
  %sx = math.sin %x : f64
  %d = arith.addf %sx, %c : f64
  %y1 = rev.add %y, %d : f64
  %y2 = rev.mul %y1, %c : f64
  rev.return %x, %y2 : f64, f64
}

rev.func @g(%x: f64, %y: f64, %z: f64) -> (f64, f64, f64) {
  %a:2 = rev.call @f(%x, %y) : (f64, f64) -> (f64, f64)
  %b:2 = rev.call @f(%a#1, %z) : (f64, f64) -> (f64, f64)
  %c:2 = rev.uncall @f(%b#1, %a#0) : (f64, f64) -> (f64, f64)
  rev.return %c#1, %b#0, %c#0 : f64, f64, f64
}

rev.func @h(%x: f64, %y: f64, %z: f64) -> (f64, f64, f64) {
  %r:3 = rev.call @g(%x, %y, %z) : (f64, f64, f64) -> (f64, f64, f64)
  %s:2 = rev.swap %r#0, %r#2 : f64
  rev.return %s#0, %r#1, %s#1 : f64, f64, f64
}

func.func @main() {
  %x = arith.constant 0.25 : f64
  %y = arith.constant 1.5 : f64
  %z = arith.constant -2.0 : f64
  %a:3 = rev.call @h(%x, %y, %z) : (f64, f64, f64) -> (f64, f64, f64)
  %b:3 = rev.uncall @h(%a#0, %a#1, %a#2) : (f64, f64, f64) -> (f64, f64, f64)
  // CHECK: 0.25, 1.5, -2
  vector.print %b#0 : f64 punctuation <comma>
  vector.print %b#1 : f64 punctuation <comma>
  vector.print %b#2 : f64
  return
}
