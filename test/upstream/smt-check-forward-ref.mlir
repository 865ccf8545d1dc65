// ../shared/repro/09-upstream-smt-check.mlir: upstream MLIR 22.1.8 crashes in
// smt.check's parser on a forward reference resolved into its region (the
// same bug rev's region ops now turn into a parse error:
// test/dialect/invalid-forward-ref.mlir). Kept as an expected failure: when
// upstream fixes it this test passes unexpectedly, and the XFAIL goes.
// XFAIL: *
// RUN: rev-opt %s -verify-diagnostics
func.func @g() {
  %u = arith.addf %n, %n : f32
  // expected-error @below {{}}
  smt.check sat {
  ^bb0(%n: f32):
    smt.yield
  } junk
  return
}
