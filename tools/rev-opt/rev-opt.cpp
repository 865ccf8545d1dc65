//===- rev-opt.cpp - the rev optimizer driver -----------------------------===//
//
// mlir-opt with every upstream dialect, extension, pass and GPU-to-LLVM-IR
// translation registered, plus the rev dialect, its passes and pipelines.
//
//===----------------------------------------------------------------------===//
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "dialect/RevDialect.h"
#include "passes/Passes.h"
#include "transforms/Transforms.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::rev::registerRevPassesAndPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllGPUToLLVMIRTranslations(registry);
  registry.insert<mlir::rev::RevDialect>();
  mlir::rev::registerRevDerivativeModels(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "rev optimizer driver\n", registry));
}
