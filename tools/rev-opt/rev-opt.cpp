//===- rev-opt.cpp - the rev optimizer driver -----------------------------===//
//
// mlir-opt with every upstream dialect, extension, pass and GPU-to-LLVM-IR
// translation registered, plus the rev dialect, its passes and pipelines.
//
// The input is probe-parsed in a child process first (tools/parse-guard): an
// upstream op parser that aborts on a malformed input (a forward reference
// into a failed op's region) ends rev-opt with its diagnostics and an error,
// never with an assertion. `--rev-parse-guard=false` skips the probe.
//
//===----------------------------------------------------------------------===//
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include "dialect/RevDialect.h"
#include "passes/Passes.h"
#include "tools/parse-guard/ParseGuard.h"
#include "transforms/Transforms.h"

#include <cstdio>

static llvm::cl::opt<bool> parseGuard(
    "rev-parse-guard",
    llvm::cl::desc("Probe-parse the input in a child process first, so that an "
                   "upstream parser abort becomes an error (default on)"),
    llvm::cl::init(true));

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::rev::registerRevPassesAndPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllGPUToLLVMIRTranslations(registry);
  registry.insert<mlir::rev::RevDialect>();
  mlir::rev::registerRevDerivativeModels(registry);

  llvm::InitLLVM initLLVM(argc, argv);
  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv, "rev optimizer driver\n", registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();

  if (!config.shouldShowDialects() && !config.shouldListPasses() &&
      inputFilename == "-" &&
      llvm::sys::Process::FileDescriptorIsDisplayed(fileno(stdin)))
    llvm::errs() << "(processing input from stdin now, hit ctrl-c/ctrl-d to "
                    "interrupt)\n";

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &errorMessage);
  if (!input) {
    llvm::errs() << errorMessage << "\n";
    return EXIT_FAILURE;
  }

  // Before the output file exists: a crashing child must not trigger its
  // remove-on-signal cleanup.
  if (parseGuard && !config.shouldShowDialects() && !config.shouldListPasses()) {
    mlir::FailureOr<mlir::rev::ParseProbe> probe = mlir::rev::probeParse(
        input->getMemBufferRef(), registry,
        config.shouldAllowUnregisteredDialects(), config.inputSplitMarker());
    if (succeeded(probe) && probe->crashed) {
      llvm::errs() << probe->diagnostics;
      llvm::WithColor::error(llvm::errs(), inputFilename)
          << mlir::rev::parserCrashMessage(*probe) << "\n";
      return EXIT_FAILURE;
    }
  }

  auto output = mlir::openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::errs() << errorMessage << "\n";
    return EXIT_FAILURE;
  }
  if (mlir::failed(mlir::MlirOptMain(output->os(), std::move(input), registry,
                                     config)))
    return EXIT_FAILURE;
  output->keep();
  return EXIT_SUCCESS;
}
