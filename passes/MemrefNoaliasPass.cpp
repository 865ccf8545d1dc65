//===- MemrefNoaliasPass.cpp - --rev-memref-noalias -----------------------===//
//
// `llvm.noalias` on the allocated and aligned pointers of the memref
// arguments of lowered rev functions, at the positions --lower-rev recorded
// (conversion/LowerRev.h: kNoaliasPtrArgsAttr), after --convert-func-to-llvm
// has expanded each memref argument into its descriptor's fields.
//
// The same facts as scoped alias metadata on the function's loads, stores
// and atomics: one alias scope per memref argument (its two pointers), each
// access whose address is a GEP of one of them (through the descriptor's
// insertvalue/extractvalue) in that scope and `noalias` with the others, and
// the private variables of OpenMP reductions in a scope of their own.
// Argument attributes are lost when OpenMP outlines a parallel region into a
// function of its own (the pointers reach it through a struct); metadata on
// the instructions moves with them, so the outlined loop body keeps loaded
// inputs in registers across the stores to the shadows, as the sequential
// one does.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "conversion/LowerRev.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVMEMREFNOALIAS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
/// `v` through the unrealized casts that the conversions leave until
/// --reconcile-unrealized-casts (a descriptor cast to a memref and back).
Value throughCast(Value v) {
  while (auto cast = v.getDefiningOp<UnrealizedConversionCastOp>()) {
    if (cast->getNumOperands() != 1)
      break;
    v = cast->getOperand(0);
  }
  return v;
}

/// The pointer `p` is computed from: through GEPs and a descriptor's
/// extractvalue of the field an insertvalue put there.
Value pointerBase(Value p) {
  for (unsigned depth = 0; depth < 64; ++depth) {
    if (auto gep = p.getDefiningOp<LLVM::GEPOp>()) {
      p = gep.getBase();
      continue;
    }
    if (Value v = throughCast(p); v != p) {
      p = v;
      continue;
    }
    auto ev = p.getDefiningOp<LLVM::ExtractValueOp>();
    if (!ev)
      return p;
    Value agg = throughCast(ev.getContainer());
    Value found;
    while (auto iv = agg.getDefiningOp<LLVM::InsertValueOp>()) {
      if (iv.getPosition() == ev.getPosition()) {
        found = iv.getValue();
        break;
      }
      agg = throughCast(iv.getContainer());
    }
    if (!found)
      return Value();
    p = found;
  }
  return Value();
}

/// Scoped noalias metadata on the accesses of `f` (see the file comment).
/// `ptrs`: the pointer arguments, the two of a memref adjacent.
void addAliasScopes(LLVM::LLVMFuncOp f, ArrayRef<int64_t> ptrs) {
  MLIRContext *ctx = f.getContext();
  auto domain = LLVM::AliasScopeDomainAttr::get(
      ctx, StringAttr::get(ctx, "rev memref arguments of " + f.getName().str()));
  SmallVector<Attribute> scopes;
  llvm::DenseMap<Value, unsigned> scopeOf;
  for (size_t k = 0; k < ptrs.size(); ++k) {
    bool pairedWithPrevious = k > 0 && ptrs[k] == ptrs[k - 1] + 1 && k % 2 == 1;
    if (!pairedWithPrevious)
      scopes.push_back(LLVM::AliasScopeAttr::get(
          domain, StringAttr::get(ctx, "argument " + std::to_string(ptrs[k]))));
    scopeOf[f.getArgument(ptrs[k])] = scopes.size() - 1;
  }
  // OpenMP reduction variables (thread-private storage).
  unsigned privateScope = scopes.size();
  bool hasPrivate = false;
  f.walk([&](omp::WsloopOp loop) {
    for (Value v : loop.getRegion().getArguments())
      if (isa<LLVM::LLVMPointerType>(v.getType())) {
        scopeOf[v] = privateScope;
        hasPrivate = true;
      }
  });
  if (hasPrivate)
    scopes.push_back(LLVM::AliasScopeAttr::get(domain, StringAttr::get(ctx, "reduction")));
  if (scopes.size() < 2)
    return;
  SmallVector<ArrayAttr> in, notIn;
  for (unsigned s = 0; s < scopes.size(); ++s) {
    in.push_back(ArrayAttr::get(ctx, {scopes[s]}));
    SmallVector<Attribute> others;
    for (unsigned t = 0; t < scopes.size(); ++t)
      if (t != s)
        others.push_back(scopes[t]);
    notIn.push_back(ArrayAttr::get(ctx, others));
  }
  f.walk([&](Operation *op) {
    Value addr;
    if (auto load = dyn_cast<LLVM::LoadOp>(op))
      addr = load.getAddr();
    else if (auto store = dyn_cast<LLVM::StoreOp>(op))
      addr = store.getAddr();
    else if (auto rmw = dyn_cast<LLVM::AtomicRMWOp>(op))
      addr = rmw.getPtr();
    else
      return;
    Value base = pointerBase(addr);
    auto it = base ? scopeOf.find(base) : scopeOf.end();
    if (it == scopeOf.end())
      return;
    auto iface = cast<LLVM::AliasAnalysisOpInterface>(op);
    iface.setAliasScopes(in[it->second]);
    iface.setNoAliasScopes(notIn[it->second]);
  });
}

struct MemrefNoaliasPass : public rev::impl::RevMemrefNoaliasBase<MemrefNoaliasPass> {
  using RevMemrefNoaliasBase::RevMemrefNoaliasBase;

  void runOnOperation() override {
    // The generic allocation functions (rev-to-llvm{pooled-alloc}) return
    // fresh memory, as malloc does (LLVM knows that of malloc by name): say so,
    // so that LLVM does not assume a loop's tapes alias each other or the
    // arguments.
    getOperation()->walk([](LLVM::LLVMFuncOp f) {
      if (f.isExternal() && f.getNumResults() == 1 &&
          (f.getSymName() == "_mlir_memref_to_llvm_alloc" ||
           f.getSymName() == "_mlir_memref_to_llvm_aligned_alloc"))
        f.setResultAttr(0, LLVM::LLVMDialect::getNoAliasAttrName(),
                        UnitAttr::get(f.getContext()));
    });
    // The C wrappers of functions with a preferred vector width stay out of
    // line (see the pass description).
    getOperation()->walk([](LLVM::LLVMFuncOp f) {
      ArrayAttr pass = f.getPassthroughAttr();
      if (!pass || !f.getSymName().starts_with("_mlir_ciface_") || f.isExternal())
        return;
      bool width = false, noinline = false;
      for (Attribute a : pass) {
        width |= passthroughKey(a) == kPreferVectorWidthKey;
        noinline |= passthroughKey(a) == "noinline";
      }
      if (!width || noinline)
        return;
      SmallVector<Attribute> entries(pass.begin(), pass.end());
      entries.push_back(StringAttr::get(f.getContext(), "noinline"));
      f.setPassthroughAttr(ArrayAttr::get(f.getContext(), entries));
    });
    getOperation()->walk([](Operation *op) {
      auto ptrs = op->getAttrOfType<DenseI64ArrayAttr>(kNoaliasPtrArgsAttr);
      auto count = op->getAttrOfType<IntegerAttr>(kNoaliasArgCountAttr);
      op->removeAttr(kNoaliasPtrArgsAttr);
      op->removeAttr(kNoaliasArgCountAttr);
      auto f = dyn_cast<LLVM::LLVMFuncOp>(op);
      // The C wrapper (_mlir_ciface_f) gets f's attributes too, not its
      // signature: the count tells them apart, with the pointer types.
      if (!f || !ptrs || !count || f.isExternal() ||
          static_cast<int64_t>(f.getNumArguments()) != count.getInt())
        return;
      for (int64_t i : ptrs.asArrayRef())
        if (i < 0 || i >= count.getInt() ||
            !isa<LLVM::LLVMPointerType>(f.getArgument(i).getType()))
          return;
      UnitAttr unit = UnitAttr::get(f.getContext());
      for (int64_t i : ptrs.asArrayRef())
        f.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(), unit);
      addAliasScopes(f, ptrs.asArrayRef());
    });
  }
};
} // namespace
