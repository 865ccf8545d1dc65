//===- RevXlaFfi.cpp - XLA FFI handler that calls JIT-compiled rev functions -===//
//
// One generic XLA FFI handler, `RevCall`, registered by mlir_rev.interop.jax as
// the CPU custom-call target "rev_call". It calls a rev function compiled by
// mlir_rev.jit.Program (the ExecutionEngine's packed wrapper
// `_mlir_ciface_<name>`, void(void **)) on XLA's buffers, without Python.
//
// Operands: one buffer per argument of the rev function, in order (a scalar
// argument is a 0-d buffer, a memref argument an array of its shape).
// Results: one buffer per argument, same shapes and element types: the final
// state (rev functions update their memrefs in place and return the final
// values of their scalar arguments). The handler copies every memref operand
// into its result buffer (unless XLA aliased the two) and runs the function on
// the result buffer, so no operand is ever written.
//
// Batching: every operand may carry the same extra leading dimensions (what
// jax.vmap's "broadcast_all" gives); the function is then called once per
// batch element, on that element's slices.
//
// Attributes:
//   fn     i64   address of the packed wrapper
//   guard  i64   address of librev_runtime's rev_guarded_call, or 0: with it,
//                a failed run-time check (checked mode, shadow sizes) becomes
//                an FFI error (a Python exception) instead of exiting
//   ranks  i64[] per argument: -1 for a scalar, else the memref's rank
//
// Nothing here depends on MLIR or LLVM: only on the XLA FFI headers that
// jaxlib ships (jax.ffi.include_dir()).
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

using PackedFn = void (*)(void **);
using GuardFn = int32_t (*)(PackedFn, void **, char *, int64_t);

constexpr int64_t kMessageCap = 4096;

std::string shapeString(ffi::Span<const int64_t> dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "," : "") + std::to_string(dims[i]);
  return s + ")";
}

ffi::Error revCallImpl(int64_t fnAddress, int64_t guardAddress,
                       ffi::Span<const int64_t> ranks, ffi::RemainingArgs args,
                       ffi::RemainingRets rets) {
  const size_t n = ranks.size();
  if (fnAddress == 0)
    return ffi::Error::InvalidArgument("rev_call: no function address");
  if (args.size() != n || rets.size() != n)
    return ffi::Error::InvalidArgument(
        "rev_call: expected " + std::to_string(n) + " operands and results, got " +
        std::to_string(args.size()) + " and " + std::to_string(rets.size()));

  std::vector<ffi::AnyBuffer> ins;
  std::vector<ffi::Result<ffi::AnyBuffer>> outs;
  ins.reserve(n);
  outs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto in = args.get<ffi::AnyBuffer>(i);
    if (in.has_error())
      return in.error();
    auto out = rets.get<ffi::AnyBuffer>(i);
    if (out.has_error())
      return out.error();
    ins.push_back(*in);
    outs.push_back(*out);
  }

  // The batch: the leading dimensions every operand has beyond its argument.
  std::vector<int64_t> lead;
  std::vector<int64_t> width(n), count(n);  // element bytes, elements per slice
  for (size_t i = 0; i < n; ++i) {
    auto dims = ins[i].dimensions();
    int64_t rank = ranks[i] < 0 ? 0 : ranks[i];
    if (static_cast<int64_t>(dims.size()) < rank)
      return ffi::Error::InvalidArgument("rev_call: operand #" + std::to_string(i) +
                                         " has rank " + std::to_string(dims.size()) +
                                         ", below the argument's rank " +
                                         std::to_string(rank));
    size_t nlead = dims.size() - rank;
    std::vector<int64_t> mine(dims.begin(), dims.begin() + nlead);
    if (i == 0)
      lead = mine;
    else if (mine != lead)
      return ffi::Error::InvalidArgument(
          "rev_call: operand #" + std::to_string(i) + " has batch dimensions " +
          shapeString(ffi::Span<const int64_t>(mine.data(), mine.size())) +
          ", operand #0 has " +
          shapeString(ffi::Span<const int64_t>(lead.data(), lead.size())));
    auto odims = outs[i]->dimensions();
    if (outs[i]->element_type() != ins[i].element_type() ||
        odims.size() != dims.size() ||
        !std::equal(dims.begin(), dims.end(), odims.begin()))
      return ffi::Error::InvalidArgument("rev_call: result #" + std::to_string(i) +
                                         " differs from operand #" + std::to_string(i) +
                                         " in shape or element type");
    width[i] = static_cast<int64_t>(ffi::ByteWidth(ins[i].element_type()));
    if (width[i] <= 0 || width[i] > 8)
      return ffi::Error::InvalidArgument("rev_call: operand #" + std::to_string(i) +
                                         " has an unsupported element type");
    int64_t c = 1;
    for (size_t d = nlead; d < dims.size(); ++d)
      c *= dims[d];
    count[i] = c;
  }
  int64_t batch = 1;
  for (int64_t d : lead)
    batch *= d;

  // Memrefs are updated in place: the result buffers start as the operands.
  for (size_t i = 0; i < n; ++i)
    if (ranks[i] >= 0 && outs[i]->untyped_data() != ins[i].untyped_data())
      std::memcpy(outs[i]->untyped_data(), ins[i].untyped_data(), ins[i].size_bytes());

  // The scalar results: one is written through a trailing pointer, several
  // through a leading pointer to a struct (fields at natural alignment).
  std::vector<size_t> scalars;
  for (size_t i = 0; i < n; ++i)
    if (ranks[i] < 0)
      scalars.push_back(i);
  std::vector<int64_t> fieldOffset(scalars.size());
  int64_t structBytes = 0;
  for (size_t k = 0; k < scalars.size(); ++k) {
    int64_t w = width[scalars[k]];
    structBytes = (structBytes + w - 1) / w * w;
    fieldOffset[k] = structBytes;
    structBytes += w;
  }
  std::vector<uint64_t> resultStruct((structBytes + 7) / 8 + 1);
  void *resultStructPtr = resultStruct.data();

  // Descriptors: {allocated, aligned, offset, sizes[rank], strides[rank]}.
  std::vector<std::vector<int64_t>> descriptors(n);
  std::vector<void *> descriptorPtrs(n);
  std::vector<void *> packed;
  packed.reserve(n + 1);
  const PackedFn fn = reinterpret_cast<PackedFn>(static_cast<intptr_t>(fnAddress));
  const GuardFn guard = reinterpret_cast<GuardFn>(static_cast<intptr_t>(guardAddress));
  std::string message;

  for (int64_t b = 0; b < batch; ++b) {
    packed.clear();
    if (scalars.size() > 1)
      packed.push_back(&resultStructPtr);
    for (size_t i = 0; i < n; ++i) {
      char *base = static_cast<char *>(ranks[i] < 0 ? ins[i].untyped_data()
                                                     : outs[i]->untyped_data()) +
                   b * count[i] * width[i];
      if (ranks[i] < 0) {
        packed.push_back(base);
        continue;
      }
      int64_t rank = ranks[i];
      auto dims = ins[i].dimensions();
      auto &d = descriptors[i];
      d.assign(3 + 2 * rank, 0);
      d[0] = d[1] = static_cast<int64_t>(reinterpret_cast<intptr_t>(base));
      int64_t stride = 1;
      for (int64_t k = rank - 1; k >= 0; --k) {
        d[3 + k] = dims[dims.size() - rank + k];
        d[3 + rank + k] = stride;
        stride *= d[3 + k];
      }
      descriptorPtrs[i] = d.data();
      packed.push_back(&descriptorPtrs[i]);
    }
    if (scalars.size() == 1) {
      size_t i = scalars[0];
      packed.push_back(static_cast<char *>(outs[i]->untyped_data()) + b * width[i]);
    }
    if (guard) {
      char buf[kMessageCap] = {0};
      if (guard(fn, packed.data(), buf, kMessageCap) != 0) {
        message.assign(buf, strnlen(buf, kMessageCap));
        while (!message.empty() && message.back() == '\n')
          message.pop_back();
        return ffi::Error(ffi::ErrorCode::kFailedPrecondition,
                          message + " (batch element " + std::to_string(b) + ")");
      }
    } else {
      fn(packed.data());
    }
    if (scalars.size() > 1)
      for (size_t k = 0; k < scalars.size(); ++k) {
        size_t i = scalars[k];
        std::memcpy(static_cast<char *>(outs[i]->untyped_data()) + b * width[i],
                    reinterpret_cast<char *>(resultStruct.data()) + fieldOffset[k],
                    width[i]);
      }
  }
  return ffi::Error::Success();
}

}  // namespace

// The library's only exported symbol (built with hidden visibility).
extern "C" __attribute__((visibility("default"))) XLA_FFI_Error *
RevCall(XLA_FFI_CallFrame *callFrame);

XLA_FFI_DEFINE_HANDLER_SYMBOL(RevCall, revCallImpl,
                              ffi::Ffi::Bind()
                                  .Attr<int64_t>("fn")
                                  .Attr<int64_t>("guard")
                                  .Attr<ffi::Span<const int64_t>>("ranks")
                                  .RemainingArgs()
                                  .RemainingRets());
