//===- RevSteps.cpp - rev.steps and rev.steps_adjoint ---------------------===//
//
// Out-of-place steps: `out += F_{ub-1}(... F_lb(init))` where one step is a
// rev.func computing the next state into fresh zeroed storage. The verifier
// checks the step function's contract (read-only old state and params), the
// inverse subtracts. The adjoint (transforms/RevOpDerivatives.cpp) is
// rev.steps_adjoint, lowered to a binomial-checkpointing driver
// (conversion/LowerSteps.cpp).
//
//===----------------------------------------------------------------------===//
#include "dialect/InverseBuilder.h"
#include "dialect/RevOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::rev;

namespace {
bool isStateType(Type t) {
  auto m = dyn_cast<MemRefType>(t);
  return m && m.getRank() == 1 && isa<FloatType>(m.getElementType());
}

LogicalResult verifyStateOperands(Operation *op, Value init, Value other, StringRef otherName,
                                  ValueRange params) {
  if (!isStateType(init.getType()))
    return op->emitOpError() << "state must be a rank-1 memref of floats, got " << init.getType();
  if (init.getType() != other.getType())
    return op->emitOpError() << "'" << otherName << "' (" << other.getType()
                             << ") must have the state's type " << init.getType();
  if (init == other)
    return op->emitOpError() << "'init' and '" << otherName
                             << "' are the same memref: the steps need distinct storage";
  for (Value p : params)
    if (p == other)
      return op->emitOpError() << "'" << otherName << "' is also passed as a param";
  return success();
}

/// The step function: `rev.func @step(index, S, S, params...)`, which writes
/// only its third argument and returns its scalars unchanged.
FailureOr<FuncOp> verifyStepFunction(Operation *op, FlatSymbolRefAttr ref, Type state,
                                     ValueRange params, SymbolTableCollection &tables) {
  auto step = dyn_cast_or_null<FuncOp>(tables.lookupNearestSymbolFrom(op, ref));
  if (!step)
    return op->emitOpError() << "step " << ref << " is not a rev.func";
  SmallVector<Type> expected{IndexType::get(op->getContext()), state, state};
  llvm::append_range(expected, params.getTypes());
  if (!llvm::equal(step.getArgumentTypes(), expected)) {
    InFlightDiagnostic d = op->emitOpError()
                           << "step " << ref << " must take (index, state, state, params...) = ("
                           << TypeRange(expected) << "), it takes ("
                           << TypeRange(step.getArgumentTypes()) << ")";
    d.attachNote(step.getLoc()) << ref << " is here";
    return d;
  }
  if (step.getBody().empty())
    return step;
  Block &entry = step.getBody().front();
  for (unsigned i = 1; i < entry.getNumArguments(); ++i) {
    BlockArgument a = entry.getArgument(i);
    if (i == 2 || !isa<MemRefType>(a.getType()) || !writesMemRef(step, a))
      continue;
    InFlightDiagnostic d = op->emitOpError()
                           << "step " << ref << " writes its argument #" << i
                           << (i == 1 ? " (the old state)" : " (a param)")
                           << ": a step may only write the new state (argument #2)";
    d.attachNote(step.getLoc()) << ref << " is here";
    return d;
  }
  // Scalars are read-only: each is returned as it came in.
  auto ret = dyn_cast<ReturnOp>(entry.getTerminator());
  if (!ret)
    return step;
  unsigned r = 0;
  for (BlockArgument a : entry.getArguments()) {
    if (isa<MemRefType>(a.getType()))
      continue;
    if (r < ret.getNumOperands() && ret.getOperand(r) != a) {
      InFlightDiagnostic d = op->emitOpError()
                             << "step " << ref << " updates its scalar argument #"
                             << a.getArgNumber()
                             << ": the step index and the params of a step are read-only";
      d.attachNote(ret.getLoc()) << "returned here";
      return d;
    }
    ++r;
  }
  return step;
}

/// The inverse of an `out += ...` op of this file: the same op on the
/// inverse-side operands with `subtract` toggled.
template <typename OpT>
LogicalResult invertBySubtracting(OpT op, OpBuilder &b, InverseBuilder &inv) {
  SmallVector<Value> operands;
  for (Value v : op->getOperands()) {
    Value w = inv.lookup(b, v);
    if (!w)
      return failure();
    operands.push_back(w);
  }
  auto inverse = cast<OpT>(b.clone(*op.getOperation()));
  inverse->setOperands(operands);
  inverse.setSubtract(!op.getSubtract());
  return success();
}

/// The schedule attributes: `schedule` is "revolve" (the default) or
/// "bennett"; `snapshots` belongs to revolve, `levels` (1..64) to bennett.
LogicalResult verifySchedule(Operation *op, StringAttr schedule, std::optional<int64_t> snapshots,
                             std::optional<int64_t> levels) {
  bool bennett = schedule && schedule.getValue() == "bennett";
  if (schedule && !bennett && schedule.getValue() != "revolve")
    return op->emitOpError() << "schedule must be \"revolve\" or \"bennett\", got " << schedule;
  if (snapshots && *snapshots < 1)
    return op->emitOpError() << "snapshots must be at least 1, got " << *snapshots;
  if (snapshots && bennett)
    return op->emitOpError("snapshots is the revolve schedule's parameter: the bennett schedule "
                           "takes 'levels'");
  if (levels && !bennett)
    return op->emitOpError("levels needs schedule = \"bennett\"");
  if (levels && (*levels < 1 || *levels > 64))
    return op->emitOpError() << "levels must be in [1, 64], got " << *levels;
  return success();
}

void addEffect(SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects,
               MemoryEffects::Effect *effect, OpOperand &operand) {
  if (isa<MemRefType>(operand.get().getType()))
    effects.emplace_back(effect, &operand, SideEffects::DefaultResource::get());
}
} // namespace

//===----------------------------------------------------------------------===//
// rev.steps
//===----------------------------------------------------------------------===//

LogicalResult StepsOp::verify() {
  if (failed(verifyStateOperands(*this, getInit(), getOut(), "out", getParams())))
    return failure();
  return verifySchedule(*this, getScheduleAttr(), getSnapshots(), getLevels());
}

LogicalResult StepsOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyStepFunction(*this, getStepAttr(), getStateType(), getParams(), tables);
}

void StepsOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  addEffect(effects, MemoryEffects::Read::get(), getInitMutable());
  addEffect(effects, MemoryEffects::Read::get(), getOutMutable());
  addEffect(effects, MemoryEffects::Write::get(), getOutMutable());
  for (OpOperand &p : getParamsMutable())
    addEffect(effects, MemoryEffects::Read::get(), p);
}

LogicalResult StepsOp::buildInverse(OpBuilder &b, InverseBuilder &inv) {
  return invertBySubtracting(*this, b, inv);
}

//===----------------------------------------------------------------------===//
// rev.steps_adjoint
//===----------------------------------------------------------------------===//

LogicalResult StepsAdjointOp::verify() {
  if (failed(verifyStateOperands(*this, getInit(), getInitShadow(), "init_shadow", getParams())) ||
      failed(verifyStateOperands(*this, getInit(), getOutShadow(), "out_shadow", getParams())))
    return failure();
  if (getInitShadow() == getOutShadow())
    return emitOpError("'init_shadow' and 'out_shadow' are the same memref");
  if (Value out = getUncomputeOut())
    if (failed(verifyStateOperands(*this, getInit(), out, "uncompute", getParams())))
      return failure();
  unsigned memrefs = 0, scalars = 0;
  for (Value p : getParams()) {
    if (isActiveMemRef(p.getType()))
      ++memrefs;
    else if (isActiveScalar(p.getType()))
      ++scalars;
  }
  if (getParamShadows().size() != memrefs)
    return emitOpError() << "expects one shadow per float memref param (" << memrefs << "), got "
                         << getParamShadows().size();
  if (getParamAdjoints().size() != scalars || getResults().size() != scalars)
    return emitOpError() << "expects one adjoint and one result per float scalar param ("
                         << scalars << ")";
  if (getResultTypes() != getParamAdjoints().getTypes())
    return emitOpError("results must have the types of the adjoints");
  if (failed(verifySchedule(*this, getScheduleAttr(), getSnapshots(), getLevels())))
    return failure();
  if (getMemoryBudgetAttr().getInt() < -1)
    return emitOpError() << "memory_budget must be a number of bytes, or -1 (the default "
                            "rule), got " << getMemoryBudgetAttr().getInt();
  return success();
}

LogicalResult StepsAdjointOp::verifySymbolUses(SymbolTableCollection &tables) {
  FailureOr<FuncOp> step =
      verifyStepFunction(*this, getStepAttr(), getInit().getType(), getParams(), tables);
  if (failed(step))
    return failure();
  auto bwd = dyn_cast_or_null<FuncOp>(tables.lookupNearestSymbolFrom(*this, getStepBackwardAttr()));
  FunctionType expected = derivativeFunctionType(step->getFunctionType());
  if (!bwd || bwd.getFunctionType() != expected)
    return emitOpError() << "step_backward " << getStepBackwardAttr()
                         << " must be a rev.func of type " << expected;
  return success();
}

void StepsAdjointOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  addEffect(effects, MemoryEffects::Read::get(), getInitMutable());
  addEffect(effects, MemoryEffects::Read::get(), getOutShadowMutable());
  addEffect(effects, MemoryEffects::Read::get(), getInitShadowMutable());
  addEffect(effects, MemoryEffects::Write::get(), getInitShadowMutable());
  for (OpOperand &p : getParamsMutable())
    addEffect(effects, MemoryEffects::Read::get(), p);
  for (OpOperand &p : getParamShadowsMutable()) {
    addEffect(effects, MemoryEffects::Read::get(), p);
    addEffect(effects, MemoryEffects::Write::get(), p);
  }
  for (OpOperand &o : getUncomputeOutMutable()) {
    addEffect(effects, MemoryEffects::Read::get(), o);
    addEffect(effects, MemoryEffects::Write::get(), o);
  }
}

/// The adjoints of the float scalar params are variables it updates.
SmallVector<OpOperand *> StepsAdjointOp::getConsumedOperands() {
  SmallVector<OpOperand *> out;
  for (OpOperand &o : getParamAdjointsMutable())
    out.push_back(&o);
  return out;
}

LogicalResult StepsAdjointOp::buildInverse(OpBuilder &, InverseBuilder &) {
  return emitOpError("cannot be inverted: the checkpointed adjoint of rev.steps is generated "
                     "code, not a reversible step (differentiate the gradient in forward mode "
                     "or with finite differences instead)");
}

//===----------------------------------------------------------------------===//
// rev.steps_tangent
//===----------------------------------------------------------------------===//

LogicalResult StepsTangentOp::verify() {
  if (failed(verifyStateOperands(*this, getInit(), getOut(), "out", getParams())) ||
      failed(verifyStateOperands(*this, getInit(), getInitTangent(), "init_tangent", getParams())) ||
      failed(verifyStateOperands(*this, getOut(), getOutTangent(), "out_tangent", getParams())))
    return failure();
  if (getInitTangent() == getOutTangent())
    return emitOpError("'init_tangent' and 'out_tangent' are the same memref");
  return success();
}

LogicalResult StepsTangentOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto fwd = dyn_cast_or_null<FuncOp>(tables.lookupNearestSymbolFrom(*this, getStepTangentAttr()));
  auto of = fwd ? fwd->getAttrOfType<FlatSymbolRefAttr>(kTangentOfAttr) : FlatSymbolRefAttr();
  if (!of)
    return emitOpError() << "step_tangent " << getStepTangentAttr()
                         << " must be a rev.func marked rev.tangent_of a step";
  FailureOr<FuncOp> step = verifyStepFunction(*this, of, getInit().getType(), getParams(), tables);
  if (failed(step))
    return failure();
  SmallVector<int> pos = derivativeArgPositions(step->getArgumentTypes());
  unsigned expected = 0;
  for (auto [i, p] : llvm::enumerate(pos))
    if (p >= 0 && i >= 3)
      ++expected;
  if (getParamTangents().size() != expected)
    return emitOpError() << "expects one tangent per float param (" << expected << "), got "
                         << getParamTangents().size();
  return success();
}

void StepsTangentOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  addEffect(effects, MemoryEffects::Read::get(), getInitMutable());
  addEffect(effects, MemoryEffects::Read::get(), getInitTangentMutable());
  for (OpOperand *o : {&getOutMutable(), &getOutTangentMutable()}) {
    addEffect(effects, MemoryEffects::Read::get(), *o);
    addEffect(effects, MemoryEffects::Write::get(), *o);
  }
  for (OpOperand &p : getParamsMutable())
    addEffect(effects, MemoryEffects::Read::get(), p);
  for (OpOperand &p : getParamTangentsMutable())
    addEffect(effects, MemoryEffects::Read::get(), p);
}

LogicalResult StepsTangentOp::buildInverse(OpBuilder &b, InverseBuilder &inv) {
  return invertBySubtracting(*this, b, inv);
}
