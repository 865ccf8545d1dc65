//===- RevOps.cpp - ops of the rev dialect --------------------------------===//
#include "dialect/RevOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionImplementation.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::rev;

#include "dialect/RevEnums.cpp.inc"
#include "dialect/RevInterfaces.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Depth-first walk of the pure expression DAG that computes `root`, calling
/// `fn` on every value of it (root included). Stops at values that are not
/// recomputable (variables, block arguments).
void mlir::rev::walkPureSlice(Value root, llvm::function_ref<void(Value)> fn) {
  SmallVector<Value> stack{root};
  llvm::SmallPtrSet<Operation *, 16> seenOps;
  llvm::DenseSet<Value> seen;
  while (!stack.empty()) {
    Value v = stack.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    fn(v);
    Operation *def = v.getDefiningOp();
    if (!def || !isRecomputable(def) || !seenOps.insert(def).second)
      continue;
    for (Value operand : def->getOperands())
      stack.push_back(operand);
    def->walk([&](Operation *nested) {
      if (nested == def)
        return;
      for (Value operand : nested->getOperands())
        if (!def->isAncestor(operand.getParentBlock()->getParentOp()))
          stack.push_back(operand);
    });
  }
}

Value mlir::rev::cloneCondition(OpBuilder &b, Region &cond, ValueRange args) {
  IRMapping mapping;
  Block &block = cond.front();
  for (auto [a, v] : llvm::zip(block.getArguments(), args))
    mapping.map(a, v);
  for (Operation &op : block.without_terminator())
    b.clone(op, mapping);
  return mapping.lookupOrDefault(cast<CondOp>(block.getTerminator()).getCondition());
}

bool mlir::rev::isActiveScalar(Type type) { return isa<FloatType>(type); }

bool mlir::rev::isActiveMemRef(Type type) {
  auto m = dyn_cast<MemRefType>(type);
  return m && isa<FloatType>(m.getElementType());
}

SmallVector<int> mlir::rev::derivativeArgPositions(TypeRange primalInputs) {
  SmallVector<int> pos(primalInputs.size(), -1);
  int next = primalInputs.size();
  for (auto [i, t] : llvm::enumerate(primalInputs))
    if (isActiveScalar(t))
      pos[i] = next++;
  for (auto [i, t] : llvm::enumerate(primalInputs))
    if (isActiveMemRef(t))
      pos[i] = next++;
  return pos;
}

FunctionType mlir::rev::derivativeFunctionType(FunctionType primal) {
  SmallVector<Type> inputs(primal.getInputs());
  SmallVector<int> pos = derivativeArgPositions(primal.getInputs());
  inputs.resize(inputs.size() + llvm::count_if(pos, [](int p) { return p >= 0; }));
  for (auto [i, p] : llvm::enumerate(pos))
    if (p >= 0)
      inputs[p] = inputs[i];
  return FunctionType::get(primal.getContext(), inputs, FuncOp::stateTypes(inputs));
}

static bool dependsOn(Value v, Value target) {
  bool found = false;
  walkPureSlice(v, [&](Value x) { found |= x == target; });
  return found;
}

/// A memref.load in the pure slice of `v` that reads `ref[indices]` with the
/// very same SSA indices, if any.
static Operation *findSameElementLoad(Value v, Value ref, ValueRange indices) {
  Operation *hit = nullptr;
  walkPureSlice(v, [&](Value x) {
    auto load = x.getDefiningOp<memref::LoadOp>();
    if (!hit && load && load.getMemRef() == ref &&
        llvm::equal(load.getIndices(), indices))
      hit = load;
  });
  return hit;
}

static LogicalResult verifyIndices(Operation *op, Value ref, ValueRange indices,
                                   StringRef what) {
  auto type = cast<MemRefType>(ref.getType());
  if (static_cast<int64_t>(indices.size()) != type.getRank())
    return op->emitOpError() << what << " has " << indices.size()
                             << " indices but the memref has rank " << type.getRank();
  return success();
}

Block::BlockArgListType mlir::rev::getThreadedArgs(Block &block) {
  if (isa_and_nonnull<ForOp, ParallelForOp>(block.getParentOp()))
    return block.getArguments().drop_front();
  return block.getArguments();
}

Value mlir::rev::viewRoot(Value memref) {
  while (auto view = memref.getDefiningOp<ViewLikeOpInterface>())
    memref = view.getViewSource();
  return memref;
}

void mlir::rev::forEachMemRefWrite(
    Operation *root, llvm::function_ref<void(Operation *op, Value target)> onWrite) {
  root->walk([&](Operation *op) {
    if (isa<CallOp, UncallOp>(op)) {
      for (Value operand : op->getOperands())
        if (isa<MemRefType>(operand.getType()))
          onWrite(op, operand);
      return;
    }
    auto iface = dyn_cast<MemoryEffectOpInterface>(op);
    if (!iface) {
      if (!op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        onWrite(op, Value());
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (auto &e : effects)
      if (isa<MemoryEffects::Write>(e.getEffect()))
        onWrite(op, e.getValue());
  });
}

bool mlir::rev::writesMemRef(Operation *root, Value memref) {
  bool writes = false;
  forEachMemRefWrite(root, [&](Operation *, Value target) {
    if (target && target == memref)
      writes = true;
  });
  return writes;
}

bool mlir::rev::isRecomputable(Operation *op) {
  if (isa<InvertibleOpInterface>(op) || op->hasTrait<OpTrait::IsTerminator>())
    return false;
  if (isMemoryEffectFree(op))
    return true;
  // Read-only ops (memref.load, ...): recomputable while what they read is
  // unchanged, which the verifier guarantees.
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  if (!effects)
    return false;
  return llvm::all_of(*effects, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Read>(e.getEffect());
  });
}

/// Parses `init <literal> : <type>` (the literal carries the variable's
/// type, as in arith.constant) or `: <type>` (zero).
static ParseResult parseInitAndType(OpAsmParser &parser, TypedAttr &init, Type &type) {
  if (succeeded(parser.parseOptionalKeyword("init"))) {
    SMLoc loc = parser.getCurrentLocation();
    Attribute raw;
    if (parser.parseAttribute(raw))
      return failure();
    init = dyn_cast<TypedAttr>(raw);
    if (!init || !isa<IntegerAttr, FloatAttr>(raw))
      return parser.emitError(loc) << "expected an integer or float literal, got " << raw;
    type = init.getType();
    return success();
  }
  return parser.parseColonType(type);
}

static void printInitAndType(OpAsmPrinter &p, TypedAttr init, Type type) {
  if (init) {
    p << " init ";
    p.printAttribute(init);
  } else {
    p << " : " << type;
  }
}

static LogicalResult verifyInit(Operation *op, TypedAttr init, Type type) {
  if (init && init.getType() != type)
    return op->emitOpError() << "init value type " << init.getType()
                             << " does not match the variable type " << type;
  if (init && !isa<IntegerAttr, FloatAttr>(init))
    return op->emitOpError("init value must be an integer or float literal");
  return success();
}

static TypedAttr initOrZero(TypedAttr init, Type type) {
  if (init)
    return init;
  Builder b(type.getContext());
  return cast<TypedAttr>(b.getZeroAttr(type));
}

//===----------------------------------------------------------------------===//
// Scalar updates
//===----------------------------------------------------------------------===//

// The update ops' verifiers and inverses, generated per row of the
// update-kind table (RevOps.td), call these.
namespace mlir::rev::detail {
template <typename OpT>
LogicalResult verifyUpdate(OpT op) {
  if (dependsOn(op.getDelta(), op.getTarget()))
    return op.emitOpError()
           << "delta is computed from the variable it updates: an update "
              "y += f(y) is not reversible in place (use a fresh ancilla)";
  return success();
}

template <typename InvOp, typename OpT>
LogicalResult invertUpdate(OpT op, OpBuilder &b, InverseBuilder &st) {
  Value y = st.lookup(b, op.getResult());
  Value d = st.lookup(b, op.getDelta());
  if (!y || !d)
    return failure();
  auto inv = InvOp::create(b, op.getLoc(), y, d);
  st.bind(op.getTarget(), inv.getResult());
  return success();
}
} // namespace mlir::rev::detail

SmallVector<OpOperand *> NegOp::getConsumedOperands() { return {&getTargetMutable()}; }
LogicalResult NegOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  Value y = st.lookup(b, getResult());
  if (!y)
    return failure();
  st.bind(getTarget(), NegOp::create(b, getLoc(), y).getResult());
  return success();
}

LogicalResult SwapOp::verify() {
  if (getLhs() == getRhs())
    return emitOpError("swaps a variable with itself");
  return success();
}
SmallVector<OpOperand *> SwapOp::getConsumedOperands() {
  return {&getLhsMutable(), &getRhsMutable()};
}
LogicalResult SwapOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  Value l = st.lookup(b, getLhsResult()), r = st.lookup(b, getRhsResult());
  if (!l || !r)
    return failure();
  auto inv = SwapOp::create(b, getLoc(), l, r);
  st.bind(getLhs(), inv.getLhsResult());
  st.bind(getRhs(), inv.getRhsResult());
  return success();
}

template <typename OpT>
static LogicalResult verifyRot(OpT op) {
  if (op.getLhs() == op.getRhs())
    return op.emitOpError("rotates a variable with itself");
  if (dependsOn(op.getTheta(), op.getLhs()) || dependsOn(op.getTheta(), op.getRhs()))
    return op.emitOpError("angle is computed from a rotated variable: not reversible in place");
  return success();
}
template <typename InvOp, typename OpT>
static LogicalResult invertRot(OpT op, OpBuilder &b, InverseBuilder &st) {
  Value l = st.lookup(b, op.getLhsResult()), r = st.lookup(b, op.getRhsResult());
  Value t = st.lookup(b, op.getTheta());
  if (!l || !r || !t)
    return failure();
  auto inv = InvOp::create(b, op.getLoc(), l, r, t);
  st.bind(op.getLhs(), inv.getLhsResult());
  st.bind(op.getRhs(), inv.getRhsResult());
  return success();
}
LogicalResult RotOp::verify() { return verifyRot(*this); }
LogicalResult IRotOp::verify() { return verifyRot(*this); }
SmallVector<OpOperand *> RotOp::getConsumedOperands() {
  return {&getLhsMutable(), &getRhsMutable()};
}
SmallVector<OpOperand *> IRotOp::getConsumedOperands() {
  return {&getLhsMutable(), &getRhsMutable()};
}
LogicalResult RotOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  return invertRot<IRotOp>(*this, b, st);
}
LogicalResult IRotOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  return invertRot<RotOp>(*this, b, st);
}

//===----------------------------------------------------------------------===//
// In-place element updates
//===----------------------------------------------------------------------===//

namespace mlir::rev::detail {
template <typename OpT>
LogicalResult verifyAtUpdate(OpT op) {
  if (failed(verifyIndices(op, op.getRef(), op.getIndices(), "element")))
    return failure();
  if (Operation *load = findSameElementLoad(op.getDelta(), op.getRef(), op.getIndices())) {
    auto diag = op.emitOpError()
                << "delta reads the element it updates (A[i] += f(A[i]) is not "
                   "reversible in place)";
    diag.attachNote(load->getLoc()) << "element read here";
    return diag;
  }
  return success();
}

template <typename InvOp, typename OpT>
LogicalResult invertAtUpdate(OpT op, OpBuilder &b, InverseBuilder &st) {
  Value ref = st.lookup(b, op.getRef());
  FailureOr<SmallVector<Value>> idx = st.lookupAll(b, op.getIndices());
  Value d = st.lookup(b, op.getDelta());
  if (!ref || failed(idx) || !d)
    return failure();
  InvOp::create(b, op.getLoc(), ref, *idx, d);
  return success();
}
} // namespace mlir::rev::detail

LogicalResult NegAtOp::verify() {
  return verifyIndices(*this, getRef(), getIndices(), "element");
}
LogicalResult NegAtOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  Value ref = st.lookup(b, getRef());
  FailureOr<SmallVector<Value>> idx = st.lookupAll(b, getIndices());
  if (!ref || failed(idx))
    return failure();
  NegAtOp::create(b, getLoc(), ref, *idx);
  return success();
}

template <typename OpT>
static LogicalResult verifyPairAt(OpT op) {
  if (failed(verifyIndices(op, op.getLhs(), op.getLhsIndices(), "first element")) ||
      failed(verifyIndices(op, op.getRhs(), op.getRhsIndices(), "second element")))
    return failure();
  if (cast<MemRefType>(op.getLhs().getType()).getElementType() !=
      cast<MemRefType>(op.getRhs().getType()).getElementType())
    return op.emitOpError("element types of the two memrefs differ");
  return success();
}

LogicalResult SwapAtOp::verify() { return verifyPairAt(*this); }
LogicalResult SwapAtOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  Value l = st.lookup(b, getLhs()), r = st.lookup(b, getRhs());
  FailureOr<SmallVector<Value>> li = st.lookupAll(b, getLhsIndices());
  FailureOr<SmallVector<Value>> ri = st.lookupAll(b, getRhsIndices());
  if (!l || !r || failed(li) || failed(ri))
    return failure();
  SwapAtOp::create(b, getLoc(), l, *li, r, *ri);
  return success();
}

template <typename OpT>
static LogicalResult verifyRotAt(OpT op) {
  if (failed(verifyPairAt(op)))
    return failure();
  if (cast<MemRefType>(op.getLhs().getType()).getElementType() != op.getTheta().getType())
    return op.emitOpError("angle type differs from the element type");
  if (op.getLhs() == op.getRhs() &&
      llvm::equal(op.getLhsIndices(), op.getRhsIndices()))
    return op.emitOpError("rotates an element with itself");
  if (findSameElementLoad(op.getTheta(), op.getLhs(), op.getLhsIndices()) ||
      findSameElementLoad(op.getTheta(), op.getRhs(), op.getRhsIndices()))
    return op.emitOpError("angle reads a rotated element: not reversible in place");
  return success();
}
template <typename InvOp, typename OpT>
static LogicalResult invertRotAt(OpT op, OpBuilder &b, InverseBuilder &st) {
  Value l = st.lookup(b, op.getLhs()), r = st.lookup(b, op.getRhs());
  FailureOr<SmallVector<Value>> li = st.lookupAll(b, op.getLhsIndices());
  FailureOr<SmallVector<Value>> ri = st.lookupAll(b, op.getRhsIndices());
  Value t = st.lookup(b, op.getTheta());
  if (!l || !r || failed(li) || failed(ri) || !t)
    return failure();
  InvOp::create(b, op.getLoc(), l, *li, r, *ri, t);
  return success();
}
LogicalResult RotAtOp::verify() { return verifyRotAt(*this); }
LogicalResult IRotAtOp::verify() { return verifyRotAt(*this); }
LogicalResult RotAtOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  return invertRotAt<IRotAtOp>(*this, b, st);
}
LogicalResult IRotAtOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  return invertRotAt<RotAtOp>(*this, b, st);
}

//===----------------------------------------------------------------------===//
// Ancillas
//===----------------------------------------------------------------------===//

TypedAttr AllocOp::getInitValue() { return initOrZero(getInitAttr(), getType()); }
TypedAttr FreeOp::getInitValue() { return initOrZero(getInitAttr(), getTarget().getType()); }

LogicalResult AllocOp::verify() {
  if (getAdjoint() && !isa<FloatType>(getType()))
    return emitOpError() << "'adjoint' marks the adjoint of a float ancilla, not of a "
                         << getType();
  return verifyInit(*this, getInitAttr(), getType());
}
LogicalResult FreeOp::verify() {
  return verifyInit(*this, getInitAttr(), getTarget().getType());
}

ParseResult AllocOp::parse(OpAsmParser &parser, OperationState &result) {
  TypedAttr init;
  Type type;
  if (parser.parseOptionalAttrDict(result.attributes) || parseInitAndType(parser, init, type))
    return failure();
  if (init)
    result.addAttribute(getInitAttrName(result.name), init);
  result.addTypes(type);
  return success();
}

void AllocOp::print(OpAsmPrinter &p) {
  p.printOptionalAttrDict((*this)->getAttrs(), {getInitAttrName()});
  printInitAndType(p, getInitAttr(), getType());
}

ParseResult FreeOp::parse(OpAsmParser &parser, OperationState &result) {
  OpAsmParser::UnresolvedOperand target;
  TypedAttr init;
  Type type;
  if (parser.parseOperand(target) || parser.parseOptionalAttrDict(result.attributes) ||
      parseInitAndType(parser, init, type) ||
      parser.resolveOperand(target, type, result.operands))
    return failure();
  if (init)
    result.addAttribute(getInitAttrName(result.name), init);
  return success();
}

void FreeOp::print(OpAsmPrinter &p) {
  p << " " << getTarget();
  p.printOptionalAttrDict((*this)->getAttrs(), {getInitAttrName()});
  printInitAndType(p, getInitAttr(), getTarget().getType());
}

LogicalResult AllocOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  Value v = st.lookup(b, getResult());
  if (!v)
    return failure();
  if (getAdjoint())
    DiscardOp::create(b, getLoc(), v);
  else
    FreeOp::create(b, getLoc(), v, getInitAttr());
  return success();
}

SmallVector<OpOperand *> FreeOp::getConsumedOperands() { return {&getTargetMutable()}; }
LogicalResult FreeOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  auto alloc = AllocOp::create(b, getLoc(), getTarget().getType(), getInitAttr());
  st.bind(getTarget(), alloc.getResult());
  return success();
}

const char *const mlir::rev::kDiscardAdvice =
    "rev.discard dropped an ancilla's adjoint, which is not recoverable: allocate "
    "and release the ancilla inside a rev.routine (whose adjoint uncomputes it) to "
    "differentiate or invert this backward function";

LogicalResult DiscardOp::verify() {
  auto func = (*this)->getParentOfType<FuncOp>();
  if (!func || !(func->hasAttr(kBackwardOfAttr) || func->hasAttr(kTangentOfAttr) ||
                 func->hasAttr(kGradientOfAttr) || func->hasAttr(kInverseOfAttr) ||
                 func->hasAttr(kSeedsOfAttr)))
    return emitOpError("may only appear in generated derivative functions (rev.backward_of, "
                       "rev.gradient_of, rev.tangent_of or their inverses): it drops "
                       "information");
  return success();
}
SmallVector<OpOperand *> DiscardOp::getConsumedOperands() { return {&getTargetMutable()}; }
LogicalResult DiscardOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  if (!st.allowsDiscard())
    return emitOpError("cannot be inverted: ") << kDiscardAdvice;
  auto alloc = AllocOp::create(b, getLoc(), getTarget().getType(), TypedAttr());
  alloc.setAdjoint(true);
  st.bind(getTarget(), alloc.getResult());
  return success();
}

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

LogicalResult CheckOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  Value cond = st.lookup(b, getCondition());
  if (!cond)
    return failure();
  CheckOp::create(b, getLoc(), cond, getRuleAttr(), getOriginAttr());
  return success();
}

std::string CheckOp::getFailureMessage() {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "rev: " << getRule() << " (" << getOrigin() << " at ";
  getLoc().print(os);
  os << ")\n";
  return s;
}

//===----------------------------------------------------------------------===//
// Functions, calls, returns
//===----------------------------------------------------------------------===//

SmallVector<Type> FuncOp::stateTypes(TypeRange inputs) {
  SmallVector<Type> out;
  for (Type t : inputs)
    if (!isa<MemRefType>(t))
      out.push_back(t);
  return out;
}

void FuncOp::build(OpBuilder &b, OperationState &state, StringRef name, FunctionType type) {
  state.addAttribute(SymbolTable::getSymbolAttrName(), b.getStringAttr(name));
  state.addAttribute(getFunctionTypeAttrName(state.name), TypeAttr::get(type));
  state.addRegion();
}

ParseResult FuncOp::parse(OpAsmParser &parser, OperationState &result) {
  auto buildFuncType = [](Builder &b, ArrayRef<Type> args, ArrayRef<Type> results,
                          function_interface_impl::VariadicFlag, std::string &) {
    return b.getFunctionType(args, results);
  };
  return function_interface_impl::parseFunctionOp(
      parser, result, /*allowVariadic=*/false, getFunctionTypeAttrName(result.name),
      buildFuncType, getArgAttrsAttrName(result.name), getResAttrsAttrName(result.name));
}

void FuncOp::print(OpAsmPrinter &p) {
  function_interface_impl::printFunctionOp(p, *this, /*isVariadic=*/false,
                                           getFunctionTypeAttrName(),
                                           getArgAttrsAttrName(), getResAttrsAttrName());
}

LogicalResult FuncOp::verify() {
  SmallVector<Type> expected = stateTypes(getArgumentTypes());
  if (!llvm::equal(expected, getResultTypes()))
    return emitOpError() << "results must be the scalar (non-memref) argument types in order: "
                         << "expected (" << TypeRange(expected) << "), got ("
                         << TypeRange(getResultTypes()) << ")";
  if (getBody().empty())
    return emitOpError("must have a body: reversible functions cannot be external");
  if (!getBody().hasOneBlock())
    return emitOpError("body must be a single block (use rev.if/rev.while for control flow)");
  return success();
}

LogicalResult FuncOp::verifyRegions() {
  if (failed(verifyReversibleBody(*this)))
    return failure();
  // `rev.const` arguments: scalars the function never updates (returned as
  // they came), so that the AD passes may leave them undifferentiated.
  Block &body = getBody().front();
  auto ret = dyn_cast<ReturnOp>(body.getTerminator());
  unsigned pos = 0;
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    bool isScalar = !isa<MemRefType>(arg.getType());
    if (getArgAttr(i, kConstArgAttr)) {
      if (!isScalar) {
        if (Operation *writer = memrefArgumentWriter(arg)) {
          InFlightDiagnostic diag = emitOpError()
                                    << "argument #" << i << " is marked '" << kConstArgAttr
                                    << "' but the function may write it: a constant memref "
                                       "is only read (loads and dims, through views)";
          diag.attachNote(writer->getLoc()) << "may be written here";
          return diag;
        }
        continue;
      }
      if (ret && ret.getOperand(pos) != arg)
        return emitOpError() << "argument #" << i << " is marked '" << kConstArgAttr
                             << "' but the function updates it: a constant must be returned "
                                "as it came";
    }
    pos += isScalar;
  }
  return success();
}

void mlir::rev::memrefSources(Value v, SmallVectorImpl<Value> &out) {
  v = viewRoot(v);
  if (auto select = v.getDefiningOp<arith::SelectOp>()) {
    memrefSources(select.getTrueValue(), out);
    memrefSources(select.getFalseValue(), out);
    return;
  }
  out.push_back(v);
}

void mlir::rev::memrefAliasRoots(Value v, SmallVectorImpl<Value> &out) {
  SmallVector<Value> sources;
  memrefSources(v, sources);
  for (Value s : sources) {
    if (auto global = s.getDefiningOp<memref::GetGlobalOp>()) {
      Operation *scope = global->getParentWithTrait<OpTrait::IsIsolatedFromAbove>();
      if (scope)
        scope->walk([&](memref::GetGlobalOp other) {
          if (other.getNameAttr() != global.getNameAttr())
            return WalkResult::advance();
          s = other.getResult();
          return WalkResult::interrupt();
        });
    }
    if (!llvm::is_contained(out, s))
      out.push_back(s);
  }
}

bool mlir::rev::isConstantMemref(Value v) {
  SmallVector<Value> sources;
  memrefSources(v, sources);
  return llvm::all_of(sources, [](Value s) {
    auto arg = dyn_cast<BlockArgument>(s);
    if (!arg || !isa<BaseMemRefType>(arg.getType()) || !arg.getOwner()->isEntryBlock())
      return false;
    auto func = dyn_cast_or_null<FuncOp>(arg.getOwner()->getParentOp());
    return func && func.getArgAttr(arg.getArgNumber(), kConstArgAttr);
  });
}

Operation *mlir::rev::memrefArgumentWriter(BlockArgument arg) {
  SmallVector<Value> work{arg};
  llvm::DenseSet<Value> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto view = dyn_cast<ViewLikeOpInterface>(user); view && view.getViewSource() == v) {
        work.push_back(view.getViewDest());
        continue;
      }
      if (auto select = dyn_cast<arith::SelectOp>(user)) {
        work.push_back(select.getResult());
        continue;
      }
      if (mayModifyMemref(user, v))
        return user; // also a call, a region op carrying it, an unknown op
    }
  }
  return nullptr;
}

bool mlir::rev::mayModifyMemref(Operation *op, Value memref) {
  auto iface = dyn_cast<MemoryEffectOpInterface>(op);
  if (!iface)
    return true;
  SmallVector<MemoryEffects::EffectInstance> effects;
  iface.getEffects(effects);
  return llvm::any_of(effects, [&](const MemoryEffects::EffectInstance &e) {
    return !isa<MemoryEffects::Read>(e.getEffect()) &&
           (!e.getValue() || e.getValue() == memref);
  });
}

bool mlir::rev::isConstantArgument(Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg)
    return false;
  auto func = dyn_cast_or_null<FuncOp>(arg.getOwner()->getParentOp());
  return func && arg.getOwner()->isEntryBlock() &&
         func.getArgAttr(arg.getArgNumber(), kConstArgAttr);
}

/// Whether `f` is a backward or tangent function, or (transitively) the
/// inverse of one: the functions that may drop an ancilla's adjoint.
static bool mayDropAdjoints(FuncOp f, SymbolTableCollection &tables) {
  llvm::SmallPtrSet<Operation *, 4> seen;
  while (f && seen.insert(f).second) {
    if (f->hasAttr(kBackwardOfAttr) || f->hasAttr(kTangentOfAttr) ||
        f->hasAttr(kGradientOfAttr) || f->hasAttr(kSeedsOfAttr))
      return true;
    auto of = f->getAttrOfType<FlatSymbolRefAttr>(kInverseOfAttr);
    if (!of)
      return false;
    f = dyn_cast_or_null<FuncOp>(tables.lookupNearestSymbolFrom(f, of));
  }
  return false;
}

LogicalResult FuncOp::verifySymbolUses(SymbolTableCollection &tables) {
  SmallVector<NamedAttribute, 1> markers;
  for (StringRef name : kMarkerAttrs)
    if (Attribute a = (*this)->getAttr(name))
      markers.emplace_back(StringAttr::get(getContext(), name), a);
  if (markers.size() > 1)
    return emitOpError("carries more than one of rev.inverse_of, rev.backward_of, "
                       "rev.gradient_of and rev.tangent_of: a generated function derives "
                       "from one function in one way");
  if (!markers.empty()) {
    StringRef name = markers.front().getName().getValue();
    Attribute value = markers.front().getValue();
    auto ref = dyn_cast<FlatSymbolRefAttr>(value);
    if (!ref)
      return emitOpError() << "'" << name << "' must name a rev.func (@f), got " << value;
    auto target = dyn_cast_or_null<FuncOp>(tables.lookupNearestSymbolFrom(*this, ref));
    if (!target)
      return emitOpError() << "'" << name << "' names " << ref
                           << ", which is not a rev.func of this symbol table";
    if (target == *this)
      return emitOpError() << "'" << name << "' names the function itself";
    bool inverse = name == kInverseOfAttr;
    FunctionType expected =
        inverse ? target.getFunctionType() : derivativeFunctionType(target.getFunctionType());
    if (getFunctionType() != expected) {
      InFlightDiagnostic diag = emitOpError()
                                << "is marked '" << name << " = " << ref << "' but has type "
                                << getFunctionType() << "; "
                                << (inverse ? "an inverse has the type of its function: "
                                            : "a derivative function has its function's "
                                              "derivative layout: ")
                                << expected;
      diag.attachNote(target.getLoc()) << ref << " is here";
      return diag;
    }
  }
  // An N-seed copy (--rev-seeds): g's primal arguments and results once,
  // its adjoint ones N times.
  if (Attribute a = (*this)->getAttr(kSeedsOfAttr)) {
    auto ref = dyn_cast<FlatSymbolRefAttr>(a);
    auto count = (*this)->getAttrOfType<IntegerAttr>(kSeedsAttr);
    if (!ref || !count || count.getInt() < 1)
      return emitOpError() << "'" << kSeedsOfAttr << "' must name a rev.func (@g) and '"
                           << kSeedsAttr << "' be an integer >= 1";
    auto target = dyn_cast_or_null<FuncOp>(tables.lookupNearestSymbolFrom(*this, ref));
    FuncOp primal;
    for (StringRef m : {kGradientOfAttr, kBackwardOfAttr})
      if (auto p = target ? target->getAttrOfType<FlatSymbolRefAttr>(m) : nullptr)
        primal = dyn_cast_or_null<FuncOp>(tables.lookupNearestSymbolFrom(target, p));
    if (!primal)
      return emitOpError() << "'" << kSeedsOfAttr << "' names " << a
                           << ", which is not a gradient or backward rev.func of this symbol "
                              "table";
    FunctionType gt = target.getFunctionType();
    unsigned pa = primal.getNumArguments(), pr = primal.getNumResults();
    // The count may be any integer: compare the sizes before spelling the
    // expected type out (its adjoint part N times).
    int64_t n = count.getInt();
    int64_t ain = int64_t(gt.getNumInputs()) - pa, aout = int64_t(gt.getNumResults()) - pr;
    int64_t have = int64_t(getNumArguments()) + getNumResults();
    if (ain + aout == 0)
      n = 1; // every count gives g's own type
    else if (n > have / (ain + aout))
      return emitOpError() << "is the " << count.getInt() << "-seed copy of " << ref
                           << " but has " << getNumArguments() << " arguments and "
                           << getNumResults() << " results; expected " << pa << " + "
                           << count.getInt() << " x " << ain << " arguments and " << pr
                           << " + " << count.getInt() << " x " << aout << " results";
    SmallVector<Type> in(gt.getInputs().take_front(pa)), out(gt.getResults().take_front(pr));
    for (int64_t k = 0; k < n; ++k) {
      llvm::append_range(in, gt.getInputs().drop_front(pa));
      llvm::append_range(out, gt.getResults().drop_front(pr));
    }
    FunctionType expected = FunctionType::get(getContext(), in, out);
    if (getFunctionType() != expected)
      return emitOpError() << "is the " << count.getInt() << "-seed copy of " << ref
                           << " but has type " << getFunctionType() << "; expected "
                           << expected;
  }
  // Dropping an adjoint is only exact where the AD pass arranged it.
  if (!mayDropAdjoints(*this, tables)) {
    WalkResult r = walk([&](Operation *op) {
      auto alloc = dyn_cast<AllocOp>(op);
      if (!isa<DiscardOp>(op) && !(alloc && alloc.getAdjoint()))
        return WalkResult::advance();
      op->emitOpError("may only appear in generated backward, gradient or tangent "
                      "functions (rev.backward_of, rev.gradient_of, rev.tangent_of) or their "
                      "inverses: it drops information");
      return WalkResult::interrupt();
    });
    if (r.wasInterrupted())
      return failure();
  }
  return success();
}

LogicalResult ReturnOp::verify() {
  auto func = (*this)->getParentOfType<FuncOp>();
  if (!llvm::equal(getOperandTypes(), func.getResultTypes()))
    return emitOpError() << "returns (" << getOperandTypes()
                         << ") but the function's variables are ("
                         << TypeRange(func.getResultTypes()) << ")";
  return success();
}

template <typename OpT>
static LogicalResult verifyCallShape(OpT op) {
  SmallVector<Type> expected = FuncOp::stateTypes(op.getOperands().getTypes());
  if (!llvm::equal(expected, op.getResultTypes()))
    return op.emitOpError()
           << "results must be the final versions of the scalar operands, in order: "
              "expected (" << TypeRange(expected) << "), got ("
           << op.getResultTypes() << ")";
  return success();
}

/// `v` with memref.cast ops peeled off: a cast (shape or layout spelled
/// differently) is the same memory, whole.
static Value castSource(Value v) {
  while (auto cast = v.getDefiningOp<memref::CastOp>())
    v = cast.getSource();
  return v;
}

std::optional<std::pair<unsigned, unsigned>>
mlir::rev::findWrittenAlias(ValueRange operands, function_ref<bool(unsigned)> written) {
  for (unsigned i = 0, e = operands.size(); i < e; ++i)
    for (unsigned j = i + 1; j < e; ++j)
      if (isa<MemRefType>(operands[i].getType()) &&
          castSource(operands[i]) == castSource(operands[j]) && (written(i) || written(j)))
        return std::make_pair(i, j);
  return std::nullopt;
}

template <typename OpT>
static LogicalResult verifyCallee(OpT op, SymbolTableCollection &tables) {
  Operation *sym = tables.lookupNearestSymbolFrom(op, op.getCalleeAttr());
  if (!sym)
    return op.emitOpError() << "callee " << op.getCalleeAttr() << " does not exist";
  auto callee = dyn_cast<FuncOp>(sym);
  if (!callee)
    return op.emitOpError() << "callee " << op.getCalleeAttr() << " is a '"
                            << sym->getName()
                            << "', not a rev.func: only reversible functions can be "
                            << (std::is_same_v<OpT, UncallOp> ? "uncalled" : "called here");
  if (!llvm::equal(callee.getArgumentTypes(), op.getOperands().getTypes()))
    return op.emitOpError() << "operand types (" << op.getOperands().getTypes()
                            << ") do not match " << op.getCalleeAttr() << "'s arguments ("
                            << TypeRange(callee.getArgumentTypes()) << ")";
  // A memref passed twice where the callee writes one of the two is aliasing.
  Block &entry = callee.getBody().front();
  if (auto pair = findWrittenAlias(op.getOperands(), [&](unsigned i) {
        return writesMemRef(callee, entry.getArgument(i));
      }))
    return op.emitOpError() << "passes the same memref as operands #" << pair->first
                            << " and #" << pair->second
                            << " and the callee writes it: aliasing is not reversible";
  return success();
}

template <typename InvOp, typename OpT>
static LogicalResult invertCall(OpT op, OpBuilder &b, InverseBuilder &st) {
  SmallVector<Value> operands;
  auto results = op.getResults();
  unsigned r = 0;
  for (Value v : op.getOperands()) {
    Value w = isa<MemRefType>(v.getType()) ? st.lookup(b, v) : st.lookup(b, results[r++]);
    if (!w)
      return failure();
    operands.push_back(w);
  }
  auto inv = InvOp::create(b, op.getLoc(), op.getResultTypes(), op.getCalleeAttr(), operands);
  r = 0;
  for (Value v : op.getOperands())
    if (!isa<MemRefType>(v.getType()))
      st.bind(v, inv.getResult(r++));
  return success();
}

template <typename OpT>
static SmallVector<OpOperand *> scalarOperands(OpT op) {
  SmallVector<OpOperand *> out;
  for (OpOperand &o : op->getOpOperands())
    if (!isa<MemRefType>(o.get().getType()))
      out.push_back(&o);
  return out;
}

FunctionType GradCallOp::getGradientType(FuncOp callee) {
  FunctionType primal = callee.getFunctionType();
  FunctionType grad = derivativeFunctionType(primal);
  unsigned pa = primal.getNumInputs();
  SmallVector<Type> in(grad.getInputs().take_front(pa));
  for (int64_t k = 0; k < getSeeds(); ++k)
    llvm::append_range(in, grad.getInputs().drop_front(pa));
  return FunctionType::get(getContext(), in, FuncOp::stateTypes(in));
}

LogicalResult GradCallOp::verify() {
  if (auto fn = (*this)->getParentOfType<FuncOp>())
    return emitOpError() << "may not appear in a rev.func (here @" << fn.getSymName()
                         << "): it has no inverse before --rev-ad resolves it; call the "
                            "generated gradient with rev.call instead";
  return success();
}

LogicalResult GradCallOp::verifySymbolUses(SymbolTableCollection &tables) {
  Operation *sym = tables.lookupNearestSymbolFrom(*this, getCalleeAttr());
  if (!sym)
    return emitOpError() << "callee " << getCalleeAttr() << " does not exist";
  auto callee = dyn_cast<FuncOp>(sym);
  if (!callee)
    return emitOpError() << "callee " << getCalleeAttr() << " is a '" << sym->getName()
                         << "', not a rev.func: only a rev.func has a generated gradient";
  FunctionType expected = getGradientType(callee);
  if (!llvm::equal(expected.getInputs(), getOperandTypes()))
    return emitOpError() << "operand types (" << getOperandTypes() << ") do not match the "
                         << (getSeeds() > 1 ? Twine(getSeeds()) + "-seed " : Twine(""))
                         << "gradient of " << getCalleeAttr() << ": expected ("
                         << TypeRange(expected.getInputs())
                         << ") (its arguments, then"
                         << (getSeeds() > 1 ? " per seed" : "")
                         << " an adjoint per float scalar argument and a shadow per float "
                            "memref argument)";
  if (!llvm::equal(expected.getResults(), getResultTypes()))
    return emitOpError() << "results must be the final versions of the scalar operands, in "
                            "order: expected ("
                         << TypeRange(expected.getResults()) << "), got (" << getResultTypes()
                         << ")";
  // The gradient writes every shadow and every memref f writes: a memref
  // passed twice where one of the two is written is aliasing (rev.call's
  // rule, checked here because the gradient does not exist yet).
  unsigned primalArgs = callee.getNumArguments();
  Block &entry = callee.getBody().front();
  auto written = [&](unsigned i) {
    return i >= primalArgs || writesMemRef(callee, entry.getArgument(i));
  };
  if (auto pair = findWrittenAlias(getOperands(), written))
    return emitOpError() << "passes the same memref as operands #" << pair->first << " and #"
                         << pair->second << " and the gradient writes "
                         << (written(pair->first) && written(pair->second) ? "both"
                                                                          : "one of them")
                         << ": aliasing is not reversible";
  return success();
}

LogicalResult CallOp::verify() { return verifyCallShape(*this); }
LogicalResult UncallOp::verify() { return verifyCallShape(*this); }
LogicalResult CallOp::verifySymbolUses(SymbolTableCollection &t) { return verifyCallee(*this, t); }
LogicalResult UncallOp::verifySymbolUses(SymbolTableCollection &t) { return verifyCallee(*this, t); }
SmallVector<OpOperand *> CallOp::getConsumedOperands() { return scalarOperands(*this); }
SmallVector<OpOperand *> UncallOp::getConsumedOperands() { return scalarOperands(*this); }
LogicalResult CallOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  return invertCall<UncallOp>(*this, b, st);
}
LogicalResult UncallOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  return invertCall<CallOp>(*this, b, st);
}

//===----------------------------------------------------------------------===//
// Region ops: shared helpers
//===----------------------------------------------------------------------===//

static LogicalResult verifyArgTypes(Operation *op, Region &region, StringRef name,
                                    TypeRange leading, TypeRange types) {
  Block &block = region.front();
  SmallVector<Type> expected(leading.begin(), leading.end());
  expected.append(types.begin(), types.end());
  if (!llvm::equal(block.getArgumentTypes(), expected))
    return op->emitOpError() << "'" << name << "' region arguments ("
                             << block.getArgumentTypes() << ") must be ("
                             << TypeRange(expected) << ")";
  return success();
}

static LogicalResult verifyYieldTypes(Operation *op, Region &region, StringRef name,
                                      TypeRange types) {
  auto yield = dyn_cast<YieldOp>(region.front().getTerminator());
  if (!yield)
    return op->emitOpError() << "'" << name << "' region must end with rev.yield";
  if (!llvm::equal(yield.getOperandTypes(), types))
    return yield.emitOpError() << "yields (" << yield.getOperandTypes() << ") but '"
                               << name << "' of '" << op->getName() << "' expects ("
                               << types << ")";
  return success();
}

/// A pre/post region: arguments are the state, the body is pure, it ends
/// in rev.cond.
static LogicalResult verifyCondRegion(Operation *op, Region &region, StringRef name,
                                      TypeRange types) {
  if (failed(verifyArgTypes(op, region, name, {}, types)))
    return failure();
  if (!isa<CondOp>(region.front().getTerminator()))
    return op->emitOpError() << "'" << name << "' region must end with rev.cond";
  for (Operation &inner : region.front().without_terminator())
    if (!isRecomputable(&inner))
      return inner.emitOpError() << "is not allowed in the '" << name
                                 << "' condition of '" << op->getName()
                                 << "': conditions must be pure (they are re-evaluated "
                                    "by the inverse)";
  return success();
}

/// Binds the op's inits to the inverse op's results.
static void bindResults(InverseBuilder &st, ValueRange inits, ValueRange invResults) {
  for (auto [init, res] : llvm::zip(inits, invResults))
    st.bind(init, res);
}

static LogicalResult inferSame(ValueRange operands, SmallVectorImpl<Type> &types) {
  llvm::append_range(types, operands.getTypes());
  return success();
}

//===----------------------------------------------------------------------===//
// Region ops: parsing
//===----------------------------------------------------------------------===//

/// Parses a region of a rev region op. The MLIR parser resolves an outer
/// forward reference `%n` to a same-named value defined in the region; a
/// later parse error would then destroy the region while the outer op still
/// uses that value (a crash, ../shared/repro/09, upstream too). Such a use is
/// always an error: it is reported here, at the region, and dropped, so that
/// nothing outside refers into the region when it is destroyed.
static ParseResult parseStateRegion(OpAsmParser &parser, Region &region,
                                    ArrayRef<OpAsmParser::Argument> arguments = {}) {
  SMLoc loc = parser.getCurrentLocation();
  ParseResult parsed = parser.parseRegion(region, arguments);
  // The region is not attached to an op yet: find what is inside by walking.
  llvm::SmallPtrSet<Operation *, 16> inside;
  region.walk([&](Operation *op) { inside.insert(op); });
  SmallVector<OpOperand *> escaping;
  auto collect = [&](Value v) {
    for (OpOperand &use : v.getUses())
      if (!inside.contains(use.getOwner()))
        escaping.push_back(&use);
  };
  region.walk([&](Block *block) {
    for (BlockArgument a : block->getArguments())
      collect(a);
    for (Operation &op : *block)
      for (Value r : op.getResults())
        collect(r);
  });
  for (OpOperand *use : escaping)
    use->drop();
  if (!escaping.empty() && succeeded(parsed))
    return parser.emitError(loc) << "a value defined in this region is used outside it "
                                    "(an earlier use of a name defined here?)";
  return parsed;
}

/// `(%a, %b : f64, i64)?` the inits of a region op and its result types.
static ParseResult parseInits(OpAsmParser &parser, OperationState &result) {
  SmallVector<OpAsmParser::UnresolvedOperand> inits;
  SmallVector<Type> types;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseOperandList(inits))
    return failure();
  if (!inits.empty() && (parser.parseColonTypeList(types) ||
                         parser.resolveOperands(inits, types, loc, result.operands)))
    return failure();
  result.addTypes(types);
  return success();
}

static void printInits(OpAsmPrinter &p, OperandRange inits) {
  if (inits.empty())
    return;
  p << ' ' << inits << " : " << inits.getTypes();
}

/// ` keyword {region}`.
static void printKeywordRegion(OpAsmPrinter &p, StringRef keyword, Region &region) {
  p << ' ' << keyword << ' ';
  p.printRegion(region);
}

ParseResult IfOp::parse(OpAsmParser &parser, OperationState &result) {
  Region *pre = result.addRegion(), *thenRegion = result.addRegion(),
         *elseRegion = result.addRegion(), *post = result.addRegion();
  if (parseInits(parser, result) || parser.parseKeyword("pre") ||
      parseStateRegion(parser, *pre) || parser.parseKeyword("then") ||
      parseStateRegion(parser, *thenRegion))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("else")) && parseStateRegion(parser, *elseRegion))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("post")) && parseStateRegion(parser, *post))
    return failure();
  return parser.parseOptionalAttrDict(result.attributes);
}

void IfOp::print(OpAsmPrinter &p) {
  printInits(p, getInits());
  printKeywordRegion(p, "pre", getPre());
  printKeywordRegion(p, "then", getThenRegion());
  if (hasElse())
    printKeywordRegion(p, "else", getElseRegion());
  if (hasPost())
    printKeywordRegion(p, "post", getPost());
  p.printOptionalAttrDict((*this)->getAttrs());
}

ParseResult WhileOp::parse(OpAsmParser &parser, OperationState &result) {
  Region *pre = result.addRegion(), *body = result.addRegion(), *post = result.addRegion();
  if (parseInits(parser, result) || parser.parseKeyword("pre") ||
      parseStateRegion(parser, *pre) || parser.parseKeyword("do") ||
      parseStateRegion(parser, *body) || parser.parseKeyword("post") ||
      parseStateRegion(parser, *post))
    return failure();
  return parser.parseOptionalAttrDict(result.attributes);
}

void WhileOp::print(OpAsmPrinter &p) {
  printInits(p, getInits());
  printKeywordRegion(p, "pre", getPre());
  printKeywordRegion(p, "do", getBody());
  printKeywordRegion(p, "post", getPost());
  p.printOptionalAttrDict((*this)->getAttrs());
}

ParseResult RoutineOp::parse(OpAsmParser &parser, OperationState &result) {
  Region *compute = result.addRegion(), *body = result.addRegion();
  if (parseInits(parser, result) || parser.parseKeyword("compute") ||
      parseStateRegion(parser, *compute) || parser.parseKeyword("body") ||
      parseStateRegion(parser, *body))
    return failure();
  return parser.parseOptionalAttrDict(result.attributes);
}

void RoutineOp::print(OpAsmPrinter &p) {
  printInits(p, getInits());
  printKeywordRegion(p, "compute", getCompute());
  printKeywordRegion(p, "body", getBody());
  p.printOptionalAttrDict((*this)->getAttrs());
}

//===----------------------------------------------------------------------===//
// Counted loops (rev.for, rev.parallel_for): `%i = %lb to %ub step %s
// (<kw>(%x = %x0, ...) -> (types))? region attr-dict`
//===----------------------------------------------------------------------===//

static void buildCountedLoop(OpBuilder &b, OperationState &state, Value lb, Value ub,
                             Value step, ValueRange inits) {
  state.addOperands({lb, ub, step});
  state.addOperands(inits);
  state.addTypes(inits.getTypes());
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  block->addArgument(b.getIndexType(), state.location);
  for (Value v : inits)
    block->addArgument(v.getType(), v.getLoc());
}

/// Parses the loop after its leading keywords; `initsKeyword` introduces the
/// threaded variables (`iter_args`, `reduce`), `what` names them in errors.
template <typename LoopOp>
static ParseResult parseCountedLoop(OpAsmParser &parser, OperationState &result,
                                    StringRef initsKeyword, StringRef what) {
  Builder &b = parser.getBuilder();
  Type indexType = b.getIndexType();
  OpAsmParser::Argument iv;
  OpAsmParser::UnresolvedOperand lb, ub, step;
  if (parser.parseArgument(iv) || parser.parseEqual() || parser.parseOperand(lb) ||
      parser.parseKeyword("to") || parser.parseOperand(ub) || parser.parseKeyword("step") ||
      parser.parseOperand(step))
    return failure();
  iv.type = indexType;
  SmallVector<OpAsmParser::Argument> regionArgs{iv};
  SmallVector<OpAsmParser::UnresolvedOperand> inits;
  SMLoc initsLoc = parser.getCurrentLocation();
  if (succeeded(parser.parseOptionalKeyword(initsKeyword))) {
    if (parser.parseAssignmentList(regionArgs, inits) ||
        parser.parseArrowTypeList(result.types))
      return failure();
  }
  if (regionArgs.size() != result.types.size() + 1)
    return parser.emitError(initsLoc) << "expected as many " << what << " as result types ("
                                      << result.types.size() << ")";
  for (auto [arg, type] : llvm::zip(llvm::drop_begin(regionArgs), result.types))
    arg.type = type;
  if (parser.resolveOperand(lb, indexType, result.operands) ||
      parser.resolveOperand(ub, indexType, result.operands) ||
      parser.resolveOperand(step, indexType, result.operands) ||
      parser.resolveOperands(inits, result.types, initsLoc, result.operands))
    return failure();
  Region *body = result.addRegion();
  if (parseStateRegion(parser, *body, regionArgs))
    return failure();
  LoopOp::ensureTerminator(*body, b, result.location);
  return parser.parseOptionalAttrDict(result.attributes);
}

template <typename LoopOp>
static void printCountedLoop(OpAsmPrinter &p, LoopOp op, StringRef initsKeyword,
                             ArrayRef<StringRef> elidedAttrs = {}) {
  p << " " << op.getInductionVar() << " = " << op.getLowerBound() << " to "
    << op.getUpperBound() << " step " << op.getStep();
  if (!op.getInits().empty()) {
    p << " " << initsKeyword << "(";
    llvm::interleaveComma(llvm::zip(op.getRegionIterArgs(), op.getInits()), p,
                          [&](auto it) { p << std::get<0>(it) << " = " << std::get<1>(it); });
    p << ") -> (";
    llvm::interleaveComma(op.getResultTypes(), p);
    p << ")";
  }
  p << " ";
  p.printRegion(op.getBody(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/!op.getInits().empty());
  p.printOptionalAttrDict(op->getAttrs(), elidedAttrs);
}

/// The bounds are fixed before the loop: the body must not write what they read.
static LogicalResult verifyLoopBounds(Operation *loop, ValueRange bounds) {
  for (Value bound : bounds) {
    LogicalResult res = success();
    walkPureSlice(bound, [&](Value x) {
      auto load = x.getDefiningOp<memref::LoadOp>();
      if (succeeded(res) && load && writesMemRef(loop, load.getMemRef()))
        res = loop->emitOpError("loop bounds read a memref that the loop body writes");
    });
    if (failed(res))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ForOp
//===----------------------------------------------------------------------===//

void ForOp::build(OpBuilder &b, OperationState &state, Value lb, Value ub, Value step,
                  ValueRange inits, bool reverse) {
  buildCountedLoop(b, state, lb, ub, step, inits);
  if (reverse)
    state.addAttribute(getReverseAttrName(state.name), b.getUnitAttr());
}

ParseResult ForOp::parse(OpAsmParser &parser, OperationState &result) {
  if (succeeded(parser.parseOptionalKeyword("reverse")))
    result.addAttribute(getReverseAttrName(result.name), parser.getBuilder().getUnitAttr());
  return parseCountedLoop<ForOp>(parser, result, "iter_args", "iter_args");
}

void ForOp::print(OpAsmPrinter &p) {
  if (getReverse())
    p << " reverse";
  printCountedLoop(p, *this, "iter_args", {getReverseAttrName()});
}

LogicalResult ForOp::verifyRegions() {
  if (failed(verifyArgTypes(*this, getBody(), "body", IndexType::get(getContext()),
                            getInits().getTypes())) ||
      failed(verifyYieldTypes(*this, getBody(), "body", getInits().getTypes())))
    return failure();
  return verifyLoopBounds(*this, {getLowerBound(), getUpperBound(), getStep()});
}

SmallVector<OpOperand *> ForOp::getConsumedOperands() {
  return llvm::map_to_vector(getInitsMutable(), [](OpOperand &o) { return &o; });
}

LogicalResult ForOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  Value lb = st.lookup(b, getLowerBound()), ub = st.lookup(b, getUpperBound()),
        step = st.lookup(b, getStep());
  FailureOr<SmallVector<Value>> finals = st.lookupAll(b, getResults());
  if (!lb || !ub || !step || failed(finals))
    return failure();
  auto inv = ForOp::create(b, getLoc(), lb, ub, step, *finals, !getReverse());
  // Rebuild the body from scratch: invertBodyInto creates the block.
  inv.getBody().getBlocks().clear();
  if (failed(st.invertRegionInto(b, getLoc(), getBody(), inv.getBody(), /*numLeading=*/1)))
    return failure();
  bindResults(st, getInits(), inv.getResults());
  return success();
}

//===----------------------------------------------------------------------===//
// ParallelForOp (the independence rules: RevParallel.cpp)
//===----------------------------------------------------------------------===//

void ParallelForOp::build(OpBuilder &b, OperationState &state, Value lb, Value ub, Value step,
                          ValueRange inits) {
  buildCountedLoop(b, state, lb, ub, step, inits);
}

ParseResult ParallelForOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseCountedLoop<ParallelForOp>(parser, result, "reduce", "reduce accumulators");
}

void ParallelForOp::print(OpAsmPrinter &p) { printCountedLoop(p, *this, "reduce"); }

LogicalResult ParallelForOp::verify() {
  // scf.parallel, which it lowers to, requires a positive constant step.
  APInt step;
  if (matchPattern(getStep(), m_ConstantInt(&step)) && !step.isStrictlyPositive())
    return emitOpError() << "step must be positive, got " << step.getSExtValue();
  StringRef strategy = getAccumulateStrategy();
  if (strategy != "atomic" && strategy != "privatize")
    return emitOpError() << "'accumulate' must be \"atomic\" or \"privatize\", not \""
                         << strategy << "\"";
  return success();
}

LogicalResult ParallelForOp::verifyRegions() {
  if (failed(verifyArgTypes(*this, getBody(), "body", IndexType::get(getContext()),
                            getInits().getTypes())) ||
      failed(verifyYieldTypes(*this, getBody(), "body", getInits().getTypes())) ||
      failed(verifyLoopBounds(*this, {getLowerBound(), getUpperBound(), getStep()})))
    return failure();
  return verifyParallelIndependence(*this);
}

SmallVector<OpOperand *> ParallelForOp::getConsumedOperands() {
  return llvm::map_to_vector(getInitsMutable(), [](OpOperand &o) { return &o; });
}

LogicalResult ParallelForOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  Value lb = st.lookup(b, getLowerBound()), ub = st.lookup(b, getUpperBound()),
        step = st.lookup(b, getStep());
  FailureOr<SmallVector<Value>> finals = st.lookupAll(b, getResults());
  if (!lb || !ub || !step || failed(finals))
    return failure();
  // Each iteration subtracts what it added: the accumulators start from the
  // results and end at the inits.
  auto inv = ParallelForOp::create(b, getLoc(), lb, ub, step, *finals);
  inv->setDiscardableAttrs(getOperation()->getDiscardableAttrDictionary());
  inv.setAccumulateAttr(getAccumulateAttr());
  inv.getBody().getBlocks().clear();
  if (failed(st.invertRegionInto(b, getLoc(), getBody(), inv.getBody(), /*numLeading=*/1)))
    return failure();
  bindResults(st, getInits(), inv.getResults());
  return success();
}

//===----------------------------------------------------------------------===//
// IfOp
//===----------------------------------------------------------------------===//

LogicalResult IfOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                     ValueRange operands, DictionaryAttr,
                                     OpaqueProperties, RegionRange,
                                     SmallVectorImpl<Type> &types) {
  return inferSame(operands, types);
}

LogicalResult IfOp::verifyRegions() {
  TypeRange types = getInits().getTypes();
  if (failed(verifyCondRegion(*this, getPre(), "pre", types)) ||
      failed(verifyArgTypes(*this, getThenRegion(), "then", {}, types)) ||
      failed(verifyYieldTypes(*this, getThenRegion(), "then", types)))
    return failure();
  if (hasElse() && (failed(verifyArgTypes(*this, getElseRegion(), "else", {}, types)) ||
                    failed(verifyYieldTypes(*this, getElseRegion(), "else", types))))
    return failure();
  if (hasPost())
    return verifyCondRegion(*this, getPost(), "post", types);
  // Without a post condition, the branches must leave what `pre` reads alone.
  Block &pre = getPre().front();
  auto unchangedBy = [&](Region &branch, unsigned i) {
    return branch.empty() ||
           branch.front().getTerminator()->getOperand(i) == branch.front().getArgument(i);
  };
  for (BlockArgument arg : pre.getArguments()) {
    if (arg.use_empty())
      continue;
    unsigned i = arg.getArgNumber();
    if (!unchangedBy(getThenRegion(), i) || !unchangedBy(getElseRegion(), i))
      return emitOpError() << "has no 'post' condition but its branches change variable #"
                           << i << ", which 'pre' reads: add a post condition";
  }
  for (Operation &op : pre.without_terminator())
    if (auto load = dyn_cast<memref::LoadOp>(op))
      if (writesMemRef(*this, load.getMemRef()))
        return emitOpError("has no 'post' condition but its branches write a memref "
                           "that 'pre' reads: add a post condition");
  return success();
}

SmallVector<OpOperand *> IfOp::getConsumedOperands() {
  return llvm::map_to_vector(getInitsMutable(), [](OpOperand &o) { return &o; });
}

LogicalResult IfOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  FailureOr<SmallVector<Value>> finals = st.lookupAll(b, getResults());
  if (failed(finals))
    return failure();
  // The inverse tests `post` first and `pre` last.
  Region &newPre = hasPost() ? getPost() : getPre();
  IRMapping preMap, postMap;
  if (failed(st.lookupCaptures(b, newPre, preMap)) ||
      (hasPost() && failed(st.lookupCaptures(b, getPre(), postMap))))
    return failure();
  auto inv = IfOp::create(b, getLoc(), *finals);
  newPre.cloneInto(&inv.getPre(), preMap);
  if (hasPost())
    getPre().cloneInto(&inv.getPost(), postMap);
  if (failed(st.invertRegionInto(b, getLoc(), getThenRegion(), inv.getThenRegion(), 0)))
    return failure();
  if (hasElse() &&
      failed(st.invertRegionInto(b, getLoc(), getElseRegion(), inv.getElseRegion(), 0)))
    return failure();
  bindResults(st, getInits(), inv.getResults());
  return success();
}

//===----------------------------------------------------------------------===//
// WhileOp
//===----------------------------------------------------------------------===//

LogicalResult WhileOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                        ValueRange operands, DictionaryAttr,
                                        OpaqueProperties, RegionRange,
                                        SmallVectorImpl<Type> &types) {
  return inferSame(operands, types);
}

LogicalResult WhileOp::verifyRegions() {
  TypeRange types = getInits().getTypes();
  if (failed(verifyCondRegion(*this, getPre(), "pre", types)) ||
      failed(verifyArgTypes(*this, getBody(), "do", {}, types)) ||
      failed(verifyYieldTypes(*this, getBody(), "do", types)) ||
      failed(verifyCondRegion(*this, getPost(), "post", types)))
    return failure();
  return success();
}

SmallVector<OpOperand *> WhileOp::getConsumedOperands() {
  return llvm::map_to_vector(getInitsMutable(), [](OpOperand &o) { return &o; });
}

LogicalResult WhileOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  FailureOr<SmallVector<Value>> finals = st.lookupAll(b, getResults());
  IRMapping preMap, postMap;
  if (failed(finals) || failed(st.lookupCaptures(b, getPost(), preMap)) ||
      failed(st.lookupCaptures(b, getPre(), postMap)))
    return failure();
  auto inv = WhileOp::create(b, getLoc(), *finals);
  getPost().cloneInto(&inv.getPre(), preMap);
  getPre().cloneInto(&inv.getPost(), postMap);
  if (failed(st.invertRegionInto(b, getLoc(), getBody(), inv.getBody(), 0)))
    return failure();
  bindResults(st, getInits(), inv.getResults());
  return success();
}

//===----------------------------------------------------------------------===//
// RoutineOp
//===----------------------------------------------------------------------===//

LogicalResult RoutineOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                          ValueRange operands, DictionaryAttr,
                                          OpaqueProperties, RegionRange,
                                          SmallVectorImpl<Type> &types) {
  return inferSame(operands, types);
}

LogicalResult RoutineOp::verifyRegions() {
  if (failed(verifyArgTypes(*this, getCompute(), "compute", {}, getInits().getTypes())))
    return failure();
  auto yield = dyn_cast<YieldOp>(getCompute().front().getTerminator());
  if (!yield)
    return emitOpError("'compute' region must end with rev.yield");
  TypeRange mid = yield.getOperandTypes();
  if (failed(verifyArgTypes(*this, getBody(), "body", {}, mid)) ||
      failed(verifyYieldTypes(*this, getBody(), "body", mid)))
    return failure();
  return success();
}

SmallVector<OpOperand *> RoutineOp::getConsumedOperands() {
  return llvm::map_to_vector(getInitsMutable(), [](OpOperand &o) { return &o; });
}

LogicalResult RoutineOp::buildInverse(OpBuilder &b, InverseBuilder &st) {
  FailureOr<SmallVector<Value>> finals = st.lookupAll(b, getResults());
  IRMapping computeMap;
  if (failed(finals) || failed(st.lookupCaptures(b, getCompute(), computeMap)))
    return failure();
  auto inv = RoutineOp::create(b, getLoc(), *finals);
  getCompute().cloneInto(&inv.getCompute(), computeMap);
  if (failed(st.invertRegionInto(b, getLoc(), getBody(), inv.getBody(), 0)))
    return failure();
  bindResults(st, getInits(), inv.getResults());
  return success();
}

#define GET_OP_CLASSES
#include "dialect/RevOps.cpp.inc"
