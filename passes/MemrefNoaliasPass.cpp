//===- MemrefNoaliasPass.cpp - --rev-memref-noalias -----------------------===//
//
// `llvm.noalias` on the allocated and aligned pointers of the memref
// arguments of lowered rev functions, at the positions --lower-rev recorded
// (conversion/LowerRev.h: kNoaliasPtrArgsAttr), after --convert-func-to-llvm
// has expanded each memref argument into its descriptor's fields.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "conversion/LowerRev.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::rev {
#define GEN_PASS_DEF_REVMEMREFNOALIAS
#include "passes/Passes.h.inc"
} // namespace mlir::rev

using namespace mlir;
using namespace mlir::rev;

namespace {
struct MemrefNoaliasPass : public rev::impl::RevMemrefNoaliasBase<MemrefNoaliasPass> {
  using RevMemrefNoaliasBase::RevMemrefNoaliasBase;

  void runOnOperation() override {
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
    });
  }
};
} // namespace
