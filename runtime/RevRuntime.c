/*===- RevRuntime.c - failed rev.checks, and the allocation pool ------------===
 *
 * The target of `--lower-rev=check-lowering=runtime`: a failed check calls
 * __rev_check_failed(message, length).
 *  - Inside rev_guarded_call (the way the Python package calls compiled
 *    functions) the message is copied to the caller's buffer and control
 *    returns to rev_guarded_call with longjmp: the process keeps running and
 *    Python raises RevError. The jump crosses only JIT-compiled frames, which
 *    hold no destructors; buffers they allocated are not freed.
 *  - Anywhere else (mlir-runner, a C caller) it writes the message to stderr
 *    and exits with status 1, like the libc lowering.
 * The guard is per thread, and guarded calls nest.
 *
 *===----------------------------------------------------------------------===*/
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REV_EXPORT __attribute__((visibility("default")))

typedef struct RevGuard {
  jmp_buf env;
  char *msg;
  int64_t cap;
} RevGuard;

static _Thread_local RevGuard *rev_current_guard;

REV_EXPORT void __rev_check_failed(const char *msg, int64_t len) {
  RevGuard *g = rev_current_guard;
  if (!g) {
    while (len > 0) {
      ssize_t n = write(2, msg, (size_t)len);
      if (n <= 0)
        break;
      msg += n;
      len -= n;
    }
    exit(1);
  }
  if (g->cap > 0) {
    int64_t n = len < g->cap - 1 ? len : g->cap - 1;
    if (n < 0)
      n = 0;
    memcpy(g->msg, msg, (size_t)n);
    g->msg[n] = '\0';
  }
  longjmp(g->env, 1);
}

/* Calls fn(args) (a `_mlir_ciface_` packed wrapper: void(void **)) with a
 * guard armed. Returns 0 when it returned normally; 1 when a check failed, its
 * message (NUL-terminated, truncated to cap - 1 bytes) in msg. */
REV_EXPORT int32_t rev_guarded_call(void (*fn)(void **), void **args, char *msg, int64_t cap) {
  RevGuard guard;
  RevGuard *volatile outer = rev_current_guard;
  guard.msg = msg;
  guard.cap = cap;
  if (setjmp(guard.env)) {
    rev_current_guard = outer;
    return 1;
  }
  rev_current_guard = &guard;
  fn(args);
  rev_current_guard = outer;
  return 0;
}

/*===- The allocation pool (rev-to-llvm{pooled-alloc}) ----------------------===
 *
 * With pooled-alloc, memref.alloc and memref.dealloc call these three
 * (finalize-memref-to-llvm's generic functions). Blocks of at least
 * REV_POOL_MIN bytes (loop tapes, privatised copies) are kept when freed, up
 * to REV_POOL_BLOCKS blocks and REV_POOL_BYTES bytes in all, and handed out
 * again for a request they fit (at most twice its size): a gradient that
 * allocates its tapes in every call then reuses the pages it faulted in the
 * call before, as XLA's allocator does, instead of getting fresh zero pages
 * from the kernel each time (glibc serves such sizes by mmap). Smaller
 * blocks go straight to malloc and free. Every block carries a header of
 * REV_POOL_HEADER bytes (its size and the pointer malloc gave), so memory
 * from these functions must be freed by _mlir_memref_to_llvm_free only.
 * rev_pool_release() frees the kept blocks. Thread-safe (one mutex: OpenMP
 * threads may allocate).
 *
 *===----------------------------------------------------------------------===*/
#define REV_POOL_MIN ((size_t)1 << 18)
#define REV_POOL_BLOCKS 32
#define REV_POOL_BYTES ((size_t)1 << 31)
#define REV_POOL_HEADER 64

typedef struct RevBlock {
  void *raw;   /* what malloc returned */
  size_t size; /* usable bytes after the header */
} RevBlock;

static pthread_mutex_t rev_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static RevBlock rev_pool[REV_POOL_BLOCKS];
static int rev_pool_count;
static size_t rev_pool_bytes;
static int64_t rev_pool_hits, rev_pool_misses;

/* `size` usable bytes aligned to `align` (a power of two), the header just
 * before them; from the pool when it holds a block that fits (blocks there
 * are aligned to REV_POOL_HEADER). */
static void *rev_pool_get(size_t align, size_t size) {
  if (align < 16)
    align = 16;
  if (size >= REV_POOL_MIN && align <= REV_POOL_HEADER) {
    pthread_mutex_lock(&rev_pool_lock);
    int best = -1;
    for (int i = 0; i < rev_pool_count; ++i)
      if (rev_pool[i].size >= size && rev_pool[i].size / 2 <= size &&
          (best < 0 || rev_pool[i].size < rev_pool[best].size))
        best = i;
    if (best >= 0) {
      RevBlock b = rev_pool[best];
      rev_pool[best] = rev_pool[--rev_pool_count];
      rev_pool_bytes -= b.size;
      ++rev_pool_hits;
      pthread_mutex_unlock(&rev_pool_lock);
      return (char *)b.raw + REV_POOL_HEADER;
    }
    ++rev_pool_misses;
    pthread_mutex_unlock(&rev_pool_lock);
  }
  size_t pad = align > REV_POOL_HEADER ? align : REV_POOL_HEADER;
  if (size > SIZE_MAX - pad) /* (a negative size from the caller) */
    return NULL;
  void *raw = NULL;
  if (posix_memalign(&raw, pad > 64 ? pad : 64, size + pad) != 0)
    return NULL;
  char *user = (char *)raw + pad;
  RevBlock *h = (RevBlock *)(user - sizeof(RevBlock));
  h->raw = raw;
  h->size = size;
  return user;
}

REV_EXPORT void *_mlir_memref_to_llvm_alloc(size_t size) { return rev_pool_get(16, size); }

REV_EXPORT void *_mlir_memref_to_llvm_aligned_alloc(size_t align, size_t size) {
  return rev_pool_get(align, size);
}

REV_EXPORT void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr)
    return;
  RevBlock h = *(RevBlock *)((char *)ptr - sizeof(RevBlock));
  /* pooled only where the header sits at the block's start */
  if (h.size >= REV_POOL_MIN && (char *)h.raw + REV_POOL_HEADER == (char *)ptr) {
    pthread_mutex_lock(&rev_pool_lock);
    for (int i = 0; i < rev_pool_count; ++i)
      if (rev_pool[i].raw == h.raw) { /* freed twice: keep it once */
        pthread_mutex_unlock(&rev_pool_lock);
        return;
      }
    if (rev_pool_count < REV_POOL_BLOCKS && rev_pool_bytes + h.size <= REV_POOL_BYTES) {
      rev_pool[rev_pool_count++] = h;
      rev_pool_bytes += h.size;
      pthread_mutex_unlock(&rev_pool_lock);
      return;
    }
    pthread_mutex_unlock(&rev_pool_lock);
  }
  free(h.raw);
}

/* Frees every kept block; returns the bytes freed. */
REV_EXPORT int64_t rev_pool_release(void) {
  pthread_mutex_lock(&rev_pool_lock);
  int64_t freed = (int64_t)rev_pool_bytes;
  for (int i = 0; i < rev_pool_count; ++i)
    free(rev_pool[i].raw);
  rev_pool_count = 0;
  rev_pool_bytes = 0;
  pthread_mutex_unlock(&rev_pool_lock);
  return freed;
}

/* stats[0..3]: blocks kept, bytes kept, requests served from the pool,
 * pooled-size requests that were not. */
REV_EXPORT void rev_pool_stats(int64_t *stats) {
  pthread_mutex_lock(&rev_pool_lock);
  stats[0] = rev_pool_count;
  stats[1] = (int64_t)rev_pool_bytes;
  stats[2] = rev_pool_hits;
  stats[3] = rev_pool_misses;
  pthread_mutex_unlock(&rev_pool_lock);
}
