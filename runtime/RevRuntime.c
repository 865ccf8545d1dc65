/*===- RevRuntime.c - how a failed rev.check reports -----------------------===
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
