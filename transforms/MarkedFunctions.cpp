//===- MarkedFunctions.cpp - generated functions and where they are -------===//
#include "transforms/MarkedFunctions.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::rev;

FuncOp mlir::rev::findMarkedFunction(FuncOp func, StringRef attr) {
  // Only the functions of func's own symbol table: a nested module's @f is
  // another function.
  Operation *table = SymbolTable::getNearestSymbolTable(func);
  for (Block &block : table->getRegion(0))
    for (FuncOp candidate : block.getOps<FuncOp>()) {
      auto of = candidate->getAttrOfType<FlatSymbolRefAttr>(attr);
      if (of && of.getValue() == func.getSymName())
        return candidate;
    }
  return {};
}

std::string mlir::rev::uniqueSymbolName(FuncOp func, const Twine &base) {
  Operation *table = SymbolTable::getNearestSymbolTable(func);
  std::string name = base.str();
  for (unsigned i = 0; SymbolTable::lookupSymbolIn(table, name); ++i)
    name = (base + "_" + Twine(i)).str();
  return name;
}

FuncOp mlir::rev::createMarkedFunction(FuncOp func, StringRef name, FunctionType type,
                                       StringRef attr) {
  OpBuilder b(func);
  b.setInsertionPointAfter(func);
  auto out = FuncOp::create(b, func.getLoc(), name, type);
  out->setAttr(attr, FlatSymbolRefAttr::get(func.getSymNameAttr()));
  if (auto vis = func.getSymVisibilityAttr())
    out.setSymVisibilityAttr(vis);
  Block *block = new Block();
  out.getBody().push_back(block);
  for (auto [i, t] : llvm::enumerate(type.getInputs()))
    block->addArgument(t, i < func.getNumArguments() ? func.getArgument(i).getLoc()
                                                      : func.getLoc());
  return out;
}

SmallVector<FuncOp> mlir::rev::collectRevFuncs(Operation *root) {
  SmallVector<FuncOp> out;
  // rev.func is isolated from above and holds no symbol table: no rev.func
  // nests in another, and the walk sees every symbol table's functions.
  root->walk([&](FuncOp f) { out.push_back(f); });
  return out;
}

FailureOr<SmallVector<FuncOp>>
mlir::rev::selectRevFuncs(Operation *root, ArrayRef<std::string> names, StringRef passName,
                          function_ref<bool(FuncOp)> byDefault) {
  SmallVector<FuncOp> all = collectRevFuncs(root);
  if (names.empty()) {
    SmallVector<FuncOp> selected;
    for (FuncOp f : all)
      if (byDefault(f))
        selected.push_back(f);
    return selected;
  }
  SmallVector<FuncOp> selected;
  for (const std::string &name : names) {
    size_t before = selected.size();
    for (FuncOp f : all)
      if (f.getSymName() == name)
        selected.push_back(f);
    if (selected.size() == before)
      return root->emitError() << "--" << passName << ": no rev.func named @" << name;
  }
  return selected;
}
