//===- RevOps.td - the rev dialect --------------------------*- tablegen -*-===//
//
// The reversible dialect: every state-changing op carries its inverse through
// InvertibleOpInterface. Scalars are SSA versions of variables (an update op
// consumes the current version and yields the next); arrays are memrefs
// updated in place by the *_at ops.
//
//===----------------------------------------------------------------------===//

#ifndef REV_OPS
#define REV_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/FunctionInterfaces.td"
include "mlir/Interfaces/CallInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "dialect/RevInterfaces.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Dialect
//===----------------------------------------------------------------------===//

def Rev_Dialect : Dialect {
  let name = "rev";
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect"];
  let cppNamespace = "::mlir::rev";
  let summary = "Reversible programming: ops that carry their inverse.";
  let description = [{
    Programs in `rev` can run backwards: every op has an exact inverse
    (InvertibleOpInterface), so `--rev-invert` turns `@f` into `@f_inv` and
    the AD pass recovers earlier states by uncomputing instead of taping.
  }];
}

class Rev_Op<string mnemonic, list<Trait> traits = []>
    : Op<Rev_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Rev_Int : AnyTypeOf<[AnySignlessInteger, Index], "signless integer or index">;
def Rev_Float : AnyTypeOf<[F16, BF16, F32, F64], "floating-point">;
def Rev_Scalar : AnyTypeOf<[Rev_Int, Rev_Float], "integer, index or float">;
def Rev_IntMemRef : MemRefOf<[AnySignlessInteger, Index]>;
def Rev_FloatMemRef : MemRefOf<[F16, BF16, F32, F64]>;
def Rev_ScalarMemRef : MemRefOf<[AnySignlessInteger, Index, F16, BF16, F32, F64]>;

include "dialect/RevUpdateKinds.td"

//===----------------------------------------------------------------------===//
// Update ops, generated from the table of update kinds (RevUpdateKinds.td):
//   %y1 = rev.add %y0, %d           (y += d)
//   rev.add_at %A[%i], %d           (A[i] += d)
//===----------------------------------------------------------------------===//

def Rev_UpdateRuleEnum : I32EnumAttr<"UpdateRule", "how the AD passes differentiate an update kind", [
    I32EnumAttrCase<"Additive", 0, "additive">,
    I32EnumAttrCase<"Scaling", 1, "scaling">,
    I32EnumAttrCase<"Bitwise", 2, "bitwise">]> {
  let cppNamespace = "::mlir::rev";
  let genSpecializedAttr = 0;
}

def Rev_UpdateKindEnum : I32EnumAttr<"UpdateKind", "the kinds of update (RevUpdateKinds.td)",
    !foreach(i, !range(!size(Rev_UpdateKinds)),
             I32EnumAttrCase<Rev_UpdateKinds[i].cppName, i, Rev_UpdateKinds[i].mnemonic>)> {
  let cppNamespace = "::mlir::rev";
  let genSpecializedAttr = 0;
}

/// The C++ members every update op gets from its row of the table.
class Rev_UpdateKindMembers<Rev_UpdateKind k, string form> {
  code decls = [{
    static constexpr ::mlir::rev::UpdateKind kUpdateKind = ::mlir::rev::UpdateKind::}] # k.cppName # [{;
    static constexpr ::mlir::rev::UpdateRule kUpdateRule = ::mlir::rev::UpdateRule::}] # k.rule # [{;
    static constexpr int kUpdateSign = }] # k.sign # [{;
    static constexpr bool kIsElementUpdate = }] # !if(!eq(form, "At"), "true", "false") # [{;
    static constexpr ::llvm::StringLiteral kNonZeroCheckMessage = "}] # k.nonZeroCheck # [{";
    /// This kind's scalar and element ops, and the op of the inverse kind.
    using ScalarOp = }] # k.cppName # [{Op;
    using ElementOp = }] # k.cppName # [{AtOp;
    using InverseOp = }] # k.inverse # form # [{Op;
    /// `y op d` as arith ops.
    static ::mlir::Value buildKindArithmetic(::mlir::OpBuilder &b, ::mlir::Location loc,
                                             ::mlir::Value y, ::mlir::Value d);
  }];
  code defs = [{
    ::mlir::Value $cppClass::buildKindArithmetic(::mlir::OpBuilder &b, ::mlir::Location loc,
                                                 ::mlir::Value y, ::mlir::Value d) {
  }] # k.arithmetic # [{
    }
    ::llvm::LogicalResult $cppClass::verify() {
      return ::mlir::rev::detail::verify}] # form # [{Update(*this);
    }
    ::llvm::LogicalResult $cppClass::buildInverse(::mlir::OpBuilder &b,
                                                  ::mlir::rev::InverseBuilder &inv) {
      return ::mlir::rev::detail::invert}] # form # [{Update<InverseOp>(*this, b, inv);
    }
  }];
}

class Rev_KindType<Rev_UpdateKind k> {
  Type scalar = !cond(!eq(k.types, "int") : Rev_Int, !eq(k.types, "float") : Rev_Float,
                      true : Rev_Scalar);
  Type memref = !cond(!eq(k.types, "int") : Rev_IntMemRef,
                      !eq(k.types, "float") : Rev_FloatMemRef, true : Rev_ScalarMemRef);
}

class Rev_ScalarUpdateOp<Rev_UpdateKind k>
    : Rev_Op<k.mnemonic, [Pure,
        AllTypesMatch<["target", "delta", "result"]>,
        DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>,
        Rev_UpdateOpInterface]> {
  let summary = "`y " # k.symbol # "= d` (inverse: `rev." # !tolower(k.inverse) # "`)";
  let description = [{
    Consumes the version `$target` of a variable and yields its next version
    `$target }] # k.symbol # [{ $delta`. `$delta` is read only and must not be
    computed from `$target`.
  }] # !if(!empty(k.nonZeroCheck), "", [{ `$delta` must not be zero (checked
    mode asserts it).}]);
  let arguments = (ins Rev_KindType<k>.scalar:$target, Rev_KindType<k>.scalar:$delta);
  let results = (outs Rev_KindType<k>.scalar:$result);
  let assemblyFormat = "$target `,` $delta attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = Rev_UpdateKindMembers<k, "">.decls;
  let extraClassDefinition = Rev_UpdateKindMembers<k, "">.defs # [{
    ::llvm::SmallVector<::mlir::OpOperand *> $cppClass::getConsumedOperands() {
      return {&getTargetMutable()};
    }
  }];
}

class Rev_ElementUpdateOp<Rev_UpdateKind k>
    : Rev_Op<k.mnemonic # "_at", [
        TypesMatchWith<"delta type is the element type", "ref", "delta",
                       "::llvm::cast<::mlir::MemRefType>($_self).getElementType()">,
        DeclareOpInterfaceMethods<Rev_InvertibleOpInterface>,
        Rev_UpdateOpInterface]> {
  let summary = "`A[i] " # k.symbol # "= d` in place (inverse: `rev." # !tolower(k.inverse) # "_at`)";
  let description = [{
    Updates one element of `$ref` in place: `A[i] }] # k.symbol # [{= d`. `$delta`
    must not read the same element (rejected statically when the indices are
    the same SSA values, checked at run time in checked mode otherwise).
  }] # !if(!empty(k.nonZeroCheck), "", [{ `$delta` must not be zero (checked
    mode asserts it).}]);
  let arguments = (ins Arg<Rev_KindType<k>.memref, "", [MemRead, MemWrite]>:$ref,
                       Variadic<Index>:$indices, AnyType:$delta);
  let assemblyFormat = "$ref `[` $indices `]` `,` $delta attr-dict `:` type($ref)";
  let hasVerifier = 1;
  let extraClassDeclaration = Rev_UpdateKindMembers<k, "At">.decls;
  let extraClassDefinition = Rev_UpdateKindMembers<k, "At">.defs;
}

foreach k = Rev_UpdateKinds in {
  def Rev_ # k.cppName # Op : Rev_ScalarUpdateOp<k>;
  def Rev_ # k.cppName # AtOp : Rev_ElementUpdateOp<k>;
}

def Rev_NegOp : Rev_Op<"neg", [Pure, AllTypesMatch<["target", "result"]>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "y = -y (self-inverse; two's complement for integers)";
  let arguments = (ins Rev_Scalar:$target);
  let results = (outs Rev_Scalar:$result);
  let assemblyFormat = "$target attr-dict `:` type($result)";
}

def Rev_SwapOp : Rev_Op<"swap", [Pure,
    AllTypesMatch<["lhs", "rhs", "lhs_result", "rhs_result"]>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "(a, b) -> (b, a) (self-inverse)";
  let arguments = (ins Rev_Scalar:$lhs, Rev_Scalar:$rhs);
  let results = (outs Rev_Scalar:$lhs_result, Rev_Scalar:$rhs_result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs_result)";
  let hasVerifier = 1;
}

class Rev_RotOp<string mnemonic, string doc> : Rev_Op<mnemonic, [Pure,
    AllTypesMatch<["lhs", "rhs", "theta", "lhs_result", "rhs_result"]>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = doc;
  let arguments = (ins Rev_Float:$lhs, Rev_Float:$rhs, Rev_Float:$theta);
  let results = (outs Rev_Float:$lhs_result, Rev_Float:$rhs_result);
  let assemblyFormat = "$lhs `,` $rhs `,` $theta attr-dict `:` type($lhs_result)";
  let hasVerifier = 1;
}

def Rev_RotOp : Rev_RotOp<"rot",
  "(a, b) -> (a cos t - b sin t, a sin t + b cos t) (inverse: rev.irot)">;
def Rev_IRotOp : Rev_RotOp<"irot",
  "(a, b) -> (a cos t + b sin t, -a sin t + b cos t) (inverse: rev.rot)">;

//===----------------------------------------------------------------------===//
// Other in-place element ops
//===----------------------------------------------------------------------===//

def Rev_NegAtOp : Rev_Op<"neg_at", [
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface>]> {
  let summary = "A[i] = -A[i] (self-inverse)";
  let arguments = (ins Arg<Rev_ScalarMemRef, "", [MemRead, MemWrite]>:$ref,
                       Variadic<Index>:$indices);
  let assemblyFormat = "$ref `[` $indices `]` attr-dict `:` type($ref)";
  let hasVerifier = 1;
}

def Rev_SwapAtOp : Rev_Op<"swap_at", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface>]> {
  let summary = "swap A[i] and B[j] in place (self-inverse)";
  let arguments = (ins Arg<Rev_ScalarMemRef, "", [MemRead, MemWrite]>:$lhs,
                       Variadic<Index>:$lhs_indices,
                       Arg<Rev_ScalarMemRef, "", [MemRead, MemWrite]>:$rhs,
                       Variadic<Index>:$rhs_indices);
  let assemblyFormat = [{
    $lhs `[` $lhs_indices `]` `,` $rhs `[` $rhs_indices `]` attr-dict `:`
    type($lhs) `,` type($rhs)
  }];
  let hasVerifier = 1;
}

class Rev_RotAtOp<string mnemonic, string doc> : Rev_Op<mnemonic, [
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface>]> {
  let summary = doc;
  let arguments = (ins Arg<Rev_FloatMemRef, "", [MemRead, MemWrite]>:$lhs,
                       Variadic<Index>:$lhs_indices,
                       Arg<Rev_FloatMemRef, "", [MemRead, MemWrite]>:$rhs,
                       Variadic<Index>:$rhs_indices,
                       Rev_Float:$theta);
  let assemblyFormat = [{
    $lhs `[` $lhs_indices `]` `,` $rhs `[` $rhs_indices `]` `,` $theta attr-dict
    `:` type($lhs) `,` type($rhs) `,` type($theta)
  }];
  let hasVerifier = 1;
}

def Rev_RotAtOp : Rev_RotAtOp<"rot_at", "rotate (A[i], B[j]) by theta in place">;
def Rev_IRotAtOp : Rev_RotAtOp<"irot_at", "inverse rotation of (A[i], B[j]) in place">;

//===----------------------------------------------------------------------===//
// Ancillas
//===----------------------------------------------------------------------===//

def Rev_AllocOp : Rev_Op<"alloc", [
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface>]> {
  let summary = "a fresh ancilla holding zero (or `init`); inverse: rev.free";
  let description = [{
    `%t = rev.alloc : f64` creates a new variable equal to 0;
    `%t = rev.alloc init 2.5 : f64` one equal to 2.5.
    `adjoint` marks the adjoint of an ancilla in a generated backward
    function: its release is a `rev.discard` (see there), not a checked
    `rev.free`.
  }];
  let arguments = (ins OptionalAttr<TypedAttrInterface>:$init, UnitAttr:$adjoint);
  let results = (outs Rev_Scalar:$result);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The ancilla's value (zero when no `init` is given).
    ::mlir::TypedAttr getInitValue();
  }];
}

def Rev_FreeOp : Rev_Op<"free", [
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "release an ancilla that is back to zero (or `init`); inverse: rev.alloc";
  let description = [{
    Consumes the last version of an ancilla. The program guarantees that the
    value is back to its initial value (exactly for integers, within `atol`
    for floats); checked mode asserts it at run time.
  }];
  let arguments = (ins Rev_Scalar:$target, OptionalAttr<TypedAttrInterface>:$init);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::TypedAttr getInitValue();
  }];
}


def Rev_DiscardOp : Rev_Op<"discard", [
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "drop the adjoint of an ancilla (generated backward functions only)";
  let description = [{
    The backward sweep reaches an ancilla's `rev.alloc` with the ancilla's
    adjoint still live: it is the derivative with respect to a constant, so
    the gradient does not need it, and `rev.discard` ends it without a check.
    This loses information, so it may only appear in generated derivative
    functions. Its inverse (`rev.alloc`, zero) is exact only where the
    dropped value is known to be zero again, which the AD pass arranges for
    ancillas inside `rev.routine`; `--rev-invert` and `--rev-ad` refuse it
    elsewhere with a located error.
  }];
  let arguments = (ins Rev_Float:$target);
  let assemblyFormat = "$target attr-dict `:` type($target)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Run-time checks (checked mode)
//===----------------------------------------------------------------------===//

def Rev_CheckOp : Rev_Op<"check", [MemoryEffects<[MemWrite]>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface>]> {
  let summary = "a run-time reversibility check";
  let description = [{
    `rev.check %ok, "zero divisor" for "rev.div"` reports, when `%ok` is
    false at run time, that `rule` (here "zero divisor") was broken by the op
    named `origin` at this op's location. `--rev-insert-checks` inserts these
    checks (checked mode); `--lower-rev` maps them to what fits the target:
    a message on stderr and `exit(1)` on the CPU (`check-lowering=libc`), or
    `cf.assert` (`check-lowering=assert`), which also works inside GPU
    kernels. The inverse of a check is the same check.
  }];
  let arguments = (ins I1:$condition, StrAttr:$rule, StrAttr:$origin);
  let assemblyFormat = "$condition `,` $rule `for` $origin attr-dict";
  let extraClassDeclaration = [{
    /// "rev: <rule> (<origin> at <location>)", the message of a failed check.
    std::string getFailureMessage();
  }];
}

//===----------------------------------------------------------------------===//
// Functions and calls
//===----------------------------------------------------------------------===//

def Rev_FuncOp : Rev_Op<"func", [
    FunctionOpInterface, IsolatedFromAbove, AutomaticAllocationScope,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a reversible function";
  let description = [{
    `rev.func @f(%x: f64, %A: memref<?xf64>) -> f64` returns the final
    versions of its scalar arguments, in order; memref arguments are updated
    in place. Its inverse has the same signature.

    Generated functions are marked with the function they derive from:
    `rev.inverse_of = @f` (f's type), `rev.backward_of`, `rev.gradient_of`
    and `rev.tangent_of` (f's derivative layout: f's arguments, an adjoint
    per float scalar, a shadow per float memref). The verifier checks a
    marker against its target (one marker, naming another rev.func of the
    same symbol table, with the type it implies), because the passes rely
    on it. `rev.discard` and `rev.alloc {adjoint}` may only appear in
    backward or tangent functions and their inverses.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type,
                       OptionalAttr<StrAttr>:$sym_visibility,
                       OptionalAttr<DictArrayAttr>:$arg_attrs,
                       OptionalAttr<DictArrayAttr>:$res_attrs);
  let regions = (region AnyRegion:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let builders = [OpBuilder<(ins "::llvm::StringRef":$name, "::mlir::FunctionType":$type)>];
  let extraClassDeclaration = [{
    ::llvm::ArrayRef<::mlir::Type> getArgumentTypes() { return getFunctionType().getInputs(); }
    ::llvm::ArrayRef<::mlir::Type> getResultTypes() { return getFunctionType().getResults(); }
    ::mlir::Region *getCallableRegion() { return &getBody(); }
    /// Result types implied by the argument types: the non-memref ones, in order.
    static ::llvm::SmallVector<::mlir::Type> stateTypes(::mlir::TypeRange inputs);
  }];
}

def Rev_ReturnOp : Rev_Op<"return", [Pure, HasParent<"FuncOp">, ReturnLike, Terminator]> {
  let summary = "return the final versions of the scalar arguments";
  let arguments = (ins Variadic<AnyType>:$operands);
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ::mlir::ValueRange()); }]>];
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
  let hasVerifier = 1;
}

class Rev_CallBase<string mnemonic, string doc> : Rev_Op<mnemonic, [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = doc;
  let description = [{
    Scalars are passed by value and their final versions come back as
    results (the call consumes them); memrefs are passed by reference.
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$operands);
  let results = (outs Variadic<AnyType>:$results);
  let assemblyFormat = [{
    $callee `(` $operands `)` attr-dict `:` functional-type($operands, $results)
  }];
  let hasVerifier = 1;
}

def Rev_CallOp : Rev_CallBase<"call", "run a rev.func (inverse: rev.uncall)">;
def Rev_UncallOp : Rev_CallBase<"uncall", "run the inverse of a rev.func (inverse: rev.call)">;

def Rev_GradCallOp : Rev_Op<"grad_call", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "call the gradient of a rev.func before it exists (resolved by --rev-ad)";
  let description = [{
    ```
    %x1, %dx1 = rev.grad_call @f(%x, %A, %dx, %dA) : (f64, memref<?xf64>, f64, memref<?xf64>) -> (f64, f64)
    rev.grad_call @obs(%cam, %pt, %dcam0, %dpt0, %dcam1, %dpt1) seeds 2 : (...) -> ()
    ```
    A call of `@f_grad`, the gradient `--rev-ad` generates for the rev.func
    `@f` (docs/ad.md, "Calling convention"): f's arguments, then the adjoint
    of each float scalar argument and the shadow of each float memref
    argument; with `seeds N` (1 to 64, default 1) the N-seed copy
    `@f_grad_xN` (`--rev-seeds`): f's arguments once, then N such adjoint
    sets. The results are the final versions of the scalar operands, as for
    `rev.call`. It stands in a function that is not a rev.func, such as a
    `func.func` driver (a Jacobian loop that calls a small gradient per
    element with stack shadows), since the gradient's symbol does not exist
    when the module is written; a rev.func calls a gradient with `rev.call`
    once it exists (it must know the inverse of each op). `--rev-ad` generates the gradient (with its options: fused
    sweeps, adjoint-only, budgets) and replaces the op by `rev.call
    @f_grad` (or `@f_grad_xN`); the lowering rejects an unresolved one.
    The gradient's operand types are checked against `@f`'s signature here.
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$operands,
                       DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<1>, IntMaxValue<64>]>,
                                         "1">:$seeds);
  let results = (outs Variadic<AnyType>:$results);
  let assemblyFormat = [{
    $callee `(` $operands `)` (`seeds` $seeds^)? attr-dict `:` functional-type($operands, $results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The type of the function this op calls once resolved: @f_grad's, with
    /// its adjoint part repeated `seeds` times.
    ::mlir::FunctionType getGradientType(::mlir::rev::FuncOp callee);
  }];
}

//===----------------------------------------------------------------------===//
// Out-of-place steps (checkpointed)
//===----------------------------------------------------------------------===//

def Rev_StepsOp : Rev_Op<"steps", [AllTypesMatch<["init", "out"]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface>]> {
  let summary = "out += F_{ub-1}(...F_lb(init)): a non-injective step applied out of place";
  let description = [{
    ```
    rev.steps @step %lb to %ub, %x0 into %out (%k, %xs) : f64, memref<?xf64>
    ```
    `@step` is a `rev.func @step(%t: index, %old: memref<?xT>, %new: memref<?xT>,
    params...) -> (index, scalar params...)` that computes the next state
    into fresh zeroed storage (`new += g(t, old, params)`) and writes
    nothing else: `old` and the params are read-only (the verifier checks
    it). The op adds the state after steps t = lb .. ub-1, started from
    `init`, to `out`; `init`, the params and the scalars are unchanged. A
    step like `y <- y + sin(y) * x[t]` is not injective in place; out of
    place it needs no ancilla per step. With `subtract` the state is
    subtracted instead: that is the inverse.

    The compiler makes it reversible: the forward runs the steps in two
    working buffers (nothing kept), the inverse recomputes and subtracts,
    and the adjoint (`--rev-ad`) reverses the steps with binomial
    checkpointing (Griewank's revolve: `c` snapshots of the state, the
    minimal number of step recomputations for `c`). `c` is `snapshots`
    when set, else what the AD pass's `memory-budget` allows at run time
    (docs/memory.md).

    `schedule = "bennett"` reverses the steps with Bennett's pebble game
    instead (`schedule = "revolve"` is the default): `levels = k`
    recursion levels of `b = ceil(T^(1/k))` chunks, at most `k (b-1) + 1`
    states held, `(2b-1)^k` step evaluations when `T = b^k`; without
    `levels`, k follows the memory budget (docs/memory.md). `snapshots`
    is for revolve only, `levels` for bennett only.
  }];
  let arguments = (ins FlatSymbolRefAttr:$step, Index:$lowerBound, Index:$upperBound,
                       AnyMemRef:$init, AnyMemRef:$out, Variadic<AnyType>:$params,
                       UnitAttr:$subtract, OptionalAttr<I64Attr>:$snapshots,
                       OptionalAttr<StrAttr>:$schedule, OptionalAttr<I64Attr>:$levels);
  let assemblyFormat = [{
    $step $lowerBound `to` $upperBound `,` $init `into` $out `(` $params `)` attr-dict
    `:` type($init) (`,` type($params)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Type getStateType() { return getInit().getType(); }
  }];
}

def Rev_StepsAdjointOp : Rev_Op<"steps_adjoint", [AttrSizedOperandSegments,
    AllTypesMatch<["init", "init_shadow", "out_shadow"]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "the adjoint of rev.steps by binomial checkpointing (generated by --rev-ad)";
  let description = [{
    ```
    %kbar1 = rev.steps_adjoint @step, @step_bwd %lb to %ub, %x0, %x0bar, %outbar
        (%k, %xs) shadows(%xsbar) adjoints(%kbar) {memory_budget = 1048576 : i64}
        : memref<?xf64> params(f64, memref<?xf64>) shadows(memref<?xf64>) adjoints(f64) -> (f64)
    ```
    Adds to `init_shadow` the adjoint of `init` for the output adjoint
    `out_shadow` of a `rev.steps` with the same step, bounds and params, to
    the shadows of the memref params theirs, and returns the updated
    adjoints of the float scalar params. It recomputes states from `init`
    with the binomial checkpointing schedule (revolve) for `c` snapshots:
    `snapshots` if set, else `memory_budget` bytes divided by the state's
    size at run time (at least 1, at most the number of steps: then every
    state is stored once). `@step_bwd` is the backward function of `@step`.
    Not invertible or differentiable itself. With `check_atol` (checked
    mode, `--rev-insert-checks`) each step adjoint compares the state it
    recomputes with the one the previous step adjoint started from, which
    reached it by another path of snapshots and recomputations: they must
    agree within `check_atol` (a step that is not deterministic, or reads
    something that changes, breaks checkpointing).

    With `uncompute %out` it also subtracts the state after the steps from
    `%out` (the inverse of the `rev.steps`, which the AD pass folds in here:
    the first step adjoint recomputes that state anyway, so the backward
    sweep saves one pass over the steps). `new_write_only` (set by the AD
    pass when the step only adds to or subtracts from its new state and
    never reads it) lets the other step adjoints skip recomputing the next
    state, whose value the step's backward function then does not use.

    `schedule = "bennett"` (carried from the rev.steps) runs the reversed
    Bennett pebble game instead of revolve: `levels` recursion levels
    (else the least k <= 8 whose `k (b-1) + 1` states fit in
    `memory_budget`, or if none does the k <= 8 with the fewest; 2 with the
    default budget -1), every state kept or
    uncomputed by a real step evaluation (`new_write_only` does not apply).
    With `check_atol` every uncomputed pebble must be zero within it.
  }];
  let arguments = (ins FlatSymbolRefAttr:$step, FlatSymbolRefAttr:$step_backward,
                       Index:$lowerBound, Index:$upperBound,
                       AnyMemRef:$init, AnyMemRef:$init_shadow, AnyMemRef:$out_shadow,
                       Optional<AnyMemRef>:$uncompute_out,
                       Variadic<AnyType>:$params, Variadic<AnyMemRef>:$param_shadows,
                       Variadic<Rev_Float>:$param_adjoints,
                       OptionalAttr<I64Attr>:$snapshots, I64Attr:$memory_budget,
                       OptionalAttr<F64Attr>:$check_atol, UnitAttr:$new_write_only,
                       OptionalAttr<StrAttr>:$schedule, OptionalAttr<I64Attr>:$levels);
  let results = (outs Variadic<Rev_Float>:$results);
  let assemblyFormat = [{
    $step `,` $step_backward $lowerBound `to` $upperBound `,` $init `,` $init_shadow `,`
    $out_shadow (`uncompute` $uncompute_out^ `:` type($uncompute_out))?
    `(` $params `)` `shadows` `(` $param_shadows `)`
    `adjoints` `(` $param_adjoints `)` attr-dict `:` type($init)
    (`params` `(` type($params)^ `)`)? (`shadows` `(` type($param_shadows)^ `)`)?
    (`adjoints` `(` type($param_adjoints)^ `)` `->` `(` type($results) `)`)?
  }];
  let hasVerifier = 1;
}

def Rev_StepsTangentOp : Rev_Op<"steps_tangent", [AttrSizedOperandSegments,
    AllTypesMatch<["init", "init_tangent", "out", "out_tangent"]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface>]> {
  let summary = "rev.steps with its tangent (generated by --rev-fwd)";
  let description = [{
    ```
    rev.steps_tangent @step_fwd %lb to %ub, %x0, %x0dot into %out, %outdot (%k, %xs)
        tangents(%kdot, %xsdot) : memref<?xf64> params(f64, memref<?xf64>)
        tangents(f64, memref<?xf64>)
    ```
    Runs the steps of a `rev.steps` together with their tangents: `out +=`
    the final state and `out_tangent +=` its tangent for the tangents
    `init_tangent` of `init` and `param_tangents` of the params, through
    `@step_fwd`, the tangent function of the step (`rev.tangent_of`). No
    snapshots are needed: forward mode follows the steps. With `subtract`
    both are subtracted (the inverse).
  }];
  let arguments = (ins FlatSymbolRefAttr:$step_tangent, Index:$lowerBound, Index:$upperBound,
                       AnyMemRef:$init, AnyMemRef:$init_tangent, AnyMemRef:$out,
                       AnyMemRef:$out_tangent, Variadic<AnyType>:$params,
                       Variadic<AnyType>:$param_tangents, UnitAttr:$subtract);
  let assemblyFormat = [{
    $step_tangent $lowerBound `to` $upperBound `,` $init `,` $init_tangent `into` $out `,`
    $out_tangent `(` $params `)` `tangents` `(` $param_tangents `)` attr-dict `:` type($init)
    (`params` `(` type($params)^ `)`)? (`tangents` `(` type($param_tangents)^ `)`)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Terminators of regions
//===----------------------------------------------------------------------===//

def Rev_YieldOp : Rev_Op<"yield", [Pure, ReturnLike, Terminator,
    ParentOneOf<["ForOp", "ParallelForOp", "IfOp", "WhileOp", "RoutineOp"]>]> {
  let summary = "yield the final versions of a region's variables";
  let arguments = (ins Variadic<AnyType>:$operands);
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ::mlir::ValueRange()); }]>];
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
}

def Rev_CondOp : Rev_Op<"cond", [Pure, Terminator,
    ParentOneOf<["IfOp", "WhileOp"]>]> {
  let summary = "the value of a pre or post condition region";
  let arguments = (ins I1:$condition);
  let assemblyFormat = "$condition attr-dict";
}

//===----------------------------------------------------------------------===//
// Region ops
//===----------------------------------------------------------------------===//

def Rev_ForOp : Rev_Op<"for", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "reversible counted loop";
  let description = [{
    ```
    %r = rev.for %i = %lb to %ub step %s iter_args(%x = %x0) -> (f64) {
      ...
      rev.yield %x1 : f64
    }
    ```
    Runs the body for i = lb, lb+s, ..., < ub (step > 0). With `reverse`
    the same indices are visited from the last one down to `lb`; this is
    the inverse loop. The bounds are fixed before the loop: the body must
    not write anything they read.
  }];
  let arguments = (ins Index:$lowerBound, Index:$upperBound, Index:$step,
                       Variadic<AnyType>:$inits, UnitAttr:$reverse);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "::mlir::Value":$lb, "::mlir::Value":$ub,
      "::mlir::Value":$step, "::mlir::ValueRange":$inits, CArg<"bool", "false">:$reverse)>];
  let extraClassDeclaration = [{
    ::mlir::Block *getBodyBlock() { return &getBody().front(); }
    ::mlir::BlockArgument getInductionVar() { return getBodyBlock()->getArgument(0); }
    ::mlir::Block::BlockArgListType getRegionIterArgs() {
      return getBodyBlock()->getArguments().drop_front();
    }
  }];
}

def Rev_ParallelForOp : Rev_Op<"parallel_for", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "reversible loop whose iterations are independent";
  let description = [{
    ```
    rev.parallel_for %i = %lb to %ub step %s {
      ...                                  // writes A[%i], reads anything
    }
    %r = rev.parallel_for %i = %lb to %ub step %s reduce(%acc = %r0) -> (f64) {
      ...
      %acc1 = rev.add %acc, %d : f64       // acc only ever += / -=
      rev.yield %acc1 : f64
    } {accumulate = "atomic"}
    ```
    Runs the body once for every i = lb, lb+s, ..., < ub (step > 0), in any
    order or at the same time. The iterations must be independent, and the
    verifier proves it:
    * a memref the body writes is accessed (read or written) only at the
      iteration's own element: one index is `%i`, `%i + c` or `%i - c` (c
      defined outside the loop), the same for every access of that memref;
    * or the body only adds to it (`rev.add_at`/`rev.sub_at`, at any index)
      and never reads it: a shared accumulation (a histogram, the adjoint of
      data that the iterations share). It is lowered to atomic updates or to
      per-thread copies summed at the end (`accumulate`: "atomic", the
      default, or "privatize");
    * memrefs the body does not write may be read anywhere;
    * outer scalars are read-only: the only threaded variables are the
      `reduce` accumulators. Each iteration starts its accumulator at zero
      and may only add to it (`rev.add`/`rev.sub` on it, directly or
      threaded through nested rev region ops, never reading it); the result
      is the init plus every iteration's sum (`scf.reduce` when lowered);
    * no memref is passed to a call, and no parallel loop is nested inside.
    The inverse is the parallel loop of the inverted body, starting from the
    results. The lowering emits `scf.parallel`, which the `rev-to-llvm`
    pipeline runs sequentially and the OpenMP and GPU pipelines in parallel.
  }];
  let arguments = (ins Index:$lowerBound, Index:$upperBound, Index:$step,
                       Variadic<Rev_Scalar>:$inits, OptionalAttr<StrAttr>:$accumulate);
  let results = (outs Variadic<Rev_Scalar>:$results);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "::mlir::Value":$lb, "::mlir::Value":$ub,
      "::mlir::Value":$step, "::mlir::ValueRange":$inits)>];
  let extraClassDeclaration = [{
    ::mlir::Block *getBodyBlock() { return &getBody().front(); }
    ::mlir::BlockArgument getInductionVar() { return getBodyBlock()->getArgument(0); }
    ::mlir::Block::BlockArgListType getRegionIterArgs() {
      return getBodyBlock()->getArguments().drop_front();
    }
    /// The accumulation strategy of shared memrefs ("atomic" by default).
    ::llvm::StringRef getAccumulateStrategy() {
      return getAccumulate() ? *getAccumulate() : "atomic";
    }
  }];
}

def Rev_IfOp : Rev_Op<"if", [RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "reversible conditional with a pre and a post condition";
  let description = [{
    ```
    %r = rev.if %x : f64 pre {
    ^bb0(%a: f64):  ... rev.cond %c
    } then {
    ^bb0(%a: f64):  ... rev.yield %a1 : f64
    } else {
    ^bb0(%a: f64):  ... rev.yield %a2 : f64
    } post {
    ^bb0(%a: f64):  ... rev.cond %c2
    }
    ```
    `pre` is evaluated on the state entering, `post` on the state leaving;
    they must agree (checked mode asserts it). The inverse swaps them and
    inverts both branches. `else` may be omitted (identity). `post` may be
    omitted when neither branch changes what `pre` reads.
  }];
  let arguments = (ins Variadic<AnyType>:$inits);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$pre, SizedRegion<1>:$thenRegion,
                        AnyRegion:$elseRegion, AnyRegion:$post);
  // `inits : types pre {...} then {...} (else {...})? (post {...})? attr-dict`,
  // parsed by hand: see parseStateRegion in RevOps.cpp.
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    bool hasElse() { return !getElseRegion().empty(); }
    bool hasPost() { return !getPost().empty(); }
  }];
}

def Rev_WhileOp : Rev_Op<"while", [RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "reversible while loop with a pre and a post condition";
  let description = [{
    NiLang semantics: `post` is false on entry and true after every
    iteration; the body runs while `pre` holds. The inverse is the loop
    `while (post, pre)` over the inverted body.
  }];
  let arguments = (ins Variadic<AnyType>:$inits);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$pre, SizedRegion<1>:$body,
                        SizedRegion<1>:$post);
  // `inits : types pre {...} do {...} post {...} attr-dict`, parsed by hand.
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
}

def Rev_RoutineOp : Rev_Op<"routine", [RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Rev_InvertibleOpInterface, ["getConsumedOperands"]>]> {
  let summary = "compute - use - uncompute";
  let description = [{
    Runs `compute` (state S -> S', e.g. allocating and filling ancillas),
    then `body` (S' -> S'), then the inverse of `compute` (S' -> S), which
    is generated automatically. The inverse keeps `compute` and inverts
    `body`.
  }];
  let arguments = (ins Variadic<AnyType>:$inits);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$compute, SizedRegion<1>:$body);
  // `inits : types compute {...} body {...} attr-dict`, parsed by hand.
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
}

#endif // REV_OPS
