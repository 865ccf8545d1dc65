// The op reference is generated from ODS; the update ops and their
// documentation come from the one table of update kinds.
// RUN: FileCheck %s < %rev_docs/Dialects/rev.md
// RUN: FileCheck %s --check-prefix=PASSES < %rev_docs/RevPasses.md

// CHECK: ### `rev.add` (rev::AddOp)
// CHECK: _`y += d` (inverse: `rev.sub`)_
// CHECK: ### `rev.add_at` (rev::AddAtOp)
// CHECK: _`A[i] += d` in place (inverse: `rev.sub_at`)_
// CHECK: ### `rev.div` (rev::DivOp)
// CHECK: _`y /= d` (inverse: `rev.mul`)_
// CHECK: `$delta` must not be zero
// CHECK: ### `rev.mul` (rev::MulOp)
// CHECK: _`y *= d` (inverse: `rev.div`)_
// CHECK: ### `rev.xor` (rev::XorOp)
// CHECK: _`y ^= d` (inverse: `rev.xor`)_
// CHECK: ### UpdateKind
// CHECK: ### UpdateRule

// PASSES-DAG: ### `-rev-invert`
// PASSES-DAG: ### `-rev-ad`
// PASSES-DAG: ### `-rev-fwd`
// PASSES-DAG: ### `-rev-expand-uncalls`
// PASSES-DAG: ### `-rev-expand-routines`
// PASSES-DAG: ### `-rev-insert-checks`
// PASSES-DAG: ### `-lower-rev`
