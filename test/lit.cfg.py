# -*- Python -*-
import os

import lit.formats
import lit.util
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "REV"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.rev_obj_root, "test")
# Python tests are run by pytest, not lit.
config.excludes = ["python", "Inputs", "lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
# The reference generated from ODS (docs target rev-doc).
config.substitutions.append(("%rev_docs", os.path.join(config.rev_obj_root, "docs")))
runner_libs = ",".join(
    os.path.join(config.mlir_lib_dir, lib)
    for lib in ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so")
)
config.substitutions.append(("%mlir_runner_libs", runner_libs))
# The check runtime (runtime/, target rev_runtime).
config.substitutions.append(("%rev_runtime_lib",
                             os.path.join(config.rev_obj_root, "lib", "librev_runtime.so")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [os.path.join(config.rev_obj_root, "bin"), config.mlir_tools_dir,
             config.llvm_tools_dir]
tools = [
    "rev-opt",
    "mlir-runner",
    "mlir-translate",
    ToolSubst("%PYTHON", config.python_executable, unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# `ptxas` (a CUDA toolkit): the tests that assemble generated PTX
# (REQUIRES: ptxas) are UNSUPPORTED without it.
if lit.util.which("ptxas", config.environment["PATH"]):
    config.available_features.add("ptxas")
