//===- RevOps.h - ops of the rev dialect ----------------------*- C++ -*-===//
#ifndef REV_DIALECT_REVOPS_H
#define REV_DIALECT_REVOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/RevDialect.h"
#include "dialect/RevInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/RevOps.h.inc"

namespace mlir::rev {
/// Name of the attribute that marks a generated inverse: `rev.inverse_of = @f`.
inline constexpr llvm::StringLiteral kInverseOfAttr = "rev.inverse_of";

/// Checks the reversibility rules (linearity, no shared read/write, derived
/// values follow their sources, no foreign side effects) over the body of a
/// rev.func. Emits located diagnostics and fails on the first violation.
LogicalResult verifyReversibleBody(FuncOp func);

/// The block arguments of `block` that are variables threaded through it
/// (all arguments but a rev.for induction variable).
Block::BlockArgListType getThreadedArgs(Block &block);

/// True if `op` writes `memref`, itself or through any nested op (a rev call
/// or uncall that receives the memref counts as a write).
bool writesMemRef(Operation *op, Value memref);

/// Depth-first walk of the pure expression DAG computing `root` (root
/// included), stopping at values that are not recomputable.
void walkPureSlice(Value root, llvm::function_ref<void(Value)> fn);
} // namespace mlir::rev

#endif
