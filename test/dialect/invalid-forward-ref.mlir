// A use of a name before its definition, where the name is then defined in a
// region of a rev region op: a parse error at the region, never a crash
// (../shared/repro/09: the parser resolved %n to the region's value and
// destroyed the region on the later error while %u still used it).
// RUN: rev-opt %s -split-input-file -verify-diagnostics

func.func @if_pre(%f: f32) {
  %u = arith.addf %n, %n : f32
  // expected-error @below {{a value defined in this region is used outside it}}
  %w = rev.if %f : f32 pre {
  ^bb0(%n: f32):
    %c = arith.constant true
    rev.cond %c
  } junk
}

// -----

func.func @while_body(%f: f32) {
  %u = arith.addf %n, %n : f32
  %w = rev.while %f : f32 pre {
  ^bb0(%a: f32):
    %c = arith.constant true
    rev.cond %c
  // expected-error @below {{a value defined in this region is used outside it}}
  } do {
  ^bb0(%n: f32):
    rev.yield %n : f32
  } post {
  ^bb0(%a: f32):
    %c = arith.constant false
    rev.cond %c
  }
  return
}

// -----

func.func @routine_compute(%f: f64) {
  %u = arith.addf %t, %t : f64
  // expected-error @below {{a value defined in this region is used outside it}}
  %r = rev.routine %f : f64 compute {
  ^bb0(%a: f64):
    %t = arith.constant 1.0 : f64
    rev.yield %a : f64
  } body {
  ^bb0(%a: f64):
    rev.yield %a : f64
  }
  return
}

// -----

// rev.for names its region arguments itself: the parser rejects the name.
func.func @for_iv(%n: index) {
  // expected-note @below {{previously referenced here}}
  %u = arith.addi %i, %i : index
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @below {{region entry argument '%i' is already in use}}
  rev.for %i = %c0 to %n step %c1 {
  }
  return
}

// -----

// The region itself fails to parse after defining the name.
func.func @error_inside(%f: f32) {
  %u = arith.addf %n, %n : f32
  %w = rev.if %f : f32 pre {
  ^bb0(%n: f32):
    %c = arith.constant true
    // expected-error @below {{expected '=' after SSA name}}
    rev.cond %c %c
  } then {
  ^bb0(%a: f32):
    rev.yield %a : f32
  }
  return
}

// -----

// rev.parallel_for parses its body the same way.
func.func @parallel_for(%f: f32) {
  %c0 = arith.constant 0 : index
  %u = arith.addf %n, %n : f32
  // expected-error @below {{a value defined in this region is used outside it}}
  rev.parallel_for %i = %c0 to %c0 step %c0 {
    %n = arith.constant 1.0 : f32
  } junk
  return
}
