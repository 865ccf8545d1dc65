//===- RevExtension.cpp - Python extension of the rev dialect -------------===//
//
// `_site_initialize_0` is picked up by mlir_rev's _mlir_libs at import: every
// Context of the package then knows the rev dialect and its derivative rules,
// and the rev passes and pipelines are registered for PassManager.parse().
// It also exports the ABI of generated functions (marker attribute names and
// the derivative argument layout), which mlir_rev.abi wraps, so that Python
// never restates these C++ facts.
//
//===----------------------------------------------------------------------===//
#include "mlir/Bindings/Python/Nanobind.h"
#include "mlir/Bindings/Python/NanobindAdaptors.h"
#include "python/capi/RevCAPI.h"

#include "nanobind/stl/vector.h"

#include <string>
#include <vector>

namespace nb = nanobind;

NB_MODULE(_site_initialize_0, m) {
  m.doc() = "rev dialect, derivative rules and passes registration; the rev ABI";
  m.def("register_dialects", [](MlirDialectRegistry registry) {
    mlirDialectHandleInsertDialect(mlirGetDialectHandle__rev__(), registry);
    mlirRevRegisterDerivativeModels(registry);
  });
  m.def(
      "marker_attribute_names",
      []() {
        nb::dict out;
        const char *keys[] = {"inverse", "backward", "gradient", "tangent"};
        for (int i = 0; i < 4; ++i) {
          MlirStringRef name = mlirRevGetMarkerAttrName(i);
          out[keys[i]] = std::string(name.data, name.length);
        }
        return out;
      },
      "The attributes that mark generated functions: {'inverse': 'rev.inverse_of', ...}.");
  m.def(
      "derivative_arg_positions",
      [](MlirType functionType, intptr_t numInputs) {
        std::vector<intptr_t> pos(numInputs > 0 ? numInputs : 0);
        intptr_t n = mlirRevGetDerivativeArgPositions(functionType, pos.data());
        if (n < 0)
          throw nb::type_error("derivative_arg_positions expects a FunctionType");
        if (n != numInputs)
          throw nb::value_error("derivative_arg_positions: wrong number of inputs");
        return pos;
      },
      nb::arg("function_type"), nb::arg("num_inputs"),
      "For each input of a function type, the position of its adjoint/tangent/shadow "
      "argument in the derivative functions' layout, or -1 (inactive).");
  m.def(
      "probe_parse_aborts",
      [](MlirContext context, const std::string &source) -> nb::object {
        std::string diagnostics;
        int r = mlirRevProbeParseAborts(
            context, mlirStringRefCreate(source.data(), source.size()),
            [](MlirStringRef s, void *user) {
              static_cast<std::string *>(user)->append(s.data, s.length);
            },
            &diagnostics);
        if (r == 1)
          return nb::str(diagnostics.c_str());
        return nb::none();
      },
      nb::arg("context"), nb::arg("source"),
      "Parses `source` in a child process first: None when the MLIR parser does not "
      "abort on it (or no child could be started), else the diagnostics it printed "
      "and a closing error (a parser abort must not end the interpreter).");
  mlirRevRegisterPasses();
}
