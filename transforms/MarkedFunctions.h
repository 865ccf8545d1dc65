//===- MarkedFunctions.h - generated functions and where they are -*- C++ -*-===//
//
// Generated functions (inverses, backward sweeps, gradients, tangents) are
// rev.funcs in the symbol table of the function they derive from, marked
// with the attribute that names it (`rev.inverse_of = @f`, RevOps.h). These
// helpers find, name and create them, in any symbol table (a nested module,
// a gpu.module), and collect the rev.funcs a pass works on.
//
//===----------------------------------------------------------------------===//
#ifndef REV_TRANSFORMS_MARKEDFUNCTIONS_H
#define REV_TRANSFORMS_MARKEDFUNCTIONS_H

#include "dialect/RevOps.h"

#include <string>

namespace mlir::rev {
/// The function of func's symbol table marked `attr = @func` (e.g.
/// `rev.inverse_of = @f`), or null.
FuncOp findMarkedFunction(FuncOp func, StringRef attr);

/// `base`, or `base_<i>` for the first i that is free in func's symbol table.
std::string uniqueSymbolName(FuncOp func, const Twine &base);

/// Creates `@name` of type `type` right after `func`, marked `attr = @func`,
/// with func's visibility and an entry block (arguments at func's argument
/// locations, extra ones at func's location).
FuncOp createMarkedFunction(FuncOp func, StringRef name, FunctionType type, StringRef attr);

/// Every rev.func under `root`, in every symbol table (nested modules and
/// gpu.modules included), in walk order.
SmallVector<FuncOp> collectRevFuncs(Operation *root);

/// The rev.funcs under `root` named in `names` (in any symbol table; a
/// located error at `root` for a name that matches none), or, when `names`
/// is empty, those that `byDefault` accepts. `passName` is for diagnostics.
FailureOr<SmallVector<FuncOp>> selectRevFuncs(Operation *root, ArrayRef<std::string> names,
                                              StringRef passName,
                                              function_ref<bool(FuncOp)> byDefault);
} // namespace mlir::rev

#endif
