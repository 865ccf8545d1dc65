"""The allocation pool (rev-to-llvm{pooled-alloc}, librev_runtime.so; every
Program uses it): memref.alloc/dealloc of compiled functions go through
_mlir_memref_to_llvm_alloc/_free, which keep freed blocks of 256 KiB or more
for the next call (loop tapes are allocated and freed in every gradient
call). The pool must hand out aligned, distinct, large-enough blocks, reuse
them, and change no result."""
import ctypes
import os

import numpy as np
import pytest

from mlir_rev import jit
from mlir_rev.jit import Program

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COUPLED = open(os.path.join(ROOT, "examples", "coupled.mlir")).read()


@pytest.fixture
def lib():
    lib = jit._load_runtime()
    lib._mlir_memref_to_llvm_alloc.restype = ctypes.c_void_p
    lib._mlir_memref_to_llvm_alloc.argtypes = [ctypes.c_size_t]
    lib._mlir_memref_to_llvm_aligned_alloc.restype = ctypes.c_void_p
    lib._mlir_memref_to_llvm_aligned_alloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    lib._mlir_memref_to_llvm_free.argtypes = [ctypes.c_void_p]
    jit.release_pooled_memory()
    yield lib
    jit.release_pooled_memory()


def test_blocks_are_aligned_distinct_and_writable(lib):
    sizes = [1, 64, 4096, 1 << 18, (1 << 18) + 8, 3 << 20, 8 << 20]
    ptrs = [lib._mlir_memref_to_llvm_alloc(n) for n in sizes]
    ptrs += [lib._mlir_memref_to_llvm_aligned_alloc(a, n) for a, n in
             ((64, 1 << 20), (128, 1 << 20), (4096, 5000))]
    sizes += [1 << 20, 1 << 20, 5000]
    aligns = [16] * 7 + [64, 128, 4096]
    for p, a in zip(ptrs, aligns):
        assert p % a == 0, (p, a)
    spans = sorted((p, p + n) for p, n in zip(ptrs, sizes))
    assert all(e <= s for (_, e), (s, _) in zip(spans, spans[1:])), "overlapping blocks"
    for p, n in zip(ptrs, sizes):
        ctypes.memset(p, 0xAB, n)
    for p in ptrs:
        lib._mlir_memref_to_llvm_free(p)
    lib._mlir_memref_to_llvm_free(None)
    st = jit.pooled_memory_stats()
    # the blocks of 256 KiB or more aligned to at most 64 bytes are kept
    assert st["blocks"] == 5 and st["bytes"] == sum(sizes[3:8])


def test_a_freed_block_is_reused_for_a_request_it_fits(lib):
    p = lib._mlir_memref_to_llvm_alloc(4 << 20)
    lib._mlir_memref_to_llvm_free(p)
    hits = jit.pooled_memory_stats()["hits"]
    assert lib._mlir_memref_to_llvm_alloc(3 << 20) == p      # fits (at most 2x)
    assert jit.pooled_memory_stats()["hits"] == hits + 1
    q = lib._mlir_memref_to_llvm_alloc(1 << 20)              # 4x: not this block
    assert q != p
    for x in (p, q):
        lib._mlir_memref_to_llvm_free(x)
    assert jit.release_pooled_memory() == (4 << 20) + (1 << 20)
    assert jit.pooled_memory_stats()["blocks"] == 0


def test_gradient_tapes_come_from_the_pool_from_the_second_call(lib):
    # T = 2e5: four 1.6 MB tapes at 32 B per step.
    p = Program(COUPLED, grad=["coupled"], loop_budget=32)
    xs = np.random.default_rng(0).uniform(-1e-3, 1e-3, 200_000)
    g = p.gradient_names["coupled"]
    res = []
    before = jit.pooled_memory_stats()
    for _ in range(3):
        xb = np.zeros_like(xs)
        res.append((p.call(g, 0.3, -0.2, xs, 1.0, 0.0, xb), xb))
        if len(res) == 1:
            first = jit.pooled_memory_stats()
    st = jit.pooled_memory_stats()
    assert first["blocks"] == 4 and first["hits"] == before["hits"], (before, first)
    assert st["hits"] - first["hits"] == 8 and st["blocks"] == 4, st
    for r, xb in res[1:]:
        assert r == res[0][0] and np.array_equal(xb, res[0][1])
    # the same gradient without a budget (every value recomputed)
    q = Program(COUPLED, grad=["coupled"])
    xb0 = np.zeros_like(xs)
    r0 = q.call(g, 0.3, -0.2, xs, 1.0, 0.0, xb0)
    np.testing.assert_allclose(res[0][0], r0, rtol=1e-12)
    np.testing.assert_allclose(res[0][1], xb0, rtol=1e-10, atol=1e-14)


def test_a_size_too_large_is_refused_and_a_double_free_kept_once(lib):
    # a negative dynamic size arrives as a huge unsigned one: NULL, as from
    # malloc (the header must not be written past a small block)
    assert not lib._mlir_memref_to_llvm_alloc(ctypes.c_size_t(-8).value)
    assert not lib._mlir_memref_to_llvm_aligned_alloc(64, ctypes.c_size_t(-1).value)
    p = lib._mlir_memref_to_llvm_alloc(1 << 20)
    lib._mlir_memref_to_llvm_free(p)
    lib._mlir_memref_to_llvm_free(p)
    assert jit.pooled_memory_stats()["blocks"] == 1
    a = lib._mlir_memref_to_llvm_alloc(1 << 20)
    b = lib._mlir_memref_to_llvm_alloc(1 << 20)
    assert a == p and b != p
    for x in (a, b):
        lib._mlir_memref_to_llvm_free(x)
