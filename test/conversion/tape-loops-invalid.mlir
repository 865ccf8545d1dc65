// RUN: rev-opt %s -split-input-file -verify-diagnostics --rev-tape-loops

// A gradient's budget mark that is not a number of bytes.
// expected-error @+1 {{--rev-tape-loops: 'rev.loop_budget' must be an integer number of bytes per iteration >= 0, got "x"}}
func.func @g(%x: f64) -> f64 attributes {rev.loop_budget = "x"} {
  return %x : f64
}

// -----

// expected-error @+1 {{'rev.loop_budget' must be an integer number of bytes per iteration >= 0, got -8 : i64}}
func.func @h(%x: f64) -> f64 attributes {rev.loop_budget = -8 : i64} {
  return %x : f64
}
