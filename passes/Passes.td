//===- Passes.td - passes of the rev project ----------------*- tablegen -*-===//
#ifndef REV_PASSES
#define REV_PASSES

include "mlir/Pass/PassBase.td"

def RevInvert : Pass<"rev-invert", "::mlir::ModuleOp"> {
  let summary = "Generate the inverse @f_inv of each rev.func @f";
  let description = [{
    For every selected `rev.func @f` that has no inverse yet, emits
    `rev.func @f_inv` (same signature, marked `rev.inverse_of = @f`): its ops
    in reverse order, each replaced by its inverse (InvertibleOpInterface),
    pure values recomputed where needed. Loops run backwards, `rev.if` and
    `rev.while` swap their pre and post conditions, routines keep `compute`
    and invert `body`, calls become uncalls.
  }];
  let options = [
    ListOption<"funcs", "funcs", "std::string",
               "Names of the functions to invert (default: every rev.func)">,
    Option<"suffix", "suffix", "std::string", /*default=*/"\"_inv\"",
           "Suffix appended to a function's name to name its inverse">,
    Option<"skipUninvertible", "skip-uninvertible", "bool", /*default=*/"false",
           "Leave out, silently, the functions that cannot be inverted (a "
           "backward function that dropped an ancilla's adjoint) and the "
           "inverses that would uncall them, instead of failing">,
  ];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

def ConvertRevToStd : Pass<"convert-rev-to-std", "::mlir::ModuleOp"> {
  let summary = "Lower rev to func/arith/math/scf/cf/memref";
  let description = [{
    Expands `rev.routine` (compute, body, generated uncompute), generates the
    inverse functions that `rev.uncall` needs, then lowers every rev op to
    the standard dialects. `rev.func` becomes `func.func` (with
    `llvm.emit_c_interface`) returning the final scalar versions.

    With `checks=true`, run-time assertions (`cf.assert`) whose messages name
    the op and its source location are inserted for: ancillas not restored
    (floats within `atol`), `rev.if`/`rev.while` condition mismatches,
    zero multipliers/divisors, non-positive loop steps and same-element
    aliasing in the `*_at` ops. Independently of `checks`, generated
    derivative functions (`--rev-ad`, `--rev-fwd`) check at entry that each
    dynamically sized shadow memref has its memref's sizes.
  }];
  let options = [
    Option<"checks", "checks", "bool", /*default=*/"false",
           "Insert run-time reversibility assertions">,
    Option<"atol", "atol", "double", /*default=*/"1e-8",
           "Absolute tolerance for float ancillas in checked mode">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::func::FuncDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}


def RevAD : Pass<"rev-ad", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode AD by reverse computing: emit @f_grad for each rev.func @f";
  let description = [{
    For every selected `rev.func @f`, emits the backward sweep `@f_bwd`
    (marked `rev.backward_of = @f`) and `@f_grad` (marked
    `rev.gradient_of = @f`), which runs `@f` and then `@f_bwd`. Both take
    f's arguments, then one adjoint per float scalar argument, then one
    shadow memref per float memref argument, and return f's scalars
    followed by their adjoints. On entry to `@f_grad` the adjoints and
    shadows hold the adjoints of f's outputs (the seeds); on exit the
    scalars are back to their inputs and the adjoints/shadows hold the
    adjoints of f's inputs. No tape: the backward sweep recovers each
    earlier state by uncomputing (InvertibleOpInterface), then applies the
    op's adjoint update (AdjointOpInterface); pure expressions are
    differentiated through PartialDerivativeOpInterface. Callees get
    backward functions on demand. The result is a rev.func, so it can be
    inverted and differentiated again.
  }];
  let options = [
    ListOption<"funcs", "funcs", "std::string",
               "Functions to differentiate (default: every rev.func that is not "
               "a generated backward sweep and has no gradient yet)">,
  ];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

def RevFwd : Pass<"rev-fwd", "::mlir::ModuleOp"> {
  let summary = "Forward-mode (tangent) AD: emit @f_fwd for each rev.func @f";
  let description = [{
    Emits `@f_fwd` (marked `rev.tangent_of = @f`) with the same layout as
    the gradient: f's arguments, one tangent per float scalar argument, one
    tangent memref per float memref argument; it returns f's results
    followed by their tangents and updates the tangent memrefs in place.
    Applied to a gradient function it gives Hessian-vector products
    (forward over reverse).
  }];
  let options = [
    ListOption<"funcs", "funcs", "std::string",
               "Functions to differentiate (default: every rev.func that has no "
               "tangent function yet and is not one)">,
  ];
  let dependentDialects = ["::mlir::rev::RevDialect"];
}

#endif // REV_PASSES
