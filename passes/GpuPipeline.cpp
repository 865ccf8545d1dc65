//===- GpuPipeline.cpp - the rev-to-gpu pipeline (NVIDIA) -----------------===//
//
// rev -> standard (the front half of rev-to-llvm) -> parallel loops as GPU
// kernels -> NVVM -> PTX/cubin in gpu.binary ops, host code -> LLVM dialect
// calling the MLIR CUDA runtime wrappers (libmlir_cuda_runtime.so: mgpu*).
// See docs/parallel.md ("GPU: NVIDIA") and /work/shared/GPU.md for the
// pitfalls that fix the order of the passes:
//  * reducing loops are rewritten by --rev-gpu-reductions (upstream cannot);
//  * a 1-d loop is tiled first, otherwise it maps to one thread per block;
//  * index computations are sunk into the launch before outlining (otherwise
//    every constant becomes a kernel argument);
//  * gpu-async-region before gpu-to-llvm (synchronous gpu.alloc/memcpy are
//    silently left unlowered otherwise);
//  * the PTX version is given explicitly (the NVPTX back end aborts when it
//    is too old for the chip), and checked here against the chip.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"

using namespace mlir;

namespace {
/// The lowest PTX ISA version (times 10) that supports `sm`, for the chips
/// the NVPTX back end of LLVM 22 knows; 0 for an unknown chip.
unsigned minimumPtx(StringRef chip) {
  static const std::pair<const char *, unsigned> table[] = {
      {"sm_50", 40},   {"sm_52", 41},   {"sm_53", 42},   {"sm_60", 50},   {"sm_61", 50},
      {"sm_62", 50},   {"sm_70", 60},   {"sm_72", 61},   {"sm_75", 63},   {"sm_80", 70},
      {"sm_86", 71},   {"sm_87", 74},   {"sm_89", 78},   {"sm_90", 78},   {"sm_90a", 80},
      {"sm_100", 86},  {"sm_100a", 86}, {"sm_101", 86},  {"sm_103", 88},  {"sm_120", 87},
      {"sm_120a", 87}};
  for (auto &[name, ptx] : table)
    if (chip == name)
      return ptx;
  return 0;
}

/// The CUDA toolkit folder holding bin/ptxas: `given`, else $CUDA_ROOT,
/// $CUDA_HOME, $CUDA_PATH, /usr/local/cuda, else the folder above the ptxas
/// on $PATH; "" if none has one.
std::string findToolkit(StringRef given) {
  auto hasPtxas = [](StringRef dir) {
    SmallString<256> p(dir);
    llvm::sys::path::append(p, "bin", "ptxas");
    return !dir.empty() && llvm::sys::fs::can_execute(p);
  };
  if (!given.empty())
    return hasPtxas(given) ? given.str() : std::string();
  for (const char *var : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
    if (std::optional<std::string> v = llvm::sys::Process::GetEnv(var))
      if (hasPtxas(*v))
        return *v;
  if (hasPtxas("/usr/local/cuda"))
    return "/usr/local/cuda";
  if (llvm::ErrorOr<std::string> ptxas = llvm::sys::findProgramByName("ptxas")) {
    SmallString<256> real;
    if (llvm::sys::fs::real_path(*ptxas, real))
      real = *ptxas;
    StringRef dir = llvm::sys::path::parent_path(llvm::sys::path::parent_path(real));
    if (hasPtxas(dir))
      return dir.str();
  }
  return "";
}
} // namespace

LogicalResult mlir::rev::buildRevToGPUPipeline(OpPassManager &pm, const RevToGPUOptions &options,
                                               function_ref<LogicalResult(const Twine &)> error) {
  // Options first: bad values would otherwise abort in the NVPTX back end.
  StringRef chip = options.chip;
  unsigned minPtx = minimumPtx(chip);
  if (!minPtx)
    return error("rev-to-gpu: unknown chip '" + chip +
                 "' (expected an NVIDIA architecture such as sm_80, sm_90 or sm_90a)");
  StringRef features = options.features;
  if (!features.empty()) {
    unsigned ptx = 0;
    if (!features.consume_front("+ptx") || features.getAsInteger(10, ptx) || ptx < 10)
      return error("rev-to-gpu: features must be empty (the chip's lowest PTX version) or "
                   "+ptxNN (e.g. +ptx80), got '" + options.features + "'");
    if (ptx < minPtx)
      return error("rev-to-gpu: PTX " + Twine(ptx / 10) + "." + Twine(ptx % 10) +
                   " (features=" + options.features + ") does not support " + chip +
                   ": it needs +ptx" + Twine(minPtx) + " or later");
  }
  StringRef format = options.format;
  if (format != "isa" && format != "bin" && format != "fatbin")
    return error("rev-to-gpu: format must be isa, bin or fatbin, got '" + format + "'");
  if (StringRef(options.toolkit).find_first_of(" \t\n{}") != StringRef::npos)
    return error("rev-to-gpu: toolkit must be a folder without spaces or braces, got '" +
                 options.toolkit + "'");
  std::string toolkit;
  if (format != "isa") {
    toolkit = findToolkit(options.toolkit);
    if (toolkit.empty())
      return error("rev-to-gpu: format=" + format +
                   " needs ptxas from a CUDA toolkit, and none was found (" +
                   (options.toolkit.empty()
                        ? Twine("set toolkit=, $CUDA_HOME or $PATH")
                        : Twine("no bin/ptxas in toolkit=") + options.toolkit) +
                   "); format=isa needs only the driver");
  }
  if (options.blockSize < 1 || options.blockSize > 1024)
    return error("rev-to-gpu: block-size must be in 1..1024, got " +
                 Twine(options.blockSize.getValue()));
  if (options.optLevel > 3)
    return error("rev-to-gpu: opt-level must be in 0..3, got " +
                 Twine(options.optLevel.getValue()));

  buildRevToStandardPipeline(pm, options);
  std::string b = std::to_string(options.blockSize);
  std::string text =
      // Kernels: reductions by hand, the other loops by the upstream mapping.
      "rev-gpu-prepare,rev-gpu-reductions{block-size=" + b +
      "},func.func(scf-parallel-loop-tiling{parallel-loop-tile-sizes=" + b +
      " no-min-max-bounds=true},gpu-map-parallel-loops),convert-parallel-loops-to-gpu,"
      "lower-affine,canonicalize,func.func(gpu-launch-sink-index-computations),"
      "gpu-kernel-outlining,cse,"
      // Device: NVVM.
      "func.func(gpu-async-region),nvvm-attach-target{chip=" +
      chip.str() + (options.features.empty() ? "" : " features=" + options.features.getValue()) +
      " O=" + std::to_string(options.optLevel) +
      "},gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,canonicalize,cse,"
      "reconcile-unrealized-casts),"
      // Host: as rev-to-llvm's back end, with the GPU runtime calls.
      "convert-scf-to-cf,convert-vector-to-llvm,convert-math-to-llvm,convert-math-to-libm,"
      // (with pooled-alloc the memref lowering goes first: gpu-to-llvm lowers
      // memref.alloc to malloc itself otherwise)
      "expand-strided-metadata," +
      std::string(options.pooledAlloc
                      ? "finalize-memref-to-llvm{use-generic-functions=1},gpu-to-llvm,"
                      : "gpu-to-llvm,finalize-memref-to-llvm,") +
      "convert-arith-to-llvm,"
      "convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,rev-memref-noalias,"
      "reconcile-unrealized-casts,"
      // Kernels to PTX (isa) or cubin/fatbin (ptxas).
      "gpu-module-to-binary{format=" +
      format.str() + (toolkit.empty() ? "" : " toolkit=" + toolkit) + "}";
  std::string message;
  llvm::raw_string_ostream os(message);
  if (failed(parsePassPipeline(text, pm, os)))
    return error("rev-to-gpu: internal pipeline error: " + message);
  return success();
}

void mlir::rev::registerRevToGPUPipeline() {
  registerPassPipeline(
      "rev-to-gpu",
      "Lower rev to NVIDIA GPU kernels (parallel loops) and host code in the LLVM dialect "
      "(rev-to-llvm's options, and chip, features, format, toolkit, block-size, opt-level)",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        RevToGPUOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        return buildRevToGPUPipeline(pm, options, errorHandler);
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(RevToGPUOptions());
      });
}
