//===- RevToStd.cpp - --convert-rev-to-std --------------------------------===//
//
// Lowers rev to func/arith/math/scf/cf/memref in three steps:
//  1. every rev.uncall @f becomes a rev.call of @f's inverse (generated with
//     the inversion machinery when the module has none);
//  2. every rev.routine is expanded in place: compute, body, then the
//     inverse of compute;
//  3. every remaining rev op is rewritten, innermost first, to std ops.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialect/Derivatives.h"
#include "dialect/Inversion.h"
#include "dialect/RevOps.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::rev {
#define GEN_PASS_DEF_CONVERTREVTOSTD
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {

std::string describe(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << op->getName() << " at ";
  op->getLoc().print(os);
  return s;
}

class Lowering {
public:
  Lowering(bool checks, double atol) : checks(checks), atol(atol) {}

  LogicalResult run(ModuleOp module);

private:
  bool checks;
  double atol;

  LogicalResult replaceUncalls(ModuleOp module);
  LogicalResult expandRoutines(ModuleOp module);
  LogicalResult lowerOp(Operation *op);

  /// Checked mode: if `cond` is false at run time, print "rev: <what> (<op>
  /// at <loc>)" on stderr (unbuffered, through write(2)) and exit(1), which
  /// flushes what the program printed before.
  void check(OpBuilder &b, Location loc, Value cond, Operation *op, StringRef what);
  FailureOr<func::FuncOp> declare(StringRef name, FunctionType type);
  ModuleOp module;
  /// C library functions the checks call (declared once, in checked mode).
  func::FuncOp writeFn, exitFn;
  unsigned numMessages = 0;
  void checkNonZero(OpBuilder &b, Location loc, Value d, Operation *op, StringRef what);
  void checkNoAlias(OpBuilder &b, Operation *op, Value ref, ValueRange indices);
  /// The loads in the pure slices of each *_at op's delta/angle, collected
  /// before anything is lowered (lowering turns variable updates into pure
  /// arith ops, which would wrongly extend the slices).
  llvm::DenseMap<Operation *, SmallVector<memref::LoadOp>> sliceLoads;
  Value anyDiffer(OpBuilder &b, Location loc, ValueRange a, ValueRange c);
  void checkShadowShapes(FuncOp f);
};

//===----------------------------------------------------------------------===//
// Steps 1 and 2
//===----------------------------------------------------------------------===//

LogicalResult Lowering::replaceUncalls(ModuleOp module) {
  for (bool changed = true; changed;) {
    changed = false;
    SmallVector<UncallOp> uncalls;
    module.walk([&](UncallOp u) { uncalls.push_back(u); });
    for (UncallOp u : uncalls) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<FuncOp>(u, u.getCalleeAttr());
      if (!callee)
        return u.emitOpError("callee is not a rev.func");
      FailureOr<FuncOp> inv = getOrCreateInverseFunction(callee);
      if (failed(inv))
        return u.emitOpError() << "cannot build the inverse of " << u.getCalleeAttr();
      OpBuilder b(u);
      auto call = CallOp::create(b, u.getLoc(), u.getResultTypes(),
                                 FlatSymbolRefAttr::get(inv->getSymNameAttr()),
                                 u.getOperands());
      u.replaceAllUsesWith(call.getResults());
      u.erase();
      changed = true;
    }
  }
  return success();
}

/// Clones the non-terminator ops of `src` at `b` with its arguments mapped
/// to `args`; returns the mapped terminator operands.
SmallVector<Value> inlineClone(OpBuilder &b, Block &src, ValueRange args,
                               IRMapping &mapping) {
  for (auto [a, v] : llvm::zip(src.getArguments(), args))
    mapping.map(a, v);
  for (Operation &op : src.without_terminator())
    b.clone(op, mapping);
  return llvm::map_to_vector(src.getTerminator()->getOperands(),
                             [&](Value v) { return mapping.lookupOrDefault(v); });
}

SmallVector<Value> inlineClone(OpBuilder &b, Block &src, ValueRange args) {
  IRMapping mapping;
  return inlineClone(b, src, args, mapping);
}

LogicalResult Lowering::expandRoutines(ModuleOp module) {
  while (true) {
    SmallVector<RoutineOp> routines;
    module.walk([&](RoutineOp r) { routines.push_back(r); }); // innermost first
    if (routines.empty())
      return success();
    for (RoutineOp r : routines) {
      OpBuilder b(r);
      Block &compute = r.getCompute().front();
      SmallVector<Value> mid = inlineClone(b, compute, r.getInits());
      SmallVector<Value> after = inlineClone(b, r.getBody().front(), mid);
      // Uncompute: the inverse of `compute`, from the state after `body`.
      InversionState st(&r.getCompute());
      // A compute region with rev.discard is the inverse of a backward sweep
      // (RoutineOp::buildAdjoint): inverting it gives that sweep back, where
      // each discarded adjoint is a fresh zero (only derivative functions may
      // hold discards, see DiscardOp::verify).
      st.allowDiscard = true;
      FailureOr<SmallVector<Value>> restored =
          st.invertBlock(b, compute, after, compute.getArguments());
      if (failed(restored))
        return r.emitOpError("cannot build the uncompute step of this routine");
      r.replaceAllUsesWith(*restored);
      r.erase();
    }
  }
}

//===----------------------------------------------------------------------===//
// Checked mode
//===----------------------------------------------------------------------===//

FailureOr<func::FuncOp> Lowering::declare(StringRef name, FunctionType type) {
  if (Operation *existing = SymbolTable::lookupSymbolIn(module, name)) {
    auto f = dyn_cast<func::FuncOp>(existing);
    if (!f || f.getFunctionType() != type)
      return existing->emitOpError() << "symbol @" << name
                                     << " is reserved by checked mode (C library " << name
                                     << type << ")";
    return f;
  }
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto f = func::FuncOp::create(b, module.getLoc(), name, type);
  f.setPrivate();
  return f;
}

void Lowering::check(OpBuilder &b, Location loc, Value cond, Operation *op, StringRef what) {
  std::string text = ("rev: " + what + " (" + describe(op) + ")\n").str();
  Type i8 = b.getI8Type(), i64 = b.getI64Type();
  // The message as a private constant global.
  auto type = MemRefType::get({static_cast<int64_t>(text.size())}, i8);
  auto data = DenseElementsAttr::get(RankedTensorType::get(type.getShape(), i8),
                                     llvm::ArrayRef<char>(text.data(), text.size()));
  std::string name = "__rev_check_msg_" + std::to_string(numMessages++);
  {
    OpBuilder gb = OpBuilder::atBlockBegin(module.getBody());
    memref::GlobalOp::create(gb, loc, name, gb.getStringAttr("private"), type, data,
                             /*constant=*/true, /*alignment=*/IntegerAttr());
  }
  Value one = arith::ConstantIntOp::create(b, loc, 1, 1);
  Value failedCond = arith::XOrIOp::create(b, loc, cond, one);
  scf::IfOp::create(b, loc, failedCond, [&](OpBuilder &nb, Location nloc) {
    Value msg = memref::GetGlobalOp::create(nb, nloc, type, name);
    Value ptr = memref::ExtractAlignedPointerAsIndexOp::create(nb, nloc, msg);
    Value ptr64 = arith::IndexCastOp::create(nb, nloc, i64, ptr);
    Value fd = arith::ConstantIntOp::create(nb, nloc, 2, 32);
    Value len = arith::ConstantIntOp::create(nb, nloc, text.size(), 64);
    func::CallOp::create(nb, nloc, writeFn, ValueRange{fd, ptr64, len});
    Value code = arith::ConstantIntOp::create(nb, nloc, 1, 32);
    func::CallOp::create(nb, nloc, exitFn, ValueRange{code});
    scf::YieldOp::create(nb, nloc);
  });
}

//===----------------------------------------------------------------------===//
// Step 3: op by op
//===----------------------------------------------------------------------===//

bool isFloat(Type t) { return isa<FloatType>(t); }

Value anyDifferImpl(OpBuilder &b, Location loc, ValueRange a, ValueRange c) {
  Value acc;
  for (auto [x, y] : llvm::zip(a, c)) {
    Value ne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x, y);
    acc = acc ? arith::OrIOp::create(b, loc, acc, ne).getResult() : ne;
  }
  return acc;
}

/// A derivative function's shadow memrefs must have their memrefs' shapes
/// (a shorter shadow would be read out of bounds).
void Lowering::checkShadowShapes(FuncOp f) {
  FuncOp primal = differentiatedFunction(f);
  if (!primal || f.getBody().empty())
    return;
  Block &entry = f.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  Location loc = f.getLoc();
  SmallVector<int> pos = derivativeArgPositions(primal.getArgumentTypes());
  for (auto [i, t] : llvm::enumerate(primal.getArgumentTypes())) {
    if (!isActiveMemRef(t))
      continue;
    auto type = cast<MemRefType>(t);
    Value a = entry.getArgument(i), s = entry.getArgument(pos[i]);
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d))
        continue;
      Value di = arith::ConstantIndexOp::create(b, loc, d);
      Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       memref::DimOp::create(b, loc, a, di),
                                       memref::DimOp::create(b, loc, s, di));
      check(b, loc, ok, f,
            ("the shadow of memref argument #" + Twine(i) + " has a different size in "
             "dimension " + Twine(d))
                .str());
    }
  }
}

Value Lowering::anyDiffer(OpBuilder &b, Location loc, ValueRange a, ValueRange c) {
  if (Value v = anyDifferImpl(b, loc, a, c))
    return v;
  return arith::ConstantIntOp::create(b, loc, /*value=*/0, /*width=*/1);
}

void Lowering::checkNonZero(OpBuilder &b, Location loc, Value d, Operation *op,
                            StringRef what) {
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(d.getType()));
  Value ok = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, d, zero);
  check(b, loc, ok, op, what);
}

/// Same-element aliasing: every load of `ref` in the pure slices of `deltas`
/// must read another element than `indices`.
void Lowering::checkNoAlias(OpBuilder &b, Operation *op, Value ref, ValueRange indices) {
  for (memref::LoadOp load : sliceLoads.lookup(op)) {
    if (load.getMemRef() != ref)
      continue;
    check(b, op->getLoc(), anyDiffer(b, op->getLoc(), indices, load.getIndices()), op,
          "element aliasing: the delta reads the element being updated");
  }
}

Value arithBinary(OpBuilder &b, Location loc, Operation *op, Value y, Value d) {
  bool f = isFloat(y.getType());
  return TypeSwitch<Operation *, Value>(op)
      .Case<AddOp, AddAtOp>([&](auto) -> Value {
        return f ? arith::AddFOp::create(b, loc, y, d).getResult()
                 : arith::AddIOp::create(b, loc, y, d).getResult();
      })
      .Case<SubOp, SubAtOp>([&](auto) -> Value {
        return f ? arith::SubFOp::create(b, loc, y, d).getResult()
                 : arith::SubIOp::create(b, loc, y, d).getResult();
      })
      .Case<XorOp, XorAtOp>([&](auto) { return arith::XOrIOp::create(b, loc, y, d); })
      .Case<MulOp, MulAtOp>([&](auto) { return arith::MulFOp::create(b, loc, y, d); })
      .Case<DivOp, DivAtOp>([&](auto) { return arith::DivFOp::create(b, loc, y, d); })
      .Default([](Operation *) { return Value(); });
}

Value negate(OpBuilder &b, Location loc, Value y) {
  if (isFloat(y.getType()))
    return arith::NegFOp::create(b, loc, y);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(y.getType()));
  return arith::SubIOp::create(b, loc, zero, y);
}

/// (a, b) rotated by theta; `inverse` rotates by -theta.
std::pair<Value, Value> rotate(OpBuilder &b, Location loc, Value x, Value y, Value theta,
                               bool inverse) {
  Value c = math::CosOp::create(b, loc, theta), s = math::SinOp::create(b, loc, theta);
  Value xc = arith::MulFOp::create(b, loc, x, c), xs = arith::MulFOp::create(b, loc, x, s);
  Value yc = arith::MulFOp::create(b, loc, y, c), ys = arith::MulFOp::create(b, loc, y, s);
  if (!inverse)
    return {arith::SubFOp::create(b, loc, xc, ys), arith::AddFOp::create(b, loc, xs, yc)};
  return {arith::AddFOp::create(b, loc, xc, ys), arith::SubFOp::create(b, loc, yc, xs)};
}

LogicalResult Lowering::lowerOp(Operation *op) {
  OpBuilder b(op);
  Location loc = op->getLoc();
  auto replace = [&](ValueRange values) {
    op->replaceAllUsesWith(values);
    op->erase();
    return success();
  };

  if (isa<AddOp, SubOp, XorOp, MulOp, DivOp>(op)) {
    Value y = op->getOperand(0), d = op->getOperand(1);
    if (checks && isa<MulOp>(op))
      checkNonZero(b, loc, d, op, "zero multiplier: y *= 0 is not reversible");
    if (checks && isa<DivOp>(op))
      checkNonZero(b, loc, d, op, "zero divisor");
    return replace(arithBinary(b, loc, op, y, d));
  }
  if (auto neg = dyn_cast<NegOp>(op))
    return replace(negate(b, loc, neg.getTarget()));
  if (auto swap = dyn_cast<SwapOp>(op))
    return replace({swap.getRhs(), swap.getLhs()});
  if (isa<RotOp, IRotOp>(op)) {
    auto [x, y] = rotate(b, loc, op->getOperand(0), op->getOperand(1), op->getOperand(2),
                         isa<IRotOp>(op));
    return replace({x, y});
  }
  if (isa<AddAtOp, SubAtOp, XorAtOp, MulAtOp, DivAtOp>(op)) {
    Value ref = op->getOperand(0), d = op->getOperands().back();
    ValueRange idx = op->getOperands().drop_front().drop_back();
    if (checks) {
      if (isa<MulAtOp>(op))
        checkNonZero(b, loc, d, op, "zero multiplier: A[i] *= 0 is not reversible");
      if (isa<DivAtOp>(op))
        checkNonZero(b, loc, d, op, "zero divisor");
      checkNoAlias(b, op, ref, idx);
    }
    Value y = memref::LoadOp::create(b, loc, ref, idx);
    memref::StoreOp::create(b, loc, arithBinary(b, loc, op, y, d), ref, idx);
    return replace({});
  }
  if (auto neg = dyn_cast<NegAtOp>(op)) {
    Value y = memref::LoadOp::create(b, loc, neg.getRef(), neg.getIndices());
    memref::StoreOp::create(b, loc, negate(b, loc, y), neg.getRef(), neg.getIndices());
    return replace({});
  }
  if (auto swap = dyn_cast<SwapAtOp>(op)) {
    Value l = memref::LoadOp::create(b, loc, swap.getLhs(), swap.getLhsIndices());
    Value r = memref::LoadOp::create(b, loc, swap.getRhs(), swap.getRhsIndices());
    memref::StoreOp::create(b, loc, r, swap.getLhs(), swap.getLhsIndices());
    memref::StoreOp::create(b, loc, l, swap.getRhs(), swap.getRhsIndices());
    return replace({});
  }
  if (isa<RotAtOp, IRotAtOp>(op)) {
    auto lhs = op->getOperand(0);
    auto rot = dyn_cast<RotAtOp>(op);
    auto irot = dyn_cast<IRotAtOp>(op);
    Value rhs = rot ? rot.getRhs() : irot.getRhs();
    ValueRange li = rot ? rot.getLhsIndices() : irot.getLhsIndices();
    ValueRange ri = rot ? rot.getRhsIndices() : irot.getRhsIndices();
    Value theta = rot ? rot.getTheta() : irot.getTheta();
    if (checks) {
      if (lhs == rhs)
        check(b, loc, anyDiffer(b, loc, li, ri), op,
              "element aliasing: both rotated elements are the same");
      checkNoAlias(b, op, lhs, li);
      checkNoAlias(b, op, rhs, ri);
    }
    Value x = memref::LoadOp::create(b, loc, lhs, li);
    Value y = memref::LoadOp::create(b, loc, rhs, ri);
    auto [nx, ny] = rotate(b, loc, x, y, theta, bool(irot));
    memref::StoreOp::create(b, loc, nx, lhs, li);
    memref::StoreOp::create(b, loc, ny, rhs, ri);
    return replace({});
  }
  if (auto alloc = dyn_cast<AllocOp>(op))
    return replace(arith::ConstantOp::create(b, loc, alloc.getInitValue()).getResult());
  if (isa<DiscardOp>(op)) // an ancilla's adjoint, dropped unchecked
    return replace({});
  if (auto free = dyn_cast<FreeOp>(op)) {
    if (checks) {
      Value v = free.getTarget();
      Value init = arith::ConstantOp::create(b, loc, free.getInitValue());
      Value ok;
      if (isFloat(v.getType())) {
        Value diff = arith::SubFOp::create(b, loc, v, init);
        Value mag = math::AbsFOp::create(b, loc, diff);
        Value tol = arith::ConstantOp::create(b, loc, b.getFloatAttr(v.getType(), atol));
        ok = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, mag, tol);
      } else {
        ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v, init);
      }
      check(b, loc, ok, op, "ancilla not restored to its initial value");
    }
    return replace({});
  }
  if (auto call = dyn_cast<CallOp>(op))
    return replace(func::CallOp::create(b, loc, call.getCalleeAttr(), call.getResultTypes(),
                                        call.getOperands())
                       .getResults());

  if (auto loop = dyn_cast<ForOp>(op)) {
    Value lb = loop.getLowerBound(), ub = loop.getUpperBound(), step = loop.getStep();
    if (checks) {
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      check(b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, step, zero), op,
            "loop step must be positive");
    }
    Value sum;
    if (loop.getReverse()) {
      // Visit lb + last - k for k = lb, lb+s, ...: last = lb + ((ub-lb-1)/s)*s.
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      Value span = arith::SubIOp::create(b, loc, arith::SubIOp::create(b, loc, ub, lb), one);
      Value trips = arith::DivSIOp::create(b, loc, span, step);
      Value last = arith::AddIOp::create(b, loc, lb, arith::MulIOp::create(b, loc, trips, step));
      sum = arith::AddIOp::create(b, loc, lb, last);
    }
    auto sf = scf::ForOp::create(
        b, loc, lb, ub, step, loop.getInits(),
        [&](OpBuilder &nb, Location nloc, Value k, ValueRange iters) {
          Value iv = sum ? arith::SubIOp::create(nb, nloc, sum, k).getResult() : k;
          SmallVector<Value> args{iv};
          llvm::append_range(args, iters);
          scf::YieldOp::create(nb, nloc, inlineClone(nb, *loop.getBodyBlock(), args));
        });
    return replace(sf.getResults());
  }
  if (auto ifOp = dyn_cast<IfOp>(op)) {
    ValueRange inits = ifOp.getInits();
    Value pre = inlineClone(b, ifOp.getPre().front(), inits).front();
    auto branch = [&](Region &region) {
      return [&](OpBuilder &nb, Location nloc) {
        SmallVector<Value> out = region.empty()
                                     ? SmallVector<Value>(inits.begin(), inits.end())
                                     : inlineClone(nb, region.front(), inits);
        scf::YieldOp::create(nb, nloc, out);
      };
    };
    auto sif = scf::IfOp::create(b, loc, pre,
                                 branch(ifOp.getThenRegion()), branch(ifOp.getElseRegion()));
    if (checks) {
      Region &postRegion = ifOp.hasPost() ? ifOp.getPost() : ifOp.getPre();
      Value post = inlineClone(b, postRegion.front(), sif.getResults()).front();
      Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, pre, post);
      check(b, loc, same, op, "post-condition disagrees with pre-condition");
    }
    return replace(sif.getResults());
  }
  if (auto loop = dyn_cast<WhileOp>(op)) {
    if (checks) {
      Value post = inlineClone(b, loop.getPost().front(), loop.getInits()).front();
      Value one = arith::ConstantIntOp::create(b, loc, 1, 1);
      check(b, loc, arith::XOrIOp::create(b, loc, post, one), op,
            "post-condition holds on entry");
    }
    auto sw = scf::WhileOp::create(
        b, loc, loop.getResultTypes(), loop.getInits(),
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value c = inlineClone(nb, loop.getPre().front(), args).front();
          scf::ConditionOp::create(nb, nloc, c, args);
        },
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          SmallVector<Value> next = inlineClone(nb, loop.getBody().front(), args);
          if (checks) {
            Value post = inlineClone(nb, loop.getPost().front(), next).front();
            check(nb, nloc, post, op, "post-condition false after an iteration");
          }
          scf::YieldOp::create(nb, nloc, next);
        });
    return replace(sw.getResults());
  }
  return op->emitOpError("unexpected op in convert-rev-to-std");
}

LogicalResult Lowering::run(ModuleOp m) {
  module = m;
  // Derivative functions always check their shadows' shapes (cheap, and a
  // wrong shadow would otherwise be read out of bounds): they need the
  // run-time reporting even without checked mode.
  bool derivatives = llvm::any_of(
      m.getOps<FuncOp>(), [](FuncOp f) { return bool(differentiatedFunction(f)); });
  if (checks || derivatives) {
    MLIRContext *ctx = m.getContext();
    Type i32 = IntegerType::get(ctx, 32), i64 = IntegerType::get(ctx, 64);
    FailureOr<func::FuncOp> write =
        declare("write", FunctionType::get(ctx, {i32, i64, i64}, {i64}));
    FailureOr<func::FuncOp> exitDecl = declare("exit", FunctionType::get(ctx, {i32}, {}));
    if (failed(write) || failed(exitDecl))
      return failure();
    writeFn = *write;
    exitFn = *exitDecl;
  }
  // Expanding a routine may create uncalls (the uncompute of a call), and a
  // generated inverse function may hold routines: iterate to a fixpoint.
  auto count = [&] {
    unsigned n = 0;
    module.walk([&](Operation *op) { n += isa<RoutineOp, UncallOp>(op); });
    return n;
  };
  while (count() > 0)
    if (failed(expandRoutines(module)) || failed(replaceUncalls(module)))
      return failure();

  SmallVector<Operation *> ops;
  module.walk([&](Operation *op) {
    if (isa<RevDialect>(op->getDialect()) && !isa<FuncOp, ReturnOp, YieldOp, CondOp>(op))
      ops.push_back(op);
  });
  for (FuncOp f : module.getOps<FuncOp>())
    checkShadowShapes(f);
  if (checks)
    for (Operation *op : ops) {
      Value read;
      if (isa<AddAtOp, SubAtOp, XorAtOp, MulAtOp, DivAtOp>(op))
        read = op->getOperands().back();
      else if (auto rot = dyn_cast<RotAtOp>(op))
        read = rot.getTheta();
      else if (auto irot = dyn_cast<IRotAtOp>(op))
        read = irot.getTheta();
      if (!read)
        continue;
      llvm::SetVector<Operation *> loads;
      walkPureSlice(read, [&](Value x) {
        if (auto load = x.getDefiningOp<memref::LoadOp>())
          loads.insert(load);
      });
      for (Operation *l : loads)
        sliceLoads[op].push_back(cast<memref::LoadOp>(l));
    }
  for (Operation *op : ops)
    if (failed(lowerOp(op)))
      return failure();

  SmallVector<FuncOp> funcs(module.getOps<FuncOp>());
  for (FuncOp f : funcs) {
    OpBuilder b(f);
    auto nf = func::FuncOp::create(b, f.getLoc(), f.getSymName(), f.getFunctionType());
    if (auto vis = f.getSymVisibilityAttr())
      nf.setSymVisibilityAttr(vis);
    nf->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    nf.getBody().takeBody(f.getBody());
    for (Block &block : nf.getBody()) {
      if (auto ret = dyn_cast<ReturnOp>(block.getTerminator())) {
        OpBuilder rb(ret);
        func::ReturnOp::create(rb, ret.getLoc(), ret.getOperands());
        ret.erase();
      }
    }
    f.erase();
  }
  WalkResult leftover = module.walk([](Operation *op) {
    if (isa<RevDialect>(op->getDialect())) {
      op->emitOpError("could not be lowered by convert-rev-to-std");
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(leftover.wasInterrupted());
}

struct ConvertRevToStdPass : public rev::impl::ConvertRevToStdBase<ConvertRevToStdPass> {
  using ConvertRevToStdBase::ConvertRevToStdBase;
  void runOnOperation() override {
    if (failed(Lowering(checks, atol).run(getOperation())))
      signalPassFailure();
  }
};
} // namespace
