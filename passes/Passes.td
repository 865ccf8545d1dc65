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
    aliasing in the `*_at` ops.
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

#endif // REV_PASSES
